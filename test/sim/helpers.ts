/**
 * Shared pieces of the simulation tests: seed lists (overridable with SIM_SEEDS=1,2,3 to
 * replay a failure) and the liveness assertion.
 */
import assert from 'node:assert/strict'
import { Simulation } from '../../src/lab/sim/bft-cluster.ts'

/** The seeds to run: SIM_SEEDS (comma-separated) replaces the defaults for every test. */
export function seeds(defaults: number[]): number[] {
  const env = process.env.SIM_SEEDS
  if (!env) return defaults
  return env.split(',').map((s) => {
    const n = Number(s.trim())
    if (!Number.isInteger(n) || n < 0) throw new Error(`SIM_SEEDS: ${s} is not a seed`)
    return n
  })
}

export function equalPowers(n: number): bigint[] {
  return Array.from({ length: n }, () => 10n)
}

export interface LivenessBound {
  /** Each honest, live node commits at least this many heights after `afterMs`... */
  heights: number
  /** ...by afterMs + withinMs of simulated time... */
  withinMs: number
  /** ...and every height first decided after afterMs is decided by this round. */
  maxRound: number
}

/**
 * Runs the simulation on until the bound is met (or its time runs out) and asserts it:
 * after the last fault, consensus keeps deciding new heights in a bounded number of rounds.
 */
export function runAndAssertLiveness(sim: Simulation, afterMs: number, bound: LivenessBound): void {
  const live = () => sim.honestNodes().filter((n) => n.alive)
  const committedAfter = (n: (typeof sim.nodes)[number]) => [...n.commits.values()].filter((c) => c.atMs > afterMs).length
  sim.run(afterMs + bound.withinMs, () => sim.now > afterMs && live().every((n) => committedAfter(n) >= bound.heights))
  for (const n of live()) {
    assert.ok(
      committedAfter(n) >= bound.heights,
      `liveness: node ${n.index} committed ${committedAfter(n)} heights in ${bound.withinMs}ms after t=${afterMs}ms, want ${bound.heights} (${sim.summary()})`,
    )
  }
  const rounds = sim.decisionRounds(afterMs)
  const worst = Math.max(0, ...rounds)
  assert.ok(worst <= bound.maxRound, `liveness: a height took until round ${worst} (bound ${bound.maxRound}); rounds ${rounds.join(',')} (${sim.summary()})`)
}

/** Heights committed by a node in [fromMs, toMs). */
export function commitsBetween(sim: Simulation, node: number, fromMs: number, toMs: number): number {
  return [...sim.nodes[node].commits.values()].filter((c) => c.atMs >= fromMs && c.atMs < toMs).length
}
