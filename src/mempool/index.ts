/**
 * Mempool: pending transactions with validation, fee priority, replacement, per-sender limits
 * and eviction. The node feeds it raw txs (RPC, gossip) and new heads; block producers take
 * `executable()` from it.
 * @module
 */
export { Mempool } from './pool.ts'
export { ExecutableTxs } from './ordering.ts'
export { MempoolError } from './errors.ts'
export type { MempoolErrorCode } from './errors.ts'
export { effectiveTip } from './entry.ts'
export type { PoolEntry, TxStatus } from './entry.ts'
export { MAX_INITCODE_SIZE, SUPPORTED_TX_TYPES } from './validate.ts'
export type {
  AccountState,
  AddResult,
  MempoolEvents,
  MempoolOptions,
  PoolContent,
  PoolLimits,
  RemovalReason,
} from './types.ts'
