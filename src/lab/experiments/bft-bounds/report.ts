/**
 * What the bft-bounds sweep shows: the table, the chart (safety-violation rate and crash
 * liveness against f/n, with the n/3 line), the checks against the anchors, and the report's
 * sections.
 * @module
 */
import { lineSeries, type ChartSpec } from '../../charts.ts'
import type { Check, Section, Table } from '../../experiment.ts'
import { markdownTable } from '../../report.ts'
import { fmt, proportion } from '../../stats.ts'
import { quorumIntersection } from './quorum.ts'
import { LIVE_HEIGHTS, LIVE_WINDOW_MS, NET, PARTITION_MS } from './runs.ts'
import type { Cell, SweepResult } from './sweep.ts'

const pct = (k: number, total: number) => (total === 0 ? '—' : `${k}/${total}`)

function rateCell(k: number, total: number): string {
  if (total === 0) return '— (no honest node)'
  const p = proportion(k, total)
  return `${k}/${total} (${fmt(p.p, 2)}, ${fmt(p.low, 2)}–${fmt(p.high, 2)})`
}

export function resultTable(cells: Cell[]): Table {
  return {
    columns: ['n', 'f', 'f/n', 'q', 'runs with a fork (rate, 95% CI)', 'forked heights/run', 'live after heal', 'evidence = equivocators', 'live with f crashed', 'quorum arithmetic'],
    rows: cells.map((c) => [
      c.n,
      c.f,
      fmt(c.f / c.n, 2),
      c.quorum,
      rateCell(c.attack.violations, c.attack.runs),
      c.attack.runs ? fmt(c.attack.conflictingHeights / c.attack.runs, 1) : '—',
      pct(c.attack.liveAfterHeal, c.attack.runs),
      c.f === 0 ? '(none to name)' : pct(c.attack.evidenceExact, c.attack.runs),
      pct(c.crash.live, c.crash.runs),
      `${c.canFork ? 'can fork' : 'safe'}, ${c.liveByQuorum ? 'live' : 'stalls'}`,
    ]),
  }
}

export function chart(cells: Cell[], sizes: number[]): ChartSpec {
  const series = sizes.flatMap((n, k) => {
    const of = cells.filter((c) => c.n === n)
    const forks = of.filter((c) => c.attack.runs > 0).map((c): [number, number] => [c.f / n, c.attack.violations / c.attack.runs])
    const live = of.map((c): [number, number] => [c.f / n, c.crash.live / c.crash.runs])
    const color = ['#c0392b', '#2471a3', '#239b56'][k % 3]
    return [
      lineSeries(`fork rate, n=${n}`, forks, {
        color,
        symbol: 'circle',
        ...(k === 0 ? { markLine: { silent: true, symbol: 'none', lineStyle: { type: 'dotted', color: '#000' }, label: { formatter: 'f = n/3' }, data: [{ xAxis: 1 / 3 }] } } : {}),
      }),
      lineSeries(`live with f crashed, n=${n}`, live, { color, symbol: 'triangle', lineStyle: { type: 'dashed' } }),
    ]
  })
  return {
    name: 'rates',
    title: 'BFT: runs with two honest nodes finalizing different blocks, and liveness with f crashed, against f/n',
    option: {
      legend: { top: 28, type: 'scroll' },
      grid: { top: 80, left: 60, right: 30, bottom: 50 },
      xAxis: { type: 'value', name: 'f / n (byzantine or crashed share)', nameLocation: 'middle', nameGap: 30, min: 0, max: 1 },
      yAxis: { type: 'value', name: 'share of runs', min: 0, max: 1 },
      series,
    },
    width: 900,
    height: 520,
  }
}

