/**
 * The votes a leader carries in its blocks: each voter's latest verified vote (gossip or our
 * own), until a stored block has carried it. Bounded by the stake set (one entry per voter,
 * at most MAX_VALIDATORS) and by what a seal holds (MAX_SEAL_VOTES).
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import { MAX_VALIDATORS, encodePohVote, type SignedPohVote } from '../poh/index.ts'
import { MAX_SEAL_VOTES } from './seal.ts'

interface Held {
  vote: SignedPohVote
  bytes: Uint8Array
}

export class VotePool {
  private readonly latest = new Map<string, Held>()
  /** Per voter, the highest slot a stored block carried. */
  private readonly carried = new Map<string, bigint>()

  get size(): number {
    return this.latest.size
  }

  /** A verified vote: kept if it is the voter's newest. */
  add(vote: SignedPohVote): void {
    const key = bytesToHex(vote.voter)
    const held = this.latest.get(key)
    if (held && held.vote.slot >= vote.slot) return
    if (!held && this.latest.size >= MAX_VALIDATORS) return
    this.latest.set(key, { vote, bytes: encodePohVote(vote) })
  }

  /** A stored block carried these votes: they need not be carried again. */
  carriedIn(votes: readonly SignedPohVote[]): void {
    for (const v of votes) {
      const key = bytesToHex(v.voter)
      if ((this.carried.get(key) ?? -1n) < v.slot) this.carried.set(key, v.slot)
      if (this.carried.size > MAX_VALIDATORS) this.carried.delete(this.carried.keys().next().value!)
    }
  }

  /** The votes not carried yet for slots before `slot`, newest first, at most a seal's worth. */
  forBlock(slot: bigint): SignedPohVote[] {
    const out: SignedPohVote[] = []
    for (const [key, held] of this.latest) {
      if (held.vote.slot >= slot) continue
      if ((this.carried.get(key) ?? -1n) >= held.vote.slot) continue
      out.push(held.vote)
    }
    out.sort((a, b) => (a.slot === b.slot ? 0 : a.slot > b.slot ? -1 : 1))
    return out.slice(0, MAX_SEAL_VOTES)
  }

  bytesOf(vote: SignedPohVote): Uint8Array {
    return this.latest.get(bytesToHex(vote.voter))?.bytes ?? encodePohVote(vote)
  }
}
