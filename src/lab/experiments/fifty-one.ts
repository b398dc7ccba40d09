/**
 * `catena lab fifty-one`: the hashrate an attacker must rent to double-spend a payment with z
 * confirmations within one hour, on each PoW preset: "small networks are cheap to attack" in
 * numbers. The network's hashrate is what its genesis difficulty and block time imply
 * (expected hashes per block / block time); the attacker rents a multiple k of it (share
 * q = k / (1 + k)) for one hour and runs the double-spend race (the same model and success
 * rule as `double-spend`, pre-mined block included, with block times drawn and the race cut at
 * one hour). The q that gives 50% and 90% success is found by bisection over the model with
 * common random numbers; a fresh set of runs then measures P at that q, and some of the runs
 * are replayed through real chains.
 * @module
 */
import { listPresets, presetJSON } from '../../chain/spec/presets.ts'
import { workFromBits } from '../../consensus/pow/target.ts'
import type { Check, Experiment, ExperimentOptions, ExperimentResult } from '../experiment.ts'
import { progressCounter } from '../progress.ts'
import { Prng } from '../sim/prng.ts'
import { runSeed } from './double-spend.ts'
import { rosenfeldProbability } from './double-spend-formulas.ts'
import { raceOnce } from './double-spend-race.ts'
import { replayDoubleSpend } from './double-spend-replay.ts'
import { fiftyOneCharts, fiftyOneSections, fiftyOneTable } from './fifty-one-report.ts'
import { bonferroniZ, wilson } from './simultaneous.ts'

export const WINDOW_SECONDS = 3600
export const CONFIRMATIONS = [1, 3, 6, 10] as const
export const TARGETS = [0.5, 0.9] as const
/**
 * The real Miner's hashrate per fully used thread on this machine, from bench/RESULTS.md
 * (mining section: `Miner.mine()`, mean of 3 rounds, 1.10 MH/s per CPU-second). Taken from the
 * benchmark, not measured here: the report must not depend on the machine's load.
 */
export const MINER_HASHES_PER_THREAD_SECOND = 1.1e6
const BISECTION_STEPS = 16
/** The largest share searched: beyond it the runs would draw thousands of attacker blocks an hour for nothing. */
const MAX_SHARE = 0.99

export interface Network {
  name: string
  /** A preset, or the reference with Bitcoin's spacing (not a preset). */
  preset: boolean
  blockSeconds: number
  /** Expected hashes per block at the genesis target (undefined for the reference row). */
  hashesPerBlock?: number
  /** hashesPerBlock / blockSeconds */
  hashrate?: number
}

export interface Requirement {
  network: string
  z: number
  target: number
  /**
   * Whether any hashrate does it: the merchant must see z confirmations within the hour, which
   * the honest network alone decides (P(Poisson(hour / T) >= z) at most, even for q -> 1).
   */
  reachable: boolean
  /** That ceiling: P(Poisson(3600 / T) >= z). */
  ceiling: number
  /** Attacker's share of all hashrate once he rents (NaN when not reachable). */
  q: number
  /** Rented hashrate as a multiple of the honest network's. */
  multiple: number
  rentedHashesPerSecond?: number
  minerThreads?: number
  /** P on the bisection's runs at q (>= target, within a run or so of it). */
  searched: number
  /** P measured at q on fresh runs (other seeds than the bisection's), with its 95% interval. */
  measured: number
  low95: number
  high95: number
  /**
   * The largest |measured - searched| two independent estimates of one probability should
   * show, jointly over all points at 95% (Bonferroni z x sqrt(2 P (1 - P) / runs)).
   */
  tolerance: number
  /** Rosenfeld's P at q without the hour (an upper bound for q < 1/2; 1 above). */
  unbounded: number
}

export interface FiftyOneReplay {
  network: string
  z: number
  target: number
  runs: number
  modelSuccesses: number
  reversed: number
  agree: number
}

