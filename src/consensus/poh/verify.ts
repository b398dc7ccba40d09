/**
 * PoH verification: re-computes every hash of a list of entries from a start hash and checks
 * each entry's claimed hash, sequentially (verifyEntriesSync, a pure function) or in parallel
 * (PohVerifier, on worker threads).
 *
 * Parallel verification works because every entry states the hash it ends on: the list is cut
 * into k segments of about equal hash counts, segment j starting from the claimed hash of the
 * entry before it, and the segments are hashed at once on k threads. If every segment checks,
 * every claimed hash follows from the one before, so the whole chain does. The first failure
 * reported is the lowest failing entry: a failure in segment j stops the segments after j
 * (they cannot hold an earlier one) and waits only for those before it.
 *
 * Both refuse, before hashing anything, a list whose entry count, tx count or claimed total of
 * hashes is over the caller's limits (for a block: its slots' hash budget plus slack), so a
 * peer cannot make a node hash more than one honest block's worth.
 * @module
 */
import os from 'node:os'
import type { Worker } from 'node:worker_threads'
import { PohError } from './errors.ts'
import type { PohEntry } from './sequence.ts'
import { packEntries, precheck, runEntries, splitSegments, type PohLimits } from './verify-segment.ts'
import type { VerifyReply, VerifyTask } from './verify-worker.ts'
import { startPohWorker } from './worker-start.ts'

export type { PohLimits } from './verify-segment.ts'

export interface PohVerified {
  /** The hash the last entry ends on (the start hash for an empty list). */
  endHash: Uint8Array
  hashes: number
  entries: number
}

/**
 * Verifies `entries` from `start` on this thread. Returns the end hash; throws PohError:
 * BAD_ARGUMENT, BAD_ENTRY, TOO_MANY_ENTRIES, TOO_MANY_TXS or TOO_MANY_HASHES before hashing,
 * BAD_POH (with the entry index) when an entry's hash does not follow.
 */
export function verifyEntriesSync(start: Uint8Array, entries: PohEntry[], limits: PohLimits): PohVerified {
  const work = precheck(start, entries, limits)
  const r = runEntries(start, entries)
  if ('stopped' in r) throw new PohError('CANCELLED', 'PoH verification stopped') // no stop function: unreachable
  if (!r.ok) throw badPoh(r.index)
  return { endHash: r.endHash, hashes: work.hashes, entries: entries.length }
}

function badPoh(index: number): PohError {
  return new PohError('BAD_POH', `PoH entry ${index}: its hash does not follow from the previous entry's`, { index })
}

export interface PohVerifierOptions {
  /** Verification threads (default os.availableParallelism(), at most 64). */
  threads?: number
  /** Jobs that may wait or run at once (default 64); past it verify() fails with BUSY. */
  maxJobs?: number
}

export interface VerifyOptions {
  /** Segments to cut the list into (default: one per thread). */
  segments?: number
  /** Aborting rejects the job with CANCELLED and stops its threads at their next look. */
  signal?: AbortSignal
}

export interface PohVerifierStats {
  threads: number
  /** Threads alive now. */
  live: number
  busy: number
  /** Segments waiting for a thread. */
  queued: number
  jobs: number
  verifiedHashes: number
}

interface Job {
  id: number
  segments: number
  /** Int32Array over the job's SharedArrayBuffer: the lowest failed segment, -1 if cancelled. */
  control: Int32Array
  /** Segment index -> result, as they arrive. */
  done: (VerifyReply | undefined)[]
  lastHash: Uint8Array
  result: PohVerified
  settled: boolean
  resolve: (v: PohVerified) => void
  reject: (e: Error) => void
  onAbort?: () => void
  signal?: AbortSignal
}

interface Thread {
  worker: Worker
  task?: VerifyTask
}

const DEFAULT_MAX_JOBS = 64

export class PohVerifier {
  readonly threads: number
  private readonly maxJobs: number
  private readonly pool: (Thread | undefined)[]
  private readonly queue: VerifyTask[] = []
  private readonly jobs = new Map<number, Job>()
  private nextJob = 1
  private closed = false
  private verifiedHashes = 0

  constructor(opts: PohVerifierOptions = {}) {
    this.threads = opts.threads ?? os.availableParallelism()
    if (!Number.isInteger(this.threads) || this.threads < 1 || this.threads > 64) {
      throw new PohError('BAD_ARGUMENT', `threads must be a whole number from 1 to 64, got ${String(opts.threads)}`)
    }
    this.maxJobs = opts.maxJobs ?? DEFAULT_MAX_JOBS
    if (!Number.isInteger(this.maxJobs) || this.maxJobs < 1) throw new PohError('BAD_ARGUMENT', `maxJobs must be a whole number >= 1, got ${String(opts.maxJobs)}`)
    this.pool = new Array(this.threads).fill(undefined)
  }

