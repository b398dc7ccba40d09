/**
 * The quorum arithmetic behind bft-bounds, with the numbers of the BFT literature: n = 3f + 1
 * validators tolerate f faults (Lamport, Shostak and Pease 1982; PBFT, Castro and Liskov 1999),
 * a quorum is more than 2/3 (Tendermint, Buchman, Kwon and Milosevic 2018), and two quorums
 * intersect in 2q - n validators, more than n/3.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { attackCanFork, attackSplit, liveUnderCrash, quorum, quorumIntersection, tolerated } from '../../src/lab/experiments/bft-bounds/quorum.ts'

describe('bft-bounds quorum arithmetic', () => {
  test('quorums of 4, 7, 10 validators are 3, 5, 7; they intersect in 2, 3, 4; 1, 2, 3 faults are tolerated', () => {
    assert.deepEqual([4, 7, 10].map(quorum), [3, 5, 7])
    assert.deepEqual([4, 7, 10].map(quorumIntersection), [2, 3, 4])
    assert.deepEqual([4, 7, 10].map(tolerated), [1, 2, 3])
  })

  test('two quorums always share more than n/3 validators, so f < n/3 cannot fork', () => {
    for (let n = 1; n <= 100; n++) {
      assert.ok(3 * quorumIntersection(n) > n, `n=${n}`)
      for (let f = 0; 3 * f < n; f++) assert.equal(attackCanFork(n, f), false, `n=${n} f=${f}`)
    }
  })

  test('for n = 3k + 1 the split attack forks exactly from f = ceil(n/3) = k + 1 until one honest node is left', () => {
    for (const n of [4, 7, 10, 31]) {
      const forking = Array.from({ length: n + 1 }, (_, f) => f).filter((f) => attackCanFork(n, f))
      assert.deepEqual(forking, Array.from({ length: n - 1 - Math.ceil(n / 3) }, (_, i) => Math.ceil(n / 3) + i), `n=${n}`)
    }
    // n = 6: f = 2 >= n/3 but 4 honest split 2|2 reach 2 + 2 = 4 < q = 5: this attack needs 2q - n = 4.
    assert.equal(attackCanFork(6, 2), false)
    assert.equal(attackCanFork(6, 4), true)
  })

  test('liveness with f crashed: the rest is a quorum exactly while f <= (n - 1) / 3', () => {
    for (const n of [4, 7, 10]) {
      assert.deepEqual(
        Array.from({ length: n + 1 }, (_, f) => liveUnderCrash(n, f)),
        Array.from({ length: n + 1 }, (_, f) => f <= tolerated(n)),
      )
    }
  })

  test('the adversary splits the honest nodes in halves and sits in both groups', () => {
    assert.deepEqual(attackSplit([2, 3, 5], [0, 1, 4]), { sides: [[2, 3], [5]], groups: [[2, 3, 0, 1, 4], [5, 0, 1, 4]] })
  })
})
