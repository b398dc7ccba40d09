/**
 * The PoH generator: runs the hash chain without pause on its own worker thread
 * (generator-worker.ts), so block production, RPC and everything else on the main thread never
 * slow the clock, and hands the entries it makes to listeners here.
 *
 * - Ticks: every hashesPerTick hashes; after every ticksPerSlot ticks a slot ends (onSlot).
 * - record(txHashes) mixes tx hashes into the chain as one entry and resolves with it.
 * - reset(hash, tickHeight) restarts the chain from another hash (a new fork's parent end
 *   hash): entries of the old chain still on their way are dropped, pending records fail with
 *   CANCELLED.
 * - hashrate() is hashes per second over the last few seconds.
 *
 * Protocol: commands (record, reset, stop) go on a dedicated MessagePort that the thread polls
 * with receiveMessageOnPort when a shared mail counter moves, so it never has to yield. Entries
 * come back in batches (one per tick, or per handful of records) on the thread's own port.
 * Bounds: at most maxPendingRecords records wait for their entry (past it record() fails with
 * BUSY at once); at most maxBacklog batches are posted and not yet taken by this thread (past
 * it the clock waits for this thread: see generator-worker.ts); listeners get entries as they
 * arrive and nothing is kept here.
 * @module
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads'
import { PohError } from './errors.ts'
import { CTL_MAIL, CTL_SLOTS, CTL_STALLED_MS, CTL_STALLS, CTL_TAKEN, type GeneratorCommand, type GeneratorReport, type GeneratorWorkerInit } from './generator-worker.ts'
import { MAX_ENTRY_TXS, POH_HASH_BYTES, txRootOf, type PohEntry } from './sequence.ts'
import { checkClock } from './slot.ts'
import { startPohWorker } from './worker-start.ts'

export interface PohGeneratorOptions {
  startHash: Uint8Array
  hashesPerTick: number
  ticksPerSlot: number
  /** Ticks before startHash (slot s starts at tick s * ticksPerSlot); default 0. */
  tickHeight?: number
  /** Hashes between the thread's looks for commands (default 2048, ~0.6 ms). */
  checkEvery?: number
  /** Entry batches posted but not yet taken before the clock waits (default 1024). */
  maxBacklog?: number
  /** Records waiting for their entry before record() says BUSY (default 1024). */
  maxPendingRecords?: number
  /** Window of hashrate(), ms (default 3000). */
  hashrateWindowMs?: number
  /** Ticks no faster than this (ms, may be fractional); default 0: hash without pause. See generator-worker.ts. */
  minTickMs?: number
}

/** An entry the generator made, with where it sits on the clock. */
export interface GeneratedEntry {
  entry: PohEntry
  /** The slot the entry belongs to. */
  slot: number
  /** Ticks completed after this entry. */
  tickHeight: number
}

export interface SlotEnd {
  slot: number
  /** The hash of the slot's last tick: the next slot's start hash. */
  endHash: Uint8Array
  tickHeight: number
}

export interface PohGeneratorStats {
  hashes: number
  hashrate: number
  tickHeight: number
  slot: number
  pendingRecords: number
  /** Times the thread waited because this thread had not taken its entries, and for how long. */
  stalls: number
  stalledMs: number
  running: boolean
  /** Whether the thread exists (false once it has exited, after close() or a failure). */
  threadAlive: boolean
}

type Listener<T> = (value: T) => void

interface PendingRecord {
  gen: number
  txHashes: Uint8Array[]
  resolve: (e: GeneratedEntry) => void
  reject: (e: Error) => void
}

const DEFAULT_CHECK_EVERY = 2048
const DEFAULT_MAX_BACKLOG = 1024
const DEFAULT_MAX_PENDING_RECORDS = 1024
const DEFAULT_WINDOW_MS = 3000
const SAMPLE_EVERY_MS = 250

export class PohGenerator {
  readonly hashesPerTick: number
  readonly ticksPerSlot: number
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly control: Int32Array
  private readonly counters: BigInt64Array
  private readonly maxPendingRecords: number
  private readonly windowMs: number
  private readonly records = new Map<number, PendingRecord>()
  private readonly entryListeners = new Set<Listener<GeneratedEntry>>()
  private readonly slotListeners = new Set<Listener<SlotEnd>>()
  private readonly errorListeners = new Set<Listener<PohError>>()
  private readonly readyPromise: Promise<void>
  private readonly exited: Promise<void>
  private samples: { t: number; hashes: number }[] = []
  private readonly sampler: NodeJS.Timeout
  private gen = 0
  private nextRecord = 1
  private tickHeight: number
  private failure: PohError | undefined
  private closed = false
  private threadAlive = true

