/**
 * The HTTP side of the JSON-RPC server: a node:http server for Fastify (its `serverFactory`)
 * that answers JSON-RPC `POST /` itself and hands every other request to Fastify unchanged.
 *
 * Why: a JSON-RPC call is a small POST, and Fastify's per-request machinery (routing, hooks,
 * content-type parsing, reply serialisation, child logger) costs more CPU than the call itself.
 * The fast path keeps Fastify's wire behaviour for these requests byte for byte (status,
 * headers, error bodies, `connection: close` after 413). The Fastify route for POST / stays
 * as the fallback: for URL forms the fast path does not claim, for `app.inject`, and while the
 * server is closing (Fastify then answers 503). Note that app-level Fastify hooks added by
 * other modules do not see fast-path requests; CORS, the only one today, is applied here too.
 *
 * Also holds what both paths share: content-type checks, the 413/415 errors and CORS.
 */
import dns from 'node:dns'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { gzip, constants as zlib } from 'node:zlib'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance, FastifyServerFactory } from 'fastify'
import type { Logger } from 'pino'
import { internalError, invalidRequest, type RpcError } from './errors.ts'
import { timeoutOptions, type ConnectionLimiter, type HostCheck } from './http-guard.ts'
import { isRestUrl, restErrorText } from '../rest/errors.ts'

// Content types geth accepts for JSON-RPC over HTTP (parameters such as charset are ignored).
export const JSON_MEDIA_TYPES: ReadonlySet<string> = new Set(['application/json', 'application/json-rpc', 'application/jsonrequest'])
export const JSON_UTF8 = 'application/json; charset=utf-8'

/** 413 error; `declared` is the request's content-length (NaN or within the limit when unknown). */
export function bodyTooLarge(declared: number, limit: number): RpcError {
  const size = Number.isFinite(declared) && declared > limit ? `${declared} bytes` : `more than ${limit} bytes`
  return invalidRequest(`request body too large: ${size}, limit ${limit}`)
}

/** 415 error; names the type when it is well-formed but not JSON. */
export function unsupportedContentType(contentType?: string): RpcError {
  const named = contentType === undefined ? '' : ` ${JSON.stringify(contentType.slice(0, 100))}`
  return invalidRequest(`invalid content type${named}, only application/json is supported`)
}

/** Whether a content-type header names one of JSON_MEDIA_TYPES (any parameters ignored). */
export function isJsonContentType(contentType: string): boolean {
  return JSON_MEDIA_TYPES.has(contentType) || JSON_MEDIA_TYPES.has(contentType.split(';')[0]!.trim().toLowerCase())
}

