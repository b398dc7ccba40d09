/**
 * Block sync over the network: serves canonical blocks by range and any stored block by
 * hash, each with the proof its engine requires (a BFT block's commit certificate), catches
 * up from the peer with the highest head (fetching ranges, validating and importing them in
 * order, each block its own atomic commit, so a killed sync resumes where it stopped), and
 * follows new blocks by gossip. A block whose parent is unknown (an orphan: a peer on another
 * branch, or a gap) is held while its ancestors are fetched by hash back to a block we have;
 * the importer's fork choice then decides. Every block is checked header and proof first,
 * body last (BlockImporter.importRaw). Peers that send invalid blocks lose score, and so do
 * peers that claim a head they then do not serve.
 */
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { BlockError } from '../chain/errors.ts'
import type { Chain, ImportedBlock } from '../chain/chain.ts'
import type { BlockImporter, ImportOutcome } from '../chain/import.ts'
import { decodeBlockEnvelope, encodeBlockEnvelope, type RawBlock } from '../chain/block.ts'
import { PENALTY, invalidRequest, type GossipVerdict, type Network, type PeerInfo } from '../net/index.ts'
import { progressLine } from './progress.ts'
import {
  WireError,
  decodeBlockList,
  decodeRangeRequest,
  decodeHashList,
  encodeBlockList,
  encodeHashList,
  encodeRangeRequest,
} from './wire.ts'

/** Blocks asked for per range request. */
const RANGE = 64
/** A range response stops before this many bytes (the protocol limit is 16 MiB). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024
const REQUEST_TIMEOUT_MS = 15_000
const PROGRESS_EVERY_MS = 1000
/** An invalid block costs more than a malformed message: it also cost us an execution. */
const INVALID_BLOCK_PENALTY = 50

/** A block ahead of our clock may be fine later (clock skew): dropped, not held against the peer. */
function isNotYetValid(err: unknown): boolean {
  return err instanceof BlockError && err.code === 'TIME_TOO_NEW'
}

/** Another path (gossip, consensus, range sync) imported the block first: nothing wrong with the peer. */
function isAlreadyDone(err: unknown): boolean {
  return err instanceof BlockError && (err.code === 'ALREADY_KNOWN' || err.code === 'NOT_EXTENDING_HEAD')
}

/** A block from a peer, its proof, or its bytes are wrong: the peer is at fault. */
function isPeerFault(err: unknown): boolean {
  return err instanceof WireError || (err instanceof BlockError && !isAlreadyDone(err) && err.code !== 'UNKNOWN_PARENT' && !isNotYetValid(err))
}
/** How far back an orphan's ancestors are fetched before giving up (deeper forks need range sync). */
const MAX_ANCESTOR_DEPTH = 1024

export interface BlockSyncOptions {
  network: Network
  chain: Chain
  importer: BlockImporter
  log: Logger
}

export class BlockSync {
  private syncing?: Promise<void>
  private again = false
  private stopped = false
  private unsubscribe?: () => void
  /** Peers whose claimed head was not delivered: the claim they made (ignored until they claim more). */
  private readonly failedClaims = new Map<string, bigint>()
  private lastRefresh = 0

  constructor(private readonly o: BlockSyncOptions) {}

  /** True while a catch-up run (range sync from the best peer) is under way. */
  get isSyncing(): boolean {
    return this.syncing !== undefined
  }

  async start(): Promise<void> {
    const { network } = this.o
    await network.handle('blocksByRange', (req) => this.serveRange(req))
    await network.handle('blocksByHash', (req) => this.serveByHash(req))
    this.unsubscribe = network.subscribe('blocks', (data, from) => this.onGossipBlock(data, from))
    network.on('peer:connected', () => this.trigger())
    network.on('peer:status', () => this.trigger())
    this.trigger()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.unsubscribe?.()
    await this.syncing?.catch(() => undefined)
  }

