/**
 * The double-spend report: the table of P vs z (simulation with its intervals, Nakamoto,
 * Rosenfeld), the method, the confirmations needed for P < 0.1%, the real-chain replays, the
 * reading of the numbers, and one chart per q.
 * @module
 */
import type { ChartSpec } from '../charts.ts'
import type { Section, Table } from '../experiment.ts'
import { markdownTable } from '../report.ts'
import { fmt } from '../stats.ts'
import type { ConfirmationsRow, ReplaySummary, SweepPoint } from './double-spend.ts'
import { MIN_EXPECTED_SUCCESSES } from './double-spend.ts'

const sci = (x: number) => (x === 0 ? '0' : x >= 0.001 ? x.toFixed(5) : x.toExponential(3))

export function doubleSpendTable(points: SweepPoint[]): Table {
  return {
    columns: ['q', 'z', 'simulation', '95% interval', 'successes', 'Rosenfeld (exact)', 'Nakamoto', 'Rosenfeld inside', 'Nakamoto inside'],
    rows: points.map((p) => [
      p.q,
      p.z,
      sci(p.p),
      `${sci(p.low95)} .. ${sci(p.high95)}`,
      p.successes,
      sci(p.rosenfeld),
      sci(p.nakamoto),
      p.checked ? (p.rosenfeldInsideJoint ? 'yes' : 'NO') + (p.rosenfeldInside95 ? '' : ' (not the 95%)') : `(< ${MIN_EXPECTED_SUCCESSES} expected)`,
      p.checked ? (p.nakamotoInsideJoint ? 'yes' : 'no') : '',
    ]),
  }
}

export function doubleSpendSections(o: { runs: number; points: SweepPoint[]; zRows: ConfirmationsRow[]; replays: ReplaySummary[]; cutoffs: { q: number; deficit: number }[] }): Section[] {
  const held = o.points.filter((p) => p.checked)
  const z = (q: number, zz: number) => o.points.find((p) => p.q === q && p.z === zz)
  const p310 = z(0.3, 10)
  const p13 = z(0.1, 3)
  const method = `
**Attack.** An attacker with a share q of the hashrate pays a merchant and wants the payment reversed. Following
Rosenfeld (2014, §5), he first pre-mines one block on the current tip holding a tx that pays the same funds back to
himself (same sender, same nonce: only one of the two txs can ever be in a chain); if the honest network finds a block
first, he starts again on the new tip. With his block in hand he sends the payment. The honest network puts it in its
next block; the merchant waits until the honest branch has z blocks after the fork point (the payment's block is the
first: z confirmations) and hands over the goods. The attacker mines privately on his branch and publishes it as soon
as the honest branch has at least z blocks **and his branch is strictly longer** (every block carries the same bits,
so longer = more work; at equal work the honest nodes would keep the branch they saw first). Counting his pre-mined
block, "strictly longer" is exactly the "catch up" of both formulas: a tie in blocks mined after the payment was sent.
z = 0 means an unconfirmed payment: the pre-mined block alone reverses it (P = 1 in both formulas).

**Race model.** Mining is memoryless, so each next block is the attacker's with probability q, independently of the
past, and the race does not depend on how long blocks take. One PRNG stream per run (seeded from the run's index)
draws the blocks; one path serves every z of its q, because the events are nested (a success at z + 1 is a success at
z: the honest branch had at least z + 1 >= z blocks at a moment the attacker's was longer). ${o.runs.toLocaleString('en-US')} runs per q.
The attacker gives up when he is d blocks behind with (q/p)^(d+1) < 1e-9 (gambler's ruin: he must gain d + 1 blocks),
i.e. at d = ${o.cutoffs.map((c) => `${c.deficit} for q = ${c.q}`).join(', ')}; what that drops is below 1e-9 at every point, a
thousand times below the smallest interval width here.

**Intervals.** Each estimate has its 95% Wilson score interval (the table). The anchor is a claim about every point
at once (${held.length} points with at least ${MIN_EXPECTED_SUCCESSES} expected successes under the exact formula), and ${held.length} separate 95% intervals
all cover with probability about 0.95^${held.length} = ${fmt(0.95 ** held.length, 2)} even for an exact simulation; so the check uses simultaneous
95% intervals (Bonferroni: each at level 1 - 0.05/${held.length}), and the table says where the per-point 95% interval misses.

**Formulas.** Nakamoto (whitepaper §11): P = 1 - Σ_{k=0..z} Poisson(k; λ = zq/p) (1 - (q/p)^(z-k)).
Rosenfeld (2014, eq. 1): P = 1 - Σ_{k=0..z} C(k+z-1, k) (p^z q^k - q^z p^k), for q < p.
`
  const conf = markdownTable({
    columns: ['q', 'whitepaper', "Nakamoto's formula", "Rosenfeld's exact formula"],
    rows: o.zRows.map((r) => [r.q.toFixed(2), r.whitepaper, r.nakamoto, r.rosenfeld]),
  })
  const replayTable = markdownTable({
    columns: ['q', 'z', 'replayed runs', 'model: success', 'real chains: payment reversed', 'agree', 'deepest honest reorg'],
    rows: o.replays.map((r) => [r.q, r.z, r.runs, r.modelSuccesses, r.reversed, `${r.agree}/${r.runs}`, r.maxReorgDepth]),
  })
  const replayed = o.replays.reduce((n, r) => n + r.runs, 0)
  const agreed = o.replays.reduce((n, r) => n + r.agree, 0)
  const reading = `
The simulation follows Rosenfeld's formula, not Nakamoto's: ${held.filter((p) => p.rosenfeldInsideJoint).length} of ${held.length} checked points have
the exact value inside the simultaneous interval, while Nakamoto's value is outside it at ${held.filter((p) => p.z > 0 && !p.nakamotoInsideJoint).length} of
${held.filter((p) => p.z > 0).length} points with z > 0. ${p310 ? `At q = 0.3, z = 10 the runs give ${sci(p310.p)} (${sci(p310.low95)} .. ${sci(p310.high95)}): Rosenfeld says ${sci(p310.rosenfeld)}, Nakamoto ${sci(p310.nakamoto)}.` : ''}
${p13 ? `At q = 0.1, z = 3: ${sci(p13.p)} vs Rosenfeld ${sci(p13.rosenfeld)} and Nakamoto ${sci(p13.nakamoto)}.` : ''}

Why: Nakamoto replaces the attacker's progress while the honest network finds z blocks by a Poisson variable of mean
zq/p, as if those z blocks took exactly their expected time. They do not: the number of attacker blocks before the
honest network's z-th is negative binomial (z honest "failures", each block the attacker's with probability q), which
has the same mean zq/p but a larger variance (zq/p^2 instead of zq/p): more runs where the attacker got lucky early, and
those are the ones that matter. The simulation races block by block, so it draws exactly that negative binomial, and
matches Rosenfeld. Nakamoto's approximation overstates the risk a little at z = 1 (Rosenfeld: exactly 2q) and
understates it from a few confirmations on, by more and more as z grows (at q = 0.1 the exact value is 1.95x his at
z = 5 and 6.3x at z = 10): the confirmations needed for P < 0.1% grow from the whitepaper's list to Rosenfeld's
(above: 5 → 6 at q = 0.1, 24 → 32 at q = 0.3, 340 → 539 at q = 0.45).
`
  const crossText = `
${replayed} runs of the sweep (the first runs of each listed q, z: the same PRNG streams, so the same races) were replayed
through the lab's PoW network (src/lab/sim/pow-network.ts): two honest nodes and the attacker's, each a real Chain
with the real BlockImporter and the bitcoin-like PowRules on an easy target; every block really built, executed,
sealed with a real proof of work and imported by the other nodes headers-first. The attacker is the DoubleSpender
strategy (src/lab/adversaries/pow-double-spender.ts): the payment and the conflicting tx are real signed EIP-1559
txs with the same sender nonce. The replay takes the model's sequence of finders (each honest block goes to one of the
two honest miners at random) and propagates blocks instantly, as the model assumes. The model's success must be
exactly the runs where every honest node's canonical chain ends up with the conflicting tx and without the payment;
its failures, the runs where the payment stands on every honest node. ${agreed}/${replayed} agree.

${replayTable}
`
  return [
    { title: 'Method', body: method },
    { title: 'Confirmations for P < 0.1% (whitepaper §11 list)', body: conf },
    { title: 'Cross-check on real chains', body: crossText },
    { title: 'Reading the numbers', body: reading },
  ]
}

