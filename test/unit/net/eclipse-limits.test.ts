/**
 * The eclipse countermeasures' options (limits.ts): on by default, each can be turned off,
 * and a bad value is a BAD_CONFIG error naming the option.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_LIMITS, LEGACY_PEER_LIMITS, resolveLimits } from '../../../src/net/limits.ts'
import { startNode } from './helpers.ts'

const code = (c: string, msg?: RegExp) => (err: unknown) => (err as { code?: string }).code === c && (msg === undefined || msg.test((err as Error).message))

describe('eclipse countermeasure limits', () => {
  test('on by default', () => {
    const d = resolveLimits()
    assert.deepEqual(
      [d.outboundPeers, d.maxInboundPerGroup, d.maxOutboundPerGroup, d.maxStoredPerGroup, d.preferDialedPeers, d.evictInbound, d.anchorPeers],
      [10, 4, 1, 4, true, true, 2],
    )
    assert.equal(DEFAULT_LIMITS.outboundPeers, 10)
  })

  test('all off reproduces the peer management before them', () => {
    const l = resolveLimits(LEGACY_PEER_LIMITS)
    assert.deepEqual([l.outboundPeers, l.maxInboundPerGroup, l.maxOutboundPerGroup, l.maxStoredPerGroup, l.preferDialedPeers, l.evictInbound, l.anchorPeers], [0, 0, 0, 0, false, false, 0])
  })

  test('the default outbound slots shrink with a small maxPeers; an explicit value must leave inbound room', () => {
    assert.equal(resolveLimits({ maxPeers: 6 }).outboundPeers, 3)
    assert.equal(resolveLimits({ maxPeers: 1 }).outboundPeers, 0)
    assert.equal(resolveLimits({ maxPeers: 6, outboundPeers: 5 }).outboundPeers, 5)
    assert.throws(() => resolveLimits({ maxPeers: 6, outboundPeers: 6 }), code('BAD_CONFIG', /limits.outboundPeers must be below limits.maxPeers \(6\)/))
  })

  test('bad values are refused, naming the option', () => {
    assert.throws(() => resolveLimits({ evictInbound: 1 as never }), code('BAD_CONFIG', /limits.evictInbound must be true or false/))
    assert.throws(() => resolveLimits({ preferDialedPeers: 'yes' as never }), code('BAD_CONFIG', /limits.preferDialedPeers/))
    assert.throws(() => resolveLimits({ maxInboundPerGroup: -1 }), code('BAD_CONFIG', /limits.maxInboundPerGroup must be a number >= 0/))
    assert.throws(() => resolveLimits({ anchorPeers: 1.5 }), code('BAD_CONFIG', /limits.anchorPeers must be a whole number/))
    assert.throws(() => resolveLimits({ outboundPeers: Number.NaN }), code('BAD_CONFIG', /limits.outboundPeers/))
  })
  test('a permissioned network (allowlist) keeps no address-group limits: its members often share a /16', async (t) => {
    const open = await startNode(t, {}, false)
    assert.equal(open.net.limits.maxInboundPerGroup, 4)
    const closed = await startNode(t, { allowlist: [open.net.peerId] }, false)
    assert.deepEqual([closed.net.limits.maxInboundPerGroup, closed.net.limits.maxOutboundPerGroup, closed.net.limits.maxStoredPerGroup], [0, 0, 0])
    assert.equal(closed.net.limits.outboundPeers, 10, 'the other countermeasures stay')
  })
})