const TYPE_TOKEN = /^[\w!#$%&'*+.^`|~-]+$/
const SUBTYPE_TOKEN = /^[\w!#$%&'*+.^`|~-]+\s*$/

/**
 * Fastify's own content-type syntax check (lib/content-type.js in fastify 5): it answers a
 * malformed header with 415 before reading the body, and so must the fast path.
 */
export function isWellFormedContentType(header: string): boolean {
  if (JSON_MEDIA_TYPES.has(header)) return true
  if (header === '' || header === 'undefined') return false
  const semi = header.indexOf(';')
  const media = (semi === -1 ? header : header.slice(0, semi)).toLowerCase()
  const slash = media.indexOf('/')
  if (slash === -1) return false
  return TYPE_TOKEN.test(media.slice(0, slash).trimStart()) && SUBTYPE_TOKEN.test(media.slice(slash + 1).trimEnd())
}

/** The access-control-allow-origin value for a request's Origin, or undefined for none. */
export type CorsCheck = (origin: string | undefined) => string | undefined

/** CORS for the listed origins only ('*' = any); undefined when no origins are configured. */
export function corsCheck(origins: string[] | undefined): CorsCheck | undefined {
  if (!origins || origins.length === 0) return undefined
  const anyOrigin = origins.includes('*')
  const allowed = new Set(origins)
  return (origin) => origin === undefined || (!anyOrigin && !allowed.has(origin)) ? undefined : anyOrigin ? '*' : origin
}

/**
 * CORS on Fastify's routes: the allow-origin header on responses to allowed origins, and
 * preflight (OPTIONS with Access-Control-Request-Method) answered with 204. Other origins get
 * no CORS headers, so browsers block them.
 */
export function installCors(app: FastifyInstance, check: CorsCheck): void {
  app.addHook('onRequest', async (request, reply) => {
    const allow = check(request.headers.origin)
    if (allow === undefined) return
    reply.header('access-control-allow-origin', allow)
    reply.header('vary', 'Origin')
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      const requested = request.headers['access-control-request-headers']
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS')
      reply.header('access-control-allow-headers', typeof requested === 'string' ? requested : 'content-type')
      reply.header('access-control-max-age', '600')
      return reply.code(204).send()
    }
  })
}

export interface RpcPostOptions {
  maxBodyBytes: number
  /** Runs one JSON-RPC payload from `client` (the remote address); null when there is nothing to answer. */
  dispatch: (body: string, client: string | undefined) => Promise<string | null>
  /** The response body for a transport-level error (id null). */
  errorBody: (err: RpcError) => string
  cors: CorsCheck | undefined
  logger: Logger
  /** True once the server is closing: requests then go to Fastify, which answers 503. */
  isClosing: () => boolean
  /** Host header check for every HTTP request on the port (see http-guard.ts). */
  hostAllowed: HostCheck
  limiter: ConnectionLimiter
  headersTimeoutMs: number
  requestTimeoutMs: number
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/**
 * A Fastify `serverFactory`: the node:http server Fastify would build, with JSON-RPC POST /
 * answered directly, and with the port's guards: header and body timeouts (Fastify's default
 * of none would let half-sent requests stay forever), a per-address connection limit and the
 * Host check. Upgrades (WebSocket) stay on the server's 'upgrade' event, which Fastify's
 * websocket plugin listens to (their Origin is checked in a Fastify hook, see server.ts).
 */
export function rpcServerFactory(o: RpcPostOptions): FastifyServerFactory {
  return (fastifyHandler, fastifyOpts) => {
    const fallback = fastifyHandler as Handler
    const server = createServer({ ...(fastifyOpts.http as object | undefined), ...timeoutOptions(o) }, (req, res) => {
      if (!o.hostAllowed(req.headers.host)) refuseHost(req, res)
      else if (req.method === 'POST' && isRootUrl(req.url) && !o.isClosing()) servePost(o, req, res, server)
      else fallback(req, res)
    })
    // As fastify's getServerInstance does for its own server (fastify 5 default: 72 s).
    server.keepAliveTimeout = fastifyOpts.keepAliveTimeout as number
    server.setTimeout(fastifyOpts.connectionTimeout as number)
    const perSocket = fastifyOpts.maxRequestsPerSocket as number | null | undefined
    if (perSocket != null && perSocket > 0) server.maxRequestsPerSocket = perSocket
    o.limiter.attach(server)
    return server
  }
}

/** 403 for a Host that is not ours (DNS rebinding): REST's error shape under /v1, JSON-RPC's elsewhere. */
function refuseHost(req: IncomingMessage, res: ServerResponse): void {
  const message = 'invalid host specified: add it to --rpc-vhosts to serve this name'
  const body = isRestUrl(req.url ?? '') ? restErrorText(403, message) : JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message } })
  // The body may still be arriving; the connection is not reused.
  reply(res, 403, body, undefined, true)
}

/** Exactly what Fastify's route '/' matches in origin form: "/" with an optional query. */
function isRootUrl(url: string | undefined): boolean {
  return url === '/' || (url !== undefined && url.startsWith('/?'))
}

/**
 * Fastify's order: a malformed content type is refused before the body is read; the body is
 * read up to maxBodyBytes (past it: 413 and the connection is closed, as the client may still
 * be sending); only then is a well-formed non-JSON type refused.
 */
function servePost(o: RpcPostOptions, req: IncomingMessage, res: ServerResponse, server: Server): void {
  const allow = o.cors?.(req.headers.origin)
  const contentType = req.headers['content-type']
  if (contentType !== undefined && !isWellFormedContentType(contentType)) {
    return reply(res, 415, o.errorBody(unsupportedContentType()), allow, false)
  }
  const limit = o.maxBodyBytes
  const declared = Number(req.headers['content-length'])
  if (declared > limit) return reply(res, 413, o.errorBody(bodyTooLarge(declared, limit)), allow, true)

  // Listeners stay attached (removing them costs more than ignoring late events). No 'error'
  // listener: an aborted request then emits no error, just never ends, and is not answered.
  let chunks: Buffer[] = []
  let received = 0
  let answered = false
  req.on('data', (chunk: Buffer) => {
    if (answered) return // past the limit: the rest is dropped until the connection closes
    received += chunk.length
    if (received <= limit) {
      chunks.push(chunk)
      return
    }
    answered = true
    chunks = []
    reply(res, 413, o.errorBody(bodyTooLarge(Number.NaN, limit)), allow, true)
  })
  req.on('end', () => {
    if (answered) return
    answered = true
    // Decoded once, so multi-byte characters split across chunks stay intact.
    const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, received).toString('utf8')
    if (contentType !== undefined && !isJsonContentType(contentType)) {
      return reply(res, 415, o.errorBody(unsupportedContentType(contentType)), allow, false)
    }
    o.dispatch(body, req.socket.remoteAddress).then(
      (out) => {
        if (out !== null && out.length >= GZIP_FROM_BYTES && acceptsGzip(req)) replyGzipped(res, out, allow)
        else reply(res, out === null ? 204 : 200, out, allow, false)
        // An answer that completes after close() began: close() reaped idle sockets only when it
        // started, so this keep-alive socket would hold it open until the client drops it. A
        // request already pipelined behind it is still answered (Fastify's 503).
        if (o.isClosing()) res.once('finish', () => setImmediate(() => server.closeIdleConnections()))
      },
      (err: unknown) => {
        o.logger.error({ err }, 'JSON-RPC HTTP request failed')
        reply(res, 500, o.errorBody(internalError()), allow, false)
      },
    )
  })
}

