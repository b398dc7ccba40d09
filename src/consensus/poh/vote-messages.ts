/**
 * Canonical encoding, signing and verification of PoH votes (votes.ts says what a vote is).
 *
 * What a validator signs is keccak-256 of a domain-separated RLP list, in the style of the
 * BFT messages (consensus/bft/messages.ts): a tag naming the message kind and version, the
 * chain id, then every field. The tag keeps a PoH vote signature from verifying as a BFT
 * vote, a block signature or an Ethereum tx; the chain id keeps a vote of one chain from
 * being replayed on another. Signatures are secp256k1, 65 bytes r || s || recovery id, low-s
 * only (one vote, one valid encoding); the signer is recovered and must equal the voter.
 *
 * Sign bytes: RLP([tag, chainId, voter, slot, hash, [[slot, confirmations]...], root, timestamp])
 * Wire form:  RLP([voter, slot, hash, [[slot, confirmations]...], root, timestamp, signature])
 * where root is [] (nothing rooted) or [slot]; integers are canonical (no leading zeros).
 *
 * Verification is cheapest first: size, decoding and tower shape, slot window, stake, then the
 * signature recovery.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { keccak256 } from '../../crypto/hash.ts'
import { signDigest } from '../../crypto/secp256k1.ts'
import { MessageError, recoverSigner } from '../bft/index.ts'
import type { StakeSet } from './stake-set.ts'
import { VoteError } from './voting-errors.ts'
import {
  ADDRESS_LENGTH,
  HASH_LENGTH,
  SIGNATURE_LENGTH,
  bytesField,
  equalBytes,
  listOf,
  rlpDecode,
  toKey,
  uintBytes,
  uintField,
} from './vote-codec.ts'
import { MAX_LOCKOUT_HISTORY, checkVoteShape, copyLockouts, type Lockout, type PohVote, type SignedPohVote } from './votes.ts'

const VOTE_TAG = new TextEncoder().encode('catena/poh/vote/v1')
/** The largest valid vote (32 lockouts at 8-byte slots) encodes to about 500 bytes; anything longer is refused undecoded. */
export const MAX_VOTE_BYTES = 1024

function lockoutFields(lockouts: readonly Lockout[]): Uint8Array[][] {
  return lockouts.map((l) => [uintBytes(l.slot), uintBytes(l.confirmationCount)])
}

function rootField(root: bigint | null): Uint8Array[] {
  return root === null ? [] : [uintBytes(root)]
}

/** The bytes a validator signs for a vote (before hashing). */
export function voteSignBytes(v: PohVote, chainId: bigint): Uint8Array {
  return RLP.encode([VOTE_TAG, uintBytes(chainId), v.voter, uintBytes(v.slot), v.hash, lockoutFields(v.lockouts), rootField(v.root), uintBytes(v.timestamp)])
}

export function voteDigest(v: PohVote, chainId: bigint): Uint8Array {
  return keccak256(voteSignBytes(v, chainId))
}

/** Signs a vote (RFC 6979 nonces: the same vote always gets the same signature). */
export function signPohVote(v: PohVote, privateKey: Uint8Array, chainId: bigint): SignedPohVote {
  checkVoteShape(v)
  const sig = signDigest(voteDigest(v, chainId), privateKey)
  const signature = new Uint8Array(SIGNATURE_LENGTH)
  signature.set(sig.r, 0)
  signature.set(sig.s, 32)
  signature[64] = sig.recovery
  return { ...copyVote(v), signature }
}

export function encodePohVote(v: SignedPohVote): Uint8Array {
  return RLP.encode([v.voter, uintBytes(v.slot), v.hash, lockoutFields(v.lockouts), rootField(v.root), uintBytes(v.timestamp), v.signature])
}

