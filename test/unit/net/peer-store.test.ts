/**
 * The peer store (<datadir>/peers.json) on real hosts over TCP: nodes remember the peers they
 * completed a handshake with, and after a restart find each other with their only bootnode
 * down; the store is bounded, written privately and atomically, forgets banned peers, and a
 * corrupt file is ignored with a warning (the node still starts and rewrites it).
 */
import '../../../src/net/polyfill.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import { isPeer, startNode, waitConnected, waitFor } from './helpers.ts'
import { PEER_STORE_FILE, PeerStore, parsePeerStore, readPeerStore, type StoredPeer } from '../../../src/net/peer-store.ts'

const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
function datadir(): string {
  const d = mkdtempSync(join(tmpdir(), 'catena-peers-'))
  dirs.push(d)
  return d
}
const listenOf = (addrs: string[]) => addrs.map((a) => a.replace(/\/p2p\/.*$/, ''))
async function poll(cond: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
const stored = async (dir: string) => new Set((await readPeerStore(dir)).map((p) => p.peerId))

describe('peer store', () => {
  test('three hosts that met through a bootnode find each other again after a restart without it', async (t) => {
    const [da, db, dc] = [datadir(), datadir(), datadir()]
    const a = await startNode(t, { datadir: da })
    const b = await startNode(t, { datadir: db, bootnodes: a.net.multiaddrs() })
    const c = await startNode(t, { datadir: dc, bootnodes: a.net.multiaddrs() })
    await waitConnected([[a.net, b.net], [a.net, c.net], [b.net, c.net]])
    const [bListen, cListen, boot] = [listenOf(b.net.multiaddrs()), listenOf(c.net.multiaddrs()), a.net.multiaddrs()]
    for (const n of [a, b, c]) await n.net.stop()
    assert.deepEqual(await stored(db), new Set([a.net.peerId, c.net.peerId]))
    assert.deepEqual(await stored(dc), new Set([a.net.peerId, b.net.peerId]))
    const file = join(db, PEER_STORE_FILE)
    assert.equal((await stat(file)).mode & 0o777, 0o600, 'the store is private')
    assert.deepEqual((await readdir(db)).filter((f) => f.includes('.tmp')), [], 'no temp file left behind')

    // A stays down; B and C know only A as a bootnode, on their old addresses.
    const b2 = await startNode(t, { datadir: db, listen: bListen, bootnodes: boot })
    const c2 = await startNode(t, { datadir: dc, listen: cListen, bootnodes: boot })
    await waitConnected([[b2.net, c2.net]])
    assert.ok(b2.logs.includes('loaded known peers'))
  })

  test('a corrupt store is ignored with a warning, and rewritten from the peers met afterwards', async (t) => {
    const a = await startNode(t)
    for (const junk of ['{"version":1,"peers":[{"peerId":"not a peer id","addrs":[],"lastSeen":1}]}', '\u0000\u0001garbage', '{"version":99,"peers":[]}']) {
      const dir = datadir()
      await writeFile(join(dir, PEER_STORE_FILE), junk)
      const b = await startNode(t, { datadir: dir, bootnodes: a.net.multiaddrs() })
      assert.ok(b.logs.some((l) => l.startsWith(`ignoring the peer store ${join(dir, PEER_STORE_FILE)}:`)), `warned about ${JSON.stringify(junk)}`)
      await waitConnected([[a.net, b.net]])
      await b.net.stop()
      assert.deepEqual(await stored(dir), new Set([a.net.peerId]))
    }
  })

  test('a banned peer is forgotten', async (t) => {
    const a = await startNode(t, { datadir: datadir() })
    const b = await startNode(t, { bootnodes: a.net.multiaddrs() })
    await waitConnected([[a.net, b.net]])
    // Saved on its own, shortly after the handshake.
    await poll(async () => (await stored(a.datadir)).has(b.net.peerId), 'A to save B')
    a.net.ban(b.net.peerId, 'test', 60_000)
    await waitFor(() => !isPeer(a.net, b.net), 'the ban to disconnect B')
    await a.net.stop()
    assert.equal((await stored(a.datadir)).has(b.net.peerId), false)
  })

  test('bounded: a new peer replaces the least recently seen idle one, not a connected one', async (t) => {
    const a = await startNode(t)
    const others = [await startNode(t), await startNode(t), await startNode(t)]
    for (const o of others) await a.net.connect(o.net.multiaddrs()[0]!)
    const dir = datadir()
    const store = await PeerStore.load({ datadir: dir, libp2p: a.net.libp2p, maxPeers: 2, log: pino({ level: 'silent' }) })
    const [b, c, d] = others.map((o) => o.net.peerId)
    await store.seen(b!)
    await store.seen(c!)
    await a.net.disconnect(c!)
    await store.seen(d!)
    // B is older but still connected; C is idle, so C leaves.
    assert.deepEqual(new Set(store.list().map((p) => p.peerId)), new Set([b, d]))
    await store.flush()
    assert.deepEqual(await stored(dir), new Set([b, d]))
  })

  test('the file format: bounded on read, sorted by last seen, /p2p and non-TCP addresses dropped', () => {
    const ids = ['12D3KooWByr3LEFCyseoQjxa3W3ib1uYfjYryKM4PRGVqhuDM8xu', '12D3KooWNirH69YzFtgxmJ8dPMdqsLmyLjFabghn8Ee1Kax9MEQM', '12D3KooWCqGRCbM27bzXcvFWisbmLZVb2ZEzoJ7VP5r8Nkntkpeb']
    const peers: StoredPeer[] = ids.map((peerId, i) => ({ peerId, addrs: [`/ip4/10.0.0.${i}/tcp/3030${i}/p2p/${peerId}`, '/ip4/10.0.0.9/udp/1'], lastSeen: i }))
    const parsed = parsePeerStore(JSON.stringify({ version: 1, peers }), 2)
    assert.deepEqual(parsed, [
      { peerId: ids[2], addrs: ['/ip4/10.0.0.2/tcp/30302'], lastSeen: 2 },
      { peerId: ids[1], addrs: ['/ip4/10.0.0.1/tcp/30301'], lastSeen: 1 },
    ])
    assert.throws(() => parsePeerStore('{"version":1,"peers":{}}'), { code: 'BAD_PEER_STORE' })
    assert.throws(() => parsePeerStore('[1,2]'), { code: 'BAD_PEER_STORE' })
    assert.throws(() => parsePeerStore(JSON.stringify({ version: 1, peers: [{ peerId: ids[0], addrs: ['/not/an/addr'], lastSeen: 1 }] })), { code: 'BAD_PEER_STORE' })
  })

  test('a file too large to be ours is refused before it is read', async () => {
    const dir = datadir()
    await writeFile(join(dir, PEER_STORE_FILE), Buffer.alloc(2 * 1024 * 1024, 0x20))
    await assert.rejects(readPeerStore(dir), { code: 'BAD_PEER_STORE' })
    assert.equal((await readFile(join(dir, PEER_STORE_FILE))).length, 2 * 1024 * 1024)
  })
})
