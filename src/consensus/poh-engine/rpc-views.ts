/**
 * The PoH engine's RPC answers that only read: an epoch's leader schedule and a block's PoH
 * in a form anyone can re-check. Parameters come from RPC clients: checked here.
 * @module
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { epochOf } from '../poh/index.ts'
import { EngineParamsError, type EngineHost } from '../types.ts'
import type { ScheduleSource } from './schedule-source.ts'
import { pohJSON } from './seal.ts'

/** The leaders of an epoch (default: the head's) on the head's branch, one per group of slotsPerLeader slots. */
export function leaderScheduleView(schedules: ScheduleSource, slotsPerEpoch: number, headSlot: bigint, headHash: Uint8Array, epochParam: unknown) {
  const current = epochOf(headSlot, slotsPerEpoch)
  let epoch = current
  if (epochParam !== undefined && epochParam !== null) {
    if (typeof epochParam !== 'number' || !Number.isSafeInteger(epochParam) || epochParam < 0) throw new EngineParamsError('epoch must be a whole number')
    epoch = BigInt(epochParam)
  }
  if (epoch > current + 1n) throw new EngineParamsError(`the schedule of epoch ${epoch} is not known yet (the head is in epoch ${current})`)
  let schedule
  try {
    schedule = schedules.scheduleFor(epoch * BigInt(slotsPerEpoch), headHash)
  } catch (err) {
    throw new EngineParamsError(`no schedule for epoch ${epoch}: ${(err as Error).message}`)
  }
  const leaders: string[] = []
  for (let s = schedule.firstSlot; s <= schedule.lastSlot; s += BigInt(schedule.slotsPerLeader)) leaders.push(bytesToHex(schedule.leaderAt(s)))
  return {
    epoch: Number(epoch),
    firstSlot: Number(schedule.firstSlot),
    slotsPerLeader: schedule.slotsPerLeader,
    leaders,
    stakes: schedule.stakes.entries.map((e) => ({ address: bytesToHex(e.address), stake: `0x${e.stake.toString(16)}` })),
  }
}

/**
 * A block's PoH as anyone can re-check it without Catena's code: the start hash, then each
 * entry's numHashes, hash and tx hashes (h = sha256(h) numHashes times, the last mixed with
 * the RFC 6962 root of the tx hashes when there are any). By block hash or canonical height.
 */
export function blockPohView(host: Pick<EngineHost, 'blockByHash' | 'blockAt'>, id: unknown) {
  let block
  if (typeof id === 'string' && /^0x[0-9a-fA-F]{64}$/.test(id)) block = host.blockByHash(hexToBytes(id as `0x${string}`))
  else if (typeof id === 'string' && /^0x[0-9a-fA-F]{1,16}$/.test(id)) block = host.blockAt(BigInt(id))
  else if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) block = host.blockAt(BigInt(id))
  else throw new EngineParamsError('give a block hash (0x + 64 hex) or a height (number or 0x-hex)')
  if (!block) return null
  return pohJSON(block)
}
