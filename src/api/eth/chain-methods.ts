/** eth_ methods that read blocks, transactions, receipts, logs and fee history. */
import { bytesToHex } from '@ethereumjs/util'
import { blockSize } from '../../chain/block.ts'
import { MempoolError } from '../../mempool/errors.ts'
import { compileLogFilter, matchesLogFilter } from '../rpc/log-filter.ts'
import { invalidParams, limitExceeded, serverError } from '../rpc/errors.ts'
import { expectParams, parseBlockNumberOrTag, parseBlockTag, parseBool, parseData, parseHash, parseLogFilter, parseQuantity, toQuantity } from '../rpc/params.ts'
import type { RpcHandler } from '../rpc/server.ts'
import { resolveBlockRef, resolveNumberOrTag, type EthBackend, type ResolvedBlock } from './backend.ts'
import { blockLogs, formatBlock, formatReceipt, formatTx } from './format.ts'
import { matchesBloom } from './bloom.ts'
import { feeHistory } from './fee-history.ts'

export const MAX_LOG_BLOCK_RANGE = 10_000n
export const MAX_LOG_RESULTS = 10_000
const MAX_FEE_HISTORY_BLOCKS = 1024n

export function chainMethods(b: EthBackend): Record<string, RpcHandler> {
  const blockJson = (r: ResolvedBlock | undefined, full: boolean) => {
    if (!r) return null
    const block = b.chain.getBlock(r.hash)
    return block ? formatBlock(r.hash, block, full, blockSize(block), b.blockWork?.(r.hash, block.header)) : null
  }
  const receiptOf = (txHash: Uint8Array) => {
    const loc = b.chain.getTxLocation(txHash)
    if (!loc || !b.chain.isCanonical(loc.blockHash)) return null
    const block = b.chain.getBlock(loc.blockHash)!
    return formatReceipt(loc.blockHash, block, b.chain.getReceipts(loc.blockHash)!, loc.index)
  }
  return {
    /** How deep a tx is buried (1 = in the head block): what PoW users wait on. Null when not in the canonical chain. */
    catena_confirmations: (params) => {
      expectParams(params, 1, 1)
      const loc = b.chain.getTxLocation(parseHash(params[0], 'transaction hash'))
      if (!loc || !b.chain.isCanonical(loc.blockHash)) return null
      return { blockNumber: toQuantity(loc.height), blockHash: bytesToHex(loc.blockHash), confirmations: toQuantity(b.chain.head.header.height - loc.height + 1n) }
    },
    eth_blockNumber: (params) => {
      expectParams(params, 0)
      return toQuantity(b.chain.head.header.height)
    },
    eth_getBlockByNumber: (params) => {
      expectParams(params, 1, 2)
      return blockJson(resolveNumberOrTag(b, parseBlockNumberOrTag(params[0], 'block')), params[1] === undefined ? false : parseBool(params[1], 'full transactions flag'))
    },
    eth_getBlockByHash: (params) => {
      expectParams(params, 1, 2)
      const hash = parseHash(params[0], 'block hash')
      const header = b.chain.getHeader(hash)
      return blockJson(header ? { hash, header } : undefined, params[1] === undefined ? false : parseBool(params[1], 'full transactions flag'))
    },
    eth_getBlockTransactionCountByNumber: (params) => {
      expectParams(params, 1)
      const r = resolveNumberOrTag(b, parseBlockNumberOrTag(params[0], 'block'))
      const block = r && b.chain.getBlock(r.hash)
      return block ? toQuantity(block.txs.length) : null
    },
    eth_getBlockTransactionCountByHash: (params) => {
      expectParams(params, 1)
      const block = b.chain.getBlock(parseHash(params[0], 'block hash'))
      return block ? toQuantity(block.txs.length) : null
    },
    eth_getTransactionByHash: (params) => {
      expectParams(params, 1)
      const hash = parseHash(params[0], 'transaction hash')
      const found = b.chain.getTransaction(hash)
      if (found && b.chain.isCanonical(found.location.blockHash)) {
        const header = b.chain.getHeader(found.location.blockHash)!
        return formatTx(found.tx, { ...found.location, baseFee: header.baseFee })
      }
      const pending = b.mempool.get(hash)
      return pending ? formatTx(pending.tx) : null
    },
    eth_getTransactionByBlockNumberAndIndex: (params) => {
      expectParams(params, 2)
      const r = resolveNumberOrTag(b, parseBlockNumberOrTag(params[0], 'block'))
      return txAt(b, r, parseQuantity(params[1], 'index'))
    },
    eth_getTransactionByBlockHashAndIndex: (params) => {
      expectParams(params, 2)
      const hash = parseHash(params[0], 'block hash')
      const header = b.chain.getHeader(hash)
      return txAt(b, header ? { hash, header } : undefined, parseQuantity(params[1], 'index'))
    },
    eth_getTransactionReceipt: (params) => {
      expectParams(params, 1)
      return receiptOf(parseHash(params[0], 'transaction hash'))
    },
    eth_getBlockReceipts: (params) => {
      expectParams(params, 1)
      // A tag, number, hash or EIP-1898 object, as geth takes (BlockNumberOrHash).
      const r = resolveBlockRef(b, parseBlockTag(params[0], 'block'))
      if (!r) return null
      const block = b.chain.getBlock(r.hash)!
      const receipts = b.chain.getReceipts(r.hash)!
      return block.txs.map((_, i) => formatReceipt(r.hash, block, receipts, i))
    },
    eth_sendRawTransaction: async (params) => {
      expectParams(params, 1)
      const raw = parseData(params[0], 'signed transaction')
      try {
        const { hash, status } = await b.mempool.add(raw)
        await b.txSubmitted(hash, status)
        return bytesToHex(hash)
      } catch (err) {
        if (err instanceof MempoolError) throw serverError(err.message)
        throw err
      }
    },
    eth_getLogs: (params) => {
      expectParams(params, 1)
      return getLogs(b, params[0])
    },
    eth_feeHistory: (params) => {
      expectParams(params, 2, 3)
      return feeHistory(
        {
          maxBlocks: MAX_FEE_HISTORY_BLOCKS,
          newest: (ref) => resolveNumberOrTag(b, ref)?.header,
          headerAt: (h) => b.chain.getHeader(b.chain.getHashAt(h)!),
          blockAt: async (h) => {
            const hash = b.chain.getHashAt(h)!
            return { block: b.chain.getBlock(hash)!, receipts: b.chain.getReceipts(hash)! }
          },
          headHeight: () => b.chain.head.header.height,
          oldestHeight: () => 0n,
          nextBaseFee: () => b.nextBaseFee(),
        },
        params,
      )
    },
  }
}

