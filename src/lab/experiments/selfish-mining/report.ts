/**
 * The selfish-mining report: the revenue table, the thresholds, the countermeasure, the
 * real-code cross-check, the charts and the checks against the paper's numbers.
 * @module
 */
import { lineSeries, type ChartSpec } from '../../charts.ts'
import type { Check, Section, Table } from '../../experiment.ts'
import { markdownTable } from '../../report.ts'
import { fmt } from '../../stats.ts'
import { profitThreshold, RANDOM_TIE_GAMMA, selfishRevenue } from './formulas.ts'
import type { SelfishMiningData } from './index.ts'
import type { RealResult } from './real-check.ts'
import type { SweepPoint } from './sweep.ts'

const TOLERANCE = 0.02
const f4 = (x: number) => fmt(x, 4)
const f3 = (x: number) => fmt(x, 3)
const pm = (p: SweepPoint) => `${f4(p.revenue.mean)} ±${fmt(p.revenue.high - p.revenue.mean, 4)}`
const HONEST_LABEL = (d: SelfishMiningData) => String(d.real[0]?.case.honestNodes ?? 0)
const gammaName = (g: number) => (g === RANDOM_TIE_GAMMA ? '1/2' : String(g))

export function buildReport(d: SelfishMiningData): { table: Table; sections: Section[]; charts: ChartSpec[]; checks: Check[] } {
  const byGamma = (g: number) => d.sweeps.find((s) => s.gamma === g)!
  const alphas = d.sweeps[0]!.points.map((p) => p.alpha)
  const table: Table = {
    columns: ['α', ...d.sweeps.flatMap((s) => [`γ=${gammaName(s.gamma)} simulated`, `γ=${gammaName(s.gamma)} closed form`]), 'honest (= α)'],
    rows: alphas.map((a, i) => [a, ...d.sweeps.flatMap((s) => [pm(s.points[i]!), f4(s.points[i]!.closedForm)]), a]),
  }
  return { table, sections: sections(d, byGamma), charts: charts(d, byGamma), checks: checks(d, byGamma) }
}

type ByGamma = (g: number) => SelfishMiningData['sweeps'][number]

