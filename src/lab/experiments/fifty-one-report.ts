/**
 * The fifty-one report: the table of hashrate to rent per network, z and success probability,
 * the method, the real-chain replays, the reading, and one chart.
 * @module
 */
import type { ChartSpec } from '../charts.ts'
import type { Section, Table } from '../experiment.ts'
import { markdownTable } from '../report.ts'
import type { FiftyOneReplay, Network, Requirement } from './fifty-one.ts'
import { MINER_HASHES_PER_THREAD_SECOND, TARGETS, WINDOW_SECONDS } from './fifty-one.ts'

export function hashrate(hs: number): string {
  const units = [['TH/s', 1e12], ['GH/s', 1e9], ['MH/s', 1e6], ['kH/s', 1e3]] as const
  for (const [u, v] of units) if (hs >= v) return `${(hs / v).toPrecision(3)} ${u}`
  return `${hs.toPrecision(3)} H/s`
}

export function fiftyOneTable(nets: Network[], reqs: Requirement[]): Table {
  return {
    columns: ['network', 'z', 'success', 'attacker share q', 'x honest hashrate', 'rented hashrate', 'Miner threads', 'P on fresh runs (95%)', 'P without the hour'],
    rows: reqs.map((r) => {
      const net = nets.find((n) => n.name === r.network)!
      if (!r.reachable) return [r.network, r.z, `${r.target * 100}%`, 'out of reach', '', '', '', `z blocks within the hour: P = ${r.ceiling.toFixed(3)}`, '']
      return [
        r.network,
        r.z,
        `${r.target * 100}%`,
        r.q.toFixed(4),
        r.multiple.toFixed(3),
        r.rentedHashesPerSecond !== undefined ? hashrate(r.rentedHashesPerSecond) : net.preset ? '' : '(no difficulty)',
        r.minerThreads !== undefined ? r.minerThreads.toFixed(3) : '',
        `${r.measured.toFixed(4)} (${r.low95.toFixed(4)} .. ${r.high95.toFixed(4)})`,
        r.unbounded.toFixed(4),
      ]
    }),
  }
}

