/**
 * PoH chains: GET /v1/blocks/:id/poh (a block's PoH entries, to re-check without Catena's code),
 * /v1/poh/status (slot, leader, clock and confirmation levels) and /v1/poh/schedule (leaders of
 * an epoch). On other chains they answer 404 NOT_FOUND saying the chain has no PoH.
 */
import type { FastifyInstance } from 'fastify'
import type { RestContext } from '../context.ts'
import { notFound } from '../errors.ts'
import type { PohView } from '../poh-view.ts'
import { blockIdParams, blockPohSchema, epochQuery, pohScheduleSchema, pohStatusSchema, responses } from '../schemas.ts'

const ONLY_POH = 'PoH chains only (engine "poh", e.g. the solana-like preset); answers 404 NOT_FOUND elsewhere.'

export function pohRoutes(app: FastifyInstance, ctx: RestContext): void {
  const poh = (): PohView => {
    if (ctx.consensus.poh) return ctx.consensus.poh
    throw notFound(`this chain has no Proof of History: its engine is "${ctx.chain.spec.engine.type}" (PoH routes serve chains with engine "poh", e.g. the solana-like preset)`)
  }

  app.get('/blocks/:id/poh', {
    schema: {
      tags: ['blocks', 'poh'],
      summary: 'A block\'s Proof of History entries, to re-check its slot with plain SHA-256',
      description:
        'Start from startHash; for each entry hash h = sha256(h) numHashes times, but when the entry has txHashes the last of those is h = sha256(h || root), root the RFC 6962 Merkle root ' +
        'of txHashes (leaf = sha256(0x00 || txHash), node = sha256(0x01 || left || right)); each result must equal the entry\'s hash, and the last one endHash. ' +
        `Genesis has no entries (404): block 1 starts from the genesis hash. ${ONLY_POH}`,
      params: blockIdParams,
      response: responses(blockPohSchema),
    },
  }, async (request) => {
    const view = poh()
    const { id } = request.params as { id: string }
    const found = ctx.view.resolveBlock(id)
    if (!found) throw notFound(`block ${id} not found (head is ${ctx.view.headHeight})`)
    const json = view.blockPoh(found.block)
    if (!json) throw notFound('block 0 is the genesis block: it has no PoH entries (block 1 starts from the genesis hash)')
    return json
  })

  app.get('/poh/status', {
    schema: {
      tags: ['poh'],
      summary: 'The PoH clock, the current slot and leader, and the processed / confirmed / finalized heights',
      description: ONLY_POH,
      response: responses(pohStatusSchema),
    },
  }, async () => {
    const status = await poh().status()
    const head = ctx.view.headHeight
    return {
      ...status,
      heights: {
        processed: Number(head),
        confirmed: Number(ctx.consensus.safeHeight(head)),
        finalized: Number(ctx.consensus.finalizedHeight(head)),
      },
    }
  })

  app.get('/poh/schedule', {
    schema: {
      tags: ['poh'],
      summary: 'The leader schedule of an epoch (default: the head\'s), drawn by stake',
      description: ONLY_POH,
      querystring: epochQuery,
      response: responses(pohScheduleSchema),
    },
  }, async (request) => poh().schedule((request.query as { epoch?: number }).epoch))
}