/**
 * Large answers (header ranges, proofs, receipts) go gzipped to clients that accept it, as
 * geth's HTTP server does: hex JSON shrinks 3-10x. The compression runs on libuv's thread pool,
 * not the main thread, at the fastest level; small answers are not worth it.
 */
const GZIP_FROM_BYTES = 16 * 1024

/** Whether Accept-Encoding names gzip (or *) with a non-zero quality. */
export function acceptsGzip(req: Pick<IncomingMessage, 'headers'>): boolean {
  const accept = req.headers['accept-encoding']
  if (typeof accept !== 'string' || accept.length > 256) return false
  return accept.split(',').some((item) => {
    const [name, ...params] = item.split(';').map((p) => p.trim().toLowerCase())
    if (name !== 'gzip' && name !== '*') return false
    const q = params.find((p) => p.startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  })
}

function replyGzipped(res: ServerResponse, body: string, allow: string | undefined): void {
  gzip(body, { level: zlib.Z_BEST_SPEED }, (err, zipped) => {
    if (err) return reply(res, 200, body, allow, false)
    const headers: string[] = []
    if (allow !== undefined) headers.push('access-control-allow-origin', allow, 'vary', 'Origin, Accept-Encoding')
    else headers.push('vary', 'Accept-Encoding')
    headers.push('content-type', JSON_UTF8, 'content-encoding', 'gzip', 'content-length', String(zipped.length))
    try {
      res.writeHead(200, headers).end(zipped)
    } catch (e) {
      res.destroy(e as Error)
    }
  })
}

/** One writeHead and one end: headers and body leave in a single write. Never throws. */
function reply(res: ServerResponse, status: number, body: string | null, allow: string | undefined, close: boolean): void {
  const headers: string[] = []
  if (allow !== undefined) headers.push('access-control-allow-origin', allow, 'vary', 'Origin')
  if (close) headers.push('connection', 'close')
  try {
    if (body === null) {
      res.writeHead(status, headers).end()
      return
    }
    headers.push('content-type', JSON_UTF8, 'content-length', String(Buffer.byteLength(body)))
    res.writeHead(status, headers).end(body)
  } catch (err) {
    res.destroy(err as Error)
  }
}

/**
 * Fastify listens on every address 'localhost' resolves to (e.g. 127.0.0.1 and ::1), but not
 * when it is given a serverFactory; this binds the others, forwarding requests and upgrades to
 * `main`. Addresses that cannot be bound are skipped, as Fastify does. Returns the new servers.
 */
export async function listenOtherLocalhostAddresses(
  main: Server,
  guard: Pick<RpcPostOptions, 'limiter' | 'headersTimeoutMs' | 'requestTimeoutMs'>,
): Promise<Server[]> {
  const { address: primary, port } = main.address() as AddressInfo
  const found = await dns.promises.lookup('localhost', { all: true }).catch(() => [])
  const extra: Server[] = []
  for (const { address } of found) {
    if (address === primary) continue
    const server = createServer(timeoutOptions(guard), (req, res) => main.emit('request', req, res))
    server.keepAliveTimeout = main.keepAliveTimeout
    server.maxRequestsPerSocket = main.maxRequestsPerSocket
    server.setTimeout(main.timeout)
    guard.limiter.attach(server)
    server.on('upgrade', (...args: unknown[]) => main.emit('upgrade', ...args))
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(port, address, () => resolve(true))
    })
    if (bound) extra.push(server)
  }
  return extra
}
