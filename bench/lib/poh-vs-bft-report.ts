/** What bench/poh-vs-bft.ts measured per chain and rate, as one JSON line and the "poh-vs-bft" section of bench/RESULTS.md (pure). */
import { failureCounts, type BftResult, type LatencyStats } from './bft-load.ts'
import type { Machine } from './report.ts'

export interface PohCounts {
  /** Slots the clock of validator 0 advanced during the run. */
  slots: number
  /** Canonical blocks made meanwhile (validator 0's head height). */
  blocks: number
  /** Blocks all leaders made (catena_pohStatus produced, summed), orphaned ones included. */
  produced: number
  /** Branch switches, summed over the validators. */
  reorgs: number
  votesSent: number
  votesRejected: number
}

export interface ChainRun {
  chain: string
  engine: 'bft' | 'poh'
  chainId: string
  /** PoH: the slot length; BFT: the commit wait between heights (ms). */
  blockTimeMs?: number
  commitMs?: number
  blockGasLimit: string
  /** Fee cap of every tx (wei; 0 on free-gas chains). */
  feeCap: string
  /** Seconds from spawning the validators until all of them had final blocks. */
  startSeconds?: number
  result: BftResult
  /** Receipts of the final txs checked against the blocks seen final. */
  receipts?: { checked: number; mismatched: number }
  /** Finality violations the follower saw (a finalized block replaced). */
  violations: string[]
  /** Whether the validators' common finalized height covers the last block holding our txs. */
  agreementCoversTxs?: boolean
  poh?: PohCounts
  /** os.loadavg() (1, 5, 15 min) before the validators started and after they stopped. */
  load: { before: number[]; after?: number[] }
  /** Warnings in the validators' logs, by message. */
  logWarnings?: Record<string, number>
  /** Where the validators' logs were kept (failed runs, or --logs). */
  logsDir?: string
  /** Runs that failed or lost txs: each validator's head, finalized height and PoH state at the end. */
  stateAtEnd?: string[]
}

/** The run kept up: nothing lost, refused or mismatched, agreement, and final blocks at >= 90% of the offered rate. */
export function carried(r: ChainRun): boolean {
  const x = r.result
  return runOk(r) && x.steadyTps !== undefined && x.offeredTps !== undefined && x.steadyTps >= 0.9 * x.offeredTps
}

/** Every tx final once, in the block the receipts name, on validators that agree, with no finality violation. */
export function runOk(r: ChainRun): boolean {
  const x = r.result
  return (
    x.error === undefined &&
    x.final === x.txs &&
    x.lost === 0 &&
    x.rejected === 0 &&
    x.agreement?.agree === true &&
    r.receipts !== undefined &&
    r.receipts.mismatched === 0 &&
    r.violations.length === 0
  )
}

const sec = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? null : round(x, 3))

export function pohVsBftJsonLine(o: { runs: readonly ChainRun[]; seconds: number; batch: number; load: { before: number[]; after: number[] } }): string {
  return JSON.stringify({
    bench: 'poh-vs-bft',
    ok: o.runs.every(runOk),
    seconds: o.seconds,
    batch: o.batch,
    loadBefore: o.load.before.map((x) => round(x, 2)),
    loadAfter: o.load.after.map((x) => round(x, 2)),
    runs: o.runs.map((r) => {
      const x = r.result
      return {
        chain: r.chain,
        engine: r.engine,
        rate: x.rate,
        ok: runOk(r),
        carried: carried(r),
        txs: x.txs,
        offeredTps: x.offeredTps === undefined ? null : round(x.offeredTps, 1),
        finalTps: x.finalTps === undefined ? null : round(x.finalTps, 1),
        steadyTps: x.steadyTps === undefined ? null : round(x.steadyTps, 1),
        confirmedP50: sec(x.confirmLatency?.p50),
        confirmedP90: sec(x.confirmLatency?.p90),
        finalP50: sec(x.latency?.p50),
        finalP90: sec(x.latency?.p90),
        final: x.final ?? null,
        lost: x.lost ?? null,
        rejected: x.rejected ?? null,
        reconfirmed: x.reconfirmed ?? null,
        blocks: x.blocks ?? null,
        txsPerBlock: x.txsPerBlock === undefined ? null : round(x.txsPerBlock, 1),
        agree: x.agreement?.agree ?? null,
        agreeHeight: x.agreement?.height ?? null,
        receiptsMismatched: r.receipts?.mismatched ?? null,
        violations: r.violations.length,
        ...(r.poh ? { poh: r.poh } : {}),
        loadBefore: r.load.before.map((v) => round(v, 2)),
        loadAfter: r.load.after?.map((v) => round(v, 2)) ?? null,
        ...(x.error ? { error: x.error } : {}),
        ...(r.logsDir ? { logsDir: r.logsDir } : {}),
        ...(r.stateAtEnd ? { stateAtEnd: r.stateAtEnd } : {}),
      }
    }),
  })
}

