/**
 * Fork choice: the heaviest subtree by stake with latest votes only, conflicting forks,
 * confirmed (> 2/3 voted) and finalized (> 2/3 rooted) levels at exactly 2/3 and above,
 * pending votes, pruning, bounds and refusals, and a tower locked out of the heavier fork.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ForkChoice, type BlockRef } from '../../../../src/consensus/poh/fork-choice.ts'
import { Tower } from '../../../../src/consensus/poh/tower.ts'
import { ForkChoiceError } from '../../../../src/consensus/poh/voting-errors.ts'
import { addr, hash, hex, stakeSet, throwsCode } from './voting-fixtures.ts'

const G = hash('genesis')
const h = (label: string) => hash(`block ${label}`)

/** A tree from [label, slot, parent label] rows; 'g' is the root at slot 0. */
function tree(stakes: Array<[Uint8Array, bigint]>, rows: Array<[string, number, string]>, opts = {}): ForkChoice {
  const fc = new ForkChoice({ slot: 0n, hash: G }, stakeSet(stakes), opts)
  for (const [label, slot, parent] of rows) fc.addBlock({ slot: BigInt(slot), hash: h(label), parentHash: parent === 'g' ? G : h(parent) })
  return fc
}

function vote(fc: ForkChoice, voter: Uint8Array, label: string, slot: number, root: number | null = null) {
  return fc.applyVote({ voter, slot: BigInt(slot), hash: h(label), root: root === null ? null : BigInt(root) })
}

const is = (r: BlockRef, label: string, why = '') => assert.equal(hex(r.hash), hex(label === 'g' ? G : h(label)), `expected block ${label}, got slot ${r.slot} ${why}`)

const [A, B, C] = [addr(0xa), addr(0xb), addr(0xc)]

describe('heaviest fork', () => {
  test('stake-weighted votes pick the fork; a vote counts for its block and every ancestor', () => {
    // g(0) - a(1) - b(2) - d(4)
    //             \ c(3)
    const fc = tree([[A, 40n], [B, 35n], [C, 25n]], [['a', 1, 'g'], ['b', 2, 'a'], ['c', 3, 'a']])
    assert.equal(vote(fc, A, 'b', 2), 'applied')
    vote(fc, B, 'c', 3)
    vote(fc, C, 'c', 3)
    is(fc.head(), 'c')
    assert.deepEqual([fc.votedStake(h('a')), fc.votedStake(h('b')), fc.votedStake(h('c')), fc.votedStake(G)], [100n, 40n, 60n, 100n])
    fc.addBlock({ slot: 4n, hash: h('d'), parentHash: h('b') })
    vote(fc, C, 'd', 4) // C switches: only its latest vote counts
    is(fc.head(), 'd')
    assert.deepEqual([fc.votedStake(h('b')), fc.votedStake(h('c')), fc.votedStake(h('d'))], [65n, 35n, 25n])
  })

  test('older votes of a validator and votes without stake do not count', () => {
    const fc = tree([[A, 40n], [B, 35n]], [['a', 1, 'g'], ['b', 2, 'a'], ['c', 3, 'a']])
    vote(fc, A, 'c', 3)
    assert.equal(vote(fc, A, 'b', 2), 'stale', 'a lower slot than its latest vote')
    assert.equal(vote(fc, A, 'c', 3), 'stale', 'the same slot again')
    assert.equal(vote(fc, addr(0xee), 'b', 2), 'no-stake')
    assert.equal(fc.votedStake(h('b')), 0n)
    is(fc.head(), 'c')
  })

  test('equal weights: the lower slot wins', () => {
    const fc = tree([[A, 1n], [B, 1n]], [['x', 5, 'g'], ['y', 3, 'g']])
    is(fc.head(), 'y')
    vote(fc, A, 'x', 5)
    is(fc.head(), 'x')
    vote(fc, B, 'y', 3)
    is(fc.head(), 'y')
  })

  test('a vote for an unseen block waits (one per validator) and counts when the block arrives', () => {
    const fc = tree([[A, 10n], [B, 5n]], [['a', 1, 'g'], ['b', 2, 'g']])
    vote(fc, B, 'b', 2)
    assert.equal(vote(fc, A, 'x', 6), 'pending')
    assert.equal(vote(fc, A, 'y', 9), 'pending', 'a later pending vote replaces the earlier one')
    assert.equal(fc.pendingCount, 1)
    is(fc.head(), 'b')
    fc.addBlock({ slot: 6n, hash: h('x'), parentHash: h('a') })
    assert.equal(fc.votedStake(h('x')), 0n, 'A moved on to y')
    fc.addBlock({ slot: 9n, hash: h('y'), parentHash: h('x') })
    assert.equal(fc.pendingCount, 0)
    assert.equal(fc.votedStake(h('a')), 10n)
    is(fc.head(), 'y')
  })

  test('refused votes change nothing: a hash of another slot, a root off the branch', () => {
    const fc = tree([[A, 10n], [B, 5n]], [['a', 1, 'g'], ['b', 2, 'a'], ['c', 3, 'g'], ['d', 4, 'b']])
    vote(fc, A, 'b', 2)
    throwsCode(() => vote(fc, A, 'd', 5), ForkChoiceError, 'SLOT_MISMATCH')
    throwsCode(() => vote(fc, A, 'd', 4, 3), ForkChoiceError, 'ROOT_NOT_ANCESTOR')
    throwsCode(() => vote(fc, A, 'd', 4, 9), ForkChoiceError, 'ROOT_NOT_ANCESTOR')
    assert.equal(fc.votedStake(h('b')), 10n, 'the earlier vote still counts')
    assert.equal(fc.votedStake(h('d')), 0n)
    assert.equal(vote(fc, A, 'd', 4, 1), 'applied')
    throwsCode(() => fc.applyVote({ voter: A, slot: 5n, hash: new Uint8Array(3), root: null }), ForkChoiceError, 'MALFORMED')
    // A pending vote whose root turns out to be off its block's branch never counts.
    vote(fc, B, 'e', 8, 3)
    fc.addBlock({ slot: 8n, hash: h('e'), parentHash: h('d') })
    assert.equal(fc.votedStake(h('e')), 0n)
  })
})

