/**
 * Several BFT engines with real chains (MemoryStore + BlockImporter) over a MemoryNetwork.
 * Each chain imports with the production rules (BftEngine.rulesFor: commit certificates
 * required, no side branches), and a validator that falls behind catches up the way block
 * sync does: blocks with their certificates, through the wire encoding and importRaw.
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { decodeBlockEnvelope, encodeBlockEnvelope } from '../../../../src/chain/block.ts'
import { BlockError } from '../../../../src/chain/errors.ts'
import { loadChainSpec, type ChainSpec } from '../../../../src/chain/spec/index.ts'
import { MemoryWalStorage } from '../../../../src/consensus/bft/index.ts'
import { BftEngine, MemoryNetwork, type BftEngineConfig, type BftRules } from '../../../../src/consensus/bft-engine/index.ts'
import type { EngineHost } from '../../../../src/consensus/index.ts'
import { KEYS, openTestChain, type TestChain } from '../../../helpers/chain.ts'
import { engineHost } from '../../../helpers/engine-host.ts'

/** The consortium preset (chain id 1338, free gas, no reward, 4 validators). */
export function consortiumChainSpec(): ChainSpec {
  return loadChainSpec('consortium')
}

/** Short timeouts so a test sees many heights and round changes in seconds. */
export function fastConfig(spec: ChainSpec = consortiumChainSpec()): BftEngineConfig {
  if (spec.engine.type !== 'bft') throw new Error('not a bft chain spec')
  return { validators: spec.engine.validators, timeouts: { proposeMs: 400, prevoteMs: 150, precommitMs: 150, deltaMs: 100, commitMs: 20 } }
}

/** Someone a validator can catch up from: an honest validator, or a lying peer in a simulation. */
export interface SyncSource {
  readonly id: string
  readonly running: boolean
  /** The head height it claims. */
  readonly height: bigint
  /** Its block at `height` as it travels (RLP [header, body, proof]), if it has one. */
  envelopeAt(height: bigint): Uint8Array | undefined
}

export class TestValidator implements SyncSource {
  engine?: BftEngine
  readonly wal = new MemoryWalStorage()
  pending: TypedTransaction[] = []
  /** Set: the engine keeps its WAL in a file here instead of memory. */
  datadir?: string
  /** The other validators (and maybe liars), to catch up from when the engine asks for sync. */
  peers: SyncSource[] = []
  syncs = 0
  /** Each block this validator built as proposer: how many ms its tx deadline left, and its tx count. */
  readonly builds: Array<{ budgetMs: number | undefined; txs: number }> = []
  /** Peers whose blocks failed import here: peer id -> reasons (what block sync penalizes). */
  readonly penalized = new Map<string, string[]>()
  /** Set before start: the engine runs without a key, following consensus without voting (a non-validator full node). */
  follower = false
  private constructor(
    readonly index: number,
    readonly t: TestChain,
    /** The rules the importer applies: the production engine's. */
    readonly rules: BftRules,
    private readonly net: MemoryNetwork,
    private readonly config: BftEngineConfig,
  ) {}

  static async create(index: number, net: MemoryNetwork, spec: ChainSpec, config: BftEngineConfig): Promise<TestValidator> {
    const rules = BftEngine.rulesFor({ chainId: spec.chainId, config })
    return new TestValidator(index, await openTestChain({ spec, engine: rules }), rules, net, config)
  }

  get id(): string {
    return `v${this.index}`
  }

  get height(): bigint {
    return this.t.chain.head.header.height
  }

  get running(): boolean {
    return this.engine !== undefined
  }

  host(): EngineHost {
    const t = this.t
    const base = engineHost(t, { txs: () => this.pending, requestSync: () => void this.syncFromPeers() })
    return {
      ...base,
      build: async (opts) => {
        const budgetMs = opts.deadline === undefined ? undefined : opts.deadline - Date.now()
        const built = await base.build(opts)
        this.builds.push({ budgetMs, txs: built.block.txs.length })
        return built
      },
      commit: async (executed, proof) => {
        const imported = await base.commit(executed, proof)
        const included = new Set(imported.block.txs.map((tx) => bytesToHex(tx.hash())))
        this.pending = this.pending.filter((tx) => !included.has(bytesToHex(tx.hash())))
        return imported
      },
    }
  }

  envelopeAt(height: bigint): Uint8Array | undefined {
    const hash = this.t.chain.getHashAt(height)
    return hash ? encodeBlockEnvelope(this.t.chain.getBlock(hash)!, this.t.chain.getProof(hash)) : undefined
  }

  /**
   * Block sync in one process, as BlockSync does it: every block a running peer claims above
   * our head, as it travels, through importRaw; a peer whose block fails is penalized and
   * dropped for this run, and the next peer is tried.
   */
  async syncFromPeers(): Promise<void> {
    this.syncs++
    for (const peer of this.peers) {
      while (peer.running && this.running && peer.height > this.height) {
        const wire = peer.envelopeAt(this.height + 1n)
        if (!wire) break
        try {
          await this.t.importer.importRaw(decodeBlockEnvelope(wire))
        } catch (err) {
          if (err instanceof BlockError && (err.code === 'ALREADY_KNOWN' || err.code === 'NOT_EXTENDING_HEAD')) continue
          const reasons = this.penalized.get(peer.id) ?? []
          reasons.push((err as Error).message)
          this.penalized.set(peer.id, reasons)
          break
        }
      }
    }
  }

  async start(): Promise<void> {
    this.net.setConnected(this.id, true)
    this.engine = new BftEngine({
      chainId: this.t.spec.chainId,
      config: this.config,
      ...(this.follower ? {} : { privateKey: KEYS[this.index] }),
      transport: this.net.transport(this.id),
      common: this.t.common,
      ...(this.datadir ? { datadir: this.datadir } : { walStorage: this.wal }),
      fetchRetryMs: 100,
      regossipMs: 250,
    })
    await this.engine.start(this.host())
  }

  /** A crash as seen by the others: no more messages either way; chain and WAL survive. */
  async stop(): Promise<void> {
    this.net.setConnected(this.id, false)
    await this.engine?.stop()
    this.engine = undefined
  }
}

/** `n` validators, and `followers` non-validator full nodes (started first, so they see every height) that sync from the validators. */
export async function startCluster(
  n = 4,
  opts: { maxInlineBlockBytes?: number; followers?: number } = {},
): Promise<{ net: MemoryNetwork; nodes: TestValidator[]; followers: TestValidator[]; spec: ChainSpec; close: () => Promise<void> }> {
  const net = new MemoryNetwork(opts.maxInlineBlockBytes)
  const spec = consortiumChainSpec()
  const config = fastConfig(spec)
  const nodes = await Promise.all(Array.from({ length: n }, (_, i) => TestValidator.create(i, net, spec, config)))
  const followers = await Promise.all(Array.from({ length: opts.followers ?? 0 }, (_, i) => TestValidator.create(n + i, net, spec, config)))
  for (const v of nodes) v.peers = nodes.filter((p) => p !== v)
  for (const f of followers) {
    f.follower = true
    f.peers = nodes
    await f.start()
  }
  for (const v of nodes) await v.start()
  return {
    net,
    nodes,
    followers,
    spec,
    close: async () => {
      for (const v of [...nodes, ...followers]) await v.stop()
      net.close()
    },
  }
}

/** Polls `cond` on a timer until it holds or `timeoutMs` passes. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
