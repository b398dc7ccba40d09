/**
 * Throughput and latency of a BFT network on this machine: 4 validator processes of the
 * consortium chain (chain id 1338, free gas) under a steady, open-loop load of signed transfers.
 *
 *   node --import tsx bench/bft.ts [--rate 1200] [--seconds 10] [--validators 4] [--batch 50]
 *        [--senders auto] [--block-gas-limit G] [--grace 30] [--out bench/RESULTS.md] [--profile I] [--logs DIR] ...
 *
 * Method:
 * 1. Start the validators (dist/cli/main.js when built and current, else src/ via tsx), each
 *    with a temp datadir, validator 0 the bootnode of the others; wait until all finalize blocks.
 * 2. Pre-sign rate x seconds EIP-1559 transfers (21,000 gas, fee cap 0, tip 0, each to a new
 *    address) from fresh mnemonic accounts (index 20 on), each holding at most 48 of them (the
 *    mempool keeps 64 per sender) and pinned to one validator; accounts 4..19 fund them in a
 *    setup block before the clock starts.
 * 3. Open loop: transfer i is sent at i / rate s, in JSON-RPC batches of up to --batch
 *    eth_sendRawTransaction round-robin over the validators' endpoints, whatever they answer.
 * 4. Finality: validator 0's newHeads over WebSocket; each new block is fetched with its tx
 *    hashes, and each of our txs in it is stamped with the time the head arrived (BFT blocks are
 *    final when committed). submit-to-final = that time - the time its batch was sent.
 * 5. Report: offered and final tx/s (final txs / (last final - first submit)), p50/p90/p99
 *    submit-to-final, blocks and txs per block, txs lost (not final --grace s after sending
 *    stops) or refused, and whether all validators agree on the hash at their last common height.
 *
 * Prints one JSON line on stdout, progress on stderr, and rewrites the "bft" section of --out.
 * Exit status: 0 when every tx became final and the validators agree, 1 otherwise, 2 for bad options.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { TEST_MNEMONIC, deriveKeys } from '../src/wallet/hd.ts'
import { presetJSON } from '../src/chain/spec/presets.ts'
import {
  BatchRpc,
  MAX_TXS_PER_SENDER,
  account,
  bftJsonLine,
  buildLoadPlan,
  formatLoadProgress,
  fundSenders,
  renderBftSection,
  runOpenLoop,
  sendersFor,
  summarizeRun,
  type BftResult,
} from './lib/bft-load.ts'
import {
  bftChainKeys,
  checkAgreement,
  chooseRunner,
  killBftNetworksSync,
  startBftNetwork,
  summarizeNodeLog,
  cpuSeconds,
  mainThreadProfile,
  summarizeProfile,
  waitForHeight,
  type BftNetwork,
  type RunnerChoice,
} from './lib/bft-network.ts'
import { cpuUsed } from './lib/cpu.ts'
import { BenchError, errorCode, errorMessage } from './lib/errors.ts'
import { ProgressLine } from './lib/progress.ts'
import { commandLine, machineInfo, writeSection } from './lib/report.ts'
import { quantity } from './lib/rpc.ts'
import { REPO_ROOT } from './lib/targets.ts'

const CHAIN = 'consortium'
const TARGET_TPS = 1000
const TARGET_P50_S = 2
/** Accounts of the test mnemonic that fund the senders (0..3 are the validators). */
const FUNDERS = { from: 4, to: 19 }
const SENDER_INDEX_START = 20
const FUND_EACH = 10n ** 18n

const USAGE = `Usage: node --import tsx bench/bft.ts [options]

Runs a BFT network of validator processes (chain "${CHAIN}": chain id 1338, free gas) on this
machine, offers it a steady open-loop load of pre-signed transfers and measures how many become
final per second and how long each takes from submit to final.

Options:
  --rate N            transfers per second offered                       (default 1200)
  --seconds S         seconds of sending; rate x seconds transfers        (default 10)
  --validators N      validators to run (the chain has 4; at least 3 finalize) (default 4)
  --batch N           eth_sendRawTransaction calls per JSON-RPC batch, 1..1000 (default 50)
  --senders N         sending accounts (funded in a setup block); each sends at most
                      ${MAX_TXS_PER_SENDER} transfers                    (default: enough for that)
  --block-gas-limit G run the ${CHAIN} preset with this block gas limit instead of its own
                      (100,000,000 = 4,761 transfers); the spec is written to bench/.work/
  --grace S           seconds after sending stops before unfinalized txs count as lost
                                                                          (default 30)
  --out FILE          results file; only its "bft" section is rewritten  (default bench/RESULTS.md)
  --runner R          auto | dist | source: how to run the nodes; auto = dist/cli/main.js
                      when it exists and is newer than src/, else src/ via tsx (default auto)
  --profile I         run validator I under node --cpu-prof; the profile and a top-functions
                      summary go to bench/.work/bft-profile-<time>/
  --logs DIR          copy each validator's JSON log to DIR (as validator-<i>.log)
  --keep              keep the validators' datadirs (printed at the end)
  --start-timeout S   seconds to wait for the network to finalize blocks  (default 120)
  -h, --help          this text
`

