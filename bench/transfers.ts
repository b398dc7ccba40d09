/**
 * End-to-end JSON-RPC value-transfer throughput: Catena against Hardhat's node and
 * Ganache, each started here as a child process, measured the same way in one run.
 *
 *   node --import tsx bench/transfers.ts [--txs 2000] [--warmup 200] [--concurrency 32] [--senders 10]
 *        [--recipients 0] [--targets catena,hardhat,ganache] [--out bench/RESULTS.md]
 *
 * Per target: start it, pre-sign the warm-up and timed transfers, send the warm-up ones
 * (untimed, so the node's JIT warm-up is not counted), send the timed ones and wait for
 * every receipt, verify receipts, balances and nonces, stop it. Over the timed window
 * (first send to last receipt) it also reads the CPU the target's whole process tree
 * used, per transfer, and the tree's resident memory right after the last receipt
 * (/proc, Linux). Prints one JSON line per target on stdout and rewrites the
 * "transfers" section of the results file.
 */
import path from 'node:path'
import { TEST_MNEMONIC } from '../src/wallet/hd.ts'
import { parseTransfersArgs, TRANSFERS_USAGE, type TransfersArgs } from './lib/args.ts'
import { errorCode, errorMessage } from './lib/errors.ts'
import { runLoad } from './lib/load.ts'
import { buildPlans, describeFees } from './lib/plan.ts'
import { cpuMsBetween, rssMiB, sampleTree, type TreeSample } from './lib/proc-usage.ts'
import { killAllChildrenSync } from './lib/process.ts'
import { ProgressLine, formatProgress } from './lib/progress.ts'
import { commandLine, jsonLine, machineInfo, renderTransfersSection, writeSection, type TargetResult } from './lib/report.ts'
import { REPO_ROOT, removeTempDirsSync, startTarget, type TargetName } from './lib/targets.ts'
import { verifyTransfers } from './lib/verify.ts'

const CHAIN_ID = 1337
const GOAL_RATIO = 2
/** Issue 16: Catena's node CPU per transfer at most this; its RSS at most Hardhat's. */
const CPU_GOAL_MS = 0.5

async function runTarget(name: TargetName, args: TransfersArgs, ui: ProgressLine): Promise<TargetResult> {
  const base = { target: name, txs: args.txs, warmup: args.warmup, concurrency: args.concurrency, senders: args.senders, recipients: args.recipients }
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
    const plans = await buildPlans(target.rpc, {
      mnemonic: TEST_MNEMONIC,
      chainId: CHAIN_ID,
      txs: args.txs,
      warmup: args.warmup,
      senders: args.senders,
      recipients: args.recipients,
      concurrency: args.concurrency,
    })
    const plan = plans.timed
    ui.log(
      `[${name}] signed ${plans.warmup.total} warm-up and ${plan.total} timed transfers in ${((performance.now() - t1) / 1000).toFixed(1)} s; ${describeFees(plan)}`,
    )

    if (plans.warmup.total > 0) {
      const warm = await runLoad(target.rpc, plans.warmup, {
        concurrency: args.concurrency,
        onProgress: (p) => ui.update(formatProgress(`${name} warm-up`, p)),
      })
      ui.done(`[${name}] warm-up: ${plans.warmup.total} transfers in ${warm.seconds.toFixed(2)} s (not timed)`)
    }

    // The node's process tree (all of it, in case it runs under a wrapper), read at the
    // clock's start and at the last receipt.
    const pid = target.child.pid
    const before = sampleTree(pid)
    let after: TreeSample | undefined
    const load = await runLoad(target.rpc, plan, {
      concurrency: args.concurrency,
      onProgress: (p) => ui.update(formatProgress(name, p)),
      onLastReceipt: () => {
        after = sampleTree(pid)
      },
    })
    const tps = plan.total / load.seconds
    const usage =
      before && after
        ? { cpuMsPerTransfer: cpuMsBetween(before, after) / plan.total, rssMiB: rssMiB(after), processes: after.processes.size }
        : {}
    ui.done(
      `[${name}] ${plan.total} transfers in ${load.seconds.toFixed(2)} s = ${tps.toFixed(0)} tx/s ` +
        `(${load.requests.sends} sends, ${load.requests.receiptPolls} receipt polls, ${load.requests.blockPolls} block polls)` +
        (usage.cpuMsPerTransfer === undefined
          ? '; node CPU and RSS unknown (no /proc)'
          : `; node CPU ${usage.cpuMsPerTransfer.toFixed(2)} ms/transfer, RSS ${usage.rssMiB.toFixed(0)} MiB (${usage.processes} process${usage.processes === 1 ? '' : 'es'})`),
    )

    const checked = await verifyTransfers(target.rpc, plan, load.receipts, args.concurrency)
    ui.log(`[${name}] verified ${checked.receipts} receipts, ${checked.recipients} balances, ${checked.senders} nonces; ${checked.blocks} blocks`)
    return { ...base, seconds: load.seconds, tps, verified: true, version, blocks: checked.blocks, ...usage }
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
      warmup: args.warmup,
      concurrency: args.concurrency,
      senders: args.senders,
      recipients: args.recipients,
      hardhatLog: args.hardhatLog,
      goalRatio: GOAL_RATIO,
      cpuGoalMs: CPU_GOAL_MS,
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