/** Decodes a vote's wire form and checks its shape and tower (not its signature: see verifyPohVote). */
export function decodePohVote(bytes: Uint8Array): SignedPohVote {
  const malformed = (why: string): never => {
    throw new VoteError('MALFORMED', `vote ${why}`)
  }
  if (!(bytes instanceof Uint8Array)) malformed('must be bytes')
  if (bytes.length > MAX_VOTE_BYTES) malformed(`is ${bytes.length} bytes, more than ${MAX_VOTE_BYTES}`)
  const f = listOf(rlpDecode(bytes, malformed), 7, malformed)
  const rawLockouts = f[3]
  if (!Array.isArray(rawLockouts) || rawLockouts.length > MAX_LOCKOUT_HISTORY) malformed(`lockouts must be a list of at most ${MAX_LOCKOUT_HISTORY}`)
  const lockouts = (rawLockouts as unknown[]).map((l) => {
    const p = listOf(l, 2, malformed)
    return { slot: uintField(p[0], 'lockout slot', 8, malformed), confirmationCount: Number(uintField(p[1], 'confirmation count', 1, malformed)) }
  })
  const rawRoot = f[4]
  if (!Array.isArray(rawRoot) || rawRoot.length > 1) malformed('root must be [] or [slot]')
  const vote: SignedPohVote = {
    voter: bytesField(f[0], 'voter', malformed, ADDRESS_LENGTH),
    slot: uintField(f[1], 'slot', 8, malformed),
    hash: bytesField(f[2], 'hash', malformed, HASH_LENGTH),
    lockouts,
    root: (rawRoot as unknown[]).length === 0 ? null : uintField((rawRoot as unknown[])[0], 'root', 8, malformed),
    timestamp: uintField(f[5], 'timestamp', 8, malformed),
    signature: bytesField(f[6], 'signature', malformed, SIGNATURE_LENGTH),
  }
  checkVoteShape(vote)
  return vote
}

export interface VoteCheckOptions {
  chainId: bigint
  /** The stakes of the vote's epoch: the voter must hold some. */
  stakes: StakeSet
  /** Votes for slots above this are refused (FUTURE_SLOT) before any signature work. */
  maxSlot?: bigint
  /** Votes at or below this slot (the verifier's root) are refused (STALE_SLOT). */
  minSlot?: bigint
}

/** Who voted and with what stake. */
export interface VoteCheck {
  voter: Uint8Array
  stake: bigint
}

/**
 * Checks a signed vote: shape and tower, slot window, that the voter holds stake, and that
 * the signature recovers to the voter on this chain. Pure; VoteError otherwise.
 */
export function verifyPohVote(v: SignedPohVote, opts: VoteCheckOptions): VoteCheck {
  checkVoteShape(v)
  if (!(v.signature instanceof Uint8Array)) throw new VoteError('MALFORMED', 'vote is not signed')
  if (opts.maxSlot !== undefined && v.slot > opts.maxSlot) throw new VoteError('FUTURE_SLOT', `vote for slot ${v.slot} is beyond slot ${opts.maxSlot}`)
  if (opts.minSlot !== undefined && v.slot <= opts.minSlot) throw new VoteError('STALE_SLOT', `vote for slot ${v.slot} is at or below the root ${opts.minSlot}`)
  const stake = opts.stakes.stakeOf(v.voter)
  if (stake === 0n) throw new VoteError('UNKNOWN_VOTER', `0x${toKey(v.voter)} holds no stake in this epoch`)
  let signer: Uint8Array
  try {
    signer = recoverSigner(voteDigest(v, opts.chainId), v.signature)
  } catch (err) {
    throw new VoteError(err instanceof MessageError && err.code === 'MALFORMED' ? 'MALFORMED' : 'BAD_SIGNATURE', `vote: ${(err as Error).message}`)
  }
  if (!equalBytes(signer, v.voter)) {
    throw new VoteError('BAD_SIGNATURE', `vote claims voter 0x${toKey(v.voter)} but is signed by 0x${toKey(signer)} (or for another chain)`)
  }
  return { voter: v.voter, stake }
}

function copyVote(v: PohVote): PohVote {
  return {
    voter: Uint8Array.from(v.voter),
    slot: v.slot,
    hash: Uint8Array.from(v.hash),
    lockouts: copyLockouts(v.lockouts),
    root: v.root,
    timestamp: v.timestamp,
  }
}
