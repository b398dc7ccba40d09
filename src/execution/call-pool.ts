/**
 * eth_call, eth_estimateGas and eth_createAccessList on worker threads, so that no call, however long, delays
 * block production, consensus votes or the rest of the RPC (geth runs calls on their own
 * goroutines for the same reason). Each thread (call-worker.ts) runs one job at a time with
 * the node's own CallRunner over state it reads through the main thread (state-channel.ts).
 *
 * Every job has a deadline (the RPC evm timeout, geth's --rpc.evmtimeout; a JSON-RPC batch
 * shares one; time spent loading a thread does not count). A job still queued at its deadline
 * fails without running; a job still running is stopped by terminating its thread, which ends
 * even a loop that never yields, and a fresh thread takes its place. Jobs wait in one bounded FIFO queue; past it callers are told to
 * come back later instead of piling up memory.
 *
 * Threads start on the first job and keep the process alive only while they run one.
 * @module
 */
import os from 'node:os'
import { MessageChannel, Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { KeyValueStore } from '../storage/index.ts'
import type { AccessListResult } from './access-list.ts'
import { CallError, type CallGas, type CallOptions, type CallOutcome, type CallRequest, type CallService } from './call.ts'
import type { CallJob, CallJobResult, CallWorkerInit, CallWorkerReady } from './call-worker.ts'
import type { BlockContext } from './evm-context.ts'
import { serveStateReads } from './state-channel.ts'
import { startWorkerModule } from './worker-start.ts'
import type { RecoveredKey, RecoveryBody } from './sender-recovery.ts'
import type { ChunkJob, ChunkResult } from './parallel/chunk.ts'

export interface CallPoolOptions {
  store: KeyValueStore
  /** Canonical block hashes, for BLOCKHASH. */
  hashAt: (height: bigint) => Uint8Array | undefined
  /** The chain id in force at a height (calls run under their block's). */
  chainIdAt: (height: bigint) => bigint
  /** Worker threads (default: one per core beyond the first, at least 1, at most 2). */
  threads?: number
  /** A job's time limit when the caller sets no deadline, in ms (default 5000; 0 = none). */
  timeoutMs?: number
  /** Jobs that may wait for a thread (default 256); past it calls fail at once with CALL_BUSY. */
  maxQueued?: number
  logger?: Logger
}

export const DEFAULT_CALL_TIMEOUT_MS = 5000
export const DEFAULT_MAX_QUEUED_CALLS = 256

export function defaultCallThreads(): number {
  return Math.max(1, Math.min(2, os.availableParallelism() - 1))
}

/** The call ran out of time (or its batch's time): geth's "execution aborted (timeout = 5s)". */
export class CallTimeoutError extends Error {
  readonly code = 'CALL_TIMEOUT'
}

/** Too many calls waiting for a thread. */
export class CallBusyError extends Error {
  readonly code = 'CALL_BUSY'
}

/** A call thread failed to start or died (not the call's fault), or the pool is closed. */
export class CallPoolError extends Error {
  constructor(
    readonly code: 'WORKER_FAILED' | 'CLOSED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface CallPoolStats {
  threads: number
  /** Threads alive now. */
  live: number
  /** Threads loaded and able to take a job now (a loading one is live, not loaded). */
  loaded: number
  busy: number
  queued: number
  /** Jobs that hit their deadline; threads terminated for it. */
  timedOut: number
  terminated: number
}

/** A job as its caller describes it; the pool gives it an id. */
type JobBody = CallJob extends infer J ? (J extends CallJob ? Omit<J, 'id'> : never) : never

interface Pending {
  job: CallJob
  deadline: number
  timer?: NodeJS.Timeout
  settled?: boolean
  resolve: (r: CallJobResult & { ok: true }) => void
  reject: (err: Error) => void
}

interface Slot {
  worker?: Worker
  ready?: Promise<void>
  /** The thread has loaded and takes jobs. */
  loaded?: boolean
  stopReads?: () => void
  running?: Pending
}

export class CallPool implements CallService {
  readonly threads: number
  private readonly timeoutMs: number
  private readonly maxQueued: number
  private readonly slots: Slot[]
  private readonly queue: Pending[] = []
  private nextId = 1
  private closed = false
  private timedOut = 0
  private terminated = 0

  constructor(private readonly o: CallPoolOptions) {
    this.threads = o.threads ?? defaultCallThreads()
    this.timeoutMs = o.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    this.maxQueued = o.maxQueued ?? DEFAULT_MAX_QUEUED_CALLS
    this.slots = Array.from({ length: this.threads }, () => ({}))
  }

  async call(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: CallGas, opts?: CallOptions): Promise<CallOutcome> {
    return (await this.submit({ kind: 'call', chainId: this.o.chainIdAt(ctx.height), stateRoot, ctx, req, gas }, opts)).outcome!
  }

  async estimateGas(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: CallGas, opts?: CallOptions): Promise<bigint> {
    return (await this.submit({ kind: 'estimate', chainId: this.o.chainIdAt(ctx.height), stateRoot, ctx, req, gas }, opts)).estimate!
  }

  async createAccessList(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: CallGas, parallel: boolean, opts?: CallOptions): Promise<AccessListResult> {
    return (await this.submit({ kind: 'accessList', chainId: this.o.chainIdAt(ctx.height), stateRoot, ctx, req, gas, parallel }, opts)).accessList!
  }

  /** Executes a chunk of a batch of txs over the state shipped with it (execution/parallel). */
  async exec(chunk: ChunkJob, opts?: CallOptions): Promise<ChunkResult> {
    return (await this.submit({ kind: 'exec', chainId: chunk.chainId, chunk }, opts)).exec!
  }

  /** The senders of the txs in `bodies` (those that decode and carry a valid signature), recovered on a thread. */
  async recoverSenders(bodies: RecoveryBody[], opts?: CallOptions): Promise<RecoveredKey[]> {
    return (await this.submit({ kind: 'recover', bodies }, opts)).recovered ?? []
  }

  stats(): CallPoolStats {
    return {
      threads: this.threads,
      live: this.slots.filter((s) => s.worker).length,
      loaded: this.slots.filter((s) => s.worker && s.loaded).length,
      busy: this.slots.filter((s) => s.running).length,
      queued: this.queue.length,
      timedOut: this.timedOut,
      terminated: this.terminated,
    }
  }

  /**
   * Starts every thread now instead of at its first job (loading one takes a second or more from
   * TypeScript source): a node that executes blocks on threads calls it at start, so its first
   * parallel block does not pay for the loading. Jobs that come meanwhile wait for the same load.
   */
  async warm(): Promise<void> {
    if (this.closed) return
    await Promise.all(this.slots.map((slot) => this.startThread(slot)))
  }

  /** The message of a timeout, as geth words it. */
  timeoutMessage(): string {
    return `execution aborted (timeout = ${formatSeconds(this.timeoutMs)})`
  }

  /** Stops every thread; queued and running jobs fail with CLOSED. */
  async close(): Promise<void> {
    this.closed = true
    const closing = new CallPoolError('CLOSED', 'the node is shutting down')
    for (const p of this.queue.splice(0)) this.settle(p, closing)
    await Promise.all(
      this.slots.map((slot) => {
        if (slot.running) this.settle(slot.running, closing)
        return this.stopThread(slot)
      }),
    )
  }

  private submit(body: JobBody, opts?: CallOptions) {
    if (this.closed) return Promise.reject(new CallPoolError('CLOSED', 'the node is shutting down'))
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new CallBusyError(`too many calls in progress (${this.maxQueued} waiting); try again later`))
    }
    const now = Date.now()
    const deadline = opts?.deadline ?? (this.timeoutMs > 0 ? now + this.timeoutMs : Number.POSITIVE_INFINITY)
    if (deadline <= now) return Promise.reject(new CallTimeoutError(this.timeoutMessage()))
    const job = { id: this.nextId++, ...body } as CallJob
    return new Promise<CallJobResult & { ok: true }>((resolve, reject) => {
      const pending: Pending = { job, deadline, resolve, reject }
      if (Number.isFinite(deadline)) pending.timer = setTimeout(() => this.expire(pending), deadline - now)
      this.queue.push(pending)
      this.pump()
    })
  }

  /** Gives queued jobs to idle threads, starting threads as needed. */
  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return
      if (slot.running) continue
      const pending = this.queue.shift()!
      slot.running = pending
      void this.runOn(slot, pending)
    }
  }

  private async runOn(slot: Slot, pending: Pending): Promise<void> {
    // Loading a thread (a second or more from TypeScript source) is not the call's time: its
    // clock stops meanwhile, so the first call after a start or a timeout is not cut short.
    const paused = slot.loaded ? undefined : this.pauseClock(pending)
    try {
      await this.startThread(slot)
    } catch (err) {
      this.settle(pending, err as Error)
      this.pump()
      return
    }
    if (paused !== undefined) this.resumeClock(pending, paused)
    // The job may have ended (pool closed) while the thread started.
    if (slot.running !== pending || !slot.worker) return
    slot.worker.ref() // a running job keeps the process alive; an idle thread does not
    slot.worker.postMessage(pending.job)
  }

  private pauseClock(pending: Pending): number {
    if (pending.timer) clearTimeout(pending.timer)
    pending.timer = undefined
    return Date.now()
  }

  private resumeClock(pending: Pending, pausedAt: number): void {
    if (pending.settled || !Number.isFinite(pending.deadline)) return
    pending.deadline += Date.now() - pausedAt
    pending.timer = setTimeout(() => this.expire(pending), Math.max(0, pending.deadline - Date.now()))
  }

  private startThread(slot: Slot): Promise<void> {
    if (slot.ready) return slot.ready
    const channel = new MessageChannel()
    const signal = new SharedArrayBuffer(4)
    const init: CallWorkerInit = { reads: channel.port1, signal }
    const worker = startWorker(init, [channel.port1])
    worker.unref()
    slot.worker = worker
    slot.stopReads = serveStateReads(channel.port2, new Int32Array(signal), this.o.store, this.o.hashAt)
    slot.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: CallJobResult | CallWorkerReady) => {
        if ('ready' in msg) {
          slot.loaded = true
          return resolve()
        }
        this.finished(slot, worker, msg)
      })
      worker.once('error', (err) => {
        this.o.logger?.error({ err }, 'call thread failed')
        reject(new CallPoolError('WORKER_FAILED', `call thread failed: ${err.message}`, { cause: err }))
        this.lost(slot, worker, err)
      })
      worker.once('exit', (code) => {
        reject(new CallPoolError('WORKER_FAILED', `call thread exited (code ${code}) before it was ready`))
        this.lost(slot, worker, new Error(`call thread exited with code ${code}`))
      })
    })
    return slot.ready
  }

  private finished(slot: Slot, worker: Worker, result: CallJobResult): void {
    const pending = slot.running
    if (slot.worker !== worker || !pending || pending.job.id !== result.id) return
    slot.running = undefined
    worker.unref()
    if (result.ok) this.settle(pending, undefined, result)
    else if (result.error.call) this.settle(pending, Object.assign(new CallError(result.error.message), result.error.outcome ? { outcome: result.error.outcome } : {}))
    else {
      this.o.logger?.error({ err: { message: result.error.message, stack: result.error.stack } }, 'call failed inside its thread')
      this.settle(pending, new CallPoolError('WORKER_FAILED', `call failed: ${result.error.message}`))
    }
    this.pump()
  }

  /** A thread died on its own (not terminated by us): its job fails, the next job starts a new one. */
  private lost(slot: Slot, worker: Worker, err: Error): void {
    if (slot.worker !== worker) return
    const pending = slot.running
    slot.running = undefined
    this.forget(slot)
    if (pending) this.settle(pending, new CallPoolError('WORKER_FAILED', `call thread failed: ${err.message}`, { cause: err }))
    if (!this.closed) this.pump()
  }

  private expire(pending: Pending): void {
    pending.timer = undefined
    this.timedOut++
    const queued = this.queue.indexOf(pending)
    if (queued >= 0) this.queue.splice(queued, 1)
    const slot = this.slots.find((s) => s.running === pending)
    this.settle(pending, new CallTimeoutError(this.timeoutMessage()))
    if (!slot) return
    // The only way to stop a loop that never yields: end its thread, and start a fresh one now
    // so the next job does not wait for it.
    slot.running = undefined
    this.terminated++
    void this.stopThread(slot).then(() => {
      if (this.closed) return
      void this.startThread(slot).catch(() => undefined)
      this.pump()
    })
  }

  private async stopThread(slot: Slot): Promise<void> {
    const worker = slot.worker
    this.forget(slot)
    if (worker) await worker.terminate()
  }

  private forget(slot: Slot): void {
    slot.stopReads?.()
    slot.worker = undefined
    slot.ready = undefined
    slot.loaded = false
    slot.stopReads = undefined
  }

  private settle(pending: Pending, err: Error | undefined, result?: CallJobResult & { ok: true }): void {
    if (pending.settled) return
    pending.settled = true
    if (pending.timer) clearTimeout(pending.timer)
    pending.timer = undefined
    if (err) pending.reject(err)
    else pending.resolve(result!)
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

/** The thread runs call-worker.ts (call-worker.js from dist/). */
function startWorker(workerData: CallWorkerInit, transferList: CallWorkerInit['reads'][]): Worker {
  return startWorkerModule(import.meta.url, 'call-worker', { workerData, transferList })
}