  /**
   * Gossips a block this node produced or imported, with its proof (gossipsub drops
   * duplicates, by header). Not while catching up by range: peers that serve us those blocks
   * have them already.
   */
  async announce(imported: ImportedBlock): Promise<void> {
    if (this.stopped || this.syncing) return
    await this.o.network.publish('blocks', encodeBlockEnvelope(imported.block, imported.proof)).catch((err) => this.o.log.debug({ err }, 'block gossip failed'))
  }

  /**
   * Something verified says peers are ahead (a consensus engine saw validators at a later
   * height): ask connected peers for their status now (at most once a second) and catch up.
   */
  requestSync(): void {
    if (this.stopped) return
    const now = Date.now()
    if (now - this.lastRefresh < 1000) return this.trigger()
    this.lastRefresh = now
    const { network } = this.o
    void Promise.allSettled(network.peers().map((p) => network.refreshStatus(p.peerId))).then(() => this.trigger())
  }

  /** A stored block as it travels: with the proof stored beside it. */
  private envelope(hash: Uint8Array): Uint8Array | undefined {
    const block = this.o.chain.getBlock(hash)
    return block ? encodeBlockEnvelope(block, this.o.chain.getProof(hash)) : undefined
  }

  private async serveRange(req: Uint8Array): Promise<Uint8Array> {
    let range
    try {
      range = decodeRangeRequest(req)
    } catch (err) {
      throw invalidRequest((err as Error).message)
    }
    const blocks: Uint8Array[] = []
    let bytes = 0
    const head = this.o.chain.head.header.height
    for (let h = range.from; h < range.from + BigInt(range.count) && h <= head; h++) {
      const hash = this.o.chain.getHashAt(h)
      const encoded = hash && this.envelope(hash)
      if (!encoded) break
      if (bytes + encoded.length > MAX_RESPONSE_BYTES && blocks.length > 0) break
      blocks.push(encoded)
      bytes += encoded.length
    }
    return encodeBlockList(blocks)
  }

  private async serveByHash(req: Uint8Array): Promise<Uint8Array> {
    let hashes
    try {
      hashes = decodeHashList(req)
    } catch (err) {
      throw invalidRequest((err as Error).message)
    }
    const blocks: Uint8Array[] = []
    let bytes = 0
    for (const hash of hashes) {
      const encoded = this.envelope(hash)
      if (!encoded) continue
      if (bytes + encoded.length > MAX_RESPONSE_BYTES && blocks.length > 0) break
      blocks.push(encoded)
      bytes += encoded.length
    }
    return encodeBlockList(blocks)
  }

  /** Gossip blocks are handled one at a time, in arrival order: each may be the next one's parent. */
  private gossipQueue: Promise<unknown> = Promise.resolve()

  private onGossipBlock(data: Uint8Array, from: string): Promise<GossipVerdict> {
    const run = this.gossipQueue.then(() => this.handleGossipBlock(data, from))
    this.gossipQueue = run.catch(() => undefined)
    return run
  }

  private async handleGossipBlock(data: Uint8Array, from: string): Promise<GossipVerdict> {
    let raw: RawBlock
    try {
      raw = decodeBlockEnvelope(data)
    } catch (err) {
      this.o.log.debug({ peer: from, err: (err as Error).message }, 'undecodable gossip block')
      return 'reject'
    }
    const { chain } = this.o
    if (chain.hasBlock(raw.hash)) return 'ignore'
    const head = chain.head
    if (!chain.hasBlock(raw.header.parentHash)) {
      if (raw.header.height > head.header.height + 1n) {
        // Ahead of us: range sync from the sender fills the gap (and fetches a forked branch by hash).
        void this.o.network
          .refreshStatus(from)
          .catch(() => undefined)
          .then(() => this.trigger())
        return 'ignore'
      }
      // A block of another branch at our height: fetch its ancestors from the sender back to a block we have.
      return (await this.importWithAncestors(from, raw)) ? 'accept' : 'ignore'
    }
    try {
      this.logOutcome(await this.importOne(raw))
      return 'accept'
    } catch (err) {
      if (!isPeerFault(err)) return 'ignore'
      this.o.log.warn({ peer: from, err: (err as Error).message }, 'invalid block from gossip')
      return 'reject'
    }
  }

