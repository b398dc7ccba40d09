/**
 * Difficulty retargeting against the reference vectors:
 * - Bitcoin: Bitcoin Core src/test/pow_tests.cpp (get_next_work, get_next_work_pow_limit,
 *   get_next_work_lower_limit_actual, get_next_work_upper_limit_actual).
 * - ASERT: Bitcoin Cash Node src/test/pow_tests.cpp calculate_asert_test (inline below), and the
 *   twelve official aserti3-2d vector files of the BCH specification (run01..run12, 14,000 rows)
 *   when ASERT_VECTORS_DIR points at a folder holding them: they are not kept in this repository
 *   (all 14,000 rows matched when this code was written).
 * Then a simulated chain whose hashrate jumps, to see both rules bring block times back.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import {
  MAX_UINT256,
  PowError,
  asertNextBits,
  asertNextTarget,
  bitcoinNextBits,
  compactToTarget,
  nextBits,
  retargetFirstHeight,
  targetToCompact,
  workFromBits,
  type AncestorInfo,
  type BitcoinRetargetParams,
  type PowErrorCode,
  type RetargetContext,
  type RetargetRule,
} from '../../../../src/consensus/pow/index.ts'

function throwsCode(fn: () => unknown, code: PowErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PowError, `expected PowError, got ${String(e)}`)
    assert.equal(e.code, code)
    if (message) assert.match(e.message, message)
    return true
  })
}

/** ~uint256(0) >> 32: Bitcoin's mainnet powLimit (bits 0x1d00ffff) and BCH's. */
const POW_LIMIT_224 = MAX_UINT256 >> 32n
const BTC: BitcoinRetargetParams = { interval: 2016n, targetSpacing: 600n, powLimit: POW_LIMIT_224 }

describe('pow retarget: Bitcoin (Core pow_tests)', () => {
  const vectors = [
    // name, nLastRetargetTime (time of the block interval - 1 back), pindexLast height/time/bits, expected
    { name: 'get_next_work', first: 1261130161n, height: 32255n, time: 1262152739n, bits: 0x1d00ffff, expected: 0x1d00d86a },
    { name: 'get_next_work_pow_limit', first: 1231006505n, height: 2015n, time: 1233061996n, bits: 0x1d00ffff, expected: 0x1d00ffff },
    { name: 'get_next_work_lower_limit_actual', first: 1279008237n, height: 68543n, time: 1279297671n, bits: 0x1c05a3f4, expected: 0x1c0168fd },
    { name: 'get_next_work_upper_limit_actual', first: 1263163443n, height: 46367n, time: 1269211443n, bits: 0x1c387f6f, expected: 0x1d00e1fd },
  ]

  for (const v of vectors) {
    test(`${v.name}: bitcoinNextBits`, () => {
      assert.equal(bitcoinNextBits(BTC, v.bits, v.first, v.time, v.height), v.expected)
    })

    test(`${v.name}: nextBits reads the first block interval - 1 back`, () => {
      const asked: bigint[] = []
      const got = nextBits(
        { kind: 'bitcoin', interval: 2016 },
        {
          parent: { height: v.height, time: v.time, bits: v.bits },
          ancestor: (h) => {
            asked.push(h)
            return { time: v.first, bits: 0 }
          },
          targetSpacing: 600n,
          powLimit: POW_LIMIT_224,
        },
      )
      assert.equal(got, v.expected)
      assert.deepEqual(asked, [v.height - 2015n]) // e.g. block #30240 for #32255, #0 for #2015
    })
  }

  test('the period opens interval - 1 blocks back (the off-by-one Bitcoin keeps)', () => {
    assert.equal(retargetFirstHeight(2015n, 2016n), 0n)
    assert.equal(retargetFirstHeight(32255n, 2016n), 30240n)
  })

  test('between retargets the bits stay the same and no ancestor is read', () => {
    for (const height of [0n, 1n, 2013n, 2014n, 2016n, 32254n]) {
      assert.equal(bitcoinNextBits(BTC, 0x1c05a3f4, 0n, 10n ** 12n, height), 0x1c05a3f4)
      const got = nextBits(
        { kind: 'bitcoin', interval: 2016 },
        {
          parent: { height, time: 1_000_000n, bits: 0x1c05a3f4 },
          ancestor: () => assert.fail('no ancestor needed between retargets'),
          targetSpacing: 600n,
          powLimit: POW_LIMIT_224,
        },
      )
      assert.equal(got, 0x1c05a3f4)
    }
  })

  test('the actual timespan is clamped to [timespan / 4, timespan * 4]', () => {
    const timespan = 2016n * 600n
    const bits = 0x1c05a3f4
    const target = compactToTarget(bits)
    const at = (actual: bigint) => compactToTarget(bitcoinNextBits(BTC, bits, 0n, actual, 2015n))
    assert.equal(at(0n), compactToTarget(targetToCompact((target * (timespan / 4n)) / timespan)))
    assert.equal(at(-5000n), at(0n)) // a period that "ran backwards" is clamped too
    assert.equal(at(timespan * 4n), compactToTarget(targetToCompact(target * 4n)))
    assert.equal(at(timespan * 100n), at(timespan * 4n))
    assert.equal(at(timespan), compactToTarget(bits))
  })

  test('rule parameters are checked', () => {
    throwsCode(() => bitcoinNextBits({ ...BTC, interval: 0n }, 0x1d00ffff, 0n, 0n, 2015n), 'BAD_PARAMS', /interval/)
    throwsCode(() => bitcoinNextBits({ ...BTC, powLimit: 0n }, 0x1d00ffff, 0n, 0n, 2015n), 'BAD_PARAMS', /powLimit/)
    throwsCode(() => bitcoinNextBits(BTC, 0x04923456, 0n, 0n, 2015n), 'BAD_BITS')
    const ctx: RetargetContext = {
      parent: { height: 2015n, time: 0n, bits: 0x1d00ffff },
      ancestor: () => ({ time: 0n, bits: 0x1d00ffff }),
      targetSpacing: 600n,
      powLimit: POW_LIMIT_224,
    }
    throwsCode(() => nextBits({ kind: 'bitcoin', interval: 0 }, ctx), 'BAD_PARAMS', /interval/)
    throwsCode(() => nextBits({ kind: 'bitcoin', interval: 1.5 }, ctx), 'BAD_PARAMS', /interval/)
    throwsCode(() => nextBits({ kind: 'bitcoin', interval: 2016 }, { ...ctx, targetSpacing: 0n }), 'BAD_PARAMS', /targetSpacing/)
    throwsCode(() => nextBits({ kind: 'nope' } as unknown as RetargetRule, ctx), 'BAD_PARAMS', /unknown retarget rule/)
  })
})

