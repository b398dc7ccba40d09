/**
 * Real Catena nodes as separate OS processes, for the integration tier: spawn
 * `node --import tsx src/cli/main.ts node ...`, wait until it serves JSON-RPC (its
 * <datadir>/node.json names this child's pid and eth_chainId answers), talk to it with a
 * tiny fetch JSON-RPC client, and stop it with SIGTERM or SIGKILL.
 *
 * Every child is killed when the test process exits, so a failing test never leaves a node
 * behind; tests still stop their nodes in t.after / finally.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as delay } from 'node:timers/promises'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

const DEFAULT_START_TIMEOUT_MS = 60_000
const DEFAULT_STOP_TIMEOUT_MS = 20_000
const POLL_MS = 25
const STDIO_CLOSE_GRACE_MS = 2_000
/** Output kept per child (its JSON log), so crash tests can read what the node said. */
const MAX_OUTPUT_CHARS = 16 * 1024 * 1024

/** What <datadir>/node.json holds while a node runs. */
export interface NodeInfo {
  rpcUrl: string
  wsUrl: string
  pid: number
  chainId: string
  genesisHash: string
  /** With --p2p-port: the node's peer id and multiaddrs. */
  peerId?: string
  p2p?: string[]
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface StartNodeOptions {
  /** Data directory; a fresh one under os.tmpdir() when omitted (the caller removes it). */
  datadir?: string
  /** Preset name or genesis file path (default 'dev'). */
  chain?: string
  /** Extra CLI arguments after the defaults. */
  args?: string[]
  /** How long to wait for the node to serve JSON-RPC (default 60 s). */
  timeoutMs?: number
}

/**
 * A JSON-RPC error response: `code`, `message` and `data` are the server's, `method` the call
 * that got it (failed tests print all four).
 */
export class RpcCallError extends Error {
  override readonly name = 'RpcCallError'
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message)
  }
}

/** The node process exited or never became ready; `output` is the tail of what it printed. */
export class NodeStartError extends Error {
  override readonly name = 'NodeStartError'
  readonly code = 'NODE_START_FAILED'
  constructor(
    message: string,
    readonly exit: ExitInfo | undefined,
    readonly output: string,
  ) {
    super(`${message}\n--- node output (tail) ---\n${output}`)
  }
}

export interface NodeProcess {
  readonly rpcUrl: string
  readonly wsUrl: string
  readonly datadir: string
  readonly info: NodeInfo
  readonly child: ChildProcess
  readonly pid: number
  /** Set once the process has exited. */
  readonly exitInfo: ExitInfo | undefined
  /** Resolves when the process exits. */
  readonly exited: Promise<ExitInfo>
  /** Calls a JSON-RPC method; throws RpcCallError on an error response. */
  rpc<T = any>(method: string, params?: unknown[]): Promise<T>
  /** Everything the node printed so far (stdout then stderr). */
  output(): string
  /** The node's JSON log lines, parsed (non-JSON lines are skipped). */
  logLines(): Record<string, unknown>[]
  /** SIGTERM, then waits for the exit (SIGKILL and an error if it hangs). */
  stop(): Promise<ExitInfo>
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<ExitInfo>
}

// ---- child bookkeeping: nothing outlives the test process ----

const live = new Set<ChildProcess>()
let exitHookInstalled = false

function track(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL')
  })
}

/** Kills every node this process started that is still running (a last-resort cleanup). */
export async function killAllNodes(): Promise<void> {
  const waits = [...live].map((c) => new Promise<void>((r) => { c.once('exit', () => r()); c.kill('SIGKILL') }))
  await Promise.all(waits)
}

// ---- temp datadirs ----

export function makeDatadir(prefix = 'catena-it-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export async function removeDatadir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 })
}

/**
 * What a test file started, for its after hook: datadirs to remove and nodes to kill (a test
 * deletes a node it stopped itself). Usage: `const { dirs, running, cleanup } = trackNodes(); after(cleanup)`.
 */
export function trackNodes(): { dirs: string[]; running: Set<NodeProcess>; cleanup: () => Promise<void> } {
  const dirs: string[] = []
  const running = new Set<NodeProcess>()
  const cleanup = async () => {
    await Promise.all([...running].map((n) => n.kill().catch(() => undefined)))
    await Promise.all(dirs.map(removeDatadir))
  }
  return { dirs, running, cleanup }
}

