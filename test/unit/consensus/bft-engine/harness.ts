/** Several BFT engines with real chains (MemoryStore + BlockImporter) over a MemoryNetwork. */
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import pino from 'pino'
import { loadChainSpec, type ChainSpec } from '../../../../src/chain/spec/index.ts'
import { MemoryWalStorage } from '../../../../src/consensus/bft/index.ts'
import {
  BftEngine,
  BftSealVerifier,
  MemoryNetwork,
  ValidatorSchedule,
  type BftEngineConfig,
  type BftHost,
} from '../../../../src/consensus/bft-engine/index.ts'
import { KEYS, openTestChain, type TestChain } from '../../../helpers/chain.ts'

/** The consortium preset (chain id 1338, free gas, no reward, 4 validators). */
export function consortiumChainSpec(): ChainSpec {
  return loadChainSpec('consortium')
}

/** Short timeouts so a test sees many heights and round changes in seconds. */
export function fastConfig(spec: ChainSpec = consortiumChainSpec()): BftEngineConfig {
  if (spec.engine.type !== 'bft') throw new Error('not a bft chain spec')
  return { validators: spec.engine.validators, timeouts: { proposeMs: 400, prevoteMs: 150, precommitMs: 150, deltaMs: 100, commitMs: 20 } }
}

export class TestValidator {
  engine?: BftEngine
  readonly wal = new MemoryWalStorage()
  pending: TypedTransaction[] = []
  /** Set: the engine keeps its WAL and latest certificate in files here instead of memory. */
  datadir?: string
  private constructor(
    readonly index: number,
    readonly t: TestChain,
    /** The header rules the importer applies (the same as BftEngine.verifyHeader). */
    readonly verifier: BftSealVerifier,
    private readonly net: MemoryNetwork,
    private readonly config: BftEngineConfig,
  ) {}

  static async create(index: number, net: MemoryNetwork, spec: ChainSpec, config: BftEngineConfig): Promise<TestValidator> {
    const verifier = new BftSealVerifier(spec.chainId, new ValidatorSchedule(config.validators))
    return new TestValidator(index, await openTestChain({ spec, engine: verifier }), verifier, net, config)
  }

  get height(): bigint {
    return this.t.chain.head.header.height
  }

  get running(): boolean {
    return this.engine !== undefined
  }

  host(): BftHost {
    const t = this.t
    return {
      head: () => t.chain.head,
      produce: () => Promise.reject(new Error('bft does not produce')),
      pendingTxCount: () => this.pending.length,
      onPendingTx: () => () => {},
      log: pino({ level: 'silent' }),
      build: ({ timestamp, producer, presetSeal }) => {
        const txs = [...this.pending]
        let i = 0
        return t.importer.build({ timestamp, producer, presetSeal, source: { next: () => txs[i++], skipSender: () => {} } })
      },
      validate: (block) => t.importer.validate(block),
      commit: async (executed) => {
        const imported = await t.importer.commit(executed)
        const included = new Set(imported.block.txs.map((tx) => bytesToHex(tx.hash())))
        this.pending = this.pending.filter((tx) => !included.has(bytesToHex(tx.hash())))
        return imported
      },
      blockAt: (height) => t.chain.getBlockAt(height),
    }
  }

  async start(): Promise<void> {
    const id = `v${this.index}`
    this.net.setConnected(id, true)
    this.engine = new BftEngine({
      chainId: this.t.spec.chainId,
      config: this.config,
      privateKey: KEYS[this.index],
      transport: this.net.transport(id),
      common: this.t.common,
      ...(this.datadir ? { datadir: this.datadir } : { walStorage: this.wal }),
      blockWaitMs: 300,
      regossipMs: 250,
    })
    await this.engine.start(this.host())
  }

  /** A crash as seen by the others: no more messages either way; chain and WAL survive. */
  async stop(): Promise<void> {
    this.net.setConnected(`v${this.index}`, false)
    await this.engine?.stop()
    this.engine = undefined
  }
}

export async function startCluster(n = 4): Promise<{ net: MemoryNetwork; nodes: TestValidator[]; spec: ChainSpec; close: () => Promise<void> }> {
  const net = new MemoryNetwork()
  const spec = consortiumChainSpec()
  const config = fastConfig(spec)
  const nodes = await Promise.all(Array.from({ length: n }, (_, i) => TestValidator.create(i, net, spec, config)))
  for (const v of nodes) await v.start()
  return {
    net,
    nodes,
    spec,
    close: async () => {
      for (const v of nodes) await v.stop()
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
