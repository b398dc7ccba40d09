/**
 * The state a tx sees under parallel execution: a StateManagerInterface in front of the
 * block's OverlayState that checks every read and write against what the tx declared
 * (access.ts) before letting it through. An access outside the declaration records an
 * UndeclaredAccessError and throws it; ethereumjs lets errors that are not EVM errors escape
 * runTx (after reverting the tx), and the recorded error stays even if some code caught it.
 *
 * A header declared read-only may still be *put* unchanged (the EVM re-puts a zero-value
 * call's recipient, EIP-161 deletes a touched empty account that never existed): what counts is
 * the value after the tx, compared with the one before its first write (`readOnlyViolation`).
 *
 * The block's coinbase is special: every tx pays it a tip after its EVM run, and the parallel
 * executor adds the tips up outside the conflict sets. A tx that did not declare it gets, after
 * its EVM run (`phase` 'post'), a private stand-in for the coinbase that nothing is merged from;
 * during the run, touching the coinbase undeclared fails like any other account.
 *
 * In 'record' mode (eth_createAccessList) nothing is refused: the guard notes what the call
 * touched so the list that would let it run can be written.
 * @module
 */
import { Account, Address, KECCAK256_NULL, bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { AccountFields, StateManagerInterface } from '@ethereumjs/common'
import type { OverlayState } from '../../state/index.ts'
import type { Hex, TxAccess } from './access.ts'
import { UndeclaredAccessError, type UndeclaredAccessCode } from './errors.ts'

/** Where in runTx the VM is: before the EVM runs (sender checks), inside it, or after (refund, tip, cleanup). */
export type Phase = 'pre' | 'evm' | 'post'

/** What one tx touched, as the guard saw it. */
export interface TxTouches {
  /** Headers read (record mode; precompiles and the tip payment left out). */
  headersRead: Set<Hex>
  /** Headers written, each with its value before the tx's first write (undefined: no account). */
  headersWritten: Map<Hex, Account | undefined>
  /** Storage slots read or written, by account. */
  slots: Map<Hex, Set<Hex>>
  /** Storage slots written, by account. */
  slotsWritten: Map<Hex, Set<Hex>>
  /** Accounts whose storage was cleared or that were deleted. */
  cleared: Set<Hex>
  /** The coinbase was touched by the execution itself, not only paid its tip. */
  coinbase: boolean
}

function noTouches(): TxTouches {
  return { headersRead: new Set(), headersWritten: new Map(), slots: new Map(), slotsWritten: new Map(), cleared: new Set(), coinbase: false }
}

function addTo(map: Map<Hex, Set<Hex>>, a: Hex, k: Hex): void {
  let set = map.get(a)
  if (!set) map.set(a, (set = new Set()))
  set.add(k)
}

/** Whether two headers are the same state (existence, nonce, balance, code). */
export function sameHeader(a: Account | undefined, b: Account | undefined): boolean {
  if (!a || !b) return a === b
  return a.nonce === b.nonce && a.balance === b.balance && equalsBytes(a.codeHash, b.codeHash)
}

export class GuardedState implements StateManagerInterface {
  private current?: OverlayState
  /** The running tx's declaration; undefined in record mode. */
  private access?: TxAccess
  private coinbase: Hex = '0x'
  private precompiles: ReadonlySet<Hex> = new Set()
  private depth = 0
  /** Checkpoints opened through the guard and still open. */
  private open = 0
  private standIn: Account | undefined
  phase: Phase = 'pre'
  touches: TxTouches = noTouches()
  violation?: UndeclaredAccessError

  /** Points the guard at a block's (or a call's) state, the EVM's coinbase and the active precompiles. */
  use(state: OverlayState | undefined, coinbase: Hex, precompiles: ReadonlySet<Hex>): void {
    this.current = state
    this.coinbase = coinbase
    this.precompiles = precompiles
  }

  /** Starts a tx: enforce `access`, or with undefined record everything it touches. */
  begin(access: TxAccess | undefined): void {
    this.access = access
    this.phase = 'pre'
    this.depth = 0
    this.standIn = undefined
    this.touches = noTouches()
    this.violation = undefined
    this.open = 0
  }

  /** The VM's runCall is wrapped to call these (nested calls go through it too). */
  enterCall(): void {
    this.depth++
    this.phase = 'evm'
  }

  leaveCall(): void {
    if (--this.depth === 0) this.phase = 'post'
  }

  /**
   * Enforce mode, after a tx ran: a read-only header that ended up changed. Checked on the
   * state as the tx left it, before it is committed.
   */
  async readOnlyViolation(): Promise<UndeclaredAccessError | undefined> {
    if (!this.access) return undefined
    for (const [key, before] of this.touches.headersWritten) {
      if (this.access.writes.has(key)) continue
      const after = await this.s.getAccount(new Address(hexToBytes(key)))
      if (!sameHeader(before, after)) return (this.violation = new UndeclaredAccessError('UNDECLARED_WRITE', key))
    }
    return undefined
  }

  private get s(): OverlayState {
    if (!this.current) throw new Error('guarded state used outside of an execution')
    return this.current
  }

  /** The coinbase after the EVM run, not declared: the tip goes to a stand-in. */
  private isStandIn(key: Hex): boolean {
    return this.phase === 'post' && key === this.coinbase && this.access !== undefined && !this.access.writes.has(key)
  }

  private violate(code: UndeclaredAccessCode, address: Hex, slot?: Hex): never {
    this.violation ??= new UndeclaredAccessError(code, address, slot)
    throw this.violation
  }

  private readHeader(key: Hex): void {
    const access = this.access
    if (access) {
      if (!access.writes.has(key) && !access.reads.has(key) && !this.precompiles.has(key)) this.violate('UNDECLARED_ACCOUNT', key)
      return
    }
    if (key === this.coinbase) {
      if (this.phase !== 'post') this.touches.coinbase = true
      else return // paying the tip is not an access the caller declares
    }
    if (!this.precompiles.has(key)) this.touches.headersRead.add(key)
  }

  private async writeHeader(key: Hex, address: Address): Promise<void> {
    const access = this.access
    if (access) {
      if (!access.writes.has(key) && !access.reads.has(key) && !this.precompiles.has(key)) this.violate('UNDECLARED_ACCOUNT', key)
    } else if (key === this.coinbase) {
      if (this.phase === 'post') return
      this.touches.coinbase = true
    }
    if (!this.touches.headersWritten.has(key)) this.touches.headersWritten.set(key, await this.s.getAccount(address))
  }

  private slot(key: Hex, slot: Hex, write: boolean): void {
    const access = this.access
    // A storage this tx created (cleared) holds nothing from before: its slots need no declaring.
    if (access && !access.slots.get(key)?.has(slot) && !(access.writes.has(key) && this.touches.cleared.has(key))) {
      this.violate('UNDECLARED_SLOT', key, slot)
    }
    addTo(this.touches.slots, key, slot)
    if (write) addTo(this.touches.slotsWritten, key, slot)
  }

  private clear(key: Hex): void {
    const access = this.access
    if (access && !access.writes.has(key)) this.violate(access.reads.has(key) ? 'UNDECLARED_WRITE' : 'UNDECLARED_ACCOUNT', key)
    this.touches.cleared.add(key)
  }

  async getAccount(address: Address): Promise<Account | undefined> {
    const key = address.toString() as Hex
    if (this.isStandIn(key)) return this.standIn ? new Account(this.standIn.nonce, this.standIn.balance, this.standIn.storageRoot, this.standIn.codeHash) : undefined
    this.readHeader(key)
    return this.s.getAccount(address)
  }

  async putAccount(address: Address, account?: Account): Promise<void> {
    const key = address.toString() as Hex
    if (this.isStandIn(key)) {
      this.standIn = account
      return
    }
    await this.writeHeader(key, address)
    return this.s.putAccount(address, account)
  }

  async deleteAccount(address: Address): Promise<void> {
    const key = address.toString() as Hex
    if (this.isStandIn(key)) {
      this.standIn = undefined
      return
    }
    await this.writeHeader(key, address)
    // Deleting wipes storage; for a read-only header it is allowed only if nothing existed (checked after the tx).
    if (this.access?.writes.has(key) ?? true) this.touches.cleared.add(key)
    return this.s.deleteAccount(address)
  }

  async modifyAccountFields(address: Address, fields: AccountFields): Promise<void> {
    const key = address.toString() as Hex
    if (this.isStandIn(key)) {
      const a = this.standIn ?? new Account()
      this.standIn = new Account(fields.nonce ?? a.nonce, fields.balance ?? a.balance, fields.storageRoot ?? a.storageRoot, fields.codeHash ?? a.codeHash)
      return
    }
    await this.writeHeader(key, address)
    return this.s.modifyAccountFields(address, fields)
  }

  async putCode(address: Address, code: Uint8Array): Promise<void> {
    await this.writeHeader(address.toString() as Hex, address)
    return this.s.putCode(address, code)
  }

  async getCode(address: Address): Promise<Uint8Array> {
    const key = address.toString() as Hex
    if (this.isStandIn(key)) return new Uint8Array(0)
    this.readHeader(key)
    return this.s.getCode(address)
  }

  async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).length
  }

  async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    this.slot(address.toString() as Hex, bytesToHex(key) as Hex, false)
    return this.s.getStorage(address, key)
  }

  async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    this.slot(address.toString() as Hex, bytesToHex(key) as Hex, true)
    return this.s.putStorage(address, key, value)
  }

  async clearStorage(address: Address): Promise<void> {
    this.clear(address.toString() as Hex)
    return this.s.clearStorage(address)
  }

  get originalStorageCache() {
    // Asked only for a slot the SSTORE has just read through getStorage (checked there).
    return this.s.originalStorageCache
  }

  checkpoint(): Promise<void> {
    this.open++
    return this.s.checkpoint()
  }
  commit(): Promise<void> {
    this.open--
    return this.s.commit()
  }
  revert(): Promise<void> {
    this.open--
    return this.s.revert()
  }

  /**
   * Reverts every checkpoint the VM opened and left open. An error that is not an EVM error
   * (ours) leaves runTx without the EVM closing the checkpoints of the frames it was in; after
   * a tx the overlay must be back at the depth it had before.
   */
  async unwind(): Promise<void> {
    while (this.open > 0) await this.revert()
  }

  /** Checkpoints the VM left open (0 after a tx that ended normally). */
  get openCheckpoints(): number {
    return this.open
  }
  flush(): Promise<void> {
    return this.s.flush()
  }
  getStateRoot(): Promise<Uint8Array> {
    throw new Error('the guarded state has no root of its own')
  }
  setStateRoot(): Promise<void> {
    throw new Error('the guarded state has no root of its own')
  }
  hasStateRoot(root: Uint8Array): Promise<boolean> {
    return this.s.hasStateRoot(root)
  }
  clearCaches(): void {}
  shallowCopy(): StateManagerInterface {
    throw new Error('the guarded state cannot be copied')
  }
}

/** An account with nothing in it, by EIP-161: the empty code hash, nonce 0, balance 0. */
export function isEmptyAccount(a: Account): boolean {
  return a.nonce === 0n && a.balance === 0n && equalsBytes(a.codeHash, KECCAK256_NULL)
}