// ---------------------------------------------------------------------------------------------

interface AsertRun {
  name: string
  anchorHeight: bigint
  anchorParentTime: bigint
  anchorBits: number
  rows: Array<{ height: bigint; time: bigint; bits: number }>
}

function loadAsertRuns(): AsertRun[] {
  const dir = process.env.ASERT_VECTORS_DIR ? process.env.ASERT_VECTORS_DIR.replace(/\/?$/, '/') : undefined
  if (!dir) return []
  return readdirSync(dir)
    .filter((f) => /^run\d+$/.test(f))
    .sort()
    .map((name) => {
      const text = readFileSync(dir + name, 'utf8')
      const header = (re: RegExp) => {
        const m = text.match(re)
        if (!m) throw new Error(`${name}: no ${re}`)
        return m[1]!
      }
      const rows = text
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('#'))
        .map((l) => {
          const [, height, time, bits] = l.trim().split(/\s+/)
          return { height: BigInt(height!), time: BigInt(time!), bits: Number(bits) }
        })
      return {
        name,
        anchorHeight: BigInt(header(/anchor height:\s*(\d+)/)),
        anchorParentTime: BigInt(header(/anchor (?:ancestor|parent) time:\s*(-?\d+)/)),
        anchorBits: Number(header(/anchor nBits:\s*(0x[0-9a-f]+)/)),
        rows,
      }
    })
}

const HALF_LIFE = 172800n // 2 days, BCH mainnet
const hex = (b: number) => `0x${b.toString(16).padStart(8, '0')}`