function txAt(b: EthBackend, r: ResolvedBlock | undefined, index: bigint) {
  if (!r) return null
  const block = b.chain.getBlock(r.hash)
  if (!block || index >= BigInt(block.txs.length)) return null
  const i = Number(index)
  return formatTx(block.txs[i], { blockHash: r.hash, height: r.header.height, index: i, baseFee: r.header.baseFee })
}

function getLogs(b: EthBackend, raw: unknown) {
  const filter = parseLogFilter(raw)
  const compiled = compileLogFilter({ addresses: filter.addresses, topics: filter.topics })
  let from: bigint
  let to: bigint
  if (filter.blockHash) {
    const height = b.chain.getHeightOf(filter.blockHash)
    if (height === undefined) throw serverError(`unknown block ${bytesToHex(filter.blockHash)}`)
    from = to = height
  } else {
    const head = b.chain.head.header.height
    from = filter.fromBlock ? (resolveNumberOrTag(b, filter.fromBlock)?.header.height ?? head + 1n) : head
    to = filter.toBlock ? (resolveNumberOrTag(b, filter.toBlock)?.header.height ?? head) : head
    if (from > to) throw invalidParams(`invalid block range: fromBlock ${from} is after toBlock ${to}`)
    if (to - from + 1n > MAX_LOG_BLOCK_RANGE) throw limitExceeded(`block range too large: ${to - from + 1n} blocks, limit ${MAX_LOG_BLOCK_RANGE}`)
  }
  const out: unknown[] = []
  for (let h = from; h <= to; h++) {
    const bloom = b.chain.getBloomAt(h)
    if (bloom && !matchesBloom(bloom, filter.addresses, filter.topics)) continue
    const hash = b.chain.getHashAt(h)
    if (!hash) continue
    const block = b.chain.getBlock(hash)!
    for (const log of blockLogs(hash, block, b.chain.getReceipts(hash)!)) {
      if (!matchesLogFilter(log, compiled)) continue
      out.push(log)
      if (out.length > MAX_LOG_RESULTS) throw limitExceeded(`query returned more than ${MAX_LOG_RESULTS} results; narrow the block range or the filter`)
    }
  }
  return out
}

