/**
 * Block sync over the network: serves canonical blocks by range, any stored block by hash and
 * canonical headers after a block locator, each block with the proof its engine requires (a
 * BFT commit certificate); catches up from peers; follows new blocks by gossip.
 *
 * Catching up: peers are looked at best claim first (PeerClaims: the most total work in their
 * status), and what decides is what they show. Engines whose headers prove their work (PoW)
 * sync headers first: the branches of the best few claimers are verified from where each parts
 * from our chain (HeaderSync: seal, retarget bits, time rules, linkage, summed work), a fork
 * deeper than maxReorgDepth is refused before any body is asked for, and the bodies of the
 * branch with the most verified work are fetched, if it outweighs our head (BranchImport). Other engines (BFT, dev: no branches)
 * fetch ranges of blocks after the head (RangeSync), each checked with its proof. A peer that
 * shows less than it claimed loses score and is passed over until it claims more; one that
 * sends an invalid header or block loses more, and a forger is dropped.
 *
 * Gossip: a block whose parent we have is imported at once (the importer keeps a side block
 * only if its branch could become canonical). One whose parent we lack is not chased on the
 * gossip path: its sender is asked for its status (at most once a second per peer) and
 * catch-up looks at that claim in the background. Nothing is fetched or held per orphan.
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { BlockError } from '../chain/errors.ts'
import type { Chain, ImportedBlock } from '../chain/chain.ts'
import type { BlockImporter, ImportOptions, ImportOutcome } from '../chain/import.ts'
import { decodeBlockEnvelope, encodeBlockEnvelope, type RawBlock } from '../chain/block.ts'
import { invalidRequest, isNetError, type GossipVerdict, type Network, type PeerInfo } from '../net/index.ts'
import { BranchImport } from './branch-import.ts'
import { PeerClaims } from './claims.ts'
import { SyncError, unfulfilledClaim } from './errors.ts'
import { HeaderSync, type Probe } from './header-sync.ts'
import { locate } from './locator.ts'
import { SyncProgress } from './progress.ts'
import { RangeSync } from './range-sync.ts'
import { decodeHashList, decodeHeaderRequest, decodeRangeRequest, encodeBlockList, encodeHeaderList } from './wire.ts'

/** A range or by-hash response stops before this many bytes (the protocol limit is 16 MiB). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024
/** An orphan's sender is asked for its status at most this often. */
const HINT_INTERVAL_MS = 1000
/** Peers remembered for that; beyond this the record starts again. */
const MAX_HINTED = 1024

/** How many of the best-claiming peers have their branches verified before one is imported. */
const PROBED_PEERS = 3

type BranchProbe = Extract<Probe, { kind: 'branch' }>

function claimText(peer: PeerInfo): string {
  return peer.status.totalWork !== undefined ? `work ${peer.status.totalWork}` : `head ${peer.status.headHeight}`
}

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
}

export class BlockSync {
  private syncing?: Promise<void>
  private again = false
  private stopped = false
  private unsubscribe?: () => void
  private lastRefresh = 0
  private readonly hinted = new Map<string, number>()
  private readonly claims: PeerClaims
  private readonly headers: HeaderSync
  private readonly branches: BranchImport
  private readonly ranges: RangeSync

  constructor(private readonly o: BlockSyncOptions) {
    const { network, chain, importer } = o
    const importOne = (raw: RawBlock, opts: ImportOptions) => this.importOne(raw, opts)
    const onImported = (outcome: ImportOutcome) => this.logOutcome(outcome)
    this.claims = new PeerClaims(chain)
    this.headers = new HeaderSync({ network, chain, importer })
    this.branches = new BranchImport({ network, chain, importOne, onImported })
    this.ranges = new RangeSync({ network, chain, importOne, onImported })
  }

