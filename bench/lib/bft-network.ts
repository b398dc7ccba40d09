/**
 * A local BFT network for benchmarks: N validator processes of a BFT chain preset (the
 * consortium chain: accounts 0..3 of the test mnemonic), each `catena node` with its own temp
 * datadir, RPC on a free port, P2P on 127.0.0.1, validator 0 as every other's bootnode.
 *
 * Children run in their own process groups and are tracked here: `stop()` ends them (SIGTERM,
 * then SIGKILL) and removes their datadirs, and `killBftNetworksSync()` is for exit/signal
 * handlers, so a failed or interrupted bench never leaves a validator running.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { bytesToHex } from '@ethereumjs/util'
import { loadChainSpec, type BftTimeoutsSpec } from '../../src/chain/spec/index.ts'
import { privateKeyToAddress } from '../../src/crypto/secp256k1.ts'
import { TEST_MNEMONIC, deriveKeys } from '../../src/wallet/hd.ts'
import { BenchError } from './errors.ts'
import { RpcClient, quantity } from './rpc.ts'
import { REPO_ROOT } from './targets.ts'

export type RunnerChoice = 'auto' | 'dist' | 'source'

export interface Runner {
  kind: 'dist' | 'source'
  /** Node arguments before the CLI's own (`node <args> node --chain ...`). */
  args: string[]
  /** Why this one (shown in the log and the report). */
  reason: string
}

/**
 * The compiled CLI (dist/cli/main.js) when it exists and is not older than any file under
 * src/ (a stale build would measure old code), else the sources through tsx.
 */
export function chooseRunner(choice: RunnerChoice, repoRoot = REPO_ROOT): Runner {
  const main = path.join(repoRoot, 'dist', 'cli', 'main.js')
  const dist: Runner = { kind: 'dist', args: [main], reason: 'dist/cli/main.js' }
  const source: Runner = { kind: 'source', args: ['--import', 'tsx', path.join(repoRoot, 'src', 'cli', 'main.ts')], reason: 'src/ via tsx' }
  if (choice === 'source') return { ...source, reason: 'src/ via tsx (--runner source)' }
  const built = existsSync(main)
  if (choice === 'dist') {
    if (!built) throw new BenchError('BAD_ARGS', `--runner dist: ${main} does not exist; run \`npm run build\` first`)
    return { ...dist, reason: 'dist/cli/main.js (--runner dist)' }
  }
  if (!built) return { ...source, reason: 'src/ via tsx (no dist/cli/main.js)' }
  const newest = newestMtime(path.join(repoRoot, 'src'))
  if (newest.ms > statSync(main).mtimeMs) {
    return { ...source, reason: `src/ via tsx (dist/ is older than ${path.relative(repoRoot, newest.file)}; \`npm run build\` to use it)` }
  }
  return dist
}

function newestMtime(dir: string): { ms: number; file: string } {
  let best = { ms: 0, file: dir }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    const m = entry.isDirectory() ? newestMtime(p) : { ms: statSync(p).mtimeMs, file: p }
    if (m.ms > best.ms) best = m
  }
  return best
}

export interface BftNetworkOptions {
  /** Chain preset or genesis file of a BFT chain whose validators are test-mnemonic accounts. */
  chain: string
  /** How many of the chain's validators to run (the first N). */
  validators: number
  runner: Runner
  startTimeoutMs: number
  /** Run this validator under `node --cpu-prof`; its profile(s) land in `profileDir` (see mainThreadProfile). */
  profileValidator?: number
  profileDir?: string
  /** Keep the datadirs (with each node's node.log) instead of removing them. */
  keep?: boolean
  logLevel?: string
}

export interface Validator {
  index: number
  /** The validator's account (hex). */
  address: string
  rpcUrl: string
  wsUrl: string
  p2p: string
  pid: number
  datadir: string
  /** The node's JSON log (stdout and stderr). */
  logFile: string
  rpc: RpcClient
}

export interface BftChainInfo {
  name: string
  /** bft, or poh (validators with stakes as their power; blocks final well after they are made). */
  engine: 'bft' | 'poh'
  chainId: bigint
  /** The slot length of a poh chain (ms). */
  blockTimeMs?: number
  blockGasLimit: bigint
  timeouts?: BftTimeoutsSpec
  /** Validators in the chain spec (the network may run fewer). */
  validatorCount: number
}

