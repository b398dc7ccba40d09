/**
 * Headers-first sync, the body half: downloads the bodies of a verified header branch from the
 * peer that showed it, by hash and in order, at most MAX_HASHES a request, and imports each
 * with the branch's verified work: the importer stores a block of a side branch only when
 * that branch could become canonical (BlockImporter's side-branch policy), and switches to it
 * once its imported blocks outweigh our head. Every body must be the block of its verified
 * header (same hash) and pass the full import. The next request is in flight while a batch is
 * imported (two answers held at most), and the senders of its txs are recovered on a thread
 * meanwhile (prefill).
 * @module
 */
import { equalsBytes } from '@ethereumjs/util'
import { decodeBlockEnvelope, type RawBlock } from '../chain/block.ts'
import type { Chain } from '../chain/chain.ts'
import { BlockError } from '../chain/errors.ts'
import type { ImportOptions, ImportOutcome } from '../chain/import.ts'
import type { Network } from '../net/index.ts'
import { INVALID_BLOCK_PENALTY, SyncError, malformedAnswer, unfulfilledClaim } from './errors.ts'
import type { HeaderBranch } from './header-branch.ts'
import { MAX_HASHES, WireError, decodeBlockList, encodeHashList } from './wire.ts'

const BODIES_TIMEOUT_MS = 15_000

/** Why a branch import stopped before its end without the peer being at fault. */
export type ImportStop =
  /** Our head moved (we or another peer imported more work): the branch may no longer be worth it. */
  | 'outweighed'
  /** A block from the future: may be valid later. */
  | 'future'

export interface BranchImportOptions {
  network: Network
  chain: Chain
  importOne(raw: RawBlock, opts: ImportOptions): Promise<ImportOutcome>
  /** Each imported block's outcome (logging, progress). */
  onImported(outcome: ImportOutcome): void
  /** Work on a fetched batch ahead of its import, not waited for (never rejects). */
  prefill?(blocks: RawBlock[]): Promise<void>
}

export class BranchImport {
  constructor(private readonly o: BranchImportOptions) {}

  /**
   * Fetches and imports the branch's blocks we do not have. Resolves with why it stopped
   * early, or undefined when every block is in; throws SyncError when the peer is at fault.
   */
  async run(peer: string, branch: HeaderBranch, tick: () => void = () => {}): Promise<ImportStop | undefined> {
    const { chain } = this.o
    const wanted = branch.hashes.filter((h) => !chain.hasBlock(h))
    if (wanted.length === 0) return undefined
    let next = 0
    let fetching = this.fetchPrefilled(peer, wanted.slice(0, MAX_HASHES))
    for (;;) {
      const blocks = await fetching
      next += blocks.length
      const more = next < wanted.length
      // The next answer travels while this one is imported: at most two are held.
      if (more) {
        fetching = this.fetchPrefilled(peer, wanted.slice(next, next + MAX_HASHES))
        fetching.catch(() => undefined) // left unread if this batch stops the import
      }
      for (const raw of blocks) {
        const stop = await this.importBlock(raw, branch.work)
        if (stop) return stop
      }
      tick()
      if (!more) return undefined
    }
  }

  /**
   * fetch(), then the prefill starts (tx senders recovered on a thread) while the batch before
   * is imported. Never waited for: an import that catches up with it recovers the rest itself.
   */
  private async fetchPrefilled(peer: string, hashes: Uint8Array[]): Promise<RawBlock[]> {
    const blocks = await this.fetch(peer, hashes)
    void this.o.prefill?.(blocks)
    return blocks
  }

  /** The blocks of `hashes`, in order (the peer may answer fewer: a size cap; none is a failed claim). */
  private async fetch(peer: string, hashes: Uint8Array[]): Promise<RawBlock[]> {
    const payload = await this.o.network.request(peer, 'blocksByHash', encodeHashList(hashes), { timeoutMs: BODIES_TIMEOUT_MS })
    let blocks: RawBlock[]
    try {
      blocks = decodeBlockList(payload).map(decodeBlockEnvelope)
    } catch (err) {
      if (err instanceof WireError || err instanceof BlockError) throw malformedAnswer(`bad blocksByHash answer: ${err.message}`)
      throw err
    }
    if (blocks.length === 0) throw unfulfilledClaim(`showed the headers of a branch but served none of its ${hashes.length} blocks asked for`)
    if (blocks.length > hashes.length) throw malformedAnswer(`blocksByHash answered ${blocks.length} blocks for ${hashes.length} hashes`)
    blocks.forEach((b, i) => {
      if (!equalsBytes(b.hash, hashes[i]!)) throw malformedAnswer(`blocksByHash answered block ${b.header.height} with another hash than asked for`)
    })
    return blocks
  }

  private async importBlock(raw: RawBlock, branchWork: bigint): Promise<ImportStop | undefined> {
    try {
      this.o.onImported(await this.o.importOne(raw, { branchWork }))
      return undefined
    } catch (err) {
      if (!(err instanceof BlockError)) throw err
      switch (err.code) {
        case 'ALREADY_KNOWN':
          return undefined
        case 'INSUFFICIENT_WORK':
        case 'FORK_TOO_DEEP':
        case 'NOT_EXTENDING_HEAD':
          return 'outweighed'
        case 'TIME_TOO_NEW':
          return 'future'
        default:
          throw new SyncError('INVALID_BLOCK', `invalid block ${raw.header.height} on a verified header branch: ${err.message}`, INVALID_BLOCK_PENALTY, true)
      }
    }
  }
}
