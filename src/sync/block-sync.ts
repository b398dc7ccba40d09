/**
 * Block sync over the network: serves canonical blocks by range, any stored block by hash,
 * canonical headers after a block locator and canonical headers by range (what light clients
 * follow over libp2p), each block with the proof its engine requires (a BFT commit
 * certificate); catches up from peers; follows new blocks by gossip.
 *
 * Catching up (CatchUp) runs in the background, one run at a time, whenever a peer connects
 * or tells a new status: headers first for PoW, ranked by verified work; by range otherwise.
 *
 * Gossip: a block whose parent we have is imported at once (the importer keeps a side block
 * only if its branch could become canonical). One whose parent we lack is not chased on the
 * gossip path: its sender is asked for its status (at most once a second per peer) and
 * catch-up looks at that claim in the background. Nothing is fetched or held per orphan.
 */
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { BlockError } from '../chain/errors.ts'
import type { Chain, ImportedBlock } from '../chain/chain.ts'
import type { BlockImporter, ImportOptions, ImportOutcome } from '../chain/import.ts'
import { encodeBlockEnvelope, type RawBlock } from '../chain/block.ts'
import { GOSSIP_INLINE_BYTES, invalidRequest, type GossipVerdict, type Network } from '../net/index.ts'
import { CatchUp } from './catch-up.ts'
import { locate } from './locator.ts'
import { MAX_HEADERS, decodeBlockGossip, decodeHashList, decodeHeaderRequest, decodeRangeRequest, encodeBlockAnnouncement, encodeBlockList, encodeHeaderList } from './wire.ts'

/** A range or by-hash response stops before this many bytes (the protocol limit is 16 MiB). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024
/** A headersByRange answer stops before this many bytes (the protocol limit is 4 MiB; BFT seals hold certificates). */
const MAX_HEADER_RESPONSE_BYTES = 3 * 1024 * 1024
/** An orphan's sender is asked for its status at most this often. */
const HINT_INTERVAL_MS = 1000
/** Peers remembered for that; beyond this the record starts again. */
const MAX_HINTED = 1024

/** Why the importer did not keep a block a peer had every right to send (a race, a stale or lighter branch). */
function isNotKept(err: unknown): boolean {
  if (!(err instanceof BlockError)) return false
  return err.code === 'ALREADY_KNOWN' || err.code === 'NOT_EXTENDING_HEAD' || err.code === 'INSUFFICIENT_WORK' || err.code === 'FORK_TOO_DEEP' || err.code === 'TIME_TOO_NEW'
}

export interface BlockSyncOptions {
  network: Network
  chain: Chain
  importer: BlockImporter
  log: Logger
  /** Blocks whose encoding is larger are announced by header, not gossiped whole (default GOSSIP_INLINE_BYTES). */
  maxInlineBytes?: number
  /** Work on fetched blocks ahead of their import (their tx senders recovered on a thread); never rejects. */
  prefill?(blocks: RawBlock[]): Promise<void>
}

export class BlockSync {
  private syncing?: Promise<void>
  private again = false
  private stopped = false
  private unsubscribe?: () => void
  private lastRefresh = 0
  /** Per peer: when its status was last asked for on a hint, and whether another ask is due. */
  private readonly hinted = new Map<string, { at: number; due?: NodeJS.Timeout }>()
  private readonly catchUp: CatchUp

  constructor(private readonly o: BlockSyncOptions) {
    this.catchUp = new CatchUp({
      ...o,
      importOne: (raw, opts) => this.importOne(raw, opts),
      onImported: (outcome) => this.logOutcome(outcome),
      stopped: () => this.stopped,
    })
  }

  /**
   * The highest head claimed by a connected peer, leaving out peers whose claims failed or
   * whose chain we cannot take (readiness compares against it: a liar claiming 2^63 must not
   * keep the node "not synced" forever).
   */
  bestPeerHeight(): bigint | undefined {
    return this.catchUp.bestPeerHeight()
  }

  /** True while a catch-up run (sync from the best peer) is under way. */
  get isSyncing(): boolean {
    return this.syncing !== undefined
  }

  async start(): Promise<void> {
    const { network } = this.o
    await network.handle('blocksByRange', (req) => this.serveRange(req))
    await network.handle('blocksByHash', (req) => this.serveByHash(req))
    await network.handle('headersByLocator', (req) => this.serveHeaders(req))
    await network.handle('headersByRange', (req) => this.serveHeaderRange(req))
    this.unsubscribe = network.subscribe('blocks', (data, from) => this.onGossipBlock(data, from))
    network.on('peer:connected', () => this.trigger())
    network.on('peer:status', () => this.trigger())
    this.trigger()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.unsubscribe?.()
    this.forgetHints()
    await this.syncing?.catch(() => undefined)
  }