function sections(d: SelfishMiningData, byGamma: ByGamma): Section[] {
  const runs = d.sweeps[0]!.points[0]!.revenue.n
  const method = `The pool (hashrate share α) follows Algorithm 1 of Eyal and Sirer, "Majority is not Enough: Bitcoin Mining is Vulnerable" (FC 2014): it keeps the blocks it finds private; when the honest miners find a block it adopts their chain if it had nothing, publishes its one block if it was one ahead (a tie, state 0'), publishes everything if it was two ahead (it wins by one) and otherwise publishes its next block. In a tie a share γ of the honest hashrate mines on the pool's block.

**The model** (fast, for the sweep) plays that state machine block by block: each block is the pool's with probability α, and the block that ends a tie extends the pool's branch with probability γ. A block is credited when its race settles, as it ends up in the final chain; at the end of a race a lead of two or more is published (it wins at once) and a smaller one is played out. Revenue = the pool's share of the final chain. Each point is the mean of ${runs} independent seeded races of ${d.modelBlocks.toLocaleString('en-US')} blocks (${(10 * d.modelBlocks).toLocaleString('en-US')} at α = 0.5, where the lead is a driftless random walk and the honest share of a finite race shrinks only as 1/√blocks), with the 95% interval of that mean (± in the table).

**The closed form** is the paper's, from the stationary distribution of the lead's Markov chain: R = [α(1−α)²(4α+γ(1−2α)) − α³] / [1 − α(1+(2−α)α)]. The pool earns more than its share when R > α, i.e. above α = (1−γ)/(3−2γ). The simulated threshold is where the simulated revenue crosses α (linear between the grid points around the last α where it is not above α; the interval is the same crossing for the ends of the 95% intervals).

**The real code** (cross-check): the pool as a miner plug-in (src/lab/adversaries/selfish-miner.ts) on the lab's PoW network, whose ${HONEST_LABEL(d)} honest nodes and the pool's node are real Catena chains (Chain, BlockImporter, PowRules; real blocks with real proofs of work on an easy target), blocks delivered through an event queue on a virtual clock. γ is not a knob there: it comes from who receives the pool's released block before the honest block it races (see below).`

  const thresholdRows = d.sweeps.map((s) => [
    gammaName(s.gamma),
    f4(s.threshold.simulated),
    `${f4(s.threshold.low)} – ${f4(s.threshold.high)}`,
    f4(s.threshold.closedForm),
    fmt(s.threshold.simulated - s.threshold.closedForm, 4),
  ])
  const threshold = `${markdownTable({ columns: ['γ', 'simulated threshold', 'from the interval ends', '(1−γ)/(3−2γ)', 'difference'], rows: thresholdRows })}

Below its threshold a selfish pool loses: the blocks it withholds and loses in ties cost it more than the honest blocks it orphans. With γ = 0 it needs a third of the hashrate; with γ = 1 (it wins every tie) any pool gains.`

  const g1 = byGamma(1)
  const gh = byGamma(RANDOM_TIE_GAMMA)
  const cmAlphas = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45]
  const at = (s: ReturnType<ByGamma>, a: number) => s.points.find((p) => Math.abs(p.alpha - a) < 1e-9)!
  const cmRows = cmAlphas.map((a) => {
    const before = at(g1, a)
    const after = at(gh, a)
    return [a, pm(before), f4(before.closedForm), `${signed(before.revenue.mean - a)}`, pm(after), f4(after.closedForm), `${signed(after.revenue.mean - a)}`]
  })
  const realRandom = d.real.filter((r) => r.case.tieBreak === 'random')
  const realAll = d.real.filter((r) => r.case.tieBreak === 'first-seen' && r.case.poolFirst === 'all')
  const countermeasure = `Eyal and Sirer's fix: a miner that knows two branches of equal length picks one uniformly at random, so in a tie half the honest hashrate mines on the pool's block whatever the pool's place in the network: γ = 1/2 for every pool. In Catena it is a fork-choice rule of the PoW engine: \`"tieBreak": "random"\` in the chain spec's engine section (default \`"first-seen"\`, Bitcoin Core's rule). The importer (src/chain/import.ts) asks the engine's rules on equal work (\`switchOnTie\`); PowRules flips a coin from the OS's CSPRNG, so an attacker cannot predict which way a node goes (the lab injects its seeded PRNG).

A pool with a perfect network position (γ = 1) before and after:

${markdownTable({ columns: ['α', 'γ=1 first-seen: simulated', 'closed form', 'gain over honest', 'random tie-break (γ=1/2): simulated', 'closed form', 'gain over honest'], rows: cmRows })}

- The threshold for that pool moves from ${f4(g1.threshold.closedForm)} to 1/4 (simulated ${f4(gh.threshold.simulated)}): below a quarter of the hashrate selfish mining now loses money, where it paid at any size before. At α = 0.1 its revenue falls from ${f4(at(g1, 0.1).revenue.mean)} (${signed(100 * (at(g1, 0.1).revenue.mean / 0.1 - 1), 1)}% over its fair share) to ${f4(at(gh, 0.1).revenue.mean)} (${signed(100 * (at(gh, 0.1).revenue.mean / 0.1 - 1), 1)}%).
- Above 1/4 it still pays, less: at α = 1/3 from ${f4(selfishRevenue(1 / 3, 1))} to ${f4(selfishRevenue(1 / 3, 0.5))} (closed form). The fix bounds the damage; it does not remove the attack for large pools.
- The fix is not free for every pool size and position: for a badly connected pool (γ = 0) it lowers the threshold from 1/3 to 1/4. The paper accepts that trade: no network position can push the threshold below 1/4 any more, where first-seen lets a well-placed pool push it to 0.
- In the real network (below), the random rows give a realised γ of ${realisedLine(realRandom)}, against ${realisedLine(realAll)} for the same delivery order with first-seen: the delivery advantage is gone. The price is churn: with random tie-breaking honest nodes also flip between equal branches when the pool releases blocks during a long lead (${meanOf(realRandom, (r) => r.reorgs)} honest-node reorgs per race, against ${meanOf(realAll, (r) => r.reorgs)} with first-seen).`

  const realRows = d.real.map((r) => [
    r.case.alpha,
    r.case.poolFirst === 'all' ? 'pool first at every other honest node' : 'honest first everywhere',
    r.case.tieBreak,
    fmt(r.gamma, 3),
    r.realisedGamma === undefined ? '–' : f3(r.realisedGamma),
    `${r.races.length} × ${r.case.blocks}`,
    r.races.length > 1 ? `${f4(r.revenue.mean)} ±${fmt(r.revenue.high - r.revenue.mean, 4)}` : f4(r.revenue.mean),
    `${f4(r.model.mean)} (${f4(r.model.low)} – ${f4(r.model.high)})`,
    f4(selfishRevenue(r.case.alpha, r.gamma)),
    r.case.tieBreak === 'first-seen' ? `${r.races.filter((x) => x.exact).length}/${r.races.length}` : 'coins are the nodes\'',
    meanOf([r], (x) => x.reorgs),
    r.agrees ? 'yes' : '**no**',
  ])
  const real = `Each case runs ${d.realRaces} race(s) of ${d.real[0]?.case.blocks ?? 0} blocks on a fresh network: the pool (miner 0) and ${HONEST_LABEL(d)} honest nodes sharing 1 − α equally, each a real chain; the pool's plug-in keeps its branch in its own real chain and releases blocks through the network. Propagation is negligible against the block interval, as the paper's model assumes (no two honest blocks race each other): blocks come every 600 s on average, honest blocks reach the pool after 0.5 µs and the other honest nodes after 2 µs. "Pool first" means the pool's released block reaches every other honest node 0.5 µs after the pool hears the competing block, i.e. before that block does: under first-seen they mine on the pool's branch. The honest block's finder always has its own block first, so this is γ = 1 − 1/${HONEST_LABEL(d)} = ${fmt(1 - 1 / Number(HONEST_LABEL(d)), 3)}, the most delivery order can give (the paper's γ = 1 needs the finder too). "Honest first" delays the pool's release to 10 µs: γ = 0.

The finders of the blocks are drawn from the seeded PRNG once and replayed in the real network (pow-network's replaySchedule) and in the model: with first-seen the model must give the same final chain, block for block (the "exact" column: pool and honest block counts and blocks found equal). Every case's mean revenue must also lie in the model's 99% range for the mean of that many races of that length at that γ. The realised γ is measured in the real chains: of the ties an honest block ended, the share in which it extended the pool's block.

${markdownTable({ columns: ['α', 'delivery', 'tie-break', 'γ (model)', 'realised γ', 'races × blocks', 'real revenue', 'model mean (99% range)', 'closed form', 'exact replay', 'honest reorgs / race', 'agrees'], rows: realRows })}`

  const g0 = byGamma(0)
  const worst = (s: ReturnType<ByGamma>) => s.points.reduce((w, p) => (Math.abs(p.revenue.mean - p.closedForm) > Math.abs(w.revenue.mean - w.closedForm) ? p : w))
  const reading = `The simulation matches the paper's closed form at every point (largest differences: γ=0 ${signed(worst(g0).revenue.mean - worst(g0).closedForm, 4)} at α=${worst(g0).alpha}, γ=1/2 ${signed(worst(gh).revenue.mean - worst(gh).closedForm, 4)} at α=${worst(gh).alpha}, γ=1 ${signed(worst(g1).revenue.mean - worst(g1).closedForm, 4)} at α=${worst(g1).alpha}), as it must: the closed form is the long-run reward share of exactly this state machine (the stationary distribution of the private lead, with the reward of each transition), and the model plays that machine; the remaining differences are the sampling error in the ± column, and at α = 0.5 the finite race (the closed form's 1 is a limit the race approaches as 1/√blocks). The thresholds from the simulation are ${d.sweeps.map((s) => `${f4(s.threshold.simulated)} for γ=${gammaName(s.gamma)}`).join(', ')}, against ${d.sweeps.map((s) => f4(profitThreshold(s.gamma))).join(', ')}.

${realReading(d.real)} So Catena as shipped (first-seen) is exactly as exposed as Bitcoin: a pool with the best network position profits from selfish mining at any size, one with none from a third of the hashrate; with \`tieBreak: "random"\` every pool is held to the 1/4 threshold.`

  return [
    { title: 'Method', body: method },
    { title: 'Profitability threshold', body: threshold },
    { title: 'Countermeasure: uniform random tie-breaking', body: countermeasure },
    { title: 'Real-code cross-check (real Catena chains)', body: real },
    { title: 'Reading', body: reading },
  ]
}

