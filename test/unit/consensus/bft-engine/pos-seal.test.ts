/**
 * The PoS parts of the BFT seal: evidence of double votes travels in the seal, is checked by
 * every node (valid signatures, a validator of that height, not too old, each offence once),
 * and turns into a slash call from SYSTEM_ADDRESS; the reward is shared with the voters of the
 * parent certificate by power.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from "@ethereumjs/util"
import type { BlockHeader } from '../../../../src/chain/block.ts'
import { BlockError } from '../../../../src/chain/errors.ts'
import { BftRules, ValidatorSchedule, decodeSeal, encodeSeal } from '../../../../src/consensus/bft-engine/index.ts'
import { MAX_EVIDENCE_AGE } from '../../../../src/consensus/bft-engine/seal.ts'
import { certificateFromVotes, duplicateVoteEvidence } from '../../../../src/consensus/bft/index.ts'
import { STAKING_ADDRESS, SYSTEM_ADDRESS, encodeSlash } from '../../../../src/contracts/index.ts'
import { CHAIN_ID, addressOf, hash, keys, vote } from '../bft/fixtures.ts'

const ks = keys(4, 'pos seal')
const powers = [10n, 20n, 30n, 40n]
const validators = ks.map((k, i) => ({ address: addressOf(k), power: powers[i]! }))
const schedule = new ValidatorSchedule(validators)
const UNBONDING = 50
const pos = new BftRules(CHAIN_ID, schedule, { proposerRewardBasisPoints: 2500, epochLength: 10, unbondingBlocks: UNBONDING })
const poa = new BftRules(CHAIN_ID, schedule)

/** Validator i's double prevote at (height, round). */
const doubleVote = (i: number, height: bigint, round = 0) =>
  duplicateVoteEvidence(vote(ks[i]!, 'prevote', height, round, hash(`block ${height}`)), vote(ks[i]!, 'prevote', height, round, null))

/** A block-1 header (no parent certificate needed) by the round-0 proposer, with `evidence` in its seal. */
function block1(evidence: ReturnType<typeof doubleVote>[]): BlockHeader {
  return {
    parentHash: new Uint8Array(32),
    height: 1n,
    timestamp: 1n,
    txRoot: new Uint8Array(32),
    stateRoot: new Uint8Array(32),
    receiptsRoot: new Uint8Array(32),
    logsBloom: new Uint8Array(256),
    gasLimit: 30_000_000n,
    gasUsed: 0n,
    baseFee: 0n,
    producer: schedule.at(1n).proposer(0).address,
    extraData: new Uint8Array(0),
    seal: encodeSeal({ round: 0, parentCertificate: null, evidence }),
  }
}
const parent = { ...block1([]), height: 0n, seal: new Uint8Array(0) }
const badSeal = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof BlockError && err.code === 'BAD_SEAL' && pattern.test(err.message), String(pattern))

