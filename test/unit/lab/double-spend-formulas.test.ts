/**
 * The double-spend closed forms against the papers: Nakamoto's whitepaper §11 table (7
 * decimals, as printed) and its "P < 0.1%" list; Rosenfeld's exact formula against its
 * derivation (negative binomial progress, then gambler's ruin) and its known values.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  catchUpProbability, confirmationsFor, giveUpDeficit, nakamotoProbability, rosenfeldProbability,
} from '../../../src/lab/experiments/double-spend-formulas.ts'
import { bonferroniZ, normalQuantile, wilson } from '../../../src/lab/experiments/simultaneous.ts'

const WHITEPAPER_Q10: Array<[number, number]> = [
  [0, 1.0], [1, 0.2045873], [2, 0.0509779], [3, 0.0131722], [4, 0.0034552], [5, 0.0009137],
  [6, 0.0002428], [7, 0.0000647], [8, 0.0000173], [9, 0.0000046], [10, 0.0000012],
]
const WHITEPAPER_Q30: Array<[number, number]> = [
  [0, 1.0], [5, 0.1773523], [10, 0.0416605], [15, 0.0101008], [20, 0.0024804], [25, 0.0006132],
  [30, 0.0001522], [35, 0.0000379], [40, 0.0000095], [45, 0.0000024], [50, 0.0000006],
]

describe("Nakamoto's formula (whitepaper §11)", () => {
  test('q = 0.1, z = 0..10: the printed table to 7 decimals', () => {
    for (const [z, p] of WHITEPAPER_Q10) assert.equal(nakamotoProbability(0.1, z).toFixed(7), p.toFixed(7), `z=${z}`)
  })
  test('q = 0.3, z = 0..50 by 5: the printed table to 7 decimals', () => {
    for (const [z, p] of WHITEPAPER_Q30) assert.equal(nakamotoProbability(0.3, z).toFixed(7), p.toFixed(7), `z=${z}`)
  })
  test('solving for P < 0.1%: the printed list', () => {
    const list = [[0.1, 5], [0.15, 8], [0.2, 11], [0.25, 15], [0.3, 24], [0.35, 41], [0.4, 89], [0.45, 340]] as const
    for (const [q, z] of list) assert.equal(confirmationsFor(nakamotoProbability, q), z, `q=${q}`)
  })
  test('a majority attacker always wins', () => {
    assert.equal(nakamotoProbability(0.5, 10), 1)
    assert.equal(nakamotoProbability(0.6, 100), 1)
  })
})

describe("Rosenfeld's exact formula (2014, eq. 1)", () => {
  test('z = 1 is 2q: the attacker wins if he finds the next block, or catches up later', () => {
    for (const q of [0.05, 0.1, 0.3, 0.45]) assert.ok(Math.abs(rosenfeldProbability(q, 1) - 2 * q) < 1e-12, `q=${q}`)
  })
  test('equals the closed form of eq. (1), 1 - Σ_{k=0..z} C(k+z-1, k)(p^z q^k - q^z p^k), where that is well conditioned', () => {
    for (const q of [0.1, 0.25, 0.3, 0.4, 0.45]) {
      const p = 1 - q
      for (const z of [1, 2, 5, 10, 20, 40]) {
        let sum = 0
        let binom = 1 // C(k+z-1, k)
        for (let k = 0; k <= z; k++) {
          if (k > 0) binom *= (k + z - 1) / k
          sum += binom * (p ** z * q ** k - q ** z * p ** k)
        }
        const closed = 1 - sum
        const exact = rosenfeldProbability(q, z)
        // 1 - Σ loses ~1e-16 absolutely: compare where P is well above that.
        if (exact < 1e-10) continue
        assert.ok(Math.abs(closed - exact) <= 1e-13 + 1e-9 * exact, `q=${q} z=${z}: ${closed} vs ${exact}`)
      }
    }
  })
  test("Rosenfeld's table: q = 0.1 gives 20%, 5.6%, 1.712% for z = 1, 2, 3; q = 0.3, z = 10 about 6.5%", () => {
    assert.ok(Math.abs(rosenfeldProbability(0.1, 2) - 0.056) < 1e-12)
    assert.ok(Math.abs(rosenfeldProbability(0.1, 3) - 0.01712) < 1e-12)
    assert.ok(Math.abs(rosenfeldProbability(0.3, 10) - 0.0651) < 1e-4)
  })
  // (z <= 20: beyond, Nakamoto's own 1 - Σ form is below its rounding error at q = 0.1.)
  test('Nakamoto overstates at z = 1 and understates from z = 4 on, more and more with z', () => {
    for (const q of [0.1, 0.2, 0.3]) {
      assert.ok(rosenfeldProbability(q, 1) < nakamotoProbability(q, 1), `q=${q} z=1`)
      let ratio = 1
      for (let z = 4; z <= 20; z++) {
        const r = rosenfeldProbability(q, z) / nakamotoProbability(q, z)
        assert.ok(r > ratio, `q=${q} z=${z}: ratio ${r}`)
        ratio = r
      }
    }
  })
  test('confirmations for P < 0.1% are more than the whitepaper says', () => {
    const exact = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45].map((q) => confirmationsFor(rosenfeldProbability, q))
    assert.deepEqual(exact, [6, 9, 13, 20, 32, 58, 133, 539])
  })
})

describe('race helpers', () => {
  test('catching up is gambler’s ruin: (q/p)^blocks, certain for a majority', () => {
    assert.ok(Math.abs(catchUpProbability(0.25, 3) - (1 / 3) ** 3) < 1e-15)
    assert.equal(catchUpProbability(0.5, 40), 1)
    assert.equal(catchUpProbability(0.2, 0), 1)
  })
  test('the give-up deficit leaves less than 1e-9 behind it', () => {
    for (const q of [0.1, 0.3, 0.45]) {
      const d = giveUpDeficit(q)
      assert.ok(catchUpProbability(q, d + 1) < 1e-9 && catchUpProbability(q, d) >= 1e-9, `q=${q} d=${d}`)
    }
    assert.equal(giveUpDeficit(0.5), Infinity)
  })
  test('normal quantiles and Wilson intervals', () => {
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959963984540054) < 1e-8)
    assert.ok(Math.abs(normalQuantile(0.001) + 3.090232306167813) < 1e-8)
    assert.ok(Math.abs(bonferroniZ(1) - 1.959963984540054) < 1e-8)
    assert.ok(bonferroniZ(20) > 3 && bonferroniZ(20) < 3.1)
    const w = wilson(10, 100, 1.959963984540054)
    assert.ok(Math.abs(w.low - 0.05522914) < 1e-6 && Math.abs(w.high - 0.17436566) < 1e-6)
    assert.equal(wilson(50, 50, 3).high, 1)
    assert.equal(wilson(0, 50, 3).low, 0)
  })
})
