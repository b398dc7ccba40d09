/**
 * Tower BFT lockouts: doubling and expiry step by step against hand-computed stacks, Solana's
 * documented example and its vote-program tests, refusals on non-descendants while locked,
 * switching after expiry, rooting at 32 confirmations, and the persisted form a validator
 * must write before signing (round trip, damage, another validator's file, crash/restart).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { sha256 } from '../../../../src/crypto/hash.ts'
import { Tower, pushVote, type AncestorCheck } from '../../../../src/consensus/poh/tower.ts'
import { MAX_LOCKOUT_HISTORY, checkTower, checkVoteShape } from '../../../../src/consensus/poh/votes.ts'
import { encodePohVote, signPohVote } from '../../../../src/consensus/poh/vote-messages.ts'
import { TowerError } from '../../../../src/consensus/poh/voting-errors.ts'
import { CHAIN_ID, addressOf, hash, hex, keys, throwsCode } from './voting-fixtures.ts'

const [key, otherKey] = keys(2, 'tower')
const me = addressOf(key)
const H = (slot: bigint | number | string) => hash(`block ${slot}`)

/** Ancestors on one linear chain: every slot below. */
const linear: (slot: bigint) => AncestorCheck = (slot) => (s: bigint) => s < slot

function stack(t: Tower): Array<[number, number]> {
  return t.lockouts.map((l) => [Number(l.slot), l.confirmationCount])
}

function voteLinear(t: Tower, ...slots: number[]): void {
  for (const s of slots) t.recordVote(BigInt(s), H(s), linear(BigInt(s)), 1_700_000_000n + BigInt(s))
}

