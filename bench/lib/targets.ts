/**
 * Benchmark targets: Catena, Hardhat's node and Ganache, each started as a child process
 * on 127.0.0.1 with chain id 1337 and the standard test mnemonic prefunding its accounts.
 * A target is ready when eth_chainId answers with the expected id.
 */
import { existsSync, rmSync } from 'node:fs'
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BenchError } from './errors.ts'
import { freePort, spawnChild, waitForChild, type ChildHandle } from './process.ts'
import { RpcClient, quantity } from './rpc.ts'

export const TARGET_NAMES = ['catena', 'hardhat', 'ganache'] as const
export type TargetName = (typeof TARGET_NAMES)[number]

export function isTargetName(s: string): s is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(s)
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const HARDHAT_DIR = path.join(REPO_ROOT, 'bench/hardhat')

/** Temp dirs not yet removed, so an interrupted run can still clean up. */
const tempDirs = new Set<string>()

export function removeTempDirsSync(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  tempDirs.clear()
}

export interface StartOptions {
  chainId: number
  mnemonic: string
  /** How many mnemonic accounts the target must prefund. */
  accounts: number
  /** How long to wait for the target to answer eth_chainId. */
  startTimeoutMs: number
  /** Sockets kept open to the target (requests in flight plus a few). */
  maxSockets: number
  /** Keep `hardhat node`'s per-request console log on (its default, about half as fast). */
  hardhatLog?: boolean
}

export interface RunningTarget {
  readonly name: TargetName
  readonly url: string
  readonly rpc: RpcClient
  /** web3_clientVersion, or the package version when the target does not answer it. */
  readonly version: string
  readonly child: ChildHandle
  /** Stops the process (SIGTERM, then SIGKILL) and removes its temp dir. Idempotent. */
  stop(): Promise<void>
}

interface Launch {
  child: ChildHandle
  /** Resolves to the JSON-RPC URL once the target has told us (or we chose) where it listens. */
  url: () => Promise<string>
  tempDir?: string
  fallbackVersion: string
  /** Run once the target is ready (e.g. quiet per-request logging). */
  afterReady?: (rpc: RpcClient) => Promise<void>
}

export async function startTarget(name: TargetName, opts: StartOptions): Promise<RunningTarget> {
  const launch = await LAUNCHERS[name](opts)
  let stopped: Promise<void> | undefined
  let rpc: RpcClient | undefined
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      rpc?.close()
      await launch.child.stop()
      if (launch.tempDir) {
        await rm(launch.tempDir, { recursive: true, force: true })
        tempDirs.delete(launch.tempDir)
      }
    })())
  try {
    const url = await launch.url()
    rpc = new RpcClient(url, { maxSockets: opts.maxSockets })
    const client = rpc
    await waitForChild(
      launch.child,
      `eth_chainId answered on ${url}`,
      async () => {
        const id = quantity(await client.call('eth_chainId'), 'eth_chainId')
        if (id !== BigInt(opts.chainId)) {
          throw new BenchError('WRONG_CHAIN', `${name} reports chain id ${id}, expected ${opts.chainId}`)
        }
        return id
      },
      opts.startTimeoutMs,
    )
    await launch.afterReady?.(client)
    const version = await client.call<string>('web3_clientVersion').catch(() => launch.fallbackVersion)
    return { name, url, rpc: client, version: String(version), child: launch.child, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

const LAUNCHERS: Record<TargetName, (opts: StartOptions) => Promise<Launch>> = {
  async hardhat(opts) {
    const port = await freePort()
    const bin = await realpath(path.join(REPO_ROOT, 'node_modules/.bin/hardhat'))
    const child = spawnChild(
      'hardhat',
      process.execPath,
      [bin, '--config', path.join(HARDHAT_DIR, 'hardhat.config.cjs'), 'node', '--hostname', '127.0.0.1', '--port', String(port)],
      {
        cwd: HARDHAT_DIR,
        env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', BENCH_ACCOUNTS: String(Math.max(opts.accounts, 20)) },
      },
    )
    return {
      child,
      url: async () => `http://127.0.0.1:${port}`,
      fallbackVersion: `hardhat ${await packageVersion('hardhat')}`,
      // `hardhat node` prints every call and transaction to stdout, which halves its
      // throughput here; Ganache runs with --logging.quiet, so by default turn Hardhat's
      // request log off too (both peers at their fastest).
      afterReady: async (rpc) => {
        if (!opts.hardhatLog) await rpc.call('hardhat_setLoggingEnabled', [false])
      },
    }
  },

  async ganache(opts) {
    const port = await freePort()
    const bin = await realpath(path.join(REPO_ROOT, 'node_modules/.bin/ganache'))
    const child = spawnChild('ganache', process.execPath, [
      bin,
      '--chain.chainId', String(opts.chainId),
      '--wallet.mnemonic', opts.mnemonic,
      '--wallet.totalAccounts', String(Math.max(opts.accounts, 10)),
      '--server.host', '127.0.0.1',
      '--server.port', String(port),
      '--logging.quiet',
      // Instamine: a block per transaction, mined before eth_sendRawTransaction returns.
      '--miner.blockTime', '0',
      '--miner.instamine', 'eager',
    ])
    return { child, url: async () => `http://127.0.0.1:${port}`, fallbackVersion: `ganache ${await packageVersion('ganache')}` }
  },

  async catena(opts) {
    const datadir = await mkdtemp(path.join(tmpdir(), 'catena-bench-'))
    tempDirs.add(datadir)
    // The compiled node when `npm run build` has run (as users run it), else the sources via tsx.
    const compiled = existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'main.js'))
    const entry = compiled ? ['bin/catena.js'] : ['--import', 'tsx', 'src/cli/main.ts']
    const child = spawnChild(
      'catena',
      process.execPath,
      [...entry, 'node', '--chain', 'dev', '--datadir', datadir, '--rpc-port', '0', '--log-level', 'warn'],
      { cwd: REPO_ROOT },
    )
    const nodeJson = path.join(datadir, 'node.json')
    return {
      child,
      tempDir: datadir,
      // The node writes <datadir>/node.json = {rpcUrl, wsUrl, pid} once it is listening.
      url: () =>
        waitForChild(
          child,
          `${nodeJson} was written`,
          async () => {
            const text = await readFile(nodeJson, 'utf8').catch(() => undefined)
            if (text === undefined) return undefined
            let info: { rpcUrl?: unknown }
            try {
              info = JSON.parse(text) as { rpcUrl?: unknown }
            } catch {
              return undefined // half-written; try again
            }
            if (typeof info.rpcUrl !== 'string') {
              throw new BenchError('START_FAILED', `${nodeJson} has no rpcUrl string: ${text.slice(0, 200)}`)
            }
            return info.rpcUrl
          },
          opts.startTimeoutMs,
        ),
      fallbackVersion: `catena ${await packageVersion('.')}`,
    }
  },
}

async function packageVersion(pkg: string): Promise<string> {
  const file = pkg === '.' ? path.join(REPO_ROOT, 'package.json') : path.join(REPO_ROOT, 'node_modules', pkg, 'package.json')
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as { version?: unknown }
    return typeof json.version === 'string' ? json.version : 'unknown'
  } catch {
    return 'unknown'
  }
}