/** The PoW presets, and Bitcoin's 10-minute spacing at the bitcoin-like difficulty for reference. */
export function networks(): Network[] {
  const out: Network[] = []
  for (const name of listPresets()) {
    const json = presetJSON(name)!
    if (json.engine.type !== 'pow') continue
    const blockSeconds = json.blockTimeMs / 1000
    const hashesPerBlock = Number(workFromBits(json.engine.initialBits))
    out.push({ name, preset: true, blockSeconds, hashesPerBlock, hashrate: hashesPerBlock / blockSeconds })
  }
  out.push({ name: 'reference: 600 s blocks (Bitcoin spacing)', preset: false, blockSeconds: 600 })
  return out
}

/** P(success within the hour) at q over runs [first, first + runs) of stream `stream` (common random numbers across q). */
export function hourProbability(seed: number, stream: number, q: number, z: number, blockSeconds: number, runs: number, first = 0): number {
  let wins = 0
  for (let i = first; i < first + runs; i++) {
    if (raceOnce(new Prng(runSeed(seed, stream, i)), q, z, { blockSeconds, windowSeconds: WINDOW_SECONDS }).success) wins++
  }
  return wins / runs
}

/** P(Poisson(lambda) >= z): the chance the honest network finds z blocks within the window. */
export function poissonTail(lambda: number, z: number): number {
  let term = Math.exp(-lambda)
  let below = 0
  for (let k = 0; k < z; k++) {
    below += term
    term *= lambda / (k + 1)
  }
  return Math.max(0, 1 - below)
}

/** The smallest q (to 2^-16) whose hour race succeeds with probability >= target on these runs; NaN if even MAX_SHARE fails. */
export function requiredShare(seed: number, stream: number, z: number, target: number, blockSeconds: number, runs: number): number {
  let lo = 0
  let hi = MAX_SHARE
  for (let step = 0; step < BISECTION_STEPS; step++) {
    const mid = (lo + hi) / 2
    if (hourProbability(seed, stream, mid, z, blockSeconds, runs) >= target) hi = mid
    else lo = mid
  }
  if (hi === MAX_SHARE && hourProbability(seed, stream, MAX_SHARE, z, blockSeconds, runs) < target) return NaN
  return hi
}

/** Which streams: one per (network, z) so the bisection for 50% and 90% shares its runs. */
const streamOf = (n: number, zi: number) => 1000 + 10 * n + zi

export function requirements(opts: ExperimentOptions, nets: Network[]): Requirement[] {
  const distinct = new Map<number, number>() // blockSeconds -> first network index with it (same race, same numbers)
  nets.forEach((n, i) => (distinct.has(n.blockSeconds) ? undefined : distinct.set(n.blockSeconds, i)))
  const bar = progressCounter('bisection (q for 50% and 90%)', distinct.size * CONFIRMATIONS.length * TARGETS.length, opts.progress)
  const shares = new Map<string, number>()
  for (const [blockSeconds, n] of distinct) {
    CONFIRMATIONS.forEach((z, zi) => {
      for (const target of TARGETS) {
        // Out of reach (the confirmations themselves rarely come within the hour): no search.
        const reachable = target < poissonTail(WINDOW_SECONDS / blockSeconds, z) - 0.02
        shares.set(`${blockSeconds}/${z}/${target}`, reachable ? requiredShare(opts.seed, streamOf(n, zi), z, target, blockSeconds, opts.runs) : NaN)
        bar.tick()
      }
    })
  }
  bar.done()
  const k = nets.flatMap((n) => CONFIRMATIONS.flatMap((z) => TARGETS.map((t) => shares.get(`${n.blockSeconds}/${z}/${t}`)!))).filter((q) => !Number.isNaN(q)).length
  const zJoint = bonferroniZ(k)
  const out: Requirement[] = []
  const check = progressCounter('fresh runs at the found q', k, opts.progress)
  nets.forEach((net, n) => {
    CONFIRMATIONS.forEach((z, zi) => {
      for (const target of TARGETS) {
        const q = shares.get(`${net.blockSeconds}/${z}/${target}`)!
        const ceiling = poissonTail(WINDOW_SECONDS / net.blockSeconds, z)
        if (Number.isNaN(q)) {
          out.push({ network: net.name, z, target, reachable: false, ceiling, q: NaN, multiple: NaN, searched: NaN, measured: NaN, low95: NaN, high95: NaN, tolerance: NaN, unbounded: NaN })
          check.tick()
          continue
        }
        // Fresh runs: the same stream past the bisection's runs (independent draws).
        const wins = Math.round(hourProbability(opts.seed, streamOf(n, zi), q, z, net.blockSeconds, opts.runs, opts.runs) * opts.runs)
        const i95 = wilson(wins, opts.runs, 1.959963984540054)
        const searched = hourProbability(opts.seed, streamOf(distinct.get(net.blockSeconds)!, zi), q, z, net.blockSeconds, opts.runs)
        const multiple = q / (1 - q)
        const rented = net.hashrate !== undefined ? multiple * net.hashrate : undefined
        out.push({
          network: net.name,
          z,
          target,
          reachable: true,
          ceiling,
          q,
          multiple,
          ...(rented !== undefined ? { rentedHashesPerSecond: rented, minerThreads: rented / MINER_HASHES_PER_THREAD_SECOND } : {}),
          searched,
          measured: i95.p,
          low95: i95.low,
          high95: i95.high,
          tolerance: zJoint * Math.sqrt((2 * target * (1 - target)) / opts.runs),
          unbounded: rosenfeldProbability(q, z),
        })
        check.tick()
      }
    })
  })
  check.done()
  return out
}

