/**
 * `catena lab double-spend`: the hashrate double spend against a merchant who waits z
 * confirmations, next to Nakamoto's whitepaper §11 and Rosenfeld's exact formula. The sweep
 * uses the fast race model (double-spend-race.ts, one path per run serving every z); a subset
 * of the same runs is replayed through real chains (double-spend-replay.ts) and must end the
 * same way. The report is written by double-spend-report.ts.
 * @module
 */
import type { Check, Experiment, ExperimentOptions, ExperimentResult } from '../experiment.ts'
import { progressCounter } from '../progress.ts'
import { Prng } from '../sim/prng.ts'
import { Z95 } from '../stats.ts'
import { confirmationsFor, giveUpDeficit, nakamotoProbability, rosenfeldProbability } from './double-spend-formulas.ts'
import { raceOnce, racePath } from './double-spend-race.ts'
import { replayDoubleSpend, type ReplayOutcome } from './double-spend-replay.ts'
import { doubleSpendCharts, doubleSpendSections, doubleSpendTable } from './double-spend-report.ts'
import { bonferroniZ, wilson } from './simultaneous.ts'
import { liveResult, runLiveDoubleSpend } from '../live/double-spend-live.ts'

/** The whitepaper's "P < 0.001" list (§11). */
export const WHITEPAPER_Z_FOR_0_1_PERCENT: ReadonlyArray<readonly [number, number]> = [
  [0.1, 5], [0.15, 8], [0.2, 11], [0.25, 15], [0.3, 24], [0.35, 41], [0.4, 89], [0.45, 340],
]

export const SWEEPS = [
  { q: 0.1, zs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
  { q: 0.3, zs: [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50] },
] as const

/** Points with fewer expected successes than this are shown but not held to the interval. */
export const MIN_EXPECTED_SUCCESSES = 30

/** Real-chain replays: these (q, z), the sweep's first runs of each. */
export const REPLAYS = [
  { q: 0.3, zs: [0, 1, 2, 3, 4, 5] },
  { q: 0.1, zs: [1, 2] },
] as const

export interface SweepPoint {
  q: number
  z: number
  nakamoto: number
  rosenfeld: number
  successes: number
  runs: number
  p: number
  /** The point's own 95% Wilson interval. */
  low95: number
  high95: number
  /** The simultaneous (Bonferroni) 95% interval over the checked points. */
  lowJoint: number
  highJoint: number
  /** N·P_Rosenfeld >= MIN_EXPECTED_SUCCESSES */
  checked: boolean
  rosenfeldInside95: boolean
  rosenfeldInsideJoint: boolean
  nakamotoInsideJoint: boolean
}

export interface ReplaySummary {
  q: number
  z: number
  runs: number
  modelSuccesses: number
  reversed: number
  agree: number
  maxReorgDepth: number
  /** Runs whose model verdict from raceOnce differs from the sweep's path (must be 0). */
  pathMismatches: number
}

/** The PRNG seed of run `i` of sweep `s`: every run its own stream, so a replay draws exactly the sweep's run. */
export function runSeed(seed: number, sweep: number, i: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(sweep + 1, 0x85ebca6b) + i) >>> 0
}

/** The largest z run `i` of a sweep succeeds at (-1: none). */
function sweepRun(seed: number, s: number, i: number): number {
  const sweep = SWEEPS[s]!
  return racePath(new Prng(runSeed(seed, s, i)), sweep.q, sweep.zs[sweep.zs.length - 1]!)
}

