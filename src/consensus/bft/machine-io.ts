/**
 * The state machine's interface: the events it consumes, the actions it produces, the state
 * it exposes. Kept apart from the rules (state-machine.ts) so hosts and tests can read what
 * goes in and out in one place.
 * @module
 */
import type { CommitCertificate } from './certificate.ts'
import type { MessageError } from './errors.ts'
import type { DuplicateVoteEvidence } from './evidence.ts'
import type { Address, ConsensusMessage, Hash, Proposal, SignedProposal, SignedVote, Step, TimeoutConfig, TimeoutInfo, Vote } from './types.ts'
import type { ValidatorSet } from './validators.ts'

/** A message this node signed earlier at the height being started (from the WAL). */
export interface OwnRecord {
  step: Step
  round: number
  blockHash: Hash | null
  /** The proposal's polRound; -1 for votes. */
  polRound: number
}

export type MachineEvent =
  | { type: 'startHeight'; height: bigint; validators: ValidatorSet; recovered?: readonly OwnRecord[] }
  | { type: 'proposal'; proposal: SignedProposal }
  | { type: 'vote'; vote: SignedVote }
  | { type: 'timeout'; timeout: TimeoutInfo }
  /** The value (block hash) `getValue` produced for a requestValue action. */
  | { type: 'value'; height: bigint; round: number; blockHash: Hash }
  /** The verdict of valid(v) for a validate action. */
  | { type: 'validity'; height: bigint; blockHash: Hash; valid: boolean }

export interface Decision {
  height: bigint
  round: number
  blockHash: Hash
  certificate: CommitCertificate
}

export type MachineAction =
  /** Sign (after recording it in the WAL), broadcast, and hand the signed proposal back. */
  | { type: 'propose'; proposal: Proposal }
  /** Sign (after recording it in the WAL), broadcast, and hand the signed vote back. */
  | { type: 'vote'; vote: Vote }
  | { type: 'scheduleTimeout'; timeout: TimeoutInfo; delayMs: number }
  /** Call getValue(height) and answer with a 'value' event. */
  | { type: 'requestValue'; height: bigint; round: number }
  /** Call valid(blockHash) and answer with a 'validity' event. */
  | { type: 'validate'; height: bigint; blockHash: Hash }
  | ({ type: 'decide' } & Decision)
  | { type: 'evidence'; evidence: DuplicateVoteEvidence }
  /** A message that failed verification: penalize the peer that sent it by error.penalty. */
  | { type: 'rejected'; message: ConsensusMessage; error: MessageError }
  /**
   * A message verified and counted for the first time: relay it. Tendermint's liveness
   * assumes gossip: what one correct node received, every correct node receives.
   */
  | { type: 'accepted'; message: ConsensusMessage }

export type MachineStep = 'idle' | Step | 'decided'

export interface MachineState {
  height: bigint
  round: number
  step: MachineStep
  lockedValue: Hash | null
  lockedRound: number
  validValue: Hash | null
  validRound: number
  decision: Decision | null
}

export interface StateMachineOptions {
  chainId: bigint
  /** This node's validator address; null for a node that follows consensus without voting. */
  self: Address | null
  timeouts?: TimeoutConfig
  /** Messages for rounds further ahead than this are dropped (bounds memory against spam). */
  maxRoundsAhead?: number
  /** Messages for the next height kept until it starts. */
  maxBufferedMessages?: number
}
