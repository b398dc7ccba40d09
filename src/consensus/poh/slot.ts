/**
 * Slot arithmetic of the PoH clock: a slot is `ticksPerSlot` ticks of `hashesPerTick` hashes.
 * Entries with txs sit between ticks and use up hashes of the tick they are in, so the hashes
 * from one tick to the next are always exactly hashesPerTick (Solana's rule, checked there by
 * verify_tick_hash_count) and a slot is always ticksPerSlot * hashesPerTick hashes long.
 * These checks are cheap (no hashing) and run before the verifier's.
 * @module
 */
import { PohError } from './errors.ts'
import { checkEntry, type PohEntry } from './sequence.ts'

export interface PohClock {
  hashesPerTick: number
  ticksPerSlot: number
}

/** Hard ceilings for the clock parameters, far above any sensible chain spec. */
export const MAX_HASHES_PER_TICK = 1 << 30
export const MAX_TICKS_PER_SLOT = 1 << 16

export function checkClock(c: PohClock): void {
  if (!Number.isInteger(c.hashesPerTick) || c.hashesPerTick < 2 || c.hashesPerTick > MAX_HASHES_PER_TICK) {
    throw new PohError('BAD_ARGUMENT', `hashesPerTick must be a whole number from 2 to ${MAX_HASHES_PER_TICK}, got ${String(c.hashesPerTick)}`)
  }
  if (!Number.isInteger(c.ticksPerSlot) || c.ticksPerSlot < 1 || c.ticksPerSlot > MAX_TICKS_PER_SLOT) {
    throw new PohError('BAD_ARGUMENT', `ticksPerSlot must be a whole number from 1 to ${MAX_TICKS_PER_SLOT}, got ${String(c.ticksPerSlot)}`)
  }
}

/**
 * The hashes `slots` consecutive slots hold (a leader after skipped slots covers them too),
 * plus `slackHashes`: the maxHashes to give the verifier for such a block.
 */
export function slotHashBudget(c: PohClock, slots = 1, slackHashes = 0): number {
  checkClock(c)
  if (!Number.isInteger(slots) || slots < 1) throw new PohError('BAD_ARGUMENT', `slots must be a whole number >= 1, got ${String(slots)}`)
  if (!Number.isInteger(slackHashes) || slackHashes < 0) throw new PohError('BAD_ARGUMENT', `slackHashes must be a whole number >= 0, got ${String(slackHashes)}`)
  const budget = c.hashesPerTick * c.ticksPerSlot * slots + slackHashes
  if (!Number.isSafeInteger(budget)) throw new PohError('BAD_ARGUMENT', 'the hash budget is not a safe integer')
  return budget
}

/**
 * Throws PohError('BAD_TICKS', index) unless `entries` are exactly `ticks` ticks with exactly
 * hashesPerTick hashes from each tick to the next (counting the entries with txs between
 * them), ending on a tick. Does not hash: pair it with the verifier.
 */
export function checkTicks(entries: PohEntry[], c: PohClock, ticks = c.ticksPerSlot): void {
  checkClock(c)
  if (!Array.isArray(entries)) throw new PohError('BAD_ARGUMENT', 'entries must be an array')
  let seen = 0
  let sinceTick = 0
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    checkEntry(e, i)
    sinceTick += e.numHashes
    if (sinceTick > c.hashesPerTick) {
      throw new PohError('BAD_TICKS', `PoH entry ${i}: ${sinceTick} hashes since the last tick, over hashesPerTick ${c.hashesPerTick}`, { index: i })
    }
    if (e.txHashes.length > 0) {
      // The tick itself needs at least one hash after the last entry with txs.
      if (sinceTick === c.hashesPerTick) {
        throw new PohError('BAD_TICKS', `PoH entry ${i}: an entry with txs uses the tick's last hash`, { index: i })
      }
      continue
    }
    if (sinceTick !== c.hashesPerTick) {
      throw new PohError('BAD_TICKS', `PoH entry ${i}: a tick after ${sinceTick} hashes, not hashesPerTick ${c.hashesPerTick}`, { index: i })
    }
    seen++
    sinceTick = 0
    if (seen > ticks) throw new PohError('BAD_TICKS', `PoH entry ${i}: more than ${ticks} ticks`, { index: i })
  }
  if (seen !== ticks || sinceTick !== 0) {
    throw new PohError('BAD_TICKS', `PoH entries hold ${seen} ticks${sinceTick ? ' and do not end on a tick' : ''}, expected ${ticks}`)
  }
}
