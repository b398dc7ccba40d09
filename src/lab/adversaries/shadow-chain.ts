/**
 * The attacker's copy of a BFT chain, in memory: blocks taken from peers (range sync and
 * block gossip) under the chain's own rules, each stored with the commit certificate it came
 * with. The attacker needs the head, the head's certificate and a state to execute forged
 * blocks on, so every root of a forgery is right.
 * @module
 */
import type { Logger } from 'pino'
import { Chain } from '../../chain/chain.ts'
import { BlockImporter, type ExecutedBlock } from '../../chain/import.ts'
import type { RawBlock } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { BftEngineSpec, ChainSpec } from '../../chain/spec/index.ts'
import { BftEngine, chainMembership, type BftRules } from '../../consensus/bft-engine/index.ts'
import { forgeOnHead } from './bft-forgery.ts'
import { decodeCertificate, type CommitCertificate } from '../../consensus/bft/index.ts'
import { ethereumCustomCrypto } from '../../crypto/secp256k1.ts'
import { Executor, makeCommon } from '../../execution/index.ts'
import { MemoryStore } from '../../storage/index.ts'

export class ShadowChain {
  /** The real rules of the chain: the validator schedule (who proposes which round) and block effects. */
  readonly rules: BftRules
  private importQueue: Promise<unknown> = Promise.resolve()

  private constructor(
    readonly spec: ChainSpec & { engine: BftEngineSpec },
    readonly chain: Chain,
    private readonly importer: BlockImporter,
    rules: BftRules,
  ) {
    this.rules = rules
  }

  static async open(spec: ChainSpec): Promise<ShadowChain> {
    if (spec.engine.type !== 'bft') throw new Error(`the hostile peer attacks BFT chains; this chain's engine is ${spec.engine.type}`)
    const bftSpec = spec as ChainSpec & { engine: BftEngineSpec }
    const common = makeCommon(spec.chainId, ethereumCustomCrypto())
    const store = new MemoryStore()
    const chain = await Chain.open(store, spec, common)
    const executor = new Executor(store, chain.commons, (h) => chain.getHashAt(h))
    const rules = BftEngine.rulesFor({ chainId: spec.chainId, config: bftSpec.engine, membership: chainMembership(chain, bftSpec.engine) })
    // The chain's real rules: other attackers gossip forgeries too, and a copy that took one
    // could forge nothing more (its head would have no certificate).
    return new ShadowChain(bftSpec, chain, new BlockImporter(chain, executor, rules), rules)
  }

  get height(): bigint {
    return this.chain.head.header.height
  }

  /** The certificate that made the head final (null at genesis, or when the head came without one). */
  headCertificate(): CommitCertificate | null {
    const head = this.chain.head
    if (head.header.height === 0n) return null
    const proof = this.chain.getProof(head.hash)
    return proof ? decodeCertificate(proof) : null
  }

  /** Imports a block from a peer if it extends the head; false when it does not (known, other branch, a gap). */
  async take(raw: RawBlock, log?: Logger): Promise<boolean> {
    const run = this.importQueue.then(async () => {
      try {
        await this.importer.importRaw(raw)
        return true
      } catch (err) {
        if (!(err instanceof BlockError)) throw err
        if (err.code !== 'ALREADY_KNOWN' && err.code !== 'NOT_EXTENDING_HEAD' && err.code !== 'UNKNOWN_PARENT') log?.debug({ err: err.message }, 'shadow chain: block not taken')
        return false
      }
    })
    this.importQueue = run.catch(() => undefined)
    return run
  }

  /**
   * Builds (executes, does not store) block head + 1 as the proposer of `round` would: that
   * proposer as producer and the head's certificate in the seal, so the header passes every
   * seal and root check. Only its own commit certificate is missing. `extraData` tells
   * forgeries apart (one header = one gossip message id).
   */
  async forgeOnHead(opts: { round?: number; extraData?: Uint8Array; timestamp?: bigint } = {}): Promise<ExecutedBlock> {
    const head = this.chain.head
    const now = BigInt(Math.floor(Date.now() / 1000))
    const timestamp = opts.timestamp ?? (now > head.header.timestamp ? now : head.header.timestamp)
    return forgeOnHead(this.importer, head, this.headCertificate(), this.rules.schedule, { ...opts, timestamp })
  }
}