interface Args {
  rate: number
  seconds: number
  validators: number
  batch: number
  senders?: number
  blockGasLimit?: bigint
  /** The --chain each node gets: the preset's name, or a spec file derived from it. */
  chain: string
  grace: number
  out: string
  runner: RunnerChoice
  profile?: number
  logs?: string
  keep: boolean
  startTimeout: number
  help: boolean
}

function parseBftArgs(argv: string[]): Args {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        rate: { type: 'string', default: '1200' },
        seconds: { type: 'string', default: '10' },
        validators: { type: 'string', default: '4' },
        batch: { type: 'string', default: '50' },
        senders: { type: 'string' },
        'block-gas-limit': { type: 'string' },
        grace: { type: 'string', default: '30' },
        out: { type: 'string', default: 'bench/RESULTS.md' },
        runner: { type: 'string', default: 'auto' },
        profile: { type: 'string' },
        logs: { type: 'string' },
        keep: { type: 'boolean', default: false },
        'start-timeout': { type: 'string', default: '120' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (err) {
    throw new BenchError('BAD_ARGS', `${errorMessage(err)}\n\n${USAGE}`)
  }
  const runner = values.runner
  if (runner !== 'auto' && runner !== 'dist' && runner !== 'source') {
    throw new BenchError('BAD_ARGS', `--runner must be auto, dist or source, got "${runner}"`)
  }
  const args: Args = {
    rate: positiveNumber('--rate', values.rate, 100_000),
    seconds: positiveNumber('--seconds', values.seconds, 3600),
    validators: wholeNumber('--validators', values.validators, 1, 100),
    batch: wholeNumber('--batch', values.batch, 1, 1000),
    senders: values.senders === undefined ? undefined : wholeNumber('--senders', values.senders, 1, 100_000),
    blockGasLimit: values['block-gas-limit'] === undefined ? undefined : BigInt(wholeNumber('--block-gas-limit', values['block-gas-limit'], 21_000, 1_000_000_000)),
    chain: CHAIN,
    grace: positiveNumber('--grace', values.grace, 3600),
    out: values.out,
    runner,
    profile: values.profile === undefined ? undefined : wholeNumber('--profile', values.profile, 0, 99),
    logs: values.logs,
    keep: values.keep,
    startTimeout: positiveNumber('--start-timeout', values['start-timeout'], 3600),
    help: values.help,
  }
  if (args.profile !== undefined && args.profile >= args.validators) {
    throw new BenchError('BAD_ARGS', `--profile ${args.profile}: there are only validators 0..${args.validators - 1}`)
  }
  const txs = Math.round(args.rate * args.seconds)
  if (txs < 1) throw new BenchError('BAD_ARGS', `--rate ${args.rate} x --seconds ${args.seconds} is less than one transfer`)
  if (args.senders !== undefined) {
    if (args.senders > txs) throw new BenchError('BAD_ARGS', `--senders ${args.senders} is more than the ${txs} transfers`)
    if (Math.ceil(txs / args.senders) > MAX_TXS_PER_SENDER) {
      throw new BenchError('BAD_ARGS', `--senders ${args.senders}: ${txs} transfers would be ${Math.ceil(txs / args.senders)} per sender; at most ${MAX_TXS_PER_SENDER} (use --senders ${Math.ceil(txs / MAX_TXS_PER_SENDER)} or more)`)
    }
  }
  return args
}

/**
 * The preset with another block gas limit, as a spec file for the nodes (named after the limit,
 * so the report shows it). Only the limit changes: chain id, validators and timeouts stay.
 */
function writeSpecWithGasLimit(gasLimit: bigint): string {
  const spec = presetJSON(CHAIN)!
  spec.name = `${CHAIN}-gas-${gasLimit}`
  spec.limits.blockGasLimit = Number(gasLimit)
  const dir = path.join(REPO_ROOT, 'bench', '.work')
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `${spec.name}.json`)
  writeFileSync(file, JSON.stringify(spec, null, 2))
  return file
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

interface RunOutcome {
  result: BftResult
  net?: BftNetwork
  profileDir?: string
  /** The load phase on the monotonic clock (to cut the CPU profile to it). */
  window?: { startUs: number; endUs: number }
}

async function run(args: Args, ui: ProgressLine): Promise<RunOutcome> {
  const txs = Math.round(args.rate * args.seconds)
  const senders = args.senders ?? sendersFor(txs, args.validators)
  const base: BftResult = { ok: false, rate: args.rate, seconds: args.seconds, validators: args.validators, batch: args.batch, senders, graceSeconds: args.grace, txs }
  const runner = chooseRunner(args.runner)
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const profileDir = args.profile === undefined ? undefined : path.join(REPO_ROOT, 'bench', '.work', `bft-profile-${stamp}`)
  let net: BftNetwork | undefined
  let window: RunOutcome['window']
  try {
    ui.log(`[bft] starting ${args.validators} validators of ${args.chain} from ${runner.reason}`)
    const t0 = performance.now()
    net = await startBftNetwork({
      chain: args.chain,
      validators: args.validators,
      runner,
      startTimeoutMs: args.startTimeout * 1000,
      profileValidator: args.profile,
      profileDir,
      keep: args.keep,
    })
    await waitForHeight(net, 2n, args.startTimeout * 1000)
    ui.log(`[bft] ${net.validators.length} validators finalizing blocks after ${((performance.now() - t0) / 1000).toFixed(1)} s (${net.validators.map((v) => v.rpcUrl).join(' ')})`)

    const t1 = performance.now()
    const v0 = net.validators[0]!
    const chainId = Number(net.chain.chainId)
    const funderKeys = deriveKeys(TEST_MNEMONIC, FUNDERS.to - FUNDERS.from + 1, { start: FUNDERS.from }).map((k) => account(k.privateKey))
    const funders = await Promise.all(
      funderKeys.map(async (a) => ({ ...a, nonce: Number(quantity(await v0.rpc.call('eth_getTransactionCount', [a.address, 'latest']), 'eth_getTransactionCount')) })),
    )
    const senderAccounts = deriveKeys(TEST_MNEMONIC, senders, { start: SENDER_INDEX_START }).map((k) => account(k.privateKey))
    const plan = buildLoadPlan({ chainId, txs, validators: args.validators, batch: args.batch, funders, senders: senderAccounts, fundEach: FUND_EACH })
    ui.log(`[bft] signed ${plan.funding.length} funding txs and ${plan.total} transfers (${plan.batches.length} batches) in ${((performance.now() - t1) / 1000).toFixed(1)} s`)

    const endpoints = net.validators.map((v) => new BatchRpc(v.rpcUrl, { maxSockets: 64 }))
    try {
      const t2 = performance.now()
      await fundSenders(endpoints[0]!, plan.funding, 60_000)
      const startHeight = Number(quantity(await v0.rpc.call('eth_blockNumber'), 'eth_blockNumber'))
      ui.log(`[bft] funded ${senders} senders in ${((performance.now() - t2) / 1000).toFixed(1)} s; sending ${plan.total} transfers at ${args.rate}/s from height ${startHeight}`)

      // CPU of every process, sampled with the progress ticks, to cut at the last final tx.
      const network = net
      const cpuAt = (elapsedMs: number) => ({ elapsedMs, validators: cpuSeconds(network), generator: process.cpuUsage() })
      const samples = [cpuAt(0)]
      const loadRun = await runOpenLoop(plan, {
        rate: args.rate,
        graceSeconds: args.grace,
        endpoints,
        follower: { rpc: v0.rpc, wsUrl: v0.wsUrl, startHeight },
        onProgress: (p) => {
          samples.push(cpuAt(p.elapsedMs))
          ui.update(formatLoadProgress(p))
        },
        onWarning: (w) => ui.log(`[bft] warning: ${w}`),
      })
      const summary = summarizeRun(loadRun, net.chain.blockGasLimit)
      samples.push(cpuAt(loadRun.endAt))
      // Up to the last final tx (not the idle end of a grace period), or all of it.
      const cpu = cpuUsed(samples, summary.span === undefined ? loadRun.endAt : summary.span * 1000 + 500, summary.final ?? 0)
      window = { startUs: loadRun.monoWindow.startUs, endUs: loadRun.monoWindow.startUs + cpu.seconds * 1e6 }
      const agreement = await checkAgreement(net)
      const result: BftResult = {
        ...base,
        ...summary,
        agreement,
        runner: runner.reason,
        websocketProblem: loadRun.websocketProblem,
        cpu,
        ok: summary.lost === 0 && summary.rejected === 0 && agreement.agree,
      }
      ui.done(
        `[bft] ${result.final}/${txs} final, ${result.finalTps?.toFixed(0) ?? '—'} final tx/s (offered ${result.offeredTps?.toFixed(0) ?? '—'}), ` +
          `p50 ${result.latency?.p50.toFixed(2)} s p99 ${result.latency?.p99.toFixed(2)} s, ${result.blocks} blocks, ` +
          `${result.lost} lost, ${result.rejected} refused; validators ${agreement.agree ? 'agree' : 'DISAGREE'} at height ${agreement.height}`,
      )
      return { result, net, profileDir, window }
    } finally {
      for (const e of endpoints) e.close()
    }
  } catch (err) {
    ui.log(`[bft] FAILED (${errorCode(err)}): ${errorMessage(err)}`)
    return { result: { ...base, runner: runner.reason, error: { code: errorCode(err), message: errorMessage(err) } }, net, profileDir, window }
  }
}

/** After the nodes stopped: what their logs say, and where the profiled validator spent its CPU. */
async function afterStop(args: Args, o: RunOutcome, logTexts: string[], ui: ProgressLine): Promise<void> {
  const { result, net, profileDir, window } = o
  if (logTexts.length > 0) {
    const sums = logTexts.map(summarizeNodeLog)
    const warnings: Record<string, number> = {}
    for (const s of sums) for (const [m, n] of Object.entries(s.warnings)) warnings[m] = (warnings[m] ?? 0) + n
    // Each validator logs the round of every height it committed through consensus (one that got a block
    // by sync first logs none): the most any of them saw.
    result.nodeLogs = {
      laterRounds: Math.max(...sums.map((s) => s.laterRounds)),
      maxRound: Math.max(...sums.map((s) => s.maxRound)),
      invalidProposals: sums.reduce((a, s) => a + s.invalidProposals, 0),
      warnings,
    }
  }
  if (profileDir !== undefined) {
    const found = mainThreadProfile(profileDir)
    if (!found) {
      ui.log(`[bft] no CPU profile was written to ${profileDir} (did validator ${args.profile} exit cleanly?)`)
    } else {
      const file = found.file
      const summary = summarizeProfile(found.profile, { window, top: 30 })
      const text = [
        `validator ${args.profile}, ${window ? 'load phase only' : 'whole run'}: ${(summary.sampledMs / 1000).toFixed(1)} s sampled, idle ${summary.idlePercent.toFixed(0)}%`,
        'self time by area (share of busy time):',
        ...summary.areas.slice(0, 15).map((a) => `${a.percent.toFixed(1).padStart(5)}%  ${a.area}`),
        'top functions by self time (share of busy time):',
        ...summary.top.map((t) => `${t.percent.toFixed(1).padStart(5)}%  ${t.fn}  ${t.where}`),
      ].join('\n')
      await writeFile(path.join(profileDir, 'summary.txt'), `${text}\n`)
      ui.log(`[bft] CPU profile: ${path.relative(process.cwd(), file)}\n${text}`)
      result.profile = { validator: args.profile!, file: path.relative(REPO_ROOT, file), idlePercent: summary.idlePercent, areas: summary.areas.slice(0, 8) }
    }
  }
  if (args.keep && net) ui.log(`[bft] datadirs kept in ${net.root}`)
}

async function main(): Promise<number> {
  const args = parseBftArgs(process.argv.slice(2))
  if (args.help) {
    process.stdout.write(USAGE)
    return 0
  }
  // Check the chain and --validators before anything starts.
  if (args.blockGasLimit !== undefined) args.chain = writeSpecWithGasLimit(args.blockGasLimit)
  const { info: chain } = bftChainKeys(args.chain, args.validators)
  const ui = new ProgressLine()
  const outcome = await run(args, ui)
  const { result, net } = outcome
  let logTexts: string[] = []
  if (net) {
    logTexts = await net.stop()
    if (args.logs) {
      const dir = path.resolve(args.logs)
      mkdirSync(dir, { recursive: true })
      await Promise.all(logTexts.map((text, i) => writeFile(path.join(dir, `validator-${i}.log`), text)))
      ui.log(`[bft] node logs written to ${path.relative(process.cwd(), dir) || '.'}/validator-<i>.log`)
    }
  }
  await afterStop(args, outcome, logTexts.filter(Boolean), ui)
  process.stdout.write(`${bftJsonLine(result)}\n`)
  const out = path.resolve(args.out)
  mkdirSync(path.dirname(out), { recursive: true })
  await writeSection(
    out,
    'bft',
    renderBftSection({
      result,
      machine: machineInfo(),
      command: commandLine(REPO_ROOT),
      chain: { name: chain.name, chainId: chain.chainId, blockGasLimit: chain.blockGasLimit, commitMs: chain.timeouts?.commitMs, proposeMs: chain.timeouts?.proposeMs },
      targetTps: TARGET_TPS,
      targetP50: TARGET_P50_S,
    }),
  )
  ui.log(`[bft] wrote the bft section of ${path.relative(process.cwd(), out) || out}`)
  return result.ok ? 0 : 1
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
    process.stderr.write(`bft: ${errorCode(err)}: ${errorMessage(err)}\n`)
    process.exitCode = errorCode(err) === 'BAD_ARGS' ? 2 : 1
  },
)
