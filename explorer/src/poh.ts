/**
 * DOM-free helpers for PoH (solana-like) chains: a block's commitment from the node's
 * processed / confirmed / finalized heights, the slot length the clock gives, skipped slots,
 * a slot series' skip rate, the upcoming leaders of a schedule, and entry counts.
 */
import type { BlockPoh, Commitment, PohSchedule, PohSlot, PohStatus } from './api/types.ts'
import { compact } from './format.ts'

/** The commitment of a canonical block at `height` (a block newer than the heights is processed). */
export function commitmentOf(height: number, heights: Record<Commitment, number>): Commitment {
  if (height <= heights.finalized) return 'finalized'
  if (height <= heights.confirmed) return 'confirmed'
  return 'processed'
}

/**
 * How long a slot lasts with this node's clock: hashesPerSlot at its hash rate, and on paced
 * clusters never less than minSlotMs. Null when it runs no clock and the chain is not paced.
 */
export function slotMs(clock: PohStatus['clock'], hashrate: number): number | null {
  if (!(hashrate > 0)) return clock.minSlotMs
  return Math.max((clock.hashesPerSlot / hashrate) * 1000, clock.minSlotMs ?? 0)
}

/** "slot 7" or "slots 7–9" for the slots skipped before a block; null when none were. */
export function skippedRange(p: PohSlot): string | null {
  if (p.skippedSlots <= 0) return null
  const first = p.parentSlot + 1
  const last = p.slot - 1
  return first === last ? `slot ${first}` : `slots ${first}–${last}`
}

/** The share of slots spanned by these blocks that got no block (null without PoH blocks). */
export function skipRate(blocks: { poh?: PohSlot }[]): number | null {
  let spanned = 0
  let skipped = 0
  for (const b of blocks) {
    if (!b.poh) continue
    spanned += b.poh.slot - b.poh.parentSlot
    skipped += b.poh.skippedSlots
  }
  return spanned === 0 ? null : skipped / spanned
}

export interface LeaderTurn {
  firstSlot: number
  lastSlot: number
  leader: string
  now: boolean
}

/** The schedule's leader turns from the one holding `slot` on, at most `count` of them. */
export function upcomingLeaders(schedule: PohSchedule, slot: number, count: number): LeaderTurn[] {
  return schedule.leaders
    .map((l) => ({ firstSlot: l.firstSlot, lastSlot: l.firstSlot + schedule.slotsPerLeader - 1, leader: l.leader, now: slot >= l.firstSlot && slot < l.firstSlot + schedule.slotsPerLeader }))
    .filter((t) => t.lastSlot >= slot)
    .slice(0, count)
}

/** Each staker's share of the schedule's stake. */
export function stakeShares(schedule: PohSchedule): { address: string; stake: string; share: number }[] {
  const total = schedule.stakes.reduce((n, s) => n + BigInt(s.stake), 0n)
  return schedule.stakes.map((s) => ({ ...s, share: total === 0n ? 0 : Number((BigInt(s.stake) * 1_000_000n) / total) / 1_000_000 }))
}

/** Ticks, entries with txs, txs and hashes of a slot's PoH. */
export function entryCounts(p: Pick<BlockPoh, 'entries'>): { ticks: number; txEntries: number; txs: number; hashes: number } {
  let ticks = 0
  let txEntries = 0
  let txs = 0
  let hashes = 0
  for (const e of p.entries) {
    hashes += e.numHashes
    if (e.txHashes.length === 0) ticks++
    else {
      txEntries++
      txs += e.txHashes.length
    }
  }
  return { ticks, txEntries, txs, hashes }
}

/** "3.52M hashes/s" */
export const formatHashrate = (n: number): string => `${compact(Math.round(n))} hashes/s`
