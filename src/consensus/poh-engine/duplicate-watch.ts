/**
 * Catches leaders that sign two different blocks for one slot: every valid block stored here
 * (canonical or not: both of a pair pass the rules, each signed by the slot's leader) is
 * remembered by slot; a second block of the same slot by the same leader makes evidence
 * (duplicate-block.ts), pooled until a block carries it (then the staking contract slashes
 * the leader, rules.ts blockEffects). Bounded: the slots of the last MAX_SLOTS_REMEMBERED
 * slots, at most MAX_PENDING pieces of evidence waiting.
 * @module
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { BlockHeader } from '../../chain/block.ts'
import { decodeDuplicateBlock, duplicateBlockEvidence, encodeDuplicateBlock, type DuplicateBlockEvidence, type SignedSlotBlock } from '../poh/index.ts'
import { decodePohSeal, signingHash } from './seal.ts'

const MAX_SLOTS_REMEMBERED = 4096
const MAX_PENDING = 64

export class DuplicateWatch {
  private readonly firstBySlot = new Map<bigint, SignedSlotBlock>()
  private readonly pending = new Map<string, { slot: bigint; bytes: Uint8Array }>()
  /** Offences a stored block already carried (leader/slot). */
  private readonly carried = new Set<string>()
  private found = 0

  get evidenceFound(): number {
    return this.found
  }

  /** A valid stored block; returns new evidence when it is the second of its slot by its leader. */
  observe(header: BlockHeader): DuplicateBlockEvidence | undefined {
    if (header.height === 0n) return undefined
    const seal = decodePohSeal(header.seal)
    for (const bytes of seal.evidence) this.markCarried(bytes)
    const signed: SignedSlotBlock = { leader: header.producer, slot: seal.slot, blockHash: signingHash(header, seal), signature: seal.signature }
    const first = this.firstBySlot.get(seal.slot)
    if (!first) {
      this.firstBySlot.set(seal.slot, signed)
      while (this.firstBySlot.size > MAX_SLOTS_REMEMBERED) this.firstBySlot.delete(this.firstBySlot.keys().next().value!)
      return undefined
    }
    if (!equalsBytes(first.leader, signed.leader) || equalsBytes(first.blockHash, signed.blockHash)) return undefined
    const key = offence(signed.leader, signed.slot)
    if (this.carried.has(key) || this.pending.has(key)) return undefined
    const ev = duplicateBlockEvidence(first, signed)
    if (this.pending.size < MAX_PENDING) this.pending.set(key, { slot: signed.slot, bytes: encodeDuplicateBlock(ev) })
    this.found++
    return ev
  }

  /** Evidence to carry in a block of `slot` (older slots only), oldest first. */
  forBlock(slot: bigint, max: number): Uint8Array[] {
    return [...this.pending.values()].filter((p) => p.slot < slot).sort((a, b) => (a.slot < b.slot ? -1 : 1)).slice(0, max).map((p) => p.bytes)
  }

  private markCarried(bytes: Uint8Array): void {
    try {
      const ev = decodeDuplicateBlock(bytes) // stored blocks passed the rules: it decodes
      const key = offence(ev.a.leader, ev.a.slot)
      this.carried.add(key)
      this.pending.delete(key)
      if (this.carried.size > MAX_SLOTS_REMEMBERED) this.carried.delete(this.carried.values().next().value!)
    } catch {
      // unreachable for a stored block; nothing to mark
    }
  }
}

function offence(leader: Uint8Array, slot: bigint): string {
  return `${bytesToHex(leader)}/${slot}`
}
