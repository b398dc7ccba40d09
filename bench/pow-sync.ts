/**
 * Block import rate while a node syncs a Proof-of-Work chain from a peer.
 *
 *   node --import tsx bench/pow-sync.ts [--blocks 10000] [--txs-per-block 5] [--timeout 1800]
 *        [--cpu-prof DIR] [--keep] [--out bench/RESULTS.md]
 *
 * 1. Writes a genesis file: the bitcoin-like preset with a trivial target and 1 s blocks.
 * 2. Mines the chain in this process straight into a LevelDB datadir (bench/lib/pow-chain.ts):
 *    every block with --txs-per-block signed transfers, timestamps 1 s apart from genesis.
 * 3. Starts a node on that datadir (not mining, --p2p-port 0) and a second node with an empty
 *    datadir and --bootnodes <first node>; times from spawning the second until its
 *    eth_blockNumber (polled every 100 ms) reaches the head, and reads its `sync: caught up` line.
 * 4. Both nodes must report the same head hash. Prints one JSON line and rewrites the
 *    "pow-sync" section of the results file.
 * Both nodes are stopped on exit, on an error and on Ctrl-C; the temp dir goes too unless --keep.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadChainSpec } from '../src/chain/spec/index.ts'
import { LevelStore } from '../src/storage/index.ts'
import { BenchError, errorCode, errorMessage } from './lib/errors.ts'
import {
  POW_SYNC_USAGE,
  buildPowChain,
  describePowChain,
  findCaughtUp,
  parsePowSyncArgs,
  powSyncJsonLine,
  powSyncSpec,
  renderPowSyncSection,
  segmentRates,
  summarizeCpuProfile,
  type BuiltPowChain,
  type CaughtUp,
  type CpuProfile,
  type HeightSample,
  type PowSyncArgs,
  type PowSyncResult,
  type ProfileSummary,
} from './lib/pow-chain.ts'
import { killAllChildrenSync, spawnChild, waitForChild, type ChildHandle } from './lib/process.ts'
import { ProgressLine } from './lib/progress.ts'
import { commandLine, machineInfo, writeSection } from './lib/report.ts'
import { RpcClient, quantity } from './lib/rpc.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const START_TIMEOUT_MS = 120_000
const POLL_MS = 100
/** How long to wait for the `sync: caught up` line once the head is reached. */
const CAUGHT_UP_LINE_MS = 10_000
/** A profiled node writes its profile on exit: give it time. */
const STOP_GRACE_MS = 30_000

type Hex = `0x${string}`

interface NodeInfo {
  rpcUrl: string
  pid: number
  p2p?: string[]
}

/** The temp dir of this run (genesis, both datadirs), removed on any exit unless --keep. */
let tempRoot: string | undefined
let keepTemp = false

function cleanupSync(): void {
  killAllChildrenSync()
  if (tempRoot && !keepTemp) rmSync(tempRoot, { recursive: true, force: true })
  tempRoot = undefined
}

/** A Catena node as a child process: `node --import tsx src/cli/main.ts node ...` with JSON logs. */
function spawnNode(name: string, genesis: string, datadir: string, extra: string[], nodeFlags: string[] = []): ChildHandle {
  const args = [...nodeFlags, '--import', 'tsx', 'src/cli/main.ts', 'node', '--chain', genesis, '--datadir', datadir, '--rpc-port', '0', '--p2p-port', '0', '--log-format', 'json', ...extra]
  return spawnChild(name, process.execPath, args, { cwd: REPO_ROOT })
}

/** node.json once the node named by `child` wrote it (a stale file names another pid). */
async function readNodeInfo(datadir: string, child: ChildHandle): Promise<NodeInfo | undefined> {
  const text = await readFile(path.join(datadir, 'node.json'), 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  try {
    const info = JSON.parse(text) as NodeInfo
    return info.pid === child.pid ? info : undefined
  } catch {
    return undefined // being written
  }
}

async function headOf(rpc: RpcClient): Promise<{ number: bigint; hash: Hex }> {
  const b = await rpc.call<{ number: Hex; hash: Hex } | null>('eth_getBlockByNumber', ['latest', false])
  if (!b) throw new BenchError('RPC_TRANSPORT', `${rpc.url}: eth_getBlockByNumber("latest") returned null`)
  return { number: quantity(b.number, 'block number'), hash: b.hash }
}

async function buildSource(args: PowSyncArgs, genesis: string, datadir: string, ui: ProgressLine): Promise<BuiltPowChain> {
  const spec = loadChainSpec(genesis)
  const store = await LevelStore.open(path.join(datadir, 'chaindata'))
  const started = performance.now()
  try {
    return await buildPowChain({
      store,
      spec,
      blocks: args.blocks,
      txsPerBlock: args.txsPerBlock,
      onBlock: (h) => {
        const secs = (performance.now() - started) / 1000
        ui.update(`[build] ${h}/${args.blocks} blocks  ${secs.toFixed(1)} s  ${(h / secs).toFixed(0)} blocks/s`)
      },
    })
  } finally {
    await store.close()
  }
}

async function describeSource(genesis: string, datadir: string): Promise<BuiltPowChain> {
  const spec = loadChainSpec(genesis)
  const store = await LevelStore.open(path.join(datadir, 'chaindata')).catch((err: Error) => {
    throw new BenchError('BAD_ARGS', `--source: ${err.message}`)
  })
  try {
    return await describePowChain(store, spec)
  } finally {
    await store.close()
  }
}

/** The main thread's profile of process `pid` (node names them CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile). */
async function readProfile(dir: string, pid: number): Promise<ProfileSummary> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[3] === String(pid) && f.split('.')[4] === '0')
  if (files.length === 0) throw new BenchError('START_FAILED', `no CPU profile of pid ${pid} in ${dir} (did the node exit cleanly?)`)
  const profile = JSON.parse(await readFile(path.join(dir, files[0]!), 'utf8')) as CpuProfile
  return summarizeCpuProfile(profile, 20)
}