export function fiftyOneSections(o: { runs: number; nets: Network[]; reqs: Requirement[]; replays: FiftyOneReplay[] }): Section[] {
  const presets = o.nets.filter((n) => n.preset)
  const netTable = markdownTable({
    columns: ['network', 'block time', 'genesis work (hashes a block)', 'network hashrate', 'in Miner threads'],
    rows: o.nets.map((n) => [
      n.name,
      `${n.blockSeconds} s`,
      n.hashesPerBlock !== undefined ? Math.round(n.hashesPerBlock).toLocaleString('en-US') : '-',
      n.hashrate !== undefined ? hashrate(n.hashrate) : '-',
      n.hashrate !== undefined ? (n.hashrate / MINER_HASHES_PER_THREAD_SECOND).toFixed(3) : '-',
    ]),
  })
  const method = `
**Networks.** The PoW presets (${presets.map((n) => n.name).join(', ')}), each at its genesis difficulty: the honest network's hashrate is
the expected hashes per block (2^256 / (target + 1), the work fork choice counts) divided by the block time, i.e. the
hashrate that makes the preset's block time. The last row keeps that difficulty model but uses Bitcoin's 600 s spacing,
to show when the hour, not the race, is what costs.

${netTable}

**Attack.** The same race and success rule as \`catena lab double-spend\` (Rosenfeld's pre-mined block, publish when
the honest branch has z blocks and the attacker's is strictly longer), with time: the attacker rents k times the honest
hashrate (his share q = k / (1 + k)) for ${WINDOW_SECONDS} s; honest blocks come every T seconds on average and his k times as often
(exponential gaps); the clock starts when he starts pre-mining, and the attack fails unless he has published by the
end of the hour. Fork choice weighs work, and work accumulates at the hashrate whatever the difficulty, so a retarget
within the hour would change how many blocks each side has, not who is ahead in work; the model keeps the genesis
difficulty for both.

**Search.** For each network, z and target (50%, 90%), q is found by bisection (${16} steps, to 2^-16) on the success
rate of ${o.runs.toLocaleString('en-US')} runs, the same runs at every q (common random numbers, so the estimate moves smoothly with q). The
q found is then checked on ${o.runs.toLocaleString('en-US')} fresh runs ("P on fresh runs", with its 95% Wilson interval): they must agree with
the search runs' rate at that q within what two independent samples allow (simultaneous over all points). Rented
hashrate = q / (1 - q) x the network's hashrate; in Miner threads at ${(MINER_HASHES_PER_THREAD_SECOND / 1e6).toFixed(2)} MH/s each, the real Miner's rate per
CPU-second on this machine from bench/RESULTS.md (mining section), not measured during the run (the report must not
depend on the load). The two presets have the same genesis difficulty and block time, so they share the search (same
q); what tells them apart (retarget rule, block size) does not enter an hour's race at a fixed difficulty; their fresh
runs differ. "Out of reach": the merchant's z confirmations must come within the hour, and the honest network alone
decides that: at most P(Poisson(3600 / T) >= z) whatever the attacker rents; a target not at least 0.02 below that
ceiling, or not reached by a 99% share, is not searched.
"P without the hour" is Rosenfeld's exact probability at that q (1 for q >= 1/2).
`
  const replayed = o.replays.reduce((n, r) => n + r.runs, 0)
  const agreed = o.replays.reduce((n, r) => n + r.agree, 0)
  const replayText = `
The first runs of the bisection's streams at the q found were replayed through the lab's PoW network (two honest
nodes and the attacker's, real chains and importer, real signed payment and conflicting tx; see the double-spend
report), with the model's block times on the virtual clock and the attacker's publishing cut at ${WINDOW_SECONDS} s. The payment
must be reversed on every honest node exactly in the runs the model's hour race calls a success. ${agreed}/${replayed} agree.

${markdownTable({
  columns: ['network', 'z', 'target', 'replayed runs', 'model: success', 'real chains: reversed', 'agree'],
  rows: o.replays.map((r) => [r.network, r.z, `${r.target * 100}%`, r.runs, r.modelSuccesses, r.reversed, `${r.agree}/${r.runs}`]),
})}
`
  const bl = o.reqs.filter((r) => r.network === presets[0]?.name)
  const get = (z: number, t: number) => bl.find((r) => r.z === z && r.target === t)
  const six = get(6, 0.5)
  const six90 = get(6, 0.9)
  const ref = o.reqs.filter((r) => !o.nets.find((n) => n.name === r.network)!.preset)
  const ref6 = ref.find((r) => r.z === 6 && r.target === 0.5)
  const reading = `
On the presets an hour is ${WINDOW_SECONDS / (presets[0]?.blockSeconds ?? 1)} honest blocks, far more than any z here, so the hour hardly binds: the q needed is close to what
Rosenfeld's unbounded formula gives (compare the last two columns), and a minority attacker suffices for 50%.
${six ? `For six confirmations on ${six.network} a 50% chance takes q = ${six.q.toFixed(3)}, ${six.multiple.toFixed(2)}x the honest hashrate: ${six.rentedHashesPerSecond !== undefined ? hashrate(six.rentedHashesPerSecond) : ''}, ${six.minerThreads?.toFixed(2)} of one Miner thread on this machine.` : ''}
${six90 ? `90% takes q = ${six90.q.toFixed(3)} (${six90.multiple.toFixed(2)}x): close to a majority, because below 1/2 the exact probability never reaches 1.` : ''}
The genesis difficulty of these presets is made for one laptop thread, so the whole network is a fraction of a core, and
so is the attack: a network is as safe as the hashrate it would cost to outpace, and confirmations multiply that cost
only by a bounded factor once the attacker can rent more than the network has.
${ref6 ? `With Bitcoin's 600 s spacing the hour is only 6 honest blocks and the race, not the formula, is the limit: six confirmations at 50% need q = ${ref6.q.toFixed(3)}, ${ref6.multiple.toFixed(2)}x the honest hashrate — more than a 51% attack, because the attacker must also finish within the hour.` : ''}
`
  return [
    { title: 'Method', body: method },
    { title: 'Cross-check on real chains', body: replayText },
    { title: 'Reading the numbers', body: reading },
  ]
}

export function fiftyOneCharts(nets: Network[], reqs: Requirement[]): ChartSpec[] {
  // Networks with the same block time share the search (same q): one line for them.
  const groups = new Map<number, Network[]>()
  for (const n of nets) groups.set(n.blockSeconds, [...(groups.get(n.blockSeconds) ?? []), n])
  const series = [...groups.values()].flatMap((g) =>
    TARGETS.map((t) => ({
      name: `${g.map((n) => n.name).join(' / ')}: ${t * 100}%`,
      type: 'line',
      data: reqs.filter((r) => r.network === g[0]!.name && r.target === t && r.reachable).map((r) => [r.z, r.multiple]),
      lineStyle: { type: t === 0.5 ? 'solid' : 'dashed', width: 2 },
      symbolSize: 7,
    })),
  )
  // 1x: the attacker has half of all hashrate (a "51% attack").
  if (series[0]) Object.assign(series[0], { markLine: { silent: true, symbol: 'none', lineStyle: { color: '#999999', type: 'dotted' }, label: { formatter: '1x = half of all hashrate', position: 'insideStartTop' }, data: [{ yAxis: 1 }] } })
  return [
    {
      name: 'rent',
      title: 'Hashrate to rent (x the honest network) to reverse z confirmations within one hour',
      option: {
        legend: { orient: 'vertical', right: 40, bottom: 70, backgroundColor: '#ffffff' },
        grid: { left: 70, right: 30, top: 70, bottom: 50 },
        xAxis: { type: 'value', name: 'confirmations z', nameLocation: 'middle', nameGap: 30, min: 0, max: 10 },
        yAxis: { type: 'log', name: 'rented / honest hashrate', logBase: 10, min: 0.1, max: 10 },
        series,
      },
    },
  ]
}
