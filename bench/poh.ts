/**
 * Proof-of-History speed: the PoH generator (src/consensus/poh/generator.ts) against a raw
 * SHA-256 chain loop in the same run, and slot verification on 2 worker threads against 1.
 *
 *   node --import tsx bench/poh.ts [--seconds 5] [--rounds 3] [--warmup 1] [--verify-reps 8]
 *        [--ticks-per-slot 64] [--slot-ms 400] [--hashes-per-tick N] [--out bench/RESULTS.md]
 *
 * Generation (one thread each, one kind hashing at a time):
 *   raw:       a worker thread running `h = sha256(h)` over 32 bytes in a minimal loop and
 *              nothing else, called the fastest way found (bench/lib/hash-loops.ts 'charcodes').
 *   generator: PohGenerator with the calibrated hashesPerTick and 64-tick slots, its entries
 *              taken by a listener on the main thread; the hashes its thread counts.
 *   records (round 1): the generator while the main thread keeps 4 records of 16 tx hashes in
 *              flight: the cost of mixing txs in.
 *   APIs (round 1): the raw loop with the other ways of calling SHA-256 (hash-loops.ts).
 * Rounds alternate raw and generator so drift in machine load hits both alike. Each
 * measurement warms up, then counts hashes over a --seconds window; rates also per CPU-second
 * of this process (all threads), which other processes on the machine disturb less.
 *
 * Verification: one slot made by the real generator (64 ticks of hashesPerTick, with records
 * of 4 tx hashes issued while it ran), checked first with checkTicks and verifyEntriesSync.
 * Then PohVerifier pools of 1 and 2 threads (one segment per thread) verify it --verify-reps
 * times each, alternating; round 1 also times 2 threads with 4 segments and the main thread
 * alone. Speed-up = median time on 1 thread / median time on 2.
 *
 * Prints one JSON line per measurement and a summary on stdout, progress on stderr, and
 * rewrites the "poh" section of the results file.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { hashesPerTickFor } from '../src/consensus/poh/calibrate.ts'
import { checkTicks, PohGenerator, PohVerifier, slotHashBudget, verifyEntriesSync, type PohEntry } from '../src/consensus/poh/index.ts'
import { BenchError, errorCode, errorMessage } from './lib/errors.ts'
import { HASH_LOOPS, RawChainPool, RawHashThread, type HashLoop } from './lib/hash-loops.ts'
import { ProgressLine } from './lib/progress.ts'
import { commandLine, machineInfo, writeSection } from './lib/report.ts'
import { formatRate, median, renderPohSection, type GenMeasurement, type PohSummary, type VerifyMeasurement } from './lib/poh-report.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const GEN_GOAL = 0.9
const VERIFY_GOAL = 1.8

const USAGE = `Usage: node --import tsx bench/poh.ts [options]

PoH generator hashes/s against a raw SHA-256 chain loop (same run), and slot verification
time on 2 worker threads against 1.

Options:
  --seconds S          length of each generation window          (default 5)
  --rounds R           raw + generator measurement pairs          (default 3)
  --warmup S           hashing before each window, seconds        (default 1)
  --verify-reps N      verifications per pool size                (default 8)
  --ticks-per-slot N   ticks in the verified slot                 (default 64)
  --slot-ms MS         slot length the tick is calibrated for     (default 400)
  --hashes-per-tick N  use N instead of calibrating from the raw rate
  --out FILE           results file; only its "poh" section is rewritten (default bench/RESULTS.md)
  -h, --help           this text
`

interface PohArgs {
  seconds: number
  rounds: number
  warmup: number
  verifyReps: number
  ticksPerSlot: number
  slotMs: number
  hashesPerTick?: number
  out: string
  help: boolean
}

function parsePohArgs(argv: string[]): PohArgs {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        seconds: { type: 'string', default: '5' },
        rounds: { type: 'string', default: '3' },
        warmup: { type: 'string', default: '1' },
        'verify-reps': { type: 'string', default: '8' },
        'ticks-per-slot': { type: 'string', default: '64' },
        'slot-ms': { type: 'string', default: '400' },
        'hashes-per-tick': { type: 'string' },
        out: { type: 'string', default: 'bench/RESULTS.md' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (err) {
    throw new BenchError('BAD_ARGS', `${errorMessage(err)}\n\n${USAGE}`)
  }
  const hpt = values['hashes-per-tick']
  return {
    seconds: positive('--seconds', values.seconds, 3600),
    rounds: whole('--rounds', values.rounds, 1, 100),
    warmup: positive('--warmup', values.warmup, 600, true),
    verifyReps: whole('--verify-reps', values['verify-reps'], 1, 1000),
    ticksPerSlot: whole('--ticks-per-slot', values['ticks-per-slot'], 1, 1 << 16),
    slotMs: whole('--slot-ms', values['slot-ms'], 1, 600_000),
    ...(hpt === undefined ? {} : { hashesPerTick: whole('--hashes-per-tick', hpt, 2, 1 << 30) }),
    out: values.out,
    help: values.help,
  }
}

function whole(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new BenchError('BAD_ARGS', `${flag} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return n
}

function positive(flag: string, raw: string, max: number, zeroOk = false): number {
  const n = Number(raw)
  if (!/^\d+(\.\d+)?$/.test(raw) || n > max || (n === 0 && !zeroOk)) {
    throw new BenchError('BAD_ARGS', `${flag} must be a ${zeroOk ? 'non-negative' : 'positive'} number up to ${max}, got "${raw}"`)
  }
  return n
}

// ---------------------------------------------------------------------------------------------
// Generation

/** Something that hashes on one thread between start() and stop(), counting its hashes. */
interface Hasher {
  start(): Promise<void>
  hashes(): number
  stop(): Promise<void>
  /** Records mixed in so far, for the records kind. */
  records?(): number
}

