/** Peer scores and bans with a fake clock: thresholds, decay, expiry, longest ban wins. */
import '../../../src/net/polyfill.ts'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PeerScores } from '../../../src/net/peers.ts'

function scores(config = { banThreshold: 100, banMs: 60_000, decayPerMinute: 10 }) {
  const clock = { now: 1_000_000 }
  return { s: new PeerScores(config, () => clock.now), clock }
}

describe('peer scores', () => {
  test('penalties add up and ban at the threshold, once', () => {
    const { s, clock } = scores()
    assert.deepEqual(s.penalize('p', 50, 'oversized'), { points: 50 })
    assert.deepEqual(s.penalize('p', 25, 'malformed'), { points: 75 })
    const out = s.penalize('p', 25, 'malformed again')
    assert.equal(out.points, 100)
    assert.deepEqual(out.ban, { peerId: 'p', reason: 'score 100: malformed again', until: clock.now + 60_000 })
    assert.ok(s.isBanned('p'))
    // Further penalties while banned do not re-ban (no second event).
    assert.equal(s.penalize('p', 50, 'x').ban, undefined)
    assert.equal(s.points('other'), 0)
    assert.equal(s.isBanned('other'), false)
  })

  test('points decay linearly and vanish', () => {
    const { s, clock } = scores()
    s.penalize('p', 30, 'x')
    clock.now += 60_000
    assert.equal(s.points('p'), 20)
    clock.now += 90_000
    assert.equal(s.points('p'), 5)
    clock.now += 60_000
    assert.equal(s.points('p'), 0)
    // Decay makes room: 95 then 10 minutes later +20 is 25, not a ban.
    s.penalize('q', 95, 'x')
    clock.now += 10 * 60_000
    assert.equal(s.penalize('q', 20, 'x').ban, undefined)
    assert.equal(s.points('q'), 20)
  })

  test('bans expire with their points; a longer ban is kept; unban forgives', () => {
    const { s, clock } = scores({ banThreshold: 100, banMs: 60_000, decayPerMinute: 0 })
    s.penalize('p', 100, 'x')
    s.ban('p', 1_000, 'shorter') // keeps the longer one
    assert.equal(s.banEntry('p')?.reason, 'score 100: x')
    s.ban('p', 120_000, 'longer')
    assert.equal(s.banEntry('p')?.reason, 'longer')
    assert.deepEqual(
      s.bans().map((b) => b.peerId),
      ['p'],
    )
    clock.now += 120_000
    assert.equal(s.isBanned('p'), false)
    assert.equal(s.points('p'), 0)
    assert.deepEqual(s.bans(), [])

    s.ban('q', 60_000, 'x')
    s.penalize('q', 10, 'y')
    assert.ok(s.unban('q'))
    assert.equal(s.isBanned('q'), false)
    assert.equal(s.points('q'), 0)
    assert.equal(s.unban('q'), false)
    // Negative points are ignored rather than used as credit.
    assert.equal(s.penalize('r', -50, 'x').points, 0)
  })
})
