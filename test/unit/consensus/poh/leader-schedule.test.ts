/**
 * Leader schedule: Solana's own test vector, the ChaCha20 stream and rand's sampling, 4-slot
 * groups, determinism from (stakes, seed), stake-proportional leadership over many epochs,
 * the epoch-ahead rule and hostile inputs.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  LeaderSchedule,
  LeaderSchedules,
  MIN_SLOTS_PER_EPOCH,
  epochOf,
  epochSeed,
  epochStartSlot,
  scheduleSource,
  solanaEpochSeed,
  stakeWeightedLeaders,
} from '../../../../src/consensus/poh/leader-schedule.ts'
import { MAX_VALIDATORS, StakeSet } from '../../../../src/consensus/poh/stake-set.ts'
import { ChaCha20Rng, UniformBelow, WeightedIndex } from '../../../../src/consensus/poh/weighted-sample.ts'
import { LeaderScheduleError, StakeSetError } from '../../../../src/consensus/poh/voting-errors.ts'
import { addr, hash, hex, stakeSet, throwsCode } from './voting-fixtures.ts'

const ETHER = 10n ** 18n

describe('weighted sampling primitives', () => {
  test('ChaCha20 stream: RFC 8439 A.1 test vector 1 (zero key), read as rand_core u64 words', () => {
    // Keystream 76b8e0ad a0f13d90 405d6ae5 5386bd28 ...; rand_chacha's test_chacha_true_values_a
    // lists the same block as u32 words 0xade0b876, 0x903df1a0, 0xe56a5d40, 0x28bd8653.
    const rng = new ChaCha20Rng(new Uint8Array(32))
    assert.equal(rng.nextU64(), 0x903df1a0ade0b876n)
    assert.equal(rng.nextU64(), 0x28bd8653e56a5d40n)
    // Block 1 starts at word 8: RFC 8439 A.1 test vector 2 (zero key, counter 1) begins 9f07e7be5551387a.
    const rest = Array.from({ length: 38 }, () => rng.nextU64())
    assert.equal(rest[6], 0x7a385155bee7079fn)
    // Block 4 (word 32) is past the first 256-byte chunk: it starts e5a688742b47c5ad (chacha20 at counter 4).
    assert.equal(rest[30], 0xadc5472b7488a6e5n)
  })

  test("rand's UniformInt: widening multiply, the zone rejects the biased low parts (hand-computed)", () => {
    // range = 2^63 + 1: zone = (2^64 - 1) - (2^64 - range) % range = 2^63.
    const u = new UniformBelow((1n << 63n) + 1n, 64)
    const script = [(1n << 63n) - 1n, 4n]
    const source = { nextU64: () => script.shift()!, nextU128: () => 0n }
    // v = 2^63 - 1: low word of v * range is 2^64 - 1 > zone, rejected;
    // v = 4: v * range = 2^65 + 4, low word 4 <= zone, high word 2.
    assert.equal(u.sample(source), 2n)
    assert.equal(script.length, 0, 'exactly one draw was rejected')
  })

  test('WeightedIndex returns how many running sums are at or below the draw', () => {
    const w = new WeightedIndex([2n, 0n, 1n])
    assert.equal(w.total, 3n)
    // Draws 0, 1 -> index 0; draw 2 -> index 2 (the zero weight is never chosen).
    const draws = [0n, 1n, 2n].map((d) => (d << 64n) / 3n + 1n) // v with floor(v * 3 / 2^64) = d
    const source = { nextU64: () => draws.shift()!, nextU128: () => 0n }
    assert.deepEqual([w.sample(source), w.sample(source), w.sample(source)], [0, 0, 2])
  })
})

describe('leader schedule', () => {
  test("Solana's test vector: test_repeated_leader_schedule_specific (stakes 2 and 1, epoch 0)", () => {
    // agave ledger/src/leader_schedule: alice (stake 2), bob (stake 1), len 8, seed of epoch 0.
    const alice = addr(0x11)
    const bob = addr(0x22)
    const stakes = stakeSet([[bob, 1n], [alice, 2n]])
    const names = (ix: Uint16Array) => Array.from(ix, (i) => (hex(stakes.entries[i].address) === hex(alice) ? 'A' : 'B')).join('')
    assert.equal(names(stakeWeightedLeaders(stakes, solanaEpochSeed(0n), 8, 1)), 'AAABAAAA')
    assert.equal(names(stakeWeightedLeaders(stakes, solanaEpochSeed(0n), 8, 2)), 'AAAAAABB')
  })

  test("Solana's order: stake descending, then address descending", () => {
    const s = stakeSet([[addr(1), 5n], [addr(3), 5n], [addr(2), 9n]])
    assert.deepEqual(s.entries.map((e) => e.address[0]), [2, 3, 1])
  })

  test('each leader holds 4 consecutive slots; leaderAt is defined for exactly the epoch', () => {
    const stakes = stakeSet([[addr(1), 10n], [addr(2), 10n], [addr(3), 10n]])
    const s = LeaderSchedule.compute({ epoch: 3n, stakes, seed: epochSeed(3n, hash('b')), slotsPerEpoch: 64 })
    assert.equal(s.firstSlot, 192n)
    assert.equal(s.lastSlot, 255n)
    let changes = 0
    for (let slot = 192n; slot <= 255n; slot++) {
      const leader = hex(s.leaderAt(slot))
      if ((slot - 192n) % 4n === 0n) {
        if (slot > 192n && leader !== hex(s.leaderAt(slot - 1n))) changes++
      } else {
        assert.equal(leader, hex(s.leaderAt(slot - 1n)), `slot ${slot} belongs to the group of ${s.groupStart(slot)}`)
      }
      assert.equal(s.groupStart(slot), slot - ((slot - 192n) % 4n))
    }
    assert.ok(changes > 0, 'leaders rotate between groups')
    throwsCode(() => s.leaderAt(191n), LeaderScheduleError, 'WRONG_EPOCH')
    throwsCode(() => s.leaderAt(256n), LeaderScheduleError, 'WRONG_EPOCH')
    throwsCode(() => s.leaderAt(-1n), LeaderScheduleError, 'WRONG_EPOCH')
  })

  test('deterministic from (stakes, seed): same inputs, same schedule; another seed or epoch, another', () => {
    const entries: Array<[Uint8Array, bigint]> = Array.from({ length: 10 }, (_, i) => [addr(i + 1), BigInt(i + 1) * ETHER])
    const make = (seed: Uint8Array, epoch = 5n) =>
      LeaderSchedule.compute({ epoch, stakes: stakeSet([...entries].reverse()), seed, slotsPerEpoch: 256 })
    const dump = (s: LeaderSchedule) => Array.from({ length: 256 }, (_, i) => hex(s.leaderAt(s.firstSlot + BigInt(i)))).join()
    const seed = epochSeed(5n, hash('boundary'))
    assert.equal(dump(make(seed)), dump(LeaderSchedule.compute({ epoch: 5n, stakes: stakeSet(entries), seed, slotsPerEpoch: 256 })), 'input order does not matter')
    assert.notEqual(dump(make(seed)), dump(make(epochSeed(5n, hash('other boundary')))))
    assert.notEqual(hex(epochSeed(5n, hash('b'))), hex(epochSeed(6n, hash('b'))), 'the epoch is mixed into the seed')
  })

  test('stake-proportional over many epochs (chi-square, fixed seeds, wei stakes on the 128-bit path)', () => {
    const shares = [50n, 30n, 15n, 5n]
    const stakes = stakeSet(shares.map((s, i) => [addr(i + 1), s * 1000n * ETHER])) // total > 2^64
    assert.ok(stakes.total > (1n << 64n))
    const counts = new Map<string, number>()
    const epochs = 100
    const slotsPerEpoch = 1024
    for (let e = 0; e < epochs; e++) {
      const s = LeaderSchedule.compute({ epoch: BigInt(e), stakes, seed: epochSeed(BigInt(e), hash(`boundary ${e}`)), slotsPerEpoch })
      for (const [k, n] of s.slotCounts()) counts.set(k, (counts.get(k) ?? 0) + n / 4)
    }
    const groups = (epochs * slotsPerEpoch) / 4
    let chi2 = 0
    shares.forEach((share, i) => {
      const expected = (groups * Number(share)) / 100
      const observed = counts.get(hex(addr(i + 1))) ?? 0
      chi2 += (observed - expected) ** 2 / expected
    })
    // 3 degrees of freedom: P(chi2 > 16.27) = 0.001 for a fair sampler.
    assert.ok(chi2 < 16.27, `chi-square ${chi2.toFixed(2)} over ${groups} groups: ${JSON.stringify([...counts.values()])}`)
  })

  test('u64 stakes: the same proportionality on the 64-bit path', () => {
    const stakes = stakeSet([[addr(1), 3n], [addr(2), 1n]])
    let first = 0
    const epochs = 50
    for (let e = 0; e < epochs; e++) {
      const s = LeaderSchedule.compute({ epoch: BigInt(e), stakes, seed: solanaEpochSeed(BigInt(e)), slotsPerEpoch: 1024 })
      first += (s.slotCounts().get(hex(addr(1))) ?? 0) / 4
    }
    const groups = epochs * 256
    const z = (first - groups * 0.75) / Math.sqrt(groups * 0.75 * 0.25)
    assert.ok(Math.abs(z) < 3.3, `z = ${z.toFixed(2)} (${first} of ${groups} groups for the 75% validator)`)
  })

  test('the schedule of epoch E comes from the chain before epoch E-1 starts: known a whole epoch ahead', () => {
    assert.deepEqual(scheduleSource(0n, 64), { kind: 'genesis' })
    assert.deepEqual(scheduleSource(1n, 64), { kind: 'genesis' })
    assert.deepEqual(scheduleSource(2n, 64), { kind: 'boundary', beforeSlot: 64n })
    assert.deepEqual(scheduleSource(7n, 64), { kind: 'boundary', beforeSlot: 384n })
    // The boundary of epoch E lies before every slot of epoch E-1, so a node in epoch E-1 has it.
    for (let e = 2n; e < 10n; e++) {
      const src = scheduleSource(e, 64)
      assert.ok(src.kind === 'boundary' && src.beforeSlot <= epochStartSlot(e - 1n, 64))
    }
    assert.equal(epochOf(383n, 64), 5n)
    assert.equal(epochOf(384n, 64), 6n)
  })

  test('LeaderSchedules: the current and next epoch, bounded, far-future slots refused', () => {
    const stakes = stakeSet([[addr(1), 1n], [addr(2), 1n]])
    const cache = new LeaderSchedules(64, 3)
    for (let e = 0n; e < 5n; e++) cache.add(LeaderSchedule.compute({ epoch: e, stakes, seed: epochSeed(e, hash('g')), slotsPerEpoch: 64 }))
    assert.equal(cache.get(0n), undefined, 'the oldest epochs are dropped')
    assert.equal(cache.get(1n), undefined)
    assert.ok(cache.get(4n))
    cache.leaderAt(4n * 64n + 63n)
    throwsCode(() => cache.leaderAt(5n * 64n), LeaderScheduleError, 'UNKNOWN_EPOCH')
    throwsCode(() => cache.leaderAt(1n << 62n), LeaderScheduleError, 'UNKNOWN_EPOCH')
    throwsCode(() => cache.leaderAt(1n << 63n), LeaderScheduleError, 'BAD_PARAMS')
    const upcoming = cache.upcomingLeaders(4n * 64n + 56n, 4)
    assert.ok(upcoming.length >= 1 && upcoming.length <= 2, 'two groups left in the last known epoch, then unknown')
    assert.equal(hex(upcoming[0]), hex(cache.leaderAt(4n * 64n + 56n)))
  })

  test('nextLeaderSlot finds the next group a validator leads', () => {
    const stakes = stakeSet([[addr(1), 1n], [addr(2), 1n], [addr(3), 1n]])
    const s = LeaderSchedule.compute({ epoch: 0n, stakes, seed: epochSeed(0n, hash('g')), slotsPerEpoch: 128 })
    for (const a of [addr(1), addr(2), addr(3)]) {
      const next = s.nextLeaderSlot(a, 0n)
      if (next === undefined) continue
      assert.equal(hex(s.leaderAt(next)), hex(a))
      for (let slot = 0n; slot < next; slot++) assert.notEqual(hex(s.leaderAt(slot)), hex(a))
      assert.equal(s.nextLeaderSlot(a, next + 1n) === undefined || s.nextLeaderSlot(a, next + 1n)! > next, true)
    }
    assert.equal(s.nextLeaderSlot(addr(9), 0n), undefined)
  })
})

describe('leader schedule inputs are bounded and checked', () => {
  test('stake lists: too many validators, duplicates, bad fields, nothing staked', () => {
    const many = Array.from({ length: MAX_VALIDATORS + 1 }, (_, i) => ({ address: addr(1), stake: BigInt(i) }))
    throwsCode(() => StakeSet.from(many), StakeSetError, 'TOO_MANY_VALIDATORS')
    throwsCode(() => stakeSet([[addr(1), 1n], [addr(1), 2n]]), StakeSetError, 'DUPLICATE_ADDRESS')
    throwsCode(() => StakeSet.from([{ address: new Uint8Array(19), stake: 1n }]), StakeSetError, 'MALFORMED')
    throwsCode(() => StakeSet.from([{ address: addr(1), stake: -1n }]), StakeSetError, 'MALFORMED')
    throwsCode(() => StakeSet.from([{ address: addr(1), stake: 1 as unknown as bigint }]), StakeSetError, 'MALFORMED')
    throwsCode(() => StakeSet.from('junk' as never), StakeSetError, 'MALFORMED')
    throwsCode(() => stakeSet([[addr(1), 0n]]), StakeSetError, 'EMPTY')
    throwsCode(() => stakeSet([[addr(1), 1n << 127n], [addr(2), 1n << 127n]]), StakeSetError, 'STAKE_TOO_LARGE')
  })

  test('zero stakes never lead; maxValidators keeps the top by stake, ties to the lower address', () => {
    const s = StakeSet.from(
      [
        { address: addr(5), stake: 0n },
        { address: addr(4), stake: 7n },
        { address: addr(3), stake: 7n },
        { address: addr(2), stake: 9n },
      ],
      { maxValidators: 2 },
    )
    assert.deepEqual(s.entries.map((e) => e.address[0]), [2, 3])
    assert.equal(s.stakeOf(addr(4)), 0n)
    assert.equal(s.total, 16n)
    const sched = LeaderSchedule.compute({ epoch: 0n, stakes: s, seed: epochSeed(0n, hash('g')), slotsPerEpoch: 256 })
    assert.deepEqual([...sched.slotCounts().keys()].sort(), [hex(addr(2)), hex(addr(3))].sort())
  })

  test('epoch parameters and seeds', () => {
    const stakes = stakeSet([[addr(1), 1n]])
    const seed = epochSeed(0n, hash('g'))
    for (const slotsPerEpoch of [MIN_SLOTS_PER_EPOCH - 4, 66, 0, 1.5, 2 ** 30]) {
      throwsCode(() => LeaderSchedule.compute({ epoch: 0n, stakes, seed, slotsPerEpoch }), LeaderScheduleError, 'BAD_PARAMS')
    }
    throwsCode(() => LeaderSchedule.compute({ epoch: 0n, stakes, seed: new Uint8Array(31), slotsPerEpoch: 64 }), LeaderScheduleError, 'BAD_PARAMS')
    throwsCode(() => LeaderSchedule.compute({ epoch: 1n << 62n, stakes, seed, slotsPerEpoch: 64 }), LeaderScheduleError, 'BAD_PARAMS')
    throwsCode(() => LeaderSchedule.compute({ epoch: -1n, stakes, seed, slotsPerEpoch: 64 }), LeaderScheduleError, 'BAD_PARAMS')
    throwsCode(() => epochSeed(0n, new Uint8Array(20)), LeaderScheduleError, 'BAD_PARAMS')
    const one = LeaderSchedule.compute({ epoch: 0n, stakes, seed, slotsPerEpoch: 64 })
    assert.equal(hex(one.leaderAt(63n)), hex(addr(1)), 'a single validator leads every slot')
  })
})
