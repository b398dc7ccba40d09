/**
 * Range sync for engines whose headers cannot be judged without their blocks (BFT: a block
 * is final only with its commit certificate; dev: one producer). Their chains have no
 * branches, so a peer ahead of us serves the blocks after our head by range, each checked
 * header and proof first, body last. A block that does not follow our head is the peer's
 * fault; so is a head it claimed and did not serve.
 * @module
 */
import type { RawBlock } from '../chain/block.ts'
import { decodeBlockEnvelope } from '../chain/block.ts'
import type { Chain } from '../chain/chain.ts'
import { BlockError } from '../chain/errors.ts'
import type { ImportOptions, ImportOutcome } from '../chain/import.ts'
import type { Network, PeerInfo } from '../net/index.ts'
import { INVALID_BLOCK_PENALTY, SyncError, malformedAnswer, unfulfilledClaim } from './errors.ts'
import { WireError, decodeBlockList, encodeRangeRequest } from './wire.ts'

/** Blocks asked for per range request. */
export const RANGE = 64
const REQUEST_TIMEOUT_MS = 15_000

export interface RangeSyncOptions {
  network: Network
  chain: Chain
  importOne(raw: RawBlock, opts: ImportOptions): Promise<ImportOutcome>
  onImported(outcome: ImportOutcome): void
}


export class RangeSync {
  constructor(private readonly o: RangeSyncOptions) {}

  /**
   * One range from `peer` after our head (it may be short: the server caps answers by size).
   * Resolves with 'future' when a block is ahead of our clock; throws SyncError when the peer
   * is at fault.
   */
  async next(peer: PeerInfo): Promise<'future' | undefined> {
    const { chain, network } = this.o
    const before = chain.head.header.height
    const payload = await network.request(peer.peerId, 'blocksByRange', encodeRangeRequest({ from: before + 1n, count: RANGE }), { timeoutMs: REQUEST_TIMEOUT_MS })
    let blocks: RawBlock[]
    try {
      blocks = decodeBlockList(payload).map(decodeBlockEnvelope)
    } catch (err) {
      if (err instanceof WireError || err instanceof BlockError) throw malformedAnswer(`bad blocksByRange answer: ${err.message}`)
      throw err
    }
    // Nothing at all after our head although the peer claims more: the claim was false.
    if (blocks.length === 0) throw unfulfilledClaim(`claimed head ${peer.status.headHeight} but served no block after ${before}`)
    for (const raw of blocks) {
      if (!chain.hasBlock(raw.header.parentHash)) throw malformedAnswer(`blocksByRange answered block ${raw.header.height}, which does not follow our chain`)
      try {
        this.o.onImported(await this.o.importOne(raw, {}))
      } catch (err) {
        if (!(err instanceof BlockError)) throw err
        if (err.code === 'ALREADY_KNOWN' || err.code === 'NOT_EXTENDING_HEAD') continue
        if (err.code === 'TIME_TOO_NEW') return 'future'
        throw new SyncError('INVALID_BLOCK', `invalid block ${raw.header.height} in range: ${err.message}`, INVALID_BLOCK_PENALTY)
      }
    }
    return undefined
  }
}
