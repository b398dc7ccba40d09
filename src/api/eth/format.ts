/**
 * Catena blocks, txs, receipts and logs in the shapes of the Ethereum JSON-RPC spec, so
 * viem, ethers and MetaMask read them unchanged. Fields Catena does not have (uncles,
 * PoW mix hash, blob gas) get their post-merge neutral values.
 */
import { bytesToHex, type PrefixedHexString } from '@ethereumjs/util'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Capability } from '@ethereumjs/tx'
import type { BlockHeader, Block } from '../../chain/block.ts'
import { decodePowSeal } from '../../consensus/pow/seal.ts'
import type { Receipt } from '../../execution/index.ts'
import { logsBloom } from '../../execution/index.ts'
import { toQuantity } from '../rpc/params.ts'
import { contractAddressOf } from './tx-info.ts'

const ZERO32 = bytesToHex(new Uint8Array(32))
const EMPTY_UNCLES = '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347'
const ZERO_NONCE = '0x0000000000000000'

/** PoW: the block's expected hashes (difficulty) and the chain's total up to it. */
export interface BlockWork {
  difficulty: bigint
  total: bigint
}

/**
 * The block's proof-of-work nonce as Ethereum clients expect it (8 bytes of hex): on PoW
 * chains (those with BlockWork) it is the nonce in the seal; other engines have none.
 */
function powNonce(h: BlockHeader, work: BlockWork | undefined): string {
  if (!work || h.seal.length === 0) return ZERO_NONCE // genesis carries no seal
  try {
    return `0x${decodePowSeal(h.seal).nonce.toString(16).padStart(16, '0')}`
  } catch {
    return ZERO_NONCE // not reachable for an imported block: its seal was verified
  }
}

export function formatHeader(hash: Uint8Array, h: BlockHeader, size?: number, work?: BlockWork) {
  return {
    hash: bytesToHex(hash),
    parentHash: bytesToHex(h.parentHash),
    number: toQuantity(h.height),
    timestamp: toQuantity(h.timestamp),
    miner: bytesToHex(h.producer),
    stateRoot: bytesToHex(h.stateRoot),
    transactionsRoot: bytesToHex(h.txRoot),
    receiptsRoot: bytesToHex(h.receiptsRoot),
    logsBloom: bytesToHex(h.logsBloom),
    gasLimit: toQuantity(h.gasLimit),
    gasUsed: toQuantity(h.gasUsed),
    baseFeePerGas: toQuantity(h.baseFee),
    extraData: bytesToHex(h.extraData),
    sealFields: [bytesToHex(h.seal)],
    difficulty: toQuantity(work?.difficulty ?? 0n),
    totalDifficulty: toQuantity(work?.total ?? 0n),
    nonce: powNonce(h, work),
    mixHash: bytesToHex(h.parentHash),
    sha3Uncles: EMPTY_UNCLES,
    uncles: [] as string[],
    withdrawals: [] as unknown[],
    withdrawalsRoot: ZERO32,
    blobGasUsed: '0x0',
    excessBlobGas: '0x0',
    parentBeaconBlockRoot: ZERO32,
    ...(size !== undefined ? { size: toQuantity(size) } : {}),
  }
}

export interface TxPosition {
  blockHash: Uint8Array
  height: bigint
  index: number
  baseFee: bigint
}

export function formatTx(tx: TypedTransaction, pos?: TxPosition) {
  const json = tx.toJSON()
  const sender = tx.getSenderAddress().toString()
  const base = {
    type: toQuantity(tx.type),
    hash: bytesToHex(tx.hash()),
    nonce: json.nonce,
    blockHash: pos ? bytesToHex(pos.blockHash) : null,
    blockNumber: pos ? toQuantity(pos.height) : null,
    transactionIndex: pos ? toQuantity(pos.index) : null,
    from: sender,
    to: json.to ?? null,
    value: json.value,
    gas: json.gasLimit,
    input: json.data,
    v: json.v,
    r: json.r,
    s: json.s,
    chainId: json.chainId ?? (tx.supports(Capability.EIP155ReplayProtection) ? toQuantity(tx.common.chainId()) : undefined),
  }
  if ('maxFeePerGas' in tx) {
    return {
      ...base,
      maxFeePerGas: json.maxFeePerGas,
      maxPriorityFeePerGas: json.maxPriorityFeePerGas,
      gasPrice: toQuantity(pos ? effectiveGasPrice(tx, pos.baseFee) : tx.maxFeePerGas),
      accessList: json.accessList ?? [],
      yParity: json.v,
    }
  }
  return {
    ...base,
    gasPrice: json.gasPrice,
    ...(tx.type === 1 ? { accessList: json.accessList ?? [], yParity: json.v } : {}),
  }
}

