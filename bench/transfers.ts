/**
 * End-to-end JSON-RPC value-transfer throughput: Catena against Hardhat's node and
 * Ganache, each started here as a child process, measured the same way in one run.
 *
 *   node --import tsx bench/transfers.ts [--txs 2000] [--concurrency 32] [--senders 10]
 *        [--recipients 0] [--targets catena,hardhat,ganache] [--out bench/RESULTS.md]
 *
 * Per target: start it, pre-sign the transfers, send them and wait for every receipt
 * (timed), verify receipts, balances and nonces, stop it. Prints one JSON line per target
 * on stdout and rewrites the "transfers" section of the results file.
 */
import path from 'node:path'
import { TEST_MNEMONIC } from '../src/wallet/hd.ts'
import { parseTransfersArgs, TRANSFERS_USAGE, type TransfersArgs } from './lib/args.ts'
import { errorCode, errorMessage } from './lib/errors.ts'
import { runLoad } from './lib/load.ts'
import { buildPlan, describeFees } from './lib/plan.ts'
import { killAllChildrenSync } from './lib/process.ts'
import { ProgressLine, formatProgress } from './lib/progress.ts'
import { commandLine, jsonLine, machineInfo, renderTransfersSection, writeSection, type TargetResult } from './lib/report.ts'
import { REPO_ROOT, removeTempDirsSync, startTarget, type TargetName } from './lib/targets.ts'
import { verifyTransfers } from './lib/verify.ts'

const CHAIN_ID = 1337
const GOAL_RATIO = 2

async function runTarget(name: TargetName, args: TransfersArgs, ui: ProgressLine): Promise<TargetResult> {
  const base = { target: name, txs: args.txs, concurrency: args.concurrency, senders: args.senders, recipients: args.recipients }
  let version: string | undefined
  let stop: (() => Promise<void>) | undefined
  try {
    ui.log(`[${name}] starting`)
    const t0 = performance.now()
    const target = await startTarget(name, {
      chainId: CHAIN_ID,
      mnemonic: TEST_MNEMONIC,
      accounts: args.senders,
      startTimeoutMs: args.startTimeout * 1000,
      maxSockets: args.concurrency + 4,
      hardhatLog: args.hardhatLog,
    })
    stop = target.stop
    version = target.version
    ui.log(`[${name}] ready at ${target.url} in ${((performance.now() - t0) / 1000).toFixed(1)} s (${version})`)

    const t1 = performance.now()
    const plan = await buildPlan(target.rpc, {
      mnemonic: TEST_MNEMONIC,
      chainId: CHAIN_ID,
      txs: args.txs,
      senders: args.senders,
      recipients: args.recipients,
      concurrency: args.concurrency,
    })
    ui.log(`[${name}] signed ${plan.total} transfers in ${((performance.now() - t1) / 1000).toFixed(1)} s; ${describeFees(plan)}`)

    const load = await runLoad(target.rpc, plan, {
      concurrency: args.concurrency,
      onProgress: (p) => ui.update(formatProgress(name, p)),
    })
    const tps = plan.total / load.seconds
    ui.done(
      `[${name}] ${plan.total} transfers in ${load.seconds.toFixed(2)} s = ${tps.toFixed(0)} tx/s ` +
        `(${load.requests.sends} sends, ${load.requests.receiptPolls} receipt polls, ${load.requests.blockPolls} block polls)`,
    )

    const checked = await verifyTransfers(target.rpc, plan, load.receipts, args.concurrency)
    ui.log(`[${name}] verified ${checked.receipts} receipts, ${checked.recipients} balances, ${checked.senders} nonces; ${checked.blocks} blocks`)
    return { ...base, seconds: load.seconds, tps, verified: true, version, blocks: checked.blocks }
  } catch (err) {
    ui.log(`[${name}] FAILED (${errorCode(err)}): ${errorMessage(err)}`)
    return { ...base, verified: false, version, error: { code: errorCode(err), message: errorMessage(err) } }
  } finally {
    await stop?.()
  }
}

async function main(): Promise<number> {
  const args = parseTransfersArgs(process.argv.slice(2))
  if (args.help) {
    process.stdout.write(TRANSFERS_USAGE)
    return 0
  }
  const ui = new ProgressLine()
  const results: TargetResult[] = []
  for (const name of args.targets) {
    const result = await runTarget(name, args, ui)
    results.push(result)
    process.stdout.write(`${jsonLine('transfers', result)}\n`)
  }

  const out = path.resolve(args.out)
  await writeSection(
    out,
    'transfers',
    renderTransfersSection({
      results,
      machine: machineInfo(),
      command: commandLine(REPO_ROOT),
      txs: args.txs,
      concurrency: args.concurrency,
      senders: args.senders,
      recipients: args.recipients,
      hardhatLog: args.hardhatLog,
      goalRatio: GOAL_RATIO,
    }),
  )
  ui.log(`wrote the transfers section of ${path.relative(process.cwd(), out) || out}`)
  return results.every((r) => r.verified) ? 0 : 1
}

// Never leave a node running behind us, whatever ends this process.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAllChildrenSync()
    removeTempDirsSync()
    process.exit(130)
  })
}
process.on('exit', () => {
  killAllChildrenSync()
  removeTempDirsSync()
})

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`transfers: ${errorCode(err)}: ${errorMessage(err)}\n`)
    process.exitCode = 2
  },
)
