/** The explorer's DOM-free helpers: amounts, ages, search input shapes, block statistics, PoH slots. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { age, compact, formatBytes, formatEth, formatGwei, formatUnits, gasShare, shortHash } from '../../explorer/src/format.ts'
import { classify } from '../../explorer/src/query.ts'
import { averageBlockTime, nakamotoCoefficient, niceCeil, txPerSecond } from '../../explorer/src/stats.ts'
import { commitmentOf, entryCounts, formatHashrate, skipRate, skippedRange, slotMs, stakeShares, upcomingLeaders } from '../../explorer/src/poh.ts'

describe('format', () => {
  test('amounts are exact decimal strings of wei', () => {
    assert.equal(formatEth('1500000000000000000'), '1.5 ETH')
    assert.equal(formatEth('10000000000000000000000'), '10,000 ETH')
    assert.equal(formatEth('1'), '0.000000000000000001 ETH')
    assert.equal(formatEth(0n), '0 ETH')
    // 2^256 - 1 wei: far past what a float holds, still exact.
    assert.equal(formatUnits((1n << 256n) - 1n, 18).replace(/,/g, ''), '115792089237316195423570985008687907853269984665640564039457.584007913129639935')
    assert.equal(formatGwei('875000000'), '0.875 gwei')
    assert.equal(formatGwei(null), '—')
  })

  test('rounded amounts for tables say when they are below the shown precision', () => {
    assert.equal(formatEth('1234567890000000000', 4), '1.2345 ETH')
    assert.equal(formatEth('1', 6), '<0.000001 ETH')
    assert.equal(formatEth('2000000000000000001', 6), '2 ETH')
  })

  test('hashes, ages, sizes, gas and axis labels', () => {
    assert.equal(shortHash('0x1234567890abcdef1234567890abcdef12345678'), '0x1234…5678')
    assert.equal(shortHash(null), '—')
    const now = 1_700_000_000_000
    assert.equal(age(now / 1000 - 5, now), '5 s ago')
    assert.equal(age(now / 1000 - 180, now), '3 min ago')
    assert.equal(age(now / 1000 - 7200, now), '2 h ago')
    assert.equal(age(now / 1000 + 30, now), 'just now')
    assert.equal(formatBytes(435), '435 B')
    assert.equal(formatBytes(2048), '2.0 KiB')
    assert.equal(gasShare('21000', '30000000'), '0.07%')
    assert.equal(gasShare('5', '0'), '0%')
    assert.equal(compact(1_097_594.9), '1.1M')
    assert.equal(compact(0.875), '0.875')
    assert.equal(compact(0), '0')
  })
})

describe('search input shapes', () => {
  test('heights, addresses and 32-byte hashes, with or without 0x', () => {
    assert.deepEqual(classify(' 42 '), { kind: 'height', value: '42' })
    assert.deepEqual(classify('1,024'), { kind: 'height', value: '1024' })
    assert.deepEqual(classify('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'), { kind: 'address', value: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' })
    assert.deepEqual(classify('AB'.repeat(32)), { kind: 'hash', value: `0x${'ab'.repeat(32)}` })
    assert.deepEqual(classify(`0X${'cd'.repeat(32)}`), { kind: 'hash', value: `0x${'cd'.repeat(32)}` })
  })

  test('anything else is refused with a reason', () => {
    for (const input of ['', 'hello', '0x1234', `0x${'ab'.repeat(33)}`, '0xzz', '1'.repeat(16)]) {
      const q = classify(input)
      assert.equal(q.kind, 'invalid', input)
      assert.ok(q.kind === 'invalid' && q.reason.length > 0)
    }
  })
})

describe('block statistics', () => {
  test('Nakamoto coefficient: fewest producers with more than half', () => {
    assert.equal(nakamotoCoefficient([]), 0)
    assert.equal(nakamotoCoefficient([1]), 1)
    assert.equal(nakamotoCoefficient([0.25, 0.25, 0.25, 0.25]), 3)
    assert.equal(nakamotoCoefficient([0.5, 0.3, 0.2]), 2, 'exactly half is not a majority')
    assert.equal(nakamotoCoefficient([0.2, 0.6, 0.2]), 1)
  })

  test('tx/s and block time leave the genesis gap out', () => {
    const blocks = [
      { height: 0, timestamp: 1_000, txCount: 0 },
      { height: 1, timestamp: 1_000_000, txCount: 4 },
      { height: 2, timestamp: 1_000_002, txCount: 6 },
      { height: 3, timestamp: 1_000_004, txCount: 2 },
    ]
    assert.equal(txPerSecond(blocks), 2, '8 txs after block 1 over 4 s')
    assert.equal(averageBlockTime(blocks), 2)
    assert.equal(txPerSecond(blocks.slice(0, 2)), null)
    assert.equal(averageBlockTime([{ timestamp: 5 }]), null)
  })

  test('axis maxima are round numbers', () => {
    assert.equal(niceCeil(0), 1)
    assert.equal(niceCeil(1), 1)
    assert.equal(niceCeil(0.875), 1)
    assert.equal(niceCeil(1.3), 2)
    assert.equal(niceCeil(2.2), 2.5)
    assert.equal(niceCeil(37), 50)
    assert.equal(niceCeil(60_780), 100_000)
  })
})

describe('PoH helpers', () => {
  test('a block\'s commitment from the processed / confirmed / finalized heights', () => {
    const heights = { processed: 40, confirmed: 37, finalized: 5 }
    assert.equal(commitmentOf(5, heights), 'finalized')
    assert.equal(commitmentOf(0, heights), 'finalized')
    assert.equal(commitmentOf(6, heights), 'confirmed')
    assert.equal(commitmentOf(37, heights), 'confirmed')
    assert.equal(commitmentOf(38, heights), 'processed')
    assert.equal(commitmentOf(41, heights), 'processed', 'a block newer than the status read is processed')
  })

  test('slot length from the clock and the hash rate; paced clusters never faster than their pace', () => {
    const clock = { hashesPerTick: 2500, ticksPerSlot: 64, hashesPerSlot: 160_000, slotsPerEpoch: 128, minSlotMs: null }
    assert.equal(slotMs(clock, 400_000), 400)
    assert.equal(slotMs(clock, 0), null, 'no clock, no pace: unknown')
    assert.equal(slotMs({ ...clock, minSlotMs: 400 }, 4_000_000), 400, 'hashing faster than the pace')
    assert.equal(slotMs({ ...clock, minSlotMs: 400 }, 0), 400)
    assert.equal(formatHashrate(3_512_345), '3.51M hashes/s')
  })

  test('skipped slots: ranges and the share of slots without a block', () => {
    assert.equal(skippedRange({ slot: 5, parentSlot: 4, skippedSlots: 0, votes: 0 }), null)
    assert.equal(skippedRange({ slot: 5, parentSlot: 3, skippedSlots: 1, votes: 0 }), 'slot 4')
    assert.equal(skippedRange({ slot: 9, parentSlot: 5, skippedSlots: 3, votes: 0 }), 'slots 6–8')
    const poh = (slot: number, parentSlot: number) => ({ poh: { slot, parentSlot, skippedSlots: slot - parentSlot - 1, votes: 0 } })
    assert.equal(skipRate([poh(10, 9), poh(9, 5), poh(5, 4), {}]), 3 / 6, 'genesis (no poh) left out')
    assert.equal(skipRate([{}]), null)
  })

  test('coming leader turns from the current slot, and stake shares', () => {
    const schedule = {
      epoch: 1, firstSlot: 32, lastSlot: 63, slotsPerLeader: 4,
      leaders: Array.from({ length: 8 }, (_, i) => ({ firstSlot: 32 + 4 * i, leader: i % 2 ? '0xb' : '0xa' })),
      stakes: [{ address: '0xa', stake: '3000000000000000000' }, { address: '0xb', stake: '1000000000000000000' }],
    }
    const turns = upcomingLeaders(schedule, 41, 3)
    assert.deepEqual(turns, [
      { firstSlot: 40, lastSlot: 43, leader: '0xa', now: true },
      { firstSlot: 44, lastSlot: 47, leader: '0xb', now: false },
      { firstSlot: 48, lastSlot: 51, leader: '0xa', now: false },
    ])
    assert.deepEqual(upcomingLeaders(schedule, 64, 3), [], 'past the epoch')
    assert.deepEqual(upcomingLeaders(schedule, 20, 1)[0], { firstSlot: 32, lastSlot: 35, leader: '0xa', now: false }, 'before the epoch')
    assert.deepEqual(stakeShares(schedule).map((s) => s.share), [0.75, 0.25])
  })

  test('entry counts of a slot', () => {
    const h = `0x${'00'.repeat(32)}`
    const c = entryCounts({ entries: [{ numHashes: 10, hash: h, txHashes: [] }, { numHashes: 1, hash: h, txHashes: [h, h] }, { numHashes: 9, hash: h, txHashes: [] }] })
    assert.deepEqual(c, { ticks: 2, txEntries: 1, txs: 2, hashes: 20 })
  })
})
