/**
 * The Proof-of-Work miner: searches nonces on worker threads (miner-worker.ts) until one
 * makes powHash(sealHash, bits, nonce) <= target.
 *
 * Thread i of N tries startNonce + i, + i + N, + i + 2N, ... (mod 2^64), so threads never
 * repeat each other's work. One job runs at a time: a new `mine()` replaces the running one
 * at once (the old promise resolves undefined), as the engine rebuilds its block template
 * whenever a block or better transactions arrive. Workers learn of cancellation through a
 * shared generation counter they poll every few thousand attempts, and publish hash counts
 * through shared memory, so their loop never yields and hardly ever posts a message. Every
 * nonce a worker reports is re-checked here before `mine()` resolves with it.
 *
 * Workers start on the first `mine()` and hold the process open only while a job runs;
 * `close()` terminates them.
 * @module
 */
import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { checkBits, checkNonce, checkTarget, meetsTarget, powHash } from './pow-hash.ts'
import type { MinerFoundMessage, MinerJobMessage, MinerWorkerInit } from './miner-worker.ts'

export interface MinerOptions {
  /** Worker threads; default os.availableParallelism(). */
  threads?: number
  /** Attempts a worker makes between looks for a cancelled job; default 4096 (a few ms). */
  checkEvery?: number
  /** Window of `hashrate()`, in ms; default 5000. */
  hashrateWindowMs?: number
}

export interface MiningJob {
  /** sha256d of the header encoded with an empty seal (32 bytes). */
  sealHash: Uint8Array
  /** The header's compact target (uint32); part of the preimage. */
  bits: number
  /** A proof is valid when powHash <= target. */
  target: bigint
  /** First nonce to try (uint64); default 0. */
  startNonce?: bigint
}

export interface MiningResult {
  nonce: bigint
  /** powHash of the nonce, recomputed and checked on the main thread. */
  hash: Uint8Array
  /** Hashes all threads computed for this job (other threads' counts lag by < checkEvery each). */
  attempts: bigint
}

export interface MinerStats {
  /** Configured worker threads. */
  threads: number
  /** Worker threads currently alive (0 before the first job and after close()). */
  workers: number
  /** Whether a job is running. */
  mining: boolean
  /** Hashes computed since the miner was created, all threads. */
  totalHashes: bigint
  /** Hashes per thread index. */
  perThread: bigint[]
  /** Same as hashrate(). */
  hashrate: number
  /** Jobs started, solutions found (verified), reports that failed verification. */
  jobs: number
  found: number
  rejected: number
}

export type MinerErrorCode = 'CLOSED' | 'BAD_JOB' | 'WORKER_FAILED'

export class MinerError extends Error {
  readonly code: MinerErrorCode
  constructor(code: MinerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'MinerError'
    this.code = code
  }
}

export const DEFAULT_CHECK_EVERY = 4096
const DEFAULT_WINDOW_MS = 5000
const SAMPLE_EVERY_MS = 500

const FROM_SOURCE = new URL(import.meta.url).pathname.endsWith('.ts')
/** The worker entry sits next to this module: .ts when run through tsx, .js in dist/. */
const WORKER_URL = new URL(FROM_SOURCE ? './miner-worker.ts' : './miner-worker.js', import.meta.url)

/**
 * How to start a mining thread. From dist/ the entry is plain JS. From source, `execArgv:
 * ['--import', 'tsx']` is not enough: before Node 22.22.3 tsx's loader registers its hooks on
 * the main thread only (it cannot tell a user worker from Node's internal loader thread), so
 * the worker would fail with ERR_UNKNOWN_FILE_EXTENSION. A small bootstrap registers tsx
 * explicitly, then imports the .ts entry; execArgv is emptied so that on newer Node an
 * inherited `--import tsx` does not register it a second time.
 */
