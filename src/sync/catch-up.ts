/**
 * Catching up with peers: which peer to sync from, and what it pays for what it showed. Peers
 * are looked at best claim first (PeerClaims: the most total work in their status), and what
 * decides is what they show. Engines whose headers prove their work (PoW) sync headers first:
 * the branches of the best few claimers are verified from where each parts from our chain
 * (HeaderSync: seal, retarget bits, time rules, linkage, summed work), a fork deeper than
 * maxReorgDepth is refused before any body is asked for, and the bodies of the branch with the
 * most verified work are fetched if it outweighs our head (BranchImport). Other engines (BFT,
 * dev: no branches) fetch ranges of blocks after the head (RangeSync), each checked with its
 * proof. A peer that shows less than it claimed loses score and is passed over until it claims
 * more; one that sends an invalid header or block loses more, and a forger is dropped.
 * @module
 */
import { equalsBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { RawBlock } from '../chain/block.ts'
import type { Chain } from '../chain/chain.ts'
import type { BlockImporter, ImportOptions, ImportOutcome } from '../chain/import.ts'
import { isNetError, type Network, type PeerInfo } from '../net/index.ts'
import { BranchImport } from './branch-import.ts'
import { PeerClaims } from './claims.ts'
import { SyncError, unfulfilledClaim } from './errors.ts'
import { HeaderSync, type Probe } from './header-sync.ts'
import { SyncProgress } from './progress.ts'
import { RangeSync } from './range-sync.ts'

/** How many of the best-claiming peers have their branches verified before one is imported. */
const PROBED_PEERS = 3

type BranchProbe = Extract<Probe, { kind: 'branch' }>

function claimText(peer: PeerInfo): string {
  return peer.status.totalWork !== undefined ? `work ${peer.status.totalWork}` : `head ${peer.status.headHeight}`
}

export interface CatchUpOptions {
  network: Network
  chain: Chain
  importer: BlockImporter
  log: Logger
  /** Imports one block (BlockSync serializes imports from every path). */
  importOne(raw: RawBlock, opts: ImportOptions): Promise<ImportOutcome>
  onImported(outcome: ImportOutcome): void
  stopped(): boolean
  /** Work on fetched blocks ahead of their import (BlockSyncOptions.prefill); never rejects. */
  prefill?(blocks: RawBlock[]): Promise<void>
}

export class CatchUp {
  private readonly claims: PeerClaims
  private readonly headers: HeaderSync
  private readonly branches: BranchImport
  private readonly ranges: RangeSync

  constructor(private readonly o: CatchUpOptions) {
    const { network, chain, importer, importOne, onImported, prefill } = o
    this.claims = new PeerClaims(chain, importer.engineForkChoice)
    this.headers = new HeaderSync({ network, chain, importer })
    this.branches = new BranchImport({ network, chain, importOne, onImported, ...(prefill ? { prefill } : {}) })
    this.ranges = new RangeSync({ network, chain, importOne, onImported })
  }

  /** The highest head claimed by a connected peer whose claim was not found false (or untakeable). */
  bestPeerHeight(): bigint | undefined {
    let best: bigint | undefined
    for (const p of this.o.network.peers()) {
      if (!this.claims.believed(p)) continue
      if (best === undefined || p.status.headHeight > best) best = p.status.headHeight
    }
    return best
  }

  /** Syncs from the best peers until no peer claims more than we have (or shows it). */
  async run(): Promise<void> {
    const progress = new SyncProgress(this.o.chain, this.o.log)
    while (!this.o.stopped()) {
      const candidates = this.claims.candidates(this.o.network.peers())
      if (candidates.length === 0) break
      progress.start(candidates[0]!.peerId, candidates[0]!.status.headHeight)
      if (this.o.importer.headersFirst) await this.headersFirstStep(candidates.slice(0, PROBED_PEERS), progress)
      else await this.step(candidates[0]!, () => this.rangeFrom(candidates[0]!, progress))
    }
    progress.done()
  }

  /**
   * Runs one sync step with `peer`: a fault costs it score; a step meant to import (`movesHead`)
   * that moved nothing and left it a candidate is not repeated (a peer answering blocks that
   * never extend our chain).
   */
  private async step(peer: PeerInfo, run: () => Promise<void>, movesHead = true): Promise<void> {
    const head = this.o.chain.head.hash
    try {
      await run()
      // A probe of headers moves no block by itself: only a step that should import is judged by the head.
      if (movesHead && equalsBytes(head, this.o.chain.head.hash) && this.claims.candidates([peer]).length > 0) this.claims.passOver(peer.peerId, peer.status)
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
    // Engine fork choice (PoH votes): any branch we lack is fetched; the engine weighs it, not its work.
    const ours = this.o.importer.engineForkChoice ? 0n : this.o.chain.getWork(this.o.chain.head.hash)
    let best: { peer: PeerInfo; probe: BranchProbe } | undefined
    for (const peer of peers) {
      await this.step(
        peer,
        async () => {
          const probe = this.judge(peer, await this.headers.probe(peer.peerId, ours), ours)
          if (probe && (!best || probe.branch.work > best.probe.branch.work)) best = { peer, probe }
        },
        false,
      )
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
