/**
 * A 4-validator `solana-like` (PoH) network and the 4-validator `consortium` (BFT) network under
 * the same open-loop load, one network at a time, in one run: final tx/s, submit-to-confirmed and
 * submit-to-finalized.
 *
 *   node --import tsx bench/poh-vs-bft.ts [--rate 50[,100,...]] [--seconds 20] [--chains solana-like,consortium]
 *        [--batch 25] [--grace 120] [--poll-ms 100] [--out bench/RESULTS.md] [--logs DIR] [--all-rates] ...
 *
 * Method, for each rate and each chain in turn (bench/bft.ts's machinery, bench/lib):
 * 1. Start the chain's 4 validators (fresh temp datadirs, validator 0 the bootnode) and wait
 *    until every one has a final block (PoH: 32 lockouts after the first votes).
 * 2. Pre-sign rate x seconds EIP-1559 transfers (21,000 gas, tip 0, each to a new address) from
 *    fresh senders pinned to a validator; fee cap 0 on the free-gas consortium chain, on PoH
 *    max(10 x the head's base fee, 10 gwei). Accounts 4..19 fund the senders; the funding must be
 *    final (canonical, at or below the finalized height) before the clock starts.
 * 3. Open loop as in bft.ts: transfer i is sent at i / rate s in JSON-RPC batches.
 * 4. Finality from validator 0's `safe` and `finalized` tags (bench/lib/tag-follower.ts), read
 *    every --poll-ms and on every new head; confirmed and final blocks are found by walking
 *    parent hashes back from the tagged block, so orphaned blocks never count.
 * 5. Afterwards: every final tx's receipt names the block seen final, which is canonical and at
 *    or below the finalized height; every validator has the same block at their common
 *    finalized height; PoH: slots, blocks, reorgs and votes from catena_pohStatus.
 *
 * Prints one JSON line on stdout, progress on stderr, and rewrites the "poh-vs-bft" section of --out.
 * Exit status: 0 when every run's txs all became final and checked out, 1 otherwise, 2 for bad options.
 */
import { mkdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as delay } from 'node:timers/promises'
import { TEST_MNEMONIC, deriveKeys } from '../src/wallet/hd.ts'
import {
  BatchRpc,
  MAX_TXS_PER_SENDER,
  account,
  buildLoadPlan,
  fundSenders,
  runOpenLoop,
  sendersFor,
  summarizeRun,
  type BftResult,
  type LoadProgress,
} from './lib/bft-load.ts'
import {
  bftChainKeys,
  checkAgreement,
  chooseRunner,
  cpuSeconds,
  killBftNetworksSync,
  startBftNetwork,
  summarizeNodeLog,
  waitForHeight,
  type BftNetwork,
  type Runner,
  type RunnerChoice,
} from './lib/bft-network.ts'
import { cpuUsed, type CpuSample } from './lib/cpu.ts'
import { BenchError, errorCode, errorMessage } from './lib/errors.ts'
import { checkFinalReceipts, waitTxsFinal } from './lib/final-receipts.ts'
import { carried, pohVsBftJsonLine, renderPohVsBftSection, runOk, type ChainRun, type PohCounts } from './lib/poh-vs-bft-report.ts'
import { ProgressLine } from './lib/progress.ts'
import { commandLine, machineInfo, writeSection } from './lib/report.ts'
import { quantity } from './lib/rpc.ts'
import { TagFollower } from './lib/tag-follower.ts'
import { REPO_ROOT } from './lib/targets.ts'

const VALIDATORS = 4
/** Accounts of the test mnemonic that fund the senders (0..3 are the validators of both chains). */
const FUNDERS = { from: 4, to: 19 }
const SENDER_INDEX_START = 20
const FUND_EACH = 10n ** 18n
const GWEI = 10n ** 9n

