/**
 * The REST shapes rebuilt from standard JSON-RPC, for nodes that do not serve /v1 (or not yet
 * every route): blocks, txs, accounts and the per-block analytics series. Mempool, peers,
 * account history, reorgs and alerts have no JSON-RPC equivalent and stay REST-only.
 */
import { keccak256, getAddress } from 'viem'
import { ApiError, rpc, rpcBatch } from './http.ts'
import type { AnalyticsBlock, Account, BlockDetail, BlockSummary, ChainInfo, Producers, TxDetail, TxSummary } from './types.ts'
import { nakamotoCoefficient } from '../stats.ts'

interface RpcTx {
  hash: string
  blockHash: string | null
  blockNumber: string | null
  transactionIndex: string | null
  from: string
  to: string | null
  value: string
  nonce: string
  gas: string
  input: string
  type: string
  gasPrice?: string
  maxFeePerGas?: string
  maxPriorityFeePerGas?: string
}

interface RpcReceipt {
  transactionHash: string
  blockHash: string
  gasUsed: string
  effectiveGasPrice: string
  contractAddress: string | null
  status: string
  logs: { address: string; topics: string[]; data: string; logIndex: string }[]
}

interface RpcBlock {
  number: string
  hash: string
  parentHash: string
  timestamp: string
  miner: string
  gasUsed: string
  gasLimit: string
  baseFeePerGas?: string
  size?: string
  stateRoot: string
  transactionsRoot: string
  receiptsRoot: string
  transactions: (string | RpcTx)[]
}

const num = (hex: string | null | undefined): number => (hex ? Number(BigInt(hex)) : 0)
const dec = (hex: string | null | undefined): string => (hex ? BigInt(hex).toString() : '0')
const quantity = (n: number | bigint): string => `0x${n.toString(16)}`
const checksum = (a: string | null): string | null => (a ? getAddress(a) : null)

function summaryOf(b: RpcBlock): BlockSummary {
  return {
    height: num(b.number),
    hash: b.hash,
    parentHash: b.parentHash,
    timestamp: num(b.timestamp),
    txCount: b.transactions.length,
    gasUsed: dec(b.gasUsed),
    gasLimit: dec(b.gasLimit),
    baseFeePerGas: dec(b.baseFeePerGas),
    size: num(b.size),
    producer: getAddress(b.miner),
  }
}

function txSummaryOf(tx: RpcTx, receipt: RpcReceipt | null): TxSummary {
  return {
    hash: tx.hash,
    blockHeight: tx.blockNumber ? num(tx.blockNumber) : null,
    blockHash: tx.blockHash,
    index: tx.transactionIndex ? num(tx.transactionIndex) : null,
    from: getAddress(tx.from),
    to: checksum(tx.to),
    contractAddress: checksum(receipt?.contractAddress ?? null),
    value: dec(tx.value),
    nonce: num(tx.nonce),
    gasUsed: receipt ? dec(receipt.gasUsed) : null,
    effectiveGasPrice: receipt ? dec(receipt.effectiveGasPrice) : null,
    status: !receipt ? 'pending' : receipt.status === '0x1' ? 'success' : 'reverted',
  }
}

export async function chainViaRpc(signal?: AbortSignal): Promise<ChainInfo> {
  const [chainId, head, finalized, genesis] = await rpcBatch<unknown>(
    [
      ['eth_chainId', []],
      ['eth_getBlockByNumber', ['latest', false]],
      ['eth_getBlockByNumber', ['finalized', false]],
      ['eth_getBlockByNumber', ['0x0', false]],
    ],
    signal,
  )
  const h = head as RpcBlock
  const f = (finalized as RpcBlock | null) ?? h
  return {
    name: `chain ${num(chainId as string)}`,
    chainId: num(chainId as string),
    engine: 'unknown',
    blockTime: null,
    genesisHash: (genesis as RpcBlock).hash,
    head: { height: num(h.number), hash: h.hash, timestamp: num(h.timestamp) },
    finalized: { height: num(f.number), hash: f.hash },
  }
}

async function blocksByHeight(heights: number[], fullTxs: boolean, signal?: AbortSignal): Promise<RpcBlock[]> {
  const out: RpcBlock[] = []
  // Batches of 100 keep each request small and well under the node's batch limit.
  for (let i = 0; i < heights.length; i += 100) {
    const chunk = heights.slice(i, i + 100)
    const blocks = await rpcBatch<RpcBlock | null>(chunk.map((h) => ['eth_getBlockByNumber', [quantity(h), fullTxs]]), signal)
    for (const b of blocks) if (b) out.push(b)
  }
  return out
}

async function headHeight(signal?: AbortSignal): Promise<number> {
  return num(await rpc<string>('eth_blockNumber', [], signal))
}

/** The newest `limit` blocks, newest first. */
export async function blocksViaRpc(limit: number, signal?: AbortSignal): Promise<BlockSummary[]> {
  const head = await headHeight(signal)
  const heights = Array.from({ length: Math.min(limit, head + 1) }, (_, i) => head - i)
  return (await blocksByHeight(heights, false, signal)).map(summaryOf)
}

