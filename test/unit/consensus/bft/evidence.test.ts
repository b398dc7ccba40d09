/** Double-vote evidence: detection, canonical form, and pure verification with typed errors. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  EvidenceError,
  decodeEvidence,
  duplicateVoteEvidence,
  encodeEvidence,
  evidenceHash,
  isDoubleVote,
  offenceKey,
  verifyEvidence,
} from '../../../../src/consensus/bft/index.ts'
import { CHAIN_ID, addressOf, hash, hex, keys, throwsCode, validatorSet, vote } from './fixtures.ts'

const ks = keys(4, 'evidence')
const set = validatorSet(ks, [5n, 1n, 1n, 1n])
const A = hash('a')
const B = hash('b')

describe('bft evidence', () => {
  test('two votes for different blocks at one (height, round, type) are a double vote', () => {
    const v1 = vote(ks[0], 'prevote', 4n, 2, A)
    const v2 = vote(ks[0], 'prevote', 4n, 2, B)
    assert.equal(isDoubleVote(v1, v2), true)
    assert.equal(isDoubleVote(v1, vote(ks[0], 'prevote', 4n, 2, null)), true, 'a block versus nil counts')
    assert.equal(isDoubleVote(v1, v1), false)
    assert.equal(isDoubleVote(v1, vote(ks[0], 'precommit', 4n, 2, B)), false)
    assert.equal(isDoubleVote(v1, vote(ks[0], 'prevote', 4n, 3, B)), false)
    assert.equal(isDoubleVote(v1, vote(ks[1], 'prevote', 4n, 2, B)), false)
  })

  test('evidence verifies, names the validator and its power, in either argument order', () => {
    const v1 = vote(ks[0], 'precommit', 4n, 2, A)
    const v2 = vote(ks[0], 'precommit', 4n, 2, B)
    const e1 = duplicateVoteEvidence(v1, v2)
    const e2 = duplicateVoteEvidence(v2, v1)
    assert.equal(hex(encodeEvidence(e1)), hex(encodeEvidence(e2)), 'canonical order')
    assert.equal(offenceKey(e1), offenceKey(e2))
    const check = verifyEvidence(e1, set, CHAIN_ID)
    assert.deepEqual([hex(check.validator), check.power, check.height], [hex(addressOf(ks[0])), 5n, 4n])
  })

  test('encode/decode round-trips; the hash identifies the evidence', () => {
    const e = duplicateVoteEvidence(vote(ks[1], 'prevote', 9n, 0, null), vote(ks[1], 'prevote', 9n, 0, A))
    const back = decodeEvidence(encodeEvidence(e))
    verifyEvidence(back, set, CHAIN_ID)
    assert.equal(hex(evidenceHash(back)), hex(evidenceHash(e)))
    assert.equal(back.voteA.blockHash, null, 'nil sorts first')
  })

  test('not a double vote: NOT_CONFLICTING and VOTES_DO_NOT_MATCH', () => {
    const v1 = vote(ks[0], 'prevote', 4n, 2, A)
    throwsCode(() => duplicateVoteEvidence(v1, vote(ks[0], 'prevote', 4n, 2, A)), EvidenceError, 'NOT_CONFLICTING')
    throwsCode(() => duplicateVoteEvidence(v1, vote(ks[0], 'prevote', 5n, 2, B)), EvidenceError, 'VOTES_DO_NOT_MATCH')
    throwsCode(() => duplicateVoteEvidence(v1, vote(ks[0], 'prevote', 4n, 3, B)), EvidenceError, 'VOTES_DO_NOT_MATCH')
    throwsCode(() => duplicateVoteEvidence(v1, vote(ks[0], 'precommit', 4n, 2, B)), EvidenceError, 'VOTES_DO_NOT_MATCH')
    throwsCode(() => duplicateVoteEvidence(v1, vote(ks[1], 'prevote', 4n, 2, B)), EvidenceError, 'VOTES_DO_NOT_MATCH')
  })

  test('NOT_CANONICAL when the votes are out of order', () => {
    const e = duplicateVoteEvidence(vote(ks[0], 'prevote', 4n, 2, A), vote(ks[0], 'prevote', 4n, 2, B))
    throwsCode(() => verifyEvidence({ voteA: e.voteB, voteB: e.voteA }, set, CHAIN_ID), EvidenceError, 'NOT_CANONICAL')
  })

  test('UNKNOWN_VALIDATOR for a signer outside the set', () => {
    const outsider = keys(1, 'outsider')[0]
    const e = duplicateVoteEvidence(vote(outsider, 'prevote', 4n, 2, A), vote(outsider, 'prevote', 4n, 2, B))
    throwsCode(() => verifyEvidence(e, set, CHAIN_ID), EvidenceError, 'UNKNOWN_VALIDATOR')
  })

  test('BAD_SIGNATURE: framing a validator with a vote it did not sign, or another chain', () => {
    const real = vote(ks[0], 'prevote', 4n, 2, A)
    const framed = { ...vote(ks[1], 'prevote', 4n, 2, B), validator: addressOf(ks[0]) } // ks[1] signs in ks[0]'s name
    throwsCode(() => verifyEvidence(duplicateVoteEvidence(real, framed), set, CHAIN_ID), EvidenceError, 'BAD_SIGNATURE')
    const other = duplicateVoteEvidence(vote(ks[0], 'prevote', 4n, 2, A, 99n), vote(ks[0], 'prevote', 4n, 2, B, 99n))
    throwsCode(() => verifyEvidence(other, set, CHAIN_ID), EvidenceError, 'BAD_SIGNATURE')
  })

  test('EXPIRED and FUTURE against an evidence window', () => {
    const e = duplicateVoteEvidence(vote(ks[0], 'prevote', 100n, 0, A), vote(ks[0], 'prevote', 100n, 0, B))
    verifyEvidence(e, set, CHAIN_ID, { currentHeight: 150n, maxAgeHeights: 50n })
    throwsCode(() => verifyEvidence(e, set, CHAIN_ID, { currentHeight: 151n, maxAgeHeights: 50n }), EvidenceError, 'EXPIRED')
    throwsCode(() => verifyEvidence(e, set, CHAIN_ID, { currentHeight: 99n }), EvidenceError, 'FUTURE')
  })

  test('MALFORMED bytes', () => {
    throwsCode(() => decodeEvidence(Uint8Array.of(0xff)), EvidenceError, 'MALFORMED')
    throwsCode(() => decodeEvidence(encodeEvidence(duplicateVoteEvidence(vote(ks[0], 'prevote', 4n, 2, A), vote(ks[0], 'prevote', 4n, 2, B))).subarray(0, 50)), EvidenceError, 'MALFORMED')
  })
})
