/**
 * Commit certificates: the precommit signatures of validators holding more than 2/3 of the
 * voting power for one (height, round, blockHash). A block with a valid certificate is final;
 * the certificate travels with the block (sync, light clients) and anyone holding the
 * validator set of that height checks it with `verifyCertificate`, a pure function in the
 * manner of CometBFT's light/verifier.go (VerifyCommit: every signature is checked, not just
 * enough of them, so a certificate carries no garbage).
 *
 * Encoding: RLP([height, round, blockHash, [[validator, signature], ...]]), signatures sorted
 * by validator address. Each signature is over the precommit's sign bytes (messages.ts), so
 * a certificate is exactly a set of precommit votes with the shared fields stated once.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { compareBytes, equalBytes, isBytes, readUint, toKey, uintBytes } from './bytes.ts'
import { CertificateError, MessageError } from './errors.ts'
import { recoverSigner, voteDigest } from './messages.ts'
import { ADDRESS_LENGTH, HASH_LENGTH, MAX_ROUND, SIGNATURE_LENGTH, type Address, type Hash, type SignedVote } from './types.ts'
import type { ValidatorSet } from './validators.ts'

export interface CommitSignature {
  validator: Address
  signature: Uint8Array
}

export interface CommitCertificate {
  height: bigint
  round: number
  blockHash: Hash
  signatures: CommitSignature[]
}

/** What a valid certificate proves. */
export interface CertificateCheck {
  /** Power of the validators whose precommits it carries. */
  power: bigint
  signers: number
}

/** Builds a certificate from precommits for one (height, round, block); sorts by validator. */
export function certificateFromVotes(votes: readonly SignedVote[]): CommitCertificate {
  if (votes.length === 0) throw new CertificateError('MALFORMED', 'a certificate needs at least one precommit')
  const first = votes[0]
  if (first.blockHash === null) throw new CertificateError('MALFORMED', 'a certificate cannot certify nil')
  for (const v of votes) {
    if (v.type !== 'precommit' || v.height !== first.height || v.round !== first.round || v.blockHash === null || !equalBytes(v.blockHash, first.blockHash)) {
      throw new CertificateError('MALFORMED', 'certificate votes must all be precommits for the same height, round and block')
    }
  }
  return {
    height: first.height,
    round: first.round,
    blockHash: first.blockHash,
    signatures: [...votes]
      .sort((a, b) => compareBytes(a.validator, b.validator))
      .map((v) => ({ validator: v.validator, signature: v.signature })),
  }
}

/** The precommit votes a certificate is made of (e.g. to hand to a lagging state machine). */
export function certificateVotes(cert: CommitCertificate): SignedVote[] {
  return cert.signatures.map((s) => ({
    type: 'precommit',
    height: cert.height,
    round: cert.round,
    blockHash: cert.blockHash,
    validator: s.validator,
    signature: s.signature,
  }))
}

/**
 * Checks that `cert` proves `blockHash` final at `height` under `validators` (the set of that
 * height) on chain `chainId`. Pure. Throws CertificateError: WRONG_BLOCK, WRONG_HEIGHT,
 * MALFORMED, UNKNOWN_VALIDATOR, DUPLICATE_VALIDATOR, BAD_SIGNATURE (also for a certificate of
 * another chain: the chain id is in the signed bytes) or NOT_ENOUGH_POWER.
 */