export function checks(r: SweepResult, sizes: number[]): Check[] {
  const out: Check[] = []
  for (const n of sizes) {
    const of = r.cells.filter((c) => c.n === n)
    const below = of.filter((c) => c.belowThird)
    const belowRuns = below.reduce((s, c) => s + c.attack.runs, 0)
    const belowForks = below.reduce((s, c) => s + c.attack.violations, 0)
    out.push({ name: `n=${n}: safe at every f < n/3 in every run`, pass: belowForks === 0 && belowRuns > 0, detail: `${belowForks} forked runs of ${belowRuns} at f = 0..${below.at(-1)?.f}` })
    const fMin = Math.ceil(n / 3)
    const at = of.find((c) => c.f === fMin)
    const firstFork = of.find((c) => c.attack.violations > 0)?.f
    out.push({
      name: `n=${n}: the attack forks at f = ceil(n/3) = ${fMin}, and at no smaller f`,
      pass: !!at && at.attack.violations > 0 && firstFork === fMin && fMin === quorumIntersection(n),
      detail: at ? `smallest forking f = ${firstFork}; at f = ${fMin}: ${rateCell(at.attack.violations, at.attack.runs)} of runs (2q - n = ${quorumIntersection(n)})` : 'not run',
    })
    const liveWrong = of.filter((c) => (c.belowThird ? c.crash.live !== c.crash.runs : c.crash.live !== 0))
    out.push({
      name: `n=${n}: live with f < n/3 crashed in every run, stalled with f >= n/3 in every run`,
      pass: liveWrong.length === 0,
      detail: liveWrong.length ? `wrong at f = ${liveWrong.map((c) => `${c.f} (${c.crash.live}/${c.crash.runs} live)`).join(', ')}` : of.map((c) => `f=${c.f}: ${c.crash.live}/${c.crash.runs}`).join(', '),
    })
  }
  const withByz = r.cells.filter((c) => c.belowThird && c.f > 0)
  const inexact = withByz.filter((c) => c.attack.evidenceExact !== c.attack.runs)
  out.push({
    name: 'evidence names exactly the equivocators at every 0 < f < n/3',
    pass: inexact.length === 0,
    detail: inexact.length ? `inexact in ${inexact.map((c) => `n=${c.n} f=${c.f}`).join(', ')}` : `${withByz.reduce((s, c) => s + c.attack.runs, 0)} runs`,
  })
  const accusedHonest = r.cells.reduce((s, c) => s + c.attack.honestAccused, 0)
  out.push({ name: 'no honest validator is ever accused', pass: accusedHonest === 0, detail: `${accusedHonest} runs with an honest validator in the evidence` })
  const other = r.cells.flatMap((c) => c.attack.otherViolations)
  out.push({ name: 'no honest double sign, bad certificate or broken lock in any run', pass: other.length === 0, detail: other.length ? other.slice(0, 3).join('; ') : 'none' })
  const disagree = r.cells.filter((c) => c.attack.runs > 0 && (c.canFork ? c.attack.violations === 0 : c.attack.violations > 0))
  out.push({
    name: 'forks exactly where quorum intersection allows them (f >= 2q - n, two honest nodes)',
    pass: disagree.length === 0,
    detail: disagree.length ? `disagree at ${disagree.map((c) => `n=${c.n} f=${c.f}`).join(', ')}` : `${r.cells.length} cells agree`,
  })
  if (r.slashing.length > 0) {
    const bad = r.slashing.filter((s) => !s.slashedExactly || !s.chainContinued)
    const ns = [...new Set(r.slashing.map((s) => s.n))]
    out.push({
      name: 'PoS: the collected evidence slashes and jails exactly the equivocators, and the chain goes on',
      pass: bad.length === 0 && sizes.some((n) => ns.includes(n)),
      detail: `${r.slashing.length - bad.length}/${r.slashing.length} chains (n = ${ns.join(', ')})`,
    })
  }
  return out
}

export function slashingTable(r: SweepResult): string {
  return markdownTable({
    columns: ['n', 'f', 'run seed', 'offences reported', 'validators named', 'evidence in block', 'at height', 'equivocators after', 'honest after', 'slashed exactly', 'chain goes on'],
    rows: r.slashing.map((s) => {
      const byz = s.standing.filter((v) => v.byzantine)
      const honest = s.standing.filter((v) => !v.byzantine)
      const show = (vs: typeof byz) => [...new Set(vs.map((v) => `${Number(BigInt(v.stake) / 10n ** 16n) / 100} ETH${v.jailed ? ', jailed' : ''}${v.active ? '' : ', out of set'}`))].join('; ')
      return [s.n, s.f, s.seed, s.offences, s.named.join(' '), s.evidenceInBlock, s.blockHeight, show(byz), show(honest), s.slashedExactly ? 'yes' : '**no**', s.chainContinued ? 'yes' : '**no**']
    }),
  })
}

