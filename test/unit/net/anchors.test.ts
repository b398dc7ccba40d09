/**
 * Anchor peers (anchors.ts, Bitcoin Core's anchors.dat): the outbound peers held longest are
 * written at shutdown and dialed first at the next start, then the file is gone; a bad file is
 * ignored. On real hosts: a node whose peer store was wiped reconnects to its anchor.
 */
import '../../../src/net/polyfill.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import { ANCHORS_FILE, chooseAnchors, takeAnchors, writeAnchors } from '../../../src/net/anchors.ts'
import { PEER_STORE_FILE } from '../../../src/net/peer-store.ts'
import { isPeer, startNode, waitConnected, waitFor } from './helpers.ts'

const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
function datadir(): string {
  const d = mkdtempSync(join(tmpdir(), 'catena-anchors-'))
  dirs.push(d)
  return d
}
const log = pino({ level: 'silent' })
const ID = ['12D3KooWByr3LEFCyseoQjxa3W3ib1uYfjYryKM4PRGVqhuDM8xu', '12D3KooWNirH69YzFtgxmJ8dPMdqsLmyLjFabghn8Ee1Kax9MEQM', '12D3KooWCqGRCbM27bzXcvFWisbmLZVb2ZEzoJ7VP5r8Nkntkpeb']

describe('anchor peers', () => {
  test('chosen among outbound connections, longest held first, one per peer', () => {
    const conns = [
      { peerId: 'in', direction: 'inbound' as const, openedAt: 0 },
      { peerId: 'new', direction: 'outbound' as const, openedAt: 50 },
      { peerId: 'old', direction: 'outbound' as const, openedAt: 10 },
      { peerId: 'old', direction: 'outbound' as const, openedAt: 11 },
      { peerId: 'mid', direction: 'outbound' as const, openedAt: 20 },
    ]
    assert.deepEqual(chooseAnchors(conns, 2).map((c) => c.peerId), ['old', 'mid'])
    assert.deepEqual(chooseAnchors(conns, 0), [])
  })

  test('written, read once (the file is deleted), and a bad file is ignored', async () => {
    const dir = datadir()
    await writeAnchors(dir, [{ peerId: ID[0]!, addrs: ['/ip4/8.8.8.8/tcp/1'] }, { peerId: ID[1]!, addrs: ['/ip4/9.9.9.9/tcp/2'] }])
    assert.deepEqual(await takeAnchors(dir, 2, log), [
      { peerId: ID[0], addrs: ['/ip4/8.8.8.8/tcp/1'] },
      { peerId: ID[1], addrs: ['/ip4/9.9.9.9/tcp/2'] },
    ])
    assert.deepEqual(await readdir(dir), [], 'read once, then gone')
    assert.deepEqual(await takeAnchors(dir, 2, log), [])
    await writeFile(join(dir, ANCHORS_FILE), '{"version":1,"peers":[{"peerId":"nope","addrs":[],"lastSeen":0}]}')
    assert.deepEqual(await takeAnchors(dir, 2, log), [])
    await writeAnchors(dir, [{ peerId: ID[2]!, addrs: ['/ip4/7.7.7.7/tcp/3'] }, { peerId: ID[0]!, addrs: ['/ip4/8.8.8.8/tcp/1'] }])
    assert.equal((await takeAnchors(dir, 1, log)).length, 1, 'at most anchorPeers')
  })

  test('a restarted node dials its anchor first, with no bootnode and its peer store gone', async (t) => {
    const anchor = await startNode(t)
    const dir = datadir()
    const victim = await startNode(t, { datadir: dir, limits: { anchorPeers: 2 } })
    await victim.net.connect(anchor.net.multiaddrs()[0]!)
    await waitConnected([[victim.net, anchor.net]])
    const listen = victim.net.multiaddrs().map((a) => a.replace(/\/p2p\/.*$/, ''))
    await victim.net.stop()
    // Only the anchors remain to find the network with.
    await rm(join(dir, PEER_STORE_FILE), { force: true })
    assert.ok((await readdir(dir)).includes(ANCHORS_FILE))
    const again = await startNode(t, { datadir: dir, listen, limits: { anchorPeers: 2 } })
    await waitFor(() => isPeer(again.net, anchor.net), 'the anchor to be redialed')
    assert.ok(again.logs.includes('reconnected to an anchor peer'))
    assert.ok(!(await readdir(dir)).includes(ANCHORS_FILE), 'the anchors file is consumed at start')
  })
})
