/**
 * eth_createAccessList, as geth answers it: the EIP-2930 list of the accounts and storage slots
 * a call touches, the gas the call uses with that list, and its EVM error if it failed. The call
 * runs with the list so far (starting from the caller's), what it touched is added, and it runs
 * again until the list stops growing: a list changes gas costs (warm and cold accesses), and so
 * possibly the path the call takes (geth's loop; here bounded). As in geth, the sender, the
 * recipient (or the contract a creation deploys) and the precompiles are left out unless their
 * storage was touched: slots are always listed, under their account. What "touched" means comes
 * from ethereumjs's runTx `reportAccessList` (the EIP-2929 warm set), which differs from geth's
 * opcode tracer in one case: it never reports the block's coinbase (always warm since EIP-3651).
 *
 * On a chain with parallel execution (execution/parallel) the list is what a tx must declare or
 * fail, so there it also gets what that rule needs (parallel/access.ts), read from the guard's
 * record of the run (guard.ts): an entry with no storage keys for every account the call
 * changes without an implicit right to (the recipient of a zero-value call whose balance or code
 * changes, a listed contract that pays out, a contract it creates, a precompile it pays) and for
 * every account it reads that the list lacks (the coinbase). An address may then appear twice,
 * once with no keys (write) and once with its keys, as EIP-2930 allows.
 * @module
 */
import type { RunTxResult } from '@ethereumjs/vm'
import { getActivePrecompiles } from '@ethereumjs/evm'
import type { Common } from '@ethereumjs/common'
import { createdAddress, hexOf, type Hex } from './parallel/access.ts'
import type { TxTouches } from './parallel/guard.ts'

export interface AccessListEntry {
  /** Lowercase 0x-hex, 20 bytes. */
  address: Hex
  /** Lowercase 0x-hex, 32 bytes each. */
  storageKeys: Hex[]
}

export interface AccessListResult {
  accessList: AccessListEntry[]
  /** Gas the call uses with the list (after refunds, as a receipt's gasUsed). */
  gasUsed: bigint
  /** How the call failed in the EVM (geth's wording for a revert), when it did. */
  error?: string
}

/** One run of the call with a given list: how it ended and, on parallel chains, what the guard recorded. */
export interface AccessListRun {
  result: RunTxResult
  touches?: TxTouches
  /** Headers whose value after the call differs from before it. */
  changed?: ReadonlySet<Hex>
}

export interface AccessListQuery {
  common: Common
  from: Uint8Array
  /** Absent: a contract creation. */
  to?: Uint8Array
  nonce: bigint
  value: bigint
  /** The caller's list, the first run's. */
  start: ReadonlyArray<{ address: string; storageKeys: string[] }>
  /** Also satisfy parallel execution's declaration rule. */
  parallel: boolean
}

/** Runs of one eth_createAccessList at most (each grows the list; geth has no bound but its timeout). */
export const MAX_ACCESS_LIST_RUNS = 16

/** The list did not stop growing within MAX_ACCESS_LIST_RUNS runs. */
export class AccessListUnsettledError extends Error {
  readonly code = 'ACCESS_LIST_UNSETTLED'
}