function workerStarter(): (workerData: MinerWorkerInit) => Worker {
  if (!FROM_SOURCE) return (workerData) => new Worker(WORKER_URL, { workerData })
  let api: string
  try {
    api = import.meta.resolve('tsx/esm/api')
  } catch (err) {
    throw new MinerError('WORKER_FAILED', `running the miner from TypeScript source needs the tsx package: ${(err as Error).message}`, { cause: err })
  }
  const bootstrap =
    `import(${JSON.stringify(api)})` +
    `.then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
  return (workerData) => new Worker(bootstrap, { eval: true, workerData, execArgv: [] })
}

interface Pool {
  workers: Worker[]
  control: Int32Array
  counters: BigInt64Array
  live: number
  dead: boolean
}

interface ActiveJob {
  gen: number
  job: Required<MiningJob>
  startHashes: bigint
  resolve: (r: MiningResult | undefined) => void
  reject: (err: Error) => void
}

export class Miner {
  readonly threads: number
  private readonly checkEvery: number
  private readonly windowMs: number
  private pool: Pool | undefined
  private active: ActiveJob | undefined
  private closed = false
  /** Hashes of pools that are gone (after a worker failure), per thread index. */
  private readonly retired: bigint[]
  private samples: { t: number; hashes: bigint }[] = []
  private sampler: NodeJS.Timeout | undefined
  private jobs = 0
  private found = 0
  private rejected = 0

  constructor(opts: MinerOptions = {}) {
    this.threads = opts.threads ?? os.availableParallelism()
    if (!Number.isInteger(this.threads) || this.threads < 1 || this.threads > 1024) {
      throw new RangeError(`threads must be a whole number from 1 to 1024, got ${opts.threads}`)
    }
    this.checkEvery = opts.checkEvery ?? DEFAULT_CHECK_EVERY
    if (!Number.isInteger(this.checkEvery) || this.checkEvery < 1 || this.checkEvery > 1 << 24) {
      throw new RangeError(`checkEvery must be a whole number from 1 to ${1 << 24}, got ${opts.checkEvery}`)
    }
    this.windowMs = opts.hashrateWindowMs ?? DEFAULT_WINDOW_MS
    if (!(this.windowMs > 0)) throw new RangeError(`hashrateWindowMs must be positive, got ${opts.hashrateWindowMs}`)
    this.retired = Array.from({ length: this.threads }, () => 0n)
  }

  /**
   * Searches for a nonce meeting `job.target`. Resolves with the verified result, or undefined
   * when cancelled, replaced by another `mine()` or closed. Rejects with MinerError on a bad
   * job ('BAD_JOB'), a closed miner ('CLOSED') or a crashed worker ('WORKER_FAILED').
   */
  async mine(job: MiningJob): Promise<MiningResult | undefined> {
    if (this.closed) throw new MinerError('CLOSED', 'the miner is closed')
    const checked = checkJob(job)
    this.settle(undefined)
    const pool = this.ensurePool()
    Atomics.add(pool.control, 0, 1)
    const gen = Atomics.load(pool.control, 0)
    this.jobs++
    return new Promise<MiningResult | undefined>((resolve, reject) => {
      this.active = { gen, job: checked, startHashes: this.totalHashes(), resolve, reject }
      pool.workers.forEach((w, i) => {
        const msg: MinerJobMessage = {
          type: 'job',
          gen,
          sealHash: checked.sealHash,
          bits: checked.bits,
          target: checked.target,
          start: (checked.startNonce + BigInt(i)) & 0xffff_ffff_ffff_ffffn,
          stride: this.threads,
        }
        w.ref()
        w.postMessage(msg)
      })
    })
  }

  /** Stops the running job, if any; its `mine()` resolves undefined. */
  cancel(): void {
    this.settle(undefined)
  }

  /** Hashes per second over the last few seconds (hashrateWindowMs), all threads. */
  hashrate(): number {
    const now = performance.now()
    this.prune(now)
    const first = this.samples[0]
    if (!first || now <= first.t) return 0
    return Number(this.totalHashes() - first.hashes) / ((now - first.t) / 1000)
  }

  stats(): MinerStats {
    const perThread = this.retired.map((r, i) => r + (this.pool && !this.pool.dead ? BigInt.asUintN(64, this.pool.counters[i]!) : 0n))
    return {
      threads: this.threads,
      workers: this.pool?.live ?? 0,
      mining: this.active !== undefined,
      totalHashes: perThread.reduce((a, b) => a + b, 0n),
      perThread,
      hashrate: this.hashrate(),
      jobs: this.jobs,
      found: this.found,
      rejected: this.rejected,
    }
  }

  /** Cancels the running job and terminates the worker threads. Idempotent. */
  async close(): Promise<void> {
    this.closed = true
    this.settle(undefined)
    await this.retirePool()
  }

  private totalHashes(): bigint {
    let sum = 0n
    for (const r of this.retired) sum += r
    if (this.pool && !this.pool.dead) for (const c of this.pool.counters) sum += BigInt.asUintN(64, c)
    return sum
  }

  /** Records the hash count now (every SAMPLE_EVERY_MS while threads run, and at job ends). */
  private sample(): void {
    const now = performance.now()
    this.samples.push({ t: now, hashes: this.totalHashes() })
    this.prune(now)
  }

  /** Keeps one sample at or before the window's start, so the rate covers the whole window. */
  private prune(now: number): void {
    while (this.samples.length > 1 && this.samples[1]!.t <= now - this.windowMs) this.samples.shift()
  }

  private ensurePool(): Pool {
    if (this.pool && !this.pool.dead) return this.pool
    const startWorker = workerStarter()
    const control = new SharedArrayBuffer(4)
    const counters = new SharedArrayBuffer(8 * this.threads)
    const pool: Pool = {
      workers: [],
      control: new Int32Array(control),
      counters: new BigInt64Array(counters),
      live: 0,
      dead: false,
    }
    for (let index = 0; index < this.threads; index++) {
      const init: MinerWorkerInit = { index, control, counters, checkEvery: this.checkEvery }
      const worker = startWorker(init)
      pool.live++
      worker.on('message', (msg: MinerFoundMessage) => {
        if (pool === this.pool && msg.type === 'found') this.onFound(msg)
      })
      worker.on('error', (err) => this.onWorkerFailure(pool, index, err))
      worker.on('exit', (code) => {
        pool.live--
        if (!pool.dead) this.onWorkerFailure(pool, index, new Error(`exited with code ${code}`))
      })
      pool.workers.push(worker)
    }
    this.pool = pool
    this.samples = []
    this.sample()
    this.sampler = setInterval(() => this.sample(), SAMPLE_EVERY_MS)
    this.sampler.unref()
    return pool
  }

  private onFound(msg: MinerFoundMessage): void {
    const active = this.active
    if (!active || msg.gen !== active.gen) return // a late report from a replaced job
    const { sealHash, bits, target } = active.job
    const hash = powHash(sealHash, bits, msg.nonce)
    if (!meetsTarget(hash, target)) {
      this.rejected++
      return
    }
    this.found++
    const attempts = this.totalHashes() - active.startHashes
    this.settle({ nonce: msg.nonce, hash, attempts })
  }

  /** Ends the active job (stopping the workers' loops) and resolves its promise with `result`. */
  private settle(result: MiningResult | undefined): void {
    const active = this.active
    if (!active) return
    this.active = undefined
    const pool = this.pool
    if (pool && !pool.dead) {
      Atomics.add(pool.control, 0, 1)
      // Idle workers must not keep the process alive.
      for (const w of pool.workers) w.unref()
    }
    this.sample()
    active.resolve(result)
  }

  private onWorkerFailure(pool: Pool, index: number, err: Error): void {
    if (pool.dead) return
    const failure = new MinerError('WORKER_FAILED', `mining thread ${index} failed: ${err.message}`, { cause: err })
    const active = this.active
    this.retirePool().catch(() => {}) // terminating threads that already failed: nothing to report
    if (active) {
      this.active = undefined
      active.reject(failure)
    }
  }

  /** Terminates the current pool's workers, keeping their hash counts. */
  private async retirePool(): Promise<void> {
    const pool = this.pool
    if (!pool || pool.dead) return
    this.sample()
    pool.counters.forEach((c, i) => {
      this.retired[i]! += BigInt.asUintN(64, c)
    })
    pool.dead = true
    Atomics.add(pool.control, 0, 1)
    clearInterval(this.sampler)
    this.sampler = undefined
    await Promise.all(pool.workers.map((w) => w.terminate()))
  }
}

function checkJob(job: MiningJob): Required<MiningJob> {
  try {
    if (!(job.sealHash instanceof Uint8Array) || job.sealHash.length !== 32) {
      throw new RangeError(`sealHash must be 32 bytes, got ${job.sealHash instanceof Uint8Array ? job.sealHash.length : typeof job.sealHash}`)
    }
    checkBits(job.bits)
    checkTarget(job.target)
    const startNonce = job.startNonce ?? 0n
    checkNonce(startNonce)
    // A private copy: the caller may reuse its buffer while the job runs.
    return { sealHash: Uint8Array.from(job.sealHash), bits: job.bits, target: job.target, startNonce }
  } catch (err) {
    throw new MinerError('BAD_JOB', `bad mining job: ${(err as Error).message}`, { cause: err })
  }
}
