/**
 * Eyal and Sirer 2014 (FC 2014, "Majority is not Enough"), §4: the selfish pool's relative
 * revenue R(α, γ) and the profitability threshold (1 − γ)/(3 − 2γ); and the block-by-block
 * model of Algorithm 1 on scripted schedules, transition by transition (the paper's state
 * machine: 0, 0', 1, 2, n > 2, with the reward of each transition).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { profitThreshold, selfishRevenue } from '../../../src/lab/experiments/selfish-mining/formulas.ts'
import { revenue, SelfishRace, type Finder, type Schedule } from '../../../src/lab/experiments/selfish-mining/model.ts'
import { alphaGrid, simulatedThreshold, type SweepPoint } from '../../../src/lab/experiments/selfish-mining/sweep.ts'

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`)

describe('selfish mining: closed form (Eyal and Sirer 2014)', () => {
  test('thresholds: 1/3 for γ = 0, 1/4 for γ = 1/2 (the random tie-break), 0 for γ = 1', () => {
    close(profitThreshold(0), 1 / 3)
    close(profitThreshold(0.5), 1 / 4)
    close(profitThreshold(1), 0)
  })

  test('at the threshold the pool earns exactly its share; below it less, above it more', () => {
    for (const g of [0, 0.25, 0.5, 0.75, 0.9]) {
      const t = profitThreshold(g)
      close(selfishRevenue(t, g), t)
      assert.ok(selfishRevenue(t - 0.02, g) < t - 0.02, `γ=${g} below`)
      assert.ok(selfishRevenue(t + 0.02, g) > t + 0.02, `γ=${g} above`)
    }
    // γ = 1: any pool gains.
    for (const a of [0.01, 0.1, 0.2]) assert.ok(selfishRevenue(a, 1) > a)
  })

  test('known values: R(1/4, 0) = 8/41, R(1/3, 1/2) = 5/13, R(1/3, 1) = 17/39, R(0) = 0, R(1/2) = 1', () => {
    close(selfishRevenue(0.25, 0), 8 / 41)
    close(selfishRevenue(1 / 3, 0.5), 5 / 13)
    close(selfishRevenue(1 / 3, 1), 17 / 39)
    for (const g of [0, 0.5, 1]) {
      close(selfishRevenue(0, g), 0)
      close(selfishRevenue(0.5, g), 1)
    }
  })

  test('outside its domain the formula refuses (α > 1/2: the pool owns the chain)', () => {
    assert.throws(() => selfishRevenue(0.6, 0), RangeError)
    assert.throws(() => selfishRevenue(0.3, 1.5), RangeError)
    assert.throws(() => profitThreshold(-0.1), RangeError)
  })

  test('the threshold read off a grid: the crossing of revenue and α, linear between grid points', () => {
    const pts = (g: number): SweepPoint[] =>
      alphaGrid(0.025).map((alpha) => {
        const r = selfishRevenue(alpha, g)
        return { alpha, gamma: g, closedForm: r, revenue: { n: 1, mean: r, se: 0, low: r, high: r }, tally: { pool: 0, honest: 0, orphanedPool: 0, orphanedHonest: 0, ties: 0, tiesWon: 0, found: 0 } }
      })
    assert.equal(alphaGrid(0.025).length, 21)
    close(simulatedThreshold(pts(0)).simulated, 1 / 3, 0.002)
    close(simulatedThreshold(pts(0.5)).simulated, 1 / 4, 1e-9)
    close(simulatedThreshold(pts(1)).simulated, 0)
  })
})

/** A schedule from a script: finders in order, and the tie outcomes in order. */
function scripted(finders: string, ties: boolean[] = []): Schedule {
  let i = 0
  let t = 0
  return {
    next: (): Finder => (finders[i++] === 'p' ? 'pool' : 'honest'),
    onPoolBranch: () => ties[t++]!,
  }
}

function play(finders: string, ties: boolean[] = [], finish = false) {
  const race = new SelfishRace()
  const s = scripted(finders, ties)
  for (let i = 0; i < finders.length; i++) race.step(s.next(), s)
  if (finish) race.finish(s)
  return race
}

describe('selfish mining: the block-by-block model of Algorithm 1', () => {
  test('state 0: an honest block is the honest miners\' at once', () => {
    assert.deepEqual(play('h').tally, { pool: 0, honest: 1, orphanedPool: 0, orphanedHonest: 0, ties: 0, tiesWon: 0, found: 1 })
  })

  test("state 0': the pool wins the tie with its next block, or the honest block that ends it decides", () => {
    assert.deepEqual(play('php').tally, { pool: 2, honest: 0, orphanedPool: 0, orphanedHonest: 1, ties: 1, tiesWon: 1, found: 3 })
    assert.deepEqual(play('phh', [true]).tally, { pool: 1, honest: 1, orphanedPool: 0, orphanedHonest: 1, ties: 1, tiesWon: 1, found: 3 })
    assert.deepEqual(play('phh', [false]).tally, { pool: 0, honest: 2, orphanedPool: 1, orphanedHonest: 0, ties: 1, tiesWon: 0, found: 3 })
  })

  test('state 2: the honest block makes the pool publish all and win by one', () => {
    assert.deepEqual(play('pph').tally, { pool: 2, honest: 0, orphanedPool: 0, orphanedHonest: 1, ties: 0, tiesWon: 0, found: 3 })
  })

  test('state n > 2: the pool releases one block per honest block and wins the whole race at lead 2', () => {
    const race = play('ppphp')
    assert.equal(race.lead, 3)
    assert.deepEqual(race.tally.pool, 0, 'nothing settled while the pool keeps its lead')
    const s = scripted('hh')
    race.step(s.next(), s)
    race.step(s.next(), s)
    assert.deepEqual(race.tally, { pool: 4, honest: 0, orphanedPool: 0, orphanedHonest: 3, ties: 0, tiesWon: 0, found: 7 })
    assert.equal(race.lead, 0)
  })

  test('the end of a race: a lead of 2 is published and wins; a lead of 1 is played out', () => {
    assert.deepEqual(play('pp', [], true).tally.pool, 2)
    const race = new SelfishRace()
    const s = scripted('phh', [false])
    race.step(s.next(), s)
    race.finish(s)
    assert.deepEqual(race.tally, { pool: 0, honest: 2, orphanedPool: 1, orphanedHonest: 0, ties: 1, tiesWon: 0, found: 3 })
    assert.equal(revenue(race.tally), 0)
  })
})
