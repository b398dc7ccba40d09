/**
 * Checks that need no account state: the envelope (type, size, chain id, replay protection,
 * signature values, fee fields) and the gas and price rules. Stateful checks (nonce, balance,
 * replacement, limits) live in the pool, which holds the state they depend on.
 * @module
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import { SECP256K1_ORDER, SECP256K1_ORDER_DIV_2 } from '@ethereumjs/util'
import { TxPolicyError, checkTxPolicy, checkTxType, policyFieldsOf } from '../execution/tx-policy.ts'
import { MempoolError } from './errors.ts'

// Which types and signatures a chain accepts is block validity too: one rule, in execution/.
export { SUPPORTED_TX_TYPES } from '../execution/tx-policy.ts'

/** EIP-3860: a contract creation's init code may be at most twice the 24,576-byte code limit. */
export const MAX_INITCODE_SIZE = 49_152

/** The fields the envelope rules look at, read from RLP or from a decoded tx alike. */
export interface Envelope {
  type: number
  /** The chain id field of a typed tx; legacy txs carry it inside `v` (EIP-155). */
  chainId?: bigint
  v?: bigint
  r?: bigint
  s?: bigint
  tipCap: bigint
  feeCap: bigint
  isCreate: boolean
  dataLength: number
}

export interface ValidationLimits {
  minGasPrice: bigint
  blockGasLimit: bigint
  maxTxBytes: number
}

/** Runs a tx-policy check, reporting a refusal as the pool's error with the same code and message. */
function policy(check: () => void): void {
  try {
    check()
  } catch (err) {
    if (err instanceof TxPolicyError) throw new MempoolError(err.code, err.message)
    throw err
  }
}

export function checkType(type: number): void {
  policy(() => checkTxType(type))
}

export function checkSize(size: number, maxTxBytes: number): void {
  if (size > maxTxBytes) {
    throw new MempoolError('OVERSIZED', `oversized data: transaction size ${size}, limit ${maxTxBytes}`)
  }
}

const invalidSig = () => new MempoolError('INVALID_SIGNATURE', 'invalid transaction v, r, s values')

export function checkEnvelope(env: Envelope, chainId: bigint): void {
  checkType(env.type)
  const { v, r, s } = env
  if (v === undefined || r === undefined || s === undefined) throw invalidSig()
  // v values that are no signature at all; 27/28 are signatures without replay protection.
  if (env.type === 0 ? v < 35n && v !== 27n && v !== 28n : v > 1n) throw invalidSig()
  policy(() => checkTxPolicy(env, chainId))
  // EIP-2: s in the lower half of the curve order, so a signature has exactly one valid form.
  if (r < 1n || r >= SECP256K1_ORDER || s < 1n || s > SECP256K1_ORDER_DIV_2) throw invalidSig()
  if (env.tipCap > env.feeCap) {
    throw new MempoolError(
      'TIP_ABOVE_FEE_CAP',
      `max priority fee per gas higher than max fee per gas: ` +
        `maxPriorityFeePerGas ${env.tipCap}, maxFeePerGas ${env.feeCap}`,
    )
  }
  if (env.isCreate && env.dataLength > MAX_INITCODE_SIZE) {
    throw new MempoolError(
      'INITCODE_TOO_LARGE',
      `max initcode size exceeded: code size ${env.dataLength}, limit ${MAX_INITCODE_SIZE}`,
    )
  }
}

/** The envelope of an already decoded tx (for txs re-added from dropped blocks). */
export function envelopeOf(tx: TypedTransaction): Envelope {
  return {
    ...policyFieldsOf(tx),
    r: tx.r,
    s: tx.s,
    tipCap: 'maxPriorityFeePerGas' in tx ? tx.maxPriorityFeePerGas : tx.gasPrice,
    feeCap: 'maxFeePerGas' in tx ? tx.maxFeePerGas : tx.gasPrice,
    isCreate: tx.to === undefined,
    dataLength: tx.data.length,
  }
}

/** Gas and price rules, cheapest first, all before the signature is recovered. */
export function checkGasAndPrice(tx: TypedTransaction, feeCap: bigint, limits: ValidationLimits): void {
  if (tx.gasLimit > limits.blockGasLimit) {
    throw new MempoolError('GAS_LIMIT', `exceeds block gas limit: gas ${tx.gasLimit}, limit ${limits.blockGasLimit}`)
  }
  if (feeCap < limits.minGasPrice) {
    const detail = `fee cap ${feeCap}, minimum needed ${limits.minGasPrice}`
    throw new MempoolError('UNDERPRICED', `transaction underpriced: ${detail}`)
  }
  const intrinsic = tx.getIntrinsicGas()
  if (tx.gasLimit < intrinsic) {
    throw new MempoolError('INTRINSIC_GAS', `intrinsic gas too low: have ${tx.gasLimit}, want ${intrinsic}`)
  }
  // EIP-7623 (Prague): calldata-heavy txs must reserve a floor price for their data.
  const floor = tx.getMinimumGasLimit()
  if (tx.gasLimit < floor) {
    const detail = `have ${tx.gasLimit}, want ${floor}`
    throw new MempoolError('FLOOR_DATA_GAS', `insufficient gas for floor data gas cost: ${detail}`)
  }
}
