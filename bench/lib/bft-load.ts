/**
 * Open-loop load on a BFT network, and what it measured.
 *
 * - Plan: transfers pre-signed before the clock starts (native secp256k1), from many senders,
 *   each sender pinned to one validator's RPC endpoint and holding fewer txs in all than the
 *   mempool's per-sender limit, so no send can ever be refused for that limit.
 * - Pacing: transfer i is due at i / rate seconds after the start, whatever the node answers
 *   (open loop: a slow node does not slow the offered load down). Due transfers go out in
 *   JSON-RPC batches of at most `batch`, round-robin over the validators.
 * - Finality: new heads of one validator over WebSocket (plus a slow eth_blockNumber poll in
 *   case a notification is missed); each new block is fetched with its tx hashes and each of
 *   our txs in it is stamped with the time its head was seen. BFT blocks are final on commit.
 * - Stats and the RESULTS.md section (pure functions, unit-tested).
 */
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { hexToBytes, keccak256, serializeTransaction, toHex, type Hex, type TransactionSerializableEIP1559 } from 'viem'
import { privateKeyToAddress, signDigest } from '../../src/crypto/secp256k1.ts'
import { BenchError } from './errors.ts'
import { subscribeNewHeads, type NewHeadsSubscription } from './new-heads.ts'
import type { Machine } from './report.ts'
import { quantity, toQuantity, type RpcClient } from './rpc.ts'

export const TRANSFER_GAS = 21_000n
/** The mempool's default per-sender limit (txs held and nonces ahead). */
export const MEMPOOL_PER_SENDER = 64
/** Transfers per sender at most: well under the per-sender limit even if nothing is final yet. */
export const MAX_TXS_PER_SENDER = 48

// ---------------------------------------------------------------- pacing (pure)

/** Milliseconds after the start at which transfer `index` (0-based) is due at `rate` tx/s. */
export function dueOffsetMs(index: number, rate: number): number {
  return (index * 1000) / rate
}

/** Senders needed so each has at most `maxPerSender` of `txs`, rounded up to a multiple of `validators` (and at least one per validator). */
export function sendersFor(txs: number, validators: number, maxPerSender = MAX_TXS_PER_SENDER): number {
  const need = Math.max(validators, Math.ceil(txs / maxPerSender))
  return Math.ceil(need / validators) * validators
}

export interface ScheduledBatch<T> {
  /** Index of the validator whose endpoint gets this batch. */
  validator: number
  /** Position of the batch's first item in the whole send order (its due time is dueOffsetMs(firstIndex)). */
  firstIndex: number
  items: T[]
}

/**
 * The send order: batches of at most `batch` items taken from each validator's queue in turn
 * (validator 0, 1, ..., n-1, 0, ...), skipping queues that ran dry. Items keep their order
 * within a queue, so one sender's txs (all on one validator) go out in nonce order.
 */
