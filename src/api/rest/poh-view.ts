/**
 * The REST API's view of a PoH (solana-like) chain: each block's slot, parent slot, skipped
 * slots and the votes it carries (read from its seal), a block's PoH entries as anyone can
 * re-check them (the engine's `pohJSON`, the same as RPC catena_getBlockPoh), and the engine's
 * status and leader schedule (its catena_pohStatus and catena_pohLeaderSchedule).
 *
 * The seal codec is loaded only on PoH chains. The engine's answers are copied field by field
 * into the REST shapes (numbers, EIP-55 addresses, decimal stakes), so a change on its side
 * shows up here as a type error rather than as a silently different response.
 * @module
 */
import type { Block, BlockHeader } from '../../chain/block.ts'
import type { PohEngineSpec } from '../../chain/spec/index.ts'
import { EngineParamsError, EngineUnavailableError, type EngineRpcMethod } from '../../consensus/types.ts'
import { badRequest, RestError } from './errors.ts'
import { checksum } from './format.ts'

/** A block's place in slot time (on every block summary of a PoH chain but genesis). */
export interface PohSlotJSON {
  slot: number
  parentSlot: number
  /** Slots between the parent's and this one that got no block (their leaders were down or late). */
  skippedSlots: number
  /** Signed validator votes the block carries (votes for earlier slots, as the leader saw them). */
  votes: number
}

export interface PohEntryJSON {
  numHashes: number
  hash: string
  txHashes: string[]
}

/** GET /v1/blocks/{id}/poh. */
export interface BlockPohJSON {
  slot: number
  parentSlot: number
  leader: string
  startHash: string
  endHash: string
  entries: PohEntryJSON[]
  votes: number
  evidence: number
}

/** The clock of the chain spec: what a slot is. */
export interface PohClockJSON {
  hashesPerTick: number
  ticksPerSlot: number
  hashesPerSlot: number
  slotsPerEpoch: number
  /** Paced test clusters: the shortest a slot may take; null where the hashing alone is the clock. */
  minSlotMs: number | null
}

/** What the engine's catena_pohStatus answers (the fields read here). */
interface EngineStatus {
  slot: number
  leader: string | null
  headSlot: number
  confirmedSlot: number
  finalizedSlot: number
  rootSlot: number
  hashrate: number
  validator: string | null
  tower: { root: number | null; votes: Array<{ slot: number; confirmations: number }> } | null
  votesIn: number
  votesRejected: number
  votesSent: number
  reorgs: number
  produced?: number
  skippedOwn?: number
}

/** GET /v1/poh/status, without the heights (the route adds them from the chain). */
export interface PohStatusJSON {
  slot: number
  leader: string | null
  headSlot: number
  confirmedSlot: number
  finalizedSlot: number
  rootSlot: number
  hashrate: number
  clock: PohClockJSON
  validator: string | null
  tower: { root: number | null; votes: Array<{ slot: number; confirmations: number }> } | null
  votesIn: number
  votesSent: number
  votesRejected: number
  reorgs: number
  produced: number
  skippedOwn: number
}

/** What catena_pohLeaderSchedule answers. */
interface EngineSchedule {
  epoch: number
  firstSlot: number
  slotsPerLeader: number
  leaders: string[]
  stakes: Array<{ address: string; stake: string }>
}

/** GET /v1/poh/schedule. */
export interface PohScheduleJSON {
  epoch: number
  firstSlot: number
  lastSlot: number
  slotsPerLeader: number
  leaders: Array<{ firstSlot: number; leader: string }>
  stakes: Array<{ address: string; stake: string }>
}

export interface PohView {
  clock: PohClockJSON
  /** The slot data of a stored header; undefined for genesis (it has no seal). */
  slotOf(header: BlockHeader): PohSlotJSON | undefined
  /** The block's PoH entries; null for genesis (the PoH starts after it, from its hash). */
  blockPoh(block: Block): BlockPohJSON | null
  /** The engine's status; UNAVAILABLE (503) while the engine does not answer (starting, stopped). */
  status(): Promise<PohStatusJSON>
  /** The leaders of an epoch (default: the head's); BAD_REQUEST for an epoch not known yet. */
  schedule(epoch?: number): Promise<PohScheduleJSON>
}

interface PohEngineLike {
  rpcMethods?(): Record<string, EngineRpcMethod>
}

export async function pohView(spec: PohEngineSpec, engine: PohEngineLike): Promise<PohView> {
  const { decodePohSeal, pohJSON } = await import('../../consensus/poh-engine/seal.ts')
  const clock: PohClockJSON = {
    hashesPerTick: spec.hashesPerTick,
    ticksPerSlot: spec.ticksPerSlot,
    hashesPerSlot: spec.hashesPerTick * spec.ticksPerSlot,
    slotsPerEpoch: spec.slotsPerEpoch,
    minSlotMs: spec.minTickMs ? spec.minTickMs * spec.ticksPerSlot : null,
  }

  const call = async <T>(method: string, params: unknown[]): Promise<T> => {
    const fn = engine.rpcMethods?.()[method]
    if (!fn) throw new RestError('UNAVAILABLE', `this node's engine does not serve ${method}`)
    try {
      return (await fn(params)) as T
    } catch (err) {
      if (err instanceof EngineParamsError) throw badRequest(err.message)
      if (err instanceof EngineUnavailableError) throw new RestError('UNAVAILABLE', err.message)
      // Before the engine has started (the API listens first) or after it stopped.
      throw new RestError('UNAVAILABLE', `the PoH engine did not answer: ${(err as Error).message}`)
    }
  }
  const addressOrNull = (a: string | null) => (a === null ? null : checksum(a))

  return {
    clock,
    slotOf(header) {
      if (header.height === 0n) return undefined
      const seal = decodePohSeal(header.seal)
      return {
        slot: Number(seal.slot),
        parentSlot: Number(seal.parentSlot),
        skippedSlots: Number(seal.slot - seal.parentSlot - 1n),
        votes: seal.votes.length,
      }
    },
    blockPoh(block) {
      const p = pohJSON(block)
      return p && { ...p, leader: checksum(p.leader) }
    },
    async status() {
      const s = await call<EngineStatus>('catena_pohStatus', [])
      return {
        slot: s.slot,
        leader: addressOrNull(s.leader),
        headSlot: s.headSlot,
        confirmedSlot: s.confirmedSlot,
        finalizedSlot: s.finalizedSlot,
        rootSlot: s.rootSlot,
        hashrate: s.hashrate,
        clock,
        validator: addressOrNull(s.validator),
        tower: s.tower,
        votesIn: s.votesIn,
        votesSent: s.votesSent,
        votesRejected: s.votesRejected,
        reorgs: s.reorgs,
        produced: s.produced ?? 0,
        skippedOwn: s.skippedOwn ?? 0,
      }
    },
    async schedule(epoch) {
      const s = await call<EngineSchedule>('catena_pohLeaderSchedule', epoch === undefined ? [] : [epoch])
      return {
        epoch: s.epoch,
        firstSlot: s.firstSlot,
        lastSlot: s.firstSlot + spec.slotsPerEpoch - 1,
        slotsPerLeader: s.slotsPerLeader,
        leaders: s.leaders.map((leader, i) => ({ firstSlot: s.firstSlot + i * s.slotsPerLeader, leader: checksum(leader) })),
        stakes: s.stakes.map((e) => ({ address: checksum(e.address), stake: BigInt(e.stake).toString() })),
      }
    },
  }
}
