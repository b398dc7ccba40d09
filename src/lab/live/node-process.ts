/**
 * Real `catena node` processes for the lab's live experiments: each one started with the
 * same CLI a user runs, in its own datadir, on 127.0.0.1 with ports the kernel picks, and
 * stopped with SIGTERM (SIGKILL after a grace period). Ready = it wrote node.json naming
 * its own pid (RPC is served by then).
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RpcClient } from '../../cli/rpc-client.ts'

/** The CLI entry beside this file's tree (src/cli/main.ts from source, dist/cli/main.js built). */
const CLI_ENTRY = fileURLToPath(new URL(`../../cli/main${extname(import.meta.url)}`, import.meta.url))
const FROM_SOURCE = extname(import.meta.url) === '.ts'

export interface LiveNodeInfo {
  rpcUrl: string
  pid: number
  p2p?: string[]
  peerId?: string
}

export class LiveNode {
  readonly rpc: RpcClient
  private constructor(
    readonly name: string,
    readonly datadir: string,
    readonly info: LiveNodeInfo,
    private readonly child: ChildProcess,
  ) {
    this.rpc = new RpcClient(info.rpcUrl, { timeoutMs: 15_000 })
  }

  /** The address other nodes dial (TCP on 127.0.0.1, with the peer id). */
  get p2p(): string {
    const addr = this.info.p2p?.find((a) => a.includes('/ip4/127.0.0.1/'))
    if (!addr) throw new Error(`${this.name} has no p2p address on 127.0.0.1`)
    return addr
  }

  /** The REST API root (/v1) of this node. */
  get restUrl(): string {
    return this.info.rpcUrl.replace(/\/$/, '') + '/v1'
  }

  static async start(name: string, datadir: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<LiveNode> {
    const timeoutMs = opts.timeoutMs ?? 60_000
    await rm(join(datadir, 'node.json'), { force: true })
    const argv = [...(FROM_SOURCE ? ['--import', 'tsx'] : []), CLI_ENTRY, 'node', '--datadir', datadir, '--rpc-port', '0', '--log-format', 'json', ...args]
    const log = createWriteStream(join(datadir, 'node.log'), { flags: 'a', mode: 0o600 })
    const env = { ...process.env, ...opts.env }
    delete env.NODE_TEST_CONTEXT // a node started from a test is not a test process
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env })
    child.stdout!.pipe(log)
    child.stderr!.pipe(log)
    let exited: string | undefined
    child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`))
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (exited) throw new Error(`${name} ${exited}; see ${join(datadir, 'node.log')}`)
      const text = await readFile(join(datadir, 'node.json'), 'utf8').catch(() => undefined)
      if (text) {
        try {
          const info = JSON.parse(text) as LiveNodeInfo
          if (info.pid === child.pid) return new LiveNode(name, datadir, info, child)
        } catch {
          // an old file may linger until the new one is renamed over it
        }
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`${name} did not start within ${timeoutMs / 1000} s; see ${join(datadir, 'node.log')}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child
    if (child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>((done) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      child.once('exit', () => {
        clearTimeout(timer)
        done()
      })
      child.kill('SIGTERM')
    })
  }
}

/** Polls `check` every `everyMs` until it returns a value, or fails after `timeoutMs` naming `what`. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
