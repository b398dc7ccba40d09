/**
 * What pages ask for. Each read goes to the REST API; where this node does not serve that
 * route and JSON-RPC can answer the same question, the answer is rebuilt from JSON-RPC (and the
 * page says so). Real errors (not found, bad request, server errors) are never papered over.
 */
import { ApiError, restGet } from './http.ts'
import * as fallback from './rpc-fallback.ts'
import type {
  Account, Alert, AnalyticsBlock, AnalyticsSummary, BlockDetail, BlockPoh, BlockSummary, ChainInfo, DataSource,
  MempoolInfo, Page, Peers, PohSchedule, PohStatus, Producers, TxDetail, TxSummary,
} from './types.ts'

/** Per page: cancellation, and a note of where its data came from. */
export interface Ctx {
  signal: AbortSignal
  noteSource(source: DataSource): void
}

/** REST routes found missing on this node (by route name), so we stop asking. */
const missing = new Set<string>()

async function read<T>(ctx: Ctx, route: string, path: string, viaRpc?: () => Promise<T>): Promise<T> {
  if (!viaRpc || !missing.has(route)) {
    try {
      const value = await restGet<T>(path, ctx.signal)
      ctx.noteSource('rest')
      return value
    } catch (err) {
      if (!(err instanceof ApiError) || err.kind !== 'unavailable') throw err
      missing.add(route)
      if (!viaRpc) throw err
    }
  }
  const value = await viaRpc()
  ctx.noteSource('rpc')
  return value
}

const enc = encodeURIComponent
const query = (params: Record<string, string | number | null | undefined>): string => {
  const parts = Object.entries(params).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${enc(String(v))}`)
  return parts.length ? `?${parts.join('&')}` : ''
}

export const getChain = (ctx: Ctx): Promise<ChainInfo> =>
  read(ctx, 'chain', '/v1/chain', () => fallback.chainViaRpc(ctx.signal))

export const getBlocks = (ctx: Ctx, limit: number): Promise<Page<BlockSummary>> =>
  read(ctx, 'blocks', `/v1/blocks${query({ limit })}`, async () => ({ items: await fallback.blocksViaRpc(limit, ctx.signal), nextCursor: null }))

export const getBlock = (ctx: Ctx, id: string): Promise<BlockDetail> =>
  read(ctx, 'block', `/v1/blocks/${enc(id)}`, () => fallback.blockViaRpc(id, ctx.signal))

export const getTxs = (ctx: Ctx, limit: number): Promise<Page<TxSummary>> =>
  read(ctx, 'txs', `/v1/txs${query({ limit })}`, async () => ({ items: await fallback.txsViaRpc(limit, ctx.signal), nextCursor: null }))

export const getTx = (ctx: Ctx, hash: string): Promise<TxDetail> =>
  read(ctx, 'tx', `/v1/txs/${enc(hash)}`, () => fallback.txViaRpc(hash, ctx.signal))

export const getAccount = (ctx: Ctx, address: string): Promise<Account> =>
  read(ctx, 'account', `/v1/accounts/${enc(address)}`, () => fallback.accountViaRpc(address, ctx.signal))

export const getAccountTxs = (ctx: Ctx, address: string, limit: number, cursor?: string | null): Promise<Page<TxSummary>> =>
  read(ctx, 'account-txs', `/v1/accounts/${enc(address)}/txs${query({ limit, cursor })}`)

export const getAnalyticsBlocks = (ctx: Ctx, count: number): Promise<{ items: AnalyticsBlock[] }> =>
  read(ctx, 'analytics-blocks', `/v1/analytics/blocks${query({ count })}`, async () => ({ items: await fallback.analyticsViaRpc(count, ctx.signal) }))

export const getAnalyticsSummary = (ctx: Ctx, window: number): Promise<AnalyticsSummary> =>
  read(ctx, 'analytics-summary', `/v1/analytics/summary${query({ window })}`)

export const getProducers = (ctx: Ctx): Promise<Producers> =>
  read(ctx, 'producers', '/v1/producers', async () => fallback.producersFromBlocks(await fallback.analyticsViaRpc(100, ctx.signal)))

export const getMempool = (ctx: Ctx, limit: number, cursor?: string | null): Promise<MempoolInfo> =>
  read(ctx, 'mempool', `/v1/mempool${query({ limit, cursor })}`)

export const getPeers = (ctx: Ctx): Promise<Peers> => read(ctx, 'peers', '/v1/peers')

export const getAlerts = (ctx: Ctx): Promise<{ items: Alert[] }> => read(ctx, 'alerts', '/v1/alerts')

// PoH chains only (REST only: every node with a PoH engine serves them).
export const getBlockPoh = (ctx: Ctx, id: string | number): Promise<BlockPoh> =>
  read(ctx, 'block-poh', `/v1/blocks/${enc(String(id))}/poh`)

export const getPohStatus = (ctx: Ctx): Promise<PohStatus> => read(ctx, 'poh-status', '/v1/poh/status')

export const getPohSchedule = (ctx: Ctx, epoch?: number): Promise<PohSchedule> =>
  read(ctx, 'poh-schedule', `/v1/poh/schedule${query({ epoch })}`)

/** Whether the node answered `route` before (so pages can skip REST-only extras quietly). */
export const restRouteMissing = (route: string): boolean => missing.has(route)
