/**
 * Proof-of-Work hashing speed: the Miner (src/consensus/pow/miner.ts) against the raw
 * double-SHA-256 rate of node:crypto on the same 44-byte inputs, same threads, same run.
 *
 *   node --import tsx bench/mining.ts [--threads N] [--seconds 5] [--rounds 3] [--warmup 1]
 *        [--check-every N] [--out bench/RESULTS.md]
 *
 * raw:     N worker threads each run a minimal loop of node:crypto double SHA-256 over a
 *          44-byte buffer whose last byte changes, and nothing else, called the fastest way
 *          known here (digests as latin1 strings, the inner one copied into a reused buffer),
 *          which is also how the Miner calls it.
 * miner:   Miner({ threads: N }).mine() on an impossible target (0), the hashes it counts.
 * buffers: the raw loop with Buffer digests, crypto.hash(..., 'buffer') twice as
 *          src/crypto/hash.ts sha256d does: what the same loop costs the obvious way
 *          (measured in round 1 only, for reference).
 * Every kind keeps its threads for the whole run and only one kind hashes at a time (raw
 * threads sleep in Atomics.wait, the Miner's wait for a job). Each measurement warms up
 * (every thread running, then --warmup s) before a --seconds window; rates are hashes counted
 * in the window / its length, and also per CPU-second of this process, which shared machines
 * disturb less. Rounds alternate raw and miner (raw, miner, then miner, raw, ...) so drift
 * in machine load hits both alike. Before timing, the Miner must find and verify a nonce
 * for an easy target, or it gets no number. Prints one JSON line per measurement and a
 * summary on stdout, progress on stderr, and rewrites the "mining" section of the results file.
 */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import { DEFAULT_CHECK_EVERY, Miner } from '../src/consensus/pow/miner.ts'
import { meetsTarget, powHash } from '../src/consensus/pow/pow-hash.ts'
import { BenchError, errorCode, errorMessage } from './lib/errors.ts'
import { ProgressLine } from './lib/progress.ts'
import { commandLine, machineInfo, writeSection, type Machine } from './lib/report.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const GOAL_RATIO = 0.9
const IMPOSSIBLE_TARGET = 0n
const EASY_TARGET = (1n << 256n) / 1000n

const USAGE = `Usage: node --import tsx bench/mining.ts [options]

PoW hashing speed: the Miner's hashrate on worker threads against the raw double-SHA-256
rate of node:crypto on 44-byte inputs, with the same number of threads, in one run.
Round 1 also measures the raw loop with Buffer digests, for reference.

Options:
  --threads N       worker threads for both             (default os.availableParallelism() = ${os.availableParallelism()})
  --seconds S       length of each timed window         (default 5)
  --rounds R        raw + miner measurement pairs       (default 3)
  --warmup S        seconds of hashing before each window (default 1)
  --check-every N   the Miner's attempts between cancel checks (default ${DEFAULT_CHECK_EVERY})
  --out FILE        results file; only its "mining" section is rewritten
                                                        (default bench/RESULTS.md)
  -h, --help        this text
`

interface MiningArgs {
  threads: number
  seconds: number
  rounds: number
  warmup: number
  checkEvery: number
  out: string
  help: boolean
}

