/**
 * A full node a light client asks, over JSON-RPC (HTTP): single calls and batches, each with
 * a deadline and a bound on the answer's size (a hostile node cannot make us buffer without
 * end or wait for ever). Nothing it answers is believed here: the client checks it.
 * @module
 */

export const DEFAULT_SOURCE_TIMEOUT_MS = 15_000
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024
/** Calls in one JSON-RPC batch at most (a node's batch limit is about this). */
export const MAX_BATCH = 100

export class SourceError extends Error {
  override readonly name = 'SourceError'
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(`${url}: ${message}`)
  }
}

interface RpcAnswer {
  id?: unknown
  result?: unknown
  error?: { code?: unknown; message?: unknown }
}

export class RpcSource {
  private nextId = 1

  constructor(
    readonly url: string,
    private readonly o: { timeoutMs?: number; maxAnswerBytes?: number } = {},
  ) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new SourceError(url, 'not a URL')
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SourceError(url, 'only http:// and https:// sources are supported')
  }

  async call<T>(method: string, params: unknown[]): Promise<T> {
    const [out] = await this.batch<T>([[method, params]])
    return out as T
  }

  /** Several calls in one request; answers in the order asked. Any error answer fails the whole batch. */
  async batch<T>(calls: ReadonlyArray<readonly [string, unknown[]]>): Promise<T[]> {
    if (calls.length === 0) return []
    if (calls.length > MAX_BATCH) throw new Error(`at most ${MAX_BATCH} calls in a batch`)
    const ids = calls.map(() => this.nextId++)
    const body = JSON.stringify(calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: ids[i], method, params })))
    let res: Response
    try {
      res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(this.o.timeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS) })
    } catch (err) {
      throw new SourceError(this.url, (err as Error).name === 'TimeoutError' ? 'did not answer in time' : `unreachable (${(err as Error).message})`)
    }
    const text = await readBounded(res, this.o.maxAnswerBytes ?? MAX_ANSWER_BYTES, this.url)
    if (!res.ok && res.status !== 200) throw new SourceError(this.url, `HTTP ${res.status}`)
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new SourceError(this.url, 'answered with something that is not JSON')
    }
    if (!Array.isArray(parsed)) {
      const e = (parsed as RpcAnswer)?.error
      throw new SourceError(this.url, e ? `refused the batch: ${String(e.message)}` : 'did not answer a batch with a list')
    }
    const byId = new Map<unknown, RpcAnswer>()
    for (const a of parsed as RpcAnswer[]) if (a && typeof a === 'object') byId.set(a.id, a)
    return ids.map((id, i) => {
      const a = byId.get(id)
      if (!a) throw new SourceError(this.url, `gave no answer to ${calls[i]![0]}`)
      if (a.error) throw new SourceError(this.url, `${calls[i]![0]} failed: ${String(a.error.message)}`)
      return a.result as T
    })
  }
}

async function readBounded(res: Response, max: number, url: string): Promise<string> {
  const length = Number(res.headers.get('content-length') ?? 0)
  if (length > max) throw new SourceError(url, `answer of ${length} bytes is over the ${max}-byte limit`)
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.length
    if (total > max) {
      await reader.cancel()
      throw new SourceError(url, `answer is over the ${max}-byte limit`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
