/**
 * Validator sets: exact quorum thresholds, and proposer selection by CometBFT's weighted
 * round robin, checked against CometBFT's own test vectors (types/validator_set_test.go:
 * TestProposerSelection1 and TestProposerSelection2).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  MAX_TOTAL_POWER,
  ValidatorSet,
  ValidatorSetError,
  decodeValidatorSet,
  encodeValidatorSet,
} from '../../../../src/consensus/bft/index.ts'
import { hex, throwsCode } from './fixtures.ts'

/** An address from a short name, zero-padded to 20 bytes (keeps CometBFT's byte order). */
function named(name: string): Uint8Array {
  const a = new Uint8Array(20)
  a.set(new TextEncoder().encode(name))
  return a
}
const nameOf = (a: Uint8Array) => new TextDecoder().decode(a).replace(/\0+$/, '')
function indexed(i: number): Uint8Array {
  const a = new Uint8Array(20)
  a[19] = i
  return a
}

describe('bft validators: proposer selection (CometBFT vectors)', () => {
  test('TestProposerSelection1: foo 1000, bar 300, baz 330 over 99 heights', () => {
    let set = ValidatorSet.create([
      { address: named('foo'), power: 1000n },
      { address: named('bar'), power: 300n },
      { address: named('baz'), power: 330n },
    ])
    const got: string[] = []
    for (let i = 0; i < 99; i++) {
      got.push(nameOf(set.proposer().address))
      set = set.nextHeight()
    }
    const expected =
      'foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar' +
      ' foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar' +
      ' foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz' +
      ' foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo' +
      ' foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo'
    assert.equal(got.join(' '), expected)
  })

  test('TestProposerSelection2: equal power goes in address order', () => {
    let set = ValidatorSet.create([0, 1, 2].map((i) => ({ address: indexed(i), power: 100n })))
    for (let i = 0; i < 15; i++) {
      assert.equal(set.proposer().address[19], i % 3)
      set = set.nextHeight()
    }
  })

  test('TestProposerSelection2: 400 proposes first, not twice; 401 proposes twice in a row', () => {
    let set = ValidatorSet.create([{ address: indexed(0), power: 100n }, { address: indexed(1), power: 100n }, { address: indexed(2), power: 400n }])
    assert.equal(set.proposer().address[19], 2)
    set = set.nextHeight()
    assert.equal(set.proposer().address[19], 0)
    set = ValidatorSet.create([{ address: indexed(0), power: 100n }, { address: indexed(1), power: 100n }, { address: indexed(2), power: 401n }])
    assert.equal(set.proposer().address[19], 2)
    set = set.nextHeight()
    assert.equal(set.proposer().address[19], 2)
    set = set.nextHeight()
    assert.equal(set.proposer().address[19], 0)
  })

  test('TestProposerSelection2: powers 4, 5, 3 propose 40, 50, 30 of 120 heights', () => {
    let set = ValidatorSet.create([{ address: indexed(0), power: 4n }, { address: indexed(1), power: 5n }, { address: indexed(2), power: 3n }])
    const count = [0, 0, 0]
    for (let i = 0; i < 120; i++) {
      count[set.proposer().address[19]]++
      set = set.nextHeight()
    }
    assert.deepEqual(count, [40, 50, 30])
  })
})

