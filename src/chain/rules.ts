/**
 * What chain/ needs from a consensus engine, and nothing more: the engine's rules for its
 * blocks. The chain applies them without knowing which engine runs (like ethereumjs's
 * five-method consensus interface): header and seal checks, the proof a block must carry to
 * be imported (a BFT commit certificate), the block-level state changes the engine makes
 * (PoW maturity, PoS slashing and reward split, stake reads), the work a block adds for fork
 * choice, how deep a branch switch may go, and the finality rule every API reports.
 *
 * Engines implement it as a plain object (consensus/<engine>/rules.ts) usable without a
 * running engine: block import, sync and light clients apply exactly the same rules.
 * @module
 */
import type { BlockExecutionParams } from '../execution/index.ts'
import type { Block, BlockHeader } from './block.ts'

/** Engine duties executed with a block, besides its txs. */
export type BlockExecutionInputs = Pick<BlockExecutionParams, 'systemCalls' | 'rewardSplit' | 'maturedReward' | 'systemReads'>

/** Read access to a block's own branch, for the state changes an engine makes with it. */
export interface BranchView {
  /** Height of the block being built or checked. */
  height: bigint
  seal: Uint8Array
  parentHash: Uint8Array
  parent: BlockHeader
  /** The hash of the block at `height` on this block's branch (height <= parent height). */
  ancestorHash(height: bigint): Uint8Array
  header(hash: Uint8Array): BlockHeader | undefined
  /** Total wei issued up to and including a stored block. */
  issued(hash: Uint8Array): bigint
}

/**
 * Headers by hash and canonical hashes by height: the stored chain, or the stored chain plus a
 * peer's branch of headers not stored yet (headers-first sync).
 */
export interface HeaderView {
  getHeader(hash: Uint8Array): BlockHeader | undefined
  getHashAt(height: bigint): Uint8Array | undefined
}

/** Heights the engine considers final and safe at a head (the RPC "finalized" and "safe" tags). */
export interface Finality {
  finalized: bigint
  safe: bigint
}

export interface BlockRules {
  /**
   * The proof a block must come with to be imported from elsewhere (BFT: the commit
   * certificate that makes it final). Checked first, before the seal and the body. Engines
   * whose blocks carry everything in their header leave it out: a block from a peer must then
   * come with no proof. Throws BlockError('MISSING_PROOF' | 'BAD_PROOF').
   */
  verifyProof?(header: BlockHeader, hash: Uint8Array, proof: Uint8Array | undefined): void
  /** Engine rules for a header (seal, producer eligibility, work, time); throws BlockError('BAD_SEAL', ...). */
  verifyHeader(header: BlockHeader, parent: BlockHeader): void
  /**
   * Engine checks that need the whole block and may take time (PoH: re-hashing the slot on
   * worker threads). Run after the header, the proof and the tx root, before execution.
   */
  verifyBlock?(block: Block, parent: BlockHeader): Promise<void>
  /**
   * Headers-first sync: the same header rules, reading ancestors from `view` (the stored chain
   * plus a peer's branch not stored yet), so a branch's seals and work are checked before any
   * body is fetched. Only engines whose header alone proves what it claims (PoW: its work)
   * implement it; the others sync blocks that extend the head, each checked with its proof.
   */
  withHeaders?(view: HeaderView): Pick<BlockRules, 'verifyHeader'>
  /**
   * How far ahead of this node's clock a block's timestamp may be; undefined = no limit (the
   * dev engine's time travel: evm_increaseTime, hardhat_mine with an interval).
   */
  readonly maxFutureSeconds?: bigint
  /** Engine duties executed with the block (PoW maturity, PoS slashing, reward split, stake reads). */
  blockEffects?(branch: BranchView): BlockExecutionInputs
  /** The work a block adds to its chain, for fork choice (PoW: expected hashes; default 1 per block). */
  blockWork?(header: BlockHeader): bigint
  /**
   * The deepest branch switch allowed (PoW); deeper ones are refused with a log line. 0 means
   * blocks are final once on the chain (BFT): blocks off the head's branch are refused, not stored.
   */
  readonly maxReorgDepth?: number
  /**
   * Who picks the canonical branch among stored ones: 'work' (default) — import switches to a
   * branch with more total work by itself; 'engine' — import stores valid blocks of branches
   * that fork within maxReorgDepth and never switches: the engine does (PoH: votes), through
   * EngineHost.reorganize.
   */
  readonly forkChoice?: 'work' | 'engine'
  /**
   * Fork choice between the head and a newly stored branch of exactly the head's work: true
   * moves the head to the new branch. Absent: the first seen stays (Bitcoin Core). Asked once
   * per such block; PoW with `tieBreak: 'random'` flips a coin an attacker cannot predict.
   */
  switchOnTie?(): boolean
  /** Which heights are final and safe when the head is at `head` (default: the head itself). */
  finality?(head: bigint): Finality
}

/** The finality rule of `rules` with the head at `head`: the one answer RPC, REST, metrics and the explorer give. */
export function finalityAt(rules: Pick<BlockRules, 'finality'>, head: bigint): Finality {
  return rules.finality?.(head) ?? { finalized: head, safe: head }
}

/** How many blocks behind the head the finalized block is (0 when every block is final at once). */
export function finalityDepth(rules: Pick<BlockRules, 'finality'>): bigint {
  const far = 1n << 40n
  return far - finalityAt(rules, far).finalized
}
