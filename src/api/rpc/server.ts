/**
 * Catena's JSON-RPC 2.0 server: HTTP POST and WebSocket on one port (Fastify +
 * @fastify/websocket), with eth_subscribe / eth_unsubscribe served from a SubscriptionHub.
 *
 * Wire behaviour follows the JSON-RPC 2.0 spec and geth: malformed JSON is an HTTP 200 with
 * a -32700 body, invalid entries get -32600, notifications get no response (HTTP 204 when
 * nothing is left to send), batches run concurrently and answer in order. No input crashes
 * the node: every failure becomes a JSON-RPC error, and handler crashes become -32603 with
 * the stack in the log only.
 *
 * The Fastify instance is exposed so REST, metrics and the explorer can add routes on the
 * same port; the JSON-RPC routes live in their own encapsulated scope (own body parser and
 * error handler), so they do not change how other routes parse bodies or report errors.
 * JSON-RPC POST / is answered before Fastify by the node:http server from http-post.ts, with
 * the same wire behaviour; the Fastify route below serves what that fast path hands over.
 *
 * Clients are hostile (http-guard.ts): every request on the port has header and body time
 * limits, a per-address connection cap and a Host check; WebSocket handshakes an Origin check;
 * and the heavy methods of one request or batch share one time budget (work-budget.ts).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import websocket from '@fastify/websocket'
import type { RawData, WebSocket } from 'ws'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import type { Logger } from 'pino'
import {
  RpcError, RpcErrorCode, internalError, invalidParams, invalidRequest, methodNotFound, parseError, toRpcError,
} from './errors.ts'
import { expectParams } from './params.ts'
import {
  JSON_UTF8, bodyTooLarge, corsCheck, installCors, isJsonContentType, listenOtherLocalhostAddresses, rpcServerFactory,
  unsupportedContentType,
} from './http-post.ts'
import type { SubscriptionHub, SubscriptionSink } from './subscriptions.ts'
import { isRestUrl, restErrorText } from '../rest/errors.ts'
import { ClientSlots, DEFAULT_WORK_BUDGET, WorkBudget, type WorkBudgetOptions } from './work-budget.ts'
import {
  ConnectionLimiter, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS_PER_IP, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_VHOSTS, hostCheck,
  originCheck,
} from './http-guard.ts'

/** Where a request came from; `connectionId` identifies a WebSocket connection. */
export interface RpcContext {
  transport: 'http' | 'ws'
  connectionId?: string
  /** The client's address (HTTP and WebSocket). */
  client?: string
  /** The time and concurrency heavy methods of this payload share (see work-budget.ts). */
  budget?: WorkBudget
}

/**
 * A method implementation. Gets the positional params (an empty array when none were sent)
 * and returns a JSON-ready value (undefined is sent as null). Throw an RpcError to send that
 * error; any other throw is logged and sent as -32603.
 */
export type RpcHandler = (params: unknown[], ctx: RpcContext) => unknown | Promise<unknown>

/** Metrics hook: `method` is 'unknown_method' for names that are not served. */
export type RequestObserver = (method: string, ms: number, ok: boolean) => void

export interface RpcServerOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string
  /** TCP port; 0 picks a free one (default 0). */
  port?: number
  /** Method name -> handler. */
  methods: Record<string, RpcHandler>
  /** Enables eth_subscribe / eth_unsubscribe over WebSocket. */
  hub?: SubscriptionHub
  /** Largest HTTP body / WebSocket message accepted (default 5 MiB). */
  maxBodyBytes?: number
  /** Largest batch accepted (default 1000 entries). */
  maxBatch?: number
  /** Origins allowed by CORS ('*' for any). Default: none, and no CORS headers at all. */
  cors?: string[]
  logger: Logger
  /** Called once per executed request entry: method (or 'unknown_method'), duration, success. */
  onRequest?: RequestObserver
  /**
   * Maps errors that are not RpcErrors (e.g. typed domain errors from the mempool) to the
   * RpcError to send. Return undefined to fall back to a logged -32603.
   */
  mapError?: (err: unknown) => RpcError | undefined
  /** A WebSocket whose unsent data exceeds this is closed as too slow (default 16 MiB). */
  wsMaxBufferedBytes?: number
  /** Time and concurrency for the heavy work (calls) of one request or batch (default 5 s, 2 at a time). */
  workBudget?: WorkBudgetOptions
  /** Host names served besides IP literals (default ['localhost']; '*' = any): see http-guard.ts. */
  vhosts?: string[]
  /** Browser origins accepted for WebSocket handshakes besides localhost pages ('*' = any; default none). */
  wsOrigins?: string[]
  /** Open connections per remote address (default 128; 0 = no limit). */
  maxConnectionsPerIp?: number
  /** Time to receive a request's headers / the whole request, in ms (defaults 10 s / 30 s). */
  headersTimeoutMs?: number
  requestTimeoutMs?: number
}

