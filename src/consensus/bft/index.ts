/**
 * Tendermint-style BFT consensus core (PoA and PoS): messages and their signatures, validator
 * sets with CometBFT's proposer rotation, the consensus state machine, commit certificates,
 * double-vote evidence, the vote WAL, and a driver that runs it all for one node.
 * Not yet an engine: the `bft` ConsensusEngine wires BftDriver to the network and the chain.
 */
export type {
  Address,
  ConsensusMessage,
  Hash,
  Proposal,
  SignedProposal,
  SignedVote,
  Step,
  TimeoutConfig,
  TimeoutInfo,
  TimeoutParams,
  Vote,
  VoteType,
} from './types.ts'
export { ADDRESS_LENGTH, DEFAULT_TIMEOUTS, HASH_LENGTH, MAX_ROUND, SIGNATURE_LENGTH, timeoutDuration } from './types.ts'
export {
  BFT_PENALTY,
  BftError,
  CertificateError,
  EvidenceError,
  MessageError,
  ValidatorSetError,
  WalError,
} from './errors.ts'
export type {
  CertificateErrorCode,
  EvidenceErrorCode,
  MessageErrorCode,
  ValidatorSetErrorCode,
  WalErrorCode,
} from './errors.ts'
export {
  checkProposalShape,
  checkVoteShape,
  decodeMessage,
  decodeProposal,
  decodeVote,
  encodeMessage,
  encodeProposal,
  encodeVote,
  messageSlot,
  proposalDigest,
  proposalSignBytes,
  recoverSigner,
  sameVote,
  signProposal,
  signVote,
  verifyProposal,
  verifySigner,
  verifyVote,
  voteDigest,
  voteSignBytes,
} from './messages.ts'
export { MAX_PROPOSER_ROUND, MAX_TOTAL_POWER, ValidatorSet, decodeValidatorSet, encodeValidatorSet } from './validators.ts'
export type { Validator, ValidatorChange, ValidatorEntry } from './validators.ts'
export { HeightVotes, MAX_LONE_EQUIVOCATIONS, VoteTally } from './vote-set.ts'
export type { AddVoteResult, PrecommitQuorum } from './vote-set.ts'
export { StateMachine } from './state-machine.ts'
export type {
  Decision,
  MachineAction,
  MachineEvent,
  MachineState,
  MachineStep,
  OwnRecord,
  StateMachineOptions,
} from './machine-io.ts'
export {
  certificateFromVotes,
  certificateVotes,
  decodeCertificate,
  encodeCertificate,
  verifyCertificate,
} from './certificate.ts'
export type { CertificateCheck, CommitCertificate, CommitSignature } from './certificate.ts'
export {
  decodeEvidence,
  duplicateVoteEvidence,
  encodeEvidence,
  evidenceHash,
  isDoubleVote,
  offenceKey,
  verifyEvidence,
} from './evidence.ts'
export type { DuplicateVoteEvidence, EvidenceCheck, EvidenceOptions } from './evidence.ts'
export { FileWalStorage, MemoryWalStorage, VoteWal, WAL_MAGIC } from './wal.ts'
export type { WalDecision, WalEntry, WalRecovery, WalStorage } from './wal.ts'
export { BftDriver } from './driver.ts'
export type { BftDriverOptions, DriverStats, ReceiveVerdict } from './driver.ts'
