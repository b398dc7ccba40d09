/**
 * The plug-in point for consensus. An engine owns its family's rules (`rules`: header and
 * seal checks, the proof a block must carry, block-level state changes, fork-choice work,
 * finality) and decides WHEN this node produces a block. The node hands it one EngineHost:
 * the chain, execution and mempool steps it may use, so engines never touch storage.
 * dev, PoW and BFT implement the same interface; a toy engine in the tests proves it.
 */
import type { Logger } from 'pino'
import type { Block, BlockHeader } from '../chain/block.ts'
import type { ChainHead, ImportedBlock } from '../chain/chain.ts'
import type { BlockRules, ExecutedBlock, Produced } from '../chain/import.ts'

export interface EngineHost {
  /** The current canonical head. */
  head(): ChainHead
  log: Logger
  /** Number of txs that could go into the next block now. */
  pendingTxCount(): number
  /** Called whenever a tx enters the mempool; returns an unsubscribe function. */
  onPendingTx(listener: () => void): () => void
  /** Called for every block that becomes canonical (produced here, imported, or decided); returns an unsubscribe function. */
  onHead(listener: (block: ImportedBlock) => void): () => void
  /** Builds the next block from the mempool at `timestamp`, seals it with `seal`, commits it (engines that seal alone: dev, PoW). */
  produce(opts: { timestamp: bigint; seal: (header: BlockHeader) => Promise<BlockHeader> }): Promise<Produced>
  /** Builds (executes, does not commit) the next block on the head from the mempool, with `presetSeal` in its header (engines that agree first: BFT). */
  build(opts: {
    timestamp: bigint
    producer: Uint8Array
    presetSeal: Uint8Array
    /** ms since the epoch: stop pulling txs after it. */
    deadline?: number
    /** Build on this stored block instead of the head (attack labs: a leader that forks on purpose). */
    parentHash?: Uint8Array
  }): Promise<ExecutedBlock>
  /** Checks a block from elsewhere completely (chain rules, engine seal, re-execution) without committing. */
  validate(block: Block): Promise<ExecutedBlock>
  /** Commits a built or validated block durably (fsynced), with the proof that makes it final; it must extend the head. */
  commit(executed: ExecutedBlock, proof: Uint8Array): Promise<ImportedBlock>
  /** The canonical block at a height. */
  blockAt(height: bigint): Block | undefined
  /** The proof stored with a block (BFT: its commit certificate). */
  proofOf(hash: Uint8Array): Uint8Array | undefined
  /** Ask block sync to look for newer blocks now (the engine saw verified signs that peers are ahead). */
  requestSync(): void
  /**
   * Engines that choose the fork (rules.forkChoice 'engine'): makes the stored branch ending at
   * `tip` canonical (REORG_TOO_DEEP past the engine's maxReorgDepth).
   */
  reorganize(tip: Uint8Array): Promise<void>
  /** Called for every valid block stored off the canonical chain; returns an unsubscribe function. */
  onSideBlock(listener: (block: ImportedBlock) => void): () => void
  /** A stored block (canonical or not) by hash. */
  blockByHash(hash: Uint8Array): Block | undefined
  /** Gossips a block without storing it (attack labs: a leader's second block for a slot). */
  publishBlock(block: Block): void
}

/** An engine-specific JSON-RPC method (evm_mine on dev, ...); throw EngineParamsError on bad input. */
export type EngineRpcMethod = (params: unknown[]) => unknown | Promise<unknown>

export class EngineParamsError extends Error {
  readonly code = 'INVALID_PARAMS'
}

/** The engine cannot answer now (starting, stopped): the RPC answers -32000, REST 503. */
export class EngineUnavailableError extends Error {
  readonly code = 'UNAVAILABLE'
}

/** Numbers an engine family reports for metrics: what it has, typed, instead of being probed for. */
export type EngineReadings =
  | { kind: 'pow'; /** This node's mining speed, hashes per second (0 when not mining). */ hashrate(): number }
  | {
      kind: 'bft'
      /** The round of the height being decided. */
      round(): number
      /** Votes verified and counted (ours included), and new double-vote evidence pooled. */
      stats(): { prevotes: number; precommits: number; evidence: number }
    }
  | {
      kind: 'poh'
      /** The slot this node's clock is in (its head's slot when it runs no clock). */
      slot(): number
      /** This node's PoH hashes per second (0 when it runs no clock). */
      hashrate(): number
      stats(): { votesIn: number; votesRejected: number; votesSent: number; reorgs: number; produced: number; skippedOwn: number; duplicates: number }
    }

export interface ConsensusEngine {
  readonly type: string
  /** Address credited with block rewards and tips for blocks this node produces. */
  readonly producer: Uint8Array
  /** The rules every node applies to this engine's blocks: import, sync and the APIs use them. */
  readonly rules: BlockRules
  start(host: EngineHost): Promise<void>
  stop(): Promise<void>
  /** Methods this engine adds to the node's JSON-RPC. */
  rpcMethods(): Record<string, EngineRpcMethod>
  /** What the engine reports for metrics, if anything. */
  readonly readings?: EngineReadings
  /**
   * Called when a tx submitted over RPC entered the mempool; eth_sendRawTransaction answers
   * once this resolves. The dev engine in automine mode resolves after the tx is in a block,
   * as Hardhat does, so a client can read its effects right away; other engines resolve at once.
   */
  txSubmitted(hash: Uint8Array, status: 'pending' | 'queued'): Promise<void>
  /**
   * Engines whose block producers are known ahead (PoH: the leader schedule): the validator
   * addresses txs should be sent to instead of flooding every peer, distinct, in slot order:
   * the current leader first, the next one last. Undefined: txs are gossiped to all.
   */
  txForwardTargets?(): Uint8Array[]
  /**
   * Whether this node gossips `block`, which just became canonical here, on the blocks topic
   * (called while the chain announces it). Undefined: every such block is gossiped. BFT answers
   * false for the blocks it committed from its own decision: every node that follows consensus
   * got the block in the proposal and commits it from the votes; one that missed them is sent to
   * block sync by the next height's messages.
   */
  announces?(block: ImportedBlock): boolean
}