export function sections(r: SweepResult, runs: number): Section[] {
  return [
    {
      title: 'Method',
      body: `Each run is the in-process BFT cluster (src/lab/sim/bft-cluster.ts): n real \`BftDriver\` state machines (Tendermint rounds, locks, the vote WAL) with their own secp256k1 keys, over a simulated network with delays of ${NET.minDelayMs}–${NET.maxDelayMs} ms, ${NET.loss * 100}% loss and ${NET.duplicate * 100}% duplicates, all drawn from the run's seed. Validators have equal power. Every (n, f) cell has ${runs} attack runs and ${runs} crash runs with distinct seeds; which validators are byzantine or crashed is drawn from the seed.

**Attack** (the \`split-vote\` adversary in src/lab/sim/bft-byzantine.ts): the adversary splits the honest validators into two halves A and B and partitions the network so that A and B cannot reach each other while the f byzantine validators reach both (the groups A ∪ byz and B ∪ byz) for ${PARTITION_MS / 1000} s. Every byzantine validator runs an honest state machine to stay in step but signs every proposal and vote twice, for block X sent (and re-sent) only to A and for block Y only to B, and relays nothing else. Then the partition heals (GST) and the attack goes on. A run *forks* when two honest nodes commit different blocks at one height; the cluster records every such violation instead of stopping (\`recordViolations\`). *Live after heal*: every honest node commits ${LIVE_HEIGHTS} new heights within ${LIVE_WINDOW_MS / 1000} s of the heal. *Evidence*: the double votes honest nodes detected and verified (\`verifyEvidence\`, keyed by \`offenceKey\`).

**Crash**: f validators send nothing from the start and never come back (withholding). *Live*: every running validator commits ${LIVE_HEIGHTS} heights within ${LIVE_WINDOW_MS / 1000} s.

**PoS slashing**: for each n and each 1 ≤ f < n/3, the first attack run's evidence (earliest piece per offender) goes into the seal of a block on a real PoS chain (src/lab/sim/pos-chain.ts: the \`ethereum-like\` preset with the run's validators bonded 32 ETH each, the node's Chain, Executor and BlockImporter with the PoS engine's production rules). The block is imported through \`importBlock\` with the honest validators' commit certificate, as a block from a peer is; the staking contract is then read back with eth_call.

**Real code, no model**: every run drives the node's own BFT state machine and signatures, so there is no fast model to cross-check against the real code. The one thing stood in for is consensus on the PoS chain: its outcome (a block the honest validators certify) is built directly, and everything the chain does with it (certificate, seal and evidence checks, execution of the slash, the new validator set) is the node's import path.`,
    },
    {
      title: 'Why the attack needs f ≥ n/3: quorum intersection',
      body: `A block is committed with precommits of a quorum, q = ⌊2n/3⌋ + 1 validators (more than 2/3 of the power). Any two quorums share at least 2q − n validators. For two honest nodes to commit X and Y at one height, a quorum must have precommitted X and another Y; an honest validator precommits at most one block per round and, locked, never votes against its lock in later rounds, so every validator in the intersection of the two quorums must be byzantine: **f ≥ 2q − n**. Since q > 2n/3, 2q − n > n/3, so no fork is possible while f < n/3. For n = 3k + 1 (4, 7, 10) the bound is exact: 2q − n = k + 1 = ⌈n/3⌉, and the partition above reaches it: the n − f honest validators split into halves of at least q − f each exactly when f ≥ 2q − n, and each half plus the f byzantine validators is a quorum that sees only its own block.

| n | q | 2q − n (smallest forking f) | tolerated f = ⌊(n−1)/3⌋ |
|---|---|---|---|
${[4, 7, 10].map((n) => `| ${n} | ${Math.floor((2 * n) / 3) + 1} | ${quorumIntersection(n)} | ${Math.floor((n - 1) / 3)} |`).join('\n')}

Liveness is the mirror image: with f validators crashed, the n − f others are a quorum only when f ≤ n − q = ⌊(n − 1)/3⌋, i.e. f < n/3 for these n.`,
    },
    {
      title: 'Reading the numbers',
      body: readingText(r),
    },
    {
      title: 'PoS: the evidence slashes the equivocators',
      body: `${slashingTable(r)}

The evidence honest nodes collected names only byzantine validators, and the PoS chain's own block import turns it into \`slash\` calls from the system address: each equivocator loses the preset's slashBasisPoints (5%) of its stake, is jailed and leaves the validator set at the next height, while the honest validators keep their stake; the next block, certified by the honest validators alone, imports. With f ≥ n/3 the honest validators alone are no quorum, so there is no honest chain to slash on (and the two forks each carry their own history).`,
    },
  ]
}