export function interleaveBatches<T>(queues: readonly (readonly T[])[], batch: number): ScheduledBatch<T>[] {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`)
  const pos = queues.map(() => 0)
  const out: ScheduledBatch<T>[] = []
  let index = 0
  for (;;) {
    let progressed = false
    for (let v = 0; v < queues.length; v++) {
      const q = queues[v]!
      if (pos[v]! >= q.length) continue
      const items = q.slice(pos[v], pos[v]! + batch)
      pos[v]! += items.length
      out.push({ validator: v, firstIndex: index, items })
      index += items.length
      progressed = true
    }
    if (!progressed) return out
  }
}

// ---------------------------------------------------------------- stats (pure)

/** Nearest-rank percentile (p in 0..100) of values sorted ascending; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  if (p <= 0) return sorted[0]!
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, rank) - 1]!
}

export interface LatencyStats {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

/** Percentiles of `values` (any order; not modified). */
export function latencyStats(values: readonly number[]): LatencyStats {
  const sorted = [...values].sort((a, b) => a - b)
  const sum = sorted.reduce((a, b) => a + b, 0)
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  }
}

// ---------------------------------------------------------------- signing and the plan

export interface SignedTx {
  from: Hex
  nonce: number
  to: Hex
  value: bigint
  raw: Hex
  hash: Hex
}

/** An EIP-1559 value transfer (tip 0; fee cap 0 = free gas unless given), signed with the native backend. */
export function signTransfer(key: Uint8Array, from: Hex, tx: { chainId: number; nonce: number; to: Hex; value: bigint; maxFeePerGas?: bigint }): SignedTx {
  const unsigned: TransactionSerializableEIP1559 = {
    type: 'eip1559',
    chainId: tx.chainId,
    nonce: tx.nonce,
    to: tx.to,
    value: tx.value,
    gas: TRANSFER_GAS,
    maxFeePerGas: tx.maxFeePerGas ?? 0n,
    maxPriorityFeePerGas: 0n,
  }
  const sig = signDigest(hexToBytes(keccak256(serializeTransaction(unsigned))), key)
  const raw = serializeTransaction(unsigned, { r: toHex(sig.r), s: toHex(sig.s), yParity: sig.recovery })
  return { from, nonce: tx.nonce, to: tx.to, value: tx.value, raw, hash: keccak256(raw) }
}

export interface Account {
  key: Uint8Array
  address: Hex
}

export function account(key: Uint8Array): Account {
  return { key, address: toHex(privateKeyToAddress(key)) }
}

export interface PlannedTx extends SignedTx {
  /** Position in the send order. */
  index: number
  validator: number
}

export interface LoadPlan {
  /** Txs that fund the senders (sent and made final before the clock starts). */
  funding: SignedTx[]
  senders: Account[]
  batches: ScheduledBatch<PlannedTx>[]
  total: number
}

export interface LoadPlanOptions {
  chainId: number
  txs: number
  validators: number
  batch: number
  /** Funded accounts that pay the senders (their nonces from the chain). */
  funders: Array<Account & { nonce: number }>
  /** Fresh accounts that send the measured transfers (nonce 0, funded by the funders). */
  senders: Account[]
  /** Wei each sender gets. */
  fundEach: bigint
  /** Fee cap of every tx (funding and transfers; tip 0); default 0, for free-gas chains. */
  maxFeePerGas?: bigint
}

/**
 * Signs the funding txs and the transfers. Sender j uses validator j % validators; transfer k
 * of a validator goes to a fresh random address, and each validator's queue takes its senders
 * in turn (nonce 0 of each, then nonce 1, ...).
 */
export function buildLoadPlan(o: LoadPlanOptions): LoadPlan {
  const S = o.senders.length
  const perSender = Math.ceil(o.txs / S)
  if (perSender >= MEMPOOL_PER_SENDER) {
    throw new BenchError('BAD_ARGS', `${o.txs} transfers from ${S} senders is ${perSender} per sender; the mempool holds at most ${MEMPOOL_PER_SENDER - 1} ahead per sender: use more senders`)
  }
  const perFunder = Math.ceil(S / o.funders.length)
  if (perFunder >= MEMPOOL_PER_SENDER) {
    throw new BenchError('BAD_ARGS', `${S} senders need ${perFunder} funding txs per funder; at most ${MEMPOOL_PER_SENDER - 1}: use fewer senders`)
  }
  const funding: SignedTx[] = []
  const funderNonce = o.funders.map((f) => f.nonce)
  o.senders.forEach((s, j) => {
    const f = j % o.funders.length
    const funder = o.funders[f]!
    funding.push(signTransfer(funder.key, funder.address, { chainId: o.chainId, nonce: funderNonce[f]!++, to: s.address, value: o.fundEach, maxFeePerGas: o.maxFeePerGas }))
  })

  const counts = o.senders.map((_, j) => Math.floor(o.txs / S) + (j < o.txs % S ? 1 : 0))
  const queues: Array<Omit<PlannedTx, 'index'>[]> = Array.from({ length: o.validators }, () => [])
  let seq = 0
  for (let k = 0; k < perSender; k++) {
    for (let j = 0; j < S; j++) {
      if (k >= counts[j]!) continue
      const s = o.senders[j]!
      const v = j % o.validators
      const signed = signTransfer(s.key, s.address, { chainId: o.chainId, nonce: k, to: toHex(randomBytes(20)), value: 1_000_000_000n + BigInt(seq++), maxFeePerGas: o.maxFeePerGas })
      queues[v]!.push({ ...signed, validator: v })
    }
  }
  const batches = interleaveBatches(queues, o.batch).map((b) => ({
    ...b,
    items: b.items.map((tx, i) => ({ ...tx, index: b.firstIndex + i })),
  }))
  return { funding, senders: o.senders, batches, total: seq }
}

// ---------------------------------------------------------------- JSON-RPC batches

export interface BatchAnswer {
  result?: unknown
  error?: { code: number; message: string }
}

/** JSON-RPC batch requests over keep-alive HTTP (bench/lib/rpc.ts's client sends one call per request). */
export class BatchRpc {
  private readonly target: URL
  private readonly agent: http.Agent
  private nextId = 1

  constructor(
    readonly url: string,
    private readonly opts: { maxSockets?: number; timeoutMs?: number } = {},
  ) {
    this.target = new URL(url)
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 32 })
  }

  /** One HTTP request carrying every call; answers in call order. Transport failures reject. */
  async batch(calls: ReadonlyArray<{ method: string; params: unknown[] }>): Promise<BatchAnswer[]> {
    const first = this.nextId
    this.nextId += calls.length
    const body = JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params })))
    const text = await this.post(body)
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new BenchError('RPC_TRANSPORT', `batch of ${calls.length}: response is not JSON: ${text.slice(0, 200)}`)
    }
    if (!Array.isArray(parsed)) {
      // A whole-batch error (e.g. too large): it applies to every call.
      const err = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error
      const e = { code: typeof err?.code === 'number' ? err.code : 0, message: typeof err?.message === 'string' ? err.message : text.slice(0, 200) }
      return calls.map(() => ({ error: e }))
    }
    const byId = new Map<number, BatchAnswer>()
    for (const r of parsed as Array<{ id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } }>) {
      if (typeof r?.id !== 'number') continue
      byId.set(
        r.id,
        r.error
          ? { error: { code: typeof r.error.code === 'number' ? r.error.code : 0, message: typeof r.error.message === 'string' ? r.error.message : JSON.stringify(r.error) } }
          : { result: r.result },
      )
    }
    return calls.map((_, i) => byId.get(first + i) ?? { error: { code: 0, message: 'no answer in the batch response' } })
  }

  close(): void {
    this.agent.destroy()
  }

  private post(body: string): Promise<string> {
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
          res.on('error', (err) => reject(new BenchError('RPC_TRANSPORT', `${this.url}: ${err.message}`, { cause: err })))
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
        },
      )
      const timeoutMs = this.opts.timeoutMs ?? 60_000
      req.setTimeout(timeoutMs, () => req.destroy(new BenchError('RPC_TRANSPORT', `no answer within ${timeoutMs} ms from ${this.url}`)))
      req.on('error', (err) => reject(err instanceof BenchError ? err : new BenchError('RPC_TRANSPORT', `${this.url}: ${err.message}`, { cause: err })))
      req.end(body)
    })
  }
}

/** Sends the funding txs to one endpoint and waits until every one has a successful receipt. */
export async function fundSenders(rpc: BatchRpc, funding: readonly SignedTx[], timeoutMs: number): Promise<void> {
  for (let i = 0; i < funding.length; i += 200) {
    const chunk = funding.slice(i, i + 200)
    const answers = await rpc.batch(chunk.map((tx) => ({ method: 'eth_sendRawTransaction', params: [tx.raw] })))
    const bad = answers.findIndex((a) => a.error)
    if (bad >= 0) throw new BenchError('RPC_ERROR', `funding tx ${chunk[bad]!.hash} was refused: ${answers[bad]!.error!.message}`)
  }
  const deadline = Date.now() + timeoutMs
  let waiting = [...funding]
  while (waiting.length > 0) {
    const answers = await rpc.batch(waiting.map((tx) => ({ method: 'eth_getTransactionReceipt', params: [tx.hash] })))
    const next: SignedTx[] = []
    answers.forEach((a, i) => {
      const r = a.result as { status?: string } | null | undefined
      if (!r) next.push(waiting[i]!)
      else if (r.status !== '0x1') throw new BenchError('RPC_ERROR', `funding tx ${waiting[i]!.hash} failed (status ${r.status})`)
    })
    waiting = next
    if (waiting.length === 0) return
    if (Date.now() > deadline) throw new BenchError('STALLED', `${waiting.length} of ${funding.length} funding txs not final after ${timeoutMs / 1000} s`)
    await delay(250)
  }
}

// ---------------------------------------------------------------- following finality

export interface SeenBlock {
  height: number
  /** performance.now() when its head was seen. */
  seenAt: number
  txCount: number
  gasUsed: bigint
}

/**
 * Follows one node's new heads (WebSocket newHeads, with an eth_blockNumber poll as a safety
 * net), fetches every new block with its tx hashes in height order, and reports each to
 * `onBlock` with the time its head was first seen.
 */
export class HeadFollower implements Follower {
  private heads?: NewHeadsSubscription
  private pollTimer?: NodeJS.Timeout
  private known: number
  private fetched: number
  private readonly seenAt = new Map<number, number>()
  private draining = false
  private stopped = false

  constructor(
    private readonly rpc: RpcClient,
    private readonly wsUrl: string,
    startHeight: number,
    private readonly onBlock: (b: SeenBlock, txHashes: readonly string[]) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.known = startHeight
    this.fetched = startHeight
  }

  /** Resolves once the subscription is confirmed (or the WebSocket failed: polling carries on). */
  async start(pollMs = 1000): Promise<void> {
    this.pollTimer = setInterval(() => {
      this.rpc.call('eth_blockNumber').then(
        (h) => this.noteHead(Number(quantity(h, 'eth_blockNumber'))),
        (err) => this.onError(err),
      )
    }, pollMs)
    this.heads = await subscribeNewHeads(this.wsUrl, (height, at) => this.noteHead(height, at))
    if (this.stopped) this.heads.close()
  }

  /** Why the WebSocket is not used (polling only), if it failed. */
  get websocketProblem(): string | undefined {
    return this.heads?.problem
  }

  get height(): number {
    return this.known
  }

  stop(): void {
    this.stopped = true
    if (this.pollTimer) clearInterval(this.pollTimer)
    this.heads?.close()
  }

  private noteHead(height: number, now = performance.now()): void {
    if (this.stopped || height <= this.known) return
    // Heights we skipped (a missed notification) are stamped now: when we learned of them.
    for (let h = this.known + 1; h <= height; h++) if (!this.seenAt.has(h)) this.seenAt.set(h, now)
    this.known = height
    void this.drain()
  }

  private async drain(): Promise<void> {
    if (this.draining) return
    this.draining = true
    try {
      while (!this.stopped && this.fetched < this.known) {
        const h = this.fetched + 1
        const block = await this.rpc.call<{ transactions?: unknown[]; gasUsed?: unknown } | null>('eth_getBlockByNumber', [toQuantity(h), false])
        if (!block) {
          await delay(50) // the node announced it; it will serve it
          continue
        }
        const txs = (block.transactions ?? []).filter((t): t is string => typeof t === 'string').map((t) => t.toLowerCase())
        const seen: SeenBlock = { height: h, seenAt: this.seenAt.get(h) ?? performance.now(), txCount: txs.length, gasUsed: quantity(block.gasUsed, 'gasUsed') }
        this.seenAt.delete(h)
        this.fetched = h
        this.onBlock(seen, txs)
      }
    } catch (err) {
      this.onError(err)
    } finally {
      this.draining = false
    }
    if (!this.stopped && this.fetched < this.known) {
      await delay(100)
      void this.drain()
    }
  }
}

// ---------------------------------------------------------------- the open-loop run

export interface LoadProgress {
  elapsedMs: number
  sent: number
  total: number
  final: number
  rejected: number
  /** Txs seen in a confirmed block and not final yet (followers that report confirmations). */
  confirmed?: number
  height: number
  lastBlockTxs: number
}

/** What follows finality for runOpenLoop. */
export interface Follower {
  /** Resolves once it follows (blocks before that are not the run's). */
  start(): Promise<void>
  stop(): void
  /** The last final height it reported. */
  readonly height: number
  /** Set when new heads come by polling only. */
  readonly websocketProblem: string | undefined
}

/** Where a follower reports, in height order. */
export interface FollowerSink {
  /** A block is final (`block.seenAt`: performance.now() when that was learned). */
  final(block: SeenBlock, txHashes: readonly string[], blockHash?: string): void
  /** A block is confirmed but not final yet (`at`: performance.now()); it may still be orphaned. */
  confirmed(at: number, blockHash: string, txHashes: readonly string[]): void
  error(err: unknown): void
}

export interface OpenLoopOptions {
  rate: number
  /** Seconds to wait after the last send for the rest to become final. */
  graceSeconds: number
  /** One batch client per validator, by index. */
  endpoints: readonly BatchRpc[]
  /**
   * Who says when txs are final: by default one node's new heads (BFT: a committed block is
   * final); `create` builds another follower (e.g. one that reads the safe and finalized tags).
   */
  follower: { rpc: RpcClient; wsUrl: string; startHeight: number } | { create(sink: FollowerSink): Follower }
  onProgress?: (p: LoadProgress) => void
  onWarning?: (text: string) => void
}

export interface TxOutcome {
  hash: string
  /** Sender and nonce, to tell a tx stuck behind a refused one of the same sender. */
  from?: string
  nonce?: number
  validator: number
  /** ms after the run's start (performance.now() based). */
  dueAt: number
  submitAt?: number
  /** When the node answered the batch holding it. */
  ackAt?: number
  finalAt?: number
  finalHeight?: number
  /** The final block's hash, when the follower reports hashes. */
  finalHash?: string
  /**
   * When it was first seen in a confirmed block, by that block's hash (a fork can orphan one
   * confirmed block and confirm another); only followers that report confirmations fill it.
   */
  confirmedIn?: Map<string, number>
  /** Submit-to-confirmed ends here: when the block that became final was confirmed (finalAt when not reported). */
  confirmedAt?: number
  error?: string
}

export interface LoadRun {
  outcomes: TxOutcome[]
  /** Blocks seen from the first send to the end of the grace period. */
  blocks: SeenBlock[]
  /** performance.now() at the start: every time in `outcomes` is relative to it. */
  startedAt: number
  /** ms after the start when the last batch was sent. */
  sendEndAt: number
  /** ms after the start when waiting ended. */
  endAt: number
  /** The same run on the monotonic clock of process.hrtime and V8 CPU profiles (µs). */
  monoWindow: { startUs: number; endUs: number }
  websocketProblem?: string
}

const monoUs = () => Number(process.hrtime.bigint() / 1000n)

/**
 * A tx seen in a final block (`block.seenAt`: performance.now(); `startedAt`: the run's start).
 * Submit-to-confirmed ends when that very block was seen confirmed: a confirmation in a block a
 * fork orphaned does not count. Returns false when the tx was already final.
 */
export function stampFinal(out: TxOutcome, block: SeenBlock, blockHash: string | undefined, startedAt: number): boolean {
  if (out.finalAt !== undefined) return false
  out.finalAt = block.seenAt - startedAt
  out.finalHeight = block.height
  out.finalHash = blockHash
  out.confirmedAt = (blockHash === undefined ? undefined : out.confirmedIn?.get(blockHash)) ?? out.finalAt
  return true
}

/** A tx seen in a confirmed block (`at`: performance.now()); true when it is the tx's first confirmation. */
export function stampConfirmed(out: TxOutcome, at: number, blockHash: string, startedAt: number): boolean {
  if (out.finalAt !== undefined) return false
  out.confirmedIn ??= new Map()
  const first = out.confirmedIn.size === 0
  if (!out.confirmedIn.has(blockHash)) out.confirmedIn.set(blockHash, at - startedAt)
  return first
}

/** Sends the plan open-loop at `rate` tx/s and follows finality until all are final or the grace period ends. */
export async function runOpenLoop(plan: LoadPlan, o: OpenLoopOptions): Promise<LoadRun> {
  const outcomes: TxOutcome[] = new Array(plan.total)
  const byHash = new Map<string, TxOutcome>()
  for (const b of plan.batches) {
    for (const tx of b.items) {
      const out: TxOutcome = { hash: tx.hash.toLowerCase(), from: tx.from.toLowerCase(), nonce: tx.nonce, validator: b.validator, dueAt: dueOffsetMs(tx.index, o.rate) }
      outcomes[tx.index] = out
      byHash.set(out.hash, out)
    }
  }
  let startedAt = performance.now()
  let final = 0
  let rejected = 0
  let sent = 0
  let lastBlockTxs = 0
  const blocks: SeenBlock[] = []
  let warned = 0
  const warn = (text: string) => {
    if (warned++ < 5) o.onWarning?.(text)
  }
  let confirmed = 0
  const sink: FollowerSink = {
    final: (block, hashes, blockHash) => {
      blocks.push(block)
      lastBlockTxs = block.txCount
      for (const h of hashes) {
        const out = byHash.get(h)
        if (!out) continue
        const wasConfirmed = out.finalAt === undefined && (out.confirmedIn?.size ?? 0) > 0
        if (stampFinal(out, block, blockHash, startedAt)) {
          if (wasConfirmed) confirmed--
          final++
        }
      }
    },
    confirmed: (at, blockHash, hashes) => {
      for (const h of hashes) {
        const out = byHash.get(h)
        if (out && stampConfirmed(out, at, blockHash, startedAt)) confirmed++
      }
    },
    error: (err) => warn(`following finality: ${err instanceof Error ? err.message : String(err)}`),
  }
  const spec = o.follower
  const follower: Follower =
    'create' in spec
      ? spec.create(sink)
      : new HeadFollower(spec.rpc, spec.wsUrl, spec.startHeight, (block, hashes) => sink.final(block, hashes), (err) => sink.error(err))
  await follower.start()
  if (follower.websocketProblem) warn(`WebSocket newHeads unavailable (${follower.websocketProblem}); polling eth_blockNumber`)

  const progress = () =>
    o.onProgress?.({ elapsedMs: performance.now() - startedAt, sent, total: plan.total, final, rejected, confirmed, height: follower.height, lastBlockTxs })
  const ticker = setInterval(progress, 500)
  const inFlight = new Set<Promise<void>>()
  try {
    startedAt = performance.now()
    const monoStart = monoUs()
    for (const b of plan.batches) {
      const wait = startedAt + dueOffsetMs(b.firstIndex, o.rate) - performance.now()
      if (wait > 1) await delay(wait)
      const submitAt = performance.now() - startedAt
      for (const tx of b.items) outcomes[tx.index]!.submitAt = submitAt
      sent += b.items.length
      const p = o.endpoints[b.validator]!.batch(b.items.map((tx) => ({ method: 'eth_sendRawTransaction', params: [tx.raw] }))).then(
        (answers) => {
          const ackAt = performance.now() - startedAt
          answers.forEach((a, i) => {
            const out = outcomes[b.items[i]!.index]!
            out.ackAt = ackAt
            if (a.error) {
              out.error = a.error.message
              rejected++
            } else if (typeof a.result !== 'string' || a.result.toLowerCase() !== out.hash) {
              out.error = `node answered ${JSON.stringify(a.result)}, expected ${out.hash}`
              rejected++
            }
          })
        },
        (err: unknown) => {
          const ackAt = performance.now() - startedAt
          const message = err instanceof Error ? err.message : String(err)
          for (const tx of b.items) {
            const out = outcomes[tx.index]!
            out.ackAt = ackAt
            out.error = message
            rejected++
          }
        },
      )
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
    }
    const sendEndAt = performance.now() - startedAt
    await Promise.all(inFlight)
    // Grace: until every tx the nodes accepted is final (or seen final although refused), or time is up.
    const graceEnd = performance.now() + o.graceSeconds * 1000
    while (performance.now() < graceEnd) {
      const open = outcomes.some((t) => t.finalAt === undefined && t.error === undefined)
      if (!open) break
      await delay(100)
    }
    progress()
    return {
      outcomes,
      blocks,
      startedAt,
      sendEndAt,
      endAt: performance.now() - startedAt,
      monoWindow: { startUs: monoStart, endUs: monoUs() },
      websocketProblem: follower.websocketProblem,
    }
  } finally {
    clearInterval(ticker)
    follower.stop()
  }
}

// ---------------------------------------------------------------- the result

export interface BftParams {
  rate: number
  seconds: number
  validators: number
  batch: number
  senders: number
  graceSeconds: number
}

export interface BftResult extends BftParams {
  ok: boolean
  txs: number
  /** tx/s actually sent: txs / (last submit - first submit). */
  offeredTps?: number
  /** Final txs / (last final - first submit). */
  finalTps?: number
  /** Seconds from the first submit to the last tx seen final. */
  span?: number
  final?: number
  /** Accepted by a node but not final within the grace period. */
  lost?: number
  /** Refused by a node (error answer or transport failure) and never seen final. */
  rejected?: number
  /** Seconds, submit to final. */
  latency?: LatencyStats
  /**
   * Seconds, submit to confirmed in the block that became final (the same as `latency` where
   * blocks are final once made, as with BFT).
   */
  confirmLatency?: LatencyStats
  /** Final txs that were first confirmed in another block, one a fork orphaned. */
  reconfirmed?: number
  /** Final txs / (last final - first final): the rate blocks became final at, without the finality delay. */
  steadyTps?: number
  /** Seconds, submit to the node's answer. */
  ack?: LatencyStats
  /** Most the load generator sent a batch after its due time (ms): small = the offered load was open-loop as planned. */
  maxSendLagMs?: number
  /** Blocks that held at least one of our txs. */
  blocks?: number
  txsPerBlock?: number
  maxBlockTxs?: number
  /** Mean seconds between blocks while our txs were landing. */
  blockInterval?: number
  /** Largest number of our transfers one block could hold (block gas limit / 21,000). */
  blockCapacity?: number
  agreement?: { height: number; agree: boolean; hashes: string[] }
  failures?: Array<{ hash: string; reason: string }>
  runner?: string
  nodeLogs?: { laterRounds: number; maxRound: number; invalidProposals: number; warnings: Record<string, number> }
  /** Set when new heads came by polling (finality stamped up to a poll interval late) instead of over the WebSocket. */
  websocketProblem?: string
  /** With --profile: where that validator spent its busy time during the load. */
  profile?: { validator: number; file: string; idlePercent: number; areas: Array<{ area: string; percent: number }> }
  /** CPU seconds used from the first send until the last tx was final (or the grace period ended). */
  cpu?: { seconds: number; cores: number; validators: Array<number | undefined>; generator: number; perFinalTxMs?: number }
  error?: { code: string; message: string }
}

/** Turns a run's raw outcomes into the reported numbers (pure). */
export function summarizeRun(run: Pick<LoadRun, 'outcomes' | 'blocks'>, blockGasLimit: bigint): Omit<BftResult, keyof BftParams | 'ok' | 'txs'> {
  const { outcomes } = run
  const submits = outcomes.map((t) => t.submitAt).filter((x): x is number => x !== undefined)
  const firstSubmit = submits.reduce((a, b) => Math.min(a, b), Infinity)
  const lastSubmit = submits.reduce((a, b) => Math.max(a, b), -Infinity)
  const finals = outcomes.filter((t) => t.finalAt !== undefined && t.submitAt !== undefined)
  const lastFinal = finals.reduce((a, t) => Math.max(a, t.finalAt!), -Infinity)
  const latencies = finals.map((t) => (t.finalAt! - t.submitAt!) / 1000)
  const confirmLatencies = finals.map((t) => ((t.confirmedAt ?? t.finalAt!) - t.submitAt!) / 1000)
  const firstFinal = finals.reduce((a, t) => Math.min(a, t.finalAt!), Infinity)
  const acks = outcomes.filter((t) => t.ackAt !== undefined && t.submitAt !== undefined).map((t) => (t.ackAt! - t.submitAt!) / 1000)
  const lostTxs = outcomes.filter((t) => t.finalAt === undefined && t.error === undefined)
  const rejectedTxs = outcomes.filter((t) => t.finalAt === undefined && t.error !== undefined)
  const firstRefusedNonce = new Map<string, number>()
  for (const t of rejectedTxs) {
    if (t.from === undefined || t.nonce === undefined) continue
    const n = firstRefusedNonce.get(t.from)
    if (n === undefined || t.nonce < n) firstRefusedNonce.set(t.from, t.nonce)
  }
  const heights = new Set(finals.map((t) => t.finalHeight!))
  const ours = run.blocks.filter((b) => heights.has(b.height))
  const intervalSpan = ours.length > 1 ? (ours[ours.length - 1]!.seenAt - ours[0]!.seenAt) / 1000 / (ours.length - 1) : undefined
  const perBlock = new Map<number, number>()
  for (const t of finals) perBlock.set(t.finalHeight!, (perBlock.get(t.finalHeight!) ?? 0) + 1)
  return {
    offeredTps: submits.length > 1 && lastSubmit > firstSubmit ? (submits.length / (lastSubmit - firstSubmit)) * 1000 : undefined,
    finalTps: finals.length && lastFinal > firstSubmit ? (finals.length / (lastFinal - firstSubmit)) * 1000 : undefined,
    span: finals.length ? (lastFinal - firstSubmit) / 1000 : undefined,
    maxSendLagMs: outcomes.reduce((a, t) => (t.submitAt === undefined ? a : Math.max(a, t.submitAt - t.dueAt)), 0),
    final: finals.length,
    lost: lostTxs.length,
    rejected: rejectedTxs.length,
    steadyTps: finals.length > 1 && lastFinal > firstFinal ? (finals.length / (lastFinal - firstFinal)) * 1000 : undefined,
    latency: latencyStats(latencies),
    confirmLatency: latencyStats(confirmLatencies),
    reconfirmed: finals.filter((t) => t.confirmedIn !== undefined && [...t.confirmedIn.keys()].some((h) => h !== t.finalHash)).length,
    ack: latencyStats(acks),
    blocks: heights.size,
    txsPerBlock: heights.size ? finals.length / heights.size : undefined,
    maxBlockTxs: perBlock.size ? [...perBlock.values()].reduce((a, b) => Math.max(a, b), 0) : undefined,
    blockInterval: intervalSpan,
    blockCapacity: Number(blockGasLimit / TRANSFER_GAS),
    failures: [...rejectedTxs.map((t) => ({ hash: t.hash, reason: t.error! })), ...lostTxs.map((t) => ({ hash: t.hash, reason: lostReason(t, firstRefusedNonce) }))],
  }
}

/** A lost tx whose sender had a lower nonce refused can never be included (a nonce gap); say so. */
function lostReason(t: TxOutcome, firstRefusedNonce: ReadonlyMap<string, number>): string {
  const refused = t.from === undefined ? undefined : firstRefusedNonce.get(t.from)
  if (refused !== undefined && t.nonce !== undefined && refused < t.nonce) return `not final: behind its sender's refused nonce ${refused}`
  if (t.confirmedIn?.size) return 'confirmed, but not final within the grace period'
  return 'not final within the grace period'
}

