/**
 * Double-vote evidence (CometBFT's DuplicateVoteEvidence): two votes signed by one validator
 * for the same height, round and type but different blocks. The two signed votes are the
 * evidence; anyone holding the validator set of that height verifies it with
 * `verifyEvidence`, a pure function, so PoS slashing can act on it.
 *
 * The votes are kept in canonical order (block hash ascending, nil first) so one offence has
 * one encoding and one hash, which makes evidence easy to deduplicate.
 * Encoding: RLP([voteA, voteB]) with each vote in its wire form (messages.ts).
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { sha256 } from '../../crypto/hash.ts'
import { compareBytes, equalBytes, toKey } from './bytes.ts'
import { EvidenceError, MessageError } from './errors.ts'
import { checkVoteShape, decodeVote, encodeVote, recoverSigner, voteDigest } from './messages.ts'
import type { Address, SignedVote, Vote } from './types.ts'
import type { ValidatorSet } from './validators.ts'

export interface DuplicateVoteEvidence {
  voteA: SignedVote
  voteB: SignedVote
}

export interface EvidenceCheck {
  validator: Address
  power: bigint
  height: bigint
}

export interface EvidenceOptions {
  /** The verifier's current height; evidence for a later height is refused (FUTURE). */
  currentHeight?: bigint
  /** Evidence older than currentHeight - maxAgeHeights is refused (EXPIRED). */
  maxAgeHeights?: bigint
}

const EMPTY = new Uint8Array()

function hashOrEmpty(v: Vote): Uint8Array {
  return v.blockHash ?? EMPTY
}

/** True when a and b are two different votes by one validator for one (height, round, type). */
export function isDoubleVote(a: Vote, b: Vote): boolean {
  return (
    a.type === b.type &&
    a.height === b.height &&
    a.round === b.round &&
    equalBytes(a.validator, b.validator) &&
    !equalBytes(hashOrEmpty(a), hashOrEmpty(b))
  )
}

/** Evidence from two conflicting votes, in canonical order. Signatures are not checked here. */
export function duplicateVoteEvidence(a: SignedVote, b: SignedVote): DuplicateVoteEvidence {
  checkPair(a, b)
  return compareBytes(hashOrEmpty(a), hashOrEmpty(b)) < 0 ? { voteA: a, voteB: b } : { voteA: b, voteB: a }
}

function checkPair(a: SignedVote, b: SignedVote): void {
  try {
    checkVoteShape(a)
    checkVoteShape(b)
  } catch (err) {
    throw new EvidenceError('MALFORMED', `evidence vote: ${(err as MessageError).message}`)
  }
  if (!a.signature || !b.signature) throw new EvidenceError('MALFORMED', 'evidence votes must be signed')
  if (a.type !== b.type || a.height !== b.height || a.round !== b.round || !equalBytes(a.validator, b.validator)) {
    throw new EvidenceError('VOTES_DO_NOT_MATCH', 'the votes differ in height, round, type or validator: not a double vote')
  }
  if (equalBytes(hashOrEmpty(a), hashOrEmpty(b))) {
    throw new EvidenceError('NOT_CONFLICTING', 'both votes are for the same block: no double vote')
  }
}

/**
 * Checks that `ev` proves a double vote by a validator of `validators` (the set of the
 * evidence's height) on chain `chainId`. Pure. Returns who misbehaved and with what power.
 */
export function verifyEvidence(
  ev: DuplicateVoteEvidence,
  validators: ValidatorSet,
  chainId: bigint,
  opts: EvidenceOptions = {},
): EvidenceCheck {
  if (!ev || typeof ev !== 'object') throw new EvidenceError('MALFORMED', 'evidence must be an object')
  const { voteA: a, voteB: b } = ev
  checkPair(a, b)
  if (compareBytes(hashOrEmpty(a), hashOrEmpty(b)) >= 0) {
    throw new EvidenceError('NOT_CANONICAL', 'voteA must be the vote with the lower block hash (nil first)')
  }
  if (opts.currentHeight !== undefined) {
    if (a.height > opts.currentHeight) throw new EvidenceError('FUTURE', `evidence for height ${a.height} is beyond the current height ${opts.currentHeight}`)
    if (opts.maxAgeHeights !== undefined && a.height + opts.maxAgeHeights < opts.currentHeight) {
      throw new EvidenceError('EXPIRED', `evidence for height ${a.height} is older than ${opts.maxAgeHeights} heights`)
    }
  }
  const validator = validators.get(a.validator)
  if (!validator) throw new EvidenceError('UNKNOWN_VALIDATOR', `0x${toKey(a.validator)} is not a validator at height ${a.height}`)
  for (const v of [a, b]) {
    let signer: Uint8Array
    try {
      signer = recoverSigner(voteDigest(v, chainId), v.signature)
    } catch (err) {
      throw new EvidenceError('BAD_SIGNATURE', `evidence vote: ${(err as MessageError).message}`)
    }
    if (!equalBytes(signer, v.validator)) {
      throw new EvidenceError('BAD_SIGNATURE', `evidence vote is signed by 0x${toKey(signer)}, not 0x${toKey(v.validator)} (or for another chain)`)
    }
  }
  return { validator: validator.address, power: validator.power, height: a.height }
}

export function encodeEvidence(ev: DuplicateVoteEvidence): Uint8Array {
  return RLP.encode([encodeVote(ev.voteA), encodeVote(ev.voteB)])
}

/** Decodes (shape and pairing only: check signatures with verifyEvidence). */
export function decodeEvidence(bytes: Uint8Array): DuplicateVoteEvidence {
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch (err) {
    throw new EvidenceError('MALFORMED', `evidence is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(d) || d.length !== 2 || !(d[0] instanceof Uint8Array) || !(d[1] instanceof Uint8Array)) {
    throw new EvidenceError('MALFORMED', 'evidence must be RLP([voteA, voteB])')
  }
  let a: SignedVote, b: SignedVote
  try {
    a = decodeVote(d[0])
    b = decodeVote(d[1])
  } catch (err) {
    throw new EvidenceError('MALFORMED', `evidence vote: ${(err as MessageError).message}`)
  }
  checkPair(a, b)
  return { voteA: a, voteB: b }
}

/** sha256 of the encoding: identifies this piece of evidence (e.g. in a block's evidence list). */
export function evidenceHash(ev: DuplicateVoteEvidence): Uint8Array {
  return sha256(encodeEvidence(ev))
}

/**
 * Identity of the offence: validator, height, round and type. A signer that does not use
 * deterministic nonces can sign the same vote twice with different bytes, so slashing and
 * deduplication should key on this, not on evidenceHash.
 */
export function offenceKey(ev: DuplicateVoteEvidence): string {
  const v = ev.voteA
  return `${toKey(v.validator)}/${v.height}/${v.round}/${v.type}`
}