const USAGE = `Usage: node --import tsx bench/poh-vs-bft.ts [options]

Runs a 4-validator solana-like (PoH) network and the 4-validator consortium (BFT) network on this
machine, one after the other, offers each the same open-loop load of pre-signed transfers and
measures final tx/s, submit-to-confirmed and submit-to-finalized.

Options:
  --rate LIST         transfers per second offered; a comma-separated list runs every
                      chain at each rate, lowest first                    (default 50)
  --seconds S         seconds of sending; rate x seconds transfers        (default 20)
  --chains LIST       chains to run, in this order (4-validator bft or poh chains whose
                      validators are test-mnemonic accounts)   (default solana-like,consortium)
  --batch N           eth_sendRawTransaction calls per JSON-RPC batch, 1..1000 (default 25)
  --grace S           seconds after sending stops before unfinalized txs count as lost
                      (PoH finality takes 13 s at best, 30+ on a busy machine) (default 120)
  --poll-ms MS        read validator 0's safe and finalized blocks this often (and on
                      every new head)                                     (default 100)
  --out FILE          results file; only its "poh-vs-bft" section is rewritten (default bench/RESULTS.md)
  --runner R          auto | dist | source (as bench/bft.ts)              (default auto)
  --logs DIR          keep every run's validator logs in DIR/<chain>-<rate>/ (failed runs
                      keep theirs in bench/.work/ anyway)
  --start-timeout S   seconds to wait for a network to finalize blocks    (default 180)
  --all-rates         run a chain at every rate, also above one it did not carry
                      (default: skip those, they take minutes each)
  -h, --help          this text
`

interface Args {
  rates: number[]
  seconds: number
  chains: string[]
  batch: number
  grace: number
  pollMs: number
  out: string
  runner: RunnerChoice
  logs?: string
  startTimeout: number
  allRates: boolean
  help: boolean
}

function parseCliArgs(argv: string[]): Args {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        rate: { type: 'string', default: '50' },
        seconds: { type: 'string', default: '20' },
        chains: { type: 'string', default: 'solana-like,consortium' },
        batch: { type: 'string', default: '25' },
        grace: { type: 'string', default: '120' },
        'poll-ms': { type: 'string', default: '100' },
        out: { type: 'string', default: 'bench/RESULTS.md' },
        runner: { type: 'string', default: 'auto' },
        logs: { type: 'string' },
        'start-timeout': { type: 'string', default: '180' },
        'all-rates': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (err) {
    throw new BenchError('BAD_ARGS', `${errorMessage(err)}\n\n${USAGE}`)
  }
  const runner = values.runner
  if (runner !== 'auto' && runner !== 'dist' && runner !== 'source') throw new BenchError('BAD_ARGS', `--runner must be auto, dist or source, got "${runner}"`)
  const rates = values.rate.split(',').map((r) => positiveNumber('--rate', r.trim(), 100_000))
  if (new Set(rates).size !== rates.length) throw new BenchError('BAD_ARGS', `--rate lists a rate twice: ${values.rate}`)
  const chains = values.chains.split(',').map((c) => c.trim()).filter(Boolean)
  if (chains.length === 0 || new Set(chains).size !== chains.length) throw new BenchError('BAD_ARGS', `--chains must name each chain once, got "${values.chains}"`)
  const args: Args = {
    rates: rates.sort((a, b) => a - b),
    seconds: positiveNumber('--seconds', values.seconds, 3600),
    chains,
    batch: wholeNumber('--batch', values.batch, 1, 1000),
    grace: positiveNumber('--grace', values.grace, 3600),
    pollMs: wholeNumber('--poll-ms', values['poll-ms'], 10, 10_000),
    out: values.out,
    runner,
    logs: values.logs,
    startTimeout: positiveNumber('--start-timeout', values['start-timeout'], 3600),
    allRates: values['all-rates'],
    help: values.help,
  }
  for (const rate of args.rates) {
    const txs = Math.round(rate * args.seconds)
    if (txs < 1) throw new BenchError('BAD_ARGS', `--rate ${rate} x --seconds ${args.seconds} is less than one transfer`)
    // 16 funders, each at most 63 funding txs ahead in the mempool.
    if (Math.ceil(sendersFor(txs, VALIDATORS) / (FUNDERS.to - FUNDERS.from + 1)) >= 64) {
      throw new BenchError('BAD_ARGS', `--rate ${rate} x --seconds ${args.seconds}: ${txs} transfers need more senders than the funders can fund in one go (at most ${63 * 16 * MAX_TXS_PER_SENDER} transfers)`)
    }
  }
  return args
}