function rawHasher(thread: RawHashThread): Hasher {
  return { start: async () => thread.start(), hashes: () => thread.hashes(), stop: async () => thread.stop() }
}

/** A fresh generator per measurement (it cannot pause), started and ready before the clock. */
function generatorHasher(hashesPerTick: number, ticksPerSlot: number, withRecords: boolean): Hasher {
  let gen: PohGenerator | undefined
  let entries = 0
  let recorded = 0
  let stopping = false
  const loops: Promise<void>[] = []
  // Tx hashes made up front, so the main thread's share of the CPU is the generator's own cost.
  const txPool = Array.from({ length: 64 }, () => Array.from({ length: 16 }, () => new Uint8Array(randomBytes(32))))
  const recordLoop = async (g: PohGenerator) => {
    while (!stopping) {
      const txs = txPool[recorded % txPool.length]!
      try {
        await g.record(txs)
        recorded++
      } catch (err) {
        if (!stopping) throw err
      }
    }
  }
  return {
    async start() {
      gen = new PohGenerator({ startHash: new Uint8Array(randomBytes(32)), hashesPerTick, ticksPerSlot })
      gen.onEntry(() => entries++)
      await gen.ready()
      if (withRecords) for (let i = 0; i < 4; i++) loops.push(recordLoop(gen))
    },
    hashes: () => gen?.stats().hashes ?? 0,
    records: () => recorded,
    async stop() {
      stopping = true
      await gen?.close()
      await Promise.all(loops)
      if (entries === 0) throw new BenchError('VERIFY_FAILED', 'the generator delivered no entries')
    },
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

async function measureGen(kind: string, round: number, hasher: Hasher, args: PohArgs, ui: ProgressLine): Promise<GenMeasurement> {
  await hasher.start()
  try {
    const before = hasher.hashes()
    while (hasher.hashes() === before) await sleep(10)
    await sleep(args.warmup * 1000)
    const h0 = hasher.hashes()
    const r0 = hasher.records?.() ?? 0
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const end = t0 + args.seconds * 1000
    for (let now = t0; now < end; now = performance.now()) {
      await sleep(Math.min(250, end - now))
      const secs = (performance.now() - t0) / 1000
      ui.update(`[${kind} ${round}] ${secs.toFixed(1)}/${args.seconds} s  ${formatRate((hasher.hashes() - h0) / secs)}`)
    }
    const hashes = hasher.hashes() - h0
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    const records = hasher.records ? hasher.records() - r0 : undefined
    const m: GenMeasurement = {
      kind,
      round,
      seconds,
      hashes,
      hashesPerSec: hashes / seconds,
      hashesPerCpuSec: hashes / cpuSeconds,
      cpuShare: cpuSeconds / seconds,
      ...(records === undefined ? {} : { recordsPerSec: records / seconds }),
    }
    ui.done(
      `[${kind} ${round}] ${formatRate(m.hashesPerSec)}; ${formatRate(m.hashesPerCpuSec)} per CPU-second, CPU ${(m.cpuShare * 100).toFixed(0)}% of a core` +
        (m.recordsPerSec === undefined ? '' : `; ${m.recordsPerSec.toFixed(0)} records/s`),
    )
    return m
  } finally {
    await hasher.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// Verification

interface Slot {
  start: Uint8Array
  entries: PohEntry[]
  hashes: number
  txEntries: number
}

/** One full slot from the real generator, with records of 4 tx hashes mixed in while it ran. */
async function makeSlot(hashesPerTick: number, ticksPerSlot: number): Promise<Slot> {
  const start = new Uint8Array(randomBytes(32))
  const gen = new PohGenerator({ startHash: start, hashesPerTick, ticksPerSlot })
  const entries: PohEntry[] = []
  let ended = false
  gen.onEntry((e) => {
    if (e.slot === 0) entries.push(e.entry)
  })
  gen.onSlot((s) => {
    if (s.slot === 0) ended = true
  })
  try {
    await gen.ready()
    while (!ended) {
      const e = await gen.record(Array.from({ length: 4 }, () => new Uint8Array(randomBytes(32))))
      if (e.slot > 0) break
    }
    while (!ended) await sleep(5)
  } finally {
    await gen.close()
  }
  const clock = { hashesPerTick, ticksPerSlot }
  checkTicks(entries, clock)
  const r = verifyEntriesSync(start, entries, { maxHashes: slotHashBudget(clock) })
  return { start, entries, hashes: r.hashes, txEntries: entries.filter((e) => e.txHashes.length > 0).length }
}

/** Non-idle CPU ticks of the whole machine (all processes, /proc/stat), for the load others put on it. */
function machineBusyTicks(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal
    return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!
  } catch {
    return undefined
  }
}
const TICKS_PER_SEC = 100 // USER_HZ on Linux

async function timeVerify(kind: string, round: number, slot: Slot, verify: () => Promise<unknown>): Promise<VerifyMeasurement> {
  const busy0 = machineBusyTicks()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await verify()
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const busy1 = machineBusyTicks()
  const cpuMs = (cpu.user + cpu.system) / 1000
  // Cores other processes kept busy meanwhile (coarse: /proc/stat counts in 10 ms ticks).
  const others = busy0 === undefined || busy1 === undefined ? undefined : Math.max(0, ((busy1 - busy0) * (1000 / TICKS_PER_SEC) - cpuMs) / ms)
  return { kind, round, ms, hashesPerSec: slot.hashes / (ms / 1000), cpuMs, ...(others === undefined ? {} : { otherCores: others }) }
}

async function measureVerify(slot: Slot, clock: { hashesPerTick: number; ticksPerSlot: number }, args: PohArgs, ui: ProgressLine): Promise<VerifyMeasurement[]> {
  const limits = { maxHashes: slotHashBudget(clock) }
  const pools = { 1: new PohVerifier({ threads: 1 }), 2: new PohVerifier({ threads: 2 }) }
  const raw = { 1: new RawChainPool(1), 2: new RawChainPool(2) }
  const out: VerifyMeasurement[] = []
  const end = slot.entries[slot.entries.length - 1]!.hash
  const check = (r: { endHash: Uint8Array }) => {
    if (!Buffer.from(r.endHash).equals(Buffer.from(end))) throw new BenchError('VERIFY_FAILED', 'a verifier returned the wrong end hash')
  }
  const kinds: [string, () => Promise<void>][] = [
    ['1 thread', () => pools[1].verify(slot.start, slot.entries, limits, { segments: 1 }).then(check)],
    ['2 threads, 2 segments', () => pools[2].verify(slot.start, slot.entries, limits, { segments: 2 }).then(check)],
    ['2 threads, 8 segments', () => pools[2].verify(slot.start, slot.entries, limits, { segments: 8 }).then(check)],
    // The machine's ceiling: the same number of hashes in the raw loop, on one thread and split over two.
    ['raw loop, 1 thread', () => raw[1].hash(slot.hashes)],
    ['raw loop, 2 threads', () => raw[2].hash(slot.hashes)],
  ]
  const emit = (m: VerifyMeasurement) => {
    out.push(m)
    process.stdout.write(`${JSON.stringify({ bench: 'poh', part: 'verify', ...roundAll(m) })}\n`)
  }
  try {
    // Load the threads before any timing.
    for (const [, run] of kinds) await run()
    for (let rep = 1; rep <= args.verifyReps; rep++) {
      // Rotate the order so drift in machine load hits every kind alike.
      for (let k = 0; k < kinds.length; k++) {
        const [kind, run] = kinds[(k + rep) % kinds.length]!
        const m = await timeVerify(kind, rep, slot, run)
        emit(m)
        ui.update(`[verify ${rep}/${args.verifyReps}] ${kind}: ${m.ms.toFixed(0)} ms`)
      }
      if (rep === 1) emit(await timeVerify('main thread (sync)', rep, slot, async () => check(verifyEntriesSync(slot.start, slot.entries, limits))))
    }
    ui.done(`[verify] ${args.verifyReps} reps per verifier done`)
  } finally {
    await Promise.all([pools[1].close(), pools[2].close(), raw[1].close(), raw[2].close()])
  }
  return out
}

function roundAll<T extends object>(m: T): T {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1000) / 1000 : v])) as T
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const args = parsePohArgs(process.argv.slice(2))
  if (args.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const ui = new ProgressLine()
  const threads = new Map<HashLoop, RawHashThread>(HASH_LOOPS.map((l) => [l, new RawHashThread(l)]))
  const gens: GenMeasurement[] = []
  let hashesPerTick = args.hashesPerTick ?? 0
  const emit = (m: GenMeasurement) => {
    gens.push(m)
    process.stdout.write(`${JSON.stringify({ bench: 'poh', part: 'generate', ...roundAll(m) })}\n`)
  }
  try {
    for (let r = 1; r <= args.rounds; r++) {
      const order = r % 2 === 1 ? ['raw', 'generator'] : ['generator', 'raw']
      for (const kind of order) {
        if (kind === 'raw') {
          emit(await measureGen('raw', r, rawHasher(threads.get('charcodes')!), args, ui))
          if (hashesPerTick === 0) hashesPerTick = hashesPerTickFor(gens[gens.length - 1]!.hashesPerSec, args.ticksPerSlot, args.slotMs)
        } else {
          const hpt = hashesPerTick || hashesPerTickFor(3_000_000, args.ticksPerSlot, args.slotMs)
          emit(await measureGen('generator', r, generatorHasher(hpt, args.ticksPerSlot, false), args, ui))
        }
      }
      if (r === 1) {
        emit(await measureGen('generator + records', r, generatorHasher(hashesPerTick, args.ticksPerSlot, true), args, ui))
        for (const loop of HASH_LOOPS.filter((l) => l !== 'charcodes')) emit(await measureGen(`api: ${loop}`, r, rawHasher(threads.get(loop)!), args, ui))
      }
    }
  } finally {
    await Promise.all([...threads.values()].map((t) => t.close()))
  }

  const clock = { hashesPerTick, ticksPerSlot: args.ticksPerSlot }
  ui.log(`[verify] making one slot of ${args.ticksPerSlot} ticks x ${hashesPerTick} hashes with the generator`)
  const slot = await makeSlot(hashesPerTick, args.ticksPerSlot)
  ui.log(`[verify] slot: ${slot.entries.length} entries (${slot.txEntries} with txs), ${slot.hashes.toLocaleString('en-US')} hashes; checked`)
  const verifies = await measureVerify(slot, clock, args, ui)

  const of = (kind: string) => gens.filter((m) => m.kind === kind)
  const ms = (kind: string) => verifies.filter((m) => m.kind === kind).map((m) => m.ms)
  const s: PohSummary = {
    args: { seconds: args.seconds, rounds: args.rounds, verifyReps: args.verifyReps },
    clock: { ...clock, slotMs: args.slotMs },
    raw: mean(of('raw').map((m) => m.hashesPerSec)),
    generator: mean(of('generator').map((m) => m.hashesPerSec)),
    rawCpu: mean(of('raw').map((m) => m.hashesPerCpuSec)),
    generatorCpu: mean(of('generator').map((m) => m.hashesPerCpuSec)),
    genRatio: 0,
    gens,
    slot: { entries: slot.entries.length, txEntries: slot.txEntries, hashes: slot.hashes },
    verify1: median(ms('1 thread')),
    verify2: median(ms('2 threads, 2 segments')),
    verify2x8: median(ms('2 threads, 8 segments')),
    raw1: median(ms('raw loop, 1 thread')),
    raw2: median(ms('raw loop, 2 threads')),
    speedup: 0,
    verifies,
    genGoal: GEN_GOAL,
    verifyGoal: VERIFY_GOAL,
  }
  s.genRatio = s.generator / s.raw
  s.speedup = s.verify1 / s.verify2
  process.stdout.write(
    `${JSON.stringify({
      bench: 'poh',
      part: 'summary',
      hashesPerTick,
      ticksPerSlot: args.ticksPerSlot,
      rawHashesPerSec: Math.round(s.raw),
      generatorHashesPerSec: Math.round(s.generator),
      generatorRatio: Math.round(s.genRatio * 10_000) / 10_000,
      generatorGoal: GEN_GOAL,
      generatorMet: s.genRatio >= GEN_GOAL,
      slotHashes: slot.hashes,
      verifyMs1: Math.round(s.verify1 * 10) / 10,
      verifyMs2: Math.round(s.verify2 * 10) / 10,
      speedup: Math.round(s.speedup * 1000) / 1000,
      verifyMs2x8: Math.round(s.verify2x8 * 10) / 10,
      speedup8: Math.round((s.verify1 / s.verify2x8) * 1000) / 1000,
      rawSpeedup: Math.round((s.raw1 / s.raw2) * 1000) / 1000,
      speedupGoal: VERIFY_GOAL,
      speedupMet: Math.max(s.speedup, s.verify1 / s.verify2x8) >= VERIFY_GOAL,
    })}\n`,
  )
  ui.log(
    `generator / raw = ${(s.genRatio * 100).toFixed(1)}% (goal >= ${GEN_GOAL * 100}%); ` +
      `verification 1 -> 2 threads: ${s.verify1.toFixed(0)} -> ${s.verify2.toFixed(0)} ms, ${s.speedup.toFixed(2)}x; ` +
      `8 segments ${s.verify2x8.toFixed(0)} ms, ${(s.verify1 / s.verify2x8).toFixed(2)}x (goal >= ${VERIFY_GOAL}x); raw loop ${(s.raw1 / s.raw2).toFixed(2)}x`,
  )
  const out = path.resolve(args.out)
  await writeSection(out, 'poh', renderPohSection(s, machineInfo(), commandLine(REPO_ROOT)))
  ui.log(`wrote the poh section of ${path.relative(process.cwd(), out) || out}`)
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`poh: ${errorCode(err)}: ${errorMessage(err)}\n`)
    process.exitCode = 2
  },
)
