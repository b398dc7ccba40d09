/**
 * Inbound admission (the gater's decision, conn-policy.ts): per-group caps, outbound-only
 * slots, eviction when full, and the shared-slot behaviour Catena had before them.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { admitInbound, EVICTION_PROTECT_BY_GROUP, keyedGroupOrder, legacyAdmission, selectEviction, type AdmissionLimits, type ConnView } from '../../../src/net/conn-policy.ts'

const key = keyedGroupOrder(new Uint8Array(32).fill(7))
let n = 0
const conn = (ip: string, direction: 'inbound' | 'outbound' = 'inbound', openedAt = n++): ConnView => ({ peerId: `p${n}`, ip, direction, openedAt })
const limits = (o: Partial<AdmissionLimits> = {}): AdmissionLimits => ({ maxPeers: 10, outboundPeers: 3, maxConnectionsPerIp: 16, maxInboundPerGroup: 2, evictInbound: false, ...o })

describe('inbound admission', () => {
  test('at most maxInboundPerGroup inbound connections per /16; private addresses and outbound ones do not count', () => {
    const open = [conn('8.8.1.1'), conn('8.8.2.2'), conn('9.9.1.1', 'outbound'), conn('10.0.0.1'), conn('10.0.0.2')]
    assert.deepEqual(admitInbound(open, '8.8.3.3', limits(), key), { accept: false, reason: 'too many inbound connections from ip4:8.8' })
    assert.equal(admitInbound(open, '9.9.2.2', limits(), key).accept, true, 'an outbound peer in the group does not count')
    assert.equal(admitInbound(open, '10.0.0.3', limits(), key).accept, true, 'private: no group limit')
    assert.equal(admitInbound(open, '8.8.3.3', limits({ maxInboundPerGroup: 0 }), key).accept, true, '0 turns it off')
  })

  test('outbound-only slots: inbound stops at maxPeers - outboundPeers, though the node has room', () => {
    const open = Array.from({ length: 7 }, (_, i) => conn(`${20 + i}.1.1.1`))
    const v = admitInbound(open, '40.1.1.1', limits(), key)
    assert.deepEqual(v, { accept: false, reason: 'no free inbound slot' })
    // Shared slots (before): the same node takes inbound peers up to maxPeers.
    assert.equal(admitInbound(open, '40.1.1.1', legacyAdmission(10, 16), key).accept, true)
    const full = [...open, conn('50.1.1.1', 'outbound'), conn('51.1.1.1', 'outbound'), conn('52.1.1.1')]
    assert.equal(admitInbound(full, '40.1.1.1', legacyAdmission(10, 16), key).accept, false)
  })

  test('the per-IP cap holds in every mode', () => {
    const open = [conn('8.8.1.1'), conn('8.8.1.1', 'outbound')]
    assert.equal(admitInbound(open, '8.8.1.1', limits({ maxConnectionsPerIp: 2, evictInbound: true }), key).accept, false)
  })

  test('with eviction, a newcomer to full inbound slots evicts an unprotected peer instead of being refused', () => {
    const open = Array.from({ length: 7 }, (_, i) => conn(`${20 + i}.1.1.1`))
    const v = admitInbound(open, '40.1.1.1', limits({ evictInbound: true }), key)
    assert.equal(v.accept, true)
    assert.ok(v.accept && v.evict !== undefined && open.includes(v.evict))
  })
})

describe('eviction (Bitcoin Core SelectNodeToEvict, netgroup and uptime protections)', () => {
  test('evicts the youngest peer of the group with the most connections', () => {
    // 8 peers in one /16 (a Sybil's hosting block) among 12 honest peers in their own groups,
    // some of them younger: the group, not the age, decides.
    const honest = Array.from({ length: 12 }, (_, i) => conn(`${30 + i}.1.1.1`, 'inbound', i < 6 ? i : 200 + i))
    const sybil = Array.from({ length: 8 }, (_, i) => conn(`66.6.${i}.1`, 'inbound', 100 + i))
    for (let trial = 0; trial < 8; trial++) {
      const evicted = selectEviction([...honest, ...sybil], keyedGroupOrder(new Uint8Array(32).fill(trial)))
      assert.ok(evicted !== undefined && evicted.ip!.startsWith('66.6.'), 'a Sybil peer leaves')
      assert.equal(evicted.openedAt, 107, 'the youngest of its group')
    }
  })

  test('the longest-connected half and a few keyed groups are protected; all protected means no eviction', () => {
    const peers = Array.from({ length: 20 }, (_, i) => conn(`${30 + i}.1.1.1`, 'inbound', i))
    for (let trial = 0; trial < 5; trial++) {
      const k = keyedGroupOrder(new Uint8Array(32).fill(trial))
      const e = selectEviction(peers, k)!
      // 20 - 4 by group leave 16; the older 8 of them are protected.
      assert.ok(e !== undefined)
      const olderThanVictim = peers.filter((p) => p.openedAt < e.openedAt).length
      assert.ok(olderThanVictim >= 8, 'never one of the longest-connected half')
    }
    assert.equal(selectEviction(peers.slice(0, EVICTION_PROTECT_BY_GROUP), key), undefined, 'all protected by group: nobody to evict')
    assert.equal(selectEviction(peers.slice(0, EVICTION_PROTECT_BY_GROUP + 2), key)?.openedAt !== undefined, true)
    assert.equal(admitInbound(peers.slice(0, 7), '99.1.1.1', limits({ evictInbound: true }), key).accept, true)
  })

  test('groups are ordered by a secret key: different keys protect different groups', () => {
    const peers = Array.from({ length: 40 }, (_, i) => conn(`${30 + i}.1.1.1`, 'inbound', 0))
    const picks = new Set(Array.from({ length: 8 }, (_, t) => selectEviction(peers, keyedGroupOrder(new Uint8Array(32).fill(t)))!.ip))
    assert.ok(picks.size > 1)
  })
})