export function doubleSpendCharts(points: SweepPoint[]): ChartSpec[] {
  return [0.1, 0.3].map((q) => {
    const ps = points.filter((p) => p.q === q)
    const sim = ps.filter((p) => p.successes > 0)
    // Interval bars: one vertical segment per point, all one series name (one legend entry).
    const bars = sim.map((p) => ({
      name: 'simulation 95% interval',
      type: 'line',
      data: [[p.z, Math.max(p.low95, 1e-9)], [p.z, p.high95]],
      showSymbol: false,
      color: '#ee6666',
      lineStyle: { width: 3 },
    }))
    const line = (name: string, f: (p: SweepPoint) => number, extra: Record<string, unknown>) => ({ name, type: 'line', data: ps.map((p) => [p.z, f(p)]), ...extra })
    return {
      name: `q${Math.round(q * 100)}`,
      title: `Double spend success vs confirmations, attacker hashrate q = ${q}`,
      option: {
        legend: { top: 34 },
        grid: { left: 80, right: 30, top: 90, bottom: 50 },
        xAxis: { type: 'value', name: 'confirmations z', nameLocation: 'middle', nameGap: 30, min: 0, max: ps[ps.length - 1]!.z },
        yAxis: { type: 'log', name: 'P(success)', min: 1e-7, max: 1, logBase: 10, axisLabel: { formatter: (v: number) => (v >= 0.01 ? String(Number(v.toPrecision(1))) : v.toExponential(0)) } },
        series: [
          line('Rosenfeld (exact)', (p) => p.rosenfeld, { color: '#5470c6', lineStyle: { width: 2 }, showSymbol: false }),
          line('Nakamoto (whitepaper)', (p) => p.nakamoto, { color: '#91cc75', lineStyle: { type: 'dashed', width: 2 }, showSymbol: false }),
          { name: 'simulation', type: 'scatter', data: sim.map((p) => [p.z, p.p]), symbolSize: 7, color: '#333333' },
          ...bars,
        ],
      },
    }
  })
}