describe('bft validators: rotation over rounds', () => {
  const powers = [1n, 2n, 3n, 4n, 10n]
  const set = ValidatorSet.create(powers.map((power, i) => ({ address: indexed(i), power })))

  test('over many rounds each validator proposes in exact proportion to its power', () => {
    const count = new Array(powers.length).fill(0)
    const rounds = 20 * 500
    for (let r = 0; r < rounds; r++) count[set.proposer(r).address[19]]++
    assert.deepEqual(count, powers.map((p) => Number(p) * 500))
  })

  test('every window of T consecutive rounds is within one of proportional', () => {
    const seq = Array.from({ length: 600 }, (_, r) => set.proposer(r).address[19])
    for (let start = 0; start + 20 <= seq.length; start++) {
      const c = new Array(powers.length).fill(0)
      for (let k = start; k < start + 20; k++) c[seq[k]]++
      c.forEach((n, i) => assert.ok(Math.abs(n - Number(powers[i])) <= 1, `window at ${start}: ${c}`))
    }
  })

  test('rounds advance the rotation: with equal power, rounds 0..n-1 have n different proposers', () => {
    const equal = ValidatorSet.create([0, 1, 2, 3, 4, 5, 6].map((i) => ({ address: indexed(i), power: 1n })))
    assert.equal(new Set([0, 1, 2, 3, 4, 5, 6].map((r) => equal.proposer(r).address[19])).size, 7)
  })

  test('deterministic: sets built from the same validators in any order agree on every round', () => {
    const a = ValidatorSet.create(powers.map((power, i) => ({ address: indexed(i), power })))
    const b = ValidatorSet.create(powers.map((power, i) => ({ address: indexed(i), power })).reverse())
    for (let r = 0; r < 200; r++) assert.equal(hex(a.proposer(r).address), hex(b.proposer(r).address))
    // asking out of order gives the same answers
    assert.equal(hex(a.proposer(150).address), hex(b.proposer(150).address))
  })

  test('a set does not change when asked about rounds (immutable)', () => {
    const before = set.toEntries().map((e) => e.priority)
    set.proposer(57)
    assert.deepEqual(set.toEntries().map((e) => e.priority), before)
    assert.equal(hex(set.proposer(0).address), hex(set.proposer().address))
  })

  test('rounds out of range are refused', () => {
    throwsCode(() => set.proposer(-1), ValidatorSetError, 'BAD_ROUND')
    throwsCode(() => set.proposer(1.5), ValidatorSetError, 'BAD_ROUND')
    throwsCode(() => set.proposer(2 ** 31), ValidatorSetError, 'BAD_ROUND')
  })
})

describe('bft validators: thresholds (exact integer math)', () => {
  const withPowers = (ps: bigint[]) => ValidatorSet.create(ps.map((power, i) => ({ address: indexed(i), power })))

  test('3 of 4 is more than 2/3; 2 of 3 is not (exactly 2/3)', () => {
    const four = withPowers([1n, 1n, 1n, 1n])
    assert.equal(four.hasTwoThirds(3n), true)
    assert.equal(four.hasTwoThirds(2n), false)
    assert.equal(four.quorum, 3n)
    const three = withPowers([1n, 1n, 1n])
    assert.equal(three.hasTwoThirds(2n), false)
    assert.equal(three.hasTwoThirds(3n), true)
    assert.equal(three.quorum, 3n)
  })

  test('more than 1/3 (f+1): 1 of 3 is exactly 1/3 and not enough; 2 of 4 is', () => {
    const three = withPowers([1n, 1n, 1n])
    assert.equal(three.hasOneThird(1n), false)
    assert.equal(three.hasOneThird(2n), true)
    const four = withPowers([1n, 1n, 1n, 1n])
    assert.equal(four.hasOneThird(1n), false)
    assert.equal(four.hasOneThird(2n), true)
  })

  test('weighted: total 100 needs 67; quorum is always the least power that passes', () => {
    const set = withPowers([50n, 30n, 20n])
    assert.equal(set.quorum, 67n)
    assert.equal(set.hasTwoThirds(66n), false)
    assert.equal(set.hasTwoThirds(67n), true)
    for (let total = 1n; total <= 60n; total++) {
      const s = withPowers([total])
      assert.equal(s.hasTwoThirds(s.quorum), true)
      assert.equal(s.hasTwoThirds(s.quorum - 1n), false)
    }
  })

  test('no floating point: a 3e17 total still splits at the exact boundary', () => {
    const big = 3n * 10n ** 17n
    const set = withPowers([big - 1n, 1n])
    const twoThirds = (2n * big) / 3n
    assert.equal(set.hasTwoThirds(twoThirds), false)
    assert.equal(set.hasTwoThirds(twoThirds + 1n), true)
  })
})

