/**
 * Runs a local network as separate OS processes: one `catena node` per member, each with its
 * own datadir (0700), RPC and P2P ports on 127.0.0.1, logs in <datadir>/node.log. Node 0 seals
 * blocks (dev engine); the others follow it over libp2p. Every node has all the others as
 * bootnodes (see plan.ts). Datadirs are kept, so starting the devnet again resumes the same
 * chain; the supervisor stops every node on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { chmod, readFile, rm, writeFile } from 'node:fs/promises'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import { DEV_ACCOUNTS, loadChainSpec } from '../../chain/spec/index.ts'
import { TEST_MNEMONIC, deriveKeys } from '../../wallet/hd.ts'
import { join, resolve } from 'node:path'
import { bootnodesFor, planMembers, type PlannedMember } from './plan.ts'

export interface DevnetOptions {
  nodes: number
  chain: string
  datadir: string
  /** First RPC port (node i uses rpcPort + i); 0 = any free port for every node. */
  rpcPort: number
  p2pPort: number
  fresh: boolean
  startTimeoutMs?: number
  /** PoW chains: how many nodes mine (the first ones); default all. */
  miners?: number
  /** PoW chains: worker threads per miner; default 1 (several miners share this machine). */
  minerThreads?: number
  /**
   * Dev chains: the producer also seals a block every this many ms when no tx comes (0 = only
   * on txs). Default 2000, so the explorer shows the network working from the first minute.
   */
  blockIntervalMs?: number
}

export interface DevnetMember {
  index: number
  role: 'producer' | 'follower' | 'validator' | 'miner'
  rpcUrl: string
  wsUrl: string
  p2p: string
  pid: number
  datadir: string
  /** The `catena` arguments that run this node (`catena <args...>` restarts it by hand). */
  args: string[]
}

interface RunningMember extends DevnetMember {
  child: ChildProcess
}

export class Devnet {
  private readonly members: RunningMember[] = []
  private stopping = false
  /** BFT chains: the private key of validator i (test-mnemonic keys matched to the spec's validators). */
  private validatorKeys?: Uint8Array[]
  private pow = false

  constructor(private readonly o: DevnetOptions) {}

  get nodes(): DevnetMember[] {
    return this.members.map(({ child: _child, ...m }) => m)
  }

  async start(onUnexpectedExit: (m: DevnetMember, code: number | null, signal: string | null) => void): Promise<void> {
    this.validatorKeys = validatorKeysFor(this.o.chain, this.o.nodes)
    this.pow = loadChainSpec(this.o.chain).engine.type === 'pow'
    if (this.o.miners !== undefined && !this.pow) throw new Error('--miners is for PoW chains (bitcoin-like, bitcoin-cash-like)')
    if (this.o.miners !== undefined && (this.o.miners < 0 || this.o.miners > this.o.nodes)) throw new Error(`--miners must be between 0 and --nodes (${this.o.nodes})`)
    const root = resolve(this.o.datadir)
    if (this.o.fresh) await rm(root, { recursive: true, force: true })
    const plan = await planMembers(root, this.o.nodes, this.o.p2pPort)
    for (let i = 0; i < this.o.nodes; i++) {
      const member = await this.startMember(plan[i]!, bootnodesFor(plan, i))
      member.child.once('exit', (code, signal) => {
        if (!this.stopping) onUnexpectedExit(member, code, signal)
      })
      this.members.push(member)
    }
  }

