/**
 * Leader schedules read off the chain (leader-schedule.ts decides where the inputs come from):
 * the schedule of epoch E is drawn from the stakes after the "boundary block" — the last block
 * on the branch whose slot is below (E-1)·slotsPerEpoch — seeded by that block's hash; epochs
 * 0 and 1 use genesis. The boundary block is found on the branch being judged: walking back
 * from the block's parent to the canonical chain (side branches are short: they fork above the
 * root), then a binary search of the canonical heights by slot (slots grow with height).
 * Schedules are cached by boundary block (a few epochs' worth).
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { StakeSnapshot } from '../../contracts/index.ts'
import { LeaderSchedule, StakeSet, epochOf, epochSeed } from '../poh/index.ts'
import { decodePohSeal } from './seal.ts'

/** What the schedules need of the chain. */
export interface ScheduleChain {
  genesisHash: Uint8Array
  getHeader(hash: Uint8Array): BlockHeader | undefined
  getHashAt(height: bigint): Uint8Array | undefined
  isCanonical(hash: Uint8Array): boolean
  /** The staking contract's snapshot after block `height` (the canonical history). */
  stakesAfter(height: bigint): StakeSnapshot | undefined
}

const MAX_CACHED = 8
/** Side branches are walked back at most this far to reach the canonical chain. */
const MAX_SIDE_WALK = 4096

export class ScheduleSource {
  private readonly cache = new Map<string, LeaderSchedule>()

  constructor(
    private readonly chain: ScheduleChain,
    readonly slotsPerEpoch: number,
    private readonly maxValidators: number,
  ) {}

  /** The slot of a stored header (genesis: 0). */
  slotOf(header: BlockHeader): bigint {
    return header.height === 0n ? 0n : decodePohSeal(header.seal).slot
  }

  /** The schedule covering `slot` for a block whose parent is `parentHash`. */
  scheduleFor(slot: bigint, parentHash: Uint8Array): LeaderSchedule {
    const epoch = epochOf(slot, this.slotsPerEpoch)
    const boundary = epoch < 2n ? { hash: this.chain.genesisHash, height: 0n } : this.boundaryBlock((epoch - 1n) * BigInt(this.slotsPerEpoch), parentHash)
    const key = `${epoch}:${bytesToHex(boundary.hash)}`
    let schedule = this.cache.get(key)
    if (!schedule) {
      const snapshot = this.chain.stakesAfter(boundary.height)
      if (!snapshot) throw new BlockError('BAD_SEAL', `no stake snapshot at block ${boundary.height} for the leader schedule of epoch ${epoch}`)
      const stakes = StakeSet.from(snapshot.validators, { maxValidators: this.maxValidators })
      schedule = LeaderSchedule.compute({ epoch, stakes, seed: epochSeed(epoch, boundary.hash), slotsPerEpoch: this.slotsPerEpoch })
      this.cache.set(key, schedule)
      if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!)
    }
    return schedule
  }

  /** The leader of `slot` on the branch of `parentHash`. */
  leaderAt(slot: bigint, parentHash: Uint8Array): Uint8Array {
    return this.scheduleFor(slot, parentHash).leaderAt(slot)
  }

  /** The last block on the branch ending at `tip` whose slot is below `slot`. */
  private boundaryBlock(slot: bigint, tip: Uint8Array): { hash: Uint8Array; height: bigint } {
    let hash = tip
    let header = this.header(hash)
    for (let i = 0; !this.chain.isCanonical(hash); i++) {
      if (this.slotOf(header) < slot) return { hash, height: header.height }
      if (i >= MAX_SIDE_WALK) throw new BlockError('FORK_TOO_DEEP', `the branch of ${bytesToHex(tip)} does not reach the canonical chain within ${MAX_SIDE_WALK} blocks`)
      hash = header.parentHash
      header = this.header(hash)
    }
    const height = this.lastCanonicalBelow(slot, header.height)
    return { hash: this.chain.getHashAt(height)!, height }
  }

  /** Whether the canonical chain up to `maxHeight` holds a block of exactly `slot`. */
  canonicalHasSlot(slot: bigint, maxHeight: bigint): boolean {
    const below = this.lastCanonicalBelow(slot + 1n, maxHeight)
    return this.slotOf(this.header(this.chain.getHashAt(below)!)) === slot
  }

  /** The highest canonical height at or below `maxHeight` whose slot is below `slot` (binary search: slots grow with height). */
  private lastCanonicalBelow(slot: bigint, maxHeight: bigint): bigint {
    let lo = 0n
    let hi = maxHeight
    while (lo < hi) {
      const mid = (lo + hi + 1n) / 2n
      if (this.slotOf(this.header(this.chain.getHashAt(mid)!)) < slot) lo = mid
      else hi = mid - 1n
    }
    return lo
  }

  private header(hash: Uint8Array): BlockHeader {
    const h = this.chain.getHeader(hash)
    if (!h) throw new BlockError('UNKNOWN_PARENT', `block ${bytesToHex(hash)} is not stored`)
    return h
  }
}