export function sweep(opts: ExperimentOptions): SweepPoint[] {
  const raw = SWEEPS.map((sw, s) => {
    const maxZ = sw.zs[sw.zs.length - 1]!
    const atLeast = new Array<number>(maxZ + 2).fill(0)
    const bar = progressCounter(`race model q=${sw.q}`, opts.runs, opts.progress)
    for (let i = 0; i < opts.runs; i++) {
      const best = sweepRun(opts.seed, s, i)
      if (best >= 0) atLeast[Math.min(best, maxZ)]!++
      if ((i & 0xffff) === 0xffff) bar.tick(0x10000)
    }
    bar.done()
    // atLeast[b] counts runs whose best z was exactly b; a success at z is best >= z.
    for (let z = maxZ - 1; z >= 0; z--) atLeast[z]! += atLeast[z + 1]!
    return sw.zs.map((z) => ({ q: sw.q, z, successes: atLeast[z]!, rosenfeld: rosenfeldProbability(sw.q, z) }))
  }).flat()
  const k = raw.filter((r) => opts.runs * r.rosenfeld >= MIN_EXPECTED_SUCCESSES).length
  const zJoint = bonferroniZ(k)
  return raw.map((r) => {
    const i95 = wilson(r.successes, opts.runs, Z95)
    const joint = wilson(r.successes, opts.runs, zJoint)
    const nakamoto = nakamotoProbability(r.q, r.z)
    const inside = (x: number, i: { low: number; high: number }) => x >= i.low && x <= i.high
    return {
      q: r.q,
      z: r.z,
      nakamoto,
      rosenfeld: r.rosenfeld,
      successes: r.successes,
      runs: opts.runs,
      p: i95.p,
      low95: i95.low,
      high95: i95.high,
      lowJoint: joint.low,
      highJoint: joint.high,
      checked: opts.runs * r.rosenfeld >= MIN_EXPECTED_SUCCESSES,
      rosenfeldInside95: inside(r.rosenfeld, i95),
      rosenfeldInsideJoint: inside(r.rosenfeld, joint),
      nakamotoInsideJoint: inside(nakamoto, joint),
    }
  })
}

/** Replays the sweep's first `runs` runs of each REPLAYS point through the real chains. */
export async function crossCheck(opts: ExperimentOptions, runs: number): Promise<ReplaySummary[]> {
  const out: ReplaySummary[] = []
  const total = REPLAYS.reduce((n, r) => n + r.zs.length * runs, 0)
  const bar = progressCounter('real-chain replays', total, opts.progress)
  for (const rp of REPLAYS) {
    const s = SWEEPS.findIndex((sw) => sw.q === rp.q)
    for (const z of rp.zs) {
      const sum: ReplaySummary = { q: rp.q, z, runs, modelSuccesses: 0, reversed: 0, agree: 0, maxReorgDepth: 0, pathMismatches: 0 }
      for (let i = 0; i < runs; i++) {
        const run = raceOnce(new Prng(runSeed(opts.seed, s, i)), rp.q, z)
        if (run.success !== sweepRun(opts.seed, s, i) >= z) sum.pathMismatches++
        const r: ReplayOutcome = await replayDoubleSpend({ run, q: rp.q, z, seed: runSeed(opts.seed, 100 + s, i) })
        if (r.modelSuccess) sum.modelSuccesses++
        if (r.reversed) sum.reversed++
        // Agreement: a success reverses the payment on every honest node; a failure leaves it standing on every one.
        if (r.modelSuccess ? r.reversed : r.paymentStands) sum.agree++
        sum.maxReorgDepth = Math.max(sum.maxReorgDepth, r.reorgDepth)
        bar.tick()
      }
      out.push(sum)
    }
  }
  bar.done()
  return out
}

export interface ConfirmationsRow {
  q: number
  whitepaper: number
  nakamoto: number
  rosenfeld: number
}

export function confirmationsTable(): ConfirmationsRow[] {
  return WHITEPAPER_Z_FOR_0_1_PERCENT.map(([q, whitepaper]) => ({
    q,
    whitepaper,
    nakamoto: confirmationsFor(nakamotoProbability, q),
    rosenfeld: confirmationsFor(rosenfeldProbability, q),
  }))
}

/** Real-chain replays per (q, z): enough to see both outcomes, few enough to stay in minutes. */
export function replayRuns(runs: number): number {
  return Math.min(60, Math.max(8, Math.floor(Math.sqrt(runs) / 50)))
}