/** Failures counted by reason (nonces and hashes folded away), most frequent first. */
export function failureCounts(failures: ReadonlyArray<{ reason: string }>): Array<{ reason: string; count: number }> {
  const counts = new Map<string, number>()
  for (const f of failures) {
    const reason = firstLine(f.reason).replace(/nonce \d+/g, 'nonce N').replace(/0x[0-9a-fA-F]{8,}/g, '0x…')
    counts.set(reason, (counts.get(reason) ?? 0) + 1)
  }
  return [...counts.entries()].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count)
}

const MAX_FAILURES_LISTED = 10

export function bftJsonLine(r: BftResult): string {
  const sec = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? null : round(x, 3))
  return JSON.stringify({
    bench: 'bft',
    ok: r.ok,
    validators: r.validators,
    rate: r.rate,
    seconds: r.seconds,
    batch: r.batch,
    senders: r.senders,
    txs: r.txs,
    offeredTps: r.offeredTps === undefined ? null : round(r.offeredTps, 1),
    finalTps: r.finalTps === undefined ? null : round(r.finalTps, 1),
    final: r.final ?? null,
    lost: r.lost ?? null,
    rejected: r.rejected ?? null,
    p50: sec(r.latency?.p50),
    p90: sec(r.latency?.p90),
    p99: sec(r.latency?.p99),
    max: sec(r.latency?.max),
    ackP50: sec(r.ack?.p50),
    ackP99: sec(r.ack?.p99),
    maxSendLagMs: r.maxSendLagMs === undefined ? null : round(r.maxSendLagMs, 1),
    blocks: r.blocks ?? null,
    txsPerBlock: r.txsPerBlock === undefined ? null : round(r.txsPerBlock, 1),
    maxBlockTxs: r.maxBlockTxs ?? null,
    blockInterval: sec(r.blockInterval),
    agree: r.agreement?.agree ?? null,
    agreeHeight: r.agreement?.height ?? null,
    runner: r.runner ?? null,
    ...(r.failures?.length ? { failures: r.failures.slice(0, MAX_FAILURES_LISTED) } : {}),
    ...(r.error ? { error: r.error } : {}),
  })
}

