/**
 * Whom the node dials (dial-policy.ts): outbound-only slots keep the dialer going however many
 * inbound peers it has, and at most maxOutboundPerGroup dialed peers share an address group.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { chooseDials, countGroups, dialsWanted } from '../../../src/net/dial-policy.ts'
import { storedPeerGroup } from '../../../src/net/peer-store.ts'

const cand = (peerId: string, ip: string) => ({ peerId, addrs: [`/ip4/${ip}/tcp/30333`] })

describe('dial policy', () => {
  test('before: inbound peers count toward targetPeers, so 25 inbound stop every dial; with outbound-only slots they do not', () => {
    assert.equal(dialsWanted({ targetPeers: 25, outboundPeers: 0, connected: 25, outbound: 0 }), 0)
    assert.equal(dialsWanted({ targetPeers: 25, outboundPeers: 0, connected: 10, outbound: 0 }), 15)
    assert.equal(dialsWanted({ targetPeers: 25, outboundPeers: 10, connected: 40, outbound: 3 }), 7)
    assert.equal(dialsWanted({ targetPeers: 25, outboundPeers: 10, connected: 12, outbound: 10 }), 13)
  })

  test('at most maxOutboundPerGroup dialed peers per group, counting connections already open', () => {
    const list = [cand('a', '8.8.1.1'), cand('b', '8.8.2.2'), cand('c', '9.9.1.1'), cand('d', '9.9.2.2'), cand('e', '10.0.0.1'), cand('f', '10.0.0.2'), cand('g', '7.7.7.7')]
    const ctx = { skip: () => false, groupOf: storedPeerGroup, outboundGroups: countGroups(['ip4:7.7']), maxOutboundPerGroup: 1 }
    assert.deepEqual(chooseDials(list, 10, ctx).map((c) => c.peerId), ['a', 'c', 'e', 'f'])
    assert.deepEqual(chooseDials(list, 2, ctx).map((c) => c.peerId), ['a', 'c'])
    assert.deepEqual(chooseDials(list, 10, { ...ctx, maxOutboundPerGroup: 0 }).map((c) => c.peerId), ['a', 'b', 'c', 'd', 'e', 'f', 'g'])
  })

  test('skipped candidates (banned, connected, backing off) take no budget', () => {
    const list = [cand('a', '8.8.1.1'), cand('b', '9.9.1.1'), cand('c', '7.7.1.1')]
    const picks = chooseDials(list, 2, { skip: (p) => p === 'a', groupOf: storedPeerGroup, outboundGroups: new Map(), maxOutboundPerGroup: 1 })
    assert.deepEqual(picks.map((c) => c.peerId), ['b', 'c'])
    assert.deepEqual(chooseDials(list, 0, { skip: () => false, groupOf: storedPeerGroup, outboundGroups: new Map(), maxOutboundPerGroup: 1 }), [])
  })
})
