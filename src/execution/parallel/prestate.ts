/**
 * The state a worker runs a chunk of txs over: exactly what those txs declared, read on the
 * main thread from the block's overlay (after the batches before) and shipped with the job, so
 * a worker never asks for state while it executes. On the worker side the shipped values
 * answer the overlay's base reads (the BaseReadCache it consults first); anything not shipped
 * was not declared, so the guard refuses it before it gets here, and reaching here anyway is a
 * bug that stops the block (STATE_NOT_SHIPPED) rather than a wrong answer.
 * @module
 */
import { Account, Address, KECCAK256_NULL, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { OverlayState, BaseReadCache } from '../../state/index.ts'
import { declaredHeaders, hexOf, type Hex, type TxAccess } from './access.ts'
import { ParallelExecutionError } from './errors.ts'

/** An account header as shipped: nonce, balance, storage root, code hash; null when there is no account. */
export type ShippedHeader = [nonce: bigint, balance: bigint, storageRoot: Uint8Array, codeHash: Uint8Array] | null

export interface PreState {
  headers: Array<[Hex, ShippedHeader]>
  /** Code by code hash, for the shipped headers that have code. */
  codes: Array<[Hex, Uint8Array]>
  /** Storage values (unpadded; empty = zero), by account and slot. */
  slots: Array<[Hex, Hex, Uint8Array]>
}

function shipHeader(a: Account | undefined): ShippedHeader {
  return a ? [a.nonce, a.balance, a.storageRoot, a.codeHash] : null
}

export function headerOf(h: ShippedHeader): Account | undefined {
  return h ? new Account(h[0], h[1], h[2], h[3]) : undefined
}

/**
 * Main thread: the pre-state of a chunk, from `state` as it is now. `precompiles` go along
 * when they exist (every tx may read them; an absent one needs no shipping).
 */
export async function gatherPreState(state: OverlayState, accesses: readonly TxAccess[], precompiles: Iterable<Hex>): Promise<PreState> {
  const headers = new Map<Hex, ShippedHeader>()
  const codes = new Map<Hex, Uint8Array>()
  const slots: PreState['slots'] = []
  const addHeader = async (a: Hex, always: boolean) => {
    if (headers.has(a)) return
    const address = new Address(hexToBytes(a))
    const account = await state.getAccount(address)
    if (!account && !always) return
    headers.set(a, shipHeader(account))
    if (account && !equalsBytes(account.codeHash, KECCAK256_NULL)) {
      const hash = hexOf(account.codeHash)
      if (!codes.has(hash)) codes.set(hash, await state.getCode(address))
    }
  }
  for (const p of precompiles) await addHeader(p, false)
  const seen = new Set<string>()
  for (const access of accesses) {
    for (const a of declaredHeaders(access)) await addHeader(a, true)
    for (const [a, keys] of access.slots) {
      const address = new Address(hexToBytes(a))
      for (const k of keys) {
        const id = a + k
        if (seen.has(id)) continue
        seen.add(id)
        slots.push([a, k, await state.getStorage(address, hexToBytes(k))])
      }
    }
  }
  return { headers: [...headers], codes: [...codes], slots }
}

/** Worker side: the shipped pre-state as the overlay's base. Only read; writes go to the overlay. */
export class ShippedState implements BaseReadCache {
  private readonly headers: Map<Hex, Account | undefined>
  private readonly codes: Map<Hex, Uint8Array>
  private readonly slots = new Map<string, Uint8Array>()
  /** Set on the first read of something not shipped (kept even if the EVM swallowed the throw). */
  failure?: ParallelExecutionError

  constructor(
    pre: PreState,
    /** Active precompiles: one not shipped has no account. */
    private readonly precompiles: ReadonlySet<Hex>,
  ) {
    this.headers = new Map(pre.headers.map(([a, h]) => [a, headerOf(h)]))
    this.codes = new Map(pre.codes)
    for (const [a, k, v] of pre.slots) this.slots.set(a + k, v)
  }

  getAccount(address: Hex): Account | undefined {
    if (this.headers.has(address)) return this.headers.get(address)
    if (this.precompiles.has(address)) return undefined
    throw this.notShipped(`account ${address}`)
  }

  getStorage(address: Hex, slot: Hex): Uint8Array {
    const v = this.slots.get(address + slot)
    if (v === undefined) throw this.notShipped(`slot ${slot} of ${address}`)
    return v
  }

  getCode(codeHash: Hex): Uint8Array {
    const code = this.codes.get(codeHash)
    if (code === undefined) throw this.notShipped(`code ${codeHash}`)
    return code
  }

  setAccount(): void {}
  setStorage(): void {}

  private notShipped(what: string): ParallelExecutionError {
    this.failure ??= new ParallelExecutionError('STATE_NOT_SHIPPED', `${what} was read by a worker but not shipped to it`)
    return this.failure
  }
}
