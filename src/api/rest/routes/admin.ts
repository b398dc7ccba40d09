/**
 * Admin routes, behind an API key: ban and unban a peer, shut the node down. The key check
 * runs first (onRequest), so a caller without a key learns nothing about the input.
 */
import type { FastifyInstance } from 'fastify'
import type { RestContext } from '../context.ts'
import { RestError, badRequest } from '../errors.ts'
import { banBodySchema, banResultSchema, peerIdParams, responses, shutdownSchema } from '../schemas.ts'

const security: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKey: [] }]

export function adminRoutes(app: FastifyInstance, ctx: RestContext): void {
  const guard = ctx.keys.guard()
  const network = () => {
    if (!ctx.network) throw new RestError('UNAVAILABLE', 'networking is off on this node (start it with --p2p-port): there are no peers to ban')
    return ctx.network
  }
  /** Net errors for a malformed peer id become 400s. */
  const peerCall = <T>(fn: () => T): T => {
    try {
      return fn()
    } catch (err) {
      if ((err as { code?: string }).code === 'BAD_PEER_ID') throw badRequest((err as Error).message)
      throw err
    }
  }

  app.post('/admin/peers/:id/ban', {
    onRequest: guard,
    schema: {
      tags: ['admin'],
      summary: 'Ban a peer (disconnects it; it cannot reconnect until the ban ends)',
      security,
      params: peerIdParams,
      body: banBodySchema,
      response: responses(banResultSchema),
    },
  }, async (request) => {
    const { id } = request.params as { id: string }
    const body = (request.body ?? {}) as { reason?: string; durationMs?: number }
    const net = network()
    const entry = peerCall(() => net.ban(id, body.reason ?? 'banned by an operator (REST admin API)', body.durationMs))
    ctx.opts.logger.warn({ peer: id, until: entry.until, reason: entry.reason }, 'peer banned through the admin API')
    return { id: entry.peerId, banned: true, until: entry.until, reason: entry.reason }
  })

  app.delete('/admin/peers/:id/ban', {
    onRequest: guard,
    schema: {
      tags: ['admin'],
      summary: 'Lift a ban (and forgive the penalty points)',
      security,
      params: peerIdParams,
      response: responses(banResultSchema),
    },
  }, async (request) => {
    const { id } = request.params as { id: string }
    const net = network()
    const lifted = peerCall(() => net.unban(id))
    ctx.opts.logger.info({ peer: id, lifted }, 'peer ban lifted through the admin API')
    return { id, banned: false, until: null, reason: null, wasBanned: lifted }
  })

  app.post('/admin/shutdown', {
    onRequest: guard,
    schema: {
      tags: ['admin'],
      summary: 'Stop the node cleanly (answers first, then shuts down)',
      security,
      response: responses(shutdownSchema, 202),
    },
  }, async (request, reply) => {
    const shutdown = ctx.opts.shutdown
    if (!shutdown) throw new RestError('UNAVAILABLE', 'this node cannot be shut down through the API')
    ctx.opts.logger.warn({ ip: request.ip }, 'shutdown requested through the admin API')
    // Stop only once the answer is out: closing the server waits for in-flight requests.
    reply.raw.once('finish', () => setImmediate(() => void Promise.resolve().then(shutdown).catch((err) => ctx.opts.logger.error({ err }, 'shutdown failed'))))
    return reply.code(202).send({ stopping: true, message: 'the node is shutting down' })
  })
}
