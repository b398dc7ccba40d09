/**
 * The peer store's table (peer-table.ts): group buckets and dialed peers protected from a
 * stream of inbound identities, next to the replacement rule Catena had before.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { storedPeerGroup } from '../../../src/net/peer-store.ts'
import { PeerTable, type TableEntry } from '../../../src/net/peer-table.ts'

const entry = (peerId: string, ip: string, lastSeen: number, dialed = false): TableEntry => ({ peerId, addrs: [`/ip4/${ip}/tcp/30333`], lastSeen, ...(dialed ? { dialed: true as const } : {}) })
const table = (o: { max?: number; maxPerGroup?: number; protectDialed?: boolean; connected?: string[] } = {}) =>
  new PeerTable({ max: o.max ?? 4, maxPerGroup: o.maxPerGroup ?? 0, protectDialed: o.protectDialed ?? false, groupOf: storedPeerGroup, isConnected: (p) => (o.connected ?? []).includes(p) })
const ids = (t: PeerTable) => t.list().map((p) => p.peerId)

describe('peer table', () => {
  test('before: a newcomer replaces the least recently seen idle entry, and dials go most recent first', () => {
    const t = table({ connected: ['a'] })
    ;['a', 'b', 'c', 'd'].forEach((id, i) => t.insert(entry(id, `${20 + i}.1.1.1`, i)))
    assert.equal(t.insert(entry('e', '30.1.1.1', 10)), true)
    assert.deepEqual(ids(t), ['e', 'd', 'c', 'a'], 'b left: a is older but connected')
    assert.deepEqual(t.dialOrder().map((p) => p.peerId), ['e', 'd', 'c', 'a'])
  })

  test('at most maxPerGroup entries per /16: a newcomer in a full group replaces within its group', () => {
    const t = table({ max: 10, maxPerGroup: 2 })
    t.insert(entry('h1', '20.1.1.1', 0))
    t.insert(entry('s1', '66.6.0.1', 1))
    t.insert(entry('s2', '66.6.0.2', 2))
    t.insert(entry('s3', '66.6.0.3', 3))
    assert.deepEqual(ids(t), ['s3', 's2', 'h1'])
    // Private addresses have no group: not limited.
    for (let i = 0; i < 4; i++) t.insert(entry(`l${i}`, `10.0.0.${i}`, 10 + i))
    assert.equal(t.size, 7)
  })

  test('dialed peers are never replaced by inbound-only ones and are dialed first', () => {
    const t = table({ protectDialed: true })
    t.insert(entry('d1', '20.1.1.1', 0, true))
    t.insert(entry('d2', '21.1.1.1', 1, true))
    for (let i = 0; i < 50; i++) t.insert(entry(`s${i}`, `${100 + i}.1.1.1`, 10 + i))
    assert.deepEqual(t.dialOrder().map((p) => p.peerId), ['d2', 'd1', 's49', 's48'])
    // An entry once dialed stays dialed when it is next seen inbound.
    t.insert(entry('d1', '20.1.1.1', 100))
    assert.equal(t.get('d1')?.dialed, true)
    // A dialed newcomer replaces an inbound-only entry before a dialed one.
    assert.equal(t.insert(entry('d3', '22.1.1.1', 101, true)), true)
    assert.deepEqual(t.dialOrder().map((p) => p.peerId).slice(0, 3), ['d3', 'd1', 'd2'])
  })

  test('with every entry dialed, an inbound-only newcomer is refused rather than pushing one out', () => {
    const t = table({ max: 2, protectDialed: true })
    t.insert(entry('d1', '20.1.1.1', 0, true))
    t.insert(entry('d2', '21.1.1.1', 1, true))
    assert.equal(t.insert(entry('s', '66.6.0.1', 5)), false)
    assert.deepEqual(ids(t), ['d2', 'd1'])
    assert.equal(t.remove('d1'), true)
    assert.equal(t.insert(entry('s', '66.6.0.1', 5)), true)
  })
})
