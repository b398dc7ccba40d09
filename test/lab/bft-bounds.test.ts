/**
 * bft-bounds on small seeded runs: 4 validators are safe with f = 0 and 1 byzantine under the
 * adversary's partition, and fork with f = 2; the crash sweep is live with 1 of 4 or 2 of 7
 * down and stalls with 2 of 4 or 3 of 7; the evidence of a run with one equivocator slashes
 * exactly it on the PoS chain. The anchors are the experiment's own checks.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { loadChainSpec } from '../../src/chain/spec/index.ts'
import { attackRun, crashRun } from '../../src/lab/experiments/bft-bounds/runs.ts'
import { slashOnPosChain } from '../../src/lab/experiments/bft-bounds/slashing.ts'
import { checks } from '../../src/lab/experiments/bft-bounds/report.ts'
import { runSeed, sweep } from '../../src/lab/experiments/bft-bounds/sweep.ts'

const CHAIN_ID = loadChainSpec('ethereum-like').chainId

describe('lab bft-bounds', () => {
  test('n=4: f=0 and f=1 never fork, f=2 forks; the checks that say so pass', async () => {
    const r = await sweep({ sizes: [4], runs: 3, seed: 7, fs: () => [0, 1, 2], slashing: false, progress: () => {} })
    const [f0, f1, f2] = r.cells
    assert.equal(f0!.attack.violations + f1!.attack.violations, 0, 'safe below n/3')
    assert.equal(f0!.attack.runs + f1!.attack.runs, 6)
    assert.ok(f2!.attack.violations >= 1, `f=2 forked in ${f2!.attack.violations}/3 runs`)
    assert.ok(f2!.attack.conflictingHeights >= f2!.attack.violations)
    assert.equal(f1!.attack.evidenceExact, 3, 'the one equivocator is named, nobody else')
    const byName = new Map(checks(r, [4]).map((c) => [c.name, c]))
    for (const name of ['n=4: safe at every f < n/3 in every run', 'n=4: the attack forks at f = ceil(n/3) = 2, and at no smaller f', 'no honest validator is ever accused', 'no honest double sign, bad certificate or broken lock in any run']) {
      assert.ok(byName.get(name)?.pass, `${name}: ${byName.get(name)?.detail}`)
    }
  })

  test('a fork is two honest nodes on different blocks at one height, during the partition', () => {
    const run = attackRun(4, 2, runSeed(7, 4, 2, 0), CHAIN_ID)
    assert.equal(run.violation, true)
    assert.equal(run.violationInPartition, true)
    assert.ok(run.firstViolationMs !== null && run.firstViolationMs < 3_000)
    assert.deepEqual(run.accused, run.byzantine)
  })

  test('crash liveness bound: live with f < n/3 down, stalled with f >= n/3', () => {
    for (const [n, f, live] of [[4, 1, true], [4, 2, false], [7, 2, true], [7, 3, false]] as const) {
      for (const r of [0, 1]) {
        const o = crashRun(n, f, runSeed(11, n, f, r))
        assert.equal(o.live, live, `n=${n} f=${f} run ${r}: ${o.minHeights} heights`)
        if (!live) assert.equal(o.minHeights, 0, 'not a single height')
      }
    }
  })

  test('PoS: the evidence of one equivocator among 4 slashes and jails exactly it, and the chain goes on', async () => {
    const run = attackRun(4, 1, runSeed(5, 4, 1, 0), CHAIN_ID)
    assert.deepEqual(run.accused, run.byzantine)
    const s = await slashOnPosChain(4, 1, run)
    assert.equal(s.slashedExactly, true, JSON.stringify(s.standing))
    assert.equal(s.chainContinued, true)
    const offender = s.standing.find((v) => v.byzantine)!
    assert.equal(offender.stake, ((32n * 10n ** 18n * 9_500n) / 10_000n).toString(), '5% burned')
    assert.ok(offender.jailed && !offender.active)
    assert.ok(s.standing.filter((v) => !v.byzantine).every((v) => v.stake === (32n * 10n ** 18n).toString() && v.active))
  })
})
