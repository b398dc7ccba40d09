/**
 * The plain words an offline-signing file shows before anything is signed or sent: amounts in
 * ETH/gwei and wei, the fee cap and the most the tx can cost, the chain by id and name, the
 * nonce and the data. Every entry is derived from the tx fields, so a file's summary can be
 * checked against them (see offline-tx.ts).
 * @module
 */
import type { OfflineTxFields } from './offline-tx.ts'

/** Well-known public chains, so a summary can say "1 (Ethereum Mainnet)". Callers add their own. */
export const KNOWN_CHAINS: ReadonlyMap<bigint, string> = new Map([
  [1n, 'Ethereum Mainnet'],
  [17000n, 'Holesky testnet'],
  [560048n, 'Hoodi testnet'],
  [11155111n, 'Sepolia testnet'],
  [31337n, 'Hardhat/Anvil local'],
])

/** What a transaction does, in plain words (every entry is derived from the fields). */
export interface TxSummary {
  from: string
  to: string
  value: string
  maxFeePerGas: string
  maxPriorityFeePerGas: string
  gasLimit: string
  maxTotalFee: string
  maxTotalCost: string
  chainId: string
  chainName: string | null
  nonce: string
  data: string
}

export interface OfflineTxOptions {
  /** Chain names to use besides KNOWN_CHAINS (these win on a clash). */
  chainNames?: ReadonlyMap<bigint, string>
}

// ---- plain-words amounts ----

function decimal(wei: bigint, decimals: number): string {
  const scale = 10n ** BigInt(decimals)
  const fraction = (wei % scale).toString().padStart(decimals, '0').replace(/0+$/, '')
  return `${wei / scale}${fraction ? `.${fraction}` : ''}`
}

const eth = (wei: bigint) => `${decimal(wei, 18)} ETH (${wei} wei)`
export const gwei = (wei: bigint) => `${decimal(wei, 9)} gwei (${wei} wei)`

export function chainNameOf(chainId: bigint, opts: OfflineTxOptions = {}): string | null {
  return opts.chainNames?.get(chainId) ?? KNOWN_CHAINS.get(chainId) ?? null
}

/** The plain-words summary of a transaction; every entry follows from `from` and the fields. */
export function summarizeTx(from: string, fields: OfflineTxFields, opts: OfflineTxOptions = {}): TxSummary {
  const maxTotalFee = fields.gasLimit * fields.maxFeePerGas
  const dataBytes = (fields.data.length - 2) / 2
  let data = 'none'
  if (dataBytes > 0) data = `${dataBytes} byte${dataBytes === 1 ? '' : 's'}` + (dataBytes > 4 ? ` (starting ${fields.data.slice(0, 10)})` : ` (${fields.data})`)
  return {
    from,
    to: fields.to ?? 'none: this transaction creates a contract',
    value: eth(fields.value),
    maxFeePerGas: gwei(fields.maxFeePerGas),
    maxPriorityFeePerGas: gwei(fields.maxPriorityFeePerGas),
    gasLimit: fields.gasLimit.toString(),
    maxTotalFee: `${eth(maxTotalFee)} = gas limit x max fee per gas`,
    maxTotalCost: `${eth(fields.value + maxTotalFee)} = value + max total fee`,
    chainId: fields.chainId.toString(),
    chainName: chainNameOf(fields.chainId, opts),
    nonce: fields.nonce.toString(),
    data,
  }
}

/** The summary as lines of text, for a person to read before signing or sending. */
export function formatSummary(summary: TxSummary): string {
  const rows: [string, string][] = [
    ['from', summary.from],
    ['to', summary.to],
    ['value', summary.value],
    ['max fee per gas', summary.maxFeePerGas],
    ['tip per gas', summary.maxPriorityFeePerGas],
    ['gas limit', summary.gasLimit],
    ['max total fee', summary.maxTotalFee],
    ['max total cost', summary.maxTotalCost],
    ['chain', summary.chainName === null ? `${summary.chainId} (unknown chain)` : `${summary.chainId} (${summary.chainName})`],
    ['nonce', summary.nonce],
    ['data', summary.data],
  ]
  return ['EIP-1559 transaction', ...rows.map(([k, v]) => `  ${k.padEnd(16)}${v}`)].join('\n')
}
