/**
 * The PoH chain's leader schedule: who may produce the block of each slot, fixed one epoch
 * ahead from stakes and a seed, as Solana's `stake_weighted_slot_leaders` does.
 *
 * Algorithm (per epoch of `slotsPerEpoch` slots, in groups of `slotsPerLeader` = 4
 * consecutive slots, Solana's NUM_CONSECUTIVE_LEADER_SLOTS):
 * 1. The validators with stake, sorted by stake descending then address descending
 *    (StakeSet's order, Solana's `sort_stakes`).
 * 2. A ChaCha20 stream keyed by the epoch's 32-byte seed (weighted-sample.ts).
 * 3. For each group in slot order, one draw of rand's WeightedIndex over the stakes picks the
 *    group's leader: a validator with a share p of the stake leads each group with
 *    probability p, independently.
 * With `solanaEpochSeed(epoch)` as the seed and u64 stakes this reproduces Solana's schedule
 * bit for bit (test vector: Solana's test_repeated_leader_schedule_specific).
 *
 * Where the inputs come from (decided here; the engine reads them off its chain):
 * - The schedule of epoch E is fixed by the chain state before the first slot of epoch E-1,
 *   on the fork being evaluated: the stakes are the staking contract's snapshot after the
 *   last block whose slot is below (E-1)·slotsPerEpoch (the "boundary block"), and the seed
 *   is `epochSeed(E, hash of that block)`. Epochs 0 and 1 use the genesis stakes and hash.
 *   So during all of epoch E-1 every node knows who leads in epoch E (txs can be forwarded
 *   to upcoming leaders, a leader can prepare), which is Solana's rule: it computes the
 *   schedule of E+1 from the stakes at the start of epoch E. Since the boundary block is
 *   slotsPerEpoch (>= 32) slots before epoch E-1 even starts and a whole epoch before E,
 *   it is normally rooted long before the schedule is used; until then each fork derives
 *   its own schedule from its own boundary block, deterministically.
 * - The seed mixes the epoch number in, so two epochs never share a schedule even when no
 *   block was produced between their boundaries.
 * - Solana seeds with the epoch number alone; a block hash makes the schedule unpredictable
 *   before the boundary, but the leader of the boundary block can grind it (try blocks until
 *   the schedule favours it) for that one epoch. The bias is bounded by how many blocks it
 *   can build within its slot; stake, fixed a full epoch earlier, still sets each share.
 * @module
 */
import { sha256 } from '../../crypto/hash.ts'
import { LeaderScheduleError } from './voting-errors.ts'
import type { StakeSet } from './stake-set.ts'
import { ChaCha20Rng, WeightedIndex } from './weighted-sample.ts'
import { HASH_LENGTH, MAX_SLOT, equalBytes, isBytes, isSlot } from './vote-codec.ts'

/** Consecutive slots one leader holds (Solana's NUM_CONSECUTIVE_LEADER_SLOTS). */
export const SLOTS_PER_LEADER = 4
/** Solana's MINIMUM_SLOTS_PER_EPOCH; shorter epochs would change schedules faster than slots root. */
export const MIN_SLOTS_PER_EPOCH = 32
/** One schedule holds slotsPerEpoch / slotsPerLeader entries: bound it. */
export const MAX_SLOTS_PER_EPOCH = 1 << 22

const SEED_TAG = new TextEncoder().encode('catena/poh/leader-schedule/v1')

export interface EpochParams {
  slotsPerEpoch: number
  /** Defaults to SLOTS_PER_LEADER. */
  slotsPerLeader?: number
}

/** Checks the chain spec's epoch parameters; LeaderScheduleError('BAD_PARAMS') names the problem. */
export function checkEpochParams(p: EpochParams): Required<EpochParams> {
  const slotsPerLeader = p.slotsPerLeader ?? SLOTS_PER_LEADER
  if (!Number.isSafeInteger(slotsPerLeader) || slotsPerLeader < 1 || slotsPerLeader > 64) {
    throw new LeaderScheduleError('BAD_PARAMS', `slotsPerLeader must be an integer in [1, 64] (got ${String(p.slotsPerLeader)})`)
  }
  const s = p.slotsPerEpoch
  if (!Number.isSafeInteger(s) || s < MIN_SLOTS_PER_EPOCH || s > MAX_SLOTS_PER_EPOCH) {
    throw new LeaderScheduleError('BAD_PARAMS', `slotsPerEpoch must be an integer in [${MIN_SLOTS_PER_EPOCH}, ${MAX_SLOTS_PER_EPOCH}] (got ${String(s)})`)
  }
  if (s % slotsPerLeader !== 0) throw new LeaderScheduleError('BAD_PARAMS', `slotsPerEpoch ${s} must be a multiple of slotsPerLeader ${slotsPerLeader}`)
  return { slotsPerEpoch: s, slotsPerLeader }
}

export function epochOf(slot: bigint, slotsPerEpoch: number): bigint {
  if (!isSlot(slot)) throw new LeaderScheduleError('BAD_PARAMS', `slot must be a bigint in [0, 2^63-1] (got ${String(slot)})`)
  return slot / BigInt(slotsPerEpoch)
}

