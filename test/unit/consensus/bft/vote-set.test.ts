/** Vote tallies: one count per validator for "any", equivocations per block, quorum detection. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { HeightVotes, VoteTally } from '../../../../src/consensus/bft/index.ts'
import { MAX_LONE_EQUIVOCATIONS } from '../../../../src/consensus/bft/vote-set.ts'
import { addressOf, hash, keys, validatorSet, vote } from './fixtures.ts'

const ks = keys(4, 'tally')
const set = validatorSet(ks, [1n, 1n, 1n, 2n]) // total 5: quorum 4, one third needs 2
const V = hash('v')
const W = hash('w')

describe('bft vote tally', () => {
  test('duplicates are ignored; power adds up per block and in total', () => {
    const t = new VoteTally(set)
    assert.deepEqual(t.add(vote(ks[0], 'prevote', 1n, 0, V), 1n), { status: 'added' })
    assert.deepEqual(t.add(vote(ks[0], 'prevote', 1n, 0, V), 1n), { status: 'duplicate' })
    t.add(vote(ks[3], 'prevote', 1n, 0, null), 2n)
    assert.equal(t.powerFor(V), 1n)
    assert.equal(t.powerFor(null), 2n)
    assert.equal(t.total, 3n)
    assert.equal(t.hasTwoThirdsAny(), false)
    t.add(vote(ks[1], 'prevote', 1n, 0, V), 1n)
    assert.equal(t.hasTwoThirdsAny(), true) // 4 of 5
    assert.equal(t.hasTwoThirdsFor(V), false)
  })

  test('an equivocator counts for each block it voted for, but once in the total', () => {
    const t = new VoteTally(set)
    t.add(vote(ks[3], 'precommit', 1n, 0, V), 2n)
    const r = t.add(vote(ks[3], 'precommit', 1n, 0, W), 2n)
    assert.equal(r.status, 'conflict')
    assert.ok(r.status === 'conflict' && r.counted)
    assert.equal(r.existing, t.get(r.existing.validator), 'existing is the first vote')
    assert.equal(t.powerFor(V), 2n)
    assert.equal(t.powerFor(W), 2n)
    assert.equal(t.total, 2n)
    assert.equal(t.votesFor(W).length, 1)
  })

  test('extra votes for blocks nobody else voted for are capped; for blocks others voted for, they count', () => {
    const t = new VoteTally(set)
    t.add(vote(ks[0], 'prevote', 1n, 0, V), 1n)
    for (let i = 0; i < MAX_LONE_EQUIVOCATIONS; i++) {
      const r = t.add(vote(ks[0], 'prevote', 1n, 0, hash(`junk ${i}`)), 1n)
      assert.ok(r.status === 'conflict' && r.counted)
    }
    const over = t.add(vote(ks[0], 'prevote', 1n, 0, hash('one junk too many')), 1n)
    assert.ok(over.status === 'conflict' && !over.counted)
    t.add(vote(ks[1], 'prevote', 1n, 0, W), 1n)
    const real = t.add(vote(ks[0], 'prevote', 1n, 0, W), 1n)
    assert.ok(real.status === 'conflict' && real.counted, 'a block others voted for is never crowded out')
    assert.equal(t.powerFor(W), 2n)
  })
})

describe('bft height votes', () => {
  test('precommit quorums are recorded once, as they form', () => {
    const hv = new HeightVotes(set)
    hv.add(vote(ks[3], 'precommit', 1n, 2, V), 2n)
    hv.add(vote(ks[0], 'precommit', 1n, 2, V), 1n)
    assert.equal(hv.precommitQuorums().length, 0)
    hv.add(vote(ks[1], 'precommit', 1n, 2, V), 1n) // 4 of 5
    hv.add(vote(ks[2], 'precommit', 1n, 2, V), 1n)
    assert.deepEqual(hv.precommitQuorums().map((q) => q.round), [2])
    hv.add(vote(ks[0], 'prevote', 1n, 2, V), 1n)
    assert.equal(hv.precommitQuorums().length, 1, 'prevotes do not make decisions')
  })

  test('the highest round with more than 1/3 participation, proposals included', () => {
    const hv = new HeightVotes(set)
    hv.add(vote(ks[0], 'prevote', 1n, 7, null), 1n)
    assert.equal(hv.highestRoundWithOneThird(), -1) // 1 of 5
    hv.noteParticipant(7, addressOf(ks[0]), 1n) // the same validator again: no change
    assert.equal(hv.highestRoundWithOneThird(), -1)
    hv.noteParticipant(7, addressOf(ks[1]), 1n) // e.g. the proposer of round 7
    assert.equal(hv.highestRoundWithOneThird(), 7) // 2 of 5 > 1/3
    hv.add(vote(ks[3], 'precommit', 1n, 3, null), 2n)
    assert.equal(hv.highestRoundWithOneThird(), 7)
    assert.equal(hv.all().length, 2)
  })
})