/** The node's head height (eth_blockNumber). */
export async function blockHeight(n: NodeProcess): Promise<bigint> {
  return BigInt(await n.rpc<`0x${string}`>('eth_blockNumber'))
}

// ---- JSON-RPC over fetch ----

let nextId = 1

/**
 * One JSON-RPC call over HTTP; throws RpcCallError on an error response, and gives up after
 * `timeoutMs` (default 30 s) so a hung node fails the test instead of stalling it.
 */
export async function rpcCall<T = any>(url: string, method: string, params: unknown[] = [], opts: { timeoutMs?: number } = {}): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  })
  const text = await res.text()
  let body: { result?: T; error?: { code: number; message: string; data?: unknown } }
  try {
    body = JSON.parse(text)
  } catch {
    throw new Error(`${method}: HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`)
  }
  if (body.error) throw new RpcCallError(method, body.error.code, body.error.message, body.error.data)
  if (!('result' in body)) throw new Error(`${method}: response has neither result nor error: ${text.slice(0, 200)}`)
  return body.result as T
}

// ---- waiting on conditions ----

/**
 * Polls `check` until it returns a value other than undefined/false, or throws after
 * `timeoutMs` with `what` in the message (and the last error `check` threw, if any).
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  let lastErr: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v
    } catch (err) {
      lastErr = err
    }
    if (Date.now() > deadline) {
      const why = lastErr === undefined ? '' : ` (last error: ${(lastErr as Error).message ?? String(lastErr)})`
      throw new Error(`timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${what}${why}`)
    }
    await delay(opts.intervalMs ?? POLL_MS)
  }
}

// ---- starting a node ----

/** Starts a node and resolves once it serves JSON-RPC; rejects with NodeStartError otherwise. */
export async function startNode(opts: StartNodeOptions = {}): Promise<NodeProcess> {
  const datadir = opts.datadir ?? (await makeDatadir())
  const args = [
    '--import', 'tsx', 'src/cli/main.ts', 'node',
    '--chain', opts.chain ?? 'dev',
    '--datadir', datadir,
    '--rpc-port', '0',
    '--log-format', 'json',
    ...(opts.args ?? []),
  ]
  const env = { ...process.env }
  delete env.NODE_TEST_CONTEXT // the node is not a test process
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  track(child)

  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { if (stdout.length < MAX_OUTPUT_CHARS) stdout += c })
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { if (stderr.length < MAX_OUTPUT_CHARS) stderr += c })
  const output = () => (stderr.length > 0 ? `${stdout}${stdout.endsWith('\n') || stdout === '' ? '' : '\n'}${stderr}` : stdout)
  const tail = (lines = 30) => output().trimEnd().split('\n').slice(-lines).join('\n')

  let exitInfo: ExitInfo | undefined
  // Resolves once the process is gone and its output is read to the end ('close' follows
  // 'exit' when the pipes are drained; a grandchild holding them open cannot stall us).
  const exited = new Promise<ExitInfo>((resolveExit) => {
    const done = () => resolveExit(exitInfo!)
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal }
      setTimeout(done, STDIO_CLOSE_GRACE_MS).unref()
    })
    child.once('close', () => {
      exitInfo ??= { code: child.exitCode, signal: child.signalCode }
      done()
    })
    child.once('error', (err) => {
      stderr += `\nspawn error: ${err.message}\n`
      exitInfo ??= { code: null, signal: null }
      done()
    })
  })

  const timeoutMs = opts.timeoutMs ?? DEFAULT_START_TIMEOUT_MS
  const deadline = Date.now() + timeoutMs
  let info: NodeInfo | undefined
  for (;;) {
    if (exitInfo !== undefined) {
      await exited
      throw new NodeStartError(`node exited before it was ready (code ${exitInfo.code}, signal ${exitInfo.signal})`, exitInfo, tail())
    }
    info ??= await readInfo(datadir, child.pid)
    if (info !== undefined) {
      const chainId = await rpcCall<string>(info.rpcUrl, 'eth_chainId', [], { timeoutMs: 2_000 }).catch(() => undefined)
      if (chainId !== undefined) break
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      await exited
      throw new NodeStartError(`node did not serve JSON-RPC within ${timeoutMs} ms`, exitInfo, tail())
    }
    await delay(POLL_MS)
  }

  const ready = info
  const waitExit = async (signal: NodeJS.Signals, timeout: number): Promise<ExitInfo> => {
    if (exitInfo !== undefined) return exitInfo
    child.kill(signal)
    // Cancelled once the child exits, so no timer keeps the test process alive.
    const cancel = new AbortController()
    const timer = delay(timeout, 'timeout' as const, { signal: cancel.signal }).catch(() => 'cancelled' as const)
    const result = await Promise.race([exited, timer])
    cancel.abort()
    if (result !== 'timeout' && result !== 'cancelled') return result
    child.kill('SIGKILL')
    await exited
    throw new Error(`node did not exit within ${timeout} ms of ${signal}; killed it\n${tail()}`)
  }
  return {
    rpcUrl: ready.rpcUrl,
    wsUrl: ready.wsUrl,
    datadir,
    info: ready,
    child,
    pid: child.pid!,
    get exitInfo() {
      return exitInfo
    },
    exited,
    rpc: (method, params = []) => rpcCall(ready.rpcUrl, method, params),
    output,
    logLines: () => parseLogLines(stdout),
    stop: () => waitExit('SIGTERM', DEFAULT_STOP_TIMEOUT_MS),
    kill: () => waitExit('SIGKILL', DEFAULT_STOP_TIMEOUT_MS),
  }
}

