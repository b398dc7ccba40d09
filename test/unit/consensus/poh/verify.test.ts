import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { MAX_NUM_HASHES, PohError, PohVerifier, verifyEntriesSync, type PohEntry, type PohErrorCode } from '../../../../src/consensus/poh/index.ts'
import { packEntries, splitSegments, unpackEntries } from '../../../../src/consensus/poh/verify-segment.ts'
import { markFailed, runTask } from '../../../../src/consensus/poh/verify-worker.ts'
import { buildChain, bytes32, slotSteps, until } from './helpers.ts'

const START = bytes32(77)
// 24 ticks of 40 hashes with tx entries (2 txs, 3 hashes) before every third: 32 entries.
const CHAIN = buildChain(START, slotSteps(24, 40, 2, 3))
const LIMITS = { maxHashes: 24 * 40 }
const HUGE = 2 ** 31 // ten minutes of hashing: a test that waits on it only passes if it was stopped

function isPohError(code: PohErrorCode, index?: number) {
  return (e: unknown) => {
    assert.ok(e instanceof PohError, `expected a PohError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    if (index !== undefined) assert.equal(e.index, index, e.message)
    return true
  }
}

function clone(entries: PohEntry[]): PohEntry[] {
  return entries.map((e) => ({ numHashes: e.numHashes, hash: Uint8Array.from(e.hash), txHashes: e.txHashes.map((t) => Uint8Array.from(t)) }))
}

type Tamper = [string, (e: PohEntry) => boolean]
const TAMPERS: Tamper[] = [
  ['a hash byte flipped', (e) => ((e.hash[17]! ^= 1), true)],
  ['numHashes + 1', (e) => (e.numHashes++, true)],
  ['numHashes - 1', (e) => e.numHashes > 1 && (e.numHashes--, true)],
  ['a tx hash changed', (e) => e.txHashes.length > 0 && ((e.txHashes[0]![0]! ^= 0x80), true)],
  ['a tx dropped', (e) => e.txHashes.length > 1 && (e.txHashes.pop(), true)],
  ['a tx added (a tick turned into a tx entry)', (e) => (e.txHashes.push(bytes32(5)), true)],
  ['txs swapped', (e) => e.txHashes.length > 1 && (e.txHashes.reverse(), true)],
  ['all txs dropped (a tx entry turned into a tick)', (e) => e.txHashes.length > 0 && ((e.txHashes = []), true)],
]

describe('PoH verification', () => {
  const pools = [new PohVerifier({ threads: 1 }), new PohVerifier({ threads: 2 })]
  after(() => Promise.all(pools.map((p) => p.close())))

  it('the sequential verifier accepts a valid chain and returns its end hash and hash count', () => {
    const r = verifyEntriesSync(START, CHAIN, LIMITS)
    assert.deepEqual(r.endHash, CHAIN[CHAIN.length - 1]!.hash)
    assert.equal(r.hashes, 960)
    assert.equal(r.entries, CHAIN.length)
    assert.deepEqual(verifyEntriesSync(START, [], LIMITS).endHash, START)
  })

  it('the parallel verifier accepts it on 1 and 2 threads in 1 to 32 segments', async () => {
    for (const pool of pools) {
      for (const segments of [1, 2, 3, 7, 32]) {
        const r = await pool.verify(START, CHAIN, LIMITS, { segments })
        assert.deepEqual(r.endHash, CHAIN[CHAIN.length - 1]!.hash, `${pool.threads} threads, ${segments} segments`)
        assert.equal(r.hashes, 960)
      }
    }
    assert.deepEqual((await pools[1]!.verify(START, [], LIMITS)).endHash, START)
  })

  it('a chain that starts from another hash fails at entry 0', async () => {
    assert.throws(() => verifyEntriesSync(bytes32(78), CHAIN, LIMITS), isPohError('BAD_POH', 0))
    await assert.rejects(pools[1]!.verify(bytes32(78), CHAIN, LIMITS), isPohError('BAD_POH', 0))
  })

  describe('any single tampered entry is caught at its index by both verifiers', () => {
    const indexes = CHAIN.map((_, i) => i)
    for (const [name, tamper] of TAMPERS) {
      it(name, async () => {
        let tried = 0
        for (const i of indexes) {
          const bad = clone(CHAIN)
          if (!tamper(bad[i]!)) continue
          tried++
          const limits = { maxHashes: 2000 }
          assert.throws(() => verifyEntriesSync(START, bad, limits), isPohError('BAD_POH', i), `sequential, entry ${i}`)
          for (const segments of [2, 5]) {
            await assert.rejects(pools[1]!.verify(START, bad, limits, { segments }), isPohError('BAD_POH', i), `parallel, ${segments} segments, entry ${i}`)
          }
        }
        assert.ok(tried >= 3, `the tamper applied to only ${tried} entries`)
      })
    }
  })

  it('with two bad entries in different segments, the earlier one is reported', async () => {
    const bad = clone(CHAIN)
    bad[3]!.hash[0]! ^= 1
    bad[28]!.hash[0]! ^= 1
    assert.throws(() => verifyEntriesSync(START, bad, LIMITS), isPohError('BAD_POH', 3))
    for (const segments of [2, 4, 8]) await assert.rejects(pools[1]!.verify(START, bad, LIMITS, { segments }), isPohError('BAD_POH', 3))
  })

  describe('bounds, checked before any hashing', () => {
    const fresh = new PohVerifier({ threads: 2 })
    after(() => fresh.close())

    it('refuses a list claiming more hashes than the limit (one entry claiming 2^32 - 1)', async () => {
      const greedy = [{ numHashes: MAX_NUM_HASHES, hash: bytes32(1), txHashes: [] }]
      assert.throws(() => verifyEntriesSync(START, greedy, { maxHashes: 1_000_000 }), isPohError('TOO_MANY_HASHES', 0))
      await assert.rejects(fresh.verify(START, greedy, { maxHashes: 1_000_000 }), isPohError('TOO_MANY_HASHES', 0))
      assert.throws(() => verifyEntriesSync(START, CHAIN, { maxHashes: 959 }), isPohError('TOO_MANY_HASHES', CHAIN.length - 1))
      assert.equal(fresh.stats().live, 0, 'no verification thread was even started')
    })

    it('refuses too many entries or txs, and malformed entries anywhere, before hashing the first', async () => {
      assert.throws(() => verifyEntriesSync(START, CHAIN, { ...LIMITS, maxEntries: CHAIN.length - 1 }), isPohError('TOO_MANY_ENTRIES'))
      assert.throws(() => verifyEntriesSync(START, CHAIN, { ...LIMITS, maxTxs: 15 }), isPohError('TOO_MANY_TXS'))
      assert.throws(() => verifyEntriesSync(START, CHAIN, { ...LIMITS, maxTxsPerEntry: 1 }), isPohError('BAD_ENTRY', 1))
      // Entry 0 does not check, but the malformed entry 20 is what is reported: shapes come first.
      const bad = clone(CHAIN)
      bad[0]!.hash[0]! ^= 1
      bad[20]!.hash = new Uint8Array(31)
      assert.throws(() => verifyEntriesSync(START, bad, LIMITS), isPohError('BAD_ENTRY', 20))
      await assert.rejects(fresh.verify(START, bad, LIMITS), isPohError('BAD_ENTRY', 20))
      await assert.rejects(fresh.verify(new Uint8Array(31), CHAIN, LIMITS), isPohError('BAD_ARGUMENT'))
      await assert.rejects(fresh.verify(START, CHAIN, { maxHashes: -1 }), isPohError('BAD_ARGUMENT'))
      assert.equal(fresh.stats().live, 0)
    })
  })

  it('a failure in one segment stops the segments after it', async () => {
    const pool = new PohVerifier({ threads: 2 })
    try {
      // Segments [bad, huge] and [huge]: the first fails at once; the second must stop, not run for minutes.
      const entries = [
        { numHashes: 1, hash: bytes32(1), txHashes: [] },
        { numHashes: HUGE, hash: bytes32(2), txHashes: [] },
        { numHashes: HUGE, hash: bytes32(3), txHashes: [] },
      ]
      await assert.rejects(pool.verify(START, entries, { maxHashes: 2 * HUGE + 1 }), isPohError('BAD_POH', 0))
      await until(() => pool.stats().busy === 0, 'the second segment to stop')
    } finally {
      await pool.close()
    }
  })

  it('cancels through an AbortSignal: the job rejects with CANCELLED and its threads stop', async () => {
    const pool = new PohVerifier({ threads: 2, maxJobs: 1 })
    try {
      await pool.verify(START, CHAIN, LIMITS, { segments: 2 }) // both threads loaded
      const entries = [HUGE, HUGE].map((numHashes, i) => ({ numHashes, hash: bytes32(i), txHashes: [] }))
      const ctl = new AbortController()
      const cpu0 = process.cpuUsage().user
      const job = pool.verify(START, entries, { maxHashes: 2 * HUGE }, { signal: ctl.signal })
      // Cancel mid-hash: once the threads have burnt a good 300 ms of CPU on the job.
      await until(() => process.cpuUsage().user - cpu0 > 300_000, 'the threads to be hashing')
      assert.equal(pool.stats().busy, 2)
      await assert.rejects(pool.verify(START, CHAIN, LIMITS), isPohError('BUSY'))
      ctl.abort()
      await assert.rejects(job, isPohError('CANCELLED'))
      await until(() => pool.stats().busy === 0, 'the threads to stop')
      assert.deepEqual((await pool.verify(START, CHAIN, LIMITS)).endHash, CHAIN[CHAIN.length - 1]!.hash, 'the pool works after a cancel')
      await assert.rejects(pool.verify(START, CHAIN, LIMITS, { signal: AbortSignal.abort() }), isPohError('CANCELLED'))
    } finally {
      await pool.close()
    }
  })

  it('close() fails the jobs in flight with CLOSED, ends its threads, and refuses new jobs', async () => {
    const pool = new PohVerifier({ threads: 2 })
    const job = pool.verify(START, [{ numHashes: HUGE, hash: bytes32(1), txHashes: [] }], { maxHashes: HUGE })
    const closedJob = assert.rejects(job, isPohError('CLOSED'))
    await until(() => pool.stats().busy === 1, 'the thread to start')
    await pool.close()
    await closedJob
    assert.equal(pool.stats().live, 0)
    await assert.rejects(pool.verify(START, CHAIN, LIMITS), isPohError('CLOSED'))
    await pool.close() // idempotent
  })

  it('refuses bad pool options', () => {
    assert.throws(() => new PohVerifier({ threads: 0 }), isPohError('BAD_ARGUMENT'))
    assert.throws(() => new PohVerifier({ threads: 1.5 }), isPohError('BAD_ARGUMENT'))
    assert.throws(() => new PohVerifier({ maxJobs: 0 }), isPohError('BAD_ARGUMENT'))
  })

  describe('segments', () => {
    it('splits into min(k, n) non-empty contiguous segments of about equal hash counts', () => {
      for (const k of [1, 2, 3, 5, 32, 100]) {
        const starts = splitSegments(CHAIN, k)
        assert.equal(starts.length, Math.min(k, CHAIN.length), `k = ${k}`)
        assert.equal(starts[0], 0)
        for (let j = 1; j < starts.length; j++) assert.ok(starts[j]! > starts[j - 1]!, 'increasing, non-empty')
        assert.ok(starts[starts.length - 1]! < CHAIN.length)
      }
      const even = Array.from({ length: 64 }, () => ({ numHashes: 10, hash: bytes32(1), txHashes: [] }))
      assert.deepEqual(splitSegments(even, 4), [0, 16, 32, 48])
      assert.deepEqual(splitSegments([], 4), [])
    })

    it('packs entries into one buffer and back', () => {
      assert.deepEqual(unpackEntries(packEntries(CHAIN, 0, CHAIN.length)), CHAIN)
      assert.deepEqual(unpackEntries(packEntries(CHAIN, 5, 9)), CHAIN.slice(5, 9))
      assert.throws(() => unpackEntries(packEntries(CHAIN, 0, 2).slice(0, 50)), isPohError('BAD_ARGUMENT'))
    })

    it('a thread skips a segment after a failed one, and reports global indexes', () => {
      const control = new Int32Array(new SharedArrayBuffer(4))
      control[0] = 3
      const task = (seg: number, from: number, to: number, c = control) => ({
        job: 1,
        seg,
        start: from === 0 ? START : CHAIN[from - 1]!.hash,
        offset: from,
        packed: packEntries(CHAIN, from, to),
        control: c.buffer as SharedArrayBuffer,
      })
      assert.deepEqual(runTask(task(1, 10, 20)), { job: 1, seg: 1, ok: true, endHash: CHAIN[19]!.hash })
      const bad = clone(CHAIN)
      bad[12]!.hash[0]! ^= 1
      const failing = { ...task(1, 10, 20), packed: packEntries(bad, 10, 20) }
      assert.deepEqual(runTask(failing), { job: 1, seg: 1, ok: false, index: 12 })
      assert.equal(control[0], 1, 'the failure marks its segment')
      assert.deepEqual(runTask(task(2, 20, 32)), { job: 1, seg: 2, stopped: true })
      markFailed(control, 2) // a later failure does not raise the mark
      assert.equal(control[0], 1)
      assert.equal('ok' in runTask(task(0, 0, 10)), true, 'segments before the failure still run')
    })
  })
})
