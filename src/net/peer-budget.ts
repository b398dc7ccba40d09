/**
 * How much of something useless a peer may send before it pays with score: a token bucket per
 * peer. Tx gossip spends it on txs nobody can use (stale nonce, underpriced, already known,
 * unfunded: each a decode and usually a signature recovery for nothing); the consensus topic
 * on messages that are dropped unchecked (duplicates, other heights, non-validators). Honest
 * peers spend a little now and then; a peer that keeps sending such things runs dry, whether
 * in big batches or small ones.
 * @module
 */

export interface PeerBudgetOptions {
  /** Tokens a peer starts with and can save up. */
  burst: number
  /** Tokens a peer earns back per second. */
  perSecond: number
  /** The clock, in ms. */
  now: () => number
}

interface Bucket {
  tokens: number
  at: number
}

/** Peers tracked at most; a full bucket is not stored, so only peers that spent recently count. */
const MAX_TRACKED = 4096

export class PeerBudget {
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly opts: PeerBudgetOptions) {}

  /** Tokens `peer` has now. */
  available(peer: string): number {
    const b = this.buckets.get(peer)
    if (b === undefined) return this.opts.burst
    return Math.min(this.opts.burst, b.tokens + ((this.opts.now() - b.at) / 1000) * this.opts.perSecond)
  }

  /** Takes `n` tokens from `peer` (never below zero). */
  spend(peer: string, n: number): void {
    if (n <= 0) return
    const tokens = Math.max(0, this.available(peer) - n)
    this.buckets.delete(peer) // re-inserted last: the map stays in order of last spend
    this.buckets.set(peer, { tokens, at: this.opts.now() })
    if (this.buckets.size > MAX_TRACKED) this.forgetOldest()
  }

  /** Drops the peer that spent longest ago (its bucket has refilled the most). */
  private forgetOldest(): void {
    const oldest = this.buckets.keys().next().value
    if (oldest !== undefined) this.buckets.delete(oldest)
  }
}