export function epochStartSlot(epoch: bigint, slotsPerEpoch: number): bigint {
  const start = epoch * BigInt(slotsPerEpoch)
  if (epoch < 0n || start > MAX_SLOT) throw new LeaderScheduleError('BAD_PARAMS', `epoch ${epoch} is out of range`)
  return start
}

/**
 * Where the inputs of epoch `epoch`'s schedule come from: the genesis state, or the chain
 * state after the last block with a slot below `beforeSlot` (the boundary block).
 */
export function scheduleSource(epoch: bigint, slotsPerEpoch: number): { kind: 'genesis' } | { kind: 'boundary'; beforeSlot: bigint } {
  if (epoch <= 1n) return { kind: 'genesis' }
  return { kind: 'boundary', beforeSlot: epochStartSlot(epoch - 1n, slotsPerEpoch) }
}

/** Catena's seed: sha256(tag || epoch as u64 big-endian || hash of the boundary block, or genesis). */
export function epochSeed(epoch: bigint, boundaryHash: Uint8Array): Uint8Array {
  if (!isBytes(boundaryHash, HASH_LENGTH)) throw new LeaderScheduleError('BAD_PARAMS', `the boundary block hash must be ${HASH_LENGTH} bytes`)
  if (!isSlot(epoch)) throw new LeaderScheduleError('BAD_PARAMS', `epoch must be a bigint in [0, 2^63-1]`)
  const e = new Uint8Array(8)
  new DataView(e.buffer).setBigUint64(0, epoch)
  const pre = new Uint8Array(SEED_TAG.length + 8 + HASH_LENGTH)
  pre.set(SEED_TAG, 0)
  pre.set(e, SEED_TAG.length)
  pre.set(boundaryHash, SEED_TAG.length + 8)
  return sha256(pre)
}

/** Solana's seed: the epoch as u64 little-endian in the first 8 bytes, zeros after. */
export function solanaEpochSeed(epoch: bigint): Uint8Array {
  const seed = new Uint8Array(32)
  new DataView(seed.buffer).setBigUint64(0, BigInt.asUintN(64, epoch), true)
  return seed
}

/**
 * Solana's stake_weighted_slot_leaders: `len` slots, a new weighted draw every `repeat`
 * slots. Returns indexes into `stakes.entries`. The primitive behind LeaderSchedule, exposed
 * for test vectors (it takes lengths that are not whole epochs).
 */
export function stakeWeightedLeaders(stakes: StakeSet, seed: Uint8Array, len: number, repeat: number): Uint16Array {
  if (!isBytes(seed, 32)) throw new LeaderScheduleError('BAD_PARAMS', 'the schedule seed must be 32 bytes')
  if (!Number.isSafeInteger(len) || len < 0 || len > MAX_SLOTS_PER_EPOCH) throw new LeaderScheduleError('BAD_PARAMS', `len must be in [0, ${MAX_SLOTS_PER_EPOCH}]`)
  if (!Number.isSafeInteger(repeat) || repeat < 1) throw new LeaderScheduleError('BAD_PARAMS', 'repeat must be a positive integer')
  const index = new WeightedIndex(stakes.entries.map((e) => e.stake))
  const rng = new ChaCha20Rng(seed)
  const out = new Uint16Array(len)
  let current = 0
  for (let i = 0; i < len; i++) {
    if (i % repeat === 0) current = index.sample(rng)
    out[i] = current
  }
  return out
}

export interface ScheduleInputs extends EpochParams {
  epoch: bigint
  stakes: StakeSet
  /** 32 bytes: epochSeed(epoch, boundary block hash). */
  seed: Uint8Array
}

/** The leaders of one epoch. Immutable; pure function of its inputs. */
export class LeaderSchedule {
  readonly firstSlot: bigint
  readonly slotsPerEpoch: number
  readonly slotsPerLeader: number
  private readonly leaderOfGroup: Uint16Array

  private constructor(
    readonly epoch: bigint,
    readonly stakes: StakeSet,
    params: Required<EpochParams>,
    leaderOfGroup: Uint16Array,
  ) {
    this.slotsPerEpoch = params.slotsPerEpoch
    this.slotsPerLeader = params.slotsPerLeader
    this.firstSlot = epochStartSlot(epoch, params.slotsPerEpoch)
    if (this.firstSlot + BigInt(params.slotsPerEpoch - 1) > MAX_SLOT) throw new LeaderScheduleError('BAD_PARAMS', `epoch ${epoch} ends beyond the last slot`)
    this.leaderOfGroup = leaderOfGroup
  }

  static compute(inputs: ScheduleInputs): LeaderSchedule {
    const params = checkEpochParams(inputs)
    if (!isSlot(inputs.epoch)) throw new LeaderScheduleError('BAD_PARAMS', 'epoch must be a bigint in [0, 2^63-1]')
    epochStartSlot(inputs.epoch, params.slotsPerEpoch)
    const groups = params.slotsPerEpoch / params.slotsPerLeader
    // One draw per group: the same stream as Solana's per-slot loop with repeat = slotsPerLeader.
    const leaders = stakeWeightedLeaders(inputs.stakes, inputs.seed, groups, 1)
    return new LeaderSchedule(inputs.epoch, inputs.stakes, params, leaders)
  }

