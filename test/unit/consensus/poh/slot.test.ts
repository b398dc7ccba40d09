import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkTicks, PohError, slotHashBudget, type PohEntry, type PohErrorCode } from '../../../../src/consensus/poh/index.ts'
import { hashesPerTickFor } from '../../../../src/consensus/poh/calibrate.ts'
import { buildChain, bytes32, slotSteps } from './helpers.ts'

const clock = { hashesPerTick: 10, ticksPerSlot: 4 }

function rejects(fn: () => unknown, code: PohErrorCode, index?: number): void {
  assert.throws(fn, (e: unknown) => e instanceof PohError && e.code === code && (index === undefined || e.index === index))
}

/** Entries with only the counts that checkTicks reads (hashes are not its business). */
function layout(steps: [number, number?][]): PohEntry[] {
  return steps.map(([numHashes, txs = 0]) => ({ numHashes, hash: bytes32(1), txHashes: Array.from({ length: txs }, () => bytes32(2)) }))
}

describe('PoH slots', () => {
  it('the hash budget is ticksPerSlot * hashesPerTick per slot, plus slack', () => {
    assert.equal(slotHashBudget(clock), 40)
    assert.equal(slotHashBudget(clock, 3), 120)
    assert.equal(slotHashBudget(clock, 1, 10), 50)
    assert.equal(slotHashBudget({ hashesPerTick: 23_000, ticksPerSlot: 64 }), 1_472_000)
    rejects(() => slotHashBudget(clock, 0), 'BAD_ARGUMENT')
    rejects(() => slotHashBudget({ hashesPerTick: 1, ticksPerSlot: 4 }), 'BAD_ARGUMENT')
    rejects(() => slotHashBudget({ hashesPerTick: 10, ticksPerSlot: 0 }), 'BAD_ARGUMENT')
  })

  it('accepts a slot of ticks with tx entries between them', () => {
    checkTicks(buildChain(bytes32(1), slotSteps(4, 10)), clock)
    checkTicks(layout([[10], [1, 1], [1, 1], [8], [9, 2], [1], [10]]), clock)
    checkTicks(buildChain(bytes32(1), slotSteps(8, 10)), clock, 8) // two slots: a leader after a skipped one
  })

  it('refuses a tick after the wrong number of hashes, at that entry', () => {
    rejects(() => checkTicks(layout([[10], [9], [10], [10]]), clock), 'BAD_TICKS', 1)
    rejects(() => checkTicks(layout([[10], [3, 1], [8], [10], [10]]), clock), 'BAD_TICKS', 2)
    rejects(() => checkTicks(layout([[10], [11], [10], [10]]), clock), 'BAD_TICKS', 1)
  })

  it("refuses an entry with txs that takes the tick's last hash", () => {
    rejects(() => checkTicks(layout([[10], [10, 1], [10], [10], [10]]), clock), 'BAD_TICKS', 1)
  })

  it('refuses too many ticks, too few, and a slot that does not end on a tick', () => {
    rejects(() => checkTicks(layout([[10], [10], [10], [10], [10]]), clock), 'BAD_TICKS', 4)
    rejects(() => checkTicks(layout([[10], [10], [10]]), clock), 'BAD_TICKS')
    rejects(() => checkTicks(layout([[10], [10], [10], [10], [2, 1]]), clock), 'BAD_TICKS')
    rejects(() => checkTicks([], clock), 'BAD_TICKS')
  })

  it('refuses malformed entries with BAD_ENTRY', () => {
    rejects(() => checkTicks(layout([[10], [0], [10], [10]]), clock), 'BAD_ENTRY', 1)
  })

  it('calibration: hashesPerTick makes ticksPerSlot ticks last slotMs at the measured rate', () => {
    assert.equal(hashesPerTickFor(3_200_000, 64, 400), 20_000)
    assert.equal(hashesPerTickFor(3_200_000, 32, 400), 40_000)
    assert.equal(hashesPerTickFor(10, 64, 400), 2) // never below 2: a tick must leave room for a record
    assert.throws(() => hashesPerTickFor(0, 64, 400), PohError)
    assert.throws(() => hashesPerTickFor(1e6, 0, 400), PohError)
    assert.throws(() => hashesPerTickFor(1e6, 64, 0), PohError)
  })
})