export interface BftNetwork {
  readonly chain: BftChainInfo
  readonly validators: readonly Validator[]
  readonly runner: Runner
  /** The temp dir holding every validator's datadir. */
  readonly root: string
  /** Heights of every validator (eth_blockNumber). */
  heights(): Promise<bigint[]>
  /**
   * Stops every validator (SIGTERM, SIGKILL after `graceMs`), reads their logs, and removes the
   * datadirs unless kept. Idempotent; resolves to each validator's complete log, by index.
   */
  stop(graceMs?: number): Promise<string[]>
}

interface Member {
  child: ChildProcess
  exited: Promise<void>
  exitInfo?: string
}

/** Every process group and temp dir we started that is still alive, for exit handlers. */
const liveGroups = new Set<number>()
const liveDirs = new Set<string>()

/** Kills every validator started here and removes their temp dirs (sync: for 'exit' and signal handlers). */
export function killBftNetworksSync(): void {
  for (const pid of liveGroups) signalGroup(pid, 'SIGKILL')
  liveGroups.clear()
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true })
  liveDirs.clear()
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

/**
 * The chain's parameters and the private keys of its first `n` validators: a BFT chain, or a
 * PoH chain (its validators' stakes are their voting power, and it too needs more than 2/3).
 */
export function bftChainKeys(chain: string, n: number): { info: BftChainInfo; keys: Uint8Array[] } {
  const spec = loadChainSpec(chain)
  const engine = spec.engine
  if (engine.type !== 'bft' && engine.type !== 'poh') throw new BenchError('BAD_ARGS', `chain ${chain} has engine "${engine.type}", not bft or poh`)
  const validators = engine.validators
  if (n < 1 || n > validators.length) {
    throw new BenchError('BAD_ARGS', `--validators must be from 1 to ${validators.length} (the validators of ${spec.name}), got ${n}`)
  }
  // Finality needs more than 2/3 of the voting power among the running validators.
  const total = validators.reduce((a, v) => a + v.power, 0n)
  const running = validators.slice(0, n).reduce((a, v) => a + v.power, 0n)
  if (running * 3n <= total * 2n) {
    throw new BenchError('BAD_ARGS', `--validators ${n}: ${running} of ${total} voting power cannot finalize blocks (more than 2/3 is needed)`)
  }
  const candidates = deriveKeys(TEST_MNEMONIC, 20).map((k) => k.privateKey)
  const keys = validators.slice(0, n).map((v) => {
    const want = bytesToHex(v.address)
    const key = candidates.find((k) => bytesToHex(privateKeyToAddress(k)) === want)
    if (!key) throw new BenchError('BAD_ARGS', `validator ${want} of ${spec.name} is not one of the test mnemonic's first 20 accounts`)
    return key
  })
  const info: BftChainInfo = {
    name: spec.name,
    engine: engine.type,
    chainId: spec.chainId,
    blockGasLimit: spec.limits.blockGasLimit,
    ...(engine.type === 'bft' ? { timeouts: engine.timeouts } : { blockTimeMs: spec.blockTimeMs }),
    validatorCount: validators.length,
  }
  return { info, keys }
}

