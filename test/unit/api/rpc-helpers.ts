/** Test helpers for the JSON-RPC server tests: a log capture, raw HTTP, and a WebSocket client. */
import { request as httpRequest } from 'node:http'
import { Writable } from 'node:stream'
import pino, { type Logger } from 'pino'
import WebSocket from 'ws'

/** A pino logger that keeps every line it writes, parsed. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  return { logger: pino({ level: 'debug' }, stream), lines }
}

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: () => any
}

/**
 * One HTTP request with full control of headers (fetch always adds a content type).
 * `chunked` sends the body without a content-length.
 */
export function raw(
  url: string,
  opts: { method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string>; chunked?: boolean } = {},
): Promise<RawResponse> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers }
    if (opts.body !== undefined && !opts.chunked) headers['content-length'] = Buffer.byteLength(opts.body)
    const req = httpRequest(
      { host: u.hostname, port: u.port, method: opts.method ?? 'POST', path: opts.path ?? '/', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) })
        })
        res.on('error', reject)
      },
    )
    // The server may answer (413) and close before it has read the whole body.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err)
    })
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

/** POSTs a JSON-RPC payload as application/json and returns the parsed response. */
export async function rpc(url: string, payload: unknown): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  })
  const text = await res.text()
  return text === '' ? undefined : JSON.parse(text)
}

/** A WebSocket client that queues incoming messages so tests can await them in order. */
export class WsClient {
  readonly messages: any[] = []
  private waiters: (() => void)[] = []
  closed: { code: number; reason: string } | undefined
  private nextId = 1

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)))
      this.wake()
    })
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) }
      this.wake()
    })
  }

  static open(url: string): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url)
      const client = new WsClient(socket)
      socket.once('open', () => resolve(client))
      socket.once('error', reject)
    })
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }

  /** Waits until `pred` holds (re-checked on every incoming message or close). */
  async until(pred: () => boolean): Promise<void> {
    while (!pred()) {
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) while waiting`)
      await new Promise<void>((r) => this.waiters.push(r))
    }
  }

  /** Removes and returns the first queued message matching `pred`, waiting for it. */
  async take(pred: (m: any) => boolean = () => true): Promise<any> {
    let idx = -1
    await this.until(() => (idx = this.messages.findIndex(pred)) >= 0)
    return this.messages.splice(idx, 1)[0]
  }

  send(payload: unknown): void {
    this.socket.send(typeof payload === 'string' ? payload : JSON.stringify(payload))
  }

  /** Sends a request with a fresh id and returns its response. */
  async call(method: string, params: unknown[] = []): Promise<any> {
    const id = this.nextId++
    this.send({ jsonrpc: '2.0', id, method, params })
    return this.take((m) => m.id === id)
  }

  async waitClosed(): Promise<{ code: number; reason: string }> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r))
    return this.closed
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.socket.close()
    return this.waitClosed().then(() => undefined)
  }
}

/** Polls `pred` on the event loop until it holds or `ms` pass (a condition, not a sleep). */
export async function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}