  /** Imports one at a time: gossip, fetched branches and range sync never validate the same block at once. */
  private importQueue: Promise<unknown> = Promise.resolve()

  private importOne(raw: RawBlock): Promise<ImportOutcome> {
    const run = this.importQueue.then(() => this.o.importer.importRaw(raw))
    this.importQueue = run.catch(() => undefined)
    return run
  }

  private logOutcome(outcome: ImportOutcome): void {
    if (outcome.refusedReorg) this.o.log.warn({ block: bytesToHex(outcome.imported.hash), reason: outcome.refusedReorg }, 'heavier branch not adopted')
    else if (outcome.status === 'side') this.o.log.info({ height: Number(outcome.imported.block.header.height), hash: bytesToHex(outcome.imported.hash) }, 'block stored on a side branch')
  }

  /**
   * Fetches `block`'s missing ancestors from `peer` by hash (newest first, back to a stored
   * block), then imports them oldest first. Returns false when the peer could not supply them;
   * an invalid block costs the peer score.
   */
  private async importWithAncestors(peer: string, block: RawBlock): Promise<boolean> {
    const { chain, network, log } = this.o
    const branch: RawBlock[] = [block]
    let cursor = block
    while (!chain.hasBlock(cursor.header.parentHash)) {
      if (branch.length > MAX_ANCESTOR_DEPTH) {
        log.warn({ peer, depth: branch.length }, 'orphan block: ancestors too deep to fetch by hash')
        return false
      }
      let parent: RawBlock | undefined
      try {
        const payload = await network.request(peer, 'blocksByHash', encodeHashList([cursor.header.parentHash]), { timeoutMs: REQUEST_TIMEOUT_MS })
        const [bytes] = decodeBlockList(payload)
        parent = bytes ? decodeBlockEnvelope(bytes) : undefined
      } catch (err) {
        if (isPeerFault(err)) network.penalize(peer, `blocksByHash answered with a malformed block: ${(err as Error).message}`, PENALTY.malformed)
        else log.debug({ peer, err: (err as Error).message }, 'could not fetch an orphan ancestor')
        return false
      }
      if (!parent || bytesToHex(parent.hash) !== bytesToHex(cursor.header.parentHash)) {
        network.penalize(peer, 'blocksByHash answered with another block', PENALTY.malformed)
        return false
      }
      branch.push(parent)
      cursor = parent
    }
    if (branch.length > 1) log.info({ peer, blocks: branch.length, forkHeight: Number(cursor.header.height - 1n) }, 'fetched the ancestors of an orphan block')
    for (const b of branch.reverse()) {
      try {
        this.logOutcome(await this.importOne(b))
      } catch (err) {
        if (isAlreadyDone(err)) continue
        if (isNotYetValid(err)) {
          log.info({ peer, err: (err as Error).message }, 'block from the future: dropped for now')
          return false
        }
        network.penalize(peer, `invalid block: ${(err as Error).message}`, INVALID_BLOCK_PENALTY)
        log.warn({ peer, err: (err as Error).message }, 'invalid block on a fetched branch')
        return false
      }
    }
    return true
  }

  /** Starts a catch-up run unless one is running; a running one checks again when done. */
  private trigger(): void {
    if (this.stopped) return
    if (this.syncing) {
      this.again = true
      return
    }
    this.syncing = this.catchUp()
      .catch((err) => this.o.log.warn({ err: (err as Error).message }, 'sync stopped'))
      .finally(() => {
        this.syncing = undefined
        if (this.again) {
          this.again = false
          this.trigger()
        }
      })
  }