export function verifyCertificate(
  cert: CommitCertificate,
  blockHash: Hash,
  height: bigint,
  validators: ValidatorSet,
  chainId: bigint,
): CertificateCheck {
  checkShape(cert)
  if (!equalBytes(cert.blockHash, blockHash)) {
    throw new CertificateError('WRONG_BLOCK', `certificate is for block 0x${toKey(cert.blockHash)}, not 0x${toKey(blockHash)}`)
  }
  if (cert.height !== height) throw new CertificateError('WRONG_HEIGHT', `certificate is for height ${cert.height}, not ${height}`)
  const seen = new Set<string>()
  let power = 0n
  for (const vote of certificateVotes(cert)) {
    const key = toKey(vote.validator)
    const validator = validators.get(vote.validator)
    if (!validator) throw new CertificateError('UNKNOWN_VALIDATOR', `0x${key} is not a validator at height ${height}`)
    if (seen.has(key)) throw new CertificateError('DUPLICATE_VALIDATOR', `0x${key} signs the certificate twice`)
    seen.add(key)
    let signer: Uint8Array
    try {
      signer = recoverSigner(voteDigest(vote, chainId), vote.signature)
    } catch (err) {
      throw new CertificateError('BAD_SIGNATURE', `precommit of 0x${key}: ${(err as MessageError).message}`)
    }
    if (!equalBytes(signer, vote.validator)) {
      throw new CertificateError('BAD_SIGNATURE', `precommit of 0x${key} is signed by 0x${toKey(signer)} (or for another chain)`)
    }
    power += validator.power
  }
  if (!validators.hasTwoThirds(power)) {
    throw new CertificateError(
      'NOT_ENOUGH_POWER',
      `certificate carries ${power} of ${validators.totalPower} voting power; more than 2/3 (at least ${validators.quorum}) is needed`,
    )
  }
  return { power, signers: seen.size }
}

function checkShape(cert: CommitCertificate): void {
  if (!cert || typeof cert !== 'object') throw new CertificateError('MALFORMED', 'certificate must be an object')
  if (typeof cert.height !== 'bigint' || cert.height < 1n) throw new CertificateError('MALFORMED', 'certificate height must be a positive bigint')
  if (typeof cert.round !== 'number' || !Number.isInteger(cert.round) || cert.round < 0 || cert.round > MAX_ROUND) {
    throw new CertificateError('MALFORMED', `certificate round must be an integer in [0, ${MAX_ROUND}]`)
  }
  if (!isBytes(cert.blockHash, HASH_LENGTH)) throw new CertificateError('MALFORMED', `certificate block hash must be ${HASH_LENGTH} bytes`)
  if (!Array.isArray(cert.signatures)) throw new CertificateError('MALFORMED', 'certificate signatures must be a list')
  for (const s of cert.signatures) {
    if (!s || !isBytes(s.validator, ADDRESS_LENGTH) || !isBytes(s.signature, SIGNATURE_LENGTH)) {
      throw new CertificateError('MALFORMED', `each signature needs a ${ADDRESS_LENGTH}-byte validator and a ${SIGNATURE_LENGTH}-byte signature`)
    }
  }
}

export function encodeCertificate(cert: CommitCertificate): Uint8Array {
  checkShape(cert)
  return RLP.encode([
    uintBytes(cert.height),
    uintBytes(cert.round),
    cert.blockHash,
    cert.signatures.map((s) => [s.validator, s.signature]),
  ])
}

/** Decodes (shape only: check it with verifyCertificate). */
export function decodeCertificate(bytes: Uint8Array): CommitCertificate {
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch (err) {
    throw new CertificateError('MALFORMED', `certificate is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(d) || d.length !== 4 || !Array.isArray(d[3])) {
    throw new CertificateError('MALFORMED', 'certificate must be RLP([height, round, blockHash, [[validator, signature], ...]])')
  }
  const height = readUint(d[0], 8)
  const round = readUint(d[1], 4)
  if (height === undefined || round === undefined || !isBytes(d[2])) {
    throw new CertificateError('MALFORMED', 'certificate height, round or block hash is not canonical')
  }
  const signatures = (d[3] as unknown[]).map((item) => {
    if (!Array.isArray(item) || item.length !== 2 || !isBytes(item[0]) || !isBytes(item[1])) {
      throw new CertificateError('MALFORMED', 'certificate signature entries must be [validator, signature]')
    }
    return { validator: item[0] as Uint8Array, signature: item[1] as Uint8Array }
  })
  const cert: CommitCertificate = { height, round: Number(round), blockHash: d[2] as Uint8Array, signatures }
  checkShape(cert)
  return cert
}