  private async startMember({ index, datadir, p2pPort }: PlannedMember, bootnodes: string[]): Promise<RunningMember> {
    await rm(join(datadir, 'node.json'), { force: true })
    const port = (base: number) => String(base === 0 ? 0 : base + index)
    const key = this.validatorKeys?.[index]
    const peers = bootnodes.length > 0 ? ['--bootnodes', bootnodes.join(',')] : []
    let engineArgs: string[]
    if (this.validatorKeys) {
      if (!key) throw new Error(`the chain has ${this.validatorKeys.length} validators; run at most that many nodes`)
      const keyFile = join(datadir, 'validator.key')
      await writeFile(keyFile, bytesToHex(key) + '\n', { mode: 0o600 })
      await chmod(keyFile, 0o600) // an existing file keeps its old mode through writeFile
      engineArgs = ['--validator-key-file', keyFile, ...peers]
    } else if (this.pow) {
      // Miners credit distinct test accounts, so each one's blocks are visible in balances.
      const mining = index < (this.o.miners ?? this.o.nodes)
      engineArgs = [
        ...(mining ? ['--mine', '--miner-threads', String(this.o.minerThreads ?? 1), '--coinbase', DEV_ACCOUNTS[index % DEV_ACCOUNTS.length]!] : []),
        ...peers,
      ]
    } else {
      engineArgs = [...(index === 0 ? ['--block-interval', String(this.o.blockIntervalMs ?? 2000)] : ['--automine', 'false']), ...peers]
    }
    const catenaArgs = [
      'node',
      '--chain', this.o.chain,
      '--datadir', datadir,
      '--rpc-port', port(this.o.rpcPort),
      '--p2p-port', String(p2pPort),
      '--log-format', 'json',
      ...engineArgs,
    ]
    const log = createWriteStream(join(datadir, 'node.log'), { flags: 'a', mode: 0o600 })
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...catenaArgs], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout!.pipe(log)
    child.stderr!.pipe(log)
    const info = await this.waitForInfo(datadir, child)
    return {
      index,
      role: this.validatorKeys ? 'validator' : this.pow ? (index < (this.o.miners ?? this.o.nodes) ? 'miner' : 'follower') : index === 0 ? 'producer' : 'follower',
      rpcUrl: info.rpcUrl,
      wsUrl: info.wsUrl,
      p2p: info.p2p?.[0] ?? '',
      pid: child.pid!,
      datadir,
      args: catenaArgs,
      child,
    }
  }

  /** Waits until the node wrote node.json naming its own pid (it serves RPC by then). */
  private async waitForInfo(datadir: string, child: ChildProcess) {
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 60_000)
    let exited: string | undefined
    child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`))
    for (;;) {
      if (exited) throw new Error(`node in ${datadir} ${exited}; see ${join(datadir, 'node.log')}`)
      const text = await readFile(join(datadir, 'node.json'), 'utf8').catch(() => undefined)
      if (text) {
        try {
          const info = JSON.parse(text) as { rpcUrl: string; wsUrl: string; pid: number; p2p?: string[] }
          if (info.pid === child.pid) return info
        } catch {
          // written atomically, but an old file may linger: keep waiting
        }
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`node in ${datadir} did not start in time; see ${join(datadir, 'node.log')}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  /** Stops every node (SIGTERM, then SIGKILL after a grace period) and waits for them. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true
    await Promise.all(
      this.members.map(
        ({ child }) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done()
            const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
            child.once('exit', () => {
              clearTimeout(timer)
              done()
            })
            child.kill('SIGTERM')
          }),
      ),
    )
  }
}

/**
 * For a BFT or PoH chain, the keys of its validators in order, taken from the test mnemonic (the
 * consortium preset's validators are its accounts 0..3). Undefined for other engines.
 */
function validatorKeysFor(chain: string, nodes: number): Uint8Array[] | undefined {
  const spec = loadChainSpec(chain)
  if (spec.engine.type !== 'bft' && spec.engine.type !== 'poh') return undefined
  const candidates = deriveKeys(TEST_MNEMONIC, 20).map((k) => k.privateKey)
  const keys = spec.engine.validators.map((v) => {
    const key = candidates.find((k) => bytesToHex(privateToAddress(k)) === bytesToHex(v.address))
    if (!key) throw new Error(`devnet runs validators whose keys come from the test mnemonic; ${bytesToHex(v.address)} is not one of them`)
    return key
  })
  if (nodes > keys.length) throw new Error(`the chain has ${keys.length} validators; --nodes must be at most ${keys.length}`)
  return keys
}