describe('confirmation levels', () => {
  test('confirmed needs MORE than 2/3 of the stake: exactly 2/3 is not enough', () => {
    const fc = tree([[A, 2n], [B, 1n]], [['a', 1, 'g'], ['b', 2, 'a']])
    vote(fc, A, 'b', 2) // 2 of 3: exactly 2/3
    is(fc.confirmed(), 'g')
    assert.equal(fc.commitment(h('b')), 'processed')
    vote(fc, B, 'a', 1)
    is(fc.confirmed(), 'a')
    assert.equal(fc.commitment(h('a')), 'confirmed')
    assert.equal(fc.commitment(h('b')), 'processed')
    const more = tree([[A, 201n], [B, 100n]], [['a', 1, 'g']])
    vote(more, A, 'a', 1) // 201 of 301 > 2/3
    is(more.confirmed(), 'a')
  })

  test('a confirmed block stays confirmed when votes move on', () => {
    const s: Array<[Uint8Array, bigint]> = [[A, 100n], [B, 100n], [C, 100n]]
    const fc = tree(s, [['1', 1, 'g'], ['2', 2, '1'], ['3', 3, '2'], ["4'", 4, '1']])
    vote(fc, A, '3', 3)
    vote(fc, B, '3', 3)
    vote(fc, C, '2', 2)
    is(fc.confirmed(), '2')
    vote(fc, C, "4'", 4)
    assert.equal(fc.votedStake(h('2')), 200n)
    is(fc.head(), '3')
    is(fc.confirmed(), '2')
  })

  test('finalized needs MORE than 2/3 of the stake to have rooted the block (their latest roots)', () => {
    const s: Array<[Uint8Array, bigint]> = [[A, 100n], [B, 100n], [C, 100n]]
    const rows: Array<[string, number, string]> = [['1', 1, 'g'], ['2', 2, '1'], ['3', 3, '2'], ['4', 4, '3'], ['5', 5, '4'], ['6', 6, '5']]
    const fc = tree(s, rows)
    vote(fc, A, '5', 5, 1)
    vote(fc, B, '5', 5, 1) // 2/3 exactly rooted 1
    is(fc.finalized(), 'g')
    is(fc.confirmed(), 'g', 'and voted by exactly 2/3: not even confirmed')
    vote(fc, C, '5', 5, 2)
    is(fc.confirmed(), '5')
    is(fc.finalized(), '1')
    vote(fc, A, '6', 6, 3)
    vote(fc, B, '6', 6, 3)
    is(fc.finalized(), '2', 'block 3 is rooted by 2/3 only; block 2 by all')
    assert.equal(fc.commitment(h('1')), 'finalized')
    assert.equal(fc.commitment(h('2')), 'finalized')
    assert.equal(fc.commitment(h('3')), 'confirmed')
    const f = fc.finality()
    is(f.head, '6')
    is(f.confirmed, '5', 'block 6 has the votes of exactly 2/3')
    is(f.finalized, '2')
  })

  test('finality never moves sideways: a later super-majority root on another branch is a reported conflict', () => {
    const s: Array<[Uint8Array, bigint]> = [[A, 100n], [B, 100n], [C, 100n]]
    // g - x1 - x2 - x3 ; g - y4 - y5 - y6
    const fc = tree(s, [['x1', 1, 'g'], ['x2', 2, 'x1'], ['x3', 3, 'x2'], ['y4', 4, 'g'], ['y5', 5, 'y4'], ['y6', 6, 'y5']])
    for (const v of [A, B, C]) vote(fc, v, 'x3', 3, 1)
    is(fc.finalized(), 'x1')
    for (const v of [A, B, C]) vote(fc, v, 'y6', 6, 4) // everyone broke their lockouts
    is(fc.finalized(), 'x1')
    assert.ok(fc.conflict && hex(fc.conflict.hash) === hex(h('y4')), 'the conflicting root is reported')
    is(fc.head(), 'x3') // the head stays on the finalized branch
  })
})

