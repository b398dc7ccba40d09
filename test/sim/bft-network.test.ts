/**
 * Simulation: N validators over an unreliable network (delay, loss, duplication, reordering)
 * keep committing the same blocks. Safety, certificates, single signing and lock invariants
 * are checked on every event by the Simulation itself; these tests add liveness.
 * Replay a failure with SIM_SEEDS=<seed>.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Simulation } from '../../src/lab/sim/bft-cluster.ts'
import { equalPowers, runAndAssertLiveness, seeds } from './helpers.ts'

const LOSSY = { minDelayMs: 5, maxDelayMs: 150, loss: 0.1, duplicate: 0.1 }

describe('sim: unreliable network', () => {
  const cases: Array<{ name: string; powers: bigint[]; seeds: number[] }> = [
    { name: '4 equal validators', powers: equalPowers(4), seeds: seeds([1, 2, 3, 4, 5, 6]) },
    { name: '7 equal validators', powers: equalPowers(7), seeds: seeds([11, 12, 13, 14]) },
    { name: '10 equal validators', powers: equalPowers(10), seeds: seeds([21, 22]) },
    // One validator holds 5/12 of the power: it proposes most rounds and no quorum forms without it.
    { name: '5 validators, unequal power', powers: [50n, 30n, 20n, 10n, 10n], seeds: seeds([31, 32, 33]) },
  ]
  for (const c of cases) {
    for (const seed of c.seeds) {
      test(`${c.name}, seed ${seed}`, () => {
        const sim = new Simulation({ seed, powers: c.powers, net: LOSSY })
        runAndAssertLiveness(sim, 0, { heights: 12, withinMs: 30_000, maxRound: 3 })
        // Every honest node holds the same chain, with a certificate per block.
        const reference = sim.nodes[0].commits
        for (const n of sim.nodes) {
          for (const [h, commit] of n.commits) {
            if (reference.has(h)) assert.equal(commit.hash, reference.get(h)!.hash)
          }
        }
      })
    }
  }

  test('a single validator decides alone, every height in round 0', () => {
    const sim = new Simulation({ seed: 7, powers: [1n] })
    runAndAssertLiveness(sim, 0, { heights: 20, withinMs: 10_000, maxRound: 0 })
  })

  test('heavy loss (30%) and long delays still converge, with more rounds', () => {
    for (const seed of seeds([41, 42])) {
      const sim = new Simulation({ seed, powers: equalPowers(7), net: { minDelayMs: 10, maxDelayMs: 400, loss: 0.3, duplicate: 0.2 } })
      runAndAssertLiveness(sim, 0, { heights: 8, withinMs: 60_000, maxRound: 6 })
    }
  })

  test('the same seed replays the same run', () => {
    const run = () => {
      const sim = new Simulation({ seed: 99, powers: equalPowers(4), net: LOSSY })
      sim.run(5_000)
      return sim.summary() + [...sim.decided.values()].map((d) => d.hash).join()
    }
    assert.equal(run(), run())
  })
})