describe('tower lockouts', () => {
  test('each vote doubles the lockouts below it (hand-computed stacks)', () => {
    const t = Tower.create(me)
    const expected: Array<Array<[number, number]>> = [
      [[1, 1]],
      [[1, 2], [2, 1]],
      [[1, 3], [2, 2], [3, 1]],
      [[1, 4], [2, 3], [3, 2], [4, 1]],
    ]
    for (let s = 1; s <= 4; s++) {
      voteLinear(t, s)
      assert.deepEqual(stack(t), expected[s - 1], `after the vote for slot ${s}`)
    }
    // Lockouts 16, 8, 4, 2 slots; locked until 17, 10, 7, 6.
    assert.deepEqual(t.lockouts.map((l) => Number(l.slot + (1n << BigInt(l.confirmationCount)))), [17, 10, 7, 6])
  })

  test("Solana's Tower BFT page example, and where the implementation it follows differs", () => {
    const t = Tower.create(me)
    voteLinear(t, 1, 2, 3, 4)
    // Vote 5 "at time 9": votes 4 (until 6) and 3 (until 7) expired and are popped; 2 (until 10) stays.
    voteLinear(t, 9)
    assert.deepEqual(stack(t), [[1, 4], [2, 3], [9, 1]], 'page: 9 lockout 2, 2 lockout 8, 1 lockout 16')
    // Vote 6 "at time 10": nothing expired; the vote at 9 doubles to 4.
    voteLinear(t, 10)
    assert.deepEqual(stack(t), [[1, 4], [2, 3], [9, 2], [10, 1]], 'page: 10/2, 9/4, 2/8, 1/16')
    // Vote 7 "at time 11": the page pops vote 2 (expired at 10) and everything above it. Solana's
    // vote program, followed here, only pops expired votes from the top: the vote at 10 is locked
    // until 12, so nothing is popped and every vote gains a confirmation. (Popping a vote still
    // locked out because one below it expired would release a lockout early.)
    voteLinear(t, 11)
    assert.deepEqual(stack(t), [[1, 5], [2, 4], [9, 3], [10, 2], [11, 1]])
  })

  test("Solana's vote program test: double lockouts after expiration", () => {
    const t = Tower.create(me)
    voteLinear(t, 0, 1, 2)
    const powersOfTwo = () => t.lockouts.forEach((l, i, all) => assert.equal(1 << l.confirmationCount, 2 ** (all.length - i)))
    powersOfTwo()
    voteLinear(t, 2 + 2 + 1) // expires the vote for 2: the stack height is unchanged, nothing doubles
    assert.deepEqual(stack(t), [[0, 3], [1, 2], [5, 1]])
    powersOfTwo()
    voteLinear(t, 2 + 2 + 2)
    assert.deepEqual(stack(t), [[0, 4], [1, 3], [5, 2], [6, 1]])
    powersOfTwo()
    voteLinear(t, 2 + 2 + 3)
    assert.deepEqual(stack(t), [[0, 5], [1, 4], [5, 3], [6, 2], [7, 1]])
    powersOfTwo()
  })

  test("Solana's vote program test: expire multiple votes", () => {
    const t = Tower.create(me)
    voteLinear(t, 0, 1, 2)
    assert.equal(t.lockouts[0].confirmationCount, 3)
    const expireSlot = 1 + 4 + 1 // the vote for 1 is locked until 5
    voteLinear(t, expireSlot)
    assert.deepEqual(stack(t), [[0, 3], [6, 1]])
    voteLinear(t, expireSlot + 1)
    assert.deepEqual(stack(t), [[0, 3], [6, 2], [7, 1]], 'the older vote keeps its count; the later ones grow')
  })

  test('rooting: 32 votes give the bottom one 32 confirmations; the 33rd roots it', () => {
    const t = Tower.create(me)
    for (let s = 1; s <= MAX_LOCKOUT_HISTORY; s++) voteLinear(t, s)
    assert.equal(t.root, null)
    assert.equal(t.lockouts.length, 32)
    assert.equal(t.lockouts[0].confirmationCount, 32, 'lockout 2^32 slots')
    const { newRoot } = t.recordVote(33n, H(33), linear(33n), 0n)
    assert.equal(newRoot, 1n)
    assert.equal(t.root, 1n)
    assert.equal(t.lockouts.length, 32)
    assert.deepEqual(stack(t)[0], [2, 32])
  })

  test("Solana's vote program test: vote lockout (33 votes two slots apart, then past the whole stack)", () => {
    const t = Tower.create(me)
    for (let i = 0; i <= MAX_LOCKOUT_HISTORY; i++) voteLinear(t, 2 * i)
    assert.equal(t.lockouts.length, MAX_LOCKOUT_HISTORY)
    assert.equal(t.root, 0n)
    const top = t.lockouts[0].slot
    const last = t.lockouts[t.lockouts.length - 1]
    voteLinear(t, Number(last.slot + (1n << BigInt(last.confirmationCount))))
    assert.equal(t.root, top, 'one more vote confirming the whole stack roots the next vote')
    const front = t.lockouts[0]
    const far = front.slot + (1n << BigInt(front.confirmationCount))
    t.recordVote(far, H(far), linear(far), 0n)
    assert.equal(t.lockouts.length, 2, 'everything but the first vote expired')
  })
})

