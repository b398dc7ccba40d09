/**
 * Simulation: partitions split the validators into groups for a time window, then heal.
 * A group with more than 2/3 of the power keeps committing; a group without it commits
 * nothing (and, above all, nothing different); after the heal every honest node catches up
 * and consensus keeps deciding in a bounded number of rounds.
 * Replay a failure with SIM_SEEDS=<seed>.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Simulation, type Partition } from '../../src/lab/sim/bft-cluster.ts'
import { commitsBetween, equalPowers, runAndAssertLiveness, seeds } from './helpers.ts'
import { Prng } from '../../src/lab/sim/prng.ts'

const NET = { minDelayMs: 5, maxDelayMs: 80, loss: 0.05, duplicate: 0.05 }
/** Margin for messages in flight when a partition starts. */
const SETTLE_MS = 1_000

describe('sim: partitions', () => {
  for (const seed of seeds([101, 102, 103])) {
    test(`4 validators split 2|2: nobody commits, then all resume, seed ${seed}`, () => {
      const p: Partition = { fromMs: 2_000, toMs: 8_000, groups: [[0, 1], [2, 3]] }
      const sim = new Simulation({ seed, powers: equalPowers(4), net: NET, partitions: [p] })
      sim.run(p.toMs)
      for (let i = 0; i < 4; i++) assert.equal(commitsBetween(sim, i, p.fromMs + SETTLE_MS, p.toMs), 0, `node ${i} committed while split (${sim.summary()})`)
      runAndAssertLiveness(sim, p.toMs, { heights: 5, withinMs: 20_000, maxRound: 4 })
    })
  }

  for (const seed of seeds([111, 112, 113])) {
    test(`7 validators split 5|2: the 5 keep committing, the 2 catch up after the heal, seed ${seed}`, () => {
      const p: Partition = { fromMs: 1_500, toMs: 7_000, groups: [[0, 1, 2, 3, 4], [5, 6]] }
      const sim = new Simulation({ seed, powers: equalPowers(7), net: NET, partitions: [p] })
      sim.run(p.toMs)
      for (const i of [0, 1, 2, 3, 4]) assert.ok(commitsBetween(sim, i, p.fromMs + SETTLE_MS, p.toMs) >= 3, `majority node ${i} stalled (${sim.summary()})`)
      for (const i of [5, 6]) assert.equal(commitsBetween(sim, i, p.fromMs + SETTLE_MS, p.toMs), 0, `minority node ${i} committed while split`)
      const majorityHeight = sim.nodes[0].commits.size
      runAndAssertLiveness(sim, p.toMs, { heights: 5, withinMs: 20_000, maxRound: 4 })
      for (const i of [5, 6]) assert.ok(sim.nodes[i].commits.size > majorityHeight, `node ${i} did not catch up`)
    })
  }

  for (const seed of seeds([121, 122])) {
    test(`7 validators split 3|4 (no group has 2/3): nobody commits, then all resume, seed ${seed}`, () => {
      const p: Partition = { fromMs: 1_500, toMs: 6_000, groups: [[0, 1, 2], [3, 4, 5, 6]] }
      const sim = new Simulation({ seed, powers: equalPowers(7), net: NET, partitions: [p] })
      sim.run(p.toMs)
      for (let i = 0; i < 7; i++) assert.equal(commitsBetween(sim, i, p.fromMs + SETTLE_MS, p.toMs), 0)
      runAndAssertLiveness(sim, p.toMs, { heights: 5, withinMs: 20_000, maxRound: 4 })
    })
  }

  for (const seed of seeds([131, 132, 133])) {
    test(`rolling random partitions over 7 validators, then heal, seed ${seed}`, () => {
      // Five partitions of random shape and length, back to back, drawn from the seed.
      const rng = new Prng(seed ^ 0x5eed)
      const partitions: Partition[] = []
      let t = 1_000
      for (let k = 0; k < 5; k++) {
        const order = rng.shuffle([0, 1, 2, 3, 4, 5, 6])
        const cut = rng.int(1, 6)
        const length = rng.int(500, 3_000)
        partitions.push({ fromMs: t, toMs: t + length, groups: [order.slice(0, cut), order.slice(cut)] })
        t += length + rng.int(0, 1_000)
      }
      const sim = new Simulation({ seed, powers: equalPowers(7), net: NET, partitions })
      runAndAssertLiveness(sim, t, { heights: 5, withinMs: 25_000, maxRound: 4 })
    })
  }

  for (const seed of seeds([141])) {
    test(`10 validators with an isolated node and a 6|3 split at once, seed ${seed}`, () => {
      const p: Partition = { fromMs: 1_000, toMs: 6_000, groups: [[0, 1, 2, 3, 4, 5], [6, 7, 8]] } // node 9 reaches nobody
      const sim = new Simulation({ seed, powers: equalPowers(10), net: NET, partitions: [p] })
      sim.run(p.toMs)
      for (let i = 0; i < 10; i++) assert.equal(commitsBetween(sim, i, p.fromMs + SETTLE_MS, p.toMs), 0)
      runAndAssertLiveness(sim, p.toMs, { heights: 5, withinMs: 20_000, maxRound: 4 })
    })
  }
})