/** Replays the first runs of the bisection's stream at the found q through real chains (the hour included). */
export async function replays(opts: ExperimentOptions, nets: Network[], reqs: Requirement[], runs: number): Promise<FiftyOneReplay[]> {
  const picks = [
    { net: 0, z: 3, target: 0.5 },
    { net: 0, z: 6, target: 0.5 },
    { net: nets.length - 1, z: 1, target: 0.9 },
    { net: nets.length - 1, z: 6, target: 0.5 },
  ].filter((pk) => reqs.some((r) => r.network === nets[pk.net]!.name && r.z === pk.z && r.target === pk.target && r.reachable))
  const bar = progressCounter('real-chain replays', picks.length * runs, opts.progress)
  const out: FiftyOneReplay[] = []
  for (const pk of picks) {
    const net = nets[pk.net]!
    const req = reqs.find((r) => r.network === net.name && r.z === pk.z && r.target === pk.target)!
    const zi = CONFIRMATIONS.indexOf(pk.z as (typeof CONFIRMATIONS)[number])
    const sum: FiftyOneReplay = { network: net.name, z: pk.z, target: pk.target, runs, modelSuccesses: 0, reversed: 0, agree: 0 }
    for (let i = 0; i < runs; i++) {
      const run = raceOnce(new Prng(runSeed(opts.seed, streamOf(pk.net, zi), i)), req.q, pk.z, { blockSeconds: net.blockSeconds, windowSeconds: WINDOW_SECONDS })
      const r = await replayDoubleSpend({ run, q: req.q, z: pk.z, seed: runSeed(opts.seed, 2000 + pk.net, i), deadlineSeconds: WINDOW_SECONDS })
      if (r.modelSuccess) sum.modelSuccesses++
      if (r.reversed) sum.reversed++
      // A failed hour leaves the payment standing, or (pre-mining not done in the hour) never sent: never reversed.
      if (r.modelSuccess === r.reversed) sum.agree++
      bar.tick()
    }
    out.push(sum)
  }
  bar.done()
  return out
}