/** Handles plain (non-WebSocket) GET / — replaceable by the explorer. */
export type RootGetHandler = (request: FastifyRequest, reply: FastifyReply) => unknown

export interface RpcServer {
  /** The Fastify instance: add REST / explorer routes here before `listen()`. */
  readonly app: FastifyInstance
  /** Starts listening; resolves with the HTTP and WebSocket URLs. */
  listen(): Promise<{ url: string; wsUrl: string }>
  /** Closes WebSockets (1001) and the HTTP server. */
  close(): Promise<void>
  /** Replaces the handler for a plain GET / (WebSocket upgrades on / are unaffected). */
  setRootGetHandler(handler: RootGetHandler): void
  /** Runs one JSON-RPC payload in-process; null when there is nothing to answer. */
  handle(body: string, ctx?: RpcContext): Promise<string | null>
}

export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
export const DEFAULT_MAX_BATCH = 1000
const DEFAULT_WS_MAX_BUFFERED = 16 * 1024 * 1024

const defaultRootGet: RootGetHandler = () => ({
  name: 'catena',
  service: 'json-rpc',
  message: "This is Catena's JSON-RPC 2.0 endpoint: POST JSON-RPC requests to this URL, or open a WebSocket here (eth_subscribe).",
})

export function createRpcServer(opts: RpcServerOptions): RpcServer {
  const host = opts.host ?? '127.0.0.1'
  const port = opts.port ?? 0
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const wsMaxBuffered = opts.wsMaxBufferedBytes ?? DEFAULT_WS_MAX_BUFFERED
  const logger = opts.logger
  const hub = opts.hub
  const dispatcher = new Dispatcher({
    methods: opts.methods,
    hub,
    logger,
    maxBatch: opts.maxBatch ?? DEFAULT_MAX_BATCH,
    workBudget: opts.workBudget ?? DEFAULT_WORK_BUDGET,
    onRequest: opts.onRequest,
    mapError: opts.mapError,
  })
  let rootGet = defaultRootGet
  let nextConnection = 0
  let closing = false
  // Servers for the other addresses of 'localhost' (see listenOtherLocalhostAddresses).
  let siblings: Server[] = []
  const cors = corsCheck(opts.cors)
  const guard = {
    hostAllowed: hostCheck(opts.vhosts ?? DEFAULT_VHOSTS),
    limiter: new ConnectionLimiter(opts.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP),
    headersTimeoutMs: opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  }
  const originAllowed = originCheck(opts.wsOrigins ?? [])

  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Bad URL encoding or a path parameter past maxParamLength: answered before any route runs,
    // so REST's error shape is applied here for /v1.
    frameworkErrors: (err, request, reply) => {
      const status = err.statusCode ?? 400
      const out = reply as FastifyReply
      if (!isRestUrl(request.url)) return out.code(status).send(err)
      const message = err.message.length > 200 ? `${err.message.slice(0, 200)}...` : err.message
      return out.code(status).header('content-type', JSON_UTF8).send(restErrorText(status, message))
    },
    serverFactory: rpcServerFactory({
      maxBodyBytes,
      dispatch: (body, client) => dispatcher.handleText(body, { ctx: { transport: 'http', client } }),
      errorBody: (err) => encodeError(null, err),
      cors,
      logger,
      isClosing: () => closing,
      ...guard,
    }),
  })
  // From here on Fastify answers 503 to new requests; the fast path leaves them to it.
  app.addHook('preClose', (done) => { closing = true; done() })
  if (cors) installCors(app, cors)

  app.register(websocket, {
    // Messages between maxBodyBytes and this hard cap get a JSON-RPC error and the socket
    // stays open; past the cap ws closes the socket (1009) without buffering the message.
    options: { maxPayload: maxBodyBytes * 2 },
    errorHandler: (err, socket) => {
      logger.debug({ err }, 'WebSocket error')
      socket.terminate()
    },
    preClose(done) {
      const wss = this.websocketServer
      for (const client of wss.clients) client.close(1001, 'server shutting down')
      // Clients that never answer the close handshake are cut off so close() cannot hang.
      setTimeout(() => { for (const client of wss.clients) client.terminate() }, 1000).unref()
      wss.close()
      done()
    },
  })

  app.register(async (scope) => {
    // Our own body handling: every content type is read as text up to maxBodyBytes, so bad
    // JSON becomes a -32700 response, never Fastify's 400.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxBodyBytes }, (_req, body, done) => {
      done(null, body)
    })
    scope.setErrorHandler((err: Error & { code?: string; statusCode?: number }, request, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return sendError(reply, 413, bodyTooLarge(Number(request.headers['content-length']), maxBodyBytes))
      }
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, 415, unsupportedContentType())
      const status = err.statusCode ?? 500
      if (status >= 400 && status < 500) return sendError(reply, status, parseError(`bad request: ${err.message}`))
      logger.error({ err }, 'JSON-RPC HTTP request failed')
      return sendError(reply, 500, internalError())
    })

    scope.post('/', async (request, reply) => {
      const contentType = request.headers['content-type']
      if (contentType !== undefined && !isJsonContentType(contentType)) {
        return sendError(reply, 415, unsupportedContentType(contentType))
      }
      const body = typeof request.body === 'string' ? request.body : ''
      const out = await dispatcher.handleText(body, { ctx: { transport: 'http', client: request.socket.remoteAddress } })
      if (out === null) return reply.code(204).send()
      return reply.header('content-type', JSON_UTF8).send(out)
    })

    scope.route({
      method: 'GET',
      url: '/',
      // A web page may open a WebSocket to any address: only listed (and localhost) origins get
      // one. A route hook, so the websocket plugin's own hooks still close a refused socket.
      onRequest: async (request, reply) => {
        if (!(request as { ws?: boolean }).ws || originAllowed(request.headers.origin)) return
        logger.debug({ origin: request.headers.origin }, 'WebSocket handshake from a foreign origin refused')
        return sendError(reply, 403, invalidRequest(`origin ${JSON.stringify(request.headers.origin)} not allowed: add it to --ws-origins`))
      },
      handler: (request, reply) => rootGet(request, reply),
      wsHandler: (socket, request) => serveSocket(socket, `ws-${++nextConnection}`, request.socket.remoteAddress),
    })
  })

  function serveSocket(socket: WebSocket, connectionId: string, client: string | undefined): void {
    // While a message with eth_subscribe is being answered, notifications are held back so
    // the client always sees the subscription id before the first notification for it.
    let holds = 0
    let heldBytes = 0
    const held: string[] = []
    const write = (text: string): void => {
      if (socket.readyState !== socket.OPEN) return
      if (socket.bufferedAmount > wsMaxBuffered) {
        logger.warn({ connectionId, buffered: socket.bufferedAmount }, 'WebSocket client too slow; closing it')
        socket.terminate()
        return
      }
      socket.send(text)
    }
    const sink: SubscriptionSink = {
      connectionId,
      send: (text) => {
        if (holds === 0) return write(text)
        held.push(text)
        heldBytes += text.length
        // Held notifications count against the same budget as the socket's send buffer.
        if (heldBytes > wsMaxBuffered) {
          logger.warn({ connectionId, heldBytes }, 'WebSocket client too slow; closing it')
          held.length = 0
          socket.terminate()
        }
      },
    }
    const session = { ctx: { transport: 'ws' as const, connectionId, client }, sink }

    socket.on('message', (data: RawData) => {
      const size = byteLength(data)
      if (size > maxBodyBytes) {
        write(encodeError(null, invalidRequest(`request too large: ${size} bytes, limit ${maxBodyBytes}`)))
        return
      }
      const text = rawToString(data)
      const holding = hub !== undefined && text.includes('eth_subscribe')
      if (holding) holds++
      dispatcher.handleText(text, session)
        .then((out) => { if (out !== null) write(out) })
        .catch((err: unknown) => logger.error({ err, connectionId }, 'WebSocket dispatch failed'))
        .finally(() => {
          if (!holding || --holds > 0) return
          heldBytes = 0
          for (const text of held.splice(0)) write(text)
        })
    })
    socket.on('close', () => {
      held.length = 0
      hub?.removeConnection(connectionId)
    })
  }

  return {
    app,
    async listen() {
      await app.listen({ host, port })
      if (host === 'localhost') siblings = await listenOtherLocalhostAddresses(app.server, guard)
      const addr = app.server.address() as AddressInfo
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
      return { url: `http://${h}:${addr.port}`, wsUrl: `ws://${h}:${addr.port}` }
    },
    async close() {
      const others = siblings.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
      await Promise.all([app.close(), ...others])
    },
    setRootGetHandler(handler) {
      rootGet = handler
    },
    handle(body, ctx = { transport: 'http' }) {
      return dispatcher.handleText(body, { ctx })
    },
  }
}