export interface PohVsBftSection {
  runs: readonly ChainRun[]
  /** Chain and rate not run because the chain did not carry a lower rate (`after`). */
  skipped?: ReadonlyArray<{ chain: string; rate: number; after: number }>
  seconds: number
  batch: number
  graceSeconds: number
  pollMs: number
  machine: Machine
  command: string
  runner: string
  load: { before: number[]; after: number[] }
}

export function renderPohVsBftSection(s: PohVsBftSection): string {
  const f = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d))
  const lat = (l: LatencyStats | undefined) => (l && l.count > 0 ? `${f(l.p50)} / ${f(l.p90)}` : '—')
  const load = (l: number[] | undefined) => (l ? l.map((x) => x.toFixed(2)).join(' ') : '—')
  const describe = (r: ChainRun) =>
    r.engine === 'poh'
      ? `\`${r.chain}\` (chain id ${r.chainId}, PoH, ${r.blockTimeMs} ms slots, EIP-1559 base fee: fee cap ${gwei(r.feeCap)}, tip 0, parallel execution)`
      : `\`${r.chain}\` (chain id ${r.chainId}, BFT${r.commitMs === undefined ? '' : `, ${r.commitMs} ms commit wait`}, free gas: fee cap ${gwei(r.feeCap)})`
  const chains = [...new Map(s.runs.map((r) => [r.chain, r])).values()]
  const lines = [
    '## PoH vs BFT — a 4-validator `solana-like` network and the 4-validator `consortium` network under the same load',
    '',
    `One network at a time on this machine, each started fresh (4 validator processes, temp datadirs): ${chains.map(describe).join('; ')}. ` +
      `For each chain and rate, the same open-loop load as the bft section: rate x ${s.seconds} s pre-signed EIP-1559 transfers (21,000 gas, each to a new address) ` +
      'from fresh senders funded in setup blocks that are final before the clock starts, each sender pinned to one validator, ' +
      `sent in JSON-RPC batches of up to ${s.batch} round-robin over the validators, transfer i at i / rate s whatever the nodes answer. ` +
      `Validator 0's \`safe\` and \`finalized\` blocks are read every ${s.pollMs} ms and on every new head (WebSocket); ` +
      'new confirmed (final) blocks are the tagged block and its ancestors down to the last one seen, found by parent hash, so a block a fork orphaned never counts. ' +
      'submit-to-confirmed = when the block that became final was seen confirmed - when the tx\'s batch was sent; submit-to-finalized = when it was seen final - the same. ' +
      'On PoH, confirmed = more than 2/3 of the stake voted for the block or a descendant, finalized = rooted (32 lockouts); on BFT both are the committed head. ' +
      'final tx/s = final txs / (last final - first submit), as in the bft section (it includes the finality delay); ' +
      'steady tx/s = final txs / (last final - first final), the rate blocks became final at. ' +
      `A tx not final ${s.graceSeconds} s after sending stops is lost. Afterwards every final tx's receipt must name the block seen final, canonical and at or below the finalized height, ` +
      'and all validators must have the same block at their common finalized height. "carried" = all of that, and steady tx/s at least 90% of offered.',
    '',
    '| chain | offered tx/s | final tx/s | steady tx/s | confirmed p50 / p90 s | finalized p50 / p90 s | final | lost | refused | blocks | txs/block | agree at | carried | load before → after |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|',
  ]
  for (const r of s.runs) {
    const x = r.result
    const agree = x.agreement ? `${x.agreement.agree ? 'yes' : '**NO**'} ${x.agreement.height}` : '—'
    lines.push(
      `| ${r.chain} @ ${x.rate}/s | ${f(x.offeredTps, 0)} | **${f(x.finalTps, 0)}** | ${f(x.steadyTps, 0)} | **${lat(x.confirmLatency)}** | **${lat(x.latency)}** | ` +
        `${x.final ?? '—'}/${x.txs} | ${x.lost ?? '—'} | ${x.rejected ?? '—'} | ${x.blocks ?? '—'} | ${f(x.txsPerBlock, 1)} | ${agree} | ${carried(r) ? 'yes' : '**no**'} | ${load(r.load.before)} → ${load(r.load.after)} |`,
    )
  }
  lines.push('', ...capacityLines(s.runs))
  for (const k of s.skipped ?? []) lines.push(`${k.chain} was not run at ${k.rate} tx/s: it did not carry ${k.after} tx/s (\`--all-rates\` runs it).`)
  lines.push('')
  for (const r of s.runs) {
    const x = r.result
    const notes: string[] = []
    if (r.poh) {
      notes.push(
        `${r.poh.slots} slots, ${r.poh.blocks} canonical blocks (${r.poh.slots - r.poh.blocks} slots without one), ${r.poh.produced} blocks made by the leaders, ` +
          `${r.poh.reorgs} branch switches, ${r.poh.votesSent} votes sent (${r.poh.votesRejected} rejected)`,
      )
    }
    if (x.reconfirmed) notes.push(`${x.reconfirmed} txs confirmed first in a block a fork orphaned`)
    if (r.receipts) notes.push(`receipts of ${r.receipts.checked} final txs checked, ${r.receipts.mismatched} mismatched`)
    if (r.agreementCoversTxs === false) notes.push('the common finalized height is below the last block holding our txs')
    if (r.violations.length) notes.push(`**finality violations**: ${r.violations.slice(0, 3).map(mdCell).join('; ')}`)
    if (x.ack) notes.push(`submit acks p50 ${f(x.ack.p50, 3)} s, p99 ${f(x.ack.p99, 3)} s`)
    if (x.maxSendLagMs !== undefined) notes.push(`batches left at most ${f(x.maxSendLagMs, 0)} ms late`)
    if (x.cpu) {
      const used = x.cpu.validators.reduce<number>((a, v) => a + (v ?? 0), 0)
      notes.push(`CPU to the last final tx: validators ${used.toFixed(1)} s + load generator ${x.cpu.generator.toFixed(1)} s over ${x.cpu.seconds.toFixed(1)} s on ${x.cpu.cores} cores`)
    }
    if (r.startSeconds !== undefined) notes.push(`network up with final blocks after ${r.startSeconds.toFixed(1)} s`)
    if (r.logWarnings && Object.keys(r.logWarnings).length) {
      const top = Object.entries(r.logWarnings).sort((a, b) => b[1] - a[1]).slice(0, 5)
      notes.push(`log warnings: ${top.map(([m, n]) => `${mdCell(m)} x${n}`).join(', ')}`)
    }
    if (x.failures?.length) notes.push(`failures: ${failureCounts(x.failures).slice(0, 4).map((c) => `${c.count} ${mdCell(c.reason)}`).join('; ')}`)
    if (x.websocketProblem) notes.push(`new heads by polling only (${mdCell(x.websocketProblem)})`)
    if (x.error) notes.push(`**error** (${x.error.code}): ${mdCell(firstLine(x.error.message))}`)
    if (r.stateAtEnd?.length) notes.push(`at the end: ${r.stateAtEnd.map(mdCell).join('; ')}`)
    if (r.logsDir) notes.push(`logs in \`${r.logsDir}\``)
    lines.push(`- ${r.chain} @ ${x.rate}/s: ${notes.join('; ')}.`)
  }
  lines.push(
    '',
    `Machine: ${s.machine.cores} cores (${s.machine.cpu}), Node ${s.machine.node}, ${s.machine.platform}, ${s.machine.date}; ` +
      `the 4 validators and the load generator share it with other engineers' work: load average (1/5/15 min) ${load(s.load.before)} before the run, ${load(s.load.after)} after. Nodes ran from ${s.runner}.`,
    '',
    `Command (from the repo root): \`${s.command}\``,
  )
  return lines.join('\n')
}