describe('fork tree bounds and pruning', () => {
  test('blocks: unknown parent, slot not after parent, below root, full tree, malformed, re-adds', () => {
    const fc = tree([[A, 1n]], [['a', 1, 'g']], { maxBlocks: 3 })
    throwsCode(() => fc.addBlock({ slot: 5n, hash: h('x'), parentHash: h('nope') }), ForkChoiceError, 'UNKNOWN_PARENT')
    throwsCode(() => fc.addBlock({ slot: 1n, hash: h('x'), parentHash: h('a') }), ForkChoiceError, 'SLOT_NOT_AFTER_PARENT')
    throwsCode(() => fc.addBlock({ slot: 0n, hash: h('x'), parentHash: G }), ForkChoiceError, 'BELOW_ROOT')
    throwsCode(() => fc.addBlock({ slot: 2n, hash: new Uint8Array(32).subarray(1), parentHash: h('a') }), ForkChoiceError, 'MALFORMED')
    throwsCode(() => fc.addBlock({ slot: 1n << 63n, hash: h('x'), parentHash: h('a') }), ForkChoiceError, 'MALFORMED')
    throwsCode(() => fc.addBlock({ slot: 7n, hash: h('a'), parentHash: G }), ForkChoiceError, 'MALFORMED')
    fc.addBlock({ slot: 1n, hash: h('a'), parentHash: G }) // known: no-op
    fc.addBlock({ slot: 2n, hash: h('b'), parentHash: h('a') })
    throwsCode(() => fc.addBlock({ slot: 3n, hash: h('c'), parentHash: h('b') }), ForkChoiceError, 'TOO_MANY_BLOCKS')
    assert.equal(fc.size, 3)
  })

  test('prune drops every block off the new root; votes there stop weighing; the root moves only along finality', () => {
    const s: Array<[Uint8Array, bigint]> = [[A, 100n], [B, 100n], [C, 100n]]
    const fc = tree(s, [['1', 1, 'g'], ['2', 2, '1'], ['3', 3, '2'], ["2'", 2, 'g'], ["3'", 3, "2'"], ['4', 4, '3']])
    vote(fc, C, "3'", 3)
    for (const v of [A, B]) vote(fc, v, '4', 4, 1)
    vote(fc, C, '4', 4, 1)
    is(fc.finalized(), '1')
    throwsCode(() => fc.prune(h("2'")), ForkChoiceError, 'NOT_A_DESCENDANT')
    throwsCode(() => fc.prune(h('unknown')), ForkChoiceError, 'UNKNOWN_BLOCK')
    assert.equal(fc.prune(h('2')), 4, "g and 1 below the new root, 2' and 3' beside it")
    assert.equal(fc.size, 3)
    is(fc.root, '2')
    assert.equal(fc.has(h("3'")), false)
    throwsCode(() => fc.addBlock({ slot: 2n, hash: h('z'), parentHash: h('2') }), ForkChoiceError, 'BELOW_ROOT')
    throwsCode(() => fc.addBlock({ slot: 3n, hash: h('z'), parentHash: h('4') }), ForkChoiceError, 'SLOT_NOT_AFTER_PARENT')
    throwsCode(() => fc.addBlock({ slot: 1n, hash: h('z'), parentHash: G }), ForkChoiceError, 'BELOW_ROOT')
    is(fc.finalized(), '1', 'finalized may sit below the root')
    is(fc.head(), '4')
    assert.equal(fc.votedStake(h('2')), 300n)
    assert.equal(vote(fc, A, '2', 2), 'stale')
    // Finality goes on from votes on the pruned tree.
    for (const v of [A, B, C]) {
      fc.addBlock({ slot: 5n + BigInt(v[0]), hash: h(`5-${v[0]}`), parentHash: h('4') })
      vote(fc, v, `5-${v[0]}`, 5 + v[0], 3)
    }
    is(fc.finalized(), '3')
  })

  test('setStakes re-weighs the latest votes under a new epoch\'s stakes', () => {
    const fc = tree([[A, 10n], [B, 20n]], [['a', 1, 'g'], ['b', 2, 'g']])
    vote(fc, A, 'a', 1)
    vote(fc, B, 'b', 2)
    is(fc.head(), 'b')
    fc.setStakes(stakeSet([[A, 30n], [C, 5n]]))
    assert.equal(fc.votedStake(h('b')), 0n, 'B has no stake any more')
    assert.equal(fc.votedStake(h('a')), 30n)
    is(fc.head(), 'a')
  })
})