function charts(d: SelfishMiningData, byGamma: ByGamma): ChartSpec[] {
  const dense = Array.from({ length: 101 }, (_, i) => i * 0.005)
  const curve = (g: number): [number, number][] => dense.map((a) => [a, selfishRevenue(a, g)])
  const sim = (g: number): [number, number][] => byGamma(g).points.map((p) => [p.alpha, p.revenue.mean])
  const honest = lineSeries('honest mining (revenue = α)', [[0, 0], [0.5, 0.5]], { lineStyle: { type: 'dashed', color: '#444' }, itemStyle: { color: '#444' } })
  const colors: Record<string, string> = { '0': '#1f77b4', '0.5': '#2ca02c', '1': '#d62728' }
  const axes = {
    xAxis: { type: 'value', name: 'pool hashrate share α', nameLocation: 'middle', nameGap: 28, min: 0, max: 0.5 },
    yAxis: { type: 'value', name: 'relative revenue', min: 0, max: 1 },
    legend: { bottom: 0 },
    grid: { bottom: 90 },
  }
  const revenue: ChartSpec = {
    name: 'revenue',
    title: 'Selfish pool revenue: closed form (lines) and model (points)',
    option: {
      ...axes,
      series: [
        ...d.sweeps.flatMap((s) => [
          lineSeries(`γ = ${gammaName(s.gamma)} closed form`, curve(s.gamma), { showSymbol: false, itemStyle: { color: colors[String(s.gamma)] }, lineStyle: { color: colors[String(s.gamma)] } }),
          { name: `γ = ${gammaName(s.gamma)} simulated`, type: 'scatter', data: sim(s.gamma), symbolSize: 6, itemStyle: { color: colors[String(s.gamma)] } },
        ]),
        honest,
      ],
    },
  }
  const realPoints = (pick: (r: RealResult) => boolean): [number, number][] => d.real.filter(pick).map((r) => [r.case.alpha, r.revenue.mean])
  const countermeasure: ChartSpec = {
    name: 'countermeasure',
    title: 'A well-placed pool before and after random tie-breaking',
    option: {
      ...axes,
      yAxis: { ...axes.yAxis, max: 0.7 },
      series: [
        lineSeries('first-seen, γ = 1 (closed form)', curve(1), { showSymbol: false, itemStyle: { color: '#d62728' }, lineStyle: { color: '#d62728' } }),
        { name: 'first-seen, γ = 1 (model)', type: 'scatter', data: sim(1), symbolSize: 6, itemStyle: { color: '#d62728' } },
        lineSeries('random tie-break, γ = 1/2 (closed form)', curve(0.5), { showSymbol: false, itemStyle: { color: '#2ca02c' }, lineStyle: { color: '#2ca02c' } }),
        { name: 'random tie-break (model)', type: 'scatter', data: sim(0.5), symbolSize: 6, itemStyle: { color: '#2ca02c' } },
        { name: 'real chains: first-seen, pool first', type: 'scatter', symbol: 'diamond', symbolSize: 12, data: realPoints((r) => r.case.tieBreak === 'first-seen' && r.case.poolFirst === 'all'), itemStyle: { color: '#8c1515' } },
        { name: 'real chains: random tie-break, pool first', type: 'scatter', symbol: 'triangle', symbolSize: 12, data: realPoints((r) => r.case.tieBreak === 'random'), itemStyle: { color: '#155e15' } },
        honest,
      ],
    },
  }
  return [revenue, countermeasure]
}