/** Starts validator 0, then the others with it as bootnode; resolves once all serve JSON-RPC. */
export async function startBftNetwork(opts: BftNetworkOptions): Promise<BftNetwork> {
  const { info: chain, keys } = bftChainKeys(opts.chain, opts.validators)
  const root = await mkdtemp(path.join(tmpdir(), 'catena-bft-bench-'))
  if (!opts.keep) liveDirs.add(root)
  const members: Member[] = []
  const validators: Validator[] = []
  let stopped: Promise<string[]> | undefined

  const stop = (graceMs = 10_000): Promise<string[]> =>
    (stopped ??= (async () => {
      for (const v of validators) v.rpc.close()
      await Promise.all(members.map((m) => stopMember(m, graceMs)))
      const logs = await Promise.all(validators.map((v) => readFile(v.logFile, 'utf8').catch(() => '')))
      if (!opts.keep) await rm(root, { recursive: true, force: true, maxRetries: 3 })
      liveDirs.delete(root)
      return logs
    })())

  const launch = async (index: number, bootnodes: string[]): Promise<Validator> => {
    const datadir = path.join(root, `validator-${index}`)
    mkdirSync(datadir, { recursive: true, mode: 0o700 }) // private, as the node wants its datadir
    const keyFile = path.join(datadir, 'validator.key')
    await writeFile(keyFile, `${bytesToHex(keys[index]!)}\n`, { mode: 0o600 })
    const logFile = path.join(datadir, 'node.log')
    const profiling = opts.profileValidator === index && opts.profileDir !== undefined
    if (profiling) mkdirSync(opts.profileDir!, { recursive: true })
    const args = [
      // Node's default names: with tsx, its loader thread writes a profile of its own beside the main thread's.
      ...(profiling ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir!] : []),
      ...opts.runner.args,
      'node',
      '--chain', opts.chain,
      '--datadir', datadir,
      '--rpc-port', '0',
      '--p2p-port', '0',
      '--validator-key-file', keyFile,
      '--log-format', 'json',
      '--log-level', opts.logLevel ?? 'info',
      ...(bootnodes.length > 0 ? ['--bootnodes', bootnodes.join(',')] : []),
    ]
    // The log goes straight to a file: no pipe for this process to drain while it measures.
    const fd = openSync(logFile, 'a')
    let child: ChildProcess
    try {
      child = spawn(process.execPath, args, { cwd: REPO_ROOT, detached: true, stdio: ['ignore', fd, fd] })
    } finally {
      closeSync(fd)
    }
    const member: Member = { child, exited: Promise.resolve() }
    member.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        member.exitInfo = signal ? `signal ${signal}` : `code ${code}`
        if (child.pid !== undefined) {
          signalGroup(child.pid, 'SIGKILL') // anything it spawned goes too
          liveGroups.delete(child.pid)
        }
        resolve()
      })
      child.once('error', (err) => {
        member.exitInfo = `spawn error: ${err.message}`
        resolve()
      })
    })
    if (child.pid !== undefined) liveGroups.add(child.pid)
    members.push(member)
    const node = await waitForNodeJson(datadir, member, logFile, opts.startTimeoutMs, `validator ${index}`)
    const rpc = new RpcClient(node.rpcUrl, { maxSockets: 16 })
    return {
      index,
      address: bytesToHex(privateKeyToAddress(keys[index]!)),
      rpcUrl: node.rpcUrl,
      wsUrl: node.wsUrl,
      p2p: node.p2p,
      pid: child.pid!,
      datadir,
      logFile,
      rpc,
    }
  }

  try {
    validators.push(await launch(0, []))
    const boot = validators[0]!.p2p
    const rest = await Promise.all(Array.from({ length: opts.validators - 1 }, (_, i) => launch(i + 1, [boot])))
    validators.push(...rest)
  } catch (err) {
    await stop(2_000)
    throw err
  }

  return {
    chain,
    validators,
    runner: opts.runner,
    root,
    heights: () => Promise.all(validators.map(async (v) => quantity(await v.rpc.call('eth_blockNumber'), 'eth_blockNumber'))),
    stop,
  }
}

async function stopMember(m: Member, graceMs: number): Promise<void> {
  const pid = m.child.pid
  if (m.exitInfo !== undefined || pid === undefined) return
  // SIGTERM to the node itself (it stops cleanly and, under --cpu-prof, writes its profile).
  m.child.kill('SIGTERM')
  const gone = await Promise.race([m.exited.then(() => true), delay(graceMs).then(() => false)])
  if (!gone) {
    signalGroup(pid, 'SIGKILL')
    await m.exited
  }
  liveGroups.delete(pid)
}

interface NodeJson {
  rpcUrl: string
  wsUrl: string
  p2p: string
}

/** Waits for <datadir>/node.json naming this child's pid and a P2P address, and for eth_chainId to answer. */
async function waitForNodeJson(datadir: string, m: Member, logFile: string, timeoutMs: number, name: string): Promise<NodeJson> {
  const file = path.join(datadir, 'node.json')
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (m.exitInfo !== undefined) {
      throw new BenchError('START_FAILED', `${name} exited (${m.exitInfo}) before it served JSON-RPC\n${await logTail(logFile)}`)
    }
    const text = await readFile(file, 'utf8').catch(() => undefined)
    if (text !== undefined) {
      let info: { rpcUrl?: unknown; wsUrl?: unknown; pid?: unknown; p2p?: unknown } | undefined
      try {
        info = JSON.parse(text) as typeof info
      } catch {
        info = undefined // written atomically, but be safe
      }
      if (info && info.pid === m.child.pid) {
        const p2p = Array.isArray(info.p2p) ? info.p2p.find((a): a is string => typeof a === 'string') : undefined
        if (typeof info.rpcUrl !== 'string' || typeof info.wsUrl !== 'string' || p2p === undefined) {
          throw new BenchError('START_FAILED', `${name}: ${file} lacks rpcUrl, wsUrl or a p2p address: ${text.slice(0, 300)}`)
        }
        const rpc = new RpcClient(info.rpcUrl, { timeoutMs: 2_000 })
        const ok = await rpc.call('eth_chainId').then(() => true, () => false)
        rpc.close()
        if (ok) return { rpcUrl: info.rpcUrl, wsUrl: info.wsUrl, p2p }
      }
    }
    if (Date.now() > deadline) {
      throw new BenchError('START_FAILED', `${name} did not serve JSON-RPC within ${timeoutMs / 1000} s\n${await logTail(logFile)}`)
    }
    await Promise.race([delay(100), m.exited])
  }
}