  /**
   * The peer claiming the highest head above ours. A claim costs nothing to make, so a peer
   * whose claim was not delivered is skipped until it claims more (and paid for it in score).
   */
  private bestPeer(): PeerInfo | undefined {
    const ours = this.o.chain.head.header.height
    let best: PeerInfo | undefined
    for (const p of this.o.network.peers()) {
      const failed = this.failedClaims.get(p.peerId)
      if (failed !== undefined && p.status.headHeight <= failed) continue
      if (p.status.headHeight > ours && (!best || p.status.headHeight > best.status.headHeight)) best = p
    }
    return best
  }

  /** The peer claimed a head it did not serve (an empty or short answer below its claim). */
  private claimFailed(peer: PeerInfo, reached: bigint): void {
    if (this.failedClaims.size > 1024) this.failedClaims.clear()
    this.failedClaims.set(peer.peerId, peer.status.headHeight)
    this.o.network.penalize(peer.peerId, `claimed head ${peer.status.headHeight} but served blocks only to ${reached}`, PENALTY.unfulfilledClaim)
    this.o.log.info({ peer: peer.peerId, claimed: String(peer.status.headHeight), reached: String(reached) }, 'sync: peer did not deliver the head it claimed')
  }

  private async catchUp(): Promise<void> {
    const { chain, network, log } = this.o
    let peer = this.bestPeer()
    if (!peer) return
    const startHeight = chain.head.header.height
    const target = peer.status.headHeight
    const startedAt = Date.now()
    let lastLog = 0
    log.info({ peer: peer.peerId, from: Number(startHeight + 1n), to: Number(target) }, 'sync: catching up')
    while (!this.stopped && peer) {
      const from = chain.head.header.height + 1n
      const payload = await network.request(peer.peerId, 'blocksByRange', encodeRangeRequest({ from, count: RANGE }), { timeoutMs: REQUEST_TIMEOUT_MS })
      let encoded: Uint8Array[]
      try {
        encoded = decodeBlockList(payload)
      } catch (err) {
        network.penalize(peer.peerId, `bad blocksByRange response: ${(err as Error).message}`, PENALTY.malformed)
        return
      }
      const before = chain.head.header.height
      for (const bytes of encoded) {
        try {
          const raw = decodeBlockEnvelope(bytes)
          if (!chain.hasBlock(raw.header.parentHash)) {
            // The peer's chain forked from ours below this height: fetch its branch by hash.
            if (!(await this.importWithAncestors(peer.peerId, raw))) return
            continue
          }
          this.logOutcome(await this.importOne(raw))
        } catch (err) {
          if (isAlreadyDone(err)) continue
          if (isNotYetValid(err)) {
            log.info({ peer: peer.peerId, err: (err as Error).message }, 'sync: block from the future, retrying later')
            return
          }
          const reason = err instanceof WireError || err instanceof BlockError ? err.message : String(err)
          network.penalize(peer.peerId, `invalid block in range: ${reason}`, INVALID_BLOCK_PENALTY)
          log.warn({ peer: peer.peerId, err: reason }, 'sync: peer sent an invalid block')
          return
        }
      }
      // Nothing at all after our head although the peer claims more: the claim was false.
      if (encoded.length === 0 && chain.head.header.height === before && peer.status.headHeight > before) {
        this.claimFailed(peer, chain.head.header.height)
        return
      }
      if (Date.now() - lastLog > PROGRESS_EVERY_MS) {
        lastLog = Date.now()
        const done = chain.head.header.height - startHeight
        const total = target > chain.head.header.height ? target - startHeight : done
        log.info(`sync ${progressLine(done, total, startedAt)}`)
      }
      // A short range means we reached the peer's head (it may have grown meanwhile: the loop
      // then runs again through trigger()).
      if (encoded.length < RANGE) break
      peer = network.peer(peer.peerId) ?? this.bestPeer()
    }
    log.info({ head: Number(chain.head.header.height), hash: bytesToHex(chain.head.hash), seconds: (Date.now() - startedAt) / 1000 }, 'sync: caught up')
  }
}