describe('tower fork switching', () => {
  // Fork A: 0 <- 1 <- 2 <- 3 (and on). Fork B: blocks whose parent is 1 (ancestors 0, 1).
  const forkB = new Set([0n, 1n])

  test('a vote on a non-descendant of a locked vote is refused; allowed once the lockouts expired', () => {
    const t = Tower.create(me)
    voteLinear(t, 1, 2, 3) // locked: 1 until 9, 2 until 6, 3 until 5
    for (const slot of [4n, 5n, 6n]) {
      const v = t.canVote(slot, forkB)
      assert.equal(v.ok, false, `slot ${slot} on fork B`)
      assert.equal(!v.ok && v.code, 'LOCKED_OUT')
    }
    const before = hex(t.encode())
    throwsCode(() => t.recordVote(6n, H('b6'), forkB, 0n), TowerError, 'LOCKED_OUT')
    assert.equal(hex(t.encode()), before, 'a refused vote changes nothing')
    assert.deepEqual(t.canVote(7n, forkB), { ok: true }, 'at 7 the votes for 2 and 3 expired and 1 is an ancestor')
    assert.deepEqual(t.canVote(4n, linear(4n)), { ok: true }, 'the own fork is always open')
    t.recordVote(7n, H('b7'), forkB, 0n)
    assert.deepEqual(stack(t), [[1, 3], [7, 1]])
  })

  test('switching costs more the deeper the vote: five votes lock the first for 2^5 slots', () => {
    const t = Tower.create(me)
    voteLinear(t, 1, 2, 3, 4, 5)
    const other = new Set([0n]) // a fork from genesis without slot 1
    assert.equal(t.canVote(33n, other).ok, false, 'the vote for 1 is locked until 1 + 32 = 33')
    assert.deepEqual(t.canVote(34n, other), { ok: true })
  })

  test('slots at or below the last vote are refused; a rooted tower only votes above and on its root', () => {
    const t = Tower.create(me)
    voteLinear(t, 5)
    assert.equal(t.canVote(5n, linear(5n)).ok, false)
    throwsCode(() => t.recordVote(4n, H(4), linear(4n), 0n), TowerError, 'NOT_AFTER_LAST_VOTE')
    throwsCode(() => t.recordVote(5n, H('other 5'), linear(5n), 0n), TowerError, 'NOT_AFTER_LAST_VOTE')
    const rooted = Tower.create(me, 10n)
    const refused = rooted.canVote(20n, new Set([5n]))
    assert.equal(!refused.ok && refused.code, 'LOCKED_OUT', 'not a descendant of the root')
    assert.deepEqual(rooted.canVote(20n, new Set([10n])), { ok: true })
    assert.equal(rooted.canVote(10n, new Set()).ok, false, 'the root itself')
    assert.equal(rooted.canVote(-1n, new Set()).ok, false)
  })

  test('thresholdSlot: the vote 8 below the top once the slot is pushed', () => {
    const t = Tower.create(me)
    voteLinear(t, 1, 2, 3, 4, 5, 6, 7, 8)
    assert.equal(t.thresholdSlot(9n), 1n)
    voteLinear(t, 9)
    assert.equal(t.thresholdSlot(10n), 2n)
    assert.equal(Tower.create(me).thresholdSlot(1n), undefined)
  })

  test('random vote sequences always give towers that the vote rules accept', () => {
    let x = 0x2545f491
    const rand = (n: number) => {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      return (x >>> 0) % n
    }
    const t = Tower.create(me, 0n)
    let slot = 0n
    let roots = 0
    for (let i = 0; i < 600; i++) {
      slot += BigInt(1 + (rand(4) === 0 ? rand(40) : rand(3)))
      const { newRoot } = t.recordVote(slot, H(slot), linear(slot), 0n)
      if (newRoot !== null) roots++
      checkTower(t.lockouts, t.root, (why) => assert.fail(`tower after slot ${slot}: ${why}`))
      const vote = t.lastVoteMessage()!
      checkVoteShape(vote)
      assert.equal(hex(Tower.decode(t.encode(), me).encode()), hex(t.encode()))
    }
    assert.ok(roots > 0, 'some votes rooted')
  })

  test('pushVote is pure', () => {
    const votes = [{ slot: 1n, confirmationCount: 2 }, { slot: 2n, confirmationCount: 1 }]
    const out = pushVote(votes, null, 3n)
    assert.deepEqual(votes, [{ slot: 1n, confirmationCount: 2 }, { slot: 2n, confirmationCount: 1 }])
    assert.deepEqual(out.votes.map((l) => [l.slot, l.confirmationCount]), [[1n, 3], [2n, 2], [3n, 1]])
  })
})

