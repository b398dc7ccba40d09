/**
 * Canonical encoding, signing and verification of proposals and votes.
 *
 * What a validator signs is keccak-256 of a domain-separated RLP list that starts with a tag
 * naming the message kind and version, then the chain id, then every field. The tag keeps a
 * vote signature from ever verifying as a proposal (or as an Ethereum tx); the chain id keeps
 * a vote of one chain from being replayed on another. Signatures are secp256k1, 65 bytes
 * r || s || recovery id, low-s only (so one vote has exactly one valid encoding); the signer is
 * recovered from the signature and must equal the claimed validator address.
 *
 * Wire form: RLP([kind, [fields..., signature]]), kind 1 = proposal, 2 = vote.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { keccak256 } from '../../crypto/hash.ts'
import { publicKeyToAddress, recoverPublicKey, signDigest } from '../../crypto/secp256k1.ts'
import { equalBytes, isBytes, readUint, toKey, uintBytes } from './bytes.ts'
import { MessageError } from './errors.ts'
import {
  ADDRESS_LENGTH,
  HASH_LENGTH,
  MAX_ROUND,
  SIGNATURE_LENGTH,
  type ConsensusMessage,
  type Proposal,
  type SignedProposal,
  type SignedVote,
  type Address,
  type Step,
  type Vote,
  type VoteType,
} from './types.ts'
import { MAX_PROPOSER_ROUND, type Validator, type ValidatorSet } from './validators.ts'

const encoder = new TextEncoder()
const PROPOSAL_TAG = encoder.encode('catena/bft/proposal/v1')
const VOTE_TAG = encoder.encode('catena/bft/vote/v1')

/** CometBFT's SignedMsgType numbers. */
const VOTE_TYPE_CODE: Record<VoteType, number> = { prevote: 1, precommit: 2 }
const KIND_PROPOSAL = 1
const KIND_VOTE = 2

/** secp256k1 group order / 2: signatures with s above it are the malleated twin and refused. */
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n
const MAX_HEIGHT = (1n << 63n) - 1n

// ---------- sign bytes ----------

/** The bytes a validator signs for a vote (before hashing). */
export function voteSignBytes(vote: Vote, chainId: bigint): Uint8Array {
  return RLP.encode([
    VOTE_TAG,
    uintBytes(chainId),
    uintBytes(VOTE_TYPE_CODE[vote.type]),
    uintBytes(vote.height),
    uintBytes(vote.round),
    vote.blockHash ?? new Uint8Array(),
    vote.validator,
  ])
}

/** The bytes a proposer signs for a proposal (polRound is encoded as polRound + 1 so -1 fits). */
export function proposalSignBytes(p: Proposal, chainId: bigint): Uint8Array {
  return RLP.encode([
    PROPOSAL_TAG,
    uintBytes(chainId),
    uintBytes(p.height),
    uintBytes(p.round),
    p.blockHash,
    uintBytes(p.polRound + 1),
    p.proposer,
  ])
}

export function voteDigest(vote: Vote, chainId: bigint): Uint8Array {
  return keccak256(voteSignBytes(vote, chainId))
}

export function proposalDigest(p: Proposal, chainId: bigint): Uint8Array {
  return keccak256(proposalSignBytes(p, chainId))
}

// ---------- signing ----------

function sign(digest: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const sig = signDigest(digest, privateKey)
  const out = new Uint8Array(SIGNATURE_LENGTH)
  out.set(sig.r, 0)
  out.set(sig.s, 32)
  out[64] = sig.recovery
  return out
}

/** Signs a vote. RFC 6979 nonces: the same vote always gets the same signature. */
export function signVote(vote: Vote, privateKey: Uint8Array, chainId: bigint): SignedVote {
  checkVoteShape(vote)
  return { ...copyVote(vote), signature: sign(voteDigest(vote, chainId), privateKey) }
}

export function signProposal(p: Proposal, privateKey: Uint8Array, chainId: bigint): SignedProposal {
  checkProposalShape(p)
  return { ...copyProposal(p), signature: sign(proposalDigest(p, chainId), privateKey) }
}