/** node.json if it names `pid` (a stale file from an earlier, killed node does not count). */
async function readInfo(datadir: string, pid: number | undefined): Promise<NodeInfo | undefined> {
  let text: string
  try {
    text = await readFile(join(datadir, 'node.json'), 'utf8')
  } catch {
    return undefined
  }
  try {
    const info = JSON.parse(text) as NodeInfo
    return info.pid === pid ? info : undefined
  } catch {
    return undefined
  }
}

function parseLogLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      out.push(JSON.parse(line))
    } catch {
      // a partial last line, or not a log line
    }
  }
  return out
}

// ---- other Catena programs (lab adversaries) ----

/** A TypeScript program of this repository run as its own process, speaking JSON lines on stdout. */
export interface ScriptProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** Resolves when the process exits. */
  readonly exited: Promise<ExitInfo>
  /** The JSON lines printed so far, parsed. */
  lines(): Record<string, unknown>[]
  /** The first line for which `match` is true (waits for it; fails if the process exits first). */
  waitForLine(what: string, match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  /** What it wrote to stderr (its logs). */
  stderr(): string
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<ExitInfo>
}

/** Starts `node --import tsx <script> ...args` in the repository root; killed with the test process. */
export function startScript(script: string, args: string[]): ScriptProcess {
  const env = { ...process.env }
  delete env.NODE_TEST_CONTEXT
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  track(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { if (stdout.length < MAX_OUTPUT_CHARS) stdout += c })
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { if (stderr.length < MAX_OUTPUT_CHARS) stderr += c })
  let exitInfo: ExitInfo | undefined
  const exited = new Promise<ExitInfo>((resolveExit) => {
    child.once('close', (code, signal) => resolveExit((exitInfo = { code, signal })))
    child.once('error', (err) => {
      stderr += `\nspawn error: ${err.message}\n`
      resolveExit((exitInfo ??= { code: null, signal: null }))
    })
  })
  const lines = () => parseLogLines(stdout)
  const tail = () => stderr.trimEnd().split('\n').slice(-30).join('\n')
  return {
    child,
    pid: child.pid!,
    exited,
    lines,
    stderr: () => stderr,
    waitForLine: async (what, match, timeoutMs = 60_000) => {
      const found = await waitFor(what, () => lines().find(match) ?? (exitInfo ? ('exited' as const) : undefined), { timeoutMs, intervalMs: 100 })
      if (found === 'exited') throw new Error(`${script} exited (code ${exitInfo!.code}, signal ${exitInfo!.signal}) before ${what}:\n${tail()}`)
      return found
    },
    stop: async (timeoutMs = DEFAULT_STOP_TIMEOUT_MS) => {
      if (exitInfo) return exitInfo
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const info = await exited
      clearTimeout(timer)
      return info
    },
  }
}