function checks(points: SweepPoint[], zRows: ConfirmationsRow[], replays: ReplaySummary[]): Check[] {
  const held = points.filter((p) => p.checked)
  const outsideJoint = held.filter((p) => !p.rosenfeldInsideJoint)
  const outside95 = held.filter((p) => !p.rosenfeldInside95)
  const nakamotoOut = held.filter((p) => p.z > 0 && !p.nakamotoInsideJoint)
  const nonTrivial = held.filter((p) => p.z > 0)
  const zWrong = zRows.filter((r) => r.nakamoto !== r.whitepaper)
  const replayed = replays.reduce((n, r) => n + r.runs, 0)
  const agreed = replays.reduce((n, r) => n + r.agree, 0)
  const mismatches = replays.reduce((n, r) => n + r.pathMismatches, 0)
  const name = (p: SweepPoint) => `q=${p.q} z=${p.z}`
  return [
    {
      name: `simulation matches Rosenfeld's exact formula at every point with >= ${MIN_EXPECTED_SUCCESSES} expected successes (simultaneous 95% Wilson intervals)`,
      pass: held.length > 0 && outsideJoint.length === 0,
      detail: `${held.length - outsideJoint.length}/${held.length} points inside${outsideJoint.length ? `; outside: ${outsideJoint.map(name).join(', ')}` : ''}; per-point 95% intervals: ${held.length - outside95.length}/${held.length} inside (${outside95.length ? outside95.map(name).join(', ') + ' outside; ' : ''}about ${(0.05 * nonTrivial.length).toFixed(1)} misses expected by chance over the ${nonTrivial.length} points with z > 0)`,
    },
    {
      name: "Nakamoto's Poisson approximation is rejected where the runs can tell the two apart",
      pass: nonTrivial.length === 0 || nakamotoOut.length * 2 >= nonTrivial.length,
      detail: `Nakamoto's value outside the simulation's interval at ${nakamotoOut.length}/${nonTrivial.length} checked points with z > 0`,
    },
    {
      name: "z for P < 0.1% from Nakamoto's formula equals the whitepaper's list",
      pass: zWrong.length === 0,
      detail: zRows.map((r) => `q=${r.q}: ${r.nakamoto}${r.nakamoto === r.whitepaper ? '' : ` (whitepaper ${r.whitepaper})`}`).join(', '),
    },
    {
      name: 'real chains agree with the race model in every replayed run',
      pass: replayed > 0 && agreed === replayed && mismatches === 0,
      detail: `${agreed}/${replayed} replays agree (payment reversed on every honest node exactly when the model says success); ${mismatches} single-z/sweep verdict mismatches`,
    },
  ]
}

export const doubleSpend: Experiment = {
  name: 'double-spend',
  title: 'Double spend against z confirmations: simulation vs Nakamoto (2008) and Rosenfeld (2014)',
  summary: 'attacker with hashrate share q reverses a payment after z confirmations; P vs z next to Nakamoto and Rosenfeld',
  defaultRuns: 20_000_000,
  live: true,
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    // --live: two real miner processes instead of the simulation (src/lab/live/double-spend-live.ts).
    if (opts.live) return liveResult(await runLiveDoubleSpend(opts), opts.seed)
    const points = sweep(opts)
    const zRows = confirmationsTable()
    const replays = await crossCheck(opts, replayRuns(opts.runs))
    const cutoffs = SWEEPS.map((s) => ({ q: s.q, deficit: giveUpDeficit(s.q) }))
    const data = { points, confirmations: zRows, replays, cutoffs, minExpectedSuccesses: MIN_EXPECTED_SUCCESSES }
    return {
      name: 'double-spend',
      title: doubleSpend.title,
      seed: opts.seed,
      runs: opts.runs,
      table: doubleSpendTable(points),
      sections: doubleSpendSections({ runs: opts.runs, points, zRows, replays, cutoffs }),
      charts: doubleSpendCharts(points),
      checks: checks(points, zRows, replays),
      data,
    }
  },
}