export interface BftSection {
  result: BftResult
  machine: Machine
  command: string
  chain: { name: string; chainId: bigint; blockGasLimit: bigint; commitMs?: number; proposeMs?: number }
  /** Targets from the issue. */
  targetTps: number
  targetP50: number
}

/** The bft section of bench/RESULTS.md (pure). */
export function renderBftSection(s: BftSection): string {
  const r = s.result
  const lines = [
    `## BFT — ${r.validators}-validator ${s.chain.name} network under open-loop transfer load`,
    '',
    `${r.validators} validator processes of the \`${s.chain.name}\` chain (chain id ${s.chain.chainId}, BFT, free gas, block gas limit ` +
      `${s.chain.blockGasLimit.toLocaleString('en-US')} = at most ${Number(s.chain.blockGasLimit / TRANSFER_GAS).toLocaleString('en-US')} transfers per block` +
      `${s.chain.commitMs === undefined ? '' : `, ${s.chain.commitMs} ms commit wait between heights`}) on this machine, ` +
      `started fresh with their own datadirs. ${r.txs.toLocaleString('en-US')} EIP-1559 transfers (21,000 gas, fee cap 0, each to a new address) ` +
      `pre-signed from ${r.senders} fresh senders (funded in a setup block; at most ${Math.ceil(r.txs / Math.max(1, r.senders))} txs each, under the mempool's 64 per sender), ` +
      `each sender pinned to one validator. Open loop: transfer i is sent at i / ${r.rate} s whatever the nodes answer, ` +
      `in JSON-RPC batches of up to ${r.batch} \`eth_sendRawTransaction\`, round-robin over the validators' RPC endpoints, for ${r.seconds} s. ` +
      "Finality: validator 0's new heads over WebSocket; every new block is fetched and each of our txs in it is stamped with the time its head arrived " +
      '(BFT blocks are final once committed). submit-to-final = that time - the time its batch was sent. ' +
      `final tx/s = final txs / (last final - first submit). A tx not final ${r.graceSeconds} s after sending stops is lost; lost and refused txs are failures. ` +
      'Afterwards every validator must report the same block hash at their highest common height.',
    '',
  ]
  if (!r.ok && r.final === undefined) {
    lines.push(`**Run failed** (${r.error?.code ?? 'unknown'}): ${mdCell(firstLine(r.error?.message ?? ''))}`, '')
  } else {
    const f = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d))
    const tpsMet = (r.finalTps ?? 0) > s.targetTps
    const p50Met = (r.latency?.p50 ?? Infinity) < s.targetP50
    lines.push(
      '| offered tx/s | final tx/s | p50 s | p90 s | p99 s | max s | final | lost | refused | blocks | txs/block (max) | block interval s | agree |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      `| ${f(r.offeredTps, 0)} | **${f(r.finalTps, 0)}** | **${f(r.latency?.p50)}** | ${f(r.latency?.p90)} | ${f(r.latency?.p99)} | ${f(r.latency?.max)} | ` +
        `${r.final ?? '—'} | ${r.lost ?? '—'} | ${r.rejected ?? '—'} | ${r.blocks ?? '—'} | ${f(r.txsPerBlock, 0)} (${r.maxBlockTxs ?? '—'}) | ${f(r.blockInterval)} | ` +
        `${r.agreement ? `${r.agreement.agree ? 'yes' : '**NO**'} at ${r.agreement.height}` : '—'} |`,
      '',
      `Targets: final tx/s > ${s.targetTps.toLocaleString('en-US')}: **${tpsMet ? 'met' : 'NOT met'}**; p50 submit-to-final < ${s.targetP50} s: **${p50Met ? 'met' : 'NOT met'}**. ` +
        "(Besu's published QBFT figure with 4 validators: 520-645 ERC-20 transfers/s.)",
      '',
      `Submit (batch sent to node's answer): p50 ${f(r.ack?.p50, 3)} s, p99 ${f(r.ack?.p99, 3)} s; batches left at most ${f(r.maxSendLagMs, 0)} ms after their due time.` +
        (r.cpu ? ` ${describeCpu(r.cpu)}` : '') +
        (r.nodeLogs
          ? ` Node logs: ${r.nodeLogs.laterRounds} final block(s) decided after round 0 (max round ${r.nodeLogs.maxRound}), ${r.nodeLogs.invalidProposals} invalid proposal(s)` +
            `${Object.keys(r.nodeLogs.warnings).length ? `, warnings: ${Object.entries(r.nodeLogs.warnings).map(([m, n]) => `${mdCell(m)} x${n}`).join(', ')}` : ''}.`
          : ''),
    )
    if (r.websocketProblem) lines.push('', `**Note:** new heads were polled once a second (WebSocket: ${mdCell(r.websocketProblem)}), so finality times may be up to 1 s late.`)
    if (r.profile) {
      lines.push(
        '',
        `CPU profile of validator ${r.profile.validator} during the load (\`${r.profile.file}\`): idle ${r.profile.idlePercent.toFixed(0)}%; busy time by area: ` +
          `${r.profile.areas.map((a) => `${mdCell(a.area)} ${a.percent.toFixed(0)}%`).join(', ')}.`,
      )
    }
    if (r.failures?.length) {
      const byReason = failureCounts(r.failures).map((c) => `${c.count} ${mdCell(c.reason)}`)
      lines.push('', `Failures (${r.failures.length}): ${byReason.join('; ')}. ${r.failures.length > MAX_FAILURES_LISTED ? `The first ${MAX_FAILURES_LISTED}` : 'All'}:`, '')
      for (const x of r.failures.slice(0, MAX_FAILURES_LISTED)) lines.push(`- \`${x.hash}\`: ${mdCell(firstLine(x.reason))}`)
    }
    if (r.error) lines.push('', `**Error** (${r.error.code}): ${mdCell(firstLine(r.error.message))}`)
  }
  lines.push(
    '',
    `Machine: ${s.machine.cores} cores (${s.machine.cpu}), Node ${s.machine.node}, ${s.machine.platform}, ${s.machine.date}; the ${r.validators} validators and the load generator share it. Nodes ran from ${r.runner ?? 'unknown'}.`,
    '',
    `Command (from the repo root): \`${s.command}\``,
  )
  return lines.join('\n')
}