type Id = string | number | null

interface Session {
  ctx: RpcContext
  /** Present on WebSocket connections: where subscription notifications go. */
  sink?: SubscriptionSink
}

interface DispatcherOptions {
  methods: Record<string, RpcHandler>
  hub: SubscriptionHub | undefined
  logger: Logger
  maxBatch: number
  workBudget: WorkBudgetOptions
  onRequest: RequestObserver | undefined
  mapError: ((err: unknown) => RpcError | undefined) | undefined
}

/** Transport-independent JSON-RPC 2.0 processing: text in, response text (or null) out. */
class Dispatcher {
  private readonly clients: ClientSlots

  constructor(private readonly o: DispatcherOptions) {
    this.clients = new ClientSlots(o.workBudget.perClient ?? DEFAULT_WORK_BUDGET.perClient ?? 0)
  }

  /** Never rejects. Returns null when there is nothing to send (notifications only). */
  async handleText(text: string, connection: Session): Promise<string | null> {
    let payload: unknown
    try {
      payload = JSON.parse(text)
    } catch (err) {
      return encodeError(null, parseError(`parse error: ${(err as Error).message}`))
    }
    // One budget per payload: every entry of a batch shares it.
    const session: Session = { ...connection, ctx: { ...connection.ctx, budget: new WorkBudget(this.o.workBudget, this.clients, connection.ctx.client) } }
    try {
      if (!Array.isArray(payload)) return await this.handleEntry(payload, session)
      if (payload.length === 0) return encodeError(null, invalidRequest('empty batch'))
      if (payload.length > this.o.maxBatch) {
        return encodeError(null, invalidRequest(`batch too large: ${payload.length} requests, limit ${this.o.maxBatch}`))
      }
      const parts = await Promise.all(payload.map((entry) => this.handleEntry(entry, session)))
      const answered = parts.filter((p): p is string => p !== null)
      return answered.length === 0 ? null : `[${answered.join(',')}]`
    } catch (err) {
      this.o.logger.error({ err }, 'JSON-RPC dispatch failed')
      return encodeError(null, internalError())
    }
  }