function checks(d: SelfishMiningData, byGamma: ByGamma): Check[] {
  const out: Check[] = []
  for (const s of d.sweeps) {
    const worst = s.points.reduce((w, p) => (Math.abs(p.revenue.mean - p.closedForm) > Math.abs(w.revenue.mean - w.closedForm) ? p : w))
    const diff = worst.revenue.mean - worst.closedForm
    out.push({ name: `revenue γ=${gammaName(s.gamma)} within ±${TOLERANCE} of the closed form at every α`, pass: Math.abs(diff) <= TOLERANCE, detail: `largest difference ${signed(diff, 4)} at α=${worst.alpha} (${s.points.length} points)` })
  }
  for (const s of d.sweeps) {
    const diff = s.threshold.simulated - s.threshold.closedForm
    out.push({ name: `threshold γ=${gammaName(s.gamma)} within ±${TOLERANCE} of (1−γ)/(3−2γ) = ${f4(s.threshold.closedForm)}`, pass: Math.abs(diff) <= TOLERANCE, detail: `simulated ${f4(s.threshold.simulated)}` })
  }
  const g1 = byGamma(1).points
  const gh = byGamma(RANDOM_TIE_GAMMA).points
  const below = g1.filter((p) => p.alpha > 0 && p.alpha < 0.25)
  const removed = below.every((p) => p.revenue.mean > p.alpha && gh.find((q) => q.alpha === p.alpha)!.revenue.mean < p.alpha)
  out.push({
    name: 'random tie-breaking removes the γ=1 pool\'s gain below α = 1/4',
    pass: removed,
    detail: `at every α in (0, 1/4) on the grid (${below.length} points) revenue > α with γ=1 and < α with γ=1/2`,
  })
  for (const r of d.real) {
    const exact = r.races.filter((x) => x.exact).length
    out.push({
      name: `real chains α=${r.case.alpha}, ${r.case.poolFirst === 'all' ? 'pool first' : 'honest first'}, ${r.case.tieBreak} agree with the model`,
      pass: r.agrees,
      detail: `revenue ${f4(r.revenue.mean)} in the model's 99% range ${f4(r.model.low)}–${f4(r.model.high)} (γ=${fmt(r.gamma, 3)})${r.case.tieBreak === 'first-seen' ? `; ${exact}/${r.races.length} races equal to the model's chain block for block` : ''}`,
    })
  }
  const random = d.real.filter((r) => r.case.tieBreak === 'random')
  const pooled = pooledGamma(random)
  out.push({
    name: 'real chains: random tie-breaking gives γ ≈ 1/2 although the pool reaches every other honest node first',
    pass: pooled !== undefined && Math.abs(pooled.value - 0.5) <= 0.1,
    detail: pooled ? `realised γ ${f3(pooled.value)} over ${pooled.ties} ties ended by an honest block` : 'no tie ended by an honest block',
  })
  return out
}