describe('tower persistence', () => {
  function built(): Tower {
    const t = Tower.create(me, 0n)
    voteLinear(t, 1, 2, 3, 7, 8)
    return t
  }

  test('encode/decode round-trips the stack, the root and the last vote', () => {
    const t = built()
    const back = Tower.decode(t.encode(), me)
    assert.deepEqual(back.toState(), t.toState())
    assert.equal(hex(back.encode()), hex(t.encode()))
    const empty = Tower.create(me)
    assert.deepEqual(Tower.decode(empty.encode(), me).toState(), empty.toState())
  })

  test('any flipped byte, truncation or junk is refused (MALFORMED); another validator\'s tower WRONG_VALIDATOR', () => {
    const bytes = built().encode()
    for (let i = 0; i < bytes.length; i++) {
      const bad = Uint8Array.from(bytes)
      bad[i] ^= 0x01
      throwsCode(() => Tower.decode(bad, me), TowerError, 'MALFORMED')
    }
    throwsCode(() => Tower.decode(bytes.subarray(0, bytes.length - 1), me), TowerError, 'MALFORMED')
    throwsCode(() => Tower.decode(new Uint8Array(0), me), TowerError, 'MALFORMED')
    throwsCode(() => Tower.decode(new Uint8Array(4096), me), TowerError, 'MALFORMED')
    throwsCode(() => Tower.decode(bytes, addressOf(otherKey)), TowerError, 'WRONG_VALIDATOR')
  })

  test('a file with a valid checksum but an impossible tower is refused', () => {
    const seal = (payload: Uint8Array) => {
      const out = new Uint8Array(payload.length + 32)
      out.set(payload)
      out.set(sha256(payload), payload.length)
      return out
    }
    const tag = new TextEncoder().encode('catena/poh/tower/v1')
    const u = (n: number) => (n === 0 ? new Uint8Array() : Uint8Array.of(n))
    const growing = RLP.encode([tag, me, [], [[u(1), u(1)], [u(2), u(2)]], []])
    throwsCode(() => Tower.decode(seal(growing), me), TowerError, 'MALFORMED')
    const lastNotTop = RLP.encode([tag, me, [], [[u(1), u(2)], [u(2), u(1)]], [u(1), H(1), u(0)]])
    throwsCode(() => Tower.decode(seal(lastNotTop), me), TowerError, 'MALFORMED')
    const otherTag = RLP.encode([new TextEncoder().encode('catena/poh/tower/v0'), me, [], [], []])
    throwsCode(() => Tower.decode(seal(otherTag), me), TowerError, 'MALFORMED')
    const nonCanonical = RLP.encode([tag, me, [], [[Uint8Array.of(0, 1), u(1)]], []])
    throwsCode(() => Tower.decode(seal(nonCanonical), me), TowerError, 'MALFORMED')
  })

  test('crash and restart: the restored tower keeps every lockout and re-signs the same last vote', () => {
    const t = Tower.create(me, 0n)
    voteLinear(t, 1, 2, 3)
    const saved = t.encode() // written durably before signing
    const sent = encodePohVote(signPohVote(t.lastVoteMessage()!, key, CHAIN_ID))
    // ... the process dies; on restart:
    const restored = Tower.decode(saved, me)
    assert.equal(restored.canVote(4n, new Set([0n, 1n])).ok, false, 'still locked out of fork B')
    assert.equal(restored.canVote(3n, linear(3n)).ok, false, 'no second vote for slot 3')
    assert.equal(hex(encodePohVote(signPohVote(restored.lastVoteMessage()!, key, CHAIN_ID))), hex(sent), 'the same vote, byte for byte')
  })

  test('Tower.fromVote rebuilds the tower a vote carries', () => {
    const t = built()
    const vote = signPohVote(t.lastVoteMessage()!, key, CHAIN_ID)
    assert.deepEqual(Tower.fromVote(vote).toState(), t.toState())
  })

  test('fromState refuses impossible states', () => {
    throwsCode(() => Tower.fromState({ validator: new Uint8Array(3), votes: [], root: null, lastVote: null }), TowerError, 'MALFORMED')
    throwsCode(() => Tower.fromState({ validator: me, votes: [{ slot: 5n, confirmationCount: 1 }], root: 5n, lastVote: null }), TowerError, 'MALFORMED')
    throwsCode(() => Tower.fromState({ validator: me, votes: [], root: null, lastVote: { slot: 1n, hash: H(1), timestamp: 0n } }), TowerError, 'MALFORMED')
    throwsCode(() => Tower.create(me).recordVote(1n, new Uint8Array(31), new Set(), 0n), TowerError, 'MALFORMED')
    throwsCode(() => Tower.create(me).recordVote(1n, H(1), new Set(), -1n), TowerError, 'MALFORMED')
  })
})
