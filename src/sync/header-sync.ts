/**
 * Headers-first sync, the header half (Bitcoin Core's getheaders): asks a peer for the
 * headers after our block locator, finds where its chain parts from ours, refuses a fork
 * deeper than the engine ever reorganizes before anything else is asked for, and verifies the
 * peer's headers window by window (HeaderBranch) until its branch shows more work than our
 * head, or the peer has no more, or the branch reaches the most headers held for one peer.
 * Only then are bodies fetched (BranchImport). Memory is bounded: one branch of at most
 * MAX_BRANCH_HEADERS headers at a time.
 * @module
 */
import { equalsBytes } from '@ethereumjs/util'
import { decodeHeader, type BlockHeader } from '../chain/block.ts'
import type { Chain } from '../chain/chain.ts'
import { BlockError } from '../chain/errors.ts'
import type { BlockImporter } from '../chain/import.ts'
import { PENALTY, type Network } from '../net/index.ts'
import { INVALID_BLOCK_PENALTY, SyncError, malformedAnswer } from './errors.ts'
import { HeaderBranch } from './header-branch.ts'
import { blockLocator } from './locator.ts'
import { MAX_HEADERS, WireError, decodeHeaderList, encodeHeaderRequest } from './wire.ts'

/** Most headers of one peer's branch held at once (~1.5 KB each decoded: about 12 MB). */
export const MAX_BRANCH_HEADERS = 8192
/** Up to 1,024 headers (~600 KB): a peer that cannot answer in this time does not show its claim. */
const HEADERS_TIMEOUT_MS = 5_000

/** What a peer's headers showed. */
export type Probe =
  /** The peer has nothing after our locator (its head is ours, or behind it on our chain). */
  | { kind: 'nothing' }
  /** Its chain parts from ours `depth` blocks below our head: deeper than we ever reorganize. */
  | { kind: 'too-deep'; depth: bigint; forkHeight: bigint }
  /**
   * A verified branch. `complete`: the peer's last answer was short, so the branch ends at its
   * head; else there is more (or it stopped at a header from the future: `future`).
   */
  | { kind: 'branch'; branch: HeaderBranch; complete: boolean; future?: string }

export interface HeaderSyncOptions {
  network: Network
  chain: Chain
  importer: BlockImporter
}

export class HeaderSync {
  constructor(private readonly o: HeaderSyncOptions) {}

  /**
   * Verifies `peer`'s branch from where it parts from our chain until its work exceeds
   * `beat` (our head's) with a full window in, or the peer has no more, or the branch is at
   * its limit. Throws SyncError when the peer is at fault; request errors pass through.
   */
  async probe(peer: string, beat: bigint): Promise<Probe> {
    const { chain, importer } = this.o
    let branch: HeaderBranch | undefined
    for (;;) {
      const headers = await this.request(peer, branch ? [branch.tip.hash] : blockLocator(chain))
      if (!branch) {
        if (headers.length === 0) return { kind: 'nothing' }
        const forkHash = headers[0]!.parentHash
        const fork = chain.getHeader(forkHash)
        if (!fork) throw new SyncError('UNCONNECTED_HEADERS', 'headersByLocator answered with headers that follow no block of our locator', PENALTY.malformed)
        // Our head moved since the locator was built: ask again next time round.
        if (!chain.isCanonical(forkHash)) return { kind: 'nothing' }
        const depth = chain.head.header.height - fork.height
        const limit = importer.maxReorgDepth
        if (limit !== undefined && depth > BigInt(limit)) return { kind: 'too-deep', depth, forkHeight: fork.height }
        branch = new HeaderBranch(chain, importer, { hash: forkHash, header: fork })
      }
      for (const header of headers) {
        try {
          branch.append(header)
        } catch (err) {
          if (err instanceof BlockError && err.code === 'TIME_TOO_NEW') return { kind: 'branch', branch, complete: false, future: err.message }
          if (err instanceof SyncError) throw err
          throw new SyncError('INVALID_HEADER', `invalid header ${header.height}: ${(err as Error).message}`, INVALID_BLOCK_PENALTY, true)
        }
      }
      if (headers.length < MAX_HEADERS) return { kind: 'branch', branch, complete: true }
      if (branch.work > beat || branch.length >= MAX_BRANCH_HEADERS) return { kind: 'branch', branch, complete: false }
    }
  }

  /** One headersByLocator round trip, decoded (headers not yet verified). */
  private async request(peer: string, locator: Uint8Array[]): Promise<BlockHeader[]> {
    const payload = await this.o.network.request(peer, 'headersByLocator', encodeHeaderRequest({ locator, max: MAX_HEADERS }), { timeoutMs: HEADERS_TIMEOUT_MS })
    try {
      const headers = decodeHeaderList(payload).map(decodeHeader)
      if (headers.length > 0 && locator.length === 1 && !equalsBytes(headers[0]!.parentHash, locator[0]!)) {
        throw new WireError('the headers do not follow the hash asked for')
      }
      return headers
    } catch (err) {
      if (err instanceof WireError || err instanceof BlockError) throw malformedAnswer(`bad headersByLocator answer: ${err.message}`)
      throw err
    }
  }
}