function realReading(rs: readonly RealResult[]): string {
  const firstSeen = rs.flatMap((r) => (r.case.tieBreak === 'first-seen' ? r.races : []))
  const exact = firstSeen.filter((x) => x.exact).length
  const agree = rs.filter((r) => r.agrees).length
  const head =
    exact === firstSeen.length
      ? `The real nodes agree with the model: with first-seen the final canonical chain is the model's to the block in all ${exact} races, so the pool plug-in and Catena's importer (most work, first seen on ties, headers-first import of released branches) behave exactly as the paper's state machine assumes.`
      : `**The real nodes do not always agree with the model**: with first-seen only ${exact} of ${firstSeen.length} races gave the model's chain block for block.`
  return `${head} ${agree} of ${rs.length} cases have their mean revenue in the model's 99% range.`
}

function pooledGamma(rs: readonly RealResult[]): { value: number; ties: number } | undefined {
  let onPool = 0
  let all = 0
  for (const r of rs) for (const x of r.races) {
    onPool += x.stats.tieHonestOnPool
    all += x.stats.tieHonestOnPool + x.stats.tieHonestOnHonest
  }
  return all > 0 ? { value: onPool / all, ties: all } : undefined
}

function realisedLine(rs: readonly RealResult[]): string {
  const p = pooledGamma(rs)
  return p ? `${f3(p.value)} (${p.ties} ties)` : '–'
}

function meanOf(rs: readonly RealResult[], pick: (x: RealResult['races'][number]) => number): string {
  const xs = rs.flatMap((r) => r.races.map(pick))
  return xs.length ? (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1) : '–'
}

function signed(x: number, digits = 4): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`
}