export function effectiveGasPrice(tx: TypedTransaction, baseFee: bigint): bigint {
  if ('maxFeePerGas' in tx) {
    const tip = tx.maxPriorityFeePerGas < tx.maxFeePerGas - baseFee ? tx.maxPriorityFeePerGas : tx.maxFeePerGas - baseFee
    return baseFee + tip
  }
  return (tx as unknown as { gasPrice: bigint }).gasPrice
}

export function formatBlock(hash: Uint8Array, block: Block, fullTxs: boolean, size: number, work?: BlockWork) {
  return {
    ...formatHeader(hash, block.header, size, work),
    transactions: block.txs.map((tx, index) =>
      fullTxs ? formatTx(tx, { blockHash: hash, height: block.header.height, index, baseFee: block.header.baseFee }) : bytesToHex(tx.hash()),
    ),
  }
}

export interface LogPosition {
  blockHash: Uint8Array
  height: bigint
  txHash: Uint8Array
  txIndex: number
  logIndex: number
  removed?: boolean
}

export function formatLog(log: { address: Uint8Array; topics: Uint8Array[]; data: Uint8Array }, p: LogPosition) {
  return {
    address: bytesToHex(log.address),
    topics: log.topics.map((t) => bytesToHex(t)),
    data: bytesToHex(log.data),
    blockNumber: toQuantity(p.height),
    blockHash: bytesToHex(p.blockHash),
    transactionHash: bytesToHex(p.txHash),
    transactionIndex: toQuantity(p.txIndex),
    logIndex: toQuantity(p.logIndex),
    removed: p.removed ?? false,
  }
}

/** All logs of a block with their positions (log indexes count across the whole block). */
export function blockLogs(hash: Uint8Array, block: Block, receipts: Receipt[]) {
  const out: ReturnType<typeof formatLog>[] = []
  let logIndex = 0
  receipts.forEach((r, txIndex) => {
    const txHash = block.txs[txIndex].hash()
    for (const log of r.logs) out.push(formatLog(log, { blockHash: hash, height: block.header.height, txHash, txIndex, logIndex: logIndex++ }))
  })
  return out
}

export function formatReceipt(hash: Uint8Array, block: Block, receipts: Receipt[], index: number) {
  const tx = block.txs[index]
  const r = receipts[index]
  const prevCumulative = index === 0 ? 0n : receipts[index - 1].cumulativeGasUsed
  let firstLog = 0
  for (let i = 0; i < index; i++) firstLog += receipts[i].logs.length
  const txHash = tx.hash()
  const sender = tx.getSenderAddress()
  return {
    type: toQuantity(tx.type),
    transactionHash: bytesToHex(txHash),
    transactionIndex: toQuantity(index),
    blockHash: bytesToHex(hash),
    blockNumber: toQuantity(block.header.height),
    from: sender.toString(),
    to: tx.to ? tx.to.toString() : null,
    cumulativeGasUsed: toQuantity(r.cumulativeGasUsed),
    gasUsed: toQuantity(r.cumulativeGasUsed - prevCumulative),
    effectiveGasPrice: toQuantity(effectiveGasPrice(tx, block.header.baseFee)),
    contractAddress: tx.to ? null : (bytesToHex(contractAddressOf(sender.bytes, tx.nonce)) as PrefixedHexString),
    logs: r.logs.map((log, i) =>
      formatLog(log, { blockHash: hash, height: block.header.height, txHash, txIndex: index, logIndex: firstLog + i }),
    ),
    logsBloom: bytesToHex(logsBloom(r.logs)),
    status: toQuantity(r.status),
  }
}
