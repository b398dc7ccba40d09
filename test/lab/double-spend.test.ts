/**
 * `catena lab double-spend` on a small run: the race model matches Rosenfeld's exact formula
 * within simultaneous 95% intervals, Nakamoto's z-for-0.1% list comes out as printed, and the
 * replays through real chains reverse the payment exactly in the runs the model calls a success.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { doubleSpend, runSeed } from '../../src/lab/experiments/double-spend.ts'
import { raceOnce, racePath } from '../../src/lab/experiments/double-spend-race.ts'
import { replayDoubleSpend } from '../../src/lab/experiments/double-spend-replay.ts'
import { rosenfeldProbability } from '../../src/lab/experiments/double-spend-formulas.ts'
import { Prng } from '../../src/lab/sim/prng.ts'

describe('lab: double-spend', () => {
  test('200,000 runs per q (seed 1): every anchor check passes', async () => {
    const r = await doubleSpend.run({ runs: 200_000, seed: 1, progress: () => {} })
    for (const c of r.checks) assert.ok(c.pass, `${c.name}: ${c.detail}`)
    const data = r.data as { points: Array<{ q: number; z: number; p: number; low95: number; high95: number; checked: boolean }>; replays: Array<{ runs: number; agree: number; modelSuccesses: number; reversed: number }> }
    // The anchors themselves: the exact value inside the per-point interval where the bar applies...
    const q3z10 = data.points.find((p) => p.q === 0.3 && p.z === 10)!
    assert.ok(q3z10.checked && q3z10.low95 <= rosenfeldProbability(0.3, 10) && rosenfeldProbability(0.3, 10) <= q3z10.high95)
    // ...and Nakamoto's 0.0416605 far outside it.
    assert.ok(q3z10.low95 > 0.0416605 * 1.4)
    // Both outcomes were replayed on real chains, and each agreed.
    const successes = data.replays.reduce((n, x) => n + x.modelSuccesses, 0)
    const runs = data.replays.reduce((n, x) => n + x.runs, 0)
    assert.ok(successes > 0 && successes < runs, `${successes}/${runs} successes in the replays`)
    assert.equal(data.replays.reduce((n, x) => n + x.agree, 0), runs)
    assert.equal(data.replays.reduce((n, x) => n + x.reversed, 0), successes)
  })

  test('a single-z race and the all-z sweep path give the same verdict on the same stream', () => {
    for (const q of [0.1, 0.3, 0.45]) {
      for (let i = 0; i < 2000; i++) {
        const best = racePath(new Prng(runSeed(5, 0, i)), q, 12)
        for (const z of [0, 1, 3, 7, 12]) assert.equal(raceOnce(new Prng(runSeed(5, 0, i)), q, z).success, best >= z, `q=${q} run ${i} z=${z}`)
      }
    }
  })

  test('a replayed success: the honest nodes reorganize past the payment, which leaves every honest chain', async () => {
    // Find a run where a q = 0.3 attacker beats 2 confirmations, and replay it.
    let i = 0
    let run = raceOnce(new Prng(i), 0.3, 2)
    while (!run.success) run = raceOnce(new Prng(++i), 0.3, 2)
    const out = await replayDoubleSpend({ run, q: 0.3, z: 2, seed: 1 })
    assert.ok(out.reversed && !out.paymentStands)
    assert.ok(out.confirmationsAtPublish! >= 2, 'the merchant had its 2 confirmations when the attacker published')
    assert.ok(out.reorgDepth >= 2, 'the payment block and the confirmation on it were disconnected')
  })
})