async function logTail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text.trimEnd().split('\n').slice(-lines).join('\n') || '(no output)'
}

/** Waits until every validator is at `height` or above (blocks are being finalized). */
export async function waitForHeight(net: BftNetwork, height: bigint, timeoutMs: number): Promise<bigint[]> {
  const deadline = Date.now() + timeoutMs
  let last: bigint[] = []
  let lastErr = ''
  for (;;) {
    try {
      last = await net.heights()
      if (last.every((h) => h >= height)) return last
    } catch (err) {
      lastErr = err instanceof Error ? err.message : String(err)
    }
    if (Date.now() > deadline) {
      const tails = await Promise.all(net.validators.map(async (v) => `--- validator ${v.index} ---\n${await logTail(v.logFile, 8)}`))
      throw new BenchError(
        'START_FAILED',
        `validators did not reach height ${height} within ${timeoutMs / 1000} s (heights ${last.join(', ') || 'unknown'}${lastErr ? `; last error: ${lastErr}` : ''})\n${tails.join('\n')}`,
      )
    }
    await delay(200)
  }
}

/** What one node's JSON log says about consensus during a run. */
export interface NodeLogSummary {
  /** "bft block final" lines. */
  finalBlocks: number
  /** Of those, decided in a round above 0 (a round timed out: proposer slow, or a proposal not valid in time). */
  laterRounds: number
  maxRound: number
  /** "bft proposal is invalid" lines. */
  invalidProposals: number
  /** Lines at warn level (40) or above, by message. */
  warnings: Record<string, number>
}

/** Reads a node's JSON log lines (pino: level, msg, round...); non-JSON lines are skipped. */
export function summarizeNodeLog(text: string): NodeLogSummary {
  const s: NodeLogSummary = { finalBlocks: 0, laterRounds: 0, maxRound: 0, invalidProposals: 0, warnings: {} }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    let rec: { level?: unknown; msg?: unknown; round?: unknown }
    try {
      rec = JSON.parse(line) as typeof rec
    } catch {
      continue
    }
    const msg = typeof rec.msg === 'string' ? rec.msg : ''
    if (msg === 'bft block final') {
      s.finalBlocks++
      const round = typeof rec.round === 'number' ? rec.round : 0
      if (round > 0) s.laterRounds++
      if (round > s.maxRound) s.maxRound = round
    } else if (msg === 'bft proposal is invalid') {
      s.invalidProposals++
    }
    if (typeof rec.level === 'number' && rec.level >= 40) s.warnings[msg || '(no message)'] = (s.warnings[msg || '(no message)'] ?? 0) + 1
  }
  return s
}

/**
 * Whether every validator has the same block at the highest height they all have ('latest'),
 * or at the highest height all of them call final ('finalized': where chains whose heads may
 * differ for a while, PoH, must agree).
 */
export async function checkAgreement(net: BftNetwork, tag: 'latest' | 'finalized' = 'latest'): Promise<{ height: number; agree: boolean; hashes: string[] }> {
  const heights =
    tag === 'latest'
      ? await net.heights()
      : await Promise.all(net.validators.map(async (v) => quantity((await v.rpc.call<{ number?: unknown } | null>('eth_getBlockByNumber', ['finalized', false]))?.number, 'the finalized block number')))
  const common = heights.reduce((a, b) => (a < b ? a : b))
  const hashes = await Promise.all(
    net.validators.map(async (v) => {
      const b = await v.rpc.call<{ hash?: unknown } | null>('eth_getBlockByNumber', [`0x${common.toString(16)}`, false])
      return typeof b?.hash === 'string' ? b.hash : 'missing'
    }),
  )
  return { height: Number(common), agree: new Set(hashes).size === 1 && hashes[0] !== 'missing', hashes }
}

/** A V8 .cpuprofile (as `node --cpu-prof` writes it); times in microseconds of CLOCK_MONOTONIC (as process.hrtime). */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>
  samples?: number[]
  timeDeltas?: number[]
  startTime: number
  endTime: number
}