/** The address that produced `signature` over `digest`, or MessageError BAD_SIGNATURE. */
export function recoverSigner(digest: Uint8Array, signature: Uint8Array): Uint8Array {
  if (!isBytes(signature, SIGNATURE_LENGTH)) {
    throw new MessageError('MALFORMED', `signature must be ${SIGNATURE_LENGTH} bytes`)
  }
  const s = signature.subarray(32, 64)
  if (BigInt('0x' + toKey(s)) > HALF_N) throw new MessageError('BAD_SIGNATURE', 'signature s is not in the lower half of the order')
  try {
    return publicKeyToAddress(recoverPublicKey(digest, signature.slice(0, 32), signature.slice(32, 64), signature[64]))
  } catch (err) {
    throw new MessageError('BAD_SIGNATURE', `signature does not recover: ${(err as Error).message}`)
  }
}

// ---------- verification ----------

/**
 * Checks a signed vote against the validator set of its height: shape, membership, and that
 * the signature recovers to the validator. Returns the validator (with its power).
 */
export function verifyVote(vote: SignedVote, chainId: bigint, validators: ValidatorSet): Validator {
  checkVoteShape(vote)
  const validator = validators.get(vote.validator)
  if (!validator) {
    throw new MessageError('UNKNOWN_VALIDATOR', `vote signed by 0x${toKey(vote.validator)}, which is not a validator at height ${vote.height}`)
  }
  const signer = recoverSigner(voteDigest(vote, chainId), vote.signature)
  if (!equalBytes(signer, vote.validator)) {
    throw new MessageError('BAD_SIGNATURE', `vote claims validator 0x${toKey(vote.validator)} but is signed by 0x${toKey(signer)} (or for another chain)`)
  }
  return validator
}

/**
 * Who signed a message, checked without a validator set: the signature must recover to the
 * address the message claims (its validator or proposer). What a node can check of a message
 * for a height whose set it does not know yet; membership is checked once it does.
 */
export function verifySigner(message: ConsensusMessage, chainId: bigint): Address {
  if (message.kind === 'vote') {
    checkVoteShape(message.vote)
    const signer = recoverSigner(voteDigest(message.vote, chainId), message.vote.signature)
    if (!equalBytes(signer, message.vote.validator)) throw new MessageError('BAD_SIGNATURE', `vote claims validator 0x${toKey(message.vote.validator)} but is signed by 0x${toKey(signer)} (or for another chain)`)
    return signer
  }
  checkProposalShape(message.proposal)
  const signer = recoverSigner(proposalDigest(message.proposal, chainId), message.proposal.signature)
  if (!equalBytes(signer, message.proposal.proposer)) throw new MessageError('BAD_SIGNATURE', `proposal claims proposer 0x${toKey(message.proposal.proposer)} but is signed by 0x${toKey(signer)} (or for another chain)`)
  return signer
}

/** The height, round and step a message is for, and who claims to have signed it. */
export function messageSlot(m: ConsensusMessage): { height: bigint; round: number; step: Step; signer: Address } {
  return m.kind === 'vote'
    ? { height: m.vote.height, round: m.vote.round, step: m.vote.type, signer: m.vote.validator }
    : { height: m.proposal.height, round: m.proposal.round, step: 'propose', signer: m.proposal.proposer }
}

/** Checks a signed proposal: shape, that its signer is the proposer of its round, and the signature. */
export function verifyProposal(p: SignedProposal, chainId: bigint, validators: ValidatorSet): void {
  checkProposalShape(p)
  if (p.round > MAX_PROPOSER_ROUND) throw new MessageError('MALFORMED', `proposal round ${p.round} is beyond any round consensus reaches (${MAX_PROPOSER_ROUND})`)
  if (!validators.has(p.proposer)) {
    throw new MessageError('UNKNOWN_VALIDATOR', `proposal signed by 0x${toKey(p.proposer)}, which is not a validator at height ${p.height}`)
  }
  const expected = validators.proposer(p.round).address
  if (!equalBytes(expected, p.proposer)) {
    throw new MessageError('NOT_PROPOSER', `0x${toKey(p.proposer)} is not the proposer of height ${p.height} round ${p.round} (0x${toKey(expected)} is)`)
  }
  const signer = recoverSigner(proposalDigest(p, chainId), p.signature)
  if (!equalBytes(signer, p.proposer)) {
    throw new MessageError('BAD_SIGNATURE', `proposal claims proposer 0x${toKey(p.proposer)} but is signed by 0x${toKey(signer)} (or for another chain)`)
  }
}