  constructor(opts: PohGeneratorOptions) {
    checkClock(opts)
    if (!(opts.startHash instanceof Uint8Array) || opts.startHash.length !== POH_HASH_BYTES) {
      throw new PohError('BAD_ARGUMENT', 'startHash must be 32 bytes')
    }
    this.hashesPerTick = opts.hashesPerTick
    this.ticksPerSlot = opts.ticksPerSlot
    this.tickHeight = checkTickHeight(opts.tickHeight ?? 0)
    const checkEvery = wholeIn('checkEvery', opts.checkEvery ?? DEFAULT_CHECK_EVERY, 1, 1 << 24)
    const maxBacklog = wholeIn('maxBacklog', opts.maxBacklog ?? DEFAULT_MAX_BACKLOG, 1, 1 << 20)
    this.maxPendingRecords = wholeIn('maxPendingRecords', opts.maxPendingRecords ?? DEFAULT_MAX_PENDING_RECORDS, 1, 1 << 20)
    this.windowMs = opts.hashrateWindowMs ?? DEFAULT_WINDOW_MS
    if (!(this.windowMs > 0)) throw new PohError('BAD_ARGUMENT', `hashrateWindowMs must be positive, got ${String(opts.hashrateWindowMs)}`)

    const control = new SharedArrayBuffer(4 * CTL_SLOTS)
    const counters = new SharedArrayBuffer(8)
    this.control = new Int32Array(control)
    this.counters = new BigInt64Array(counters)
    const { port1, port2 } = new MessageChannel()
    this.port = port1
    const init: GeneratorWorkerInit = {
      startHash: Uint8Array.from(opts.startHash),
      hashesPerTick: opts.hashesPerTick,
      tickHeight: this.tickHeight,
      checkEvery,
      maxBacklog,
      minTickMs: checkTickPace(opts.minTickMs),
      control,
      counters,
      port: port2,
    }
    this.worker = startPohWorker('generator-worker', init, [port2])
    let ready!: () => void
    this.readyPromise = new Promise<void>((resolve, reject) => {
      ready = resolve
      this.errorListeners.add(reject)
    })
    this.readyPromise.catch(() => {}) // a failure before ready() is asked for is reported there, or by stats
    this.worker.on('message', (m: GeneratorReport) => {
      if (m.type === 'ready') ready()
      else this.onEntries(m)
    })
    this.worker.on('error', (err) => this.onFailure(err))
    this.exited = new Promise<void>((resolve) => {
      this.worker.on('exit', (code) => {
        this.threadAlive = false
        resolve()
        if (!this.closed) this.onFailure(new Error(`exited with code ${code}`))
      })
    })
    this.sample()
    this.sampler = setInterval(() => this.sample(), SAMPLE_EVERY_MS)
    this.sampler.unref()
  }

  /** Resolves once the thread is hashing (loading it from TypeScript source takes a moment). */
  ready(): Promise<void> {
    return this.readyPromise
  }

  /** Calls `fn` with every entry made (ticks and records, in chain order). Returns an unsubscribe function. */
  onEntry(fn: Listener<GeneratedEntry>): () => void {
    this.entryListeners.add(fn)
    return () => this.entryListeners.delete(fn)
  }

  /** Calls `fn` at the end of every slot. */
  onSlot(fn: Listener<SlotEnd>): () => void {
    this.slotListeners.add(fn)
    return () => this.slotListeners.delete(fn)
  }

  /** Calls `fn` if the thread fails (WORKER_FAILED); the generator is then stopped. */
  onError(fn: Listener<PohError>): () => void {
    this.errorListeners.add(fn)
    return () => this.errorListeners.delete(fn)
  }

  /**
   * Mixes `txHashes` (1 to MAX_ENTRY_TXS hashes of 32 bytes) into the chain as one entry.
   * Resolves with the entry once made; rejects with BAD_ARGUMENT, BUSY, CANCELLED (a reset
   * came first), CLOSED or WORKER_FAILED.
   */
  record(txHashes: Uint8Array[]): Promise<GeneratedEntry> {
    try {
      this.checkOpen()
      if (!Array.isArray(txHashes) || txHashes.length === 0 || txHashes.length > MAX_ENTRY_TXS) {
        throw new PohError('BAD_ARGUMENT', `a record needs 1 to ${MAX_ENTRY_TXS} tx hashes`)
      }
      txHashes.forEach((t, i) => {
        if (!(t instanceof Uint8Array) || t.length !== POH_HASH_BYTES) throw new PohError('BAD_ARGUMENT', `tx hash ${i} must be 32 bytes`)
      })
      if (this.records.size >= this.maxPendingRecords) {
        throw new PohError('BUSY', `${this.records.size} records are waiting for the PoH thread; try again later`)
      }
    } catch (err) {
      return Promise.reject(err)
    }
    const id = this.nextRecord++
    const copies = txHashes.map((t) => Uint8Array.from(t))
    // The root is computed here, so the clock's thread spends nothing on records but one hash.
    const txRoot = txRootOf(copies)
    return new Promise<GeneratedEntry>((resolve, reject) => {
      this.records.set(id, { gen: this.gen, txHashes: copies, resolve, reject })
      this.command({ type: 'record', id, txRoot })
    })
  }