/** Liveness under the attack, from the numbers: after the heal below the bound, and above it. */
function livenessText(r: SweepResult): string {
  const sum = (cs: Cell[], k: (c: Cell) => number) => cs.reduce((s, c) => s + k(c), 0)
  const below = r.cells.filter((c) => c.belowThird && c.attack.runs > 0)
  const above = r.cells.filter((c) => !c.belowThird && c.attack.runs > 0)
  const smallest = [...new Set(r.cells.map((c) => c.n))].map((n) => {
    const c = r.cells.find((x) => x.n === n && x.attack.violations > 0)
    return c ? `f = ${c.f} for n = ${n} (${c.attack.violations}/${c.attack.runs} runs)` : `none for n = ${n}`
  })
  return `Smallest f at which the attack breaks safety: ${smallest.join(', ')}. Liveness under the attack: after the heal (GST) the honest validators commit ${LIVE_HEIGHTS} new heights within ${LIVE_WINDOW_MS / 1000} s in ${sum(below, (c) => c.attack.liveAfterHeal)}/${sum(below, (c) => c.attack.runs)} runs with f < n/3, as partial synchrony promises. During the partition neither honest half is a quorum by itself: at most one half commits, and only with the byzantine validators' votes, so the chain may wait but never forks (safety over liveness). Above the bound the byzantine validators keep voting after the heal, so each side keeps finding quorums (${sum(above, (c) => c.attack.liveAfterHeal)}/${sum(above, (c) => c.attack.runs)} runs commit on), and the forks keep growing (forked heights per run). Liveness above the bound is whatever the adversary makes of it; this one prefers forks to stalls.`
}

function readingText(r: SweepResult): string {
  const lines: string[] = []
  const sizes = [...new Set(r.cells.map((c) => c.n))]
  for (const n of sizes) {
    const of = r.cells.filter((c) => c.n === n)
    const below = of.filter((c) => c.belowThird)
    const fMin = Math.ceil(n / 3)
    const at = of.find((c) => c.f === fMin)
    const belowRuns = below.reduce((s, c) => s + c.attack.runs, 0)
    const firstMs = at && at.attack.firstViolationMs.length ? Math.round(at.attack.firstViolationMs.reduce((a, b) => a + b, 0) / at.attack.firstViolationMs.length) : null
    lines.push(
      `- **n = ${n}**: no fork in any of the ${belowRuns} attack runs with f < n/3 (f ≤ ${below.at(-1)?.f}). At f = ${fMin} the attack forks in ${at ? rateCell(at.attack.violations, at.attack.runs) : '—'} of runs` +
        (at ? ` (${at.attack.violationsInPartition} of them while the partition held${firstMs !== null ? `, first fork after ${firstMs} ms on average` : ''})` : '') +
        `. With f crashed the others stay live up to f = ${of.filter((c) => c.crash.live === c.crash.runs).at(-1)?.f ?? '—'} and stall from f = ${of.find((c) => c.crash.live === 0)?.f ?? '—'}.`,
    )
  }
  lines.push(
    '',
    'The simulation matches the quorum-intersection bound, not a probability: below 2q − n no schedule can fork, and every run agrees; at and above it the adversary forks whenever a byzantine validator proposes while both halves are at the same height and unlocked, which happens within a few rounds, so nearly every run forks. Runs at f = n − 1 cannot fork by definition (one honest node), and name nobody: with a single honest node the other side is empty, so no honest node ever sees both votes of a byzantine validator. The crash sweep shows the other side of the 1/3 bound: the chain halts exactly when the crashed power reaches n/3, because the rest is no quorum.',
    '',
    livenessText(r),
  )
  return lines.join('\n')
}