/** "CPU during the load (12.3 s on 2 cores): validators 5.1 + 4.9 + ... s, load generator 1.2 s = 87% of the machine." */
export function describeCpu(c: NonNullable<BftResult['cpu']>): string {
  const vs = c.validators.map((x) => (x === undefined ? '?' : x.toFixed(1)))
  const known = c.validators.reduce<number>((a, x) => a + (x ?? 0), 0) + c.generator
  const share = c.seconds > 0 ? (known * 100) / (c.seconds * c.cores) : 0
  const perTx = c.perFinalTxMs === undefined ? '' : `; the validators used ${c.perFinalTxMs.toFixed(2)} CPU-ms per final transfer (all ${c.validators.length} together)`
  return `CPU from the first submit to the last final tx (${c.seconds.toFixed(1)} s on ${c.cores} cores): validators ${vs.join(' + ')} s, load generator ${c.generator.toFixed(1)} s = ${share.toFixed(0)}% of the machine${perTx}.`
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? ''
}

function round(n: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** The progress line while the load runs. */
export function formatLoadProgress(p: LoadProgress): string {
  const secs = p.elapsedMs / 1000
  const rate = secs > 0 ? Math.round(p.final / secs) : 0
  return (
    `[bft] ${secs.toFixed(1)} s  sent ${p.sent}/${p.total}  final ${p.final} (${rate}/s)  pending ${p.sent - p.final - p.rejected}` +
    `  refused ${p.rejected}  height ${p.height} (last block ${p.lastBlockTxs} txs)`
  )
}
