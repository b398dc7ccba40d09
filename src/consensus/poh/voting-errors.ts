/**
 * Typed errors of the PoH chain's stake, leader-schedule, vote, tower, fork-choice and
 * duplicate-block modules: a code callers can match on, a human message, and the penalty the
 * peer that sent the offending bytes earns (0 when no peer is at fault), on net/'s scale
 * (banned at 100), as the BFT errors do. One class per concern, so a caller can tell a bad
 * vote from a refused tower update by type.
 * @module
 */
import { BFT_PENALTY } from '../bft/index.ts'

export class PohVotingError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    /** Penalty points for the peer that sent it; 0 when no peer is at fault. */
    readonly penalty: number = 0,
  ) {
    super(message)
    this.name = 'PohVotingError'
  }
}

export type StakeSetErrorCode =
  | 'MALFORMED' // not a list of { address: 20 bytes, stake: bigint >= 0 }
  | 'DUPLICATE_ADDRESS'
  | 'TOO_MANY_VALIDATORS' // more entries than MAX_VALIDATORS
  | 'EMPTY' // no validator with stake
  | 'STAKE_TOO_LARGE' // the total does not fit in 128 bits

/** A stake list (the staking contract's snapshot) that cannot be used. */
export class StakeSetError extends PohVotingError<StakeSetErrorCode> {
  constructor(code: StakeSetErrorCode, message: string) {
    super(code, message, 0)
    this.name = 'StakeSetError'
  }
}

export type LeaderScheduleErrorCode =
  | 'BAD_PARAMS' // slotsPerEpoch / slotsPerLeader / seed out of range
  | 'WRONG_EPOCH' // the slot is outside the schedule's epoch
  | 'UNKNOWN_EPOCH' // no schedule computed for that epoch (too far ahead, or pruned)

export class LeaderScheduleError extends PohVotingError<LeaderScheduleErrorCode> {
  constructor(code: LeaderScheduleErrorCode, message: string) {
    super(code, message, 0)
    this.name = 'LeaderScheduleError'
  }
}

export type VoteErrorCode =
  | 'MALFORMED' // does not decode, or a field is out of range
  | 'BAD_TOWER' // the lockouts the vote carries break Tower BFT's shape rules
  | 'BAD_SIGNATURE' // does not recover to the claimed voter (or is for another chain)
  | 'UNKNOWN_VOTER' // the voter holds no stake in the stake set used
  | 'FUTURE_SLOT' // for a slot beyond what the verifier accepts yet
  | 'STALE_SLOT' // at or below the verifier's root: useless

/** A vote that cannot be used. */
export class VoteError extends PohVotingError<VoteErrorCode> {
  constructor(code: VoteErrorCode, message: string) {
    super(code, message, votePenalty(code))
    this.name = 'VoteError'
  }
}

function votePenalty(code: VoteErrorCode): number {
  switch (code) {
    case 'MALFORMED':
    case 'BAD_TOWER':
      return BFT_PENALTY.malformed
    case 'BAD_SIGNATURE':
      return BFT_PENALTY.badSignature
    case 'UNKNOWN_VOTER':
      return BFT_PENALTY.unknownSigner
    case 'FUTURE_SLOT':
    case 'STALE_SLOT':
      // A peer a little ahead or behind is not hostile; the caller bounds how many it keeps.
      return 0
  }
}

export type TowerErrorCode =
  | 'NOT_AFTER_LAST_VOTE' // a vote for a slot at or below the last voted slot
  | 'LOCKED_OUT' // the slot is not a descendant of a vote still locked out (or of the root)
  | 'MALFORMED' // persisted bytes that do not decode, fail their checksum or break tower rules
  | 'WRONG_VALIDATOR' // a persisted tower of another validator

/** A refused tower operation: never vote when this is thrown. */
export class TowerError extends PohVotingError<TowerErrorCode> {
  constructor(code: TowerErrorCode, message: string) {
    super(code, message, 0)
    this.name = 'TowerError'
  }
}

export type ForkChoiceErrorCode =
  | 'MALFORMED' // block fields out of range
  | 'UNKNOWN_PARENT' // the parent is not in the tree (fetch it first)
  | 'SLOT_NOT_AFTER_PARENT'
  | 'SLOT_MISMATCH' // a vote names a known hash with another slot
  | 'BELOW_ROOT' // at or below the tree's root slot: pruned history
  | 'TOO_MANY_BLOCKS' // the tree is full
  | 'NOT_A_DESCENDANT' // a new root beside the finalized block's branch
  | 'ROOT_NOT_ANCESTOR' // a vote whose root slot is not on its block's ancestry
  | 'UNKNOWN_BLOCK'

export class ForkChoiceError extends PohVotingError<ForkChoiceErrorCode> {
  constructor(code: ForkChoiceErrorCode, message: string) {
    super(code, message, code === 'ROOT_NOT_ANCESTOR' || code === 'SLOT_MISMATCH' ? BFT_PENALTY.malformed : 0)
    this.name = 'ForkChoiceError'
  }
}

export type DuplicateBlockErrorCode =
  | 'MALFORMED'
  | 'NOT_CONFLICTING' // both signatures are for the same block
  | 'DO_NOT_MATCH' // different slot or leader: not one offence
  | 'NOT_CANONICAL' // hashes not in ascending order (one offence, one encoding)
  | 'BAD_SIGNATURE'
  | 'NOT_LEADER' // the signer is not the scheduled leader of the slot
  | 'UNKNOWN_SLOT' // the verifier does not know the leader of that slot
  | 'EXPIRED' // older than the evidence window
  | 'FUTURE' // for a slot not reached yet

/** Duplicate-block evidence that does not prove the offence. */
export class DuplicateBlockError extends PohVotingError<DuplicateBlockErrorCode> {
  constructor(code: DuplicateBlockErrorCode, message: string) {
    super(code, message, code === 'EXPIRED' || code === 'FUTURE' || code === 'UNKNOWN_SLOT' ? 0 : BFT_PENALTY.malformed)
    this.name = 'DuplicateBlockError'
  }
}