// ---------- shape checks ----------

function checkHeightRound(height: unknown, round: unknown, what: string): void {
  if (typeof height !== 'bigint' || height < 1n || height > MAX_HEIGHT) {
    throw new MessageError('MALFORMED', `${what} height must be a bigint in [1, 2^63-1]`)
  }
  if (typeof round !== 'number' || !Number.isInteger(round) || round < 0 || round > MAX_ROUND) {
    throw new MessageError('MALFORMED', `${what} round must be an integer in [0, ${MAX_ROUND}]`)
  }
}

export function checkVoteShape(v: Vote): void {
  if (!v || typeof v !== 'object') throw new MessageError('MALFORMED', 'vote must be an object')
  if (v.type !== 'prevote' && v.type !== 'precommit') throw new MessageError('MALFORMED', `vote type must be prevote or precommit, got ${String(v.type)}`)
  checkHeightRound(v.height, v.round, 'vote')
  if (v.blockHash !== null && !isBytes(v.blockHash, HASH_LENGTH)) throw new MessageError('MALFORMED', `vote block hash must be ${HASH_LENGTH} bytes or nil`)
  if (!isBytes(v.validator, ADDRESS_LENGTH)) throw new MessageError('MALFORMED', `vote validator must be ${ADDRESS_LENGTH} bytes`)
  const sig = (v as Partial<SignedVote>).signature
  if (sig !== undefined && !isBytes(sig, SIGNATURE_LENGTH)) throw new MessageError('MALFORMED', `signature must be ${SIGNATURE_LENGTH} bytes`)
}

export function checkProposalShape(p: Proposal): void {
  if (!p || typeof p !== 'object') throw new MessageError('MALFORMED', 'proposal must be an object')
  checkHeightRound(p.height, p.round, 'proposal')
  if (!isBytes(p.blockHash, HASH_LENGTH)) throw new MessageError('MALFORMED', `proposal block hash must be ${HASH_LENGTH} bytes`)
  if (typeof p.polRound !== 'number' || !Number.isInteger(p.polRound) || p.polRound < -1 || p.polRound >= p.round) {
    throw new MessageError('MALFORMED', `proposal polRound must be -1 or a round below ${p.round}, got ${String(p.polRound)}`)
  }
  if (!isBytes(p.proposer, ADDRESS_LENGTH)) throw new MessageError('MALFORMED', `proposer must be ${ADDRESS_LENGTH} bytes`)
  const sig = (p as Partial<SignedProposal>).signature
  if (sig !== undefined && !isBytes(sig, SIGNATURE_LENGTH)) throw new MessageError('MALFORMED', `signature must be ${SIGNATURE_LENGTH} bytes`)
}

// ---------- wire encoding ----------

export function encodeVote(v: SignedVote): Uint8Array {
  return RLP.encode(voteFields(v))
}

export function encodeProposal(p: SignedProposal): Uint8Array {
  return RLP.encode(proposalFields(p))
}

export function encodeMessage(m: ConsensusMessage): Uint8Array {
  return m.kind === 'proposal'
    ? RLP.encode([uintBytes(KIND_PROPOSAL), proposalFields(m.proposal)])
    : RLP.encode([uintBytes(KIND_VOTE), voteFields(m.vote)])
}

function voteFields(v: SignedVote): Uint8Array[] {
  return [
    uintBytes(VOTE_TYPE_CODE[v.type]),
    uintBytes(v.height),
    uintBytes(v.round),
    v.blockHash ?? new Uint8Array(),
    v.validator,
    v.signature,
  ]
}

function proposalFields(p: SignedProposal): Uint8Array[] {
  return [uintBytes(p.height), uintBytes(p.round), p.blockHash, uintBytes(p.polRound + 1), p.proposer, p.signature]
}