async function run(args: PowSyncArgs, ui: ProgressLine): Promise<{ result: PowSyncResult; profile?: ProfileSummary }> {
  tempRoot = mkdtempSync(path.join(os.tmpdir(), 'catena-pow-sync-'))
  const root = tempRoot
  const syncDir = path.join(root, 'sync')
  await mkdir(syncDir)
  let genesis: string
  let sourceDir: string
  let built: BuiltPowChain
  if (args.source) {
    genesis = path.join(args.source, 'genesis.json')
    sourceDir = path.join(args.source, 'source')
    built = await describeSource(genesis, sourceDir)
    ui.log(`[source] reusing ${built.height} blocks, ${built.txs} txs from ${sourceDir}; head ${built.headHash}`)
  } else {
    genesis = path.join(root, 'genesis.json')
    sourceDir = path.join(root, 'source')
    await mkdir(sourceDir)
    await writeFile(genesis, `${JSON.stringify(powSyncSpec(), null, 2)}\n`)
    ui.log(`[build] mining ${args.blocks} blocks with ${args.txsPerBlock} transfers each into ${sourceDir}`)
    built = await buildSource(args, genesis, sourceDir, ui)
    ui.done(`[build] ${built.height} blocks, ${built.txs} txs in ${built.seconds.toFixed(1)} s (${(built.height / built.seconds).toFixed(0)} blocks/s); head ${built.headHash}`)
  }

  const clients: RpcClient[] = []
  const children: ChildHandle[] = []
  try {
    // The source: serves the chain, does not mine.
    const source = spawnNode('source node', genesis, sourceDir, [])
    children.push(source)
    const sourceInfo = await waitForChild(source, 'serving JSON-RPC and p2p', () => readNodeInfo(sourceDir, source), START_TIMEOUT_MS, POLL_MS)
    const sourceRpc = new RpcClient(sourceInfo.rpcUrl, { maxSockets: 2, timeoutMs: 10_000 })
    clients.push(sourceRpc)
    const sourceHead = await waitForChild(source, 'answering eth_getBlockByNumber', () => headOf(sourceRpc), START_TIMEOUT_MS, POLL_MS)
    if (sourceHead.number !== BigInt(built.height) || sourceHead.hash !== built.headHash) {
      throw new BenchError('VERIFY_FAILED', `the source node's head is ${sourceHead.number} ${sourceHead.hash}, but ${built.height} ${built.headHash} was built`)
    }
    const bootnode = sourceInfo.p2p?.[0]
    if (!bootnode) throw new BenchError('START_FAILED', `the source node's node.json names no p2p address (started with --p2p-port 0)\n${source.outputTail()}`)
    ui.log(`[source] serving ${built.height} blocks at ${bootnode}`)

    // The syncing node: empty datadir; the clock runs from its spawn. (Node 20 refuses
    // --cpu-prof in NODE_OPTIONS, so it goes on the command line.)
    const nodeFlags: string[] = []
    if (args.cpuProf) {
      const dir = path.resolve(args.cpuProf)
      await mkdir(dir, { recursive: true })
      nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${dir}`)
    }
    const t0 = performance.now()
    const syncer = spawnNode('syncing node', genesis, syncDir, ['--bootnodes', bootnode], nodeFlags)
    children.push(syncer)
    const target = BigInt(built.height)
    const secs = () => (performance.now() - t0) / 1000
    let syncRpc: RpcClient | undefined
    let startupSeconds = 0
    const samples: HeightSample[] = []
    await waitForChild(
      syncer,
      `reaching height ${target}`,
      async () => {
        if (!syncRpc) {
          const info = await readNodeInfo(syncDir, syncer)
          if (!info) {
            ui.update(`[sync] starting  ${secs().toFixed(1)} s`)
            return undefined
          }
          syncRpc = new RpcClient(info.rpcUrl, { maxSockets: 2, timeoutMs: 10_000 })
          clients.push(syncRpc)
        }
        const height = quantity(await syncRpc.call('eth_blockNumber'), 'eth_blockNumber')
        if (startupSeconds === 0) startupSeconds = secs()
        samples.push({ seconds: secs(), height: Number(height) })
        ui.update(`[sync] ${height}/${target} blocks  ${secs().toFixed(1)} s  ${(Number(height) / secs()).toFixed(0)} blocks/s`)
        return height >= target ? height : undefined
      },
      args.timeout * 1000,
      POLL_MS,
    )
    const seconds = secs()
    ui.done(`[sync] ${target} blocks in ${seconds.toFixed(2)} s = ${(built.height / seconds).toFixed(0)} blocks/s, ${(built.txs / seconds).toFixed(0)} txs/s (node started in ${startupSeconds.toFixed(2)} s)`)
    const segments = segmentRates(samples, built.height)
    ui.log(`[sync] along the chain: ${segments.map((x) => `${x.from}-${x.to}: ${x.blocksPerSec.toFixed(0)}/s`).join(', ')}`)

    // The node's own account of the sync, logged right after its last import.
    let caughtUp: CaughtUp | undefined
    const lineDeadline = Date.now() + CAUGHT_UP_LINE_MS
    while (!(caughtUp = findCaughtUp(syncer.outputTail(400), built.height)) && Date.now() < lineDeadline) {
      await new Promise((r) => setTimeout(r, POLL_MS))
    }
    if (caughtUp) ui.log(`[sync] the node says: caught up to ${caughtUp.head} in ${caughtUp.seconds.toFixed(2)} s (${(caughtUp.head / caughtUp.seconds).toFixed(0)} blocks/s)`)
    else ui.log(`[sync] no "sync: caught up" line in the last lines of the node's log; reporting the RPC-observed time only`)

    // Same chain on both sides.
    const [a, b] = await Promise.all([headOf(sourceRpc), headOf(syncRpc!)])
    if (a.hash !== b.hash || b.hash !== built.headHash) {
      throw new BenchError('VERIFY_FAILED', `head mismatch: built ${built.headHash}, source ${a.number} ${a.hash}, synced ${b.number} ${b.hash}`)
    }
    ui.log(`[verify] both nodes at ${b.number} ${b.hash}`)

    let profile: ProfileSummary | undefined
    if (args.cpuProf) {
      await syncer.stop(STOP_GRACE_MS)
      profile = await readProfile(path.resolve(args.cpuProf), syncer.pid)
      ui.log(`[profile] ${(profile.totalMs / 1000).toFixed(1)} s sampled; self time by place:`)
      for (const p of profile.places.slice(0, 12)) ui.log(`  ${p.selfMs.toFixed(0).padStart(7)} ms  ${p.where}`)
      ui.log('[profile] top functions by self time (self / total ms):')
      for (const f of profile.functions.slice(0, 20)) ui.log(`  ${f.selfMs.toFixed(0).padStart(7)} / ${f.totalMs.toFixed(0).padStart(7)}  ${f.name}  ${f.where}`)
    }

    const result: PowSyncResult = {
      blocks: built.height,
      txsPerBlock: args.source ? Math.round(built.txs / built.height) : args.txsPerBlock,
      txs: built.txs,
      ...(args.source ? {} : { buildSeconds: built.seconds }),
      seconds,
      blocksPerSec: built.height / seconds,
      txsPerSec: built.txs / seconds,
      startupSeconds,
      ...(caughtUp ? { nodeSeconds: caughtUp.seconds, nodeBlocksPerSec: caughtUp.head / caughtUp.seconds } : {}),
      segments,
      headHash: b.hash,
      verified: true,
      profiled: Boolean(args.cpuProf),
    }
    return { result, ...(profile ? { profile } : {}) }
  } finally {
    for (const c of clients) c.close()
    await Promise.all(children.map((c) => c.stop(STOP_GRACE_MS)))
  }
}

async function main(): Promise<number> {
  const args = parsePowSyncArgs(process.argv.slice(2))
  if (args.help) {
    process.stdout.write(POW_SYNC_USAGE)
    return 0
  }
  keepTemp = args.keep
  const ui = new ProgressLine()
  try {
    const { result, profile } = await run(args, ui)
    process.stdout.write(`${powSyncJsonLine(result)}\n`)
    const out = path.resolve(args.out)
    await writeSection(out, 'pow-sync', renderPowSyncSection(result, machineInfo(), commandLine(REPO_ROOT), profile))
    ui.log(`wrote the pow-sync section of ${path.relative(process.cwd(), out) || out}`)
    return 0
  } finally {
    if (keepTemp && tempRoot) ui.log(`kept ${tempRoot} (genesis.json, source/, sync/)`)
  }
}

// Never leave a node running behind us, whatever ends this process.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanupSync()
    process.exit(130)
  })
}
process.on('exit', cleanupSync)

// Exits at once: ChildHandle.stop()'s grace timer would otherwise hold the process for its
// full length after the children are gone (stdout and stderr are synchronous on pipes and files).
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`pow-sync: ${errorCode(err)}: ${errorMessage(err)}\n`)
    process.exit(errorCode(err) === 'BAD_ARGS' ? 2 : 1)
  },
)