describe('pow retarget: ASERT aserti3-2d (BCH spec test vectors, with ASERT_VECTORS_DIR)', () => {
  const runs = loadAsertRuns()

  test('all twelve runs are present', { skip: runs.length === 0 ? 'set ASERT_VECTORS_DIR to the official run01..run12 files' : false }, () => {
    assert.deepEqual(
      runs.map((r) => r.name),
      ['run01', 'run02', 'run03', 'run04', 'run05', 'run06', 'run07', 'run08', 'run09', 'run10', 'run11', 'run12'],
    )
    const rows = runs.reduce((n, r) => n + r.rows.length, 0)
    assert.ok(rows >= 1400, `only ${rows} vector rows`)
  })

  for (const run of runs) {
    test(`${run.name}: asertNextBits (${run.rows.length} rows)`, () => {
      assert.ok(run.rows.length >= 10, `${run.rows.length} rows`)
      const anchorTarget = compactToTarget(run.anchorBits)
      for (const r of run.rows) {
        const got = asertNextBits(anchorTarget, r.time - run.anchorParentTime, r.height - run.anchorHeight, 600n, HALF_LIFE, POW_LIMIT_224)
        assert.equal(hex(got), hex(r.bits), `height ${r.height} time ${r.time}`)
      }
    })

    // The dispatcher takes the anchor height as a JSON number; run10's is past 2^53.
    if (run.anchorHeight <= BigInt(Number.MAX_SAFE_INTEGER)) {
      test(`${run.name}: nextBits reads the anchor's bits and its parent's time`, () => {
        const rule: RetargetRule = { kind: 'asert', halfLifeSeconds: 172800, anchorHeight: Number(run.anchorHeight) }
        for (const r of run.rows) {
          const ancestor = (h: bigint): AncestorInfo => {
            if (h === run.anchorHeight) return { time: 123n, bits: run.anchorBits } // the anchor's own time is never used
            if (h === run.anchorHeight - 1n) return { time: run.anchorParentTime, bits: 0x0dedbeef } // nor its parent's bits
            return assert.fail(`unexpected ancestor ${h}`)
          }
          const ctx: RetargetContext = {
            parent: { height: r.height, time: r.time, bits: 0x1d00ffff },
            ancestor,
            targetSpacing: 600n,
            powLimit: POW_LIMIT_224,
          }
          assert.equal(hex(nextBits(rule, ctx)), hex(r.bits), `height ${r.height} time ${r.time}`)
        }
      })
    }
  }
})

