/**
 * Commit certificates: >2/3 of the power in precommits for one (height, round, block),
 * verified by a pure function, with one typed error per way a certificate can be wrong.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import {
  CertificateError,
  certificateFromVotes,
  certificateVotes,
  decodeCertificate,
  encodeCertificate,
  verifyCertificate,
  type CommitCertificate,
} from '../../../../src/consensus/bft/index.ts'
import { CHAIN_ID, addressOf, hash, hex, keys, throwsCode, validatorSet, vote } from './fixtures.ts'

const ks = keys(4, 'cert')
const set = validatorSet(ks)
const B = hash('certified block')

function cert(signers: number[], opts: { height?: bigint; round?: number; block?: Uint8Array; chainId?: bigint } = {}): CommitCertificate {
  return certificateFromVotes(signers.map((i) => vote(ks[i], 'precommit', opts.height ?? 10n, opts.round ?? 1, opts.block ?? B, opts.chainId)))
}

describe('bft certificate: verification', () => {
  test('3 of 4 precommits prove the block final', () => {
    const c = cert([2, 0, 3])
    assert.deepEqual(verifyCertificate(c, B, 10n, set, CHAIN_ID), { power: 3n, signers: 3 })
    // signatures come sorted by validator address
    const addrs = c.signatures.map((s) => hex(s.validator))
    assert.deepEqual(addrs, [...addrs].sort())
  })

  test('2 of 4 is NOT_ENOUGH_POWER; with weights, power counts, not heads', () => {
    throwsCode(() => verifyCertificate(cert([0, 1]), B, 10n, set, CHAIN_ID), CertificateError, 'NOT_ENOUGH_POWER')
    const weighted = validatorSet(ks, [1n, 1n, 1n, 6n]) // total 9: quorum 7
    assert.equal(verifyCertificate(cert([3, 0]), B, 10n, weighted, CHAIN_ID).power, 7n)
    throwsCode(() => verifyCertificate(cert([0, 1, 2]), B, 10n, weighted, CHAIN_ID), CertificateError, 'NOT_ENOUGH_POWER')
  })

  test('exactly 2/3 is not enough: 2 of 3', () => {
    const three = validatorSet(ks.slice(0, 3))
    throwsCode(() => verifyCertificate(cert([0, 1]), B, 10n, three, CHAIN_ID), CertificateError, 'NOT_ENOUGH_POWER')
    verifyCertificate(cert([0, 1, 2]), B, 10n, three, CHAIN_ID)
  })

  test('WRONG_BLOCK and WRONG_HEIGHT', () => {
    throwsCode(() => verifyCertificate(cert([0, 1, 2]), hash('other'), 10n, set, CHAIN_ID), CertificateError, 'WRONG_BLOCK')
    throwsCode(() => verifyCertificate(cert([0, 1, 2]), B, 11n, set, CHAIN_ID), CertificateError, 'WRONG_HEIGHT')
  })

  test('a signer outside the set is UNKNOWN_VALIDATOR', () => {
    const outsider = keys(1, 'not a validator')[0]
    const c = cert([0, 1, 2])
    const bad = { ...c, signatures: [...c.signatures, { validator: addressOf(outsider), signature: vote(outsider, 'precommit', 10n, 1, B).signature }] }
    throwsCode(() => verifyCertificate(bad, B, 10n, set, CHAIN_ID), CertificateError, 'UNKNOWN_VALIDATOR')
  })

  test('the same validator twice is DUPLICATE_VALIDATOR (it cannot count double)', () => {
    const c = cert([0, 1])
    const bad = { ...c, signatures: [...c.signatures, c.signatures[0]] }
    throwsCode(() => verifyCertificate(bad, B, 10n, set, CHAIN_ID), CertificateError, 'DUPLICATE_VALIDATOR')
  })

  test('BAD_SIGNATURE: a tampered signature, a swapped signer, another chain, prevotes, another round', () => {
    const c = cert([0, 1, 2])
    const flipped = Uint8Array.from(c.signatures[1].signature)
    flipped[10] ^= 0xff
    const tampered = { ...c, signatures: c.signatures.map((s, i) => (i === 1 ? { ...s, signature: flipped } : s)) }
    throwsCode(() => verifyCertificate(tampered, B, 10n, set, CHAIN_ID), CertificateError, 'BAD_SIGNATURE')
    const swapped = { ...c, signatures: c.signatures.map((s, i) => (i === 0 ? { ...s, validator: addressOf(ks[3]) } : s)) }
    throwsCode(() => verifyCertificate(swapped, B, 10n, set, CHAIN_ID), CertificateError, 'BAD_SIGNATURE')
    throwsCode(() => verifyCertificate(cert([0, 1, 2], { chainId: CHAIN_ID + 1n }), B, 10n, set, CHAIN_ID), CertificateError, 'BAD_SIGNATURE')
    const prevotes = { ...c, signatures: [0, 1, 2].map((i) => ({ validator: addressOf(ks[i]), signature: vote(ks[i], 'prevote', 10n, 1, B).signature })) }
    throwsCode(() => verifyCertificate(prevotes, B, 10n, set, CHAIN_ID), CertificateError, 'BAD_SIGNATURE')
    throwsCode(() => verifyCertificate({ ...c, round: 2 }, B, 10n, set, CHAIN_ID), CertificateError, 'BAD_SIGNATURE')
  })

  test('every signature is checked, not just enough of them', () => {
    const c = cert([0, 1, 2, 3])
    const bad = { ...c, signatures: c.signatures.map((s, i) => (i === 3 ? { ...s, signature: c.signatures[0].signature } : s)) }
    throwsCode(() => verifyCertificate(bad, B, 10n, set, CHAIN_ID), CertificateError, 'BAD_SIGNATURE')
  })
})

describe('bft certificate: building and encoding', () => {
  test('encode/decode round-trips and the decoded certificate verifies', () => {
    const c = cert([3, 1, 0], { height: 2n ** 50n, round: 7 })
    const back = decodeCertificate(encodeCertificate(c))
    assert.equal(back.height, 2n ** 50n)
    assert.equal(back.round, 7)
    verifyCertificate(back, B, 2n ** 50n, set, CHAIN_ID)
    assert.deepEqual(certificateVotes(back).map((v) => v.type), ['precommit', 'precommit', 'precommit'])
  })

  test('malformed bytes and shapes are MALFORMED', () => {
    for (const bytes of [Uint8Array.of(0xff), RLP.encode([]), RLP.encode([Uint8Array.of(1), Uint8Array.of(0), B, Uint8Array.of(1)]), RLP.encode([Uint8Array.of(0, 1), Uint8Array.of(0), B, []]), RLP.encode([Uint8Array.of(1), Uint8Array.of(0), B, [[B]]])]) {
      throwsCode(() => decodeCertificate(bytes), CertificateError, 'MALFORMED')
    }
    const c = cert([0, 1, 2])
    throwsCode(() => verifyCertificate({ ...c, blockHash: new Uint8Array(31) }, B, 10n, set, CHAIN_ID), CertificateError, 'MALFORMED')
    throwsCode(() => verifyCertificate({ ...c, signatures: [{ validator: c.signatures[0].validator, signature: new Uint8Array(64) }] }, B, 10n, set, CHAIN_ID), CertificateError, 'MALFORMED')
  })

  test('certificates are built only from matching precommits', () => {
    throwsCode(() => certificateFromVotes([]), CertificateError, 'MALFORMED')
    throwsCode(() => certificateFromVotes([vote(ks[0], 'precommit', 1n, 0, null)]), CertificateError, 'MALFORMED')
    throwsCode(() => certificateFromVotes([vote(ks[0], 'precommit', 1n, 0, B), vote(ks[1], 'prevote', 1n, 0, B)]), CertificateError, 'MALFORMED')
    throwsCode(() => certificateFromVotes([vote(ks[0], 'precommit', 1n, 0, B), vote(ks[1], 'precommit', 1n, 1, B)]), CertificateError, 'MALFORMED')
  })
})
