/** GET /v1/blocks (newest first, paginated) and GET /v1/blocks/:id (by height or hash). */
import { bytesToHex } from '@ethereumjs/util'
import type { FastifyInstance } from 'fastify'
import type { RestContext } from '../context.ts'
import { decodeHeight, encodeCursor } from '../cursor.ts'
import { notFound } from '../errors.ts'
import { blockTxSummaries } from '../format.ts'
import { blockDetailSchema, blockIdParams, blockSummarySchema, listOf, pageQuery, responses } from '../schemas.ts'

export function blockRoutes(app: FastifyInstance, ctx: RestContext): void {
  app.get('/blocks', {
    schema: {
      tags: ['blocks'],
      summary: 'Canonical blocks, newest first',
      querystring: pageQuery,
      response: responses(listOf(blockSummarySchema)),
    },
  }, async (request) => {
    const { limit, cursor } = request.query as { limit: number; cursor?: string }
    const head = ctx.view.headHeight
    const after = decodeHeight('blocks', cursor)
    let h = after === undefined ? head : BigInt(after) - 1n
    if (h > head) h = head
    const items = []
    for (; h >= 0n && items.length < limit; h--) {
      const s = ctx.view.summaryAt(h)
      if (s) items.push(s)
    }
    const last = items[items.length - 1]
    return { items, nextCursor: last && last.height > 0 ? encodeCursor('blocks', [last.height]) : null }
  })

  app.get('/blocks/:id', {
    schema: {
      tags: ['blocks'],
      summary: 'A block with its transactions, by height or hash',
      params: blockIdParams,
      response: responses(blockDetailSchema),
    },
  }, async (request) => {
    const { id } = request.params as { id: string }
    const found = ctx.view.resolveBlock(id)
    if (!found) throw notFound(`block ${id} not found (head is ${ctx.view.headHeight})`)
    const { hash, block } = found
    const h = block.header
    const canonical = ctx.chain.isCanonical(hash)
    const receipts = ctx.chain.getReceipts(hash) ?? []
    return {
      ...ctx.view.summary(hash, block)!,
      stateRoot: bytesToHex(h.stateRoot),
      txRoot: bytesToHex(h.txRoot),
      receiptsRoot: bytesToHex(h.receiptsRoot),
      extraData: bytesToHex(h.extraData),
      confirmations: canonical ? Number(ctx.view.headHeight - h.height + 1n) : 0,
      finalized: canonical && h.height <= ctx.view.finalized().height,
      transactions: blockTxSummaries(hash, block, receipts),
    }
  })
}
