/**
 * The JSON-RPC a light client serves on 127.0.0.1: the methods wallets use, each answered
 * only from verified headers and data proven against them (client.ts). An answer that does
 * not check is an error naming what failed, never a value. eth_sendRawTransaction goes to
 * the sources as is (the network checks txs); eth_call and eth_estimateGas run here, in the
 * EVM, over state proven against the header (local-call.ts).
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import { nextBaseFee } from '../../chain/basefee.ts'
import { blockSize } from '../../chain/block.ts'
import { finalityAt } from '../../chain/rules.ts'
import { keccak256 } from '../../crypto/hash.ts'
import { matchesBloom } from '../../api/eth/bloom.ts'
import { feeHistory } from '../../api/eth/fee-history.ts'
import { blockLogs, formatBlock, formatReceipt, formatTx } from '../../api/eth/format.ts'
import { invalidParams, limitExceeded, serverError } from '../../api/rpc/errors.ts'
import { compileLogFilter, matchesLogFilter } from '../../api/rpc/log-filter.ts'
import {
  expectParams,
  parseAddress,
  parseBlockNumberOrTag,
  parseBlockTag,
  parseBool,
  parseData,
  parseHash,
  parseLogFilter,
  parseStorageSlot,
  parseTxCallObject,
  toData,
  toQuantity,
  type BlockRef,
} from '../../api/rpc/params.ts'
import type { RpcHandler } from '../../api/rpc/server.ts'
import type { BlockRules } from '../../chain/rules.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'
import { LightHeaderChain, type VerifiedHeader } from './header-chain.ts'
import { VerificationError, type LightClient } from './client.ts'
import { localCall } from './local-call.ts'
import { throwIfFailed, toCallRequest } from '../../api/eth/state-methods.ts'
import type { CallOutcome } from '../../execution/index.ts'

export const MAX_LIGHT_LOG_RANGE = 2_000n
export const MAX_LIGHT_LOG_RESULTS = 10_000
export const MAX_LIGHT_FEE_HISTORY = 128n

export interface LightMethodsOptions {
  client: LightClient
  spec: ChainSpec
  rules: BlockRules
  clientVersion: string
}

export function lightMethods(o: LightMethodsOptions): Record<string, RpcHandler> {
  const { client, spec, rules } = o
  const chain: LightHeaderChain = client.headers
  const chainId = () => spec.chainId
  const resolve = (ref: BlockRef): VerifiedHeader | undefined => {
    if ('hash' in ref) {
      const v = chain.get(ref.hash)
      return v && (!ref.requireCanonical || chain.isBest(v.hash)) ? v : undefined
    }
    if ('number' in ref) return chain.at(ref.number)
    const head = chain.head.header.height
    const fin = finalityAt(rules, head)
    switch (ref.tag) {
      case 'earliest':
        return chain.at(chain.checkpoint.header.height)
      case 'safe':
        return chain.at(fin.safe) ?? chain.at(chain.checkpoint.header.height)
      case 'finalized':
        return chain.at(fin.finalized) ?? chain.at(chain.checkpoint.header.height)
      default:
        return chain.head
    }
  }
  const requireHeader = (ref: BlockRef): VerifiedHeader => {
    const v = resolve(ref)
    if (!v) throw serverError('header not found: the light client has not verified that block')
    return v
  }
  /** Verification failures become -32000 errors with the reason; the client already logged the lie. */
  const checked = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      if (err instanceof VerificationError) throw serverError(err.message)
      throw err
    }
  }
  const blockJson = async (v: VerifiedHeader | undefined, full: boolean) => {
    if (!v) return null
    const data = await client.block(v)
    const block = { header: v.header, txs: data.txs }
    const work = rules.blockWork ? { difficulty: rules.blockWork(v.header), total: v.work } : undefined
    return formatBlock(v.hash, block, full, blockSize(block), work)
  }
  const at = (params: unknown[], i: number) => requireHeader(parseBlockTag(params[i], 'block', { tag: 'latest' }))

  return {
    web3_clientVersion: (params) => {
      expectParams(params, 0)
      return o.clientVersion
    },
    net_version: (params) => {
      expectParams(params, 0)
      return chainId().toString()
    },
    eth_chainId: (params) => {
      expectParams(params, 0)
      return toQuantity(chainId())
    },
    eth_syncing: (params) => {
      expectParams(params, 0)
      return false
    },
    eth_accounts: (params) => {
      expectParams(params, 0)
      return []
    },
    eth_blockNumber: (params) => {
      expectParams(params, 0)
      return toQuantity(chain.head.header.height)
    },
    eth_gasPrice: (params) => {
      expectParams(params, 0)
      return toQuantity(nextBaseFee(chain.head.header, spec.feeMarket) + suggestedTip(spec))
    },
    eth_maxPriorityFeePerGas: (params) => {
      expectParams(params, 0)
      return toQuantity(suggestedTip(spec))
    },
    eth_feeHistory: (params) => {
      expectParams(params, 2, 3)
      return checked(() =>
        feeHistory(
          {
            // Reward percentiles cost a verified block each: fewer blocks than a full node gives.
            maxBlocks: MAX_LIGHT_FEE_HISTORY,
            newest: (ref) => resolve(ref)?.header,
            headerAt: (h) => chain.at(h)?.header,
            blockAt: async (h) => {
              const v = chain.at(h)!
              const b = await client.block(v)
              return { block: { header: v.header, txs: b.txs }, receipts: b.receipts }
            },
            headHeight: () => chain.head.header.height,
            oldestHeight: () => chain.checkpoint.header.height,
            nextBaseFee: () => nextBaseFee(chain.head.header, spec.feeMarket),
          },
          params,
        ),
      )
    },
    eth_getBlockByNumber: (params) => {
      expectParams(params, 1, 2)
      return checked(() => blockJson(resolve(parseBlockNumberOrTag(params[0], 'block')), params[1] === undefined ? false : parseBool(params[1], 'full transactions flag')))
    },
    eth_getBlockByHash: (params) => {
      expectParams(params, 1, 2)
      return checked(() => blockJson(chain.get(parseHash(params[0], 'block hash')), params[1] === undefined ? false : parseBool(params[1], 'full transactions flag')))
    },
    eth_getBalance: (params) => {
      expectParams(params, 1, 2)
      const address = parseAddress(params[0], 'address')
      return checked(async () => toQuantity((await client.account(address, at(params, 1))).balance))
    },
    eth_getTransactionCount: (params) => {
      expectParams(params, 1, 2)
      const address = parseAddress(params[0], 'address')
      // 'pending' is the verified head: a light client sees no pool (Helios answers the same).
      return checked(async () => toQuantity((await client.account(address, at(params, 1))).nonce))
    },
    eth_getCode: (params) => {
      expectParams(params, 1, 2)
      const address = parseAddress(params[0], 'address')
      return checked(async () => toData(await client.code(address, at(params, 1))))
    },
    eth_getStorageAt: (params) => {
      expectParams(params, 2, 3)
      const address = parseAddress(params[0], 'address')
      const slot = parseStorageSlot(params[1], 'storage slot')
      return checked(async () => {
        const account = await client.account(address, at(params, 2), [slot])
        const value = account.storage.get(bytesToHex(slot))
        if (value === undefined) throw new VerificationError(`no proof of slot ${bytesToHex(slot)} came with the account`)
        return bytesToHex(toWord(value))
      })
    },
    eth_getTransactionByHash: (params) => {
      expectParams(params, 1)
      const hash = parseHash(params[0], 'transaction hash')
      return checked(async () => {
        const loc = await client.txLocation(hash)
        if (!loc) return null
        const h = loc.block.header
        return formatTx(loc.block.txs[loc.index]!, { blockHash: h.hash, height: h.header.height, index: loc.index, baseFee: h.header.baseFee })
      })
    },
    eth_getTransactionReceipt: (params) => {
      expectParams(params, 1)
      const hash = parseHash(params[0], 'transaction hash')
      return checked(async () => {
        const loc = await client.txLocation(hash)
        if (!loc) return null
        const b = loc.block
        return formatReceipt(b.header.hash, { header: b.header.header, txs: b.txs }, b.receipts, loc.index)
      })
    },
    eth_getBlockReceipts: (params) => {
      expectParams(params, 1)
      const v = resolve(parseBlockTag(params[0], 'block'))
      return checked(async () => {
        if (!v) return null
        const b = await client.block(v)
        return b.txs.map((_, i) => formatReceipt(v.hash, { header: v.header, txs: b.txs }, b.receipts, i))
      })
    },
    eth_getLogs: (params) => {
      expectParams(params, 1)
      return checked(() => logs(client, chain, resolve, params[0]))
    },
    eth_sendRawTransaction: async (params) => {
      expectParams(params, 1)
      const raw = parseData(params[0], 'signed transaction')
      const failures: string[] = []
      for (const src of client.sources) {
        try {
          await src.call<string>('eth_sendRawTransaction', [bytesToHex(raw)])
          // The hash is ours to compute: a source cannot make us report another.
          return bytesToHex(keccak256(raw))
        } catch (err) {
          failures.push((err as Error).message)
        }
      }
      throw serverError(failures.join('; ') || 'no source to send to')
    },
    eth_call: (params) => {
      expectParams(params, 1, 3)
      const req = toCallRequest(parseTxCallObject(params[0]))
      if (params[2] !== undefined && params[2] !== null) throw invalidParams('state overrides are not supported')
      return checked(async () => {
        const out = (await localCall(client, spec, client.commons, at(params, 1), req, 'call')) as CallOutcome
        throwIfFailed(out)
        return toData(out.returnValue)
      })
    },
    eth_estimateGas: (params) => {
      expectParams(params, 1, 2)
      const call = parseTxCallObject(params[0])
      return checked(async () => {
        const header = at(params, 1)
        // A plain value transfer to an account proven to have no code costs exactly the intrinsic 21000.
        if (call.to && (!call.data || call.data.length === 0) && !call.accessList?.length && (await client.code(call.to, header)).length === 0) return toQuantity(21_000n)
        try {
          return toQuantity((await localCall(client, spec, client.commons, header, toCallRequest(call), 'estimate')) as bigint)
        } catch (err) {
          const outcome = (err as { outcome?: CallOutcome }).outcome
          if (outcome) throwIfFailed(outcome)
          throw err
        }
      })
    },
    catena_lightStatus: (params) => {
      expectParams(params, 0)
      const head = chain.head
      return {
        head: { number: toQuantity(head.header.height), hash: bytesToHex(head.hash), totalWork: toQuantity(head.work) },
        checkpoint: { number: toQuantity(chain.checkpoint.header.height), hash: bytesToHex(chain.checkpoint.hash) },
        headersKept: chain.size,
        // Every header source: the JSON-RPC ones (which also prove the rest), then libp2p peers (p2p:<peer id>).
        sources: client.headerSources.map((s) => ({ url: s.url, lies: client.lies.filter((l) => l.source === s.url).length })),
        lies: client.lies.slice(-20).map((l) => ({ source: l.source, at: l.at, what: l.what })),
        conflicts: [...client.conflicts.values()],
        ...(client.follower ? { consensus: client.follower.status() } : {}),
      }
    },
  }
}

