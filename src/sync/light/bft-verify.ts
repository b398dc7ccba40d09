/**
 * The checks a light client makes of BFT headers, pure functions in the manner of CometBFT's
 * light/verifier.go:
 * - adjacent (`verifyCertified`): the header's commit certificate carries the precommits of
 *   more than 2/3 of the voting power of its height's validator set, every signature valid;
 * - skipping (`verifyTrusting`): a header far ahead is trusted when the validators of a set the
 *   client already trusts, holding more than 1/3 of its power, signed its certificate. At least
 *   one of them is honest if fewer than 1/3 of a set are faulty, so the header is the real
 *   one; this holds only while those validators can still be punished for lying (their stake
 *   bonded), hence the trust period (`checkTrustPeriod`).
 * Every failure throws BlockError('BAD_PROOF') naming what did not check.
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import { BlockError } from '../../chain/errors.ts'
import { certificateVotes, recoverSigner, verifyCertificate, voteDigest, type CommitCertificate, type ValidatorSet } from '../../consensus/bft/index.ts'

/** The part of a trusted set that must sign a header skipped to (CometBFT's default trust level). */
export const TRUST_LEVEL = { numerator: 1n, denominator: 3n }

/** Checks that `cert` makes block `hash` at `height` final under `set`: more than 2/3 of its power, every signature valid. */
export function verifyCertified(cert: CommitCertificate, hash: Uint8Array, height: bigint, set: ValidatorSet, chainId: bigint): void {
  try {
    verifyCertificate(cert, hash, height, set, chainId)
  } catch (err) {
    throw new BlockError('BAD_PROOF', `commit certificate of block ${height}: ${(err as Error).message}`)
  }
}

/**
 * The power of `trusted` that signed `cert` for `hash`: signatures of validators outside the
 * trusted set are skipped (the set changed since), and each counted signature is checked.
 */
export function trustedPower(cert: CommitCertificate, hash: Uint8Array, trusted: ValidatorSet, chainId: bigint): bigint {
  if (bytesToHex(cert.blockHash) !== bytesToHex(hash)) throw new BlockError('BAD_PROOF', `the certificate is for block ${bytesToHex(cert.blockHash)}, not ${bytesToHex(hash)}`)
  const seen = new Set<string>()
  let power = 0n
  for (const vote of certificateVotes(cert)) {
    const v = trusted.get(vote.validator)
    const key = bytesToHex(vote.validator)
    if (!v || seen.has(key)) continue
    seen.add(key)
    let signer: Uint8Array
    try {
      signer = recoverSigner(voteDigest(vote, chainId), vote.signature)
    } catch (err) {
      throw new BlockError('BAD_PROOF', `the precommit of ${key} at height ${cert.height} does not verify: ${(err as Error).message}`)
    }
    if (bytesToHex(signer) !== key) throw new BlockError('BAD_PROOF', `the precommit of ${key} at height ${cert.height} is signed by ${bytesToHex(signer)} (or for another chain)`)
    power += v.power
  }
  return power
}

/** Whether the trusted set's validators that signed `cert` hold more than TRUST_LEVEL of its power. */
export function isTrusted(cert: CommitCertificate, hash: Uint8Array, trusted: ValidatorSet, chainId: bigint): boolean {
  return trustedPower(cert, hash, trusted, chainId) * TRUST_LEVEL.denominator > trusted.totalPower * TRUST_LEVEL.numerator
}

/**
 * A trusted header vouches for later ones only within the trust period after its time: past
 * it, its validators may have withdrawn their stake and could sign another history unpunished
 * (a long-range fork). Throws BlockError('TRUST_EXPIRED').
 */
export function checkTrustPeriod(trustedHeight: bigint, trustedTime: bigint, trustPeriodSeconds: bigint, now: bigint): void {
  if (trustedTime + trustPeriodSeconds <= now) {
    throw new BlockError(
      'TRUST_EXPIRED',
      `the trusted header ${trustedHeight} is ${now - trustedTime} s old, past the trust period of ${trustPeriodSeconds} s: its validators may have unbonded since; start again from a recent block with --checkpoint <hash>`,
    )
  }
}
