import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { Worker } from 'node:worker_threads'
import { Miner, MinerError, type MiningJob } from '../../../../src/consensus/pow/miner.ts'
import { search, targetWords, type MinerJobMessage } from '../../../../src/consensus/pow/miner-worker.ts'
import { meetsTarget, powHash } from '../../../../src/consensus/pow/pow-hash.ts'

const MAX = (1n << 256n) - 1n
const EASY = (1n << 256n) / 1000n // about 1 in 1000 hashes qualifies
const IMPOSSIBLE = 0n // only an all-zero hash would do
const TWO_64 = 1n << 64n

function seal(tag: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + tag) & 0xff)
}

/** The proof recomputed with node:crypto directly, independent of pow-hash.ts. */
function independentPowHash(sealHash: Uint8Array, bits: number, nonce: bigint): bigint {
  const fields = Buffer.alloc(12)
  fields.writeUInt32BE(bits, 0)
  fields.writeBigUInt64BE(nonce, 4)
  const once = createHash('sha256').update(sealHash).update(fields).digest()
  return BigInt(`0x${createHash('sha256').update(once).digest('hex')}`)
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10))
}

describe('search (the worker loop, run on this thread)', () => {
  /** Runs one batch of `checkEvery` attempts, then stops; returns the nonces reported. */
  function oneBatch(job: Omit<MinerJobMessage, 'type' | 'gen'>, checkEvery: number): bigint[] {
    const control = new Int32Array(new SharedArrayBuffer(4))
    const counters = new BigInt64Array(new SharedArrayBuffer(8))
    control[0] = 7
    const found: bigint[] = []
    search({ type: 'job', gen: 7, ...job }, control, counters, 0, checkEvery, (n) => {
      found.push(n)
      control[0] = 8 // stop at the end of this batch
    })
    if (found.length === 0) assert.fail('expected at least one nonce in the batch')
    assert.equal(counters[0], BigInt(checkEvery), 'counts every attempt of the batch')
    return found
  }

  it('tries start, start + stride, ... and reports every nonce that meets the target', () => {
    const nonces = oneBatch({ sealHash: seal(1), bits: 5, target: MAX, start: 10n, stride: 3 }, 4)
    assert.deepEqual(nonces, [10n, 13n, 16n, 19n])
  })

  it('carries across the 32-bit boundary and wraps at 2^64, rewriting the nonce in place', () => {
    for (const start of [(1n << 32n) - 5n, TWO_64 - 5n]) {
      const stride = 2
      const candidates = Array.from({ length: 8 }, (_, k) => (start + BigInt(k * stride)) % TWO_64)
      const hashes = candidates.map((n) => independentPowHash(seal(2), 0x1d00ffff, n))
      // Aim at the 6th candidate, past the carry: exactly those at or below its hash are reported.
      const target = hashes[5]!
      const expected = candidates.filter((_, k) => hashes[k]! <= target)
      assert.deepEqual(oneBatch({ sealHash: seal(2), bits: 0x1d00ffff, target, start, stride }, 8), expected)
    }
  })

  it('splits the target into big-endian words, capping targets above 2^256 - 1', () => {
    assert.deepEqual([...targetWords((1n << 224n) * 0xabcdn + 5n)], [0xabcd, 0, 0, 0, 0, 0, 0, 5])
    assert.deepEqual([...targetWords(1n << 300n)], Array(8).fill(0xffffffff))
  })
})

