/** GET /v1/txs (latest txs, newest first, paginated) and GET /v1/txs/:hash (mined or pending). */
import { hexToBytes } from '@ethereumjs/util'
import type { FastifyInstance } from 'fastify'
import type { RestContext } from '../context.ts'
import { decodePosition, encodePosition } from '../cursor.ts'
import { notFound } from '../errors.ts'
import { txDetail, txSummary, type TxSummaryJSON } from '../format.ts'
import { listOf, pageQuery, responses, txDetailSchema, txHashParams, txSummarySchema } from '../schemas.ts'

/** Blocks one page may look through for txs (empty blocks are skipped by header). */
export const MAX_SCAN_BLOCKS = 10_000n

export function txRoutes(app: FastifyInstance, ctx: RestContext): void {
  app.get('/txs', {
    schema: {
      tags: ['transactions'],
      summary: 'Latest transactions in canonical blocks, newest first',
      description: `A page looks through at most ${MAX_SCAN_BLOCKS} blocks; a page may then hold fewer items than asked, with a nextCursor to go on.`,
      querystring: pageQuery,
      response: responses(listOf(txSummarySchema)),
    },
  }, async (request) => {
    const { limit, cursor } = request.query as { limit: number; cursor?: string }
    const { chain, view } = ctx
    const head = view.headHeight
    const before = decodePosition('txs', cursor)
    let h = before === undefined || BigInt(before.height) > head ? head : BigInt(before.height)
    const items: TxSummaryJSON[] = []
    let scanned = 0n
    // One item past the page tells whether there is a next page.
    for (; h >= 0n && items.length <= limit && scanned < MAX_SCAN_BLOCKS; h--, scanned++) {
      const hash = chain.getHashAt(h)
      const header = hash && chain.getHeader(hash)
      if (!hash || !header || header.gasUsed === 0n) continue // every tx uses gas: no gas, no txs
      const block = chain.getBlock(hash)
      const receipts = chain.getReceipts(hash)
      if (!block || !receipts) continue
      const top = before !== undefined && BigInt(before.height) === h ? Math.min(before.index, block.txs.length) : block.txs.length
      for (let i = top - 1; i >= 0 && items.length <= limit; i--) {
        items.push(txSummary(block.txs[i]!, { blockHash: hash, header: block.header, index: i, receipts }))
      }
    }
    if (items.length > limit) {
      items.length = limit
      const last = items[limit - 1]!
      return { items, nextCursor: encodePosition('txs', { height: last.blockHeight!, index: last.index! }) }
    }
    // Scan budget spent: go on below the last block looked at.
    const nextCursor = h >= 0n && scanned >= MAX_SCAN_BLOCKS ? encodePosition('txs', { height: h + 1n, index: 0 }) : null
    return { items, nextCursor }
  })

  app.get('/txs/:hash', {
    schema: {
      tags: ['transactions'],
      summary: 'A transaction with its receipt data and logs; pending (mempool) transactions too',
      params: txHashParams,
      response: responses(txDetailSchema),
    },
  }, async (request) => {
    const { hash } = request.params as { hash: string }
    const bytes = hexToBytes(hash.toLowerCase() as `0x${string}`)
    const mined = ctx.view.minedTx(bytes)
    if (mined) return { ...txDetail(mined.tx, mined.mined, ctx.view.headHeight), poolStatus: null }
    const pending = ctx.mempool.get(bytes)
    if (pending) return { ...txDetail(pending.tx, undefined, ctx.view.headHeight), poolStatus: pending.status }
    throw notFound(`transaction ${hash} not found (neither in a canonical block nor in the mempool)`)
  })
}
