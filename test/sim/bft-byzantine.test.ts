/**
 * Simulation: up to f byzantine validators (f = floor((n-1)/3)) that equivocate as proposers,
 * double vote, collude to show two halves of the network different blocks (also split-voting
 * under the partition they choose), or stay silent.
 * Safety must hold, honest nodes must keep committing, and every double voter must be caught
 * with evidence that verifies (checked as it is reported). With f + 1 colluders the safety
 * checker must fire: proof that it is not vacuous.
 * Replay a failure with SIM_SEEDS=<seed>.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Simulation, SimViolation, type Behavior } from '../../src/lab/sim/bft-cluster.ts'
import { equalPowers, runAndAssertLiveness, seeds } from './helpers.ts'

const NET = { minDelayMs: 5, maxDelayMs: 80, loss: 0.05, duplicate: 0.05 }
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function byzantine(indices: number[], behaviors: Behavior[]): Record<number, Behavior[]> {
  return Object.fromEntries(indices.map((i) => [i, behaviors]))
}

/** The validators that honest nodes caught double voting. */
function accused(sim: Simulation): Set<string> {
  return new Set([...sim.evidence.keys()].map((k) => k.split('/')[0]))
}

describe('sim: byzantine validators', () => {
  const sizes: Array<{ n: number; byz: number[]; seeds: number[] }> = [
    { n: 4, byz: [0], seeds: seeds([201, 202, 203]) },
    { n: 7, byz: [1, 4], seeds: seeds([211, 212, 213]) },
    { n: 10, byz: [2, 5, 8], seeds: seeds([221, 222]) },
  ]
  for (const { n, byz, seeds: list } of sizes) {
    for (const seed of list) {
      test(`${n} validators, ${byz.length} equivocating double voters: safe, live, all caught, seed ${seed}`, () => {
        const sim = new Simulation({ seed, powers: equalPowers(n), net: NET, byzantine: byzantine(byz, ['equivocate', 'double-vote']) })
        runAndAssertLiveness(sim, 0, { heights: 10, withinMs: 40_000, maxRound: byz.length + 3 })
        const caught = accused(sim)
        for (const i of byz) assert.ok(caught.has(hex(sim.nodes[i].address)), `byzantine node ${i} was never caught (${sim.summary()})`)
        for (const node of sim.honestNodes()) assert.ok(!caught.has(hex(node.address)), `honest node ${node.index} was accused`)
      })
    }
  }

  for (const seed of seeds([231, 232, 233])) {
    test(`7 validators, 2 colluding fork attackers: no fork, still live, seed ${seed}`, () => {
      const sim = new Simulation({ seed, powers: equalPowers(7), net: NET, byzantine: byzantine([0, 3], ['fork-attack']) })
      runAndAssertLiveness(sim, 0, { heights: 10, withinMs: 40_000, maxRound: 5 })
      assert.ok(accused(sim).size === 2, 'both colluders double vote, both are caught')
    })
  }

  for (const seed of seeds([241, 242])) {
    test(`7 validators, 2 silent: the other 5 (exactly > 2/3) carry on, seed ${seed}`, () => {
      const sim = new Simulation({ seed, powers: equalPowers(7), net: NET, byzantine: byzantine([2, 5], ['silent']) })
      runAndAssertLiveness(sim, 0, { heights: 10, withinMs: 40_000, maxRound: 5 })
      assert.equal(sim.evidence.size, 0)
    })
  }

  test('byzantine validators and a partition together: 7 validators, 2 double voters, 4|3 split then heal', () => {
    for (const seed of seeds([251, 252])) {
      const partitions = [{ fromMs: 1_500, toMs: 5_000, groups: [[0, 1, 2, 3], [4, 5, 6]] }]
      const sim = new Simulation({ seed, powers: equalPowers(7), net: NET, partitions, byzantine: byzantine([1, 5], ['equivocate', 'double-vote']) })
      runAndAssertLiveness(sim, 5_000, { heights: 6, withinMs: 30_000, maxRound: 5 })
    }
  })

  for (const seed of seeds([271, 272])) {
    test(`7 validators, 2 split voters with the partition they choose (3|2 honest, themselves in both): no fork, live after the heal, both caught, seed ${seed}`, () => {
      const sides: [number[], number[]] = [[0, 2, 4], [5, 6]]
      const partitions = [{ fromMs: 0, toMs: 3_000, groups: [[...sides[0], 1, 3], [...sides[1], 1, 3]] }]
      const sim = new Simulation({ seed, powers: equalPowers(7), net: NET, partitions, splitSides: sides, byzantine: byzantine([1, 3], ['split-vote']) })
      runAndAssertLiveness(sim, 3_000, { heights: 5, withinMs: 20_000, maxRound: 6 })
      assert.deepEqual([...accused(sim)].sort(), [1, 3].map((i) => hex(sim.nodes[i].address)).sort())
    })
  }

  test('recordViolations: the run that throws on its first fork instead records it and every later one, and goes on', () => {
    const seed = 261
    const config = { seed, powers: equalPowers(4), net: NET, byzantine: byzantine([0, 1], ['fork-attack']) }
    let thrown: SimViolation | undefined
    try {
      new Simulation(config).run(60_000)
    } catch (err) {
      thrown = err as SimViolation
    }
    assert.ok(thrown instanceof SimViolation && thrown.kind === 'safety')
    const recorded = new Simulation({ ...config, recordViolations: true })
    recorded.run(20_000)
    assert.equal(recorded.violations[0]?.message, thrown.message, 'the same first violation')
    assert.equal(recorded.violations[0]?.atMs, thrown.atMs)
    assert.ok(recorded.violations.filter((v) => v.kind === 'safety').length > 1, 'later forks recorded too')
    assert.ok(recorded.now === 20_000, 'ran to the end')
  })

  test('negative control: f + 1 colluders break safety on 4 validators, and the checker says so', () => {
    for (const seed of seeds([261, 262, 263])) {
      const sim = new Simulation({ seed, powers: equalPowers(4), net: NET, byzantine: byzantine([0, 1], ['fork-attack']) })
      assert.throws(
        () => sim.run(60_000, () => sim.minHonestHeight() >= 20n),
        (err: unknown) => err instanceof SimViolation && err.kind === 'safety' && err.message.includes(`seed ${seed}`),
        `seed ${seed}: two of four validators forking went unnoticed (${sim.summary()})`,
      )
    }
  })
})
