/**
 * Benchmark output: one JSON line per target on stdout, and a section of bench/RESULTS.md
 * between <!-- NAME:start --> / <!-- NAME:end --> markers, leaving other sections alone.
 */
import { readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { BenchError } from './errors.ts'

export interface TargetResult {
  target: string
  txs: number
  concurrency: number
  senders: number
  /** 0 = a fresh recipient per transfer. */
  recipients?: number
  /** Set when the run completed and verified. */
  seconds?: number
  tps?: number
  verified: boolean
  version?: string
  /** Distinct blocks the transfers landed in. */
  blocks?: number
  /** Untimed transfers sent before the timed ones. */
  warmup?: number
  /** User + system CPU of the target's process tree from first send to last receipt, per timed transfer. */
  cpuMsPerTransfer?: number
  /** Sum of VmRSS over the target's process tree right after the last receipt. */
  rssMiB?: number
  /** Processes in the target's tree at the last receipt (1 unless it runs under a wrapper). */
  processes?: number
  error?: { code: string; message: string }
}

export function jsonLine(bench: string, r: TargetResult): string {
  return JSON.stringify({
    bench,
    target: r.target,
    txs: r.txs,
    concurrency: r.concurrency,
    senders: r.senders,
    ...(r.recipients === undefined ? {} : { recipients: r.recipients }),
    seconds: r.seconds === undefined ? null : round(r.seconds, 3),
    tps: r.tps === undefined ? null : round(r.tps, 1),
    verified: r.verified,
    version: r.version ?? null,
    ...(r.blocks === undefined ? {} : { blocks: r.blocks }),
    ...(r.warmup === undefined ? {} : { warmup: r.warmup }),
    cpuMsPerTransfer: r.cpuMsPerTransfer === undefined ? null : round(r.cpuMsPerTransfer, 3),
    rssMiB: r.rssMiB === undefined ? null : round(r.rssMiB, 1),
    ...(r.processes === undefined ? {} : { processes: r.processes }),
    ...(r.error ? { error: r.error } : {}),
  })
}

export interface Machine {
  cores: number
  cpu: string
  node: string
  platform: string
  date: string
}

export function machineInfo(now = new Date()): Machine {
  const cpus = os.cpus()
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    date: now.toISOString().replace(/\.\d+Z$/, 'Z'),
  }
}

