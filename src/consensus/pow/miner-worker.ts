/**
 * A mining thread: the entry of each worker the Miner (miner.ts) starts.
 *
 * A job arrives as a message; the thread then searches its share of the nonce space in one
 * synchronous loop, without yielding to its event loop: one reused 44-byte preimage whose
 * nonce bytes are rewritten in place, a cheap first-word target check, and, every
 * `checkEvery` attempts, a hash-count store and a look at the shared job generation. When
 * the main thread cancels or replaces the job it bumps that generation; the loop notices at
 * its next check and returns, and the next job message is read. Hash counts travel through
 * shared memory; the only messages sent are found nonces, which the main thread re-verifies.
 *
 * Digests come back from node:crypto as latin1 strings ('binary' is the typed alias), not
 * Buffers: a Buffer per digest (an ArrayBuffer with its own malloc'd backing store) costs
 * more to allocate and garbage-collect than the two SHA-256 compressions themselves, while
 * a 32-char one-byte string is an ordinary young-generation object. On Node 20 here that
 * makes an attempt 3-4x cheaper (bench/mining.ts measures both). The inner digest is copied
 * into one reused 32-byte buffer for the outer hash; latin1 maps bytes 0-255 to chars 0-255.
 * @module
 */
import { hash } from 'node:crypto'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { NONCE_OFFSET, powPreimage } from './pow-hash.ts'

/** workerData of a mining thread. */
export interface MinerWorkerInit {
  /** This thread's index: its slot in `counters`. */
  index: number
  /** Int32Array[1]: the current job generation; a loop whose generation differs stops. */
  control: SharedArrayBuffer
  /** BigInt64Array[threads]: hashes computed by each thread since it started. */
  counters: SharedArrayBuffer
  /** Attempts between looks at `control` (and hash-count stores). */
  checkEvery: number
}

/** Main thread -> worker: search nonces start, start + stride, ... (mod 2^64) for generation `gen`. */
export interface MinerJobMessage {
  type: 'job'
  gen: number
  sealHash: Uint8Array
  bits: number
  target: bigint
  start: bigint
  stride: number
}

/** Worker -> main thread: `nonce` met the target of generation `gen` (the main thread re-checks it). */
export interface MinerFoundMessage {
  type: 'found'
  gen: number
  index: number
  nonce: bigint
}

const TWO_32 = 0x1_0000_0000
const MAX_HASH = (1n << 256n) - 1n

/** The target as eight big-endian uint32 words; targets beyond 2^256 - 1 accept every hash. */
export function targetWords(target: bigint): Uint32Array {
  let t = target > MAX_HASH ? MAX_HASH : target
  const words = new Uint32Array(8)
  for (let i = 7; i >= 0; i--) {
    words[i] = Number(t & 0xffffffffn)
    t >>= 32n
  }
  return words
}

/** digest <= target, word by word (the digest as a 32-char latin1 string). */
function atOrBelow(d: string, words: Uint32Array): boolean {
  for (let i = 0; i < 8; i++) {
    const o = i * 4
    const w = ((d.charCodeAt(o) << 24) | (d.charCodeAt(o + 1) << 16) | (d.charCodeAt(o + 2) << 8) | d.charCodeAt(o + 3)) >>> 0
    if (w !== words[i]) return w < words[i]!
  }
  return true
}

/**
 * Searches `job` until the generation in `control` moves on. Every nonce that meets the target
 * is passed to `onFound`, and the search goes on (the main thread decides when to stop).
 */
export function search(
  job: MinerJobMessage,
  control: Int32Array,
  counters: BigInt64Array,
  index: number,
  checkEvery: number,
  onFound: (nonce: bigint) => void,
): void {
  const { gen, stride } = job
  const words = targetWords(job.target)
  const top = words[0]!
  let hi = Number(job.start >> 32n)
  let lo = Number(job.start & 0xffffffffn)
  const pre = powPreimage(job.sealHash, job.bits, job.start)
  const inner = Buffer.alloc(32)
  let done = Number(Atomics.load(counters, index))
  for (;;) {
    for (let k = 0; k < checkEvery; k++) {
      inner.write(hash('sha256', pre, 'binary'), 0, 'binary')
      const d = hash('sha256', inner, 'binary')
      // Most attempts fail on the first word; only close calls compare the rest.
      if (((d.charCodeAt(0) << 24) | (d.charCodeAt(1) << 16) | (d.charCodeAt(2) << 8) | d.charCodeAt(3)) >>> 0 <= top && atOrBelow(d, words)) {
        Atomics.store(counters, index, BigInt(done + k + 1))
        onFound(BigInt(hi) * 0x1_0000_0000n + BigInt(lo))
      }
      lo += stride
      if (lo >= TWO_32) {
        lo -= TWO_32
        hi = (hi + 1) % TWO_32
        pre[NONCE_OFFSET] = hi >>> 24
        pre[NONCE_OFFSET + 1] = hi >>> 16
        pre[NONCE_OFFSET + 2] = hi >>> 8
        pre[NONCE_OFFSET + 3] = hi
      }
      // Uint8Array stores keep the low 8 bits, so no masking is needed.
      pre[NONCE_OFFSET + 4] = lo >>> 24
      pre[NONCE_OFFSET + 5] = lo >>> 16
      pre[NONCE_OFFSET + 6] = lo >>> 8
      pre[NONCE_OFFSET + 7] = lo
    }
    done += checkEvery
    Atomics.store(counters, index, BigInt(done))
    if (Atomics.load(control, 0) !== gen) return
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort
  const init = workerData as MinerWorkerInit
  const control = new Int32Array(init.control)
  const counters = new BigInt64Array(init.counters)
  port.on('message', (msg: MinerJobMessage) => {
    // Superseded before this thread got to it: a newer job message is already queued.
    if (msg.type !== 'job' || Atomics.load(control, 0) !== msg.gen) return
    search(msg, control, counters, init.index, init.checkEvery, (nonce) => {
      const found: MinerFoundMessage = { type: 'found', gen: msg.gen, index: init.index, nonce }
      port.postMessage(found)
    })
  })
}
