/**
 * Catena's REST API: read-only chain data, analytics and security alerts under /v1, admin
 * routes behind an API key, an OpenAPI 3 document at /openapi.json and Swagger UI at /docs,
 * on the node's JSON-RPC port (see README "REST API").
 *
 * `registerRestApi` adds to the node's Fastify app, before it listens:
 *  - @fastify/swagger at the root, so every route registered after it (the /v1 routes here
 *    and those other surfaces add later, e.g. metrics and health) lands in the document;
 *    JSON-RPC (POST / and the WebSocket on GET /) is registered before it and stays out;
 *  - @fastify/swagger-ui at /docs;
 *  - @fastify/rate-limit per client IP for /v1 (requests with a valid API key are exempt);
 *  - the /v1 routes in one scope with the REST error shape for every error.
 * @module
 */
import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import rateLimit from '@fastify/rate-limit'
import { AlertBook, DEFAULT_THRESHOLDS } from './alerts.ts'
import { ApiKeys } from './auth.ts'
import { consensusView } from './consensus-view.ts'
import type { RestApiOptions, RestContext } from './context.ts'
import { REST_PREFIX, RestError, formatValidationErrors, isRestUrl, restErrorHandler } from './errors.ts'
import { ChainMonitor } from './monitor.ts'
import { strictIntegerQuery } from './query.ts'
import { accountRoutes } from './routes/accounts.ts'
import { adminRoutes } from './routes/admin.ts'
import { analyticsRoutes } from './routes/analytics.ts'
import { blockRoutes } from './routes/blocks.ts'
import { chainRoutes } from './routes/chain.ts'
import { networkRoutes } from './routes/network.ts'
import { pohRoutes } from './routes/poh.ts'
import { txRoutes } from './routes/txs.ts'
import { ChainView } from './view.ts'

export { loadApiKeys, ApiKeyError, ApiKeys, API_KEY_ENV, MIN_API_KEY_LENGTH } from './auth.ts'
export { RestError, REST_PREFIX, isRestUrl } from './errors.ts'
export type { RestApiOptions, RestContext, PeerNetwork } from './context.ts'
export type { AlertJSON, AlertThresholds } from './alerts.ts'

export const RATE_LIMIT_ENV = 'CATENA_REST_RATE_LIMIT'
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600

/** The per-minute limit: the option, else CATENA_REST_RATE_LIMIT, else the default. */
export function rateLimitFrom(option: number | undefined, env: string | undefined): number {
  if (option !== undefined) {
    if (!Number.isSafeInteger(option) || option < 0) throw new RangeError(`the REST rate limit must be a non-negative integer (got ${option})`)
    return option
  }
  if (env === undefined || env.trim() === '') return DEFAULT_RATE_LIMIT_PER_MINUTE
  if (!/^\d+$/.test(env.trim())) throw new RangeError(`${RATE_LIMIT_ENV} must be a non-negative integer of requests per minute (got ${JSON.stringify(env)})`)
  return Number(env.trim())
}

export async function registerRestApi(app: FastifyInstance, opts: RestApiOptions): Promise<RestContext> {
  const log = opts.logger
  const consensus = await consensusView(opts.chain.spec, opts.engine)
  const now = opts.now ?? Date.now
  const monitor = new ChainMonitor({
    chain: opts.chain,
    consensus,
    mempool: opts.mempool,
    ...(opts.network ? { network: opts.network } : {}),
    thresholds: { ...DEFAULT_THRESHOLDS, ...opts.thresholds },
    now,
  })
  const keys = new ApiKeys(opts.apiKeys ?? [])
  const ctx: RestContext = {
    opts,
    chain: opts.chain,
    mempool: opts.mempool,
    ...(opts.network ? { network: opts.network } : {}),
    view: new ChainView(opts.chain, consensus),
    consensus,
    monitor,
    alerts: new AlertBook(),
    keys,
    now,
  }
  const perMinute = rateLimitFrom(opts.rateLimitPerMinute, process.env[RATE_LIMIT_ENV])

  // Not awaited: plugins load in registration order at listen(), so hooks that other surfaces
  // add to the root later still reach every scope.
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Catena REST API',
        version: '1.0.0',
        description:
          'Chain data, analytics and security alerts of a Catena node under /v1. Numbers that can exceed 2^53 (wei, gas, fees, power, work) are decimal strings. ' +
          'Lists are paginated with ?limit= and an opaque ?cursor= (the nextCursor of the previous page). Errors are { "error": { "code", "message" } }. ' +
          'The same port serves Ethereum JSON-RPC 2.0 (POST /) and JSON-RPC over WebSocket (GET / upgrade, eth_subscribe), not described here.',
      },
      tags: [
        { name: 'chain', description: 'What chain this is' },
        { name: 'blocks' },
        { name: 'transactions' },
        { name: 'accounts' },
        { name: 'network', description: 'Mempool and peers' },
        { name: 'analytics', description: 'Producers, block series, reorgs, alerts' },
        { name: 'poh', description: 'Proof of History chains (engine poh, e.g. solana-like): slots, entries, the clock, leaders' },
        { name: 'admin', description: 'Needs an API key' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
    },
    // Routes outside /v1 without a schema (static files, JSON-RPC) are not API operations.
    transform: ({ schema, url }) => {
      const bare = !schema || Object.keys(schema).length === 0
      return isRestUrl(url) || !bare ? { schema, url } : { schema: { ...(schema ?? {}), hide: true }, url }
    },
  })
  void app.register(swaggerUi, { routePrefix: '/docs' })
  void app.register(async (scope) => {
    scope.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  })

  if (perMinute > 0) {
    void app.register(rateLimit, {
      global: true,
      max: perMinute,
      timeWindow: 60_000,
      // Only /v1 is limited here; holders of an API key are trusted callers.
      allowList: (request) => !isRestUrl(request.url) || keys.authorizes(request),
      errorResponseBuilder: (_request, context) =>
        new RestError('RATE_LIMITED', `rate limit exceeded: at most ${context.max} requests per minute per client; retry in ${context.after}`),
    })
  }

  void app.register(async (scope) => {
    scope.setSchemaErrorFormatter((errors, dataVar) => formatValidationErrors(errors, dataVar))
    scope.setErrorHandler(restErrorHandler(log))
    scope.addHook('preValidation', strictIntegerQuery)
    scope.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0]!.slice(0, 200)
      return reply.code(404).send(new RestError('NOT_FOUND', `no route ${request.method} ${path} (see /openapi.json or /docs)`).toJSON())
    })
    chainRoutes(scope, ctx)
    blockRoutes(scope, ctx)
    pohRoutes(scope, ctx)
    txRoutes(scope, ctx)
    accountRoutes(scope, ctx)
    networkRoutes(scope, ctx)
    analyticsRoutes(scope, ctx)
    adminRoutes(scope, ctx)
  }, { prefix: REST_PREFIX })

  monitor.start()
  app.addHook('onClose', async () => monitor.stop())
  log.debug({ rateLimitPerMinute: perMinute, adminKeys: keys.configured }, 'REST API registered')
  return ctx
}