/** The command line that produced this run, as typed from the repo root. */
export function commandLine(repoRoot: string): string {
  const script = process.argv[1] ? path.relative(repoRoot, process.argv[1]) : ''
  return ['node', ...process.execArgv, script, ...process.argv.slice(2)].map(shellQuote).join(' ')
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

export interface TransfersSection {
  results: TargetResult[]
  machine: Machine
  command: string
  txs: number
  warmup: number
  concurrency: number
  senders: number
  recipients: number
  /** Whether `hardhat node` kept its per-request console log on. */
  hardhatLog: boolean
  /** Catena must be at least this many times faster than Hardhat. */
  goalRatio: number
  /** Catena's node CPU per transfer must be at most this (ms); its RSS at most Hardhat's. */
  cpuGoalMs: number
}

export function renderTransfersSection(s: TransfersSection): string {
  const rows = s.results.map((r) => {
    const outcome = r.verified ? 'yes' : `FAILED (${r.error?.code ?? 'unknown'})`
    const cells = [
      r.target,
      fixed(r.tps, 0),
      fixed(r.seconds, 2),
      fixed(r.cpuMsPerTransfer, 2),
      fixed(r.rssMiB, 0),
      r.blocks ?? '—',
      outcome,
      mdCell(r.version ?? '—'),
    ]
    return `| ${cells.join(' | ')} |`
  })
  const failures = s.results
    .filter((r) => r.error)
    .map((r) => `- **${r.target}** failed: ${mdCell(firstLine(r.error!.message))}`)
  const catena = s.results.find((r) => r.target === 'catena')
  const hardhat = s.results.find((r) => r.target === 'hardhat')
  let ratio: string
  if (catena?.tps !== undefined && hardhat?.tps !== undefined) {
    const x = catena.tps / hardhat.tps
    ratio = `**Catena / Hardhat: ${x.toFixed(2)}x** (goal >= ${s.goalRatio}x: ${x >= s.goalRatio ? 'met' : 'NOT met'})`
  } else {
    const missing = [catena, hardhat].every((r) => r !== undefined) ? 'a target failed' : 'run both catena and hardhat'
    ratio = `**Catena / Hardhat: n/a** (${missing}; goal >= ${s.goalRatio}x)`
  }
  return [
    '## Transfers — end-to-end JSON-RPC value transfers',
    '',
    `${s.txs} pre-signed EIP-1559 transfers (21,000 gas each, ${recipientsText(s)}) from ${s.senders} senders, ` +
      (s.warmup > 0
        ? `timed after ${s.warmup} untimed warm-up transfers from the same senders (so JIT warm-up is not counted), `
        : 'timed from a cold start (no warm-up transfers), ') +
      `${s.concurrency} JSON-RPC requests in flight over keep-alive HTTP; each target mines a block per ` +
      'transaction or on its own schedule; one send in flight per sender, in nonce order. ' +
      'transfers/s = txs / (first send to last receipt). ' +
      "node CPU ms/transfer = user + system CPU of the target's whole process tree over that window (`/proc/<pid>/stat`, 10 ms ticks; " +
      'it includes answering the receipt and block polls) / txs; RSS MiB after = VmRSS summed over the tree right after the last receipt. ' +
      'Every receipt, recipient balance and sender nonce is checked afterwards; a target that fails the check has no number. ' +
      (s.hardhatLog
        ? "Hardhat's per-request console log was on (as shipped)."
        : "Hardhat's per-request console log was off, as Ganache runs with --logging.quiet (`--hardhat-log` keeps it on, about half as fast)."),
    '',
    '| target | transfers/s | seconds | node CPU ms/transfer | RSS MiB after | blocks | verified | version |',
    '|---|---:|---:|---:|---:|---:|---|---|',
    ...rows,
    '',
    ratio,
    '',
    resourceLine(catena, hardhat, s.cpuGoalMs),
    ...(failures.length ? ['', ...failures] : []),
    '',
    `Machine: ${s.machine.cores} cores (${s.machine.cpu}), Node ${s.machine.node}, ${s.machine.platform}, ${s.machine.date}`,
    '',
    `Command (from the repo root): \`${s.command}\``,
  ].join('\n')
}

/** Catena's node CPU per transfer against the goal, and its RSS against Hardhat's. */
function resourceLine(catena: TargetResult | undefined, hardhat: TargetResult | undefined, cpuGoalMs: number): string {
  const cpu =
    catena?.cpuMsPerTransfer === undefined
      ? `**Catena node CPU per transfer: n/a** (goal <= ${cpuGoalMs} ms)`
      : `**Catena node CPU per transfer: ${catena.cpuMsPerTransfer.toFixed(2)} ms**` +
        (hardhat?.cpuMsPerTransfer === undefined ? '' : ` vs Hardhat ${hardhat.cpuMsPerTransfer.toFixed(2)} ms (${(catena.cpuMsPerTransfer / hardhat.cpuMsPerTransfer).toFixed(2)}x)`) +
        ` (goal <= ${cpuGoalMs} ms: ${catena.cpuMsPerTransfer <= cpuGoalMs ? 'met' : 'NOT met'})`
  const rss =
    catena?.rssMiB === undefined || hardhat?.rssMiB === undefined
      ? "**Catena RSS after: n/a** (goal <= Hardhat's; run both catena and hardhat)"
      : `**Catena RSS after: ${catena.rssMiB.toFixed(0)} MiB vs Hardhat ${hardhat.rssMiB.toFixed(0)} MiB** ` +
        `(goal <= Hardhat's: ${catena.rssMiB <= hardhat.rssMiB ? 'met' : 'NOT met'})`
  return `${cpu}; ${rss}`
}

function fixed(n: number | undefined, digits: number): string {
  return n === undefined ? '—' : n.toFixed(digits)
}

function recipientsText(s: TransfersSection): string {
  return s.recipients === 0 ? 'each to a new address' : `to ${s.recipients} fresh addresses round-robin`
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

/**
 * Puts `body` between the section's markers: replaces the old section if there is one,
 * appends it otherwise; everything outside the markers is kept byte for byte.
 */
export function replaceSection(existing: string | undefined, name: string, body: string): string {
  const startMark = `<!-- ${name}:start -->`
  const endMark = `<!-- ${name}:end -->`
  const block = `${startMark}\n${body.trimEnd()}\n${endMark}`
  if (existing === undefined || existing.trim() === '') {
    return `# Benchmark results\n\nWritten by the scripts in bench/ (see bench/README.md); do not edit sections by hand.\n\n${block}\n`
  }
  const start = existing.indexOf(startMark)
  const end = start < 0 ? -1 : existing.indexOf(endMark, start)
  if (start >= 0 && end >= 0) {
    return existing.slice(0, start) + block + existing.slice(end + endMark.length)
  }
  if (start >= 0 || existing.includes(endMark)) {
    throw new BenchError('BAD_ARGS', `the results file has only one of ${startMark} / ${endMark}; fix it by hand first`)
  }
  return `${existing.trimEnd()}\n\n${block}\n`
}

export async function writeSection(file: string, name: string, body: string): Promise<void> {
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  await writeFile(file, replaceSection(existing, name, body))
}