function rlpDecode(bytes: Uint8Array, what: string): unknown {
  if (!(bytes instanceof Uint8Array)) throw new MessageError('MALFORMED', `${what} must be bytes`)
  try {
    return RLP.decode(bytes)
  } catch (err) {
    throw new MessageError('MALFORMED', `${what} is not valid RLP: ${(err as Error).message}`)
  }
}

/** Decodes a vote's wire fields (shape only: verify with verifyVote). */
export function decodeVote(bytes: Uint8Array): SignedVote {
  return voteFromFields(rlpDecode(bytes, 'vote'))
}

export function decodeProposal(bytes: Uint8Array): SignedProposal {
  return proposalFromFields(rlpDecode(bytes, 'proposal'))
}

export function decodeMessage(bytes: Uint8Array): ConsensusMessage {
  const d = rlpDecode(bytes, 'consensus message')
  if (!Array.isArray(d) || d.length !== 2) throw new MessageError('MALFORMED', 'consensus message must be RLP([kind, fields])')
  const kind = readUint(d[0], 1)
  if (kind === BigInt(KIND_PROPOSAL)) return { kind: 'proposal', proposal: proposalFromFields(d[1]) }
  if (kind === BigInt(KIND_VOTE)) return { kind: 'vote', vote: voteFromFields(d[1]) }
  throw new MessageError('MALFORMED', `unknown consensus message kind ${String(kind)}`)
}

function fields(d: unknown, n: number, what: string): Uint8Array[] {
  if (!Array.isArray(d) || d.length !== n || d.some((f) => !(f instanceof Uint8Array))) {
    throw new MessageError('MALFORMED', `${what} must be an RLP list of ${n} byte strings`)
  }
  return d as Uint8Array[]
}

function intField(b: Uint8Array, maxBytes: number, name: string): bigint {
  const v = readUint(b, maxBytes)
  if (v === undefined) throw new MessageError('MALFORMED', `${name} is not a canonical integer of at most ${maxBytes} bytes`)
  return v
}

function voteFromFields(d: unknown): SignedVote {
  const f = fields(d, 6, 'vote')
  const code = intField(f[0], 1, 'vote type')
  const type: VoteType | undefined = code === 1n ? 'prevote' : code === 2n ? 'precommit' : undefined
  if (!type) throw new MessageError('MALFORMED', `unknown vote type ${code}`)
  const vote: SignedVote = {
    type,
    height: intField(f[1], 8, 'height'),
    round: Number(intField(f[2], 4, 'round')),
    blockHash: f[3].length === 0 ? null : f[3],
    validator: f[4],
    signature: f[5],
  }
  checkVoteShape(vote)
  if (vote.signature.length !== SIGNATURE_LENGTH) throw new MessageError('MALFORMED', `signature must be ${SIGNATURE_LENGTH} bytes`)
  return vote
}

function proposalFromFields(d: unknown): SignedProposal {
  const f = fields(d, 6, 'proposal')
  const p: SignedProposal = {
    height: intField(f[0], 8, 'height'),
    round: Number(intField(f[1], 4, 'round')),
    blockHash: f[2],
    polRound: Number(intField(f[3], 4, 'polRound')) - 1,
    proposer: f[4],
    signature: f[5],
  }
  checkProposalShape(p)
  if (p.signature.length !== SIGNATURE_LENGTH) throw new MessageError('MALFORMED', `signature must be ${SIGNATURE_LENGTH} bytes`)
  return p
}

function copyVote(v: Vote): Vote {
  return { type: v.type, height: v.height, round: v.round, blockHash: v.blockHash && Uint8Array.from(v.blockHash), validator: Uint8Array.from(v.validator) }
}

function copyProposal(p: Proposal): Proposal {
  return { height: p.height, round: p.round, blockHash: Uint8Array.from(p.blockHash), polRound: p.polRound, proposer: Uint8Array.from(p.proposer) }
}

/** Same (type, height, round, validator, block hash): two such votes are the same vote. */
export function sameVote(a: Vote, b: Vote): boolean {
  return (
    a.type === b.type &&
    a.height === b.height &&
    a.round === b.round &&
    equalBytes(a.validator, b.validator) &&
    (a.blockHash === null ? b.blockHash === null : b.blockHash !== null && equalBytes(a.blockHash, b.blockHash))
  )
}
