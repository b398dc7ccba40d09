/**
 * Raw SHA-256 chain loops for bench/poh.ts: one worker thread hashing `h = sha256(h)` over 32
 * bytes in a minimal loop of plain JavaScript (evaluated in the worker, no TypeScript loader),
 * with nothing else in it, counting hashes into shared memory. Several ways of calling the
 * hash, to find the fastest for the PoH loop:
 *
 * - charcodes: crypto.hash(..., 'binary') and the digest's char codes copied back into the same
 *   Uint8Array from JavaScript (what src/consensus/poh/sequence.ts does);
 * - latin1Write: the same digest string written back with Buffer#latin1Write (a call into C++);
 * - hashBuffer: crypto.hash(..., 'buffer'), a new Buffer per digest;
 * - createHash: createHash('sha256').update(h).digest(), a Hash object per digest;
 * - noble: @noble/hashes sha256 (pure JavaScript).
 * @module
 */
import { randomBytes } from 'node:crypto'
import { Worker } from 'node:worker_threads'

export type HashLoop = 'charcodes' | 'latin1Write' | 'hashBuffer' | 'createHash' | 'noble'
export const HASH_LOOPS: HashLoop[] = ['charcodes', 'latin1Write', 'hashBuffer', 'createHash', 'noble']

const BATCH = 4096

const BODIES: Record<HashLoop, { init: string; body: string }> = {
  charcodes: {
    init: 'let h = new Uint8Array(start)',
    body: "const d = hash('sha256', h, 'binary'); for (let j = 0; j < 32; j++) h[j] = d.charCodeAt(j)",
  },
  latin1Write: { init: 'let h = Buffer.from(start)', body: "h.latin1Write(hash('sha256', h, 'latin1'), 0, 32)" },
  hashBuffer: { init: 'let h = Buffer.from(start)', body: "h = hash('sha256', h, 'buffer')" },
  createHash: { init: 'let h = Buffer.from(start)', body: "h = createHash('sha256').update(h).digest()" },
  noble: { init: 'let h = new Uint8Array(start)', body: 'h = sha256(h)' },
}

function source(loop: HashLoop): string {
  const { init, body } = BODIES[loop]
  return `
const { hash, createHash } = require('node:crypto')
const { workerData } = require('node:worker_threads')
// A function, so its variables are locals the JIT keeps in registers.
// control[0]: 0 = paused (sleeps in Atomics.wait), 1 = hashing, 2 = exit.
function run(control, counters, start, sha256) {
  ${init}
  let done = 0
  for (;;) {
    const state = Atomics.load(control, 0)
    if (state === 2) return
    if (state === 0) {
      Atomics.wait(control, 0, 0)
      continue
    }
    for (let k = 0; k < ${BATCH}; k++) {
      ${body}
    }
    done += ${BATCH}
    Atomics.store(counters, 0, BigInt(done))
  }
}
const args = [new Int32Array(workerData.control), new BigInt64Array(workerData.counters), workerData.start]
if (${JSON.stringify(loop)} === 'noble') import(workerData.nobleUrl).then((m) => run(...args, m.sha256))
else run(...args, undefined)
`
}

/** One raw hashing thread, paused between measurements. */
export class RawHashThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(4))
  private readonly counters = new BigInt64Array(new SharedArrayBuffer(8))
  private readonly worker: Worker
  private failure: Error | undefined

  constructor(readonly loop: HashLoop) {
    this.worker = new Worker(source(loop), {
      eval: true,
      execArgv: [],
      workerData: {
        control: this.control.buffer,
        counters: this.counters.buffer,
        start: new Uint8Array(randomBytes(32)),
        nobleUrl: import.meta.resolve('@noble/hashes/sha2.js'),
      },
    })
    this.worker.on('error', (err) => {
      this.failure ??= err
    })
  }

  start(): void {
    Atomics.store(this.control, 0, 1)
    Atomics.notify(this.control, 0)
  }

  stop(): void {
    Atomics.store(this.control, 0, 0)
  }

  hashes(): number {
    if (this.failure) throw new Error(`the raw ${this.loop} thread failed: ${this.failure.message}`)
    return Number(this.counters[0])
  }

  async close(): Promise<void> {
    Atomics.store(this.control, 0, 2)
    Atomics.notify(this.control, 0)
    await this.worker.terminate()
  }
}

const JOB_SOURCE = `
const { hash } = require('node:crypto')
const { parentPort } = require('node:worker_threads')
function run(n) {
  const h = new Uint8Array(32)
  for (let i = 0; i < n; i++) {
    const d = hash('sha256', h, 'binary')
    for (let j = 0; j < 32; j++) h[j] = d.charCodeAt(j)
  }
  return h[0]
}
parentPort.on('message', (n) => {
  run(n)
  parentPort.postMessage(n)
})
`

/**
 * The machine's own ceiling for parallel hashing: `threads` raw threads (the charcodes loop)
 * that each hash `total / threads` times on request, as fast as the cores allow.
 */
export class RawChainPool {
  private readonly workers: Worker[]

  constructor(readonly threads: number) {
    this.workers = Array.from({ length: threads }, () => new Worker(JOB_SOURCE, { eval: true, execArgv: [] }))
  }

  /** Hashes `total` times split over the threads; resolves when all are done. */
  async hash(total: number): Promise<void> {
    const share = Math.ceil(total / this.threads)
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const onError = (err: Error) => reject(err)
            w.once('error', onError)
            w.once('message', () => {
              w.off('error', onError)
              resolve()
            })
            w.postMessage(share)
          }),
      ),
    )
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
