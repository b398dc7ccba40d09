/**
 * The plug-in point for consensus. An engine decides WHEN this node produces a block and
 * what makes a header valid beyond the chain rules (its seal); the chain, execution and
 * mempool are handed to it through EngineHost, so engines never touch storage.
 * PoW, BFT and PoH engines implement the same interface as `dev`.
 */
import type { Logger } from 'pino'
import type { BlockHeader } from '../chain/block.ts'
import type { ChainHead } from '../chain/chain.ts'
import type { HeaderVerifier, Produced } from '../chain/import.ts'

export interface EngineHost {
  /** The current canonical head. */
  head(): ChainHead
  /** Builds the next block from the mempool at `timestamp`, seals it with `engine.seal`, commits it. */
  produce(opts: { timestamp: bigint }): Promise<Produced>
  /** Number of txs that could go into the next block now. */
  pendingTxCount(): number
  /** Called whenever a tx enters the mempool; returns an unsubscribe function. */
  onPendingTx(listener: () => void): () => void
  log: Logger
}

/** An engine-specific JSON-RPC method (evm_mine on dev, ...); throw EngineParamsError on bad input. */
export type EngineRpcMethod = (params: unknown[]) => unknown | Promise<unknown>

export class EngineParamsError extends Error {
  readonly code = 'INVALID_PARAMS'
}

export interface ConsensusEngine extends HeaderVerifier {
  readonly type: string
  /** Address credited with block rewards and tips for blocks this node produces. */
  readonly producer: Uint8Array
  /** Fills in the engine's part of a header this node produced. */
  seal(header: BlockHeader): Promise<BlockHeader>
  start(host: EngineHost): Promise<void>
  stop(): Promise<void>
  /** Methods this engine adds to the node's JSON-RPC. */
  rpcMethods(): Record<string, EngineRpcMethod>
  /**
   * Called when a tx submitted over RPC entered the mempool; eth_sendRawTransaction answers
   * once this resolves. The dev engine in automine mode resolves after the tx is in a block,
   * as Hardhat does, so a client can read its effects right away; other engines resolve at once.
   */
  txSubmitted(hash: Uint8Array, status: 'pending' | 'queued'): Promise<void>
}