export async function blockViaRpc(id: string, signal?: AbortSignal): Promise<BlockDetail> {
  const isHash = /^0x[0-9a-fA-F]{64}$/.test(id)
  if (!isHash && !/^\d+$/.test(id)) throw new ApiError('bad-request', `not a block height or hash: ${id}`)
  const [block, head] = await rpcBatch<unknown>(
    [
      isHash ? ['eth_getBlockByHash', [id, true]] : ['eth_getBlockByNumber', [quantity(BigInt(id)), true]],
      ['eth_blockNumber', []],
    ],
    signal,
  )
  if (!block) throw new ApiError('not-found', `no block ${id}`, 404)
  const b = block as RpcBlock
  // By number (the node's eth_getBlockReceipts takes no hash); a block off the canonical chain
  // gets no receipts rather than another block's.
  const receipts = b.transactions.length > 0 ? ((await rpc<RpcReceipt[] | null>('eth_getBlockReceipts', [b.number], signal)) ?? []) : []
  const byHash = new Map(receipts.filter((r) => r.blockHash === b.hash).map((r) => [r.transactionHash, r]))
  return {
    ...summaryOf(b),
    stateRoot: b.stateRoot,
    txRoot: b.transactionsRoot,
    receiptsRoot: b.receiptsRoot,
    confirmations: num(head as string) - num(b.number) + 1,
    transactions: (b.transactions as RpcTx[]).map((tx) => txSummaryOf(tx, byHash.get(tx.hash) ?? null)),
  }
}

/** The newest `limit` txs, looking back at most 100 blocks. */
export async function txsViaRpc(limit: number, signal?: AbortSignal): Promise<TxSummary[]> {
  const head = await headHeight(signal)
  const out: TxSummary[] = []
  for (let top = head; top >= 0 && top > head - 100 && out.length < limit; top -= 20) {
    const heights = Array.from({ length: Math.min(20, top + 1) }, (_, i) => top - i)
    const blocks = await blocksByHeight(heights, true, signal)
    const withTxs = blocks.filter((b) => b.transactions.length > 0)
    const receipts = await rpcBatch<RpcReceipt[] | null>(withTxs.map((b) => ['eth_getBlockReceipts', [b.number]]), signal)
    withTxs.forEach((b, i) => {
      const byHash = new Map((receipts[i] ?? []).map((r) => [r.transactionHash, r]))
      for (const tx of [...(b.transactions as RpcTx[])].reverse()) out.push(txSummaryOf(tx, byHash.get(tx.hash) ?? null))
    })
  }
  return out.slice(0, limit)
}

export async function txViaRpc(hash: string, signal?: AbortSignal): Promise<TxDetail> {
  const [tx, receipt] = await rpcBatch<unknown>(
    [
      ['eth_getTransactionByHash', [hash]],
      ['eth_getTransactionReceipt', [hash]],
    ],
    signal,
  )
  if (!tx) throw new ApiError('not-found', `no transaction ${hash}`, 404)
  const t = tx as RpcTx
  const r = receipt as RpcReceipt | null
  return {
    ...txSummaryOf(t, r),
    input: t.input,
    type: num(t.type),
    maxFeePerGas: t.maxFeePerGas ? dec(t.maxFeePerGas) : null,
    maxPriorityFeePerGas: t.maxPriorityFeePerGas ? dec(t.maxPriorityFeePerGas) : null,
    gasLimit: dec(t.gas),
    logs: (r?.logs ?? []).map((l) => ({ address: getAddress(l.address), topics: l.topics, data: l.data, logIndex: num(l.logIndex) })),
  }
}

export async function accountViaRpc(address: string, signal?: AbortSignal): Promise<Account> {
  const [balance, nonce, code] = await rpcBatch<string>(
    [
      ['eth_getBalance', [address, 'latest']],
      ['eth_getTransactionCount', [address, 'latest']],
      ['eth_getCode', [address, 'latest']],
    ],
    signal,
  )
  const codeSize = (code!.length - 2) / 2
  return {
    address: getAddress(address),
    balance: dec(balance),
    nonce: num(nonce),
    isContract: codeSize > 0,
    codeSize,
    codeHash: keccak256(code as `0x${string}`),
  }
}

/** The last `count` blocks, oldest first, with the seconds since each one's parent. */
export async function analyticsViaRpc(count: number, signal?: AbortSignal): Promise<AnalyticsBlock[]> {
  const head = await headHeight(signal)
  // One more block than asked for, so the oldest one shown has a block time too.
  const from = Math.max(0, head - count)
  const heights = Array.from({ length: head - from + 1 }, (_, i) => from + i)
  const blocks = (await blocksByHeight(heights, false, signal)).map(summaryOf)
  const out = blocks.map((b, i): AnalyticsBlock => ({
    height: b.height,
    hash: b.hash,
    timestamp: b.timestamp,
    txCount: b.txCount,
    gasUsed: b.gasUsed,
    gasLimit: b.gasLimit,
    baseFeePerGas: b.baseFeePerGas,
    size: b.size,
    producer: b.producer,
    blockTime: i > 0 ? b.timestamp - blocks[i - 1]!.timestamp : null,
  }))
  return out.length > count ? out.slice(out.length - count) : out
}

/** Producer shares over the analytics window (no voting power: JSON-RPC does not say). */
export function producersFromBlocks(blocks: AnalyticsBlock[]): Producers {
  const counts = new Map<string, number>()
  for (const b of blocks) counts.set(b.producer, (counts.get(b.producer) ?? 0) + 1)
  const items = [...counts]
    .map(([address, n]) => ({ address, blocks: n, share: blocks.length === 0 ? 0 : n / blocks.length }))
    .sort((a, b) => b.blocks - a.blocks)
  return {
    kind: 'producer',
    window: blocks.length,
    items,
    nakamotoCoefficient: nakamotoCoefficient(items.map((i) => i.share)),
  }
}