  /**
   * Verifies `entries` from `start` on the threads. Resolves with the end hash; rejects with the
   * PohError verifyEntriesSync would throw (the same first failing index), or BUSY, CLOSED,
   * CANCELLED, WORKER_FAILED. The cheap checks run here, synchronously, before any thread works.
   */
  verify(start: Uint8Array, entries: PohEntry[], limits: PohLimits, opts: VerifyOptions = {}): Promise<PohVerified> {
    try {
      if (this.closed) throw new PohError('CLOSED', 'the PoH verifier is closed')
      if (opts.signal?.aborted) throw new PohError('CANCELLED', 'PoH verification was cancelled')
      const segments = opts.segments ?? this.threads
      if (!Number.isInteger(segments) || segments < 1 || segments > 1024) {
        throw new PohError('BAD_ARGUMENT', `segments must be a whole number from 1 to 1024, got ${String(opts.segments)}`)
      }
      const work = precheck(start, entries, limits)
      if (this.jobs.size >= this.maxJobs) throw new PohError('BUSY', `${this.jobs.size} PoH verifications are in progress; try again later`)
      const result: PohVerified = { endHash: Uint8Array.from(start), hashes: work.hashes, entries: entries.length }
      if (entries.length === 0) return Promise.resolve(result)
      return this.submit(start, entries, segments, result, opts.signal)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  stats(): PohVerifierStats {
    return {
      threads: this.threads,
      live: this.pool.filter(Boolean).length,
      busy: this.pool.filter((t) => t?.task).length,
      queued: this.queue.length,
      jobs: this.jobs.size,
      verifiedHashes: this.verifiedHashes,
    }
  }

  /** Fails every job with CLOSED and terminates the threads. Idempotent. */
  async close(): Promise<void> {
    this.closed = true
    for (const job of [...this.jobs.values()]) this.fail(job, new PohError('CLOSED', 'the PoH verifier is closed'))
    this.queue.length = 0
    const threads = this.pool.splice(0, this.pool.length, ...new Array<undefined>(this.pool.length))
    await Promise.all(threads.map((t) => t?.worker.terminate()))
  }

  private submit(start: Uint8Array, entries: PohEntry[], segments: number, result: PohVerified, signal?: AbortSignal): Promise<PohVerified> {
    const starts = splitSegments(entries, segments)
    const control = new Int32Array(new SharedArrayBuffer(4))
    control[0] = starts.length
    return new Promise<PohVerified>((resolve, reject) => {
      const job: Job = {
        id: this.nextJob++,
        segments: starts.length,
        control,
        done: new Array(starts.length).fill(undefined),
        lastHash: Uint8Array.from(entries[entries.length - 1]!.hash), // the caller may reuse its arrays meanwhile
        result,
        settled: false,
        resolve,
        reject,
      }
      if (signal) {
        job.signal = signal
        job.onAbort = () => this.fail(job, new PohError('CANCELLED', 'PoH verification was cancelled'))
        signal.addEventListener('abort', job.onAbort, { once: true })
      }
      this.jobs.set(job.id, job)
      starts.forEach((from, seg) => {
        const to = starts[seg + 1] ?? entries.length
        this.queue.push({
          job: job.id,
          seg,
          start: Uint8Array.from(from === 0 ? start : entries[from - 1]!.hash),
          offset: from,
          packed: packEntries(entries, from, to),
          control: control.buffer as SharedArrayBuffer,
        })
      })
      this.pump()
    })
  }

  /** Hands queued segments to idle threads, starting threads as needed. */
  private pump(): void {
    for (let i = 0; i < this.pool.length && this.queue.length > 0; i++) {
      let thread = this.pool[i]
      if (thread?.task) continue
      const task = this.queue.shift()!
      if (!thread) {
        try {
          thread = this.startThread(i)
        } catch (err) {
          const job = this.jobs.get(task.job)
          if (job) this.fail(job, err as Error)
          continue
        }
      }
      thread.task = task
      thread.worker.ref() // a thread at work keeps the process alive; an idle one does not
      thread.worker.postMessage(task, [task.packed])
    }
  }

  private startThread(i: number): Thread {
    const worker = startPohWorker('verify-worker', undefined)
    const thread: Thread = { worker }
    this.pool[i] = thread
    worker.unref()
    worker.on('message', (reply: VerifyReply) => this.onReply(thread, reply))
    worker.on('error', (err) => this.onThreadFailure(i, thread, err))
    worker.on('exit', (code) => this.onThreadFailure(i, thread, new Error(`exited with code ${code}`)))
    return thread
  }

  private onReply(thread: Thread, reply: VerifyReply): void {
    thread.task = undefined
    thread.worker.unref()
    const job = this.jobs.get(reply.job)
    if (job && !job.settled) {
      job.done[reply.seg] = reply
      this.settleIfKnown(job)
    }
    this.pump()
  }

  /** Settles the job once its first failure is known for sure, or every segment checked. */
  private settleIfKnown(job: Job): void {
    for (let seg = 0; seg < job.segments; seg++) {
      const r = job.done[seg]
      if (r === undefined) return // an earlier segment is still running: it may fail earlier
      if ('stopped' in r) return // only segments after a failure stop, and that failure comes first
      if (!r.ok) return this.fail(job, badPoh(r.index))
    }
    this.verifiedHashes += job.result.hashes
    this.finish(job)
    job.result.endHash = job.lastHash
    job.resolve(job.result)
  }

  private fail(job: Job, err: Error): void {
    if (job.settled) return
    // Stop the job's running segments and drop its queued ones.
    Atomics.store(job.control, 0, -1)
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.job === job.id) this.queue.splice(i, 1)
    this.finish(job)
    job.reject(err)
  }

  private finish(job: Job): void {
    job.settled = true
    this.jobs.delete(job.id)
    if (job.signal && job.onAbort) job.signal.removeEventListener('abort', job.onAbort)
  }

  private onThreadFailure(i: number, thread: Thread, err: Error): void {
    if (this.pool[i] !== thread) return // already replaced or closed
    this.pool[i] = undefined
    void thread.worker.terminate()
    const job = thread.task && this.jobs.get(thread.task.job)
    if (job) this.fail(job, new PohError('WORKER_FAILED', `a PoH verification thread failed: ${err.message}`, { cause: err }))
    this.pump()
  }
}
