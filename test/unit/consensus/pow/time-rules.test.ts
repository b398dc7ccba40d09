/**
 * Block time rules: Bitcoin's median time past (GetMedianTimePast), its "time-too-old" and
 * "time-too-new" checks, and the future-drift allowance scaled to the chain's block time.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  MEDIAN_TIME_SPAN,
  PowError,
  checkBlockTime,
  maxFutureSeconds,
  medianTimePast,
  type PowErrorCode,
} from '../../../../src/consensus/pow/index.ts'

function throwsCode(fn: () => unknown, code: PowErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PowError, `expected PowError, got ${String(e)}`)
    assert.equal(e.code, code)
    if (message) assert.match(e.message, message)
    return true
  })
}

describe('pow time rules: medianTimePast', () => {
  test('the median of the last 11 times, whatever their order', () => {
    assert.equal(MEDIAN_TIME_SPAN, 11)
    const times = [100n, 50n, 70n, 10n, 90n, 30n, 110n, 20n, 80n, 60n, 40n] // 10..110, shuffled
    assert.equal(medianTimePast(times), 60n)
  })

  test('only the last 11 count', () => {
    const times = [1_000_000n, 0n, 100n, 50n, 70n, 10n, 90n, 30n, 110n, 20n, 80n, 60n, 40n]
    assert.equal(medianTimePast(times), 60n)
    const rising = Array.from({ length: 30 }, (_, i) => BigInt(1000 + i * 600))
    assert.equal(medianTimePast(rising), rising[24]) // the 6th newest of 11
  })

  test('near genesis: fewer than 11 times, the upper middle for an even count (as Core)', () => {
    assert.equal(medianTimePast([42n]), 42n)
    assert.equal(medianTimePast([10n, 20n]), 20n)
    assert.equal(medianTimePast([30n, 10n, 20n]), 20n)
    assert.equal(medianTimePast([40n, 10n, 30n, 20n]), 30n)
  })

  test('a timestamp far in the future cannot drag the median (a miner cannot move it alone)', () => {
    const times = [10n, 20n, 30n, 40n, 50n, 60n, 70n, 80n, 90n, 100n, 10n ** 12n]
    assert.equal(medianTimePast(times), 60n)
  })

  test('does not reorder the caller array', () => {
    const times = [3n, 1n, 2n]
    medianTimePast(times)
    assert.deepEqual(times, [3n, 1n, 2n])
  })

  test('no times is an error', () => {
    throwsCode(() => medianTimePast([]), 'BAD_PARAMS', /at least one/)
  })
})

describe('pow time rules: maxFutureSeconds', () => {
  test("Bitcoin's 2 hours at 600 s blocks, scaled to the block time", () => {
    assert.equal(maxFutureSeconds(600), 7200n)
    assert.equal(maxFutureSeconds(150), 1800n)
    assert.equal(maxFutureSeconds(60), 720n)
    assert.equal(maxFutureSeconds(2), 24n)
  })

  test('never below 15 s', () => {
    assert.equal(maxFutureSeconds(1), 15n)
  })

  test('the block time must be a whole number of seconds >= 1', () => {
    for (const bad of [0, -600, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      throwsCode(() => maxFutureSeconds(bad), 'BAD_PARAMS', /whole number of seconds/)
    }
  })
})

describe('pow time rules: checkBlockTime', () => {
  const mtp = 1_700_000_000n
  const now = 1_700_003_000n
  const maxFuture = 7200n

  test('accepts a time after the MTP and within the allowance', () => {
    checkBlockTime(mtp + 1n, mtp, now, maxFuture)
    checkBlockTime(now, mtp, now, maxFuture)
    checkBlockTime(now + maxFuture, mtp, now, maxFuture)
  })

  test('TIME_TOO_OLD at or before the MTP', () => {
    throwsCode(() => checkBlockTime(mtp, mtp, now, maxFuture), 'TIME_TOO_OLD', /not after the median time past 1700000000/)
    throwsCode(() => checkBlockTime(mtp - 600n, mtp, now, maxFuture), 'TIME_TOO_OLD')
  })

  test('TIME_TOO_NEW beyond now + maxFuture', () => {
    throwsCode(() => checkBlockTime(now + maxFuture + 1n, mtp, now, maxFuture), 'TIME_TOO_NEW', /7201 s ahead .* at most 7200 s/)
  })

  test('too old is reported first when both apply (a clock far behind the chain)', () => {
    throwsCode(() => checkBlockTime(mtp, mtp, mtp - 10_000n, 15n), 'TIME_TOO_OLD')
  })
})
