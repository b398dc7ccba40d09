/** The "poh" section of bench/RESULTS.md, written by bench/poh.ts. */
import type { Machine } from './report.ts'

export interface GenMeasurement {
  kind: string
  round: number
  seconds: number
  hashes: number
  hashesPerSec: number
  /** Hashes per second of CPU time this process used in the window (all threads). */
  hashesPerCpuSec: number
  /** CPU time / window: about 1 for one busy thread; more with the main thread's share. */
  cpuShare: number
  recordsPerSec?: number
}

export interface VerifyMeasurement {
  kind: string
  round: number
  ms: number
  hashesPerSec: number
  cpuMs: number
  /** Cores other processes on the machine kept busy meanwhile (/proc/stat), when known. */
  otherCores?: number
}

export interface PohSummary {
  args: { seconds: number; rounds: number; verifyReps: number }
  clock: { hashesPerTick: number; ticksPerSlot: number; slotMs: number }
  raw: number
  generator: number
  rawCpu: number
  generatorCpu: number
  genRatio: number
  gens: GenMeasurement[]
  slot: { entries: number; txEntries: number; hashes: number }
  /** Median ms on 1 and 2 threads. */
  verify1: number
  verify2: number
  verify2x8: number
  /** Median ms of the raw loop hashing the slot's count on 1 thread and split over 2. */
  raw1: number
  raw2: number
  speedup: number
  verifies: VerifyMeasurement[]
  genGoal: number
  verifyGoal: number
}

export function formatRate(hps: number): string {
  return hps >= 1e6 ? `${(hps / 1e6).toFixed(2)} MH/s` : `${(hps / 1e3).toFixed(0)} kH/s`
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

function others(vs: VerifyMeasurement[]): string {
  const known = vs.map((v) => v.otherCores).filter((x): x is number => x !== undefined)
  return known.length ? median(known).toFixed(2) : 'n/a'
}

const met = (ok: boolean) => (ok ? 'met' : 'NOT met')

export function renderPohSection(s: PohSummary, machine: Machine, command: string): string {
  const genRows = s.gens.map(
    (m) =>
      `| ${m.round} | ${m.kind} | ${formatRate(m.hashesPerSec)} | ${formatRate(m.hashesPerCpuSec)} | ${(m.cpuShare * 100).toFixed(0)}% | ` +
      `${m.recordsPerSec === undefined ? '' : m.recordsPerSec.toFixed(0)} | ${m.seconds.toFixed(2)} |`,
  )
  const kinds = [...new Set(s.verifies.map((v) => v.kind))]
  const verifyRows = kinds.map((kind) => {
    const vs = s.verifies.filter((v) => v.kind === kind)
    const ms = vs.map((v) => v.ms)
    return (
      `| ${kind} | ${vs.length} | ${median(ms).toFixed(0)} | ${Math.min(...ms).toFixed(0)} | ${Math.max(...ms).toFixed(0)} | ` +
      `${formatRate(s.slot.hashes / (median(ms) / 1000))} | ${median(vs.map((v) => v.cpuMs)).toFixed(0)} | ${others(vs)} |`
    )
  })
  const slotMsHere = ((s.clock.hashesPerTick * s.clock.ticksPerSlot) / s.generator) * 1000
  return [
    '## PoH — generator vs raw SHA-256, and parallel slot verification',
    '',
    '**Generation**, one thread each, one kind at a time. **raw**: a worker thread running `h = sha256(h)` over 32 bytes in a minimal loop ' +
      "and nothing else, digests from `crypto.hash(..., 'binary')` copied back into the same Uint8Array by char code (the fastest call found: see the api rows). " +
      `**generator**: \`PohGenerator\` (its own worker thread) with ${s.clock.ticksPerSlot}-tick slots of ${s.clock.hashesPerTick} hashes per tick, ` +
      'entries taken by a listener on the main thread. **generator + records** (round 1): the same while the main thread keeps 4 records of 16 tx hashes in flight. ' +
      '**api: ...** (round 1): the raw loop calling SHA-256 other ways: `latin1Write` writes the digest string back with Buffer#latin1Write, ' +
      "`hashBuffer` takes a new Buffer per digest (`crypto.hash(..., 'buffer')`), `createHash` a Hash object per digest, `noble` is @noble/hashes. " +
      `Each: warm-up, then a ${s.args.seconds} s window; per CPU-second = hashes / CPU time of the whole process in the window (CPU share: that time / window). ` +
      `${s.args.rounds} round(s), order alternating.`,
    '',
    '| round | kind | hashes/s | per CPU-second | CPU share | records/s | seconds |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...genRows,
    '',
    `Mean raw: ${formatRate(s.raw)}; mean generator: ${formatRate(s.generator)}. ` +
      `Per CPU-second: raw ${formatRate(s.rawCpu)}, generator ${formatRate(s.generatorCpu)} (the generator's includes the main thread taking its entries).`,
    '',
    `**Generator / raw: ${(s.genRatio * 100).toFixed(1)}%** (goal >= ${s.genGoal * 100}%: ${met(s.genRatio >= s.genGoal)}). ` +
      `At this rate a slot of ${s.clock.ticksPerSlot} x ${s.clock.hashesPerTick} hashes lasts ~${slotMsHere.toFixed(0)} ms (calibrated for ${s.clock.slotMs} ms from the raw rate).`,
    '',
    `**Verification** of one slot made by the generator: ${s.slot.entries} entries (${s.slot.txEntries} with 4 tx hashes each), ` +
      `${s.slot.hashes.toLocaleString('en-US')} hashes, checked first with checkTicks and verifyEntriesSync. ` +
      `\`PohVerifier\` pools of 1 and 2 threads (threads loaded beforehand) verify it ${s.args.verifyReps} times each, in rotating order: ` +
      '1 thread (one segment), 2 threads with one segment each, 2 threads with 8 segments that idle threads pull one by one. ' +
      "Beside them, the machine's ceiling at the same moments: the raw loop hashing the slot's number of hashes on 1 thread and split over 2. " +
      'Round 1 also times the main thread alone (`verifyEntriesSync`). Times are wall clock per verification; CPU = this process; ' +
      "other processes = cores the rest of the machine kept busy meanwhile (/proc/stat, 10 ms ticks).",
    '',
    '| verifier | runs | median ms | min ms | max ms | hashes/s (median) | CPU ms (median) | other processes (median cores) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...verifyRows,
    '',
    `**Speed-up, 2 threads over 1: ${s.speedup.toFixed(2)}x** with one segment per thread (medians ${s.verify1.toFixed(0)} ms -> ${s.verify2.toFixed(0)} ms), ` +
      `**${(s.verify1 / s.verify2x8).toFixed(2)}x** with 8 segments (${s.verify2x8.toFixed(0)} ms); goal >= ${s.verifyGoal}x: ` +
      `${met(Math.max(s.speedup, s.verify1 / s.verify2x8) >= s.verifyGoal)}. ` +
      `The raw loop itself goes ${(s.raw1 / s.raw2).toFixed(2)}x faster on 2 threads than on 1 here (${s.raw1.toFixed(0)} ms -> ${s.raw2.toFixed(0)} ms): ` +
      `the verifier gets ${((s.verify1 / s.verify2x8 / (s.raw1 / s.raw2)) * 100).toFixed(0)}% of what the machine allows.`,
    '',
    `Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.platform}, ${machine.date}`,
    '',
    `Command (from the repo root): \`${command}\``,
  ].join('\n')
}
