/**
 * What the pool needs from the rest of the node, and what it reports back.
 * @module
 */
import type { Common } from '@ethereumjs/common'
import type { Address } from '@ethereumjs/util'
import type { PoolEntry, TxStatus } from './entry.ts'
import type { MempoolErrorCode } from './errors.ts'

export interface AccountState {
  nonce: bigint
  balance: bigint
}

/** Chain parameters the pool checks against; read on every add, so they may change per block. */
export interface PoolLimits {
  /** Lowest fee cap (gasPrice / maxFeePerGas) the node relays. */
  minGasPrice: bigint
  /** The next block's base fee: the default for `executable()`. */
  baseFee: bigint
  blockGasLimit: bigint
  maxTxBytes: number
}

export interface MempoolOptions {
  common: Common
  chainId: bigint
  /** Account state at the current head. */
  getAccount(address: Address): Promise<AccountState>
  limits(): PoolLimits
  /** Permissioned chains: only these senders may submit txs. */
  isSenderAllowed?(address: Address): boolean
  /** Most txs one sender may hold, and how far past its account nonce it may go. Default 64. */
  maxPerSender?: number
  /** Most txs in the pool. Default 8192. */
  maxTotal?: number
  /** How much a replacement must raise both fee cap and tip, in percent. Default 10. */
  priceBumpPercent?: number
  /**
   * How long a sender's queued txs stay without progress (none of its txs becoming pending)
   * before they expire. Default 3 hours (geth's txpool lifetime).
   */
  queuedLifetimeMs?: number
  /** The clock, in ms since the epoch (tests move it by hand). Default Date.now. */
  now?: () => number
}

export interface AddResult {
  hash: Uint8Array
  status: TxStatus
  /** Hash of the tx this one replaced (same sender and nonce). */
  replaced?: Uint8Array
}

export type RemovalReason =
  | 'included' // in a block on the new head
  | 'replaced' // a higher-priced tx took its sender and nonce
  | 'evicted' // the pool or the sender's slots were full and it paid least
  | 'stale' // its nonce is below the account nonce (mined elsewhere)
  | 'unaffordable' // the sender's balance no longer covers it
  | 'gas-limit' // the block gas limit fell below its gas limit
  | 'removed' // remove() was called (e.g. the block builder could not run it)
  | 'orphaned' // an earlier nonce of its sender left the pool unused, so it could not run
  | 'expired' // queued longer than the queued lifetime without its sender making progress

export interface MempoolEvents {
  /** A tx entered the pool (pending or queued). */
  added: [entry: PoolEntry]
  /** A queued tx became pending because the nonce gap before it closed. */
  promoted: [entry: PoolEntry]
  removed: [entry: PoolEntry, reason: RemovalReason]
  /** add() refused a raw tx (RPC or gossip): why, for metrics. */
  rejected: [code: MempoolErrorCode]
}

/** txpool_content's shape: sender -> nonce -> tx. */
export interface PoolContent {
  pending: Record<string, Record<string, PoolEntry>>
  queued: Record<string, Record<string, PoolEntry>>
}
