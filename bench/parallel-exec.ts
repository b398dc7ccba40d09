/**
 * Parallel block execution (src/execution/parallel, issue 13 item 4): how fast a block of
 * transfers executes with the txs of each batch on 2 worker threads against 1, on two loads.
 *
 *   node --import tsx bench/parallel-exec.ts [--txs 1400] [--rounds 5] [--chunk 256]
 *        [--modes in-order,in-place,workers-1,workers-2] [--loads conflict-free,all-conflicting]
 *        [--label L] [--out bench/RESULTS.md]
 *
 * conflict-free:   --txs transfers, each from its own funded sender to its own fresh recipient:
 *                  one batch, split across the workers.
 * all-conflicting: --txs transfers from as many senders, all to one recipient, which each
 *                  writes: --txs batches of one tx, each waiting for the one before (so, by
 *                  design, no worker helps: about 1x is the expected answer).
 * Modes: in-order (Executor.build, the reference), in-place (parallel rules on the calling
 * thread), workers-1 and workers-2 (ParallelExecutor on 1 and 2 threads).
 *
 * The chain is a dev chain on LevelDB in a temp dir; the senders are funded in committed
 * blocks first; the txs are signed and their senders recovered before timing (as the mempool
 * has them). Every measurement builds the same block on the same parent (nothing committed),
 * after two untimed builds per mode (threads start, JIT); rounds rotate the order of modes.
 * Each run reports the block's execution time (txs, rewards, state root) and, for the
 * parallel modes, the tx phase alone; every mode must give the same state root. CPU time is
 * the whole process's (all threads) during the run. Prints one JSON line per run and one per
 * load and mode with medians on stdout, progress on stderr, and rewrites the "parallel-exec"
 * section of the results file.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createFeeMarket1559Tx, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bytesToHex, createAddressFromPrivateKey, utf8ToBytes } from '@ethereumjs/util'
import { keccak256 } from '../src/crypto/hash.ts'
import type { BlockExecution, BlockExecutionParams, TxSource } from '../src/execution/index.ts'
import { ParallelExecutor, type ParallelBlockExecution } from '../src/execution/parallel/index.ts'
import { withCachedSender } from '../src/execution/tx-sender.ts'
import { LevelStore } from '../src/storage/index.ts'
import { KEYS, PRODUCER, openTestChain, produceBlock, type TestChain } from '../test/helpers/chain.ts'
import { BenchError, errorCode, errorMessage } from './lib/errors.ts'
import { ProgressLine } from './lib/progress.ts'
import { commandLine, machineInfo, writeSection, type Machine } from './lib/report.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const GOAL = 1.6
const MODES = ['in-order', 'in-place', 'workers-1', 'workers-2'] as const
const LOADS = ['conflict-free', 'all-conflicting'] as const
type Mode = (typeof MODES)[number]
type Load = (typeof LOADS)[number]

const USAGE = `Usage: node --import tsx bench/parallel-exec.ts [options]

Execution time of one block of value transfers: in order (Executor), and in parallel batches
on the calling thread, on 1 and on 2 worker threads; a conflict-free load and an
all-conflicting one.

Options:
  --txs N       transfers in the block                       (default 1400, a full 30M-gas block)
  --rounds R    timed builds per load and mode                (default 5)
  --chunk N     most txs per chunk shipped to a worker        (default 256)
  --modes LIST  comma-separated, of ${MODES.join(', ')}   (default all)
  --loads LIST  comma-separated, of ${LOADS.join(', ')}       (default both)
  --label L     a name for this run in the results section   (default none)
  --out FILE    results file; only its "parallel-exec" section is rewritten (default bench/RESULTS.md)
  -h, --help    this text
`

interface Args {
  txs: number
  rounds: number
  chunk: number
  modes: Mode[]
  loads: Load[]
  label?: string
  out: string
  help: boolean
}

function parse(argv: string[]): Args {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        txs: { type: 'string', default: '1400' },
        rounds: { type: 'string', default: '5' },
        chunk: { type: 'string', default: '256' },
        modes: { type: 'string', default: MODES.join(',') },
        loads: { type: 'string', default: LOADS.join(',') },
        label: { type: 'string' },
        out: { type: 'string', default: 'bench/RESULTS.md' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (err) {
    throw new BenchError('BAD_ARGS', `${errorMessage(err)}\n\n${USAGE}`)
  }
  return {
    txs: whole('--txs', values.txs, 2, 20_000),
    rounds: whole('--rounds', values.rounds, 1, 100),
    chunk: whole('--chunk', values.chunk, 1, 20_000),
    modes: list('--modes', values.modes, MODES),
    loads: list('--loads', values.loads, LOADS),
    ...(values.label ? { label: values.label } : {}),
    out: values.out,
    help: values.help,
  }
}

function whole(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new BenchError('BAD_ARGS', `${flag} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return n
}

function list<T extends string>(flag: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean)
  const bad = items.filter((s) => !allowed.includes(s as T))
  if (items.length === 0 || bad.length > 0) throw new BenchError('BAD_ARGS', `${flag} takes a comma-separated list of ${allowed.join(', ')}; got "${raw}"`)
  return items as T[]
}

interface Run {
  load: Load
  mode: Mode
  round: number
  blockMs: number
  /** Parallel modes: the tx phase alone. */
  phaseMs?: number
  cpuMs: number
  batches?: number
  timing?: ParallelBlockExecution['plan']['timing']
}

