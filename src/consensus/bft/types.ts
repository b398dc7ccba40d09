/**
 * The values Tendermint consensus talks about (Buchman, Kwon, Milosevic, "The latest gossip
 * on BFT consensus", 2018): proposals and votes for a (height, round), identified by block
 * hash, plus the timeout schedule. Heights are bigints like block heights; rounds are small
 * non-negative integers.
 * @module
 */

/** 32-byte block id (double SHA-256 of the header). */
export type Hash = Uint8Array
/** 20-byte validator address (Ethereum-style, from the secp256k1 public key). */
export type Address = Uint8Array

export type VoteType = 'prevote' | 'precommit'
export type Step = 'propose' | 'prevote' | 'precommit'

/** Rounds above this are refused: they only come from a broken or hostile peer. */
export const MAX_ROUND = 0x7fffffff
export const HASH_LENGTH = 32
export const ADDRESS_LENGTH = 20
/** r (32) || s (32) || recovery id (1). */
export const SIGNATURE_LENGTH = 65

/** ⟨PROPOSAL, h, r, v, vr⟩: the proposer of (height, round) proposes blockHash; polRound = vr, -1 if none. */
export interface Proposal {
  height: bigint
  round: number
  blockHash: Hash
  /** The round of the proof-of-lock (2f+1 prevotes) for this block, -1 for a fresh block. */
  polRound: number
  proposer: Address
}

export interface SignedProposal extends Proposal {
  signature: Uint8Array
}

/** ⟨PREVOTE|PRECOMMIT, h, r, id(v) | nil⟩ by one validator. */
export interface Vote {
  type: VoteType
  height: bigint
  round: number
  /** null = a vote for nil (no block). */
  blockHash: Hash | null
  validator: Address
}

export interface SignedVote extends Vote {
  signature: Uint8Array
}

/** What consensus sends over the network. */
export type ConsensusMessage =
  | { kind: 'proposal'; proposal: SignedProposal }
  | { kind: 'vote'; vote: SignedVote }

/** A timeout that grows linearly with the round, so rounds eventually outlast any delay. */
export interface TimeoutParams {
  baseMs: number
  deltaMs: number
}

export interface TimeoutConfig {
  propose: TimeoutParams
  prevote: TimeoutParams
  precommit: TimeoutParams
  /** Wait after a commit before starting the next height (collects late precommits and txs). */
  commitMs: number
}

/** CometBFT's defaults (config/config.go: timeout_propose 3s +0.5s/round, prevote/precommit 1s +0.5s, commit 1s). */
export const DEFAULT_TIMEOUTS: TimeoutConfig = {
  propose: { baseMs: 3000, deltaMs: 500 },
  prevote: { baseMs: 1000, deltaMs: 500 },
  precommit: { baseMs: 1000, deltaMs: 500 },
  commitMs: 1000,
}

/** timeoutX(round) = base + round * delta. */
export function timeoutDuration(config: TimeoutConfig, step: Step, round: number): number {
  const p = config[step]
  return p.baseMs + round * p.deltaMs
}

/** A scheduled timeout; when it fires the host hands it back to the machine unchanged. */
export interface TimeoutInfo {
  step: Step
  height: bigint
  round: number
}
