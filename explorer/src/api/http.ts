/**
 * The node's HTTP APIs over fetch: REST (GET /v1/...) and JSON-RPC (POST /). Every failure
 * becomes an ApiError whose `kind` tells pages which state to show.
 */

export type ApiErrorKind =
  | 'not-found' // the thing asked for does not exist
  | 'unavailable' // this node has no such REST route (an older node, or REST turned off)
  | 'bad-request'
  | 'rate-limited'
  | 'server'
  | 'network'

export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message)
  }
}

/** JSON-RPC error response, with the server's code. */
export class RpcCallError extends ApiError {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
  ) {
    super(code === -32601 ? 'unavailable' : 'server', `${method}: ${message}`)
  }
}

/** In the Vite dev server the page is not served by the node: JSON-RPC is proxied via /rpc. */
const RPC_PATH = import.meta.env.DEV ? '/rpc' : '/'
const REQUEST_TIMEOUT_MS = 20_000

function withTimeout(signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS)
  return signal ? AbortSignal.any([signal, timeout]) : timeout
}

async function send(input: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init)
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    if (err instanceof DOMException && err.name === 'TimeoutError') throw new ApiError('network', `no answer from the node within ${REQUEST_TIMEOUT_MS / 1000} s`)
    throw new ApiError('network', `cannot reach the node: ${(err as Error).message}`)
  }
}

interface RestErrorBody {
  error?: { code?: string; message?: string } | string
  message?: string
}

/** GET a REST path (starting with /v1/). */
export async function restGet<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await send(path, { headers: { accept: 'application/json' }, signal: withTimeout(signal) })
  const text = await res.text()
  let body: unknown
  try {
    body = text === '' ? undefined : JSON.parse(text)
  } catch {
    body = undefined
  }
  if (res.ok) {
    if (body === undefined) throw new ApiError('server', `GET ${path}: the answer is not JSON`, res.status)
    return body as T
  }
  const err = (body ?? {}) as RestErrorBody
  const contractError = typeof err.error === 'object' && err.error !== null ? err.error : undefined
  const message = contractError?.message ?? err.message ?? `HTTP ${res.status}`
  if (res.status === 404) {
    // The REST contract's 404 carries { error: { code } }; Fastify's "route not found" does not.
    if (contractError?.code === 'NOT_FOUND') throw new ApiError('not-found', message, 404)
    throw new ApiError('unavailable', `this node does not serve ${path.split('?')[0]} (no REST API?)`, 404)
  }
  if (res.status === 400) throw new ApiError('bad-request', message, 400)
  if (res.status === 429) throw new ApiError('rate-limited', `rate limited: ${message}`, 429)
  throw new ApiError('server', `GET ${path}: ${message}`, res.status)
}

let nextId = 1

interface RpcResponse {
  id?: number
  result?: unknown
  error?: { code: number; message: string }
}

/** One JSON-RPC call. */
export async function rpc<T>(method: string, params: unknown[] = [], signal?: AbortSignal): Promise<T> {
  const [out] = await rpcBatch<T>([[method, params]], signal)
  return out!
}

/** Several JSON-RPC calls in one HTTP request; answers in order. */
export async function rpcBatch<T = unknown>(calls: [string, unknown[]][], signal?: AbortSignal): Promise<T[]> {
  if (calls.length === 0) return []
  const first = nextId
  nextId += calls.length
  const payload = calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: first + i, method, params }))
  const res = await send(RPC_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
    signal: withTimeout(signal),
  })
  let body: unknown
  try {
    body = await res.json()
  } catch {
    throw new ApiError('server', `JSON-RPC: HTTP ${res.status} with a body that is not JSON`, res.status)
  }
  if (!Array.isArray(body)) {
    const single = body as RpcResponse
    throw new ApiError('server', `JSON-RPC: ${single.error?.message ?? 'unexpected answer'}`, res.status)
  }
  const byId = new Map((body as RpcResponse[]).map((r) => [r.id, r]))
  return calls.map(([method], i) => {
    const r = byId.get(first + i)
    if (!r) throw new ApiError('server', `JSON-RPC: no answer for ${method}`)
    if (r.error) throw new RpcCallError(method, r.error.code, r.error.message)
    return r.result as T
  })
}