function parseMiningArgs(argv: string[]): MiningArgs {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        threads: { type: 'string', default: String(os.availableParallelism()) },
        seconds: { type: 'string', default: '5' },
        rounds: { type: 'string', default: '3' },
        warmup: { type: 'string', default: '1' },
        'check-every': { type: 'string', default: String(DEFAULT_CHECK_EVERY) },
        out: { type: 'string', default: 'bench/RESULTS.md' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (err) {
    throw new BenchError('BAD_ARGS', `${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`)
  }
  return {
    threads: wholeNumber('--threads', values.threads, 1, 256),
    seconds: positiveNumber('--seconds', values.seconds, 3600),
    rounds: wholeNumber('--rounds', values.rounds, 1, 100),
    warmup: positiveNumber('--warmup', values.warmup, 600, true),
    checkEvery: wholeNumber('--check-every', values['check-every'], 1, 1 << 24),
    out: values.out,
    help: values.help,
  }
}

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new BenchError('BAD_ARGS', `${flag} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return n
}

function positiveNumber(flag: string, raw: string, max: number, zeroOk = false): number {
  const n = Number(raw)
  if (!/^\d+(\.\d+)?$/.test(raw) || n > max || (n === 0 && !zeroOk)) {
    throw new BenchError('BAD_ARGS', `${flag} must be a ${zeroOk ? 'non-negative' : 'positive'} number up to ${max}, got "${raw}"`)
  }
  return n
}

// ---------------------------------------------------------------------------------------------
// The raw loops: plain JavaScript evaluated in each worker, so nothing but hashing runs there.
// control[0]: 0 = paused (the thread sleeps in Atomics.wait), 1 = hashing, 2 = exit.

const RAW_BATCH = DEFAULT_CHECK_EVERY
type RawLoop = 'strings' | 'buffers'
const DOUBLE_SHA256: Record<RawLoop, string> = {
  strings: `inner.write(hash('sha256', buf, 'binary'), 0, 'binary'); hash('sha256', inner, 'binary')`,
  buffers: `hash('sha256', hash('sha256', buf, 'buffer'), 'buffer')`,
}

function rawWorkerSource(loop: RawLoop): string {
  return `
const { hash } = require('node:crypto')
const { workerData } = require('node:worker_threads')
// A function, not top-level script code, so its variables are locals the JIT keeps in registers.
function run(control, counters, index, buf) {
  const inner = Buffer.alloc(32)
  let done = 0
  for (;;) {
    const state = Atomics.load(control, 0)
    if (state === 2) return
    if (state === 0) {
      Atomics.wait(control, 0, 0)
      continue
    }
    for (let k = 0; k < ${RAW_BATCH}; k++) {
      buf[43] = k
      ${DOUBLE_SHA256[loop]}
    }
    done += ${RAW_BATCH}
    Atomics.store(counters, index, BigInt(done))
  }
}
run(new Int32Array(workerData.control), new BigInt64Array(workerData.counters), workerData.index, new Uint8Array(workerData.input))
`
}

/** Something that hashes on `threads` threads, counting into shared memory, between start() and stop(). */
interface Hasher {
  start(): void
  perThread(): bigint[]
  stop(): Promise<void>
}

/** The raw threads: started once and paused between measurements, like the Miner's. */
class RawPool implements Hasher {
  private readonly control = new Int32Array(new SharedArrayBuffer(4))
  private readonly counters: BigInt64Array
  private readonly workers: Worker[]
  private failure: Error | undefined

  constructor(threads: number, loop: RawLoop) {
    this.counters = new BigInt64Array(new SharedArrayBuffer(8 * threads))
    const source = rawWorkerSource(loop)
    this.workers = Array.from({ length: threads }, (_, index) => {
      const w = new Worker(source, {
        eval: true,
        execArgv: [],
        workerData: { index, control: this.control.buffer, counters: this.counters.buffer, input: new Uint8Array(randomBytes(44)) },
      })
      w.on('error', (err) => {
        this.failure ??= err
      })
      return w
    })
  }

  start(): void {
    Atomics.store(this.control, 0, 1)
    Atomics.notify(this.control, 0)
  }

  perThread(): bigint[] {
    if (this.failure) throw new Error(`a raw hashing thread failed: ${this.failure.message}`)
    return [...this.counters]
  }

  async stop(): Promise<void> {
    Atomics.store(this.control, 0, 0)
  }

  async close(): Promise<void> {
    Atomics.store(this.control, 0, 2)
    Atomics.notify(this.control, 0)
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

/** The Miner on an impossible job between start() and stop() (cancel; its workers stay). */
class MinerHasher implements Hasher {
  private job: Promise<unknown> | undefined
  private failure: unknown

  constructor(
    private readonly miner: Miner,
    private readonly threads: number,
  ) {}

  start(): void {
    this.job = this.miner.mine({ sealHash: new Uint8Array(randomBytes(32)), bits: 0x1d00ffff, target: IMPOSSIBLE_TARGET }).then(
      (r) => {
        if (r) this.failure = new Error(`the miner met an impossible target with nonce ${r.nonce}`)
      },
      (err: unknown) => {
        this.failure = err
      },
    )
  }

  perThread(): bigint[] {
    if (this.failure) throw this.failure
    return this.miner.stats().perThread.slice(0, this.threads)
  }

  async stop(): Promise<void> {
    this.miner.cancel()
    await this.job
    if (this.failure) throw this.failure
  }
}

// ---------------------------------------------------------------------------------------------

type Kind = 'raw' | 'miner' | 'buffers'

interface Measurement {
  kind: Kind
  round: number
  threads: number
  seconds: number
  hashes: bigint
  hashesPerSec: number
  perThreadPerSec: number[]
  /** Hashes per second of CPU time this process used in the window (all threads). */
  hashesPerCpuSec: number
  /** CPU time / (window x threads): below 1 when other processes took the cores. */
  cpuShare: number
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n)

async function measure(kind: Kind, round: number, hasher: Hasher, args: MiningArgs, ui: ProgressLine): Promise<Measurement> {
  const before = hasher.perThread()
  hasher.start()
  try {
    // Warm-up: every thread has counted a batch since start() (it runs), then --warmup more seconds.
    while (hasher.perThread().some((n, i) => n === before[i])) await sleep(20)
    await sleep(args.warmup * 1000)
    const c0 = hasher.perThread()
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const end = t0 + args.seconds * 1000
    for (let now = t0; now < end; now = performance.now()) {
      await sleep(Math.min(250, end - now))
      const secs = (performance.now() - t0) / 1000
      ui.update(`[${kind} ${round}] ${secs.toFixed(1)}/${args.seconds} s  ${formatRate(Number(sum(hasher.perThread()) - sum(c0)) / secs)}`)
    }
    const c1 = hasher.perThread()
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    const per = c1.map((c, i) => c - c0[i]!)
    const hashes = sum(per)
    const m: Measurement = {
      kind,
      round,
      threads: args.threads,
      seconds,
      hashes,
      hashesPerSec: Number(hashes) / seconds,
      perThreadPerSec: per.map((h) => Number(h) / seconds),
      hashesPerCpuSec: Number(hashes) / cpuSeconds,
      cpuShare: cpuSeconds / (seconds * args.threads),
    }
    ui.done(
      `[${kind} ${round}] ${formatRate(m.hashesPerSec)} on ${args.threads} threads (${m.perThreadPerSec.map(formatRate).join(', ')}); ` +
        `${formatRate(m.hashesPerCpuSec)} per CPU-second, CPU share ${(m.cpuShare * 100).toFixed(0)}%`,
    )
    return m
  } finally {
    await hasher.stop()
  }
}

/** The Miner must find a nonce that verifies before its speed counts. */
async function checkMiner(miner: Miner): Promise<void> {
  const sealHash = new Uint8Array(randomBytes(32))
  const bits = 0x1f00ffff
  const result = await miner.mine({ sealHash, bits, target: EASY_TARGET })
  if (!result || !meetsTarget(powHash(sealHash, bits, result.nonce), EASY_TARGET)) {
    throw new BenchError('VERIFY_FAILED', `the miner returned ${result ? `nonce ${result.nonce}, which does not meet the target` : 'no nonce'} for an easy target`)
  }
}

function formatRate(hps: number): string {
  return hps >= 1e6 ? `${(hps / 1e6).toFixed(2)} MH/s` : `${(hps / 1e3).toFixed(0)} kH/s`
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

function round(n: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

function measurementJson(m: Measurement): string {
  return JSON.stringify({
    bench: 'mining',
    kind: m.kind,
    round: m.round,
    threads: m.threads,
    seconds: round(m.seconds, 3),
    hashes: Number(m.hashes),
    hashesPerSec: Math.round(m.hashesPerSec),
    perThreadPerSec: m.perThreadPerSec.map(Math.round),
    hashesPerCpuSec: Math.round(m.hashesPerCpuSec),
    cpuShare: round(m.cpuShare, 3),
  })
}

interface Summary {
  threads: number
  seconds: number
  rounds: number
  checkEvery: number
  raw: number
  miner: number
  ratio: number
  /** The same per CPU-second: what the miner costs beyond hashing, whatever else runs. */
  rawCpu: number
  minerCpu: number
  cpuRatio: number
  /** The raw loop with Buffer digests. */
  buffers: number
  buffersCpu: number
  measurements: Measurement[]
}

function summarize(ms: Measurement[], args: MiningArgs): Summary {
  const of = (kind: Kind, key: 'hashesPerSec' | 'hashesPerCpuSec') => mean(ms.filter((m) => m.kind === kind).map((m) => m[key]))
  const raw = of('raw', 'hashesPerSec')
  const miner = of('miner', 'hashesPerSec')
  const rawCpu = of('raw', 'hashesPerCpuSec')
  const minerCpu = of('miner', 'hashesPerCpuSec')
  return {
    threads: args.threads,
    seconds: args.seconds,
    rounds: args.rounds,
    checkEvery: args.checkEvery,
    raw,
    miner,
    ratio: miner / raw,
    rawCpu,
    minerCpu,
    cpuRatio: minerCpu / rawCpu,
    buffers: of('buffers', 'hashesPerSec'),
    buffersCpu: of('buffers', 'hashesPerCpuSec'),
    measurements: ms,
  }
}

function renderMiningSection(s: Summary, machine: Machine, command: string): string {
  const rows = s.measurements.map(
    (m) =>
      `| ${m.round} | ${m.kind} | ${formatRate(m.hashesPerSec)} | ${m.perThreadPerSec.map(formatRate).join(', ')} | ` +
      `${formatRate(m.hashesPerCpuSec)} | ${(m.cpuShare * 100).toFixed(0)}% | ${m.seconds.toFixed(2)} |`,
  )
  const met = s.ratio >= GOAL_RATIO
  return [
    '## Mining — PoW hashrate vs raw double SHA-256',
    '',
    `Double SHA-256 (node:crypto \`crypto.hash\`) over the 44-byte mining preimage on ${s.threads} worker threads. ` +
      "**raw**: each thread hashes in a minimal loop and does nothing else, digests as latin1 strings (`crypto.hash(..., 'binary')`, the inner one copied into a reused buffer), as the Miner does. " +
      `**miner**: \`Miner.mine()\` on an impossible target (nonce writes in place, target check, a cancel check every ${s.checkEvery} attempts). ` +
      "**buffers** (round 1 only, for reference): the raw loop with Buffer digests, `crypto.hash(..., 'buffer')` twice, as `sha256d` in src/crypto/hash.ts. " +
      `Each measurement: warm-up, then a ${s.seconds} s window; rate = hashes counted in the window / its length; ` +
      'per CPU-second = hashes / CPU time this process used in the window; CPU share = that CPU time / (window x threads), ' +
      'below 100% when other processes took the cores. ' +
      `${s.rounds} round(s), order alternating; the Miner first found and verified a nonce for an easy target.`,
    '',
    '| round | kind | hashes/s | per thread | per CPU-second | CPU share | seconds |',
    '|---:|---|---:|---|---:|---:|---:|',
    ...rows,
    '',
    `Mean raw: ${formatRate(s.raw)}; mean miner: ${formatRate(s.miner)}. ` +
      `Per CPU-second: raw ${formatRate(s.rawCpu)}, miner ${formatRate(s.minerCpu)} (miner / raw ${(s.cpuRatio * 100).toFixed(1)}%).`,
    '',
    `**Miner / raw: ${(s.ratio * 100).toFixed(1)}%** (goal >= ${GOAL_RATIO * 100}%: ${met ? 'met' : 'NOT met'})`,
    '',
    `With Buffer digests the same loop does ${formatRate(s.buffers)} (${formatRate(s.buffersCpu)} per CPU-second): ` +
      `the Miner gets ${(s.minerCpu / s.buffersCpu).toFixed(2)}x as many hashes per CPU-second.`,
    '',
    `Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.platform}, ${machine.date}`,
    '',
    `Command (from the repo root): \`${command}\``,
  ].join('\n')
}

async function main(): Promise<number> {
  const args = parseMiningArgs(process.argv.slice(2))
  if (args.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const ui = new ProgressLine()
  const miner = new Miner({ threads: args.threads, checkEvery: args.checkEvery })
  const raw = new RawPool(args.threads, 'strings')
  const buffers = new RawPool(args.threads, 'buffers')
  const hashers: Record<Kind, Hasher> = { raw, miner: new MinerHasher(miner, args.threads), buffers }
  const measurements: Measurement[] = []
  try {
    ui.log(`[miner] checking that it finds a valid nonce on ${args.threads} threads`)
    await checkMiner(miner)
    for (let r = 1; r <= args.rounds; r++) {
      const order: Kind[] = r % 2 === 1 ? ['raw', 'miner'] : ['miner', 'raw']
      if (r === 1) order.push('buffers')
      for (const kind of order) {
        const m = await measure(kind, r, hashers[kind], args, ui)
        measurements.push(m)
        process.stdout.write(`${measurementJson(m)}\n`)
      }
    }
  } finally {
    await Promise.all([miner.close(), raw.close(), buffers.close()])
  }
  const s = summarize(measurements, args)
  process.stdout.write(
    `${JSON.stringify({
      bench: 'mining',
      kind: 'summary',
      threads: s.threads,
      seconds: s.seconds,
      rounds: s.rounds,
      checkEvery: s.checkEvery,
      rawHashesPerSec: Math.round(s.raw),
      minerHashesPerSec: Math.round(s.miner),
      ratio: round(s.ratio, 4),
      rawHashesPerCpuSec: Math.round(s.rawCpu),
      minerHashesPerCpuSec: Math.round(s.minerCpu),
      cpuRatio: round(s.cpuRatio, 4),
      buffersHashesPerSec: Math.round(s.buffers),
      buffersHashesPerCpuSec: Math.round(s.buffersCpu),
      goal: GOAL_RATIO,
      met: s.ratio >= GOAL_RATIO,
    })}\n`,
  )
  ui.log(`miner / raw = ${(s.ratio * 100).toFixed(1)}% (${formatRate(s.miner)} / ${formatRate(s.raw)}; goal >= ${GOAL_RATIO * 100}%); Buffer digests: ${formatRate(s.buffers)}`)
  const out = path.resolve(args.out)
  await writeSection(out, 'mining', renderMiningSection(s, machineInfo(), commandLine(REPO_ROOT)))
  ui.log(`wrote the mining section of ${path.relative(process.cwd(), out) || out}`)
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`mining: ${errorCode(err)}: ${errorMessage(err)}\n`)
    process.exitCode = 2
  },
)
