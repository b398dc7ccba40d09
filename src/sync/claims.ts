/**
 * What peers claim in their status, and which are worth syncing from. A claim costs nothing to
 * make, so it only orders the peers we look at: the one claiming the most total work first
 * (a peer whose status carries no work: by height, after those that do). What decides is what
 * the peer then shows: sync verifies its headers (or blocks) and penalizes a claim it does not
 * deliver. A peer whose claim failed, or whose chain we cannot take now (a fork too deep, a
 * block from the future), is passed over until it claims more.
 * @module
 */
import type { Chain } from '../chain/chain.ts'
import type { ChainStatus, PeerInfo } from '../net/index.ts'

/** Peers remembered as passed over; beyond this the oldest are forgotten. */
const MAX_REMEMBERED = 1024

/** A status's claim, comparable between statuses of one peer: more work (or height) is a new claim. */
function claimOf(status: ChainStatus): bigint {
  return status.totalWork ?? status.headHeight
}

export class PeerClaims {
  /** Peers passed over, with the claim they made then and whether it was found false (or untakeable). */
  private readonly passed = new Map<string, { claim: bigint; doubted: boolean }>()

  /**
   * `engineForkChoice`: the engine picks the fork (PoH votes), so a peer's head we lack is worth
   * looking at even when its chain is lighter than ours: it may be the fork the votes are on.
   */
  constructor(
    private readonly chain: Chain,
    private readonly engineForkChoice = false,
  ) {}

  /** Whether the peer claims a chain better than ours (or, engine fork choice: another head) that we did not look at yet. */
  private claimsMore(p: PeerInfo): boolean {
    const { chain } = this
    const s = p.status
    const passed = this.passed.get(p.peerId)
    if (passed !== undefined && claimOf(s) <= passed.claim) return false
    if (chain.hasBlock(s.headHash)) return false
    if (this.engineForkChoice) return true
    return s.totalWork !== undefined ? s.totalWork > chain.getWork(chain.head.hash) : s.headHeight > chain.head.header.height
  }

  /** Peers to sync from, best claim first. */
  candidates(peers: PeerInfo[]): PeerInfo[] {
    return peers.filter((p) => this.claimsMore(p)).sort((a, b) => compare(b.status, a.status))
  }

  /** Whether the peer's current claim is one we have not found false (or untakeable). */
  believed(p: PeerInfo): boolean {
    const passed = this.passed.get(p.peerId)
    return passed === undefined || !passed.doubted || claimOf(p.status) > passed.claim
  }

  /**
   * Passes over `peer` until it claims more than `status` does: `doubted` when its claim was
   * false or its chain is one we cannot take, not when we simply have all it showed.
   */
  passOver(peer: string, status: ChainStatus, doubted = true): void {
    this.passed.delete(peer)
    if (this.passed.size >= MAX_REMEMBERED) this.passed.delete(this.passed.keys().next().value!)
    this.passed.set(peer, { claim: claimOf(status), doubted })
  }

  /** Whether what a peer showed falls short of what it claimed (work when it claimed work, else height). */
  static shortOf(status: ChainStatus, shown: { work: bigint; height: bigint }): boolean {
    return status.totalWork !== undefined ? shown.work < status.totalWork : shown.height < status.headHeight
  }
}

function compare(a: ChainStatus, b: ChainStatus): number {
  if ((a.totalWork === undefined) !== (b.totalWork === undefined)) return a.totalWork === undefined ? -1 : 1
  const x = a.totalWork ?? a.headHeight
  const y = b.totalWork ?? b.headHeight
  return x < y ? -1 : x > y ? 1 : 0
}
