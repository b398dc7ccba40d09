/**
 * One node of the simulated PoW network: a real Chain over a MemoryStore, the real
 * BlockImporter with the real PowRules of its chain spec, and the node's clock read from the
 * network's virtual clock. It mines (builds a block on a parent it is given, grinds the nonce
 * in-process on the spec's easy target, commits it) and imports blocks from other nodes the way
 * headers-first sync does (src/sync): the branch's headers are verified first (HeaderBranch),
 * then each block is imported with the branch's verified work, so the importer's side-branch
 * policy and fork choice (most work; first seen wins a tie) decide what becomes canonical.
 * @module
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { toRawBlock, type Block, type BlockHeader } from '../../chain/block.ts'
import { Chain } from '../../chain/chain.ts'
import { BlockError } from '../../chain/errors.ts'
import { BlockImporter, type ImportOutcome } from '../../chain/import.ts'
import type { ChainSpec, PowEngineSpec } from '../../chain/spec/index.ts'
import { encodePowSeal, sealHash } from '../../consensus/pow/seal.ts'
import { meetsTarget, powHash } from '../../consensus/pow/pow-hash.ts'
import { PowRules } from '../../consensus/pow/rules.ts'
import { compactToTarget } from '../../consensus/pow/target.ts'
import { ethereumCustomCrypto } from '../../crypto/secp256k1.ts'
import { Executor, makeCommon } from '../../execution/index.ts'
import { MemoryStore } from '../../storage/index.ts'
import { HeaderBranch } from '../../sync/header-branch.ts'

/** Where a node fetches the blocks it is missing (the network's record of every mined block). */
export type BlockLookup = (hash: Uint8Array) => Block | undefined

/** What a delivered block did to a node: each imported block's outcome, and why import stopped early (if it did). */
export interface Acceptance {
  outcomes: ImportOutcome[]
  /** The importer refused the branch (INSUFFICIENT_WORK, FORK_TOO_DEEP): not kept, as sync does. */
  refused?: string
}

export class PowSimNode {
  /** Txs this node knows and offers to the blocks it mines (a tx already on the branch is rejected by execution). */
  readonly pending: TypedTransaction[] = []

  private constructor(
    readonly id: number,
    readonly chain: Chain,
    readonly importer: BlockImporter,
    readonly rules: PowRules,
    private readonly clock: () => bigint,
  ) {}

  /** A node with its own store; `clock` = the network's virtual time in unix seconds; `random` = the coin of `tieBreak: 'random'` (seeded in the lab). */
  static async open(id: number, spec: ChainSpec, clock: () => bigint, random?: () => number): Promise<PowSimNode> {
    if (spec.engine.type !== 'pow') throw new Error(`the PoW lab network needs a pow chain spec, got ${spec.engine.type}`)
    const common = makeCommon(spec.chainId, ethereumCustomCrypto())
    const store = new MemoryStore()
    const chain = await Chain.open(store, spec, common)
    const executor = new Executor(store, chain.commons, (h) => chain.getHashAt(h))
    const headers = { getHeader: (h: Uint8Array) => chain.getHeader(h), getHashAt: (h: bigint) => chain.getHashAt(h) }
    const rules = new PowRules(spec.engine as PowEngineSpec, spec.blockTimeMs, headers, clock, undefined, random)
    const importer = new BlockImporter(chain, executor, rules, { now: clock })
    return new PowSimNode(id, chain, importer, rules, clock)
  }

  get head(): { hash: Uint8Array; header: BlockHeader } {
    return this.chain.head
  }

  /** Whether `txHash` is in this node's canonical chain. */
  hasCanonicalTx(txHash: Uint8Array): boolean {
    const at = this.chain.getTxLocation(txHash)
    return at !== undefined && this.chain.isCanonical(at.blockHash)
  }

  /**
   * Mines a block on `parentHash` (stored here) with `txs` (those that execute; the rest are
   * left out), seals it with a real proof of work and stores it: it extends the head, or (a
   * miner working on another branch) it goes through the importer like any block.
   */
  async mine(parentHash: Uint8Array, producer: Uint8Array, txs: readonly TypedTransaction[]): Promise<{ block: Block; outcome: ImportOutcome }> {
    const parent = this.chain.getHeader(parentHash)
    if (!parent) throw new Error(`node ${this.id} cannot mine on ${bytesToHex(parentHash)}: not stored`)
    // A miner stamps its clock, never at or below the median time past nor before the parent.
    const mtp = this.rules.medianTimePastAfter(parentHash, parent)
    let timestamp = this.clock()
    if (timestamp <= mtp) timestamp = mtp + 1n
    if (timestamp < parent.timestamp) timestamp = parent.timestamp
    let i = 0
    const built = await this.importer.build({ parentHash, timestamp, producer, source: { next: () => txs[i++], skipSender: () => {} } })
    const bits = this.rules.expectedBits(parentHash, parent)
    const header = { ...built.block.header, seal: grind(built.block.header, bits) }
    const block = { ...built.block, header }
    if (equalsBytes(parentHash, this.chain.head.hash)) {
      const imported = await this.importer.commit({ ...built, block })
      return { block, outcome: { status: 'extended', imported } }
    }
    return { block, outcome: await this.importer.importRaw(toRawBlock(block)) }
  }

  /**
   * Imports the block `hash` with whatever ancestors this node lacks (fetched through
   * `lookup`, as sync asks the peer that announced it): headers first, then each block with
   * the branch's verified work. Returns what each block did; a branch the importer will not
   * keep (not enough work, forks too deep) stops the import, as it stops sync.
   */
  async accept(hash: Uint8Array, lookup: BlockLookup): Promise<Acceptance> {
    if (this.chain.hasBlock(hash)) return { outcomes: [] }
    const missing: Block[] = []
    let cursor: Uint8Array = hash
    while (!this.chain.hasBlock(cursor)) {
      const block = lookup(cursor)
      if (!block) throw new Error(`node ${this.id}: block ${bytesToHex(cursor)} is known to nobody`)
      missing.push(block)
      cursor = block.header.parentHash
    }
    missing.reverse()
    const fork = { hash: cursor, header: this.chain.getHeader(cursor)! }
    const branch = new HeaderBranch(this.chain, this.importer, fork)
    for (const b of missing) branch.append(b.header)
    const outcomes: ImportOutcome[] = []
    for (const b of missing) {
      try {
        outcomes.push(await this.importer.importRaw(toRawBlock(b), { branchWork: branch.work }))
      } catch (err) {
        if (err instanceof BlockError && (err.code === 'INSUFFICIENT_WORK' || err.code === 'FORK_TOO_DEEP')) return { outcomes, refused: err.message }
        throw err
      }
    }
    return { outcomes }
  }
}

/** The nonce search, in-process (the target is easy: a few dozen double SHA-256 on average). */
function grind(header: BlockHeader, bits: number): Uint8Array {
  const target = compactToTarget(bits)
  const preimageHash = sealHash({ ...header, seal: new Uint8Array(0) })
  for (let nonce = 0n; ; nonce++) {
    if (meetsTarget(powHash(preimageHash, bits, nonce), target)) return encodePowSeal({ bits, nonce })
  }
}
