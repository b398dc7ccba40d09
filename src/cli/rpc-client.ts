/**
 * A small JSON-RPC 2.0 client over HTTP (fetch) for the CLI commands that talk to a node.
 * Every failure becomes an RpcClientError whose message a user can act on: the node is not
 * running, it did not answer in time, it answered with an error (its message kept verbatim,
 * e.g. "insufficient funds for gas * price + value"), or it answered with something that is
 * not JSON-RPC.
 * @module
 */

export const DEFAULT_RPC_URL = 'http://127.0.0.1:8545'
const DEFAULT_TIMEOUT_MS = 30_000

export type RpcClientErrorCode = 'NODE_UNREACHABLE' | 'RPC_TIMEOUT' | 'RPC_ERROR' | 'BAD_RESPONSE'

/** A JSON-RPC call that failed: `code` says how; `rpcCode` and `data` come from the node's error. */
export class RpcClientError extends Error {
  readonly code: RpcClientErrorCode
  readonly method: string
  readonly rpcCode?: number
  readonly data?: unknown
  /** The node's own error message, for RPC_ERROR. */
  readonly rpcMessage?: string
  constructor(
    code: RpcClientErrorCode,
    method: string,
    message: string,
    extra: { rpcCode?: number; rpcMessage?: string; data?: unknown } = {},
  ) {
    super(message)
    this.name = 'RpcClientError'
    this.code = code
    this.method = method
    this.rpcCode = extra.rpcCode
    this.rpcMessage = extra.rpcMessage
    this.data = extra.data
  }
}

interface RpcResponse {
  jsonrpc?: unknown
  id?: unknown
  result?: unknown
  error?: { code?: unknown; message?: unknown; data?: unknown }
}

/** Why fetch could not connect, from the error chain undici throws ("fetch failed" + cause). */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err as Error).message
}

export class RpcClient {
  private nextId = 1
  readonly timeoutMs: number

  constructor(
    readonly url: string,
    opts: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  /** Calls `method`; resolves with its result or rejects with an RpcClientError. */
  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const id = this.nextId++
    let res: Response
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        throw new RpcClientError('RPC_TIMEOUT', method, `node at ${this.url} did not answer ${method} within ${this.timeoutMs / 1000} s`)
      }
      throw new RpcClientError('NODE_UNREACHABLE', method, `cannot reach node at ${this.url}: is it running? (${networkReason(err)})`)
    }
    let text: string
    try {
      text = await res.text()
    } catch (err) {
      throw new RpcClientError('NODE_UNREACHABLE', method, `connection to ${this.url} broke during ${method} (${networkReason(err)})`)
    }
    let body: RpcResponse
    try {
      body = JSON.parse(text) as RpcResponse
    } catch {
      throw new RpcClientError(
        'BAD_RESPONSE',
        method,
        `${this.url} is not a JSON-RPC endpoint: HTTP ${res.status} with a non-JSON body to ${method}`,
      )
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RpcClientError('BAD_RESPONSE', method, `${this.url} answered ${method} with something that is not a JSON-RPC response`)
    }
    if (body.error !== undefined && body.error !== null) {
      const rpcMessage = typeof body.error.message === 'string' ? body.error.message : JSON.stringify(body.error)
      const rpcCode = typeof body.error.code === 'number' ? body.error.code : undefined
      throw new RpcClientError('RPC_ERROR', method, `${method}: ${rpcMessage}`, { rpcCode, rpcMessage, data: body.error.data })
    }
    if (!('result' in body)) {
      throw new RpcClientError('BAD_RESPONSE', method, `${this.url} answered ${method} (HTTP ${res.status}) with neither a result nor an error`)
    }
    return body.result as T
  }
}

/** A JSON-RPC QUANTITY ("0x1a") as a bigint; BAD_RESPONSE naming `what` if it is not one. */
export function quantity(value: unknown, method: string, what: string): bigint {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]+$/.test(value)) {
    throw new RpcClientError('BAD_RESPONSE', method, `${method} returned a bad ${what}: ${JSON.stringify(value)}`)
  }
  return BigInt(value)
}

/** A bigint as a JSON-RPC QUANTITY. */
export function toQuantity(n: bigint): string {
  return `0x${n.toString(16)}`
}
