/**
 * The light client against a full sync of the same Proof-of-Work chain, in one run:
 *
 *   node --import tsx bench/light.ts [--blocks 10000] [--txs-per-block 1] [--requests 200] [--out bench/RESULTS.md]
 *
 * 1. Mines the chain in this process into a LevelDB datadir (bench/lib/pow-chain.ts), and starts
 *    a node on it (not mining): the source.
 * 2. Light: a light client in this process syncs every header from the source's JSON-RPC
 *    through a byte-counting TCP relay; time from its start to its verified head = the source's.
 * 3. Full: a second node with an empty datadir syncs every block over libp2p from the source,
 *    its bootnode address pointing at another counting relay; time from its spawn to the head.
 * 4. Latency: --requests eth_getBalance calls, alternating, straight to the source and through the
 *    light client (each proven against the verified head's state root); medians and p90.
 * Prints one JSON line and rewrites the "light" section of the results file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { loadChainSpec } from '../src/chain/spec/index.ts'
import { LevelStore } from '../src/storage/index.ts'
import { startLightClient } from '../src/sync/light/start.ts'
import { BenchError } from './lib/errors.ts'
import { buildPowChain, powSyncSpec } from './lib/pow-chain.ts'
import { killAllChildrenSync, spawnChild, waitForChild, type ChildHandle } from './lib/process.ts'
import { ProgressLine } from './lib/progress.ts'
import { commandLine, machineInfo, writeSection } from './lib/report.ts'
import { countingRelay } from './lib/tcp-counter.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
type Hex = `0x${string}`

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i < 0) return def
  const v = Number(process.argv[i + 1])
  if (!Number.isSafeInteger(v) || v < 1) throw new BenchError('BAD_ARGS', `--${name} must be a positive whole number`)
  return v
}
const out = (() => {
  const i = process.argv.indexOf('--out')
  return i < 0 ? path.join(REPO_ROOT, 'bench/RESULTS.md') : path.resolve(process.argv[i + 1]!)
})()

let tempRoot: string | undefined
function cleanup(): void {
  killAllChildrenSync()
  if (tempRoot) rmSync(tempRoot, { recursive: true, force: true })
}
process.on('exit', cleanup)
process.on('SIGINT', () => process.exit(130))

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const j = (await res.json()) as { result?: T; error?: { message: string } }
  if (j.error) throw new BenchError('RPC_ERROR', `${method}: ${j.error.message}`)
  return j.result as T
}

function spawnNode(name: string, genesis: string, datadir: string, extra: string[]): ChildHandle {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'node', '--chain', genesis, '--datadir', datadir, '--rpc-port', '0', '--p2p-port', '0', '--log-format', 'json', ...extra]
  return spawnChild(name, process.execPath, args, { cwd: REPO_ROOT })
}

async function nodeInfo(datadir: string, child: ChildHandle): Promise<{ rpcUrl: string; p2p?: string[]; peerId?: string } | undefined> {
  const text = await readFile(path.join(datadir, 'node.json'), 'utf8').catch(() => undefined)
  if (!text) return undefined
  try {
    const info = JSON.parse(text) as { rpcUrl: string; pid: number; p2p?: string[]; peerId?: string }
    return info.pid === child.pid ? info : undefined
  } catch {
    return undefined
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!

async function main(): Promise<void> {
  const blocks = arg('blocks', 10_000)
  const txsPerBlock = arg('txs-per-block', 1)
  const requests = arg('requests', 200)
  const ui = new ProgressLine()
  tempRoot = mkdtempSync(path.join(os.tmpdir(), 'catena-light-bench-'))
  const genesis = path.join(tempRoot, 'genesis.json')
  const sourceDir = path.join(tempRoot, 'source')
  const fullDir = path.join(tempRoot, 'full')
  await mkdir(sourceDir)
  await mkdir(fullDir)
  await writeFile(genesis, JSON.stringify(powSyncSpec(), null, 2))
  const spec = loadChainSpec(genesis)
  const store = await LevelStore.open(path.join(sourceDir, 'chaindata'))
  const t0 = performance.now()
  const built = await buildPowChain({ store, spec, blocks, txsPerBlock, onBlock: (h) => ui.update(`[build] ${h}/${blocks} blocks`) })
  await store.close()
  ui.done(`[build] ${built.height} blocks in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

  const source = spawnNode('source node', genesis, sourceDir, [])
  const info = await waitForChild(source, 'serving', () => nodeInfo(sourceDir, source), 120_000)
  const rpcPort = Number(new URL(info.rpcUrl).port)
  const p2pAddr = info.p2p?.find((a) => a.includes('127.0.0.1'))
  if (!p2pAddr) throw new BenchError('START_FAILED', 'the source has no p2p address')
  const p2pPort = Number(/\/tcp\/(\d+)/.exec(p2pAddr)![1])
  const peerId = /\/p2p\/([^/]+)/.exec(p2pAddr)![1]!

  // Light: every header, verified.
  const rpcRelay = await countingRelay(rpcPort)
  const l0 = performance.now()
  const light = await startLightClient({ spec, rpcUrls: [`http://127.0.0.1:${rpcRelay.port}`], rpcPort: 0, log: pino({ level: 'silent' }), clientVersion: 'bench', syncEveryMs: 60_000, progress: (line) => ui.update(`[light] ${line}`) })
  const lightSeconds = (performance.now() - l0) / 1000
  if (light.client.headers.head.header.height !== BigInt(built.height)) throw new BenchError('VERIFY_FAILED', `the light client reached ${light.client.headers.head.header.height}, not ${built.height}`)
  const lightBytes = { down: rpcRelay.down, up: rpcRelay.up }
  ui.done(`[light] ${built.height} headers verified in ${lightSeconds.toFixed(1)} s, ${(lightBytes.down / 1e6).toFixed(2)} MB down`)

  // Full: every block, over libp2p through a counting relay.
  const p2pRelay = await countingRelay(p2pPort)
  const f0 = performance.now()
  const full = spawnNode('full node', genesis, fullDir, ['--bootnodes', `/ip4/127.0.0.1/tcp/${p2pRelay.port}/p2p/${peerId}`])
  let fullUrl: string | undefined
  await waitForChild(full, `height ${built.height}`, async () => {
    fullUrl ??= (await nodeInfo(fullDir, full))?.rpcUrl
    if (!fullUrl) return undefined
    const h = BigInt(await rpc<Hex>(fullUrl, 'eth_blockNumber', []))
    ui.update(`[full] ${h}/${built.height} blocks`)
    return h >= BigInt(built.height) ? true : undefined
  }, 3_600_000, 200)
  const fullSeconds = (performance.now() - f0) / 1000
  const fullBytes = { down: p2pRelay.down, up: p2pRelay.up }
  ui.done(`[full] ${built.height} blocks synced in ${fullSeconds.toFixed(1)} s, ${(fullBytes.down / 1e6).toFixed(2)} MB down`)
  await full.stop()

  // Latency: eth_getBalance direct vs verified, alternating.
  const address = '0x' + '00'.repeat(19) + '01'
  const direct: number[] = []
  const verified: number[] = []
  for (let i = 0; i < requests; i++) {
    const d0 = performance.now()
    const a = await rpc<Hex>(info.rpcUrl, 'eth_getBalance', [address, 'latest'])
    direct.push(performance.now() - d0)
    const v0 = performance.now()
    const b = await rpc<Hex>(light.url, 'eth_getBalance', [address, 'latest'])
    verified.push(performance.now() - v0)
    if (a !== b) throw new BenchError('VERIFY_FAILED', `balance ${a} direct, ${b} through the light client`)
    ui.update(`[latency] ${i + 1}/${requests}`)
  }
  ui.done(`[latency] ${requests} eth_getBalance each way`)
  await light.stop()
  await rpcRelay.close()
  await p2pRelay.close()
  await source.stop()

  const result = {
    blocks: built.height,
    txsPerBlock,
    light: { seconds: lightSeconds, bytesDown: lightBytes.down, bytesUp: lightBytes.up, headersPerSecond: built.height / lightSeconds },
    full: { seconds: fullSeconds, bytesDown: fullBytes.down, bytesUp: fullBytes.up, blocksPerSecond: built.height / fullSeconds },
    getBalanceMs: { direct: { p50: pct(direct, 50), p90: pct(direct, 90) }, verified: { p50: pct(verified, 50), p90: pct(verified, 90) } },
  }
  console.log(JSON.stringify({ bench: 'light', ...result }))
  const m = machineInfo()
  const r2 = (x: number) => x.toFixed(2)
  const body = `## Light client — header sync against full sync, and a verified eth_getBalance

One Proof-of-Work chain of ${built.height} blocks (${txsPerBlock} transfer${txsPerBlock === 1 ? '' : 's'} each, the pow-sync bench's trivial target), mined into LevelDB and served by one node. **light**: \`catena light\`'s client (in the bench process) syncs and verifies every header (parent link, rules, proof of work) over JSON-RPC batches of 100 \`catena_getHeader\`; **full**: a second node syncs and executes every block over libp2p. Bytes are counted by a TCP relay in front of the source (server to client / client to server). Latency: ${requests} \`eth_getBalance\` calls each way, alternating: straight to the node, and through the light client (an \`eth_getProof\` checked against the verified head's state root).

| sync | seconds | per second | MB down | MB up |
|---|---:|---:|---:|---:|
| light (headers, verified) | ${r2(lightSeconds)} | ${Math.round(result.light.headersPerSecond)} headers | ${r2(lightBytes.down / 1e6)} | ${r2(lightBytes.up / 1e6)} |
| full (blocks, executed) | ${r2(fullSeconds)} | ${Math.round(result.full.blocksPerSecond)} blocks | ${r2(fullBytes.down / 1e6)} | ${r2(fullBytes.up / 1e6)} |

**Light / full: ${r2(fullSeconds / lightSeconds)}x faster, ${r2(fullBytes.down / Math.max(1, lightBytes.down))}x fewer bytes down.**

| eth_getBalance | p50 ms | p90 ms |
|---|---:|---:|
| direct | ${r2(result.getBalanceMs.direct.p50)} | ${r2(result.getBalanceMs.direct.p90)} |
| verified (light client) | ${r2(result.getBalanceMs.verified.p50)} | ${r2(result.getBalanceMs.verified.p90)} |

Machine: ${m.cores} cores (${m.cpu}), Node ${m.node}, ${m.platform}, ${m.date}; load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}

Command (from the repo root): \`${commandLine(REPO_ROOT)}\``
  await writeSection(out, 'light', body)
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
})