describe('Miner', () => {
  let miner: Miner
  before(() => {
    miner = new Miner({ threads: 2 })
  })
  after(async () => {
    await miner.close()
  })

  it('finds a nonce for an easy target with 2 threads, verified independently', async () => {
    const job: MiningJob = { sealHash: seal(3), bits: 0x1f00ffff, target: EASY }
    const result = await miner.mine(job)
    assert.ok(result, 'mine() resolved with a result')
    assert.ok(independentPowHash(job.sealHash, job.bits, result.nonce) <= EASY)
    assert.deepEqual(result.hash, powHash(job.sealHash, job.bits, result.nonce))
    assert.ok(meetsTarget(result.hash, EASY))
    assert.ok(result.attempts >= 1n)
    const stats = miner.stats()
    assert.equal(stats.threads, 2)
    assert.equal(stats.workers, 2)
    assert.equal(stats.mining, false)
    assert.equal(stats.found, 1)
    assert.equal(stats.rejected, 0)
    assert.ok(stats.totalHashes >= result.attempts)
  })

  it('gives thread i the nonces startNonce + i (mod 2^64)', async () => {
    // Every hash meets MAX, so each thread's first attempt qualifies.
    const near = await miner.mine({ sealHash: seal(4), bits: 1, target: MAX, startNonce: 1000n })
    assert.ok(near && [1000n, 1001n].includes(near.nonce), `nonce ${near?.nonce}`)
    const wrap = await miner.mine({ sealHash: seal(4), bits: 1, target: MAX, startNonce: TWO_64 - 1n })
    assert.ok(wrap && [TWO_64 - 1n, 0n].includes(wrap.nonce), `nonce ${wrap?.nonce}`)
  })

  it('a new mine() replaces the running job: the old one resolves undefined', async () => {
    const first = miner.mine({ sealHash: seal(5), bits: 1, target: IMPOSSIBLE })
    await until(() => miner.stats().perThread.every((n) => n > 0n))
    const job: MiningJob = { sealHash: seal(6), bits: 2, target: EASY, startNonce: 1n << 40n }
    const second = miner.mine(job)
    assert.equal(await first, undefined)
    const result = await second
    assert.ok(result)
    assert.ok(result.nonce >= 1n << 40n)
    assert.ok(independentPowHash(job.sealHash, job.bits, result.nonce) <= EASY)
  })

  it('cancel() stops the job and the miner can mine again', async () => {
    const pending = miner.mine({ sealHash: seal(7), bits: 3, target: IMPOSSIBLE })
    assert.equal(miner.stats().mining, true)
    await until(() => miner.hashrate() > 0)
    miner.cancel()
    assert.equal(await pending, undefined)
    assert.equal(miner.stats().mining, false)
    miner.cancel() // nothing running: a no-op
    const again = await miner.mine({ sealHash: seal(8), bits: 3, target: EASY })
    assert.ok(again && meetsTarget(again.hash, EASY))
  })

  it('rejects a malformed job with MinerError BAD_JOB and keeps the running job', async () => {
    const running = miner.mine({ sealHash: seal(9), bits: 4, target: IMPOSSIBLE })
    await assert.rejects(miner.mine({ sealHash: new Uint8Array(31), bits: 0, target: EASY }), (err: unknown) => {
      assert.ok(err instanceof MinerError)
      assert.equal(err.code, 'BAD_JOB')
      assert.match(err.message, /sealHash must be 32 bytes/)
      return true
    })
    await assert.rejects(miner.mine({ sealHash: seal(9), bits: 4, target: -1n }), { code: 'BAD_JOB' })
    await assert.rejects(miner.mine({ sealHash: seal(9), bits: 4, target: EASY, startNonce: TWO_64 }), { code: 'BAD_JOB' })
    assert.equal(miner.stats().mining, true)
    miner.cancel()
    assert.equal(await running, undefined)
  })
})

describe('Miner failures', () => {
  it('a thread that dies rejects the running job with WORKER_FAILED; the next job gets fresh threads', async () => {
    const miner = new Miner({ threads: 2 })
    try {
      const pending = miner.mine({ sealHash: seal(11), bits: 1, target: IMPOSSIBLE })
      // Reach into the pool to kill one thread, as a crash would.
      const { workers } = (miner as unknown as { pool: { workers: Worker[] } }).pool
      await workers[1]!.terminate()
      await assert.rejects(pending, { name: 'MinerError', code: 'WORKER_FAILED', message: /mining thread 1 failed/ })
      const result = await miner.mine({ sealHash: seal(12), bits: 1, target: EASY })
      assert.ok(result && meetsTarget(result.hash, EASY))
      assert.equal(miner.stats().workers, 2)
    } finally {
      await miner.close()
    }
  })
})

describe('Miner.close', () => {
  it('ends the running job, terminates the workers and refuses new jobs', async () => {
    const miner = new Miner({ threads: 2 })
    assert.equal(miner.stats().workers, 0, 'workers start with the first job')
    const pending = miner.mine({ sealHash: seal(10), bits: 1, target: IMPOSSIBLE })
    assert.equal(miner.stats().workers, 2)
    await until(() => miner.stats().totalHashes > 0n)
    await miner.close()
    assert.equal(await pending, undefined)
    const stats = miner.stats()
    assert.equal(stats.workers, 0)
    assert.equal(stats.mining, false)
    assert.ok(stats.totalHashes > 0n, 'counts survive close()')
    await assert.rejects(miner.mine({ sealHash: seal(10), bits: 1, target: EASY }), { name: 'MinerError', code: 'CLOSED' })
    await miner.close() // idempotent
  })

  it('rejects bad options', () => {
    assert.throws(() => new Miner({ threads: 0 }), RangeError)
    assert.throws(() => new Miner({ threads: 1.5 }), RangeError)
    assert.throws(() => new Miner({ checkEvery: 0 }), RangeError)
  })
})
