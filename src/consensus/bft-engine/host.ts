/**
 * What the BFT engine needs from the node beyond EngineHost: block import as separate steps
 * (BFT proposes a block without committing it, validates a proposal, commits once decided),
 * and read access to decided blocks to answer lagging validators.
 * @module
 */
import type { Block } from '../../chain/block.ts'
import type { ImportedBlock } from '../../chain/chain.ts'
import type { ExecutedBlock } from '../../chain/import.ts'
import type { EngineHost } from '../types.ts'

export interface BftHost extends EngineHost {
  /** Builds (executes, does not commit) the next block on the head from the mempool, with `presetSeal` in its header. */
  build(opts: { timestamp: bigint; producer: Uint8Array; presetSeal: Uint8Array }): Promise<ExecutedBlock>
  /** Checks a block from elsewhere completely (chain rules, engine seal, re-execution) without committing. */
  validate(block: Block): Promise<ExecutedBlock>
  /** Commits a built or validated block atomically; it must extend the head. */
  commit(executed: ExecutedBlock): Promise<ImportedBlock>
  /** The canonical block at a height (to answer a lagging validator). */
  blockAt(height: bigint): Block | undefined
}

export function isBftHost(host: EngineHost): host is BftHost {
  const h = host as Partial<BftHost>
  return typeof h.build === 'function' && typeof h.validate === 'function' && typeof h.commit === 'function' && typeof h.blockAt === 'function'
}
