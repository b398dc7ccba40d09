/**
 * The PoH engine's block rules, which every node applies (import, sync), cheapest first:
 * - header (verifyHeader): the seal's shape; the slot after the parent's, at most
 *   MAX_SKIPPED_SLOTS later; the PoH continuing the parent's (pohStart = the parent's pohEnd,
 *   genesis: its hash); the tick count, (slot - parentSlot) x ticksPerSlot, with the last entry
 *   a tick ending on pohEnd; the producer the scheduled leader of the slot on this branch, and
 *   its signature; on paced clusters a timestamp no earlier than the slots it covers allow.
 * - block (verifyBlock, after the tx root): the entries' tx counts add up to the body; every
 *   tick closes exactly hashesPerTick hashes; then the PoH itself, re-hashed on worker threads;
 *   then the votes and evidence the leader included (signatures, stake, slot window).
 * - effects: slash each leader named by duplicate-block evidence (the staking contract, as on
 *   the PoS chain); re-read the stakes in the first block of each epoch and after a slash.
 * - fork choice: the engine's (votes), not the most blocks: import stores valid blocks of other
 *   branches within maxReorgDepth and never switches by itself (forkChoice 'engine').
 * - finality: what the running engine's fork choice says (rooted, confirmed); without an engine
 *   nothing is final beyond genesis.
 * @module
 */
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { Block, BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { BlockExecutionInputs, BlockRules, BranchView, Finality, HeaderView } from '../../chain/rules.ts'
import type { PohEngineSpec } from '../../chain/spec/index.ts'
import { STAKE_SNAPSHOT_CALLDATA, STAKING_ADDRESS, SYSTEM_ADDRESS } from '../../contracts/index.ts'
import { recoverSigner } from '../bft/index.ts'
import {
  PohVerifier,
  decodeDuplicateBlock,
  decodePohVote,
  duplicateBlockSlashCall,
  epochOf,
  verifyDuplicateBlock,
  verifyPohVote,
  type DuplicateBlockEvidence,
  type PohEntry,
  type SignedPohVote,
} from '../poh/index.ts'
import { slotBlockDigest } from '../poh/duplicate-block.ts'
import { decodePohSeal, pohEntriesOf, signingHash, type PohSeal } from './seal.ts'
import { ScheduleSource, type ScheduleChain } from './schedule-source.ts'

/** A block may cover at most this many slots (its own and the skipped ones before it). */
export const MAX_SKIPPED_SLOTS = 512n
/** Evidence of a duplicate block is accepted for this many slots after it. */
export const EVIDENCE_MAX_AGE_SLOTS = 4096n

export interface PohRulesOptions {
  chainId: bigint
  spec: PohEngineSpec
  chain: ScheduleChain
  /** Threads that re-hash slots (shared with the engine). */
  verifier: PohVerifier
  now?: () => bigint
}

export class PohRules implements BlockRules {
  readonly maxFutureSeconds = 5n
  /** Branches fork above the root in practice (the engine never switches below it); this bounds the store. */
  readonly maxReorgDepth = 512
  readonly forkChoice = 'engine' as const
  readonly schedules: ScheduleSource
  /** Set by the running engine: its fork choice's finality. */
  finalityProvider?: (head: bigint) => Finality
  private readonly chainId: bigint
  private readonly spec: PohEngineSpec
  private readonly verifier: PohVerifier
  private readonly genesisHash: Uint8Array

  constructor(private readonly opts: PohRulesOptions) {
    const o = opts
    this.chainId = o.chainId
    this.spec = o.spec
    this.verifier = o.verifier
    this.genesisHash = o.chain.genesisHash
    this.schedules = new ScheduleSource(o.chain, o.spec.slotsPerEpoch, o.spec.staking.maxValidators)
  }

  /**
   * Headers-first sync: the same header rules (leader, signature, ticks, time) over a peer's
   * branch not stored yet; ancestors come from `view`, stakes from the stored chain (the
   * boundary block of a schedule is an epoch older than its slots, normally rooted). Only the
   * PoH hashes themselves wait for the bodies (verifyBlock).
   */
  withHeaders(view: HeaderView): Pick<BlockRules, 'verifyHeader'> {
    const stored = this.opts.chain
    return new PohRules({
      ...this.opts,
      chain: {
        genesisHash: stored.genesisHash,
        getHeader: (hash) => view.getHeader(hash),
        getHashAt: (height) => stored.getHashAt(height),
        isCanonical: (hash) => stored.isCanonical(hash),
        stakesAfter: (height) => stored.stakesAfter(height),
      },
    })
  }

  /** Slot length in ms on a paced cluster (undefined: the hashing is the clock). */
  get slotMs(): number | undefined {
    return this.spec.minTickMs ? this.spec.minTickMs * this.spec.ticksPerSlot : undefined
  }

  /** The PoH end of a stored header (genesis: its hash) and its slot. */
  pohEndOf(header: BlockHeader, hash: Uint8Array): { slot: bigint; end: Uint8Array } {
    if (header.height === 0n) return { slot: 0n, end: hash }
    const s = decodePohSeal(header.seal)
    return { slot: s.slot, end: s.pohEnd }
  }

  verifyHeader(header: BlockHeader, parent: BlockHeader): void {
    const seal = decodePohSeal(header.seal)
    const parentHash = header.parentHash
    const p = this.pohEndOf(parent, parent.height === 0n ? this.genesisHash : parentHash)
    if (seal.parentSlot !== p.slot) throw new BlockError('BAD_SEAL', `block says its parent is at slot ${seal.parentSlot}, but the parent is at slot ${p.slot}`)
    if (seal.slot <= p.slot) throw new BlockError('BAD_SEAL', `slot ${seal.slot} is not after the parent's slot ${p.slot}`)
    const slots = seal.slot - p.slot
    if (slots > MAX_SKIPPED_SLOTS) throw new BlockError('BAD_SEAL', `block covers ${slots} slots, more than ${MAX_SKIPPED_SLOTS}`)
    if (!equalsBytes(seal.pohStart, p.end)) throw new BlockError('BAD_POH', `the PoH does not start where the parent's ends (${bytesToHex(p.end)})`)
    const ticks = seal.entries.reduce((n, e) => n + (e.txCount === 0 ? 1 : 0), 0)
    const want = Number(slots) * this.spec.ticksPerSlot
    if (ticks !== want) throw new BlockError('BAD_POH', `${ticks} ticks for ${slots} slot(s) of ${this.spec.ticksPerSlot}: want ${want}`)
    const last = seal.entries[seal.entries.length - 1]!
    if (!last || last.txCount !== 0) throw new BlockError('BAD_POH', 'the last entry of a slot must be a tick')
    if (!equalsBytes(last.hash, seal.pohEnd)) throw new BlockError('BAD_POH', 'pohEnd is not the last entry hash')
    this.checkTime(header, parent, slots)
    const leader = this.leaderOf(seal.slot, parentHash)
    if (!equalsBytes(leader, header.producer)) {
      throw new BlockError('BAD_SEAL', `slot ${seal.slot} is led by ${bytesToHex(leader)}, not ${bytesToHex(header.producer)}`)
    }
    this.checkSignature(header, seal)
  }

  /** The entries of the slot, their tick spacing, then the PoH itself on worker threads; then votes and evidence. */
  async verifyBlock(block: Block, parent: BlockHeader): Promise<void> {
    const seal = decodePohSeal(block.header.seal)
    const entries = pohEntriesOf(seal, block.txs.map((tx) => tx.hash()))
    this.checkTickSpacing(entries)
    let end: Uint8Array
    try {
      end = (await this.verifier.verify(seal.pohStart, entries, { maxHashes: Number(seal.slot - this.parentSlot(parent)) * this.slotHashes() })).endHash
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'BUSY' || code === 'CLOSED' || code === 'CANCELLED') throw err // ours, not the block's
      throw new BlockError('BAD_POH', `PoH of slot ${seal.slot}: ${(err as Error).message}`)
    }
    if (!equalsBytes(end, seal.pohEnd)) throw new BlockError('BAD_POH', `the PoH of slot ${seal.slot} ends on ${bytesToHex(end)}, not pohEnd`)
    this.sealVotes(seal, block.header.parentHash)
    this.sealEvidence(seal, block.header.parentHash)
  }

  /**
   * Slash each leader the block's evidence names (a system call, as the PoS chain's double
   * votes); re-read the stakes in the first block of an epoch and after a slash.
   */
  blockEffects(branch: Pick<BranchView, 'height' | 'seal' | 'parent'>): BlockExecutionInputs {
    const seal = decodePohSeal(branch.seal)
    const system = hexToBytes(SYSTEM_ADDRESS)
    const staking = hexToBytes(STAKING_ADDRESS)
    const systemCalls = seal.evidence.map((bytes) => ({ caller: system, address: staking, data: duplicateBlockSlashCall(decodeDuplicateBlock(bytes)) }))
    const epoch = epochOf(seal.slot, this.spec.slotsPerEpoch)
    const newEpoch = epoch !== epochOf(this.parentSlot(branch.parent), this.spec.slotsPerEpoch)
    return {
      systemCalls,
      ...(newEpoch || systemCalls.length > 0 ? { systemReads: { stakes: { address: staking, data: STAKE_SNAPSHOT_CALLDATA } } } : {}),
    }
  }

  finality(head: bigint): Finality {
    return this.finalityProvider?.(head) ?? { finalized: 0n, safe: 0n }
  }

  /** The decoded, verified votes of a seal (for the fork choice), each voter once. */
  sealVotes(seal: PohSeal, parentHash: Uint8Array): SignedPohVote[] {
    const stakes = this.schedules.scheduleFor(seal.slot, parentHash).stakes
    const seen = new Set<string>()
    return seal.votes.map((bytes, i) => {
      try {
        const v = decodePohVote(bytes)
        verifyPohVote(v, { chainId: this.chainId, stakes, maxSlot: seal.slot - 1n })
        const key = bytesToHex(v.voter)
        if (seen.has(key)) throw new Error(`voter ${key} appears twice`)
        seen.add(key)
        return v
      } catch (err) {
        throw new BlockError('BAD_SEAL', `vote ${i} in the seal of slot ${seal.slot}: ${(err as Error).message}`)
      }
    })
  }

  /** The decoded, verified evidence of a seal, each offence once. */
  sealEvidence(seal: PohSeal, parentHash: Uint8Array): DuplicateBlockEvidence[] {
    const seen = new Set<string>()
    return seal.evidence.map((bytes, i) => {
      try {
        const ev = decodeDuplicateBlock(bytes)
        verifyDuplicateBlock(ev, { chainId: this.chainId, leaderAt: (slot) => this.leaderOrUndefined(slot, parentHash), currentSlot: seal.slot, maxAgeSlots: EVIDENCE_MAX_AGE_SLOTS })
        const key = `${bytesToHex(ev.a.leader)}/${ev.a.slot}`
        if (seen.has(key)) throw new Error(`offence ${key} appears twice`)
        seen.add(key)
        return ev
      } catch (err) {
        throw new BlockError('BAD_SEAL', `evidence ${i} in the seal of slot ${seal.slot}: ${(err as Error).message}`)
      }
    })
  }

  /** The scheduled leader of `slot` on the branch of `parentHash`; BAD_SEAL when no schedule covers it. */
  leaderOf(slot: bigint, parentHash: Uint8Array): Uint8Array {
    try {
      return this.schedules.leaderAt(slot, parentHash)
    } catch (err) {
      if (err instanceof BlockError) throw err
      throw new BlockError('BAD_SEAL', `leader of slot ${slot}: ${(err as Error).message}`)
    }
  }

  /** Hashes in one slot. */
  slotHashes(): number {
    return this.spec.hashesPerTick * this.spec.ticksPerSlot
  }

  private leaderOrUndefined(slot: bigint, parentHash: Uint8Array): Uint8Array | undefined {
    try {
      return this.schedules.leaderAt(slot, parentHash)
    } catch {
      return undefined
    }
  }

  private parentSlot(parent: BlockHeader): bigint {
    return parent.height === 0n ? 0n : decodePohSeal(parent.seal).slot
  }

  /** Paced clusters: a block cannot claim slots faster than their time (allowing 2 s of clock skew and rounding). */
  private checkTime(header: BlockHeader, parent: BlockHeader, slots: bigint): void {
    const ms = this.slotMs
    if (ms === undefined || parent.height === 0n) return
    const earliest = parent.timestamp * 1000n + BigInt(Math.floor(Number(slots) * ms)) - 2000n
    if (header.timestamp * 1000n < earliest) {
      throw new BlockError('BAD_SEAL', `block of ${slots} slot(s) of ${ms} ms is stamped ${header.timestamp}, too soon after its parent (${parent.timestamp})`)
    }
  }

  private checkSignature(header: BlockHeader, seal: PohSeal): void {
    if (seal.signature.length !== 65) throw new BlockError('BAD_SEAL', `block of slot ${seal.slot} is not signed by its leader`)
    const digest = slotBlockDigest({ leader: header.producer, slot: seal.slot, blockHash: signingHash(header, seal) }, this.chainId)
    let signer: Uint8Array
    try {
      signer = recoverSigner(digest, seal.signature)
    } catch (err) {
      throw new BlockError('BAD_SEAL', `leader signature of slot ${seal.slot}: ${(err as Error).message}`)
    }
    if (!equalsBytes(signer, header.producer)) throw new BlockError('BAD_SEAL', `block of slot ${seal.slot} is signed by ${bytesToHex(signer)}, not its leader ${bytesToHex(header.producer)}`)
  }

  /** Ticks are exactly hashesPerTick hashes apart (tx entries use hashes of the tick they sit in). */
  private checkTickSpacing(entries: PohEntry[]): void {
    let since = 0
    entries.forEach((e, i) => {
      since += e.numHashes
      if (e.txHashes.length > 0) {
        if (since >= this.spec.hashesPerTick) throw new BlockError('BAD_POH', `entry ${i} runs past its tick (${since} hashes since the last tick)`)
        return
      }
      if (since !== this.spec.hashesPerTick) throw new BlockError('BAD_POH', `tick at entry ${i} after ${since} hashes, not ${this.spec.hashesPerTick}`)
      since = 0
    })
  }
}
