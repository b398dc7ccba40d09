/**
 * `catena send`: a value transfer (or a call with --data) signed locally as an EIP-1559
 * transaction with a key from the keystore folder, then handed to a node with
 * eth_sendRawTransaction. The key never leaves this process; the node only sees the signed tx.
 *
 * Everything that can be checked before asking for the password is checked first (arguments,
 * the keystore, the node's chain id, fees and gas), so a mistake costs no typing.
 * @module
 */
import { resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import type { Command } from 'commander'
import { bytesToHex } from '@ethereumjs/util'
import type { PrefixedHexString } from '@ethereumjs/util'
import { ethereumCustomCrypto } from '../../crypto/index.ts'
import { DEFAULT_RPC_URL, RpcClient, RpcClientError, quantity, toQuantity } from '../rpc-client.ts'
import { DEFAULT_DATADIR, findAccount, keystoreDir, unlockAccount } from './account.ts'
import {
  formatAmount,
  parseChecksummedAddressOption,
  parseEtherAmountOption,
  parseGasLimitOption,
  parseGweiAmountOption,
  parseHexDataOption,
  parseNonNegativeInt,
  parseRpcUrlOption,
} from './options.ts'

export type SendErrorCode = 'BAD_FEES' | 'GAS_ESTIMATE_FAILED' | 'TX_REJECTED' | 'TX_REVERTED' | 'RECEIPT_TIMEOUT' | 'HASH_MISMATCH'

/** A transfer that could not be made (or, for TX_REVERTED, was mined but failed). */
export class SendError extends Error {
  readonly code: SendErrorCode
  constructor(code: SendErrorCode, message: string) {
    super(message)
    this.name = 'SendError'
    this.code = code
  }
}

export interface FeeOverrides {
  /** --max-fee, in wei. */
  maxFeePerGas?: bigint
  /** --priority-fee, in wei. */
  maxPriorityFeePerGas?: bigint
}

export interface FeePlan {
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

/** Calls `method`, returning undefined if the node does not have it (any JSON-RPC error). */
async function optional<T>(rpc: RpcClient, method: string, params: unknown[]): Promise<T | undefined> {
  try {
    return await rpc.call<T>(method, params)
  } catch (err) {
    if (err instanceof RpcClientError && err.code === 'RPC_ERROR') return undefined
    throw err
  }
}

/**
 * Fees for the next block, like wallets pick them: the tip from eth_maxPriorityFeePerGas
 * (else gas price minus base fee), and a fee cap of twice the next base fee plus the tip,
 * which survives six full blocks of base-fee rises. The user's overrides win.
 */
export async function planFees(rpc: RpcClient, overrides: FeeOverrides = {}): Promise<FeePlan> {
  let { maxFeePerGas, maxPriorityFeePerGas } = overrides
  if (maxFeePerGas === undefined || maxPriorityFeePerGas === undefined) {
    const history = await optional<{ baseFeePerGas?: unknown[] }>(rpc, 'eth_feeHistory', ['0x1', 'latest', []])
    let nextBaseFee: bigint | undefined
    const fees = history?.baseFeePerGas
    if (Array.isArray(fees) && fees.length > 0) nextBaseFee = quantity(fees[fees.length - 1], 'eth_feeHistory', 'base fee')
    if (nextBaseFee === undefined) {
      const head = await rpc.call<{ baseFeePerGas?: string } | null>('eth_getBlockByNumber', ['latest', false])
      if (head?.baseFeePerGas !== undefined) nextBaseFee = quantity(head.baseFeePerGas, 'eth_getBlockByNumber', 'base fee')
    }
    if (maxPriorityFeePerGas === undefined) {
      const tip = await optional<string>(rpc, 'eth_maxPriorityFeePerGas', [])
      if (tip !== undefined) maxPriorityFeePerGas = quantity(tip, 'eth_maxPriorityFeePerGas', 'priority fee')
      else {
        const gasPrice = quantity(await rpc.call('eth_gasPrice'), 'eth_gasPrice', 'gas price')
        maxPriorityFeePerGas = gasPrice > (nextBaseFee ?? 0n) ? gasPrice - (nextBaseFee ?? 0n) : 0n
      }
      // A cap the user set bounds the tip we picked.
      if (maxFeePerGas !== undefined && maxPriorityFeePerGas > maxFeePerGas) maxPriorityFeePerGas = maxFeePerGas
    }
    if (maxFeePerGas === undefined) {
      maxFeePerGas =
        nextBaseFee !== undefined
          ? 2n * nextBaseFee + maxPriorityFeePerGas
          : quantity(await rpc.call('eth_gasPrice'), 'eth_gasPrice', 'gas price')
      if (maxFeePerGas < maxPriorityFeePerGas) maxFeePerGas = maxPriorityFeePerGas
    }
  }
  if (maxFeePerGas < maxPriorityFeePerGas) {
    throw new SendError(
      'BAD_FEES',
      `--max-fee (${formatAmount(maxFeePerGas, 'gwei')} gwei) is below --priority-fee (${formatAmount(maxPriorityFeePerGas, 'gwei')} gwei)`,
    )
  }
  return { maxFeePerGas, maxPriorityFeePerGas }
}

export interface ReceiptSummary {
  blockNumber: bigint
  blockHash: string
  status: 'success' | 'reverted'
  gasUsed: bigint
  effectiveGasPrice: bigint
}

/** Polls eth_getTransactionReceipt until the tx is in a block, or RECEIPT_TIMEOUT. */
export async function waitForReceipt(rpc: RpcClient, hash: string, timeoutMs: number): Promise<ReceiptSummary> {
  const deadline = Date.now() + timeoutMs
  let interval = 50
  for (;;) {
    const r = await rpc.call<Record<string, unknown> | null>('eth_getTransactionReceipt', [hash])
    if (r !== null && r !== undefined && r.blockNumber !== null && r.blockNumber !== undefined) {
      const m = 'eth_getTransactionReceipt'
      return {
        blockNumber: quantity(r.blockNumber, m, 'block number'),
        blockHash: String(r.blockHash),
        status: quantity(r.status, m, 'status') === 1n ? 'success' : 'reverted',
        gasUsed: quantity(r.gasUsed, m, 'gas used'),
        effectiveGasPrice: r.effectiveGasPrice === undefined ? 0n : quantity(r.effectiveGasPrice, m, 'effective gas price'),
      }
    }
    if (Date.now() >= deadline) {
      throw new SendError('RECEIPT_TIMEOUT', `transaction ${hash} was sent but is not in a block after ${timeoutMs / 1000} s`)
    }
    await delay(Math.min(interval, Math.max(0, deadline - Date.now())))
    interval = Math.min(interval * 2, 1000)
  }
}

export interface SendOptions {
  /** The recipient; absent for a contract creation (then `data` is the init code). */
  to?: string
  value: bigint
  from?: string
  rpc: string
  datadir: string
  passwordFile?: string
  gasLimit?: bigint
  maxFee?: bigint
  priorityFee?: bigint
  data: string
  wait?: boolean
  timeout: number
  json?: boolean
  /** Print nothing on stdout (a caller that prints its own result, e.g. as JSON). */
  quiet?: boolean
}

/** Signs and sends; with `wait`, returns once the tx is in a block (throws TX_REVERTED if it failed). */
export async function send(opts: SendOptions): Promise<{ hash: string; receipt?: ReceiptSummary }> {
  const account = await findAccount(keystoreDir(resolve(opts.datadir)), opts.from)
  const rpc = new RpcClient(opts.rpc)
  const chainId = quantity(await rpc.call('eth_chainId'), 'eth_chainId', 'chain id')
  const request = { from: account.address, ...(opts.to ? { to: opts.to } : {}), value: toQuantity(opts.value), data: opts.data }
  const [fees, gasLimit] = await Promise.all([
    planFees(rpc, { maxFeePerGas: opts.maxFee, maxPriorityFeePerGas: opts.priorityFee }),
    opts.gasLimit ?? estimateGas(rpc, request),
  ])

  const key = await unlockAccount(account, opts.passwordFile)
  let raw: string
  let hash: string
  let nonce: bigint
  try {
    nonce = quantity(await rpc.call('eth_getTransactionCount', [account.address, 'pending']), 'eth_getTransactionCount', 'nonce')
    // Loaded here, not at start: the EVM packages take a second to load and only send needs them.
    const [{ createFeeMarket1559Tx }, { makeCommon }] = await Promise.all([
      import('@ethereumjs/tx'),
      import('../../execution/index.ts'),
    ])
    const common = makeCommon(chainId, ethereumCustomCrypto())
    const tx = createFeeMarket1559Tx(
      { chainId, nonce, gasLimit, ...(opts.to ? { to: opts.to as PrefixedHexString } : {}), value: opts.value, data: opts.data as PrefixedHexString, ...fees },
      { common },
    ).sign(key)
    raw = bytesToHex(tx.serialize())
    hash = bytesToHex(tx.hash())
  } finally {
    key.fill(0)
  }

  const summary =
    `${opts.to ? `sending ${formatAmount(opts.value)} ETH from ${account.address} to ${opts.to}` : `creating a contract from ${account.address}`} on chain ${chainId} ` +
    `(nonce ${nonce}, gas limit ${gasLimit}, max fee ${formatAmount(fees.maxFeePerGas, 'gwei')} gwei, ` +
    `priority fee ${formatAmount(fees.maxPriorityFeePerGas, 'gwei')} gwei)`
  if (!opts.json) process.stderr.write(`${summary}\n`)
  let sentHash: string
  try {
    sentHash = await rpc.call<string>('eth_sendRawTransaction', [raw])
  } catch (err) {
    if (err instanceof RpcClientError && err.code === 'RPC_ERROR') {
      throw new SendError('TX_REJECTED', `the node rejected the transaction: ${err.rpcMessage}`)
    }
    throw err
  }
  if (typeof sentHash !== 'string' || sentHash.toLowerCase() !== hash) {
    throw new SendError('HASH_MISMATCH', `the node returned tx hash ${String(sentHash)} but the signed tx hashes to ${hash}`)
  }
  const out: Record<string, unknown> = {
    hash,
    from: account.address,
    to: opts.to ?? null,
    value: opts.value.toString(),
    nonce: Number(nonce),
    chainId: Number(chainId),
    gasLimit: gasLimit.toString(),
    maxFeePerGas: fees.maxFeePerGas.toString(),
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
  }
  if (!opts.json && !opts.quiet) console.log(`tx hash:   ${hash}`)
  if (!opts.wait) {
    if (opts.json && !opts.quiet) console.log(JSON.stringify(out, null, 2))
    return { hash }
  }

  const receipt = await waitForReceipt(rpc, hash, opts.timeout * 1000)
  const fee = receipt.gasUsed * receipt.effectiveGasPrice
  if (opts.quiet) {
    // the caller reports
  } else if (opts.json) {
    out.receipt = {
      blockNumber: Number(receipt.blockNumber),
      blockHash: receipt.blockHash,
      status: receipt.status,
      gasUsed: receipt.gasUsed.toString(),
      effectiveGasPrice: receipt.effectiveGasPrice.toString(),
    }
    console.log(JSON.stringify(out, null, 2))
  } else {
    console.log(`block:     ${receipt.blockNumber} (${receipt.blockHash})`)
    console.log(`status:    ${receipt.status}`)
    console.log(`gas used:  ${receipt.gasUsed}`)
    console.log(`fee paid:  ${formatAmount(fee)} ETH (${formatAmount(receipt.effectiveGasPrice, 'gwei')} gwei per gas)`)
  }
  if (receipt.status !== 'success') {
    throw new SendError('TX_REVERTED', `transaction ${hash} reverted in block ${receipt.blockNumber} (gas used ${receipt.gasUsed})`)
  }
  return { hash, receipt }
}

async function estimateGas(rpc: RpcClient, request: Record<string, string>): Promise<bigint> {
  try {
    return quantity(await rpc.call('eth_estimateGas', [request]), 'eth_estimateGas', 'gas estimate')
  } catch (err) {
    if (err instanceof RpcClientError && err.code === 'RPC_ERROR') {
      throw new SendError('GAS_ESTIMATE_FAILED', `cannot estimate gas: ${err.rpcMessage} (set --gas-limit to send anyway)`)
    }
    throw err
  }
}

export function registerSendCommand(program: Command): void {
  program
    .command('send')
    .description('sign a transfer with a key from the keystore folder and send it to a node')
    .requiredOption('--to <address>', 'recipient address (mixed case must be a valid EIP-55 checksum)', parseChecksummedAddressOption)
    .requiredOption('--value <amount>', 'amount: ether by default ("1.5"), or with a unit ("1.5eth", "20gwei", "100wei")', parseEtherAmountOption)
    .option('--from <address>', 'sender: a keystore in the folder (default: the only one)', parseChecksummedAddressOption)
    .option('--rpc <url>', 'node JSON-RPC URL', parseRpcUrlOption, DEFAULT_RPC_URL)
    .option('--datadir <dir>', 'data directory; keys live in <dir>/keystore', DEFAULT_DATADIR)
    .option('--password-file <file>', 'read the password from the first line of <file> (else CATENA_PASSWORD, else a hidden prompt)')
    .option('--gas-limit <n>', 'gas limit (default: eth_estimateGas)', parseGasLimitOption)
    .option('--max-fee <gwei>', 'max fee per gas in gwei, or with a unit (default: 2 x next base fee + priority fee)', parseGweiAmountOption)
    .option('--priority-fee <gwei>', 'max priority fee (tip) per gas in gwei, or with a unit (default: eth_maxPriorityFeePerGas)', parseGweiAmountOption)
    .option('--data <hex>', 'call data, 0x-prefixed', parseHexDataOption, '0x')
    .option('--wait', 'wait for the receipt and print block, status and gas used')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds', parseNonNegativeInt, 120)
    .option('--json', 'print the result as JSON')
    .showHelpAfterError(false)
    .action(async (opts: SendOptions) => {
      await send(opts)
    })
}