describe('bft validators: construction, updates, persistence', () => {
  test('bad sets are refused with typed errors', () => {
    throwsCode(() => ValidatorSet.create([]), ValidatorSetError, 'EMPTY')
    throwsCode(() => ValidatorSet.create([{ address: new Uint8Array(19), power: 1n }]), ValidatorSetError, 'BAD_ADDRESS')
    throwsCode(() => ValidatorSet.create([{ address: indexed(1), power: 0n }]), ValidatorSetError, 'BAD_POWER')
    throwsCode(() => ValidatorSet.create([{ address: indexed(1), power: -1n }]), ValidatorSetError, 'BAD_POWER')
    throwsCode(() => ValidatorSet.create([{ address: indexed(1), power: 1 as unknown as bigint }]), ValidatorSetError, 'BAD_POWER')
    throwsCode(() => ValidatorSet.create([{ address: indexed(1), power: 1n }, { address: indexed(1), power: 2n }]), ValidatorSetError, 'DUPLICATE_ADDRESS')
    throwsCode(() => ValidatorSet.create([{ address: indexed(1), power: MAX_TOTAL_POWER }, { address: indexed(2), power: 1n }]), ValidatorSetError, 'BAD_POWER')
  })

  test('lookups and totals', () => {
    const set = ValidatorSet.create([{ address: indexed(2), power: 5n }, { address: indexed(1), power: 7n }])
    assert.equal(set.totalPower, 12n)
    assert.equal(set.size, 2)
    assert.equal(set.powerOf(indexed(1)), 7n)
    assert.equal(set.powerOf(indexed(3)), 0n)
    assert.equal(set.has(indexed(3)), false)
    assert.deepEqual(set.validators.map((v) => v.address[19]), [1, 2]) // sorted by address
  })

  test('a newcomer starts at -1.125 x total priority: it does not propose straight away', () => {
    let set = ValidatorSet.create([0, 1, 2].map((i) => ({ address: indexed(i), power: 10n })))
    set = set.nextHeight([{ address: indexed(9), power: 10n }])
    assert.equal(set.size, 4)
    assert.ok(set.priorityOf(indexed(9))! < set.priorityOf(indexed(0))!)
    const firstRounds = [0, 1, 2].map((r) => set.proposer(r).address[19])
    assert.ok(!firstRounds.includes(9))
  })

  test('updates change power, 0 removes; removing a stranger or everyone is refused', () => {
    const set = ValidatorSet.create([0, 1, 2].map((i) => ({ address: indexed(i), power: 10n })))
    const next = set.nextHeight([{ address: indexed(1), power: 30n }, { address: indexed(2), power: 0n }])
    assert.deepEqual(next.validators.map((v) => [v.address[19], v.power]), [[0, 10n], [1, 30n]])
    throwsCode(() => set.nextHeight([{ address: indexed(7), power: 0n }]), ValidatorSetError, 'UNKNOWN_VALIDATOR')
    throwsCode(() => set.nextHeight([0, 1, 2].map((i) => ({ address: indexed(i), power: 0n }))), ValidatorSetError, 'EMPTY')
    throwsCode(() => set.nextHeight([{ address: indexed(0), power: 1n }, { address: indexed(0), power: 2n }]), ValidatorSetError, 'DUPLICATE_ADDRESS')
  })

  test('encode/decode keeps priorities: the restored set rotates identically', () => {
    let set = ValidatorSet.create([1n, 2n, 3n].map((power, i) => ({ address: indexed(i), power })))
    for (let i = 0; i < 5; i++) set = set.nextHeight()
    const back = decodeValidatorSet(encodeValidatorSet(set))
    for (let r = 0; r < 30; r++) assert.equal(hex(back.proposer(r).address), hex(set.proposer(r).address))
    assert.equal(hex(back.nextHeight().proposer().address), hex(set.nextHeight().proposer().address))
    throwsCode(() => decodeValidatorSet(Uint8Array.of(0xc1, 0x01)), ValidatorSetError, 'MALFORMED')
  })

  test('hash commits to membership and power, not to priorities', () => {
    const set = ValidatorSet.create([1n, 2n].map((power, i) => ({ address: indexed(i), power })))
    assert.equal(hex(set.hash()), hex(set.nextHeight().hash()))
    assert.notEqual(hex(set.hash()), hex(set.nextHeight([{ address: indexed(0), power: 5n }]).hash()))
  })
})