describe('bft seal with evidence (PoS)', () => {
  test('the evidence list round-trips; a seal without evidence keeps its two-item encoding', () => {
    const ev = [doubleVote(2, 1n)]
    const seal = decodeSeal(encodeSeal({ round: 3, parentCertificate: null, evidence: ev }))
    assert.equal(seal.round, 3)
    assert.equal(seal.evidence!.length, 1)
    assert.equal(bytesToHex(seal.evidence![0]!.voteA.validator), bytesToHex(addressOf(ks[2]!)))
    assert.equal((RLP.decode(encodeSeal({ round: 0, parentCertificate: null, evidence: [] })) as unknown[]).length, 2)
    assert.equal(decodeSeal(encodeSeal({ round: 0, parentCertificate: null })).evidence, undefined)
  })

  test('valid evidence is accepted and becomes a slash call from the system address', () => {
    const header = block1([doubleVote(2, 1n), doubleVote(3, 1n, 1)])
    pos.verifyHeader(header, parent)
    const inputs = pos.blockEffects(header)
    assert.deepEqual(
      inputs.systemCalls!.map((c) => [bytesToHex(c.caller), bytesToHex(c.address), bytesToHex(c.data)]),
      [
        [SYSTEM_ADDRESS, STAKING_ADDRESS, bytesToHex(encodeSlash(addressOf(ks[2]!), 1n, 0))],
        [SYSTEM_ADDRESS, STAKING_ADDRESS, bytesToHex(encodeSlash(addressOf(ks[3]!), 1n, 1))],
      ],
    )
    assert.deepEqual(inputs.rewardSplit, { proposerBasisPoints: 2500, voters: [] }, 'block 1 has no parent certificate: no voters')
  })

  test('bad evidence makes the block invalid', () => {
    badSeal(() => poa.verifyHeader(block1([doubleVote(2, 1n)]), parent), /needs a PoS chain/)
    badSeal(() => pos.verifyHeader(block1([doubleVote(2, 1n), doubleVote(2, 1n)]), parent), /appears twice/)
    badSeal(() => pos.verifyHeader(block1([doubleVote(2, 5n)]), parent), /beyond the current height/)
    const outsider = keys(1, 'not a validator')[0]!
    const foreign = duplicateVoteEvidence(vote(outsider, 'prevote', 1n, 0, hash('x')), vote(outsider, 'prevote', 1n, 0, null))
    badSeal(() => pos.verifyHeader(block1([foreign]), parent), /not a validator/)
    const otherChain = duplicateVoteEvidence(vote(ks[1]!, 'prevote', 1n, 0, hash('x'), CHAIN_ID + 1n), vote(ks[1]!, 'prevote', 1n, 0, null, CHAIN_ID + 1n))
    badSeal(() => pos.verifyHeader(block1([otherChain]), parent), /signed by|another chain/)
    assert.ok(MAX_EVIDENCE_AGE > 0n)
  })

  test('evidence is slashable only while the stake is bonded: older than the unbonding period, it is refused', () => {
    // A validator that unstakes votes on until the epoch ends (10 blocks here), and its stake can
    // leave UNBONDING blocks after the unstake: evidence counts for UNBONDING - 10 blocks.
    const ev = doubleVote(2, 1n)
    const window = BigInt(UNBONDING - 10)
    pos.verifyEvidence(ev, 1n + window)
    assert.throws(() => pos.verifyEvidence(ev, 2n + window), /too old|older/)
    // PoA chains slash nothing; their evidence keeps the long default window.
    assert.equal(poa.maxEvidenceAge, MAX_EVIDENCE_AGE)
  })

  test('stakes are re-read at epoch boundaries and after a slash, not otherwise', () => {
    const plain = (height: bigint) => pos.blockEffects({ height, seal: encodeSeal({ round: 0, parentCertificate: null }) })
    assert.ok(plain(20n).systemReads?.stakes, 'epoch boundary')
    assert.equal(plain(21n).systemReads, undefined, 'mid-epoch, nothing slashed')
    assert.ok(pos.blockEffects({ height: 1n, seal: block1([doubleVote(2, 1n)]).seal }).systemReads?.stakes, 'after a slash')
  })

  test('the reward is shared with the signers of the parent certificate by power', () => {
    const blockHash = hash('block 4')
    const cert = certificateFromVotes([1, 2, 3].map((i) => vote(ks[i]!, 'precommit', 4n, 0, blockHash)))
    const inputs = pos.blockEffects({ height: 5n, seal: encodeSeal({ round: 0, parentCertificate: cert }) })
    const set = schedule.at(4n)
    assert.deepEqual(
      inputs.rewardSplit!.voters.map((v) => [bytesToHex(v.address), v.weight]).sort(),
      [1, 2, 3].map((i) => [bytesToHex(addressOf(ks[i]!)), set.get(addressOf(ks[i]!))!.power]).sort(),
    )
    assert.deepEqual(inputs.systemCalls, [])
    // PoA engines leave execution alone.
    assert.deepEqual(poa.blockEffects({ height: 5n, seal: encodeSeal({ round: 0, parentCertificate: cert }) }), {})
  })
})