describe('pow retarget: ASERT (BCHN calculate_asert_test)', () => {
  const powLimit = POW_LIMIT_224
  const powLimitBits = targetToCompact(powLimit)
  // CalculateASERT's time difference is to the anchor's parent, assumed one ideal block earlier.
  const parentTimeDiff = 600n
  const calc = (ref: bigint, timeDiff: bigint, heightDiff: bigint) =>
    asertNextTarget(ref, parentTimeDiff + timeDiff, heightDiff, 600n, HALF_LIFE, powLimit)

  test('steady, fast, catching up, and half-life jumps', () => {
    const initial = powLimit >> 4n
    assert.equal(calc(initial, 600n, 1n), initial) // steady
    const fast = calc(initial, 600n + 300n, 2n)
    assert.ok(fast < initial, 'a block in half the time lowers the target')
    const back = calc(initial, 600n + 300n + 900n, 3n)
    assert.ok(back > fast, 'a slow block raises it again')
    assert.equal(back, initial) // the next one makes up for it
    const doubled = asertNextTarget(back, parentTimeDiff + 288n * 1200n, 288n, 600n, HALF_LIFE, powLimit)
    assert.equal(doubled, back * 2n) // two days behind schedule: target doubles
    const halved = asertNextTarget(doubled, parentTimeDiff, 288n, 600n, HALF_LIFE, powLimit)
    assert.equal(halved, doubled / 2n) // two days ahead: target halves
    assert.equal(halved, initial)

    // from powLimit >> 4 up to powLimit takes four doublings
    let t = halved
    for (let k = 0; k < 3; k++) {
      const next = asertNextTarget(t, parentTimeDiff + 288n * 1200n, 288n, 600n, HALF_LIFE, powLimit)
      assert.equal(next, t * 2n)
      assert.ok(next < powLimit, 'still below powLimit')
      assert.notEqual(targetToCompact(next), powLimitBits)
      t = next
    }
    const last = asertNextTarget(t, parentTimeDiff + 288n * 1200n, 288n, 600n, HALF_LIFE, powLimit)
    assert.equal(last, t * 2n)
    assert.equal(targetToCompact(last), powLimitBits)

    // 512 days fast cannot overflow past powLimit; ~446 days slow bottoms out at target 1
    assert.equal(targetToCompact(calc(t, 512n * 144n * 600n, 0n)), powLimitBits)
    assert.equal(targetToCompact(asertNextTarget(powLimit, 0n, 2n * (256n - 33n) * 144n, 600n, HALF_LIFE, powLimit)), targetToCompact(1n))
  })

  const SINGLE_300_TARGET = BigInt('0x00000000ffb1ffffffffffffffffffffffffffffffffffffffffffffffffffff')
  const FUNNY_REF_TARGET = BigInt('0x000000008000000000000000000fffffffffffffffffffffffffffffffffffff')
  // refTarget, timeDiff (without parentTimeDiff), heightDiff, expected target, expected bits
  const table: Array<[bigint, bigint, bigint, bigint, number]> = [
    [powLimit, 0n, 2n * 144n, powLimit >> 1n, 0x1c7fffff],
    [powLimit, 0n, 4n * 144n, powLimit >> 2n, 0x1c3fffff],
    [powLimit >> 1n, 0n, 2n * 144n, powLimit >> 2n, 0x1c3fffff],
    [powLimit >> 2n, 0n, 2n * 144n, powLimit >> 3n, 0x1c1fffff],
    [powLimit >> 3n, 0n, 2n * 144n, powLimit >> 4n, 0x1c0fffff],
    [powLimit, 0n, 2n * (256n - 34n) * 144n, 3n, 0x01030000],
    [powLimit, 0n, 2n * (256n - 34n) * 144n + 119n, 3n, 0x01030000],
    [powLimit, 0n, 2n * (256n - 34n) * 144n + 120n, 2n, 0x01020000],
    [powLimit, 0n, 2n * (256n - 33n) * 144n - 1n, 2n, 0x01020000],
    [powLimit, 0n, 2n * (256n - 33n) * 144n, 1n, 0x01010000],
    [powLimit, 0n, 2n * (256n - 32n) * 144n, 1n, 0x01010000],
    [1n, 0n, 2n * (256n - 32n) * 144n, 1n, 0x01010000],
    [powLimit, 2n * (512n - 32n) * 144n, 0n, powLimit, powLimitBits],
    [1n, (512n - 64n) * 144n * 600n, 0n, powLimit, powLimitBits],
    [powLimit, 300n, 1n, SINGLE_300_TARGET, 0x1d00ffb1],
    [FUNNY_REF_TARGET, 600n * 2n * 33n * 144n, 0n, powLimit, powLimitBits],
    [1n, 600n * 2n * 256n * 144n, 0n, powLimit, powLimitBits],
    [1n, 600n * 2n * 224n * 144n - 1n, 0n, 0xffff8n << 204n, powLimitBits],
  ]
  table.forEach(([ref, timeDiff, heightDiff, expectedTarget, expectedBits], i) => {
    test(`calculate_args[${i}]`, () => {
      const got = calc(ref, timeDiff, heightDiff)
      assert.equal(got, expectedTarget)
      assert.equal(hex(targetToCompact(got)), hex(expectedBits))
    })
  })

  test('inputs are checked', () => {
    throwsCode(() => asertNextTarget(0n, 0n, 0n, 600n, HALF_LIFE, powLimit), 'BAD_TARGET', /anchor target/)
    throwsCode(() => asertNextTarget(powLimit + 1n, 0n, 0n, 600n, HALF_LIFE, powLimit), 'BAD_TARGET', /anchor target/)
    throwsCode(() => asertNextTarget(powLimit, 0n, -1n, 600n, HALF_LIFE, powLimit), 'BAD_PARAMS', /heightDiff/)
    throwsCode(() => asertNextTarget(powLimit, 0n, 0n, 0n, HALF_LIFE, powLimit), 'BAD_PARAMS', /idealSpacing/)
    throwsCode(() => asertNextTarget(powLimit, 0n, 0n, 600n, 0n, powLimit), 'BAD_PARAMS', /halfLifeSeconds/)
    throwsCode(() => asertNextTarget(1n, 0n, 0n, 600n, HALF_LIFE, MAX_UINT256 + 1n), 'BAD_PARAMS', /powLimit/)
  })
})

describe('pow retarget: ASERT through nextBits', () => {
  const genesisBits = 0x1c0fffff
  const chainAt = (times: bigint[], bitsOf: (h: number) => number = () => genesisBits) => (h: bigint) => {
    const t = times[Number(h)]
    if (t === undefined) throw new Error(`no block ${h}`)
    return { time: t, bits: bitsOf(Number(h)) }
  }

  test('an anchor at genesis keeps the genesis target while blocks are on schedule', () => {
    const rule: RetargetRule = { kind: 'asert', halfLifeSeconds: 172800, anchorHeight: 0 }
    const times = Array.from({ length: 50 }, (_, i) => 1_700_000_000n + 600n * BigInt(i))
    for (let h = 0; h < 50; h++) {
      const ctx: RetargetContext = {
        parent: { height: BigInt(h), time: times[h]!, bits: genesisBits },
        ancestor: chainAt(times),
        targetSpacing: 600n,
        powLimit: POW_LIMIT_224,
      }
      assert.equal(hex(nextBits(rule, ctx)), hex(genesisBits), `after block ${h}`)
    }
  })

  test('blocks up to the anchor keep their parent bits; later ones follow the anchor', () => {
    const rule: RetargetRule = { kind: 'asert', halfLifeSeconds: 172800, anchorHeight: 10 }
    const times = Array.from({ length: 20 }, (_, i) => 1_700_000_000n + 60n * BigInt(i)) // 10x too fast
    const ctx = (h: number, bits: number): RetargetContext => ({
      parent: { height: BigInt(h), time: times[h]!, bits },
      ancestor: chainAt(times, (x) => (x === 10 ? 0x1c0abcde : 0x1d00ffff)),
      targetSpacing: 600n,
      powLimit: POW_LIMIT_224,
    })
    for (let h = 0; h < 10; h++) assert.equal(nextBits(rule, ctx(h, 0x1d00ffff)), 0x1d00ffff)
    // At the anchor itself its own bits are the reference; fast blocks make the next one harder.
    const atAnchor = compactToTarget(nextBits(rule, ctx(10, 0x1c0abcde)))
    assert.ok(atAnchor < compactToTarget(0x1c0abcde), 'fast blocks after the anchor lower the target')
    const later = compactToTarget(nextBits(rule, ctx(19, 0x1c0abcde)))
    assert.ok(later < atAnchor, 'and keep lowering it')
  })
})

