/**
 * PoS evidence of double votes waiting for a block: verified on entry, kept by offence until a
 * committed block carries it, then remembered so it is never proposed again.
 * @module
 */
import type { DuplicateVoteEvidence } from '../bft/index.ts'
import { MAX_EVIDENCE_PER_BLOCK, slashableOffence } from './seal.ts'

const MAX_PENDING_EVIDENCE = 256

/** Offences remembered as included, so they are never proposed again (older ones are too old to include anyway). */
const MAX_INCLUDED = 4096

export class EvidencePool {
  private readonly pending = new Map<string, DuplicateVoteEvidence>()
  private readonly included = new Set<string>()

  /** `maxAge`: evidence older than this many blocks can no longer be included (rules.ts maxEvidenceAge). */
  constructor(private readonly maxAge: bigint) {}

  /** Whether this offence is new to the pool (neither pending nor already in a block). */
  isNew(ev: DuplicateVoteEvidence): boolean {
    const key = slashableOffence(ev)
    return !this.pending.has(key) && !this.included.has(key)
  }

  /** Adds verified evidence; false when the pool is full or already has the offence. */
  add(ev: DuplicateVoteEvidence): boolean {
    if (!this.isNew(ev) || this.pending.size >= MAX_PENDING_EVIDENCE) return false
    this.pending.set(slashableOffence(ev), ev)
    return true
  }

  /** What a block at `height` should carry; evidence too old to include is dropped. */
  forBlock(height: bigint): DuplicateVoteEvidence[] {
    const out: DuplicateVoteEvidence[] = []
    for (const [key, ev] of this.pending) {
      if (ev.voteA.height + this.maxAge < height) this.pending.delete(key)
      else if (out.length < MAX_EVIDENCE_PER_BLOCK) out.push(ev)
    }
    return out
  }

  /** A committed block carried these: never propose them again. */
  committed(evidence: readonly DuplicateVoteEvidence[]): void {
    for (const ev of evidence) {
      const key = slashableOffence(ev)
      this.pending.delete(key)
      this.included.add(key)
      if (this.included.size > MAX_INCLUDED) this.included.delete(this.included.values().next().value!)
    }
  }
}