export interface ProfileSummary {
  /** Milliseconds of samples in the window. */
  sampledMs: number
  /** Share of the window the process was idle (waiting for I/O or timers). */
  idlePercent: number
  /** Functions with the most self time, as a share of the busy (non-idle) samples. */
  top: Array<{ fn: string; where: string; percent: number }>
  /** Self time by package (node_modules/<pkg>), Catena module (src/<dir>) or VM bucket, as a share of busy samples. */
  areas: Array<{ area: string; percent: number }>
}

/**
 * Where a process spent its CPU time, from its samples within `window` (monotonic µs; the whole
 * profile when omitted): the top functions by self time and the same grouped by package.
 */
export function summarizeProfile(profile: CpuProfile, opts: { window?: { startUs: number; endUs: number }; top?: number; root?: string } = {}): ProfileSummary {
  const root = opts.root ?? REPO_ROOT
  const hits = new Map<number, number>()
  let total = 0
  if (profile.samples && profile.timeDeltas && profile.samples.length === profile.timeDeltas.length) {
    let t = profile.startTime
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i]!
      if (opts.window && (t < opts.window.startUs || t > opts.window.endUs)) continue
      hits.set(profile.samples[i]!, (hits.get(profile.samples[i]!) ?? 0) + 1)
      total++
    }
  } else {
    for (const n of profile.nodes) if (n.hitCount) (hits.set(n.id, n.hitCount), (total += n.hitCount))
  }
  const byFn = new Map<string, { fn: string; where: string; hits: number }>()
  const byArea = new Map<string, number>()
  let idle = 0
  for (const n of profile.nodes) {
    const h = hits.get(n.id) ?? 0
    if (h === 0) continue
    const f = n.callFrame
    if (f.functionName === '(idle)') {
      idle += h
      continue
    }
    const file = f.url.replace(/^file:\/\//, '')
    const where = file ? `${file.startsWith(root) ? path.relative(root, file) : file}:${f.lineNumber + 1}` : ''
    const fn = f.functionName || '(anonymous)'
    const key = `${fn}@${where}`
    const e = byFn.get(key) ?? { fn, where, hits: 0 }
    e.hits += h
    byFn.set(key, e)
    const area = areaOf(fn, file, root)
    byArea.set(area, (byArea.get(area) ?? 0) + h)
  }
  const busy = total - idle
  const pct = (x: number) => (busy > 0 ? (x * 100) / busy : 0)
  const sampleUs = total > 0 && profile.samples ? (profile.endTime - profile.startTime) / profile.samples.length : 0
  return {
    sampledMs: (total * sampleUs) / 1000,
    idlePercent: total > 0 ? (idle * 100) / total : 0,
    top: [...byFn.values()].sort((a, b) => b.hits - a.hits).slice(0, opts.top ?? 20).map((e) => ({ fn: e.fn, where: e.where, percent: pct(e.hits) })),
    areas: [...byArea.entries()].sort((a, b) => b[1] - a[1]).map(([area, h]) => ({ area, percent: pct(h) })),
  }
}

/** Of the profiles in `dir` (one per thread), the one with the most busy samples: the main thread's. */
export function mainThreadProfile(dir: string): { file: string; profile: CpuProfile } | undefined {
  let best: { file: string; profile: CpuProfile; busy: number } | undefined
  let names: string[]
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  } catch {
    return undefined
  }
  for (const name of names) {
    const file = path.join(dir, name)
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
    const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id))
    const busy = (profile.samples ?? []).reduce((a, id) => a + (idle.has(id) ? 0 : 1), 0)
    if (!best || busy > best.busy) best = { file, profile, busy }
  }
  return best && { file: best.file, profile: best.profile }
}

function areaOf(fn: string, file: string, root: string): string {
  if (!file) return fn.startsWith('(') ? fn : '(native)'
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)
  if (nm) return nm[1]!
  if (file.startsWith('node:')) return 'node: internals'
  const rel = file.startsWith(root) ? path.relative(root, file) : file
  const mod = /^(?:src|dist)\/([^/]+)/.exec(rel)
  return mod ? `catena ${mod[1]}` : rel
}

/** CPU seconds (user + system) each validator process has used so far; undefined where /proc is not readable (not Linux). */
export function cpuSeconds(net: Pick<BftNetwork, 'validators'>): Array<number | undefined> {
  return net.validators.map((v) => {
    try {
      const stat = readFileSync(`/proc/${v.pid}/stat`, 'utf8')
      // Fields after the command name "(...)": state is field 3, utime 14, stime 15 (clock ticks, 100/s on Linux).
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return (Number(rest[11]) + Number(rest[12])) / 100
    } catch {
      return undefined
    }
  })
}