  /**
   * The highest head claimed by a connected peer, leaving out peers whose claims failed or
   * whose chain we cannot take (readiness compares against it: a liar claiming 2^63 must not
   * keep the node "not synced" forever).
   */
  bestPeerHeight(): bigint | undefined {
    let best: bigint | undefined
    for (const p of this.o.network.peers()) {
      if (!this.claims.believed(p)) continue
      if (best === undefined || p.status.headHeight > best) best = p.status.headHeight
    }
    return best
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
   * duplicates, by header). Not while catching up: peers that serve us those blocks have them.
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
    if (!chain.hasBlock(raw.header.parentHash)) {
      // Ahead of us or on another branch: what the sender claims is looked at by catch-up.
      this.hint(from)
      return 'ignore'
    }
    try {
      this.logOutcome(await this.importOne(raw, {}))
      return 'accept'
    } catch (err) {
      if (isNotKept(err) || (err instanceof BlockError && err.code === 'UNKNOWN_PARENT')) return 'ignore'
      this.o.log.warn({ peer: from, err: (err as Error).message }, 'invalid block from gossip')
      return 'reject'
    }
  }

  /** A peer sent a block we cannot place: ask it for its status (bounded per peer), then catch up. */
  private hint(peer: string): void {
    const now = Date.now()
    if (now - (this.hinted.get(peer) ?? 0) < HINT_INTERVAL_MS) return
    if (this.hinted.size >= MAX_HINTED) this.hinted.clear()
    this.hinted.set(peer, now)
    void this.o.network
      .refreshStatus(peer)
      .catch(() => undefined)
      .then(() => this.trigger())
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

  /** Syncs from the best peers until no peer claims more than we have (or shows it). */
  private async catchUp(): Promise<void> {
    const progress = new SyncProgress(this.o.chain, this.o.log)
    while (!this.stopped) {
      const candidates = this.claims.candidates(this.o.network.peers())
      if (candidates.length === 0) break
      progress.start(candidates[0]!.peerId, candidates[0]!.status.headHeight)
      if (this.o.importer.headersFirst) await this.headersFirstStep(candidates.slice(0, PROBED_PEERS), progress)
      else await this.step(candidates[0]!, () => this.rangeFrom(candidates[0]!, progress))
    }
    progress.done()
  }

  /**
   * Runs one sync step with `peer`: a fault costs it score; a step that moved nothing and left
   * it a candidate is not repeated (a peer answering blocks that never extend our chain).
   */
  private async step(peer: PeerInfo, run: () => Promise<void>): Promise<void> {
    const head = this.o.chain.head.hash
    try {
      await run()
      if (equalsBytes(head, this.o.chain.head.hash) && this.claims.candidates([peer]).length > 0) this.claims.passOver(peer.peerId, peer.status)
    } catch (err) {
      this.failed(peer, err)
    }
  }

  /**
   * One step of headers-first sync: the branches of the best-claiming peers are verified (what
   * they claim only chose them), and the bodies of the one with the most verified work are
   * imported. A claim is never enough: a liar's valid but lighter chain, taken first, would
   * make the honest chain a fork deeper than maxReorgDepth. At most two branches are held.
   */
  private async headersFirstStep(peers: PeerInfo[], progress: SyncProgress): Promise<void> {
    const ours = this.o.chain.getWork(this.o.chain.head.hash)
    let best: { peer: PeerInfo; probe: BranchProbe } | undefined
    for (const peer of peers) {
      await this.step(peer, async () => {
        const probe = this.judge(peer, await this.headers.probe(peer.peerId, ours), ours)
        if (probe && (!best || probe.branch.work > best.probe.branch.work)) best = { peer, probe }
      })
    }
    if (best) await this.step(best.peer, () => this.importFrom(best!.peer, best!.probe, progress))
  }

  /**
   * What a peer's headers showed: its branch if it outweighs our head and can be taken now;
   * otherwise the peer is passed over, and pays when it showed less than it claimed.
   */
  private judge(peer: PeerInfo, probe: Probe, ours: bigint): BranchProbe | undefined {
    const { chain, log } = this.o
    if (probe.kind === 'nothing') {
      this.shown(peer, { work: chain.getWork(chain.head.hash), height: chain.head.header.height })
      return undefined
    }
    if (probe.kind === 'too-deep') {
      log.warn(
        { peer: peer.peerId, forkHeight: Number(probe.forkHeight), depth: Number(probe.depth), maxReorgDepth: this.o.importer.maxReorgDepth },
        "sync: the peer's chain parts from ours deeper than this node reorganizes (maxReorgDepth): not followed",
      )
      this.claims.passOver(peer.peerId, peer.status)
      return undefined
    }
    const { branch, complete, future } = probe
    const shown = { work: branch.work, height: branch.tip.header.height }
    // Its whole chain is in and falls short of its claim: a liar, whatever its branch is worth.
    if (complete && PeerClaims.shortOf(peer.status, shown)) {
      this.claimFailed(peer, `claimed ${claimText(peer)} but its headers show work ${branch.work} at height ${shown.height}`)
      return undefined
    }
    if (branch.work > ours) return probe
    if (future) {
      log.info({ peer: peer.peerId, reason: future }, 'sync: a header from the future; trying again later')
      this.claims.passOver(peer.peerId, peer.status)
    } else if (complete) {
      // Its whole chain, as claimed, is no heavier than ours (our head grew meanwhile): nothing wrong.
      this.claims.passOver(peer.peerId, peer.status, false)
    } else {
      // Still lighter than us at the most headers we hold for a peer: not believed.
      this.claimFailed(peer, `showed a branch with work ${branch.work} (${branch.length} headers from height ${branch.fork.header.height}), not more than ours (${ours})`)
    }
    return undefined
  }

  /** Imports the bodies of a verified branch from the peer that showed it. */
  private async importFrom(peer: PeerInfo, probe: BranchProbe, progress: SyncProgress): Promise<void> {
    const { chain, log } = this.o
    const { branch, complete, future } = probe
    if (branch.fork.header.height < chain.head.header.height) {
      log.info({ peer: peer.peerId, forkHeight: Number(branch.fork.header.height), headers: branch.length }, 'sync: a branch with more work; fetching its blocks')
    }
    const target = branch.tip.header.height > peer.status.headHeight ? branch.tip.header.height : peer.status.headHeight
    const stop = await this.branches.run(peer.peerId, branch, () => progress.tick(target))
    if (stop === 'future' || future) return this.claims.passOver(peer.peerId, peer.status)
    if (stop === undefined && complete) this.shown(peer, { work: branch.work, height: branch.tip.header.height })
  }

  /**
   * One range of blocks after our head from `peer` (engines without headers-first). Once our
   * head reaches its claim it is no candidate any more; an empty answer before that is a
   * failed claim (RangeSync throws).
   */
  private async rangeFrom(peer: PeerInfo, progress: SyncProgress): Promise<void> {
    const stop = await this.ranges.next(peer)
    progress.tick(peer.status.headHeight)
    if (stop === 'future') this.claims.passOver(peer.peerId, peer.status)
  }

  /** The peer served all it has: it is paid in score if that falls short of its claim, and passed over either way. */
  private shown(peer: PeerInfo, shown: { work: bigint; height: bigint }): void {
    if (PeerClaims.shortOf(peer.status, shown)) return this.claimFailed(peer, `claimed ${claimText(peer)} but showed only work ${shown.work} at height ${shown.height}`)
    this.claims.passOver(peer.peerId, peer.status, false)
  }

  private claimFailed(peer: PeerInfo, reason: string): void {
    this.failed(peer, unfulfilledClaim(reason))
  }

  /** Sync from `peer` failed: it pays what it did wrong (and is dropped if it forged), and is passed over. */
  private failed(peer: PeerInfo, err: unknown): void {
    const { network, log } = this.o
    this.claims.passOver(peer.peerId, peer.status)
    // A claim the peer does not answer for in time is as good as a claim it cannot show.
    if (isNetError(err, 'TIMEOUT')) err = unfulfilledClaim(`claimed a better chain but did not answer in time: ${err.message}`)
    if (!(err instanceof SyncError)) {
      log.debug({ peer: peer.peerId, err: (err as Error).message }, 'sync: request failed')
      return
    }
    log.info({ peer: peer.peerId, code: err.code, reason: err.message }, `sync: peer ${err.code === 'UNFULFILLED_CLAIM' ? 'did not deliver what it claimed' : 'sent invalid data'}`)
    network.penalize(peer.peerId, err.message, err.penalty)
    if (err.drop) void network.disconnect(peer.peerId).catch(() => undefined)
  }
}