/** Per chain: the rates it carried and the first it did not, and how latency grew with the rate. */
export function capacityLines(runs: readonly ChainRun[]): string[] {
  const byChain = new Map<string, ChainRun[]>()
  for (const r of runs) byChain.set(r.chain, [...(byChain.get(r.chain) ?? []), r])
  return [...byChain.entries()].map(([chain, unsorted]) => {
    const rs = [...unsorted].sort((a, b) => a.result.rate - b.result.rate)
    const ok = rs.filter(carried).map((r) => r.result.rate)
    const not = rs.filter((r) => !carried(r)).map((r) => r.result.rate)
    let head: string
    if (ok.length === 0) head = `carried none of the rates run (${not.join(', ')} tx/s)`
    else if (not.length === 0) head = `carried every rate run (${ok.join(', ')} tx/s)`
    else head = `carried ${ok.join(', ')} tx/s, not ${not.join(', ')} tx/s${Math.min(...not) < Math.max(...ok) ? ' (not monotonic: noise or a fault)' : ''}`
    const lat = rs
      .filter((r) => (r.result.latency?.count ?? 0) > 0)
      .map((r) => `${(r.result.confirmLatency?.p50 ?? Number.NaN).toFixed(2)} / ${(r.result.latency?.p50 ?? Number.NaN).toFixed(2)} s at ${r.result.rate}`)
    return `**${chain}**: ${head}.${lat.length ? ` p50 submit-to-confirmed / submit-to-finalized: ${lat.join(', ')}.` : ''}`
  })
}

function gwei(wei: string): string {
  const n = BigInt(wei)
  return n === 0n ? '0' : n % 10n ** 9n === 0n ? `${n / 10n ** 9n} gwei` : `${n} wei`
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? ''
}

function round(n: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}