describe('fork choice and the tower together', () => {
  test('a validator locked on its fork sees the heavier fork and may switch only after its lockouts expire', () => {
    const me = addr(0x01)
    const s: Array<[Uint8Array, bigint]> = [[me, 10n], [A, 30n], [B, 30n]]
    // Fork A: g - 1 - 2 - 3 ; fork B: 1 - 4 - 5 - 6 - 7
    const fc = tree(s, [['1', 1, 'g'], ['2', 2, '1'], ['3', 3, '2']])
    const tower = Tower.create(me, 0n)
    for (const [label, slot] of [['1', 1], ['2', 2], ['3', 3]] as const) {
      tower.recordVote(BigInt(slot), h(label), fc.ancestorSlots(h(label)), 0n)
      const v = tower.lastVoteMessage()!
      fc.applyVote({ voter: me, slot: v.slot, hash: v.hash, root: v.root })
    }
    let parent = '1'
    const results: Array<[number, boolean]> = []
    for (const slot of [4, 5, 6, 7]) {
      fc.addBlock({ slot: BigInt(slot), hash: h(String(slot)), parentHash: h(parent) })
      parent = String(slot)
      vote(fc, A, parent, slot)
      vote(fc, B, parent, slot)
      const head = fc.head()
      assert.equal(head.slot, BigInt(slot), 'fork B is heavier')
      results.push([slot, tower.canVote(head.slot, fc.ancestorSlots(head.hash)).ok])
    }
    // Votes 1, 2, 3 lock until 9, 6 and 5: fork B (without 2 and 3) opens at slot 7.
    assert.deepEqual(results, [[4, false], [5, false], [6, false], [7, true]])
  })
})