  private async handleEntry(entry: unknown, session: Session): Promise<string | null> {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      return encodeError(null, invalidRequest('invalid request: expected a JSON object'))
    }
    const req = entry as Record<string, unknown>
    const isNotification = !Object.hasOwn(req, 'id')
    const rawId = req.id
    if (!isNotification && rawId !== null && typeof rawId !== 'string' && typeof rawId !== 'number') {
      return encodeError(null, invalidRequest('invalid request: id must be a string, a number or null'))
    }
    const id = isNotification ? null : (rawId as Id)
    if (req.jsonrpc !== '2.0') return encodeError(id, invalidRequest('invalid request: jsonrpc must be "2.0"'))
    const method = req.method
    if (typeof method !== 'string') return encodeError(id, invalidRequest('invalid request: method must be a string'))
    const rawParams = Object.hasOwn(req, 'params') ? req.params : undefined
    let params: unknown[]
    if (rawParams === undefined || rawParams === null) params = []
    else if (Array.isArray(rawParams)) params = rawParams
    else if (typeof rawParams === 'object') {
      return isNotification ? null : encodeError(id, invalidParams('invalid params: expected an array of positional parameters'))
    } else return encodeError(id, invalidRequest('invalid request: params must be an array'))

    const started = performance.now()
    let result: unknown
    let error: RpcError | undefined
    try {
      result = await this.call(method, params, session)
    } catch (err) {
      error = this.toError(err, method)
    }
    this.observe(method, performance.now() - started, error === undefined)
    if (isNotification) return null
    return error ? encodeError(id, error) : this.encodeResult(id, result, method)
  }

  private async call(method: string, params: unknown[], session: Session): Promise<unknown> {
    const hub = this.o.hub
    if (hub && (method === 'eth_subscribe' || method === 'eth_unsubscribe')) {
      if (!session.sink) throw new RpcError(RpcErrorCode.METHOD_NOT_FOUND, 'notifications not supported')
      if (method === 'eth_subscribe') {
        expectParams(params, 1, 2)
        return hub.subscribe(session.sink, params[0], params[1])
      }
      expectParams(params, 1, 1)
      if (typeof params[0] !== 'string') throw invalidParams('invalid subscription id: expected a string')
      return hub.unsubscribe(params[0], session.sink.connectionId)
    }
    const handler = Object.hasOwn(this.o.methods, method) ? this.o.methods[method] : undefined
    if (typeof handler !== 'function') throw methodNotFound(method.length > 100 ? `${method.slice(0, 100)}...` : method)
    return await handler(params, session.ctx)
  }

  private toError(err: unknown, method: string): RpcError {
    if (err instanceof RpcError) return err
    if (this.o.mapError) {
      try {
        const mapped = this.o.mapError(err)
        if (mapped instanceof RpcError) return mapped
      } catch (mapErr) {
        this.o.logger.error({ err: mapErr }, 'JSON-RPC mapError failed')
      }
    }
    return toRpcError(err, this.o.logger, method)
  }

  private observe(method: string, ms: number, ok: boolean): void {
    if (!this.o.onRequest) return
    const served = Object.hasOwn(this.o.methods, method) ||
      (this.o.hub !== undefined && (method === 'eth_subscribe' || method === 'eth_unsubscribe'))
    try {
      this.o.onRequest(served ? method : 'unknown_method', ms, ok)
    } catch (err) {
      this.o.logger.warn({ err }, 'JSON-RPC onRequest observer threw')
    }
  }

  private encodeResult(id: Id, result: unknown, method: string): string {
    try {
      return JSON.stringify({ jsonrpc: '2.0', id, result: result === undefined ? null : result })
    } catch (err) {
      this.o.logger.error({ err, method }, 'JSON-RPC handler returned a value that is not JSON-encodable')
      return encodeError(id, internalError())
    }
  }
}

/** A complete error response. Falls back to dropping `data` if it cannot be encoded. */
function encodeError(id: Id, err: RpcError): string {
  try {
    return JSON.stringify({ jsonrpc: '2.0', id, error: err.toJSON() })
  } catch {
    return JSON.stringify({ jsonrpc: '2.0', id, error: { code: err.code, message: err.message } })
  }
}

function sendError(reply: FastifyReply, status: number, err: RpcError): FastifyReply {
  return reply.code(status).header('content-type', JSON_UTF8).send(encodeError(null, err))
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0)
  return data instanceof ArrayBuffer ? data.byteLength : data.length
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return (data instanceof ArrayBuffer ? Buffer.from(data) : data).toString('utf8')
}