  get lastSlot(): bigint {
    return this.firstSlot + BigInt(this.slotsPerEpoch - 1)
  }

  contains(slot: bigint): boolean {
    return isSlot(slot) && slot >= this.firstSlot && slot <= this.lastSlot
  }

  /** The 20-byte address of the leader of `slot`; WRONG_EPOCH outside this epoch. */
  leaderAt(slot: bigint): Uint8Array {
    return this.stakes.entries[this.leaderOfGroup[this.groupOf(slot)]].address
  }

  /** The first slot of the 4-slot group `slot` belongs to. */
  groupStart(slot: bigint): bigint {
    return this.firstSlot + BigInt(this.groupOf(slot) * this.slotsPerLeader)
  }

  /** The first slot at or after `from` (within this epoch) that `address` leads, or undefined. */
  nextLeaderSlot(address: Uint8Array, from: bigint): bigint | undefined {
    const start = from < this.firstSlot ? this.firstSlot : from
    if (start > this.lastSlot) return undefined
    for (let g = this.groupOf(start); g < this.leaderOfGroup.length; g++) {
      if (equalBytes(this.stakes.entries[this.leaderOfGroup[g]].address, address)) {
        const s = this.firstSlot + BigInt(g * this.slotsPerLeader)
        return s < start ? start : s
      }
    }
    return undefined
  }

  /** How many slots each validator leads, by address hex: for reports and the explorer. */
  slotCounts(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const i of this.leaderOfGroup) {
      const key = Buffer.from(this.stakes.entries[i].address).toString('hex')
      counts.set(key, (counts.get(key) ?? 0) + this.slotsPerLeader)
    }
    return counts
  }

  private groupOf(slot: bigint): number {
    if (!this.contains(slot)) {
      throw new LeaderScheduleError('WRONG_EPOCH', `slot ${String(slot)} is not in epoch ${this.epoch} (slots ${this.firstSlot}..${this.lastSlot})`)
    }
    return Math.floor(Number(slot - this.firstSlot) / this.slotsPerLeader)
  }
}

/**
 * The schedules a node holds: the current epoch's, the next one's (known a full epoch ahead)
 * and a few past ones to check late blocks and evidence. Bounded: adding beyond `maxEpochs`
 * drops the oldest.
 */
export class LeaderSchedules {
  private readonly byEpoch = new Map<bigint, LeaderSchedule>()

  constructor(
    readonly slotsPerEpoch: number,
    readonly maxEpochs = 4,
  ) {
    checkEpochParams({ slotsPerEpoch })
    if (!Number.isSafeInteger(maxEpochs) || maxEpochs < 2) throw new LeaderScheduleError('BAD_PARAMS', 'keep at least 2 epochs (the current and the next)')
  }

  add(schedule: LeaderSchedule): void {
    if (schedule.slotsPerEpoch !== this.slotsPerEpoch) throw new LeaderScheduleError('BAD_PARAMS', `schedule of ${schedule.slotsPerEpoch} slots per epoch in a ${this.slotsPerEpoch}-slot cache`)
    this.byEpoch.set(schedule.epoch, schedule)
    while (this.byEpoch.size > this.maxEpochs) {
      let oldest: bigint | undefined
      for (const e of this.byEpoch.keys()) if (oldest === undefined || e < oldest) oldest = e
      this.byEpoch.delete(oldest!)
    }
  }

  get(epoch: bigint): LeaderSchedule | undefined {
    return this.byEpoch.get(epoch)
  }

  /** The schedule covering `slot`; UNKNOWN_EPOCH when it was not computed (too far ahead, or dropped). */
  scheduleFor(slot: bigint): LeaderSchedule {
    const epoch = epochOf(slot, this.slotsPerEpoch)
    const s = this.byEpoch.get(epoch)
    if (!s) throw new LeaderScheduleError('UNKNOWN_EPOCH', `no leader schedule for epoch ${epoch} (slot ${slot}): it is not known yet, or too old`)
    return s
  }

  leaderAt(slot: bigint): Uint8Array {
    return this.scheduleFor(slot).leaderAt(slot)
  }

  /**
   * The distinct leaders of the groups starting with the one of `slot`, `groups` groups long
   * (the current leader first, at most 64 groups): where to forward txs. Stops at an epoch
   * not known yet.
   */
  upcomingLeaders(slot: bigint, groups: number): Uint8Array[] {
    const out: Uint8Array[] = []
    const seen = new Set<string>()
    let s = slot
    for (let i = 0; i < Math.min(groups, 64); i++) {
      const schedule = this.byEpoch.get(epochOf(s, this.slotsPerEpoch))
      if (!schedule) break
      const leader = schedule.leaderAt(s)
      const key = Buffer.from(leader).toString('hex')
      if (!seen.has(key)) {
        seen.add(key)
        out.push(leader)
      }
      s = schedule.groupStart(s) + BigInt(schedule.slotsPerLeader)
      if (s > MAX_SLOT) break
    }
    return out
  }
}
