/**
 * The transfer plan: N EIP-1559 value transfers from `senders` mnemonic accounts to fresh
 * random addresses (one per transfer, or a shared set), signed locally before the clock starts, so the timed phase measures
 * the node and not the client's signing; and the untimed warm-up transfers sent before them.
 */
import { randomBytes } from 'node:crypto'
import { keccak256, toHex, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { deriveKeys } from '../../src/wallet/hd.ts'
import { BenchError } from './errors.ts'
import { mapConcurrent } from './pool.ts'
import { quantity, toQuantity, type RpcClient } from './rpc.ts'

export const TRANSFER_GAS = 21_000n
const GWEI = 1_000_000_000n

export interface Transfer {
  from: Hex
  nonce: number
  to: Hex
  /** Distinct per transfer, so a balance check shows the right transfer landed. */
  value: bigint
  raw: Hex
  /** keccak256 of the raw transaction: what eth_sendRawTransaction must return. */
  hash: Hex
}

export interface SenderPlan {
  address: Hex
  /** The nonce of its first transfer: eth_getTransactionCount(address, 'latest') before the run, plus its warm-up transfers for the timed plan. */
  startNonce: number
  /** In nonce order; sent one at a time per sender (automine nodes reject nonce gaps). */
  txs: Transfer[]
}

export interface TransferPlan {
  senders: SenderPlan[]
  total: number
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

export interface Fees {
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

/**
 * Fees with headroom: twice the larger of eth_gasPrice and (base fee + tip), so the
 * transfers stay valid while the base fee moves during the run.
 */
export async function chooseFees(rpc: RpcClient): Promise<Fees> {
  const gasPrice = quantity(await rpc.call('eth_gasPrice'), 'eth_gasPrice')
  const tip = await rpc
    .call('eth_maxPriorityFeePerGas')
    .then((v) => quantity(v, 'eth_maxPriorityFeePerGas'))
    .catch(() => GWEI) // not every node has it
  const block = await rpc.call<{ baseFeePerGas?: unknown } | null>('eth_getBlockByNumber', ['latest', false])
  const baseFee = block?.baseFeePerGas !== undefined ? quantity(block.baseFeePerGas, 'baseFeePerGas') : gasPrice
  const floor = gasPrice > baseFee + tip ? gasPrice : baseFee + tip
  return { maxFeePerGas: floor * 2n, maxPriorityFeePerGas: tip }
}

export interface PlanOptions {
  mnemonic: string
  chainId: number
  txs: number
  /** Untimed transfers sent first from the same senders, so the node's JIT is warm when the clock starts. */
  warmup: number
  senders: number
  /** Fresh random recipients shared round-robin; 0 = a new one for every transfer. */
  recipients: number
  concurrency: number
}

/**
 * The warm-up transfers take each sender's first nonces and the timed ones continue after
 * them, so the timed plan's startNonce is where its own transfers begin and verify.ts
 * checks it unchanged. Warm-up transfers go to recipients of their own (same rule:
 * fresh per transfer, or `recipients` fresh ones shared), so the timed recipients'
 * balances still sum exactly.
 */
export interface TransferPlans {
  warmup: TransferPlan
  timed: TransferPlan
}

/** Derives the senders, reads their nonces and balances, and signs every transfer. */
export async function buildPlans(rpc: RpcClient, opts: PlanOptions): Promise<TransferPlans> {
  const fees = await chooseFees(rpc)
  const accounts = deriveKeys(opts.mnemonic, opts.senders).map((k) => privateKeyToAccount(toHex(k.privateKey)))
  const share = (n: number, s: number): number => Math.floor(n / opts.senders) + (s < n % opts.senders ? 1 : 0)
  const state = await mapConcurrent(accounts, opts.concurrency, async (a) => ({
    nonce: Number(quantity(await rpc.call('eth_getTransactionCount', [a.address, 'latest']), 'eth_getTransactionCount')),
    balance: quantity(await rpc.call('eth_getBalance', [a.address, 'latest']), 'eth_getBalance'),
  }))

  // Fresh random addresses start at zero balance, so verify can compare exact sums.
  const recipientsFor = (): ((i: number) => Hex) => {
    const shared = Array.from({ length: opts.recipients }, () => toHex(randomBytes(20)))
    return (i) => (shared.length > 0 ? shared[i % shared.length]! : toHex(randomBytes(20)))
  }
  const warmupTo = recipientsFor()
  const timedTo = recipientsFor()
  const warmup: SenderPlan[] = []
  const timed: SenderPlan[] = []
  let i = 0 // global, so values differ per transfer
  let w = 0
  let t = 0
  for (let s = 0; s < accounts.length; s++) {
    const account = accounts[s]!
    const { nonce: startNonce, balance } = state[s]!
    let cost = 0n
    const sign = async (nonce: number, to: Hex): Promise<Transfer> => {
      const value = 1_000_000_000_000n + BigInt(i++) // tiny
      const raw = await account.signTransaction({
        type: 'eip1559',
        chainId: opts.chainId,
        nonce,
        to,
        value,
        gas: TRANSFER_GAS,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      })
      cost += value + TRANSFER_GAS * fees.maxFeePerGas
      return { from: account.address, nonce, to, value, raw, hash: keccak256(raw) }
    }
    const warm: Transfer[] = []
    for (let k = 0; k < share(opts.warmup, s); k++) warm.push(await sign(startNonce + k, warmupTo(w++)))
    const txs: Transfer[] = []
    const timedStart = startNonce + warm.length
    for (let k = 0; k < share(opts.txs, s); k++) txs.push(await sign(timedStart + k, timedTo(t++)))
    if (balance < cost) {
      throw new BenchError(
        'INSUFFICIENT_FUNDS',
        `sender ${account.address} has ${balance} wei but its ${warm.length} warm-up and ${txs.length} timed transfers may cost up to ${cost} wei ` +
          `(maxFeePerGas ${fees.maxFeePerGas}); is the test mnemonic prefunded on chain id ${opts.chainId}?`,
      )
    }
    warmup.push({ address: account.address, startNonce, txs: warm })
    timed.push({ address: account.address, startNonce: timedStart, txs })
  }
  return { warmup: { senders: warmup, total: w, ...fees }, timed: { senders: timed, total: t, ...fees } }
}

export function describeFees(plan: TransferPlan): string {
  return `maxFeePerGas ${toQuantity(plan.maxFeePerGas)} (${Number(plan.maxFeePerGas) / 1e9} gwei), tip ${Number(plan.maxPriorityFeePerGas) / 1e9} gwei`
}
