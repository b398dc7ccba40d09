/**
 * The checks a light client makes of PoH headers that the engine's own rules (PohRules:
 * verifyHeader, sealVotes, sealEvidence, run by poh-follow.ts) do not cover from a header
 * alone, as pure functions:
 * - `checkSealTicks`: the tick spacing, read off the seal's entries (a tick closes exactly
 *   hashesPerTick hashes, a tx entry stays inside its tick), no hashing;
 * - `verifySlotPoh`: the slot's hash chain re-hashed from pohStart to pohEnd (its tx entries
 *   need the body's tx hashes, so it is opt-in: a slot costs ~42 ms of one core on the
 *   solana-like preset, a whole core per slot on a full-rate cluster);
 * - `PohVoteTally`: the validators' latest votes carried in the seals of one branch, and what
 *   they make of it, mirroring the engine's fork choice (consensus/poh/fork-choice.ts):
 *   a block is confirmed once validators with MORE than 2/3 of the stake have their latest
 *   vote on it or a descendant; rooted (RPC `finalized`) once more than 2/3 have a root there.
 * Failures throw BlockError('BAD_POH' | 'BAD_SEAL').
 * @module
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { BlockError } from '../../chain/errors.ts'
import type { PohEngineSpec } from '../../chain/spec/index.ts'
import { pohEntriesOf, type PohSeal, type SealEntry } from '../../consensus/poh-engine/seal.ts'
import { verifyEntriesSync, type StakeSet } from '../../consensus/poh/index.ts'

/** Ticks are exactly hashesPerTick hashes apart; a tx entry sits inside its tick (the engine's verifyBlock rule, from the seal). */
export function checkSealTicks(entries: readonly SealEntry[], hashesPerTick: number): void {
  let since = 0
  entries.forEach((e, i) => {
    since += e.numHashes
    if (e.txCount > 0) {
      if (since >= hashesPerTick) throw new BlockError('BAD_POH', `entry ${i} runs past its tick (${since} hashes since the last tick)`)
      return
    }
    if (since !== hashesPerTick) throw new BlockError('BAD_POH', `tick at entry ${i} after ${since} hashes, not ${hashesPerTick}`)
    since = 0
  })
}

/**
 * Re-hashes a slot's PoH: each entry's hash from the one before, the tx entries mixing in the
 * body's tx hashes (`txHashes`, in order, proven against the txRoot by the caller), ending on
 * pohEnd. The work is bounded by the slots the block covers before anything is hashed.
 */
export function verifySlotPoh(seal: PohSeal, txHashes: readonly Uint8Array[], spec: Pick<PohEngineSpec, 'hashesPerTick' | 'ticksPerSlot'>): void {
  checkSealTicks(seal.entries, spec.hashesPerTick)
  const entries = pohEntriesOf(seal, txHashes)
  const maxHashes = Number(seal.slot - seal.parentSlot) * spec.hashesPerTick * spec.ticksPerSlot
  let end: Uint8Array
  try {
    end = verifyEntriesSync(seal.pohStart, entries, { maxHashes }).endHash
  } catch (err) {
    throw new BlockError('BAD_POH', `PoH of slot ${seal.slot}: ${(err as Error).message}`)
  }
  if (!equalsBytes(end, seal.pohEnd)) throw new BlockError('BAD_POH', `the PoH of slot ${seal.slot} ends on ${bytesToHex(end)}, not pohEnd`)
}

/** A vote as the tally needs it (signature, stake and slot window already checked by PohRules.sealVotes). */
export interface TallyVote {
  voter: Uint8Array
  slot: bigint
  hash: Uint8Array
  root: bigint | null
}

interface Latest {
  slot: bigint
  /** Its block is on the branch (by slot and hash), so it counts for that block and every ancestor. */
  onBranch: boolean
  root: bigint | null
}

/** What the branch answers: its block's hash at exactly `slot`, or undefined where it has none. */
export type SlotLookup = (slot: bigint) => Uint8Array | undefined

/**
 * The latest vote of each validator, as the fork choice keeps them, over one branch the light
 * client follows. Differences, all on the safe side (later, never wrongly): a vote for a block
 * not on the branch counts for nothing (the full node credits it to the ancestors it shares
 * with the branch; a light client does not know them), and only votes carried in blocks are
 * seen (the full node also counts gossiped ones).
 */
export class PohVoteTally {
  private latest = new Map<string, Latest>()

  clone(): PohVoteTally {
    const t = new PohVoteTally()
    t.latest = new Map(this.latest)
    return t
  }

  get voters(): number {
    return this.latest.size
  }

  /**
   * Counts a verified vote (fork-choice applyVote): not newer than the voter's latest: stale.
   * For a block of the branch whose root is not a block of the branch (at or above
   * `minRoot`, the rooted slot, where the full node's tree starts): ignored, as the fork
   * choice refuses it. For a block off the branch: its voter's support moves off the branch.
   */
  apply(v: TallyVote, branchAt: SlotLookup, minRoot: bigint): 'applied' | 'off-branch' | 'stale' | 'ignored' {
    const key = bytesToHex(v.voter)
    const previous = this.latest.get(key)
    if (previous && v.slot <= previous.slot) return 'stale'
    const ours = branchAt(v.slot)
    const onBranch = ours !== undefined && equalsBytes(ours, v.hash)
    if (onBranch && v.root !== null && v.root >= minRoot && branchAt(v.root) === undefined) return 'ignored'
    this.latest.set(key, { slot: v.slot, onBranch, root: v.root })
    return onBranch ? 'applied' : 'off-branch'
  }

  /** A new epoch's stakes: voters without stake in it are forgotten (fork-choice setStakes). */
  keepStaked(stakes: StakeSet): void {
    for (const key of [...this.latest.keys()]) if (!stakes.has(hexBytes(key))) this.latest.delete(key)
  }

  /** The highest slot of the branch that more than 2/3 of `stakes` voted for (or for a descendant), if any. */
  confirmedSlot(stakes: StakeSet): bigint | undefined {
    return supermajorityAtOrAbove(
      [...this.latest].filter(([, l]) => l.onBranch).map(([key, l]) => ({ key, slot: l.slot })),
      stakes,
    )
  }

  /** The highest slot of the branch that more than 2/3 of `stakes` rooted (their votes' roots there or above), if any. */
  rootedSlot(stakes: StakeSet): bigint | undefined {
    return supermajorityAtOrAbove(
      [...this.latest].filter(([, l]) => l.onBranch && l.root !== null).map(([key, l]) => ({ key, slot: l.root! })),
      stakes,
    )
  }
}

/** The highest slot s such that the voters at s or above hold more than 2/3 of `stakes` (exactly 2/3 is not enough). */
export function supermajorityAtOrAbove(marks: ReadonlyArray<{ key: string; slot: bigint }>, stakes: StakeSet): bigint | undefined {
  const sorted = [...marks].sort((a, b) => (a.slot === b.slot ? 0 : a.slot > b.slot ? -1 : 1))
  let stake = 0n
  for (const m of sorted) {
    stake += stakes.stakeOf(hexBytes(m.key))
    if (stakes.isSupermajority(stake)) return m.slot
  }
  return undefined
}

function hexBytes(key: string): Uint8Array {
  return Uint8Array.from(Buffer.from(key.slice(2), 'hex'))
}
