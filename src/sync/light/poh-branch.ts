/**
 * One branch of PoH headers as a light client's sync round sees it: the verified final chain
 * (LightHeaderChain, the confirmed headers) plus the headers of this round above its head,
 * each checked before it is pushed. It answers what the engine's rules and the vote tally
 * ask of "the canonical chain": headers by hash and height, whether a hash is on it, its
 * block at a slot (slots grow with height: a binary search). Seal facts are decoded once and
 * kept for a while (the binary searches read the same headers again and again).
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { BlockHeader } from '../../chain/block.ts'
import { decodePohSeal } from '../../consensus/poh-engine/seal.ts'
import type { LinkedHeader } from './bft-membership.ts'
import type { LightHeaderChain } from './header-chain.ts'

export interface SealFacts {
  slot: bigint
  parentSlot: bigint
  /** Duplicate-block evidence it carries (a slash, then a stake read after the block). */
  evidence: number
}

const KEPT_FACTS = 16_384

/** Seal facts by block hash, bounded (shared by the rounds: a hash always has the same seal). */
export class SealFactCache {
  private readonly facts = new Map<string, SealFacts>()

  of(l: LinkedHeader): SealFacts {
    const key = bytesToHex(l.hash)
    let f = this.facts.get(key)
    if (!f) {
      if (l.header.height === 0n) f = { slot: 0n, parentSlot: 0n, evidence: 0 }
      else {
        const s = decodePohSeal(l.header.seal)
        f = { slot: s.slot, parentSlot: s.parentSlot, evidence: s.evidence.length }
      }
      this.facts.set(key, f)
      if (this.facts.size > KEPT_FACTS) this.facts.delete(this.facts.keys().next().value!)
    }
    return f
  }
}

export class PohBranch {
  private readonly above: LinkedHeader[] = []
  private readonly aboveByHash = new Map<string, LinkedHeader>()
  readonly base: LinkedHeader

  constructor(
    private readonly chain: LightHeaderChain,
    private readonly facts: SealFactCache,
  ) {
    const head = chain.head
    this.base = { hash: head.hash, header: head.header }
  }

  get tip(): LinkedHeader {
    return this.above[this.above.length - 1] ?? this.base
  }

  /** The headers pushed this round, in order. */
  get pushed(): readonly LinkedHeader[] {
    return this.above
  }

  push(l: LinkedHeader): void {
    this.above.push(l)
    this.aboveByHash.set(bytesToHex(l.hash), l)
  }

  at(height: bigint): LinkedHeader | undefined {
    if (height <= this.base.header.height) {
      const v = this.chain.at(height)
      return v && { hash: v.hash, header: v.header }
    }
    return this.above[Number(height - this.base.header.height - 1n)]
  }

  get(hash: Uint8Array): LinkedHeader | undefined {
    const key = bytesToHex(hash)
    const above = this.aboveByHash.get(key)
    if (above) return above
    const v = this.chain.get(hash)
    return v && { hash: v.hash, header: v.header }
  }

  header(hash: Uint8Array): BlockHeader | undefined {
    return this.get(hash)?.header
  }

  /** Whether `hash` is on this branch (the final chain or this round's headers). */
  has(hash: Uint8Array): boolean {
    return this.aboveByHash.has(bytesToHex(hash)) || this.chain.isBest(hash)
  }

  slotOf(l: LinkedHeader): bigint {
    return this.facts.of(l).slot
  }

  factsOf(l: LinkedHeader): SealFacts {
    return this.facts.of(l)
  }

  /** The height of the branch's block at exactly `slot`, or undefined where the slot was skipped (or is above the tip). */
  heightOfSlot(slot: bigint): bigint | undefined {
    let lo = this.chain.checkpoint.header.height
    let hi = this.tip.header.height
    while (lo <= hi) {
      const mid = (lo + hi) / 2n
      const s = this.slotOf(this.at(mid)!)
      if (s === slot) return mid
      if (s < slot) lo = mid + 1n
      else hi = mid - 1n
    }
    return undefined
  }

  /** The hash of the branch's block at exactly `slot`, if any. */
  hashAtSlot(slot: bigint): Uint8Array | undefined {
    const h = this.heightOfSlot(slot)
    return h === undefined ? undefined : this.at(h)!.hash
  }
}
