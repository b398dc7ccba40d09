/**
 * The bounds of tx gossip in isolation: the batch size on the wire, and the per-peer allowance
 * of useless txs (a token bucket on a clock the test moves by hand).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { MAX_TX_BATCH, WireError, decodeTxBatch, encodeTxBatch } from '../../../src/sync/wire.ts'
import { PeerBudget } from '../../../src/net/peer-budget.ts'

test(`a tx batch holds at most ${MAX_TX_BATCH} txs, on both sides`, () => {
  const raw = Uint8Array.of(0x02, 0xc0)
  const full = Array<Uint8Array>(MAX_TX_BATCH).fill(raw)
  assert.equal(decodeTxBatch(encodeTxBatch(full)).length, MAX_TX_BATCH)
  assert.throws(() => encodeTxBatch([...full, raw]), RangeError)
  const over = RLP.encode([Uint8Array.of(), [...full, raw]])
  assert.throws(() => decodeTxBatch(over), (e: unknown) => e instanceof WireError && /holds 1025 txs, limit 1024/.test(e.message))
})

test('the useless-tx allowance: per peer, spent as used, earned back over time up to the burst', () => {
  let now = 0
  const budget = new PeerBudget({ burst: 100, perSecond: 10, now: () => now })
  assert.equal(budget.available('a'), 100)
  budget.spend('a', 70)
  budget.spend('a', 50)
  assert.equal(budget.available('a'), 0, 'never below zero')
  assert.equal(budget.available('b'), 100, 'another peer has its own')
  now += 2_500
  assert.equal(budget.available('a'), 25)
  now += 60_000
  assert.equal(budget.available('a'), 100, 'capped at the burst')
})