function positiveNumber(flag: string, raw: string, max: number): number {
  const n = Number(raw)
  if (!/^\d+(\.\d+)?$/.test(raw) || !(n > 0) || n > max) throw new BenchError('BAD_ARGS', `${flag} must be a number above 0 and at most ${max}, got "${raw}"`)
  return n
}

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new BenchError('BAD_ARGS', `${flag} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return n
}

/** The highest height every validator calls final. */
async function finalizedHeights(net: BftNetwork): Promise<bigint[]> {
  return Promise.all(
    net.validators.map(async (v) => quantity((await v.rpc.call<{ number?: unknown } | null>('eth_getBlockByNumber', ['finalized', false]))?.number, 'the finalized block number')),
  )
}

/** Waits until every validator has finalized a block at `height` or above. */
async function waitForFinalized(net: BftNetwork, height: bigint, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: bigint[] = []
  for (;;) {
    last = await finalizedHeights(net).catch(() => last)
    if (last.length === net.validators.length && last.every((h) => h >= height)) return
    if (Date.now() > deadline) throw new BenchError('START_FAILED', `the validators did not finalize height ${height} within ${timeoutMs / 1000} s (finalized heights ${last.join(', ') || 'unknown'})`)
    await delay(250)
  }
}

interface PohStatusFields {
  slot?: unknown
  produced?: unknown
  reorgs?: unknown
  votesSent?: unknown
  votesRejected?: unknown
}

/** catena_pohStatus of every validator (undefined for a validator that does not answer). */
async function pohStatuses(net: BftNetwork): Promise<Array<PohStatusFields | undefined>> {
  return Promise.all(net.validators.map((v) => v.rpc.call<PohStatusFields>('catena_pohStatus').catch(() => undefined)))
}

function pohCounts(before: Array<PohStatusFields | undefined>, after: Array<PohStatusFields | undefined>, blocks: number): PohCounts {
  const n = (s: PohStatusFields | undefined, k: keyof PohStatusFields) => (typeof s?.[k] === 'number' ? (s[k] as number) : 0)
  const sum = (k: keyof PohStatusFields) => after.reduce((a, s, i) => a + n(s, k) - n(before[i], k), 0)
  return { slots: n(after[0], 'slot') - n(before[0], 'slot'), blocks, produced: sum('produced'), reorgs: sum('reorgs'), votesSent: sum('votesSent'), votesRejected: sum('votesRejected') }
}

/** One line per validator: head, finalized height and (PoH) its clock, confirmation levels, tower root and counters. */
async function networkState(net: BftNetwork): Promise<string[]> {
  const lines = await Promise.all(
    net.validators.map(async (v) => {
      const [head, fin, poh] = await Promise.all([
        v.rpc.call('eth_blockNumber').then((h) => String(quantity(h, 'eth_blockNumber')), (e: unknown) => `? (${errorMessage(e)})`),
        v.rpc.call<{ number?: unknown } | null>('eth_getBlockByNumber', ['finalized', false]).then((b) => String(quantity(b?.number, 'finalized')), () => '?'),
        net.chain.engine === 'poh' ? v.rpc.call<Record<string, unknown>>('catena_pohStatus').catch(() => undefined) : Promise.resolve(undefined),
      ])
      const p = poh
        ? ` slot ${String(poh.slot)} headSlot ${String(poh.headSlot)} confirmedSlot ${String(poh.confirmedSlot)} finalizedSlot ${String(poh.finalizedSlot)} rootSlot ${String(poh.rootSlot)}` +
          ` tower root ${String((poh.tower as { root?: unknown } | null)?.root)} votes in/sent/rejected ${String(poh.votesIn)}/${String(poh.votesSent)}/${String(poh.votesRejected)} reorgs ${String(poh.reorgs)} produced ${String(poh.produced)}`
        : ''
      return `validator ${v.index}: head ${head} finalized ${fin}${p}`
    }),
  )
  return lines
}

const loadavg = () => os.loadavg().map((x) => Math.round(x * 100) / 100)

function progressText(tag: string, p: LoadProgress): string {
  const secs = p.elapsedMs / 1000
  return (
    `${tag} ${secs.toFixed(1)} s  sent ${p.sent}/${p.total}  confirmed ${p.confirmed ?? 0}  final ${p.final} (${secs > 0 ? Math.round(p.final / secs) : 0}/s)` +
    `  refused ${p.rejected}  finalized height ${p.height} (last final block ${p.lastBlockTxs} txs)`
  )
}

interface RunContext {
  args: Args
  runner: Runner
  ui: ProgressLine
  stamp: string
}

/** One chain at one rate, on a fresh network that is stopped before this returns. */
async function runChain(chain: string, rate: number, c: RunContext): Promise<ChainRun> {
  const { args, ui } = c
  const tag = `[${chain} @${rate}/s]`
  const { info } = bftChainKeys(chain, VALIDATORS)
  const txs = Math.round(rate * args.seconds)
  const senders = sendersFor(txs, VALIDATORS)
  const result: BftResult = { ok: false, rate, seconds: args.seconds, validators: VALIDATORS, batch: args.batch, senders, graceSeconds: args.grace, txs, runner: c.runner.reason }
  const run: ChainRun = {
    chain,
    engine: info.engine,
    chainId: info.chainId.toString(),
    blockTimeMs: info.blockTimeMs,
    commitMs: info.timeouts?.commitMs,
    blockGasLimit: info.blockGasLimit.toString(),
    feeCap: '0',
    result,
    violations: [],
    load: { before: loadavg() },
  }
  let net: BftNetwork | undefined
  try {
    ui.log(`${tag} starting ${VALIDATORS} validators (load average ${run.load.before.join(' ')})`)
    const t0 = performance.now()
    net = await startBftNetwork({ chain, validators: VALIDATORS, runner: c.runner, startTimeoutMs: args.startTimeout * 1000 })
    await waitForHeight(net, 2n, args.startTimeout * 1000)
    await waitForFinalized(net, 1n, args.startTimeout * 1000)
    run.startSeconds = (performance.now() - t0) / 1000
    ui.log(`${tag} every validator has final blocks after ${run.startSeconds.toFixed(1)} s`)

    const v0 = net.validators[0]!
    const head = await v0.rpc.call<{ baseFeePerGas?: unknown }>('eth_getBlockByNumber', ['latest', false])
    const baseFee = head.baseFeePerGas === undefined ? 0n : quantity(head.baseFeePerGas, 'baseFeePerGas')
    // Far above the base fee, which only falls while blocks stay under half full (all runs here).
    const feeCap = baseFee === 0n ? 0n : (10n * baseFee > 10n * GWEI ? 10n * baseFee : 10n * GWEI)
    run.feeCap = feeCap.toString()
    const funders = await Promise.all(
      deriveKeys(TEST_MNEMONIC, FUNDERS.to - FUNDERS.from + 1, { start: FUNDERS.from }).map(async (k) => {
        const a = account(k.privateKey)
        return { ...a, nonce: Number(quantity(await v0.rpc.call('eth_getTransactionCount', [a.address, 'latest']), 'eth_getTransactionCount')) }
      }),
    )
    const senderAccounts = deriveKeys(TEST_MNEMONIC, senders, { start: SENDER_INDEX_START }).map((k) => account(k.privateKey))
    const plan = buildLoadPlan({ chainId: Number(info.chainId), txs, validators: VALIDATORS, batch: args.batch, funders, senders: senderAccounts, fundEach: FUND_EACH, maxFeePerGas: feeCap })

    const endpoints = net.validators.map((v) => new BatchRpc(v.rpcUrl, { maxSockets: 32 }))
    try {
      const t1 = performance.now()
      await fundSenders(endpoints[0]!, plan.funding, 120_000)
      const t2 = performance.now()
      await waitTxsFinal(endpoints[0]!, plan.funding.map((t) => t.hash), 180_000)
      const secs = (a: number, b: number) => ((b - a) / 1000).toFixed(1)
      ui.log(`${tag} funded ${senders} senders: in blocks after ${secs(t1, t2)} s, final after ${secs(t1, performance.now())} s; sending ${plan.total} transfers (fee cap ${feeCap} wei)`)

      const network = net
      const pohBefore = info.engine === 'poh' ? await pohStatuses(network) : undefined
      const heightBefore = Number(quantity(await v0.rpc.call('eth_blockNumber'), 'eth_blockNumber'))
      const cpuAt = (elapsedMs: number): CpuSample => ({ elapsedMs, validators: cpuSeconds(network), generator: process.cpuUsage() })
      const samples = [cpuAt(0)]
      let follower: TagFollower | undefined
      const loadRun = await runOpenLoop(plan, {
        rate,
        graceSeconds: args.grace,
        endpoints,
        follower: {
          create: (sink) =>
            (follower = new TagFollower({ rpc: v0.rpc, wsUrl: v0.wsUrl, pollMs: args.pollMs, onViolation: (t) => ui.log(`${tag} FINALITY VIOLATION: ${t}`) }, sink)),
        },
        onProgress: (p) => {
          samples.push(cpuAt(p.elapsedMs))
          ui.update(progressText(tag, p))
        },
        onWarning: (w) => ui.log(`${tag} warning: ${w}`),
      })
      run.violations = follower?.violations ?? []
      const summary = summarizeRun(loadRun, info.blockGasLimit)
      samples.push(cpuAt(loadRun.endAt))
      Object.assign(result, summary)
      result.websocketProblem = loadRun.websocketProblem
      result.cpu = cpuUsed(samples, summary.span === undefined ? loadRun.endAt : summary.span * 1000 + 500, summary.final ?? 0)
      if (pohBefore) {
        const heightAfter = Number(quantity(await v0.rpc.call('eth_blockNumber'), 'eth_blockNumber'))
        run.poh = pohCounts(pohBefore, await pohStatuses(network), heightAfter - heightBefore)
      }
      const check = await checkFinalReceipts(endpoints[0]!, loadRun.outcomes)
      run.receipts = { checked: check.checked, mismatched: check.mismatches.length }
      result.failures = [...(result.failures ?? []), ...check.mismatches]
      result.agreement = await checkAgreement(network, 'finalized')
      const lastTxBlock = loadRun.outcomes.reduce((a, t) => Math.max(a, t.finalHeight ?? 0), 0)
      run.agreementCoversTxs = result.agreement.height >= lastTxBlock
      result.ok = runOk(run)
      if (!result.ok) {
        run.stateAtEnd = await networkState(network)
        ui.log(`${tag} the validators at the end:\n  ${run.stateAtEnd.join('\n  ')}`)
      }
      const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(2))
      ui.done(
        `${tag} ${result.final}/${txs} final, ${result.finalTps?.toFixed(0) ?? '—'} final tx/s (steady ${result.steadyTps?.toFixed(0) ?? '—'}, offered ${result.offeredTps?.toFixed(0) ?? '—'}), ` +
          `confirmed p50 ${f(result.confirmLatency?.p50)} s p90 ${f(result.confirmLatency?.p90)} s, finalized p50 ${f(result.latency?.p50)} s p90 ${f(result.latency?.p90)} s, ` +
          `${result.blocks} blocks, ${result.lost} lost, ${result.rejected} refused, ${check.mismatches.length} receipts mismatched; ` +
          `validators ${result.agreement.agree ? 'agree' : 'DISAGREE'} at finalized height ${result.agreement.height}`,
      )
    } finally {
      for (const e of endpoints) e.close()
    }
  } catch (err) {
    ui.log(`${tag} FAILED (${errorCode(err)}): ${errorMessage(err)}`)
    result.error = { code: errorCode(err), message: errorMessage(err) }
    if (net) {
      run.stateAtEnd = await networkState(net)
      ui.log(`${tag} the validators now:\n  ${run.stateAtEnd.join('\n  ')}`)
    }
  }
  if (net) {
    const logs = await net.stop()
    const warnings: Record<string, number> = {}
    for (const text of logs) for (const [m, n] of Object.entries(summarizeNodeLog(text).warnings)) warnings[m] = (warnings[m] ?? 0) + n
    run.logWarnings = warnings
    const keepIn = args.logs ? path.resolve(args.logs) : runOk(run) ? undefined : path.join(REPO_ROOT, 'bench', '.work', `poh-vs-bft-${c.stamp}`)
    if (keepIn) {
      const dir = path.join(keepIn, `${chain}-${rate}`)
      mkdirSync(dir, { recursive: true })
      await Promise.all(logs.map((text, i) => writeFile(path.join(dir, `validator-${i}.log`), text)))
      run.logsDir = path.relative(REPO_ROOT, dir)
      ui.log(`${tag} validator logs in ${run.logsDir}/`)
    }
  }
  run.load.after = loadavg()
  return run
}

async function main(): Promise<number> {
  const args = parseCliArgs(process.argv.slice(2))
  if (args.help) {
    process.stdout.write(USAGE)
    return 0
  }
  for (const chain of args.chains) bftChainKeys(chain, VALIDATORS) // a bad chain fails before anything starts
  const runner = chooseRunner(args.runner)
  const ui = new ProgressLine()
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const loadBefore = loadavg()
  ui.log(`[poh-vs-bft] ${args.chains.join(', ')} at ${args.rates.join(', ')} tx/s for ${args.seconds} s each, nodes from ${runner.reason}; load average ${loadBefore.join(' ')}`)
  const runs: ChainRun[] = []
  const skipped: Array<{ chain: string; rate: number; after: number }> = []
  for (const rate of args.rates) {
    for (const chain of args.chains) {
      // A chain that did not carry a rate is not run at higher ones (minutes each, the answer known) unless --all-rates.
      const failed = runs.find((r) => r.chain === chain && !carried(r))
      if (failed && !args.allRates) {
        skipped.push({ chain, rate, after: failed.result.rate })
        ui.log(`[${chain} @${rate}/s] skipped: it did not carry ${failed.result.rate} tx/s (--all-rates runs it anyway)`)
        continue
      }
      runs.push(await runChain(chain, rate, { args, runner, ui, stamp }))
    }
  }
  const load = { before: loadBefore, after: loadavg() }
  process.stdout.write(`${pohVsBftJsonLine({ runs, seconds: args.seconds, batch: args.batch, load })}\n`)
  const out = path.resolve(args.out)
  mkdirSync(path.dirname(out), { recursive: true })
  await writeSection(
    out,
    'poh-vs-bft',
    renderPohVsBftSection({ runs, skipped, seconds: args.seconds, batch: args.batch, graceSeconds: args.grace, pollMs: args.pollMs, machine: machineInfo(), command: commandLine(REPO_ROOT), runner: runner.reason, load }),
  )
  ui.log(`[poh-vs-bft] wrote the poh-vs-bft section of ${path.relative(process.cwd(), out) || out}`)
  return runs.every(runOk) ? 0 : 1
}

// Never leave a validator running behind us, whatever ends this process.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killBftNetworksSync()
    process.exit(130)
  })
}
process.on('exit', () => killBftNetworksSync())

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    killBftNetworksSync()
    process.stderr.write(`poh-vs-bft: ${errorCode(err)}: ${errorMessage(err)}\n`)
    process.exitCode = errorCode(err) === 'BAD_ARGS' ? 2 : 1
  },
)