interface Summary {
  load: Load
  mode: Mode
  blockMs: number
  phaseMs?: number
  txPerSec: number
  phaseTxPerSec?: number
  cpuMsPerTx: number
  timing?: Record<string, number>
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
const round1 = (x: number) => Math.round(x * 10) / 10

/** What the mempool hands the builder: decoded txs with their senders recovered once. */
function signed(t: TestChain, key: Uint8Array, nonce: bigint, to: Uint8Array, value: bigint): TypedTransaction {
  const tx = createFeeMarket1559Tx(
    { nonce, to: new Address(to), value, gasLimit: 21_000n, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n, chainId: t.common.chainId() },
    { common: t.common },
  ).sign(key)
  const raw = tx.serialize()
  const decoded = withCachedSender(createTxFromRLP(raw, { common: t.common, freeze: false }), raw)
  decoded.getSenderAddress()
  return decoded
}

function source(txs: TypedTransaction[]): TxSource {
  let i = 0
  return { next: () => txs[i++], skipSender: () => {} }
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2))
  if (args.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const ui = new ProgressLine()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'catena-parallel-exec-'))
  const store = await LevelStore.open(path.join(dir, 'db'))
  const executors: ParallelExecutor[] = []
  try {
    const t = await openTestChain({ store })
    ui.log(`[setup] funding ${args.txs} senders`)
    const keys = Array.from({ length: args.txs }, (_, i) => keccak256(utf8ToBytes(`catena/bench/parallel-exec/${i}`)))
    const senders = keys.map((k) => createAddressFromPrivateKey(k).bytes)
    const nonces = KEYS.map(() => 0n)
    for (let start = 0; start < senders.length; start += 1000) {
      const txs = senders.slice(start, start + 1000).map((to, j) => {
        const from = (start + j) % KEYS.length
        return signed(t, KEYS[from]!, nonces[from]!++, to, 10n ** 18n)
      })
      const produced = await produceBlock(t, txs)
      if (produced.rejected.length > 0) throw new BenchError('INSUFFICIENT_FUNDS', `funding failed: ${produced.rejected[0]!.reason}`)
    }
    const recipient = (i: number) => keccak256(utf8ToBytes(`catena/bench/parallel-exec/to/${i}`)).subarray(12)
    const loads: Record<Load, TypedTransaction[]> = {
      'conflict-free': keys.map((k, i) => signed(t, k, 0n, recipient(i), 1n)),
      'all-conflicting': keys.map((k) => signed(t, k, 0n, recipient(-1), 1n)),
    }
    const head = t.chain.head
    const params: BlockExecutionParams = {
      parentStateRoot: head.header.stateRoot,
      parentHash: head.hash,
      height: head.header.height + 1n,
      timestamp: head.header.timestamp + 1n,
      producer: PRODUCER,
      gasLimit: BigInt(Math.max(30_000_000, args.txs * 21_000)),
      baseFee: 7n,
      reward: 2n * 10n ** 18n,
      baseFeeBurn: true,
      maxTxBytes: 64 * 1024 * 1024,
    }
    const o = { store, hashAt: (h: bigint) => t.chain.getHashAt(h), chunkSize: args.chunk }
    const build: Record<Mode, (txs: TypedTransaction[]) => Promise<BlockExecution | ParallelBlockExecution>> = {
      'in-order': (txs) => t.executor.build(params, source(txs)),
      'in-place': (txs) => parallel(0).build(params, source(txs)),
      'workers-1': (txs) => parallel(1).build(params, source(txs)),
      'workers-2': (txs) => parallel(2).build(params, source(txs)),
    }
    const made = new Map<number, ParallelExecutor>()
    function parallel(threads: number): ParallelExecutor {
      let p = made.get(threads)
      if (!p) {
        p = new ParallelExecutor(t.executor, { ...o, threads })
        made.set(threads, p)
        executors.push(p)
      }
      return p
    }

    const runs: Run[] = []
    for (const load of args.loads) {
      const txs = loads[load]
      let root: string | undefined
      for (const mode of args.modes) {
        ui.update(`[${load}] warming up ${mode}`)
        for (let w = 0; w < 2; w++) check(await build[mode](txs))
      }
      for (let r = 1; r <= args.rounds; r++) {
        const order = args.modes.map((_, i) => args.modes[(i + r - 1) % args.modes.length]!)
        for (const mode of order) {
          ui.update(`[${load}] round ${r}/${args.rounds}: ${mode}`)
          const cpu0 = process.cpuUsage()
          const t0 = performance.now()
          const exec = check(await build[mode](txs))
          const blockMs = performance.now() - t0
          const cpu = process.cpuUsage(cpu0)
          const plan = 'plan' in exec ? (exec as ParallelBlockExecution).plan : undefined
          const run: Run = {
            load, mode, round: r, blockMs, cpuMs: (cpu.user + cpu.system) / 1000,
            ...(plan ? { phaseMs: plan.timing.phaseMs, batches: plan.batches.length, timing: plan.timing } : {}),
          }
          runs.push(run)
          process.stdout.write(`${JSON.stringify({ bench: 'parallel-exec', kind: 'run', txs: args.txs, ...run, blockMs: round1(blockMs), cpuMs: round1(run.cpuMs), phaseMs: run.phaseMs && round1(run.phaseMs), timing: undefined })}\n`)
        }
      }
      ui.done(`[${load}] done`)

      function check(exec: BlockExecution): BlockExecution {
        if (exec.txs.length !== txs.length) throw new BenchError('VERIFY_FAILED', `${load}: ${exec.txs.length} of ${txs.length} txs included (${exec.rejected[0]?.reason ?? 'none rejected'})`)
        const r = bytesToHex(exec.stateRoot)
        if (root !== undefined && r !== root) throw new BenchError('VERIFY_FAILED', `${load}: the modes disagree on the state root`)
        root = r
        return exec
      }
    }

    const summaries = summarize(runs, args)
    for (const s of summaries) process.stdout.write(`${JSON.stringify({ bench: 'parallel-exec', kind: 'summary', txs: args.txs, ...s })}\n`)
    const ratios = ratiosOf(summaries)
    process.stdout.write(`${JSON.stringify({ bench: 'parallel-exec', kind: 'ratios', txs: args.txs, goal: GOAL, ...ratios })}\n`)
    for (const [load, r] of Object.entries(ratios)) {
      ui.log(`[${load}] workers-2 / workers-1: block ${r.block?.toFixed(2) ?? '-'}x, tx phase ${r.phase?.toFixed(2) ?? '-'}x`)
    }
    const out = path.resolve(args.out)
    await writeSection(out, 'parallel-exec', render(summaries, ratios, args, machineInfo(), commandLine(REPO_ROOT)))
    ui.log(`wrote the parallel-exec section of ${path.relative(process.cwd(), out) || out}`)
    return 0
  } finally {
    await Promise.all(executors.map((e) => e.close()))
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

function summarize(runs: Run[], args: Args): Summary[] {
  const out: Summary[] = []
  for (const load of args.loads) {
    for (const mode of args.modes) {
      const rs = runs.filter((r) => r.load === load && r.mode === mode)
      if (rs.length === 0) continue
      const blockMs = median(rs.map((r) => r.blockMs))
      const phases = rs.map((r) => r.phaseMs).filter((x): x is number => x !== undefined)
      const phaseMs = phases.length > 0 ? median(phases) : undefined
      const timing = rs[0]!.timing
        ? Object.fromEntries(Object.keys(rs[0]!.timing).map((k) => [k, round1(median(rs.map((r) => (r.timing as unknown as Record<string, number>)[k]!)))]))
        : undefined
      out.push({
        load, mode,
        blockMs: round1(blockMs),
        txPerSec: Math.round(args.txs / (blockMs / 1000)),
        ...(phaseMs !== undefined ? { phaseMs: round1(phaseMs), phaseTxPerSec: Math.round(args.txs / (phaseMs / 1000)) } : {}),
        cpuMsPerTx: Math.round((median(rs.map((r) => r.cpuMs)) / args.txs) * 1000) / 1000,
        ...(timing ? { timing } : {}),
      })
    }
  }
  return out
}

type Ratios = Record<string, { block?: number; phase?: number }>

/** workers-2 over workers-1, per load: throughput ratios of the whole block and of the tx phase. */
function ratiosOf(summaries: Summary[]): Ratios {
  const out: Ratios = {}
  for (const load of LOADS) {
    const one = summaries.find((s) => s.load === load && s.mode === 'workers-1')
    const two = summaries.find((s) => s.load === load && s.mode === 'workers-2')
    if (!one || !two) continue
    out[load] = {
      block: Math.round((one.blockMs / two.blockMs) * 100) / 100,
      ...(one.phaseMs && two.phaseMs ? { phase: Math.round((one.phaseMs / two.phaseMs) * 100) / 100 } : {}),
    }
  }
  return out
}

function render(summaries: Summary[], ratios: Ratios, args: Args, machine: Machine, command: string): string {
  const rows = summaries.map((s) => {
    const t = s.timing
    const where = t ? `fill ${t.fillMs}, schedule ${t.scheduleMs}, prepare ${t.prepareMs}, wait ${t.waitMs}, in place ${t.inPlaceMs}, merge ${t.mergeMs}; workers ${t.workersMs}` : '—'
    return `| ${s.load} | ${s.mode} | ${s.blockMs} | ${s.txPerSec} | ${s.phaseMs ?? '—'} | ${s.phaseTxPerSec ?? '—'} | ${s.cpuMsPerTx} | ${where} |`
  })
  const ratioLines = Object.entries(ratios).map(([load, r]) => {
    const met = load === 'conflict-free' ? ` (goal >= ${GOAL}x: ${(r.block ?? 0) >= GOAL ? 'met' : 'NOT met'} for the block, ${(r.phase ?? 0) >= GOAL ? 'met' : 'NOT met'} for the tx phase)` : ' (expected about 1x)'
    return `- **${load}: workers-2 / workers-1 = ${r.block?.toFixed(2)}x for the block, ${r.phase?.toFixed(2)}x for the tx phase**${met}`
  })
  return [
    '## Parallel execution — Sealevel-style batches on worker threads',
    '',
    `One block of ${args.txs} value transfers (21,000 gas each), built on the same parent every time (nothing committed), on a dev chain in LevelDB; senders funded and txs signed and recovered before timing. ` +
      '**conflict-free**: every tx from its own sender to its own new recipient (one batch). **all-conflicting**: every tx to one recipient (each batch one tx, which runs on the calling thread). ' +
      '**in-order**: `Executor.build`; **in-place**: `ParallelExecutor` with 0 threads (same rules, calling thread); **workers-N**: `ParallelExecutor` on N threads, ' +
      `chunks of at most ${args.chunk} txs. Block = the whole execution (txs, rewards, state root); tx phase = the txs alone. Medians of ${args.rounds} rounds after 2 warm-up builds per mode; ` +
      'CPU = the process (all threads) per tx. The phase breakdown is the calling thread\'s ms (median), "workers" the chunks\' run time summed over threads. Every mode gave the same state root.' +
      (args.label ? ` Label: ${args.label}.` : ''),
    '',
    '| load | mode | block ms | block tx/s | tx phase ms | tx phase tx/s | CPU ms/tx | where the tx phase went (ms) |',
    '|---|---|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
    ...ratioLines,
    '',
    `Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.platform}, ${machine.date}; load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    '',
    `Command (from the repo root): \`${command}\``,
  ].join('\n')
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`parallel-exec: ${errorCode(err)}: ${errorMessage(err)}\n`)
    process.exitCode = err instanceof BenchError && err.code === 'BAD_ARGS' ? 2 : 1
  },
)
