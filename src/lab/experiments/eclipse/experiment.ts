/**
 * `catena lab eclipse`: Heilman, Kendler, Zohar and Goldberg's eclipse attack (USENIX Security
 * 2015) against Catena's peer management: the attacker's share of the victim's connections
 * over time and how often it ends up holding all of them, before the countermeasures and with
 * each of them. Every run drives the node's own decision code (victim.ts); see scenario.ts for
 * the attack and configs.ts for what is compared.
 * @module
 */
import type { Experiment, ExperimentOptions, ExperimentResult, Check } from '../../experiment.ts'
import { progressCounter } from '../../progress.ts'
import { proportion, fmt, type Proportion } from '../../stats.ts'
import { ATTACKERS, configs, type Config } from './configs.ts'
import { eclipseCharts, eclipseSections } from './report.ts'
import { runEclipse, SCENARIO, type Scenario } from './scenario.ts'
import type { AttackerSpec } from './world.ts'

export interface PointResult {
  config: string
  label: string
  attacker: string
  runs: number
  eclipsedAtEnd: Proportion
  eclipsedBeforeRestart: Proportion
  /** Mean over runs of the share of post-restart samples at which the victim was eclipsed. */
  eclipsedTimeAfterRestart: number
  /** Mean attacker share of the connections over the last hour. */
  shareLastHour: number
  storeAttackerShare: number
  /** Mean connections at the end: attacker inbound, honest inbound, attacker outbound, honest outbound. */
  final: [number, number, number, number]
  /** Mean attacker share at each sample. */
  shareSeries: number[]
}

/** A run's seed from the experiment seed and the point (same seed, same numbers). */
export function runSeed(seed: number, configIndex: number, attackerIndex: number, run: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0
  for (const x of [configIndex, attackerIndex, run]) h = Math.imul(h ^ (x + 0x7f4a7c15), 0x85ebca6b) >>> 0
  return h
}

export function runPoint(config: Config, ci: number, attacker: AttackerSpec, ai: number, runs: number, seed: number, sc: Scenario = SCENARIO, tick: () => void = () => {}): PointResult {
  let atEnd = 0
  let before = 0
  let timeAfter = 0
  let lastHour = 0
  let store = 0
  const final: [number, number, number, number] = [0, 0, 0, 0]
  let series: number[] = []
  const scenario = config.misbehaveMeanMs === undefined ? sc : { ...sc, misbehaveMeanMs: config.misbehaveMeanMs }
  const lastHourSamples = Math.round(3600_000 / sc.sampleMs)
  for (let r = 0; r < runs; r++) {
    const res = runEclipse(config.limits, attacker, scenario, runSeed(seed, ci, ai, r))
    if (res.eclipsedAtEnd) atEnd++
    if (res.eclipsedBeforeRestart) before++
    timeAfter += res.eclipsedAfterRestart
    const tail = res.share.slice(-lastHourSamples)
    lastHour += tail.reduce((a, b) => a + b, 0) / tail.length
    store += res.storeAttackerShare
    res.final.forEach((n, i) => (final[i]! += n))
    series = series.length === 0 ? [...res.share] : series.map((s, i) => s + res.share[i]!)
    tick()
  }
  return {
    config: config.key,
    label: config.label,
    attacker: attacker.name,
    runs,
    eclipsedAtEnd: proportion(atEnd, runs),
    eclipsedBeforeRestart: proportion(before, runs),
    eclipsedTimeAfterRestart: timeAfter / runs,
    shareLastHour: lastHour / runs,
    storeAttackerShare: store / runs,
    final: final.map((n) => n / runs) as [number, number, number, number],
    shareSeries: series.map((s) => Number((s / runs).toFixed(4))),
  }
}

const rate = (p: Proportion) => `${fmt(p.p, 2)} [${fmt(p.low, 2)}, ${fmt(p.high, 2)}]`

function checks(points: PointResult[]): Check[] {
  const find = (config: string, attacker: string) => points.find((p) => p.config === config && p.attacker === attacker)!
  const out: Check[] = []
  for (const a of ATTACKERS) {
    const before = find('before', a.name)
    out.push({
      name: `before the countermeasures, the ${a.name} eclipses the victim in most runs (>= 80%)`,
      pass: before.eclipsedAtEnd.p >= 0.8,
      detail: `eclipsed at the end in ${before.eclipsedAtEnd.successes}/${before.runs} runs; attacker share in the last hour ${fmt(before.shareLastHour, 3)}`,
    })
    const all = find('all', a.name)
    out.push({
      name: `with all countermeasures (the new defaults), the ${a.name} eclipses the victim in no run`,
      pass: all.eclipsedAtEnd.successes === 0 && all.eclipsedBeforeRestart.successes === 0,
      detail: `eclipsed in ${all.eclipsedAtEnd.successes}/${all.runs} runs at the end, ${all.eclipsedBeforeRestart.successes} before the restart; attacker share in the last hour ${fmt(all.shareLastHour, 3)}`,
    })
  }
  return out
}

export const eclipse: Experiment = {
  name: 'eclipse',
  title: 'Eclipse attack on a node (Heilman et al. 2015) and the countermeasures',
  summary: "Sybil attacker vs the node's real gater, peer store and dialer: share of connections over time, eclipse rate per countermeasure",
  defaultRuns: 30,
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    const cfgs = configs()
    const progress = progressCounter('eclipse runs', cfgs.length * ATTACKERS.length * opts.runs, opts.progress)
    const points: PointResult[] = []
    cfgs.forEach((c, ci) => ATTACKERS.forEach((a, ai) => points.push(runPoint(c, ci, a, ai, opts.runs, opts.seed, SCENARIO, () => progress.tick()))))
    progress.done()
    const table = {
      columns: ['configuration', 'attacker', 'eclipsed at the end [95% CI]', 'eclipsed before restart', 'attacker share, last hour', 'attacker share of peer store', 'end: attacker in/honest in/attacker out/honest out'],
      rows: points.map((p) => [
        p.label,
        p.attacker,
        rate(p.eclipsedAtEnd),
        fmt(p.eclipsedBeforeRestart.p, 2),
        fmt(p.shareLastHour, 3),
        fmt(p.storeAttackerShare, 2),
        p.final.map((n) => n.toFixed(1)).join(' / '),
      ]),
    }
    return {
      name: 'eclipse',
      title: this.title,
      seed: opts.seed,
      runs: opts.runs,
      table,
      sections: eclipseSections(points, SCENARIO, opts.runs),
      charts: eclipseCharts(points, SCENARIO),
      checks: checks(points),
      data: { scenario: SCENARIO, attackers: ATTACKERS, configs: cfgs.map((c) => ({ key: c.key, label: c.label, limits: c.limits, misbehaveMeanMs: c.misbehaveMeanMs })), points },
    }
  },
}