/** Runs the call (`runOnce` with the list so far) until its access list settles. */
export async function settleAccessList(q: AccessListQuery, runOnce: (list: AccessListEntry[]) => Promise<AccessListRun>): Promise<AccessListResult> {
  const from = hexOf(q.from)
  const to = hexOf(q.to ?? createdAddress(q.from, q.nonce))
  const precompiles = new Set([...getActivePrecompiles(q.common).keys()].map((k) => `0x${k}` as Hex))
  const excluded = new Set<Hex>([from, to, ...precompiles])
  let list = new ListBuilder(excluded)
  for (const e of q.start) list.add(e.address, e.storageKeys)
  for (let run = 0; run < MAX_ACCESS_LIST_RUNS; run++) {
    const { result, touches, changed } = await runOnce(list.entries())
    const next = list.clone()
    for (const e of result.accessList ?? []) next.add(e.address, e.storageKeys)
    if (q.parallel && touches && changed) {
      // What the tx may touch without listing it (parallel/access.ts): its sender, and its
      // recipient (written with value, else read) or the contract it creates.
      const implicitWrites = new Set<Hex>([from, ...(q.to === undefined || q.value > 0n ? [to] : [])])
      const implicitReads = new Set<Hex>([...implicitWrites, to, ...precompiles])
      for (const [a, keys] of touches.slots) next.add(a, [...keys])
      for (const a of [...touches.headersRead, ...touches.headersWritten.keys()]) {
        if (!implicitReads.has(a)) next.declare(a)
      }
      for (const a of changed) if (!implicitWrites.has(a)) next.declareWrite(a)
      for (const a of touches.cleared) {
        // Wiping storage needs a write, except the no-op delete of an account that never existed.
        const existed = !touches.headersWritten.has(a) || touches.headersWritten.get(a) !== undefined
        if (!implicitWrites.has(a) && (existed || changed.has(a))) next.declareWrite(a)
      }
    }
    if (next.equals(list)) {
      const err = result.execResult.exceptionError?.error
      return { accessList: list.entries(), gasUsed: result.totalGasSpent, ...(err ? { error: err === 'revert' ? 'execution reverted' : err } : {}) }
    }
    list = next
  }
  throw new AccessListUnsettledError(`the access list did not settle after ${MAX_ACCESS_LIST_RUNS} runs (the call touches different state with each list)`)
}

/**
 * An access list being built: geth's one entry per address (its slots, in the order first
 * touched), plus, for parallel chains, the addresses that also need an entry with no keys.
 */
class ListBuilder {
  private readonly slots = new Map<Hex, Set<Hex>>()
  private readonly writes = new Set<Hex>()

  constructor(private readonly excluded: ReadonlySet<Hex>) {}

  /** geth's rule: an excluded address is listed only for its slots. */
  add(address: string, keys: readonly string[]): void {
    const a = address.toLowerCase() as Hex
    if (keys.length === 0 && this.excluded.has(a)) return
    let set = this.slots.get(a)
    if (!set) this.slots.set(a, (set = new Set()))
    for (const k of keys) set.add(word(k))
  }

  /** Parallel: the address must be declared (any entry; one with no keys if it has none). */
  declare(a: Hex): void {
    if (!this.slots.has(a)) this.slots.set(a, new Set())
  }

  /** Parallel: the address needs an entry with no keys (the right to change its header). */
  declareWrite(a: Hex): void {
    this.declare(a)
    this.writes.add(a)
  }

  clone(): ListBuilder {
    const copy = new ListBuilder(this.excluded)
    for (const [a, keys] of this.slots) copy.slots.set(a, new Set(keys))
    for (const a of this.writes) copy.writes.add(a)
    return copy
  }

  equals(other: ListBuilder): boolean {
    if (this.slots.size !== other.slots.size || this.writes.size !== other.writes.size) return false
    for (const a of this.writes) if (!other.writes.has(a)) return false
    for (const [a, keys] of this.slots) {
      const theirs = other.slots.get(a)
      if (!theirs || theirs.size !== keys.size) return false
      for (const k of keys) if (!theirs.has(k)) return false
    }
    return true
  }

  entries(): AccessListEntry[] {
    const out: AccessListEntry[] = []
    for (const [address, keys] of this.slots) {
      out.push({ address, storageKeys: [...keys] })
      if (keys.size > 0 && this.writes.has(address)) out.push({ address, storageKeys: [] })
    }
    return out
  }
}

/** A storage key as lowercase 0x-hex of 32 bytes. */
function word(key: string): Hex {
  return `0x${key.replace(/^0x/i, '').toLowerCase().padStart(64, '0')}`
}
