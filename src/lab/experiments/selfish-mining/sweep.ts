/**
 * The model sweep: the pool's relative revenue at each α of a grid for one γ, as the mean of
 * independent seeded races (each `blocks` found blocks), with its 95% interval; and the
 * profitability threshold read off the simulated points (where revenue crosses α).
 * @module
 */
import { Prng } from '../../sim/prng.ts'
import { meanEstimate, type MeanEstimate } from '../../stats.ts'
import { profitThreshold, selfishRevenue } from './formulas.ts'
import { randomSchedule, revenue, runRace, type Tally } from './model.ts'

export interface SweepPoint {
  alpha: number
  gamma: number
  /** The simulated revenue: mean over runs with its 95% interval. */
  revenue: MeanEstimate
  closedForm: number
  /** Summed over the runs. */
  tally: Tally
}

export interface SweepOptions {
  gamma: number
  alphas: readonly number[]
  runs: number
  /** Blocks found per race. */
  blocks: number
  /** Blocks per race at a given α, if not `blocks` everywhere. */
  blocksAt?: (alpha: number) => number
  seed: number
  /** Called after each race. */
  tick?: () => void
}

/** A seed for race `run` of grid point `index` of the sweep seeded `seed`: independent streams, same numbers for the same seed. */
export function raceSeed(seed: number, gamma: number, index: number, run: number): number {
  const mix = new Prng((seed >>> 0) ^ Math.imul(Math.round(gamma * 1000) + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b) ^ Math.imul(run + 1, 0xc2b2ae35))
  return mix.nextU32()
}

export function sweep(o: SweepOptions): SweepPoint[] {
  return o.alphas.map((alpha, index) => {
    const revenues: number[] = []
    const tally: Tally = { pool: 0, honest: 0, orphanedPool: 0, orphanedHonest: 0, ties: 0, tiesWon: 0, found: 0 }
    for (let run = 0; run < o.runs; run++) {
      const t = runRace(randomSchedule(alpha, o.gamma, new Prng(raceSeed(o.seed, o.gamma, index, run))), o.blocksAt?.(alpha) ?? o.blocks)
      revenues.push(revenue(t))
      for (const k of Object.keys(tally) as (keyof Tally)[]) tally[k] += t[k]
      o.tick?.()
    }
    return { alpha, gamma: o.gamma, revenue: meanEstimate(revenues), closedForm: selfishRevenue(alpha, o.gamma), tally }
  })
}

export interface Threshold {
  gamma: number
  /** Where the simulated revenue crosses α (linear between the grid points around the last α at which it is not above). */
  simulated: number
  /** The same crossing for the interval's upper and lower ends: the threshold's uncertainty. */
  low: number
  high: number
  closedForm: number
}

/** The pool size above which the simulated revenue exceeds α. */
export function simulatedThreshold(points: readonly SweepPoint[]): Threshold {
  const at = (pick: (p: SweepPoint) => number) => crossing(points.map((p) => [p.alpha, pick(p) - p.alpha]))
  const gamma = points[0]!.gamma
  return { gamma, simulated: at((p) => p.revenue.mean), low: at((p) => p.revenue.high), high: at((p) => p.revenue.low), closedForm: profitThreshold(gamma) }
}

/** The last x at which y <= 0 before y turns positive for good, refined linearly to the next grid point. */
function crossing(xy: readonly [number, number][]): number {
  let i = -1
  for (let k = 0; k < xy.length - 1; k++) if (xy[k]![1] <= 0) i = k
  if (i < 0) return xy[0]![0]
  const [x0, y0] = xy[i]!
  const [x1, y1] = xy[i + 1]!
  return x0 + ((x1 - x0) * -y0) / (y1 - y0)
}

/** α from 0 to 0.5 in `step`s (rounded so the grid prints clean). */
export function alphaGrid(step: number): number[] {
  const n = Math.round(0.5 / step)
  return Array.from({ length: n + 1 }, (_, i) => Math.round(i * step * 1e6) / 1e6)
}