// ---------------------------------------------------------------------------------------------
// Convergence: a simulated chain whose hashrate changes; no hashing, only the expected time.

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SPACING = 600n
const PHASES = [
  { blocks: 500, hashrate: 1 },
  { blocks: 500, hashrate: 4 },
  { blocks: 500, hashrate: 0.5 },
]
/** Hashes per second at 1x; the genesis target makes a block take SPACING on average at 1x. */
const BASE_HASHRATE = 2 ** 20
const SIM_POW_LIMIT = (1n << 236n) - 1n // easy enough to follow the 0.5x phase
const SIM_GENESIS_BITS = targetToCompact((1n << 256n) / (SPACING * BigInt(BASE_HASHRATE)) - 1n)

interface SimBlock {
  time: bigint
  bits: number
  /** Expected seconds to find this block at its target and the hashrate of its phase. */
  expected: number
  solve: number
}

function simulate(rule: RetargetRule, seed: number): SimBlock[] {
  const rand = prng(seed)
  const chain: SimBlock[] = [{ time: 1_700_000_000n, bits: SIM_GENESIS_BITS, expected: 600, solve: 600 }]
  const ancestor = (h: bigint): AncestorInfo => chain[Number(h)]!
  for (const phase of PHASES) {
    for (let i = 0; i < phase.blocks; i++) {
      const height = chain.length - 1
      const parent = chain[height]!
      const bits = nextBits(rule, {
        parent: { height: BigInt(height), time: parent.time, bits: parent.bits },
        ancestor,
        targetSpacing: SPACING,
        powLimit: SIM_POW_LIMIT,
      })
      const expected = Number(workFromBits(bits)) / (BASE_HASHRATE * phase.hashrate)
      const solve = Math.round(-Math.log(1 - rand()) * expected) // exponential solve time, whole seconds
      chain.push({ time: parent.time + BigInt(solve), bits, expected, solve })
    }
  }
  return chain
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

describe('pow retarget: convergence after hashrate changes (simulated, seeded)', () => {
  const rules: Array<[string, RetargetRule]> = [
    ['bitcoin, interval 50', { kind: 'bitcoin', interval: 50 }],
    ['asert, half-life 50 blocks', { kind: 'asert', halfLifeSeconds: 50 * 600, anchorHeight: 0 }],
  ]
  for (const [name, rule] of rules) {
    for (const seed of [1, 2, 3]) {
      test(`${name}, seed ${seed}: mean block time returns to 600 s +-20% after each change`, () => {
        const chain = simulate(rule, seed)
        let start = 1
        let previousRate = 1
        for (const phase of PHASES) {
          // Right after a change the old difficulty no longer fits: blocks are expected to come
          // far too fast (4x) or too slow (1/8 of the hashrate before), so the rule has work to do.
          const first = chain[start]!.expected
          if (phase.hashrate > previousRate) assert.ok(first < 300, `first block of the ${phase.hashrate}x phase expects ${first.toFixed(1)} s`)
          if (phase.hashrate < previousRate) assert.ok(first > 1200, `first block of the ${phase.hashrate}x phase expects ${first.toFixed(1)} s`)
          previousRate = phase.hashrate
          // Once the rule has caught up (the last 300 blocks of the phase), block times are back near the spacing.
          const window = chain.slice(start + 200, start + phase.blocks).map((b) => b.solve)
          const avg = mean(window)
          assert.ok(Math.abs(avg / 600 - 1) <= 0.2, `${phase.hashrate}x phase: mean block time ${avg.toFixed(1)} s`)
          start += phase.blocks
        }
      })
    }
  }
})