function checks(nets: Network[], reqs: Requirement[], reps: FiftyOneReplay[]): Check[] {
  const found = reqs.filter((r) => r.reachable)
  const outside = found.filter((r) => Math.abs(r.measured - r.searched) > r.tolerance)
  // The hour can only cut the race short: its estimate may exceed the exact unbounded P by sampling error only.
  const above = found.filter((r) => r.q < 0.5 && r.measured - r.unbounded > r.tolerance / Math.SQRT2)
  const presetsFound = reqs.filter((r) => nets.find((n) => n.name === r.network)!.preset && !r.reachable)
  const nonMonotone: string[] = []
  for (const net of nets) {
    for (const target of TARGETS) {
      // Out of reach counts as needing everything (q = 1).
      const qs = CONFIRMATIONS.map((z) => reqs.find((r) => r.network === net.name && r.z === z && r.target === target)!).map((r) => (r.reachable ? r.q : 1))
      if (qs.some((q, i) => i > 0 && q < qs[i - 1]!)) nonMonotone.push(`${net.name} ${target * 100}%`)
    }
  }
  const replayed = reps.reduce((n, r) => n + r.runs, 0)
  const agreed = reps.reduce((n, r) => n + r.agree, 0)
  const ref = reqs.find((r) => !nets.find((n) => n.name === r.network)!.preset && r.z === 6 && r.target === 0.5)
  return [
    {
      name: 'at the q found, fresh runs succeed as often as the search runs (two-sample, simultaneous 95%)',
      pass: outside.length === 0,
      detail: `${found.length - outside.length}/${found.length} points within tolerance${outside.length ? `; outside: ${outside.map((r) => `${r.network} z=${r.z} ${r.target}: ${r.measured.toFixed(4)} vs ${r.searched.toFixed(4)}`).join(', ')}` : ''}`,
    },
    {
      name: "the one-hour race never beats Rosenfeld's unbounded race (q < 1/2)",
      pass: above.length === 0,
      detail: `${above.length} points where the hour's success exceeds the exact unbounded probability`,
    },
    {
      name: 'more confirmations need more hashrate',
      pass: nonMonotone.length === 0,
      detail: nonMonotone.length ? `not monotone: ${nonMonotone.join(', ')}` : 'q needed grows with z for every network and target',
    },
    {
      name: 'on every preset each z is within reach of a rented hashrate in the hour',
      pass: presetsFound.length === 0,
      detail: presetsFound.length ? `out of reach: ${presetsFound.map((r) => `${r.network} z=${r.z} ${r.target}`).join(', ')}` : 'yes',
    },
    {
      name: 'with 600 s blocks one hour is too short for a minority: z = 6 at 50% needs more than the honest hashrate',
      pass: ref !== undefined && ref.reachable && ref.multiple > 1,
      detail: ref ? `q = ${ref.q.toFixed(4)}, ${ref.multiple.toFixed(2)}x the honest hashrate` : 'no reference row',
    },
    {
      name: 'real chains agree with the race model in every replayed run',
      pass: replayed > 0 && agreed === replayed,
      detail: `${agreed}/${replayed} replays agree (the payment reversed on every honest node exactly when the model's hour race succeeds)`,
    },
  ]
}

export const fiftyOne: Experiment = {
  name: 'fifty-one',
  title: 'Renting hashrate to double-spend a small PoW network within one hour',
  summary: 'hashrate to rent to reverse a payment with z confirmations within one hour, for each PoW preset',
  defaultRuns: 10_000,
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    const nets = networks()
    const reqs = requirements(opts, nets)
    const reps = await replays(opts, nets, reqs, Math.min(25, Math.max(5, Math.floor(opts.runs / 800))))
    return {
      name: 'fifty-one',
      title: fiftyOne.title,
      seed: opts.seed,
      runs: opts.runs,
      table: fiftyOneTable(nets, reqs),
      sections: fiftyOneSections({ runs: opts.runs, nets, reqs, replays: reps }),
      charts: fiftyOneCharts(nets, reqs),
      checks: checks(nets, reqs, reps),
      data: { windowSeconds: WINDOW_SECONDS, minerHashesPerThreadSecond: MINER_HASHES_PER_THREAD_SECOND, networks: nets, requirements: reqs, replays: reps },
    }
  },
}
