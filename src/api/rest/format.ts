/**
 * Blocks, txs and logs in the REST contract's shapes: heights, counts and timestamps as JSON
 * numbers; wei, gas and fees as decimal strings; addresses EIP-55. The Ethereum-specific
 * derivations (effective gas price, CREATE address) are the JSON-RPC formatters' own.
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { TypedTransaction } from '@ethereumjs/tx'
import { blockSize, type Block, type BlockHeader } from '../../chain/block.ts'
import { toChecksumAddress } from '../../crypto/index.ts'
import type { Receipt } from '../../execution/index.ts'
import { effectiveGasPrice } from '../eth/format.ts'
import { contractAddressOf } from '../eth/tx-info.ts'
import { decodeLog, type DecodedLog } from './log-decode.ts'
import type { PohSlotJSON } from './poh-view.ts'

export interface BlockSummaryJSON {
  height: number
  hash: string
  parentHash: string
  timestamp: number
  txCount: number
  gasUsed: string
  gasLimit: string
  baseFeePerGas: string
  size: number
  producer: string
  /** PoH chains (every block but genesis): its slot, parent slot, skipped slots and carried votes. */
  poh?: PohSlotJSON
}

export type TxStatus = 'success' | 'reverted' | 'pending'

export interface TxSummaryJSON {
  hash: string
  blockHeight: number | null
  blockHash: string | null
  /** Unix seconds of the block (null while pending). */
  timestamp: number | null
  index: number | null
  from: string
  to: string | null
  contractAddress: string | null
  value: string
  nonce: number
  gasUsed: string | null
  effectiveGasPrice: string | null
  status: TxStatus
}

export interface LogJSON {
  address: string
  topics: string[]
  data: string
  logIndex: number
  decoded?: DecodedLog
}

export interface TxDetailJSON extends TxSummaryJSON {
  input: string
  type: number
  gasLimit: string
  /** Legacy and EIP-2930 txs: their gas price; EIP-1559 txs: null. */
  gasPrice: string | null
  maxFeePerGas: string | null
  maxPriorityFeePerGas: string | null
  /** Blocks on top of (and including) the tx's block; null while pending. */
  confirmations: number | null
  logs: LogJSON[]
}

export const checksum = (address: Uint8Array | string): string => toChecksumAddress(address)

export function blockSummary(hash: Uint8Array, block: Block): BlockSummaryJSON {
  const h = block.header
  return {
    height: Number(h.height),
    hash: bytesToHex(hash),
    parentHash: bytesToHex(h.parentHash),
    timestamp: Number(h.timestamp),
    txCount: block.txs.length,
    gasUsed: h.gasUsed.toString(),
    gasLimit: h.gasLimit.toString(),
    baseFeePerGas: h.baseFee.toString(),
    size: blockSize(block),
    producer: checksum(h.producer),
  }
}

/** Where a mined tx sits, with what its summary needs from the block. */
export interface MinedTx {
  blockHash: Uint8Array
  header: BlockHeader
  index: number
  receipts: Receipt[]
}

export function txSummary(tx: TypedTransaction, mined?: MinedTx): TxSummaryJSON {
  const sender = tx.getSenderAddress().bytes
  const base = {
    hash: bytesToHex(tx.hash()),
    from: checksum(sender),
    to: tx.to ? checksum(tx.to.bytes) : null,
    contractAddress: tx.to ? null : checksum(contractAddressOf(sender, tx.nonce)),
    value: tx.value.toString(),
    nonce: Number(tx.nonce),
  }
  if (!mined) {
    return { ...base, blockHeight: null, blockHash: null, timestamp: null, index: null, gasUsed: null, effectiveGasPrice: null, status: 'pending' }
  }
  const r = mined.receipts[mined.index]!
  const prev = mined.index === 0 ? 0n : mined.receipts[mined.index - 1]!.cumulativeGasUsed
  return {
    ...base,
    blockHeight: Number(mined.header.height),
    blockHash: bytesToHex(mined.blockHash),
    timestamp: Number(mined.header.timestamp),
    index: mined.index,
    gasUsed: (r.cumulativeGasUsed - prev).toString(),
    effectiveGasPrice: effectiveGasPrice(tx, mined.header.baseFee).toString(),
    status: r.status === 1 ? 'success' : 'reverted',
  }
}

/** Every tx of a block as summaries, in block order. */
export function blockTxSummaries(hash: Uint8Array, block: Block, receipts: Receipt[]): TxSummaryJSON[] {
  return block.txs.map((tx, index) => txSummary(tx, { blockHash: hash, header: block.header, index, receipts }))
}

export function txDetail(tx: TypedTransaction, mined: MinedTx | undefined, headHeight: bigint): TxDetailJSON {
  const dynamic = 'maxFeePerGas' in tx
  const legacyPrice = dynamic ? null : (tx as unknown as { gasPrice: bigint }).gasPrice
  return {
    ...txSummary(tx, mined),
    input: bytesToHex(tx.data),
    type: tx.type,
    gasLimit: tx.gasLimit.toString(),
    gasPrice: legacyPrice === null ? null : legacyPrice.toString(),
    maxFeePerGas: dynamic ? tx.maxFeePerGas.toString() : null,
    maxPriorityFeePerGas: dynamic ? tx.maxPriorityFeePerGas.toString() : null,
    confirmations: mined ? Number(headHeight - mined.header.height + 1n) : null,
    logs: mined ? txLogs(mined) : [],
  }
}

/** A mined tx's logs, with block-wide log indexes (as eth_getTransactionReceipt numbers them). */
function txLogs(mined: MinedTx): LogJSON[] {
  let first = 0
  for (let i = 0; i < mined.index; i++) first += mined.receipts[i]!.logs.length
  return mined.receipts[mined.index]!.logs.map((log, i) => {
    const address = bytesToHex(log.address)
    const topics = log.topics.map((t) => bytesToHex(t))
    const data = bytesToHex(log.data)
    const decoded = decodeLog(address, topics, data)
    return { address: checksum(log.address), topics, data, logIndex: first + i, ...(decoded ? { decoded } : {}) }
  })
}
