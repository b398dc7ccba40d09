/** GET /v1/mempool (newest first, paginated) and GET /v1/peers (connected and banned peers). */
import { bytesToHex } from '@ethereumjs/util'
import type { FastifyInstance } from 'fastify'
import type { PoolEntry } from '../../../mempool/index.ts'
import type { RestContext } from '../context.ts'
import { cursorInt, decodeCursor, encodeCursor } from '../cursor.ts'
import { checksum } from '../format.ts'
import { mempoolSchema, pageQuery, peersSchema, responses } from '../schemas.ts'

/** Newest first; equal times by hash, so the order is total and pages never overlap. */
function newestFirst(a: PoolEntry, b: PoolEntry): number {
  return b.addedAt - a.addedAt || (a.hashHex < b.hashHex ? -1 : a.hashHex > b.hashHex ? 1 : 0)
}

export function networkRoutes(app: FastifyInstance, ctx: RestContext): void {
  app.get('/mempool', {
    schema: {
      tags: ['network'],
      summary: 'Transactions waiting for a block, newest first',
      querystring: pageQuery,
      response: responses(mempoolSchema),
    },
  }, async (request) => {
    const { limit, cursor } = request.query as { limit: number; cursor?: string }
    let entries = [...ctx.mempool.entries()].sort(newestFirst)
    if (cursor !== undefined) {
      const [t, h] = decodeCursor('mempool', cursor, 2)
      const after = { addedAt: cursorInt(t!, cursor), hashHex: `0x${h!.toLowerCase()}` }
      entries = entries.filter((e) => newestFirst(e, after as PoolEntry) > 0)
    }
    const page = entries.slice(0, limit)
    const last = page[page.length - 1]
    return {
      pending: ctx.mempool.pendingCount,
      queued: ctx.mempool.queuedCount,
      items: page.map((e) => ({
        hash: e.hashHex,
        from: checksum(e.sender.bytes),
        to: e.tx.to ? checksum(e.tx.to.bytes) : null,
        nonce: Number(e.nonce),
        value: e.tx.value.toString(),
        maxFeePerGas: e.feeCap.toString(),
        maxPriorityFeePerGas: e.tipCap.toString(),
        gasLimit: e.gasLimit.toString(),
        status: e.status,
        addedAt: e.addedAt,
      })),
      nextCursor: last && entries.length > limit ? encodeCursor('mempool', [last.addedAt, last.hashHex.slice(2)]) : null,
    }
  })

  app.get('/peers', {
    schema: {
      tags: ['network'],
      summary: 'Connected peers and the ban list',
      response: responses(peersSchema),
    },
  }, async () => {
    const network = ctx.network
    if (!network) return { items: [], banned: [] }
    return {
      items: network.peers().map((p) => ({
        id: p.peerId,
        addresses: [p.remoteAddr],
        direction: p.direction,
        height: Number(p.status.headHeight),
        headHash: bytesToHex(p.status.headHash),
        connectedAt: p.connectedAt,
        penalty: Math.round(p.penalty * 100) / 100,
      })),
      banned: network.bans().map((b) => ({ id: b.peerId, until: b.until, reason: b.reason })),
    }
  })
}
