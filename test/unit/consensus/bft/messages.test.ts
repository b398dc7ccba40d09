/**
 * Proposals and votes: canonical sign bytes (domain tag, chain id, every field), secp256k1
 * signatures recovered to the claimed validator, wire encoding, and typed errors for
 * everything a peer could get wrong.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import {
  BFT_PENALTY,
  MessageError,
  decodeMessage,
  decodeProposal,
  decodeVote,
  encodeMessage,
  encodeProposal,
  encodeVote,
  proposalSignBytes,
  recoverSigner,
  sameVote,
  signProposal,
  signVote,
  verifyProposal,
  verifyVote,
  voteDigest,
  voteSignBytes,
  type SignedVote,
} from '../../../../src/consensus/bft/index.ts'
import { CHAIN_ID, addressOf, hash, hex, keys, proposal, proposerKey, throwsCode, validatorSet, vote } from './fixtures.ts'

const ks = keys(4)
const set = validatorSet(ks)
const block = hash('block')

describe('bft messages: sign bytes', () => {
  test('a vote signs RLP([tag, chainId, type, height, round, blockHash, validator]) (pinned encoding)', () => {
    const h = new Uint8Array(32).fill(0xab)
    const a = new Uint8Array(20).fill(0x11)
    const tag = Buffer.from('catena/bft/vote/v1').toString('hex')
    // list(77) | str(18) tag | chainId 1 | precommit 2 | height 5 | round 2 | str(32) hash | str(20) address
    assert.equal(
      hex(voteSignBytes({ type: 'precommit', height: 5n, round: 2, blockHash: h, validator: a }, 1n)),
      'f84d' + '92' + tag + '01' + '02' + '05' + '02' + 'a0' + 'ab'.repeat(32) + '94' + '11'.repeat(20),
    )
    // nil and zero are empty strings (0x80)
    assert.equal(
      hex(voteSignBytes({ type: 'prevote', height: 1n, round: 0, blockHash: null, validator: a }, 1n)),
      'ed' + '92' + tag + '01' + '01' + '01' + '80' + '80' + '94' + '11'.repeat(20),
    )
  })

  test('a proposal signs its own tag, and polRound -1 encodes as 0', () => {
    const h = new Uint8Array(32).fill(0xab)
    const a = new Uint8Array(20).fill(0x11)
    const tag = Buffer.from('catena/bft/proposal/v1').toString('hex')
    assert.equal(
      hex(proposalSignBytes({ height: 5n, round: 2, blockHash: h, polRound: -1, proposer: a }, 1n)),
      'f851' + '96' + tag + '01' + '05' + '02' + 'a0' + 'ab'.repeat(32) + '80' + '94' + '11'.repeat(20),
    )
  })

  test('chain id, type and every field change the digest', () => {
    const base = { type: 'prevote' as const, height: 3n, round: 1, blockHash: block, validator: addressOf(ks[0]) }
    const d = hex(voteDigest(base, CHAIN_ID))
    const variants = [
      voteDigest(base, CHAIN_ID + 1n),
      voteDigest({ ...base, type: 'precommit' }, CHAIN_ID),
      voteDigest({ ...base, height: 4n }, CHAIN_ID),
      voteDigest({ ...base, round: 2 }, CHAIN_ID),
      voteDigest({ ...base, blockHash: null }, CHAIN_ID),
      voteDigest({ ...base, validator: addressOf(ks[1]) }, CHAIN_ID),
    ].map(hex)
    assert.equal(new Set([d, ...variants]).size, 7)
  })
})

describe('bft messages: signing and verification', () => {
  test('a signed vote verifies and returns the validator with its power', () => {
    const v = vote(ks[2], 'precommit', 1n, 0, block)
    const validator = verifyVote(v, CHAIN_ID, set)
    assert.equal(hex(validator.address), hex(addressOf(ks[2])))
    assert.equal(validator.power, 1n)
  })

  test('signing is deterministic (RFC 6979): the same vote, the same bytes', () => {
    assert.equal(hex(vote(ks[0], 'prevote', 9n, 3, block).signature), hex(vote(ks[0], 'prevote', 9n, 3, block).signature))
  })

  test('a vote signed for another chain does not verify (no cross-chain replay)', () => {
    const v = vote(ks[0], 'prevote', 1n, 0, block, CHAIN_ID + 1n)
    throwsCode(() => verifyVote(v, CHAIN_ID, set), MessageError, 'BAD_SIGNATURE')
  })

  test('a prevote signature cannot be passed off as a precommit', () => {
    const v = vote(ks[0], 'prevote', 1n, 0, block)
    throwsCode(() => verifyVote({ ...v, type: 'precommit' }, CHAIN_ID, set), MessageError, 'BAD_SIGNATURE')
  })

  test('a vote claiming another validator is refused', () => {
    const v = vote(ks[0], 'prevote', 1n, 0, block)
    throwsCode(() => verifyVote({ ...v, validator: addressOf(ks[1]) }, CHAIN_ID, set), MessageError, 'BAD_SIGNATURE')
  })

  test('a tampered block hash is refused', () => {
    const v = vote(ks[0], 'prevote', 1n, 0, block)
    throwsCode(() => verifyVote({ ...v, blockHash: hash('other') }, CHAIN_ID, set), MessageError, 'BAD_SIGNATURE')
  })

  test('a signer outside the validator set is UNKNOWN_VALIDATOR (small penalty: maybe a stale peer)', () => {
    const outsider = keys(1, 'outsider')[0]
    const v = vote(outsider, 'prevote', 1n, 0, block)
    throwsCode(() => verifyVote(v, CHAIN_ID, set), MessageError, 'UNKNOWN_VALIDATOR')
    try {
      verifyVote(v, CHAIN_ID, set)
    } catch (err) {
      assert.equal((err as MessageError).penalty, BFT_PENALTY.unknownSigner)
    }
  })

  test('the malleated high-s twin of a valid signature is refused', () => {
    const v = vote(ks[0], 'prevote', 1n, 0, block)
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const s = BigInt('0x' + hex(v.signature.subarray(32, 64)))
    const sig = Uint8Array.from(v.signature)
    sig.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32)
    sig[64] ^= 1
    throwsCode(() => verifyVote({ ...v, signature: sig }, CHAIN_ID, set), MessageError, 'BAD_SIGNATURE')
  })

  test('a signature of the wrong length is MALFORMED', () => {
    throwsCode(() => recoverSigner(new Uint8Array(32), new Uint8Array(64)), MessageError, 'MALFORMED')
  })

  test('a proposal must come from the proposer of its round', () => {
    const good = proposal(proposerKey(set, ks, 0), 1n, 0, block)
    verifyProposal(good, CHAIN_ID, set)
    const other = ks.find((k) => hex(addressOf(k)) !== hex(set.proposer(0).address))!
    throwsCode(() => verifyProposal(proposal(other, 1n, 0, block), CHAIN_ID, set), MessageError, 'NOT_PROPOSER')
    // ...and the same key is the rightful proposer of some other round
    const r = [1, 2, 3, 4, 5].find((round) => hex(set.proposer(round).address) === hex(addressOf(other)))!
    verifyProposal(proposal(other, 1n, r, block), CHAIN_ID, set)
  })

  test('a proposal for an absurd round is MALFORMED, not a crash', () => {
    throwsCode(() => verifyProposal(proposal(ks[0], 1n, 2 ** 30, block), CHAIN_ID, set), MessageError, 'MALFORMED')
  })

  test('a proposal signed for another chain does not verify', () => {
    const p = proposal(proposerKey(set, ks, 0), 1n, 0, block, -1, CHAIN_ID + 5n)
    throwsCode(() => verifyProposal(p, CHAIN_ID, set), MessageError, 'BAD_SIGNATURE')
  })

  test('shape checks: height 0, negative round, polRound >= round, short hash', () => {
    const p = { height: 1n, round: 1, blockHash: block, polRound: -1, proposer: addressOf(ks[0]) }
    throwsCode(() => signVote({ type: 'prevote', height: 0n, round: 0, blockHash: null, validator: addressOf(ks[0]) }, ks[0], CHAIN_ID), MessageError, 'MALFORMED')
    throwsCode(() => signVote({ type: 'prevote', height: 1n, round: -1, blockHash: null, validator: addressOf(ks[0]) }, ks[0], CHAIN_ID), MessageError, 'MALFORMED')
    throwsCode(() => signProposal({ ...p, polRound: 1 }, ks[0], CHAIN_ID), MessageError, 'MALFORMED')
    throwsCode(() => signProposal({ ...p, polRound: -2 }, ks[0], CHAIN_ID), MessageError, 'MALFORMED')
    throwsCode(() => signProposal({ ...p, blockHash: new Uint8Array(31) }, ks[0], CHAIN_ID), MessageError, 'MALFORMED')
  })
})

describe('bft messages: wire encoding', () => {
  test('votes, nil votes and proposals round-trip', () => {
    const vs: SignedVote[] = [vote(ks[1], 'prevote', 12n, 3, block), vote(ks[1], 'precommit', 2n ** 40n, 0, null)]
    for (const v of vs) {
      const back = decodeVote(encodeVote(v))
      assert.ok(sameVote(back, v))
      assert.equal(hex(back.signature), hex(v.signature))
      const m = decodeMessage(encodeMessage({ kind: 'vote', vote: v }))
      assert.equal(m.kind, 'vote')
    }
    const p = proposal(ks[0], 3n, 4, block, 2)
    const back = decodeProposal(encodeProposal(p))
    assert.deepEqual({ ...back }, { ...p, blockHash: back.blockHash, proposer: back.proposer, signature: back.signature })
    assert.equal(back.polRound, 2)
    const m = decodeMessage(encodeMessage({ kind: 'proposal', proposal: p }))
    assert.ok(m.kind === 'proposal' && m.proposal.round === 4 && hex(m.proposal.signature) === hex(p.signature))
  })

  test('garbage, wrong shapes and non-canonical integers are MALFORMED with a penalty', () => {
    const v = vote(ks[0], 'prevote', 1n, 0, block)
    const fields = [Uint8Array.of(1), Uint8Array.of(1), new Uint8Array(), block, v.validator, v.signature]
    const bad: Uint8Array[] = [
      Uint8Array.of(0xff, 0x00),
      RLP.encode([]),
      RLP.encode(fields.slice(0, 5)),
      RLP.encode([Uint8Array.of(3), ...fields.slice(1)]), // vote type 3
      RLP.encode([fields[0], Uint8Array.of(0, 1), ...fields.slice(2)]), // height with a leading zero
      RLP.encode([...fields.slice(0, 3), new Uint8Array(31), ...fields.slice(4)]), // short hash
      RLP.encode([...fields.slice(0, 5), new Uint8Array(64)]), // short signature
      RLP.encode([...fields.slice(0, 4), [new Uint8Array(20)], fields[5]]), // nested list
    ]
    for (const b of bad) {
      throwsCode(() => decodeVote(b), MessageError, 'MALFORMED')
      try {
        decodeVote(b)
      } catch (err) {
        assert.equal((err as MessageError).penalty, BFT_PENALTY.malformed)
      }
    }
    throwsCode(() => decodeMessage(RLP.encode([Uint8Array.of(9), fields])), MessageError, 'MALFORMED')
    throwsCode(() => decodeMessage(RLP.encode([Uint8Array.of(1)])), MessageError, 'MALFORMED')
    const p = proposal(ks[0], 3n, 4, block, 2)
    const pf = [Uint8Array.of(3), Uint8Array.of(4), block, Uint8Array.of(5), p.proposer, p.signature] // polRound 4 = round
    throwsCode(() => decodeProposal(RLP.encode(pf)), MessageError, 'MALFORMED')
  })
})