function suggestedTip(spec: ChainSpec): bigint {
  return spec.feeMarket.initialBaseFee === 0n && spec.monetary.minGasPrice === 0n ? 0n : 1_000_000_000n
}

function toWord(v: bigint): Uint8Array {
  const out = new Uint8Array(32)
  let x = v
  for (let i = 31; i >= 0 && x > 0n; i--) {
    out[i] = Number(x & 0xffn)
    x >>= 8n
  }
  return out
}

/**
 * Logs over verified headers, complete: a block whose bloom excludes the filter has no match
 * (the bloom is in the verified header); every other block's receipts are fetched and
 * re-hashed to its receipts root, so no log can be left out unnoticed.
 */
async function logs(client: LightClient, chain: LightHeaderChain, resolve: (r: BlockRef) => VerifiedHeader | undefined, raw: unknown) {
  const filter = parseLogFilter(raw)
  const compiled = compileLogFilter({ addresses: filter.addresses, topics: filter.topics })
  let headers: VerifiedHeader[]
  if (filter.blockHash) {
    const v = chain.get(filter.blockHash)
    if (!v) throw serverError(`unknown block ${bytesToHex(filter.blockHash)}: the light client has not verified it`)
    headers = [v]
  } else {
    const head = chain.head.header.height
    const from = filter.fromBlock ? (resolve(filter.fromBlock)?.header.height ?? head + 1n) : head
    const to = filter.toBlock ? (resolve(filter.toBlock)?.header.height ?? head) : head
    if (from > to) throw invalidParams(`invalid block range: fromBlock ${from} is after toBlock ${to}`)
    if (to - from + 1n > MAX_LIGHT_LOG_RANGE) throw limitExceeded(`block range too large: ${to - from + 1n} blocks, limit ${MAX_LIGHT_LOG_RANGE} on a light client`)
    headers = []
    for (let h = from; h <= to; h++) {
      const v = chain.at(h)
      if (v) headers.push(v)
    }
  }
  const out: unknown[] = []
  for (const v of headers) {
    if (!matchesBloom(v.header.logsBloom, filter.addresses, filter.topics)) continue
    const b = await client.block(v)
    for (const log of blockLogs(v.hash, { header: v.header, txs: b.txs }, b.receipts)) {
      if (!matchesLogFilter(log, compiled)) continue
      out.push(log)
      if (out.length > MAX_LIGHT_LOG_RESULTS) throw limitExceeded(`query returned more than ${MAX_LIGHT_LOG_RESULTS} results; narrow the block range or the filter`)
    }
  }
  return out
}

