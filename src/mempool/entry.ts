/**
 * A transaction as the pool holds it: the decoded tx plus everything the pool needs again and
 * again (hash, recovered sender, fee caps, worst-case cost), computed once on admission.
 * @module
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'

export type TxStatus = 'pending' | 'queued'

export interface PoolEntry {
  readonly tx: TypedTransaction
  readonly hash: Uint8Array
  /** 0x-prefixed lowercase hash, the pool's key. */
  readonly hashHex: string
  readonly sender: Address
  /** 0x-prefixed lowercase sender address. */
  readonly senderHex: string
  /** The canonical encoding (what eth_sendRawTransaction carries and gossip relays). */
  readonly raw: Uint8Array
  readonly size: number
  readonly nonce: bigint
  readonly gasLimit: bigint
  /** Most the tx pays per gas: maxFeePerGas, or gasPrice for legacy and EIP-2930 txs. */
  readonly feeCap: bigint
  /** Most the tx tips per gas: maxPriorityFeePerGas, or gasPrice. */
  readonly tipCap: bigint
  /** Worst case the sender pays: gasLimit * feeCap + value. */
  readonly cost: bigint
  /** Milliseconds since the epoch when the pool first accepted it. */
  readonly addedAt: number
  /** pending: nonce contiguous from the account nonce; queued: behind a nonce gap. */
  readonly status: TxStatus
}

/** The pool's own view: status changes as gaps fill and open; seq orders equal fees. */
export interface Entry extends PoolEntry {
  status: TxStatus
  readonly seq: number
}

export function feeCapOf(tx: TypedTransaction): bigint {
  return 'maxFeePerGas' in tx ? tx.maxFeePerGas : tx.gasPrice
}

export function tipCapOf(tx: TypedTransaction): bigint {
  return 'maxPriorityFeePerGas' in tx ? tx.maxPriorityFeePerGas : tx.gasPrice
}

/** What the producer earns per gas at `baseFee`; negative when the tx cannot pay the base fee. */
export function effectiveTip(e: Pick<PoolEntry, 'feeCap' | 'tipCap'>, baseFee: bigint): bigint {
  const room = e.feeCap - baseFee
  return room < e.tipCap ? room : e.tipCap
}

/**
 * Eviction order: lower fee cap first, then lower tip, then the newer tx (so a spammer cannot
 * push out an older tx at the same price). Negative when `a` goes before `b`.
 */
export function evictionOrder(a: Entry, b: Entry): number {
  if (a.feeCap !== b.feeCap) return a.feeCap < b.feeCap ? -1 : 1
  if (a.tipCap !== b.tipCap) return a.tipCap < b.tipCap ? -1 : 1
  return b.seq - a.seq
}

/**
 * geth's replacement rule: the new tx must raise BOTH the fee cap and the tip, each by at least
 * `bumpPercent` (and strictly, so a zero tip must become non-zero).
 */
export function isReplacementPriced(old: PoolEntry, next: PoolEntry, bumpPercent: number): boolean {
  if (next.feeCap <= old.feeCap || next.tipCap <= old.tipCap) return false
  const factor = BigInt(100 + bumpPercent)
  // Thresholds rounded down, as geth computes them.
  return next.feeCap >= (old.feeCap * factor) / 100n && next.tipCap >= (old.tipCap * factor) / 100n
}
