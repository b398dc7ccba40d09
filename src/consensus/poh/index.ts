/**
 * Proof of History: the sequential SHA-256 clock of the solana-like chain. The sequence and its
 * entries (sequence.ts), their wire form (encoding.ts), slot arithmetic (slot.ts), the
 * generator on its own thread (generator.ts), the verifier, sequential and on a thread pool
 * (verify.ts), and the hash-rate measurement behind `catena poh calibrate` (calibrate.ts).
 * Leaders and votes: the stake at an epoch boundary (stake-set.ts), the leader schedule drawn
 * from it (leader-schedule.ts), signed votes with lockouts (votes.ts, vote-messages.ts), a
 * validator's own tower (tower.ts), stake-weighted fork choice with confirmation and roots
 * (fork-choice.ts), and evidence of a leader signing two blocks for one slot (duplicate-block.ts).
 * @module
 */
export { PohError, type PohErrorCode } from './errors.ts'
export {
  MAX_ENTRY_TXS,
  MAX_NUM_HASHES,
  POH_HASH_BYTES,
  checkEntry,
  isTick,
  nextHash,
  tick,
  txEntry,
  txRootOf,
  type PohEntry,
} from './sequence.ts'
export { decodePohEntries, encodePohEntries, type PohDecodeLimits } from './encoding.ts'
export { checkClock, checkTicks, slotHashBudget, type PohClock } from './slot.ts'
export { PohGenerator, type GeneratedEntry, type PohGeneratorOptions, type PohGeneratorStats, type SlotEnd } from './generator.ts'
export { PohVerifier, verifyEntriesSync, type PohLimits, type PohVerified, type PohVerifierOptions, type PohVerifierStats, type VerifyOptions } from './verify.ts'
export { PohVotingError, StakeSetError, LeaderScheduleError, VoteError, TowerError, ForkChoiceError, DuplicateBlockError } from './voting-errors.ts'
export { MAX_VALIDATORS, StakeSet, type StakeEntry, type StakeSetOptions } from './stake-set.ts'
export {
  SLOTS_PER_LEADER,
  LeaderSchedule,
  LeaderSchedules,
  checkEpochParams,
  epochOf,
  epochSeed,
  epochStartSlot,
  type EpochParams,
  type ScheduleInputs,
} from './leader-schedule.ts'
export { MAX_LOCKOUT_HISTORY, lockoutLength, type Lockout, type PohVote, type SignedPohVote } from './votes.ts'
export { MAX_VOTE_BYTES, decodePohVote, encodePohVote, signPohVote, verifyPohVote, type VoteCheck, type VoteCheckOptions } from './vote-messages.ts'
export { Tower, type TowerState } from './tower.ts'
export { ForkChoice, type BlockRef, type Finality, type ForkBlock, type ForkChoiceOptions, type ForkVote, type VoteOutcome } from './fork-choice.ts'
export {
  decodeDuplicateBlock,
  duplicateBlockEvidence,
  duplicateBlockSlashCall,
  encodeDuplicateBlock,
  signSlotBlock,
  verifyDuplicateBlock,
  verifySlotBlockSignature,
  type DuplicateBlockEvidence,
  type SignedSlotBlock,
  type SlotBlock,
} from './duplicate-block.ts'
