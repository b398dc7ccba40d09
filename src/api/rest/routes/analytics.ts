/** GET /v1/producers, /v1/analytics/blocks, /v1/analytics/summary and /v1/alerts. */
import type { FastifyInstance } from 'fastify'
import type { RestContext } from '../context.ts'
import { currentAlerts, DEFAULT_WINDOW, producerStats, summary } from '../insights.ts'
import { alertsSchema, analyticsBlocksSchema, producersSchema, responses, summarySchema, windowQuery } from '../schemas.ts'

export const MAX_PRODUCER_WINDOW = 10_000
export const MAX_SERIES = 1000

export function analyticsRoutes(app: FastifyInstance, ctx: RestContext): void {
  app.get('/producers', {
    schema: {
      tags: ['analytics'],
      summary: 'Block producers (validators, miners or the dev producer) and their shares',
      description: 'Validators: voting power in force for the next block plus blocks proposed in the window. Miners: the share of blocks in the window estimates the share of hashrate.',
      querystring: windowQuery('window', DEFAULT_WINDOW, MAX_PRODUCER_WINDOW),
      response: responses(producersSchema),
    },
  }, async (request) => producerStats(ctx, (request.query as { window: number }).window).json)

  app.get('/analytics/blocks', {
    schema: {
      tags: ['analytics'],
      summary: 'The last blocks as a series, oldest first, with the time since each parent',
      querystring: windowQuery('count', 100, MAX_SERIES),
      response: responses(analyticsBlocksSchema),
    },
  }, async (request) => {
    const { count } = request.query as { count: number }
    const head = ctx.view.headHeight
    const from = head - BigInt(count) + 1n > 0n ? head - BigInt(count) + 1n : 0n
    let parent = from > 0n ? ctx.view.summaryAt(from - 1n) : undefined
    const items = []
    for (let h = from; h <= head; h++) {
      const s = ctx.view.summaryAt(h)
      if (!s) continue
      items.push({ ...s, blockTime: parent ? s.timestamp - parent.timestamp : null })
      parent = s
    }
    return { items }
  })

  app.get('/analytics/summary', {
    schema: {
      tags: ['analytics'],
      summary: 'Throughput, block times, producer concentration, reorgs and finality lag',
      querystring: windowQuery('window', DEFAULT_WINDOW, MAX_SERIES),
      response: responses(summarySchema),
    },
  }, async (request) => summary(ctx, (request.query as { window: number }).window))

  app.get('/alerts', {
    schema: {
      tags: ['analytics'],
      summary: 'Security alerts that hold now',
      description: 'concentration (PoW: a miner at >= 40% warning, > 50% critical, the top two above 50% warning; BFT/PoS: a validator with >= 1/3 of the voting power, critical), double-vote (slashable evidence in a committed block), deep-reorg (deeper than half the safe depth: warning; than the safe depth: critical), rejected-tx-burst and peer-ban-burst (counts over a sliding window).',
      response: responses(alertsSchema),
    },
  }, async () => ({ items: currentAlerts(ctx) }))
}
