/**
 * Which transactions a Catena chain accepts at all. One rule, used by mempool admission (relay)
 * and by block building and replay (validity), so a block can never carry a tx the pool would
 * refuse, as bcoin keeps consensus rules apart from relay policy but never wider than it.
 *
 * The chain spec has no list of tx types; the rule follows from what Catena runs (DESIGN.md,
 * "Transactions"): legacy txs with EIP-155 replay protection, EIP-2930 and EIP-1559 txs, all
 * signed for the chain id in force at the block's height. Blob txs (EIP-4844) have no blob
 * market or data availability here, and set-code txs (EIP-7702) would let an authorization
 * signed by any account run code as that account, bypassing a permissioned chain's sender
 * allowlist; pre-EIP-155 legacy txs are valid on every chain, so could be replayed from others.
 * @module
 */
import type { TypedTransaction } from '@ethereumjs/tx'

export type TxPolicyCode = 'TX_TYPE_NOT_SUPPORTED' | 'NOT_REPLAY_PROTECTED' | 'INVALID_CHAIN_ID'

/** A tx this chain does not accept; the message is what RPC, gossip and block import report. */
export class TxPolicyError extends Error {
  override readonly name = 'TxPolicyError'
  constructor(
    readonly code: TxPolicyCode,
    message: string,
  ) {
    super(message)
  }
}

/** The accepted types (EIP-2718 type byte) and what they are. */
export const SUPPORTED_TX_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'legacy, EIP-155'],
  [1, 'EIP-2930'],
  [2, 'EIP-1559'],
])

const REFUSED_TX_TYPES: ReadonlyMap<number, string> = new Map([
  [3, 'EIP-4844 blob'],
  [4, 'EIP-7702 set-code'],
])

const ACCEPTED = [...SUPPORTED_TX_TYPES].map(([t, name]) => `${t} (${name})`)
const ACCEPTED_TEXT = `${ACCEPTED.slice(0, -1).join(', ')} and ${ACCEPTED.at(-1)}`

/** The fields the rule reads, taken from RLP (before any tx object is built) or from a decoded tx. */
export interface PolicyFields {
  type: number
  /** The chain id field of a typed tx; legacy txs carry theirs inside `v` (EIP-155). */
  chainId?: bigint
  v?: bigint
}

/** Refuses a type this chain does not run; the cheapest check, possible on the first byte alone. */
export function checkTxType(type: number): void {
  if (SUPPORTED_TX_TYPES.has(type)) return
  const name = REFUSED_TX_TYPES.get(type)
  // geth's wording first: client libraries match on it.
  throw new TxPolicyError(
    'TX_TYPE_NOT_SUPPORTED',
    `transaction type not supported: type ${type}${name ? ` (${name})` : ''}; this chain accepts types ${ACCEPTED_TEXT}`,
  )
}

/**
 * The chain id a signature commits to: a typed tx's chain id field, or a legacy tx's EIP-155
 * `v` (chainId * 2 + 35 or 36). Undefined for a legacy tx without that protection.
 */
export function signedChainId(f: PolicyFields): bigint | undefined {
  if (f.type !== 0) return f.chainId
  if (f.v === undefined || f.v < 35n) return undefined
  return (f.v - 35n) / 2n
}

/** The whole rule: a supported type, replay-protected, signed for `chainId` (the one in force where it runs). */
export function checkTxPolicy(f: PolicyFields, chainId: bigint): void {
  checkTxType(f.type)
  const have = signedChainId(f)
  if (have === undefined) throw new TxPolicyError('NOT_REPLAY_PROTECTED', 'only replay-protected (EIP-155) transactions allowed')
  if (have !== chainId) throw new TxPolicyError('INVALID_CHAIN_ID', `invalid chain id: have ${have} want ${chainId}`)
}

/**
 * The policy fields of a decoded tx. A legacy tx's `v` still encodes the chain it was signed
 * for even when decoded under another chain's Common, so that is what gets compared.
 */
export function policyFieldsOf(tx: TypedTransaction): PolicyFields {
  return { type: tx.type, chainId: tx.type !== 0 && 'chainId' in tx ? tx.chainId : undefined, v: tx.v }
}