  /**
   * Gossips a block this node produced or imported, with its proof (gossipsub drops
   * duplicates, by header). Not while catching up: peers that serve us those blocks have them.
   */
  async announce(imported: ImportedBlock): Promise<void> {
    if (this.stopped || this.syncing) return
    const whole = encodeBlockEnvelope(imported.block, imported.proof)
    // gossipsub cannot send a frame over 4 MiB: a bigger block is announced by its header.
    const bytes = whole.length <= (this.o.maxInlineBytes ?? GOSSIP_INLINE_BYTES) ? whole : encodeBlockAnnouncement(imported.block.header, imported.proof)
    await this.o.network.publish('blocks', bytes).catch((err) => this.o.log.debug({ err }, 'block gossip failed'))
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

  /** Canonical headers after the first locator hash on our canonical chain (none if no hash is). */
  private async serveHeaders(req: Uint8Array): Promise<Uint8Array> {
    let request
    try {
      request = decodeHeaderRequest(req)
    } catch (err) {
      throw invalidRequest((err as Error).message)
    }
    const { chain } = this.o
    const known = locate(chain, request.locator)
    const headers: Uint8Array[] = []
    if (known !== undefined) {
      const head = chain.head.header.height
      for (let h = known + 1n; h <= head && headers.length < request.max; h++) {
        const encoded = chain.getEncodedHeader(chain.getHashAt(h)!)
        if (!encoded) break
        headers.push(encoded)
      }
    }
    return encodeHeaderList(headers)
  }

  /** Canonical headers `from..from+count-1` (fewer past our head, or past the byte budget): light clients ask. */
  private async serveHeaderRange(req: Uint8Array): Promise<Uint8Array> {
    let range
    try {
      range = decodeRangeRequest(req, MAX_HEADERS)
    } catch (err) {
      throw invalidRequest((err as Error).message)
    }
    const { chain } = this.o
    const headers: Uint8Array[] = []
    let bytes = 0
    const head = chain.head.header.height
    for (let h = range.from; h < range.from + BigInt(range.count) && h <= head; h++) {
      const hash = chain.getHashAt(h)
      const encoded = hash && chain.getEncodedHeader(hash)
      if (!encoded) break
      if (bytes + encoded.length > MAX_HEADER_RESPONSE_BYTES && headers.length > 0) break
      headers.push(encoded)
      bytes += encoded.length
    }
    return encodeHeaderList(headers)
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
    const { chain } = this.o
    try {
      const gossip = decodeBlockGossip(data)
      if (gossip.kind === 'announcement') {
        // A block too large for gossip: its sender has it; catch-up fetches it (every node that
        // imports it announces it in turn, so the announcement is not relayed).
        if (!chain.hasBlock(gossip.hash)) this.hint(from)
        return 'ignore'
      }
      raw = gossip.raw
    } catch (err) {
      this.o.log.debug({ peer: from, err: (err as Error).message }, 'undecodable gossip block')
      return 'reject'
    }
    if (chain.hasBlock(raw.hash)) return 'ignore'
    if (!chain.hasBlock(raw.header.parentHash)) {
      // Ahead of us or on another branch: what the sender claims is looked at by catch-up.
      this.hint(from)
      return 'ignore'
    }
    try {
      this.logOutcome(await this.importOne(raw, {}))
      return 'accept'
    } catch (err) {
      // A lighter branch may be the start of a heavier one its sender is about to show.
      if (err instanceof BlockError && err.code === 'INSUFFICIENT_WORK') this.hint(from)
      if (isNotKept(err) || (err instanceof BlockError && err.code === 'UNKNOWN_PARENT')) return 'ignore'
      // Only a block proven invalid costs its sender; our own failures (a closed or busy verifier, I/O) do not.
      if (!(err instanceof BlockError)) {
        this.o.log.warn({ peer: from, err: (err as Error).message }, 'a gossip block could not be checked here')
        return 'ignore'
      }
      this.o.log.warn({ peer: from, err: (err as Error).message }, 'invalid block from gossip')
      return 'reject'
    }
  }

  /**
   * A peer sent a block we cannot place: ask it for its status, then catch up. At most once per
   * HINT_INTERVAL_MS per peer; hints within that time make one more ask when it ends (the last
   * block of a burst is the one that tells its chain).
   */
  private hint(peer: string): void {
    if (this.stopped) return
    const now = Date.now()
    const last = this.hinted.get(peer)
    if (last && now - last.at < HINT_INTERVAL_MS) {
      if (!last.due) {
        last.due = setTimeout(() => {
          last.due = undefined
          this.hint(peer)
        }, HINT_INTERVAL_MS - (now - last.at))
        last.due.unref()
      }
      return
    }
    if (!last && this.hinted.size >= MAX_HINTED) this.forgetHints()
    this.hinted.set(peer, { at: now })
    void this.o.network
      .refreshStatus(peer)
      .catch(() => undefined)
      .then(() => this.trigger())
  }

  private forgetHints(): void {
    for (const h of this.hinted.values()) clearTimeout(h.due)
    this.hinted.clear()
  }

  /** Imports one at a time: gossip, fetched branches and range sync never validate the same block at once. */
  private importQueue: Promise<unknown> = Promise.resolve()

  private importOne(raw: RawBlock, opts: ImportOptions): Promise<ImportOutcome> {
    const run = this.importQueue.then(() => this.o.importer.importRaw(raw, opts))
    this.importQueue = run.catch(() => undefined)
    return run
  }

  private logOutcome(outcome: ImportOutcome): void {
    if (outcome.refusedReorg) this.o.log.warn({ block: bytesToHex(outcome.imported.hash), reason: outcome.refusedReorg }, 'heavier branch not adopted')
    else if (outcome.status === 'side') this.o.log.info({ height: Number(outcome.imported.block.header.height), hash: bytesToHex(outcome.imported.hash) }, 'block stored on a side branch')
  }

  /** Starts a catch-up run unless one is running; a running one checks again when done. */
  private trigger(): void {
    if (this.stopped) return
    if (this.syncing) {
      this.again = true
      return
    }
    this.syncing = this.catchUp
      .run()
      .catch((err) => this.o.log.warn({ err: (err as Error).message }, 'sync stopped'))
      .finally(() => {
        this.syncing = undefined
        if (this.again) {
          this.again = false
          this.trigger()
        }
      })
  }
}
