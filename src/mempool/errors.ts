/**
 * Why the mempool refused a transaction. Messages follow geth's wording where geth has one,
 * because viem, ethers and wallets classify node errors by matching those strings; the `code`
 * is for Catena's own callers (JSON-RPC error mapping, peer scoring).
 * @module
 */

export type MempoolErrorCode =
  | 'DECODE' // bytes are not a transaction
  | 'TX_TYPE_NOT_SUPPORTED'
  | 'OVERSIZED'
  | 'INVALID_CHAIN_ID'
  | 'NOT_REPLAY_PROTECTED'
  | 'INVALID_SIGNATURE' // v, r, s out of range, high s, unsigned
  | 'INVALID_SENDER' // signature does not recover to a key
  | 'SENDER_NOT_ALLOWED'
  | 'INITCODE_TOO_LARGE'
  | 'INTRINSIC_GAS'
  | 'FLOOR_DATA_GAS'
  | 'GAS_LIMIT'
  | 'UNDERPRICED'
  | 'TIP_ABOVE_FEE_CAP'
  | 'NONCE_TOO_LOW'
  | 'NONCE_TOO_HIGH'
  | 'INSUFFICIENT_FUNDS'
  | 'ALREADY_KNOWN'
  | 'REPLACEMENT_UNDERPRICED'
  | 'ACCOUNT_LIMIT'
  | 'POOL_FULL'

/**
 * Codes no honest peer sends: the tx can never become valid anywhere on this chain. Gossip
 * handlers penalise the peer for these; the others (stale nonce, full pool, ...) are ordinary
 * races between honest nodes.
 */
const MALFORMED: ReadonlySet<MempoolErrorCode> = new Set<MempoolErrorCode>([
  'DECODE',
  'TX_TYPE_NOT_SUPPORTED',
  'OVERSIZED',
  'INVALID_CHAIN_ID',
  'NOT_REPLAY_PROTECTED',
  'INVALID_SIGNATURE',
  'INVALID_SENDER',
  'INITCODE_TOO_LARGE',
  'INTRINSIC_GAS',
  'FLOOR_DATA_GAS',
  'TIP_ABOVE_FEE_CAP',
])

/** geth's wording; `queued` is what the sender's other txs in the pool already commit. */
export function insufficientFunds(balance: bigint, cost: bigint, queued?: bigint): MempoolError {
  const need = cost + (queued ?? 0n)
  const parts = [`balance ${balance}`, ...(queued === undefined ? [] : [`queued cost ${queued}`]), `tx cost ${cost}`]
  return new MempoolError(
    'INSUFFICIENT_FUNDS',
    `insufficient funds for gas * price + value: ${parts.join(', ')}, overshot ${need - balance}`,
  )
}

export class MempoolError extends Error {
  override readonly name = 'MempoolError'
  /** True when the tx is invalid in itself (not merely unwelcome right now). */
  readonly malformed: boolean

  constructor(
    readonly code: MempoolErrorCode,
    message: string,
  ) {
    super(message)
    this.malformed = MALFORMED.has(code)
  }
}
