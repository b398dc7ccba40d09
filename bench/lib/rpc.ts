/**
 * A minimal JSON-RPC 2.0 client over HTTP/1.1 with keep-alive sockets, so the benchmark
 * measures the node rather than TCP handshakes. One client per target; close() frees
 * the sockets.
 */
import http from 'node:http'
import { BenchError } from './errors.ts'

export interface RpcClientOptions {
  /** Sockets kept open to the target; at least the number of requests in flight. */
  maxSockets?: number
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number
}

export class RpcError extends BenchError {
  readonly rpcCode: number
  readonly method: string

  constructor(method: string, rpcCode: number, rpcMessage: string) {
    super('RPC_ERROR', `${method} failed: ${rpcMessage} (JSON-RPC code ${rpcCode})`)
    this.name = 'RpcError'
    this.rpcCode = rpcCode
    this.method = method
  }
}

interface RpcResponse {
  jsonrpc?: string
  id?: unknown
  result?: unknown
  error?: { code?: unknown; message?: unknown }
}

export class RpcClient {
  readonly url: string
  private readonly target: URL
  private readonly agent: http.Agent
  private readonly timeoutMs: number
  private nextId = 1

  constructor(url: string, opts: RpcClientOptions = {}) {
    this.url = url
    this.target = new URL(url)
    if (this.target.protocol !== 'http:') {
      throw new BenchError('BAD_ARGS', `only http:// JSON-RPC URLs are supported, got ${url}`)
    }
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 })
    this.timeoutMs = opts.timeoutMs ?? 30_000
  }

  /** Calls `method` and returns its result; throws RpcError or a RPC_TRANSPORT BenchError. */
  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const id = this.nextId++
    const body = JSON.stringify({ jsonrpc: '2.0', id, method, params })
    const text = await this.post(method, body)
    let res: RpcResponse
    try {
      res = JSON.parse(text) as RpcResponse
    } catch {
      throw new BenchError('RPC_TRANSPORT', `${method}: response is not JSON: ${text.slice(0, 200)}`)
    }
    if (res === null || typeof res !== 'object' || Array.isArray(res)) {
      throw new BenchError('RPC_TRANSPORT', `${method}: response is not a JSON-RPC object: ${text.slice(0, 200)}`)
    }
    if (res.error) {
      const code = typeof res.error.code === 'number' ? res.error.code : 0
      const message = typeof res.error.message === 'string' ? res.error.message : JSON.stringify(res.error)
      throw new RpcError(method, code, message)
    }
    if (!('result' in res)) {
      throw new BenchError('RPC_TRANSPORT', `${method}: response has neither result nor error: ${text.slice(0, 200)}`)
    }
    return res.result as T
  }

  close(): void {
    this.agent.destroy()
  }

  private post(method: string, body: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent: this.agent,
          hostname: this.target.hostname,
          port: this.target.port,
          path: `${this.target.pathname}${this.target.search}`,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', (err) => reject(transportError(method, err)))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            // Some servers answer JSON-RPC errors with HTTP 4xx/5xx and a JSON body: let
            // call() report the JSON-RPC error; only non-JSON bodies are transport errors.
            if ((res.statusCode ?? 0) >= 400 && !text.trimStart().startsWith('{')) {
              reject(new BenchError('RPC_TRANSPORT', `${method}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`))
            } else {
              resolve(text)
            }
          })
        },
      )
      req.setTimeout(this.timeoutMs, () => {
        req.destroy(new BenchError('RPC_TRANSPORT', `${method}: no response within ${this.timeoutMs} ms from ${this.url}`))
      })
      req.on('error', (err) => reject(transportError(method, err)))
      req.end(body)
    })
  }
}

function transportError(method: string, err: Error): BenchError {
  if (err instanceof BenchError) return err
  return new BenchError('RPC_TRANSPORT', `${method}: ${err.message}`, { cause: err })
}

/** Parses a JSON-RPC quantity ("0x1a") into a bigint, with a clear error otherwise. */
export function quantity(value: unknown, what: string): bigint {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]+$/.test(value)) {
    throw new BenchError('RPC_TRANSPORT', `${what}: expected a hex quantity, got ${JSON.stringify(value)}`)
  }
  return BigInt(value)
}

export function toQuantity(n: bigint | number): string {
  return `0x${n.toString(16)}`
}
