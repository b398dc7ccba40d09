/**
 * `catena lab selfish-mining`: Eyal and Sirer 2014's selfish pool against honest miners. The
 * model sweep gives the pool's relative revenue against α for γ = 0, 1/2, 1 next to the closed
 * form and the profitability threshold (1 − γ)/(3 − 2γ); the countermeasure (uniform random
 * tie-breaking) is γ = 1/2 in the model and `tieBreak: 'random'` in the real nodes; the
 * real-code check runs the pool plug-in against real Catena chains on the same schedules.
 * @module
 */
import type { Experiment, ExperimentOptions, ExperimentResult } from '../../experiment.ts'
import { progressCounter } from '../../progress.ts'
import { Prng } from '../../sim/prng.ts'
import { RANDOM_TIE_GAMMA } from './formulas.ts'
import { runRealCase, type RealCase, type RealResult } from './real-check.ts'
import { buildReport } from './report.ts'
import { alphaGrid, simulatedThreshold, sweep, type SweepPoint, type Threshold } from './sweep.ts'

export const GAMMAS = [0, RANDOM_TIE_GAMMA, 1] as const
export const ALPHA_STEP = 0.025
/** Blocks per model race; at α = 1/2 ten times more (the lead is a driftless walk there: the honest share falls only as 1/√blocks). */
export const MODEL_BLOCKS = 200_000
/** Blocks per real-network race, honest nodes in it, and real races per case for each 5 model runs. */
export const REAL_BLOCKS = 400
export const HONEST_NODES = 8
export const MODEL_RUNS_PER_REAL_RACE = 5
/** Revenue and threshold tolerance (issue 14). */
export const TOLERANCE = 0.02

/** The real-code cases: three pool sizes with no / full delivery advantage under first-seen, and the countermeasure. */
export function realCases(blocks = REAL_BLOCKS, honestNodes = HONEST_NODES): RealCase[] {
  const cases: RealCase[] = []
  for (const alpha of [0.25, 0.33, 0.4]) {
    for (const poolFirst of ['none', 'all'] as const) cases.push({ alpha, poolFirst, tieBreak: 'first-seen', blocks, honestNodes })
    cases.push({ alpha, poolFirst: 'all', tieBreak: 'random', blocks, honestNodes })
  }
  return cases
}

export interface SelfishMiningData {
  sweeps: { gamma: number; points: SweepPoint[]; threshold: Threshold }[]
  real: RealResult[]
  modelBlocks: number
  realRaces: number
}

export interface SelfishMiningOptions extends ExperimentOptions {
  /** Overrides for small test runs. */
  modelBlocks?: number
  realBlocks?: number
  realRaces?: number
}

export async function runSelfishMining(opts: SelfishMiningOptions): Promise<ExperimentResult> {
  const alphas = alphaGrid(ALPHA_STEP)
  const modelBlocks = opts.modelBlocks ?? MODEL_BLOCKS
  const modelProgress = progressCounter('model races', GAMMAS.length * alphas.length * opts.runs, opts.progress)
  const seeds = new Prng(opts.seed)
  const sweeps = GAMMAS.map((gamma) => {
    const points = sweep({ gamma, alphas, runs: opts.runs, blocks: modelBlocks, seed: seeds.nextU32(), tick: () => modelProgress.tick(), blocksAt: (a) => (a >= 0.5 ? 10 * modelBlocks : modelBlocks) })
    return { gamma, points, threshold: simulatedThreshold(points) }
  })
  modelProgress.done()

  const realRaces = opts.realRaces ?? Math.max(1, Math.ceil(opts.runs / MODEL_RUNS_PER_REAL_RACE))
  const cases = realCases(opts.realBlocks ?? REAL_BLOCKS)
  const realProgress = progressCounter('real-network blocks', cases.reduce((a, c) => a + c.blocks * realRaces, 0), opts.progress)
  const real: RealResult[] = []
  for (const c of cases) real.push(await runRealCase(c, realRaces, seeds.nextU32(), () => realProgress.tick()))
  realProgress.done()

  const data: SelfishMiningData = { sweeps, real, modelBlocks, realRaces }
  return { name: selfishMining.name, title: selfishMining.title, seed: opts.seed, runs: opts.runs, ...buildReport(data), data }
}

export const selfishMining: Experiment = {
  name: 'selfish-mining',
  title: 'Selfish mining (Eyal and Sirer 2014) and uniform random tie-breaking',
  summary: "a selfish pool's revenue against α for γ = 0, 1/2, 1 next to the closed form and the threshold (1−γ)/(3−2γ); random tie-breaking as the fix",
  defaultRuns: 40,
  run: (opts) => runSelfishMining(opts),
}