  /**
   * Continues the chain from `hash` with `tickHeight` ticks behind it (a fork's parent end hash
   * and its tick height), at once: no entry of the old chain reaches listeners after this call.
   */
  reset(hash: Uint8Array, tickHeight: number): void {
    this.checkOpen()
    if (!(hash instanceof Uint8Array) || hash.length !== POH_HASH_BYTES) throw new PohError('BAD_ARGUMENT', 'the reset hash must be 32 bytes')
    checkTickHeight(tickHeight)
    this.gen++
    this.tickHeight = tickHeight
    this.rejectRecords(new PohError('CANCELLED', 'the PoH generator was reset before the record was made'))
    this.command({ type: 'reset', gen: this.gen, hash: Uint8Array.from(hash), tickHeight })
  }

  /** Hashes per second over the last few seconds. */
  hashrate(): number {
    const now = performance.now()
    this.prune(now)
    const first = this.samples[0]
    if (!first || now <= first.t) return 0
    return (this.totalHashes() - first.hashes) / ((now - first.t) / 1000)
  }

  stats(): PohGeneratorStats {
    return {
      hashes: this.totalHashes(),
      hashrate: this.hashrate(),
      tickHeight: this.tickHeight,
      slot: Math.floor(this.tickHeight / this.ticksPerSlot),
      pendingRecords: this.records.size,
      stalls: Atomics.load(this.control, CTL_STALLS),
      stalledMs: Atomics.load(this.control, CTL_STALLED_MS),
      running: !this.closed && this.failure === undefined,
      threadAlive: this.threadAlive,
    }
  }

  /** Stops the thread (pending records fail with CLOSED) and waits until it is gone. Idempotent. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      clearInterval(this.sampler)
      this.rejectRecords(new PohError('CLOSED', 'the PoH generator is closed'))
      if (this.failure === undefined) this.command({ type: 'stop' })
      this.port.close()
      await this.worker.terminate()
    }
    await this.exited
  }

  private command(cmd: GeneratorCommand): void {
    this.port.postMessage(cmd)
    Atomics.add(this.control, CTL_MAIL, 1)
    Atomics.notify(this.control, CTL_TAKEN) // wakes a thread waiting on its backlog
  }

  private onEntries(m: Extract<GeneratorReport, { type: 'entries' }>): void {
    Atomics.add(this.control, CTL_TAKEN, 1)
    Atomics.notify(this.control, CTL_TAKEN)
    for (const made of m.entries) {
      // Made before a reset (another fork), also one a listener did in the middle of this batch.
      if (m.gen !== this.gen || this.closed) return
      const rec = made.recordId === undefined ? undefined : this.records.get(made.recordId)
      if (made.recordId !== undefined) {
        this.records.delete(made.recordId)
        // Every record of this generation is pending until its entry comes: a missing one is a bug.
        if (!rec) return this.onFailure(new Error(`it made an entry for unknown record ${made.recordId}`))
      }
      const isTick = rec === undefined
      const tickHeight = made.ticksBefore + (isTick ? 1 : 0)
      this.tickHeight = tickHeight
      const entry: PohEntry = { numHashes: made.numHashes, hash: made.hash, txHashes: rec ? rec.txHashes : [] }
      const out: GeneratedEntry = { entry, slot: Math.floor(made.ticksBefore / this.ticksPerSlot), tickHeight }
      rec?.resolve(out)
      for (const fn of this.entryListeners) fn(out)
      if (isTick && tickHeight % this.ticksPerSlot === 0) {
        const end: SlotEnd = { slot: tickHeight / this.ticksPerSlot - 1, endHash: made.hash, tickHeight }
        for (const fn of this.slotListeners) fn(end)
      }
    }
  }

  private onFailure(err: Error): void {
    if (this.failure || this.closed) return
    this.failure = new PohError('WORKER_FAILED', `the PoH generator thread failed: ${err.message}`, { cause: err })
    clearInterval(this.sampler)
    this.rejectRecords(this.failure)
    for (const fn of this.errorListeners) fn(this.failure)
    void this.worker.terminate()
  }

  private rejectRecords(err: PohError): void {
    const pending = [...this.records.values()]
    this.records.clear()
    for (const r of pending) r.reject(err)
  }

  private checkOpen(): void {
    if (this.closed) throw new PohError('CLOSED', 'the PoH generator is closed')
    if (this.failure) throw this.failure
  }

  private totalHashes(): number {
    return Number(Atomics.load(this.counters, 0))
  }

  private sample(): void {
    const now = performance.now()
    this.samples.push({ t: now, hashes: this.totalHashes() })
    this.prune(now)
  }

  /** Keeps one sample at or before the window's start, so the rate covers the whole window. */
  private prune(now: number): void {
    while (this.samples.length > 1 && this.samples[1]!.t <= now - this.windowMs) this.samples.shift()
  }
}

function checkTickHeight(t: number): number {
  if (!Number.isSafeInteger(t) || t < 0) throw new PohError('BAD_ARGUMENT', `tickHeight must be a whole number >= 0, got ${String(t)}`)
  return t
}

function wholeIn(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new PohError('BAD_ARGUMENT', `${name} must be a whole number from ${min} to ${max}, got ${String(v)}`)
  return v
}

function checkTickPace(ms: number | undefined): number {
  if (ms === undefined) return 0
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 60_000) throw new PohError('BAD_ARGUMENT', `minTickMs must be a number of ms from 0 to 60000, got ${String(ms)}`)
  return ms
}
