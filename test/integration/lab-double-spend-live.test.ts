/**
 * `catena lab double-spend --live` against real processes: two bitcoin-like miners started
 * apart, the attacker with twice the miner threads. The merchant's node accepts a payment
 * at 6 confirmations, then the attacker connects its heavier hidden branch: the merchant's
 * node reorganizes through its real fork choice, the payment disappears, the same-nonce tx
 * paying the attacker back is in the chain instead, and the explorer raises the deep-reorg
 * alert. The whole run must take under two minutes.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { liveResult, runLiveDoubleSpend } from '../../src/lab/live/double-spend-live.ts'

describe('lab: live double spend', () => {
  test('a larger-hashrate attacker reverses a payment after 6 confirmations, and the explorer alerts', async () => {
    const lines: string[] = []
    const r = await runLiveDoubleSpend({ progress: (l) => lines.push(l) })
    const why = lines.join('\n')
    assert.equal(r.paymentReversed, true, `the payment is still in the merchant's chain:\n${why}`)
    assert.equal(r.conflictFinalOnMerchant, true, why)
    assert.ok(r.acceptedAtHead - r.paymentBlock + 1 >= 6, 'the merchant waited 6 confirmations')
    assert.ok(r.reorgDepth !== null && r.reorgDepth >= 6, `reorg depth ${r.reorgDepth}`)
    assert.equal(r.alert?.kind, 'deep-reorg')
    assert.ok(r.seconds < 120, `took ${r.seconds} s`)
    const result = liveResult(r, 1)
    assert.deepEqual(result.checks.map((c) => [c.name, c.pass]), [
      ['payment reversed on the merchant node', true],
      ['explorer deep-reorg alert', true],
      ['under two minutes', true],
    ])
    assert.ok(lines.some((l) => l.includes('ships the goods')), why)
  })
})
