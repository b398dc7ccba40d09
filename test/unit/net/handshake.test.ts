/**
 * Hosts on real TCP (127.0.0.1, port 0) find each other through bootnodes and complete the
 * status handshake; hosts of another chain are dropped with a clear reason; the node key keeps
 * the peer id across restarts.
 */
import '../../../src/net/polyfill.ts'
import { statSync, readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { CHAIN_ID, GENESIS, OTHER_GENESIS, isPeer, nextEvent, startNode, waitConnected, waitFor } from './helpers.ts'
import { NetError, type PeerInfo } from '../../../src/net/index.ts'

describe('status handshake', () => {
  test('two hosts connect through a bootnode and exchange statuses', async (t) => {
    const a = await startNode(t)
    const b = await startNode(t, { bootnodes: a.net.multiaddrs() }, false)
    const seenByA = nextEvent<PeerInfo>(a.net, 'peer:connected')
    const seenByB = nextEvent<PeerInfo>(b.net, 'peer:connected')
    await b.net.start()
    const [infoA, infoB] = await Promise.all([seenByA, seenByB])

    assert.equal(infoA.peerId, b.net.peerId)
    assert.equal(infoA.direction, 'inbound')
    assert.equal(infoB.peerId, a.net.peerId)
    assert.equal(infoB.direction, 'outbound')
    for (const info of [infoA, infoB]) {
      assert.equal(info.status.chainId, CHAIN_ID)
      assert.deepEqual(info.status.genesisHash, GENESIS)
      assert.deepEqual(info.status.headHash, new Uint8Array(32).fill(0x09))
      assert.equal(info.penalty, 0)
    }
    assert.deepEqual(
      a.net.peers().map((p) => p.peerId),
      [b.net.peerId],
    )
    assert.ok(b.logs.includes('peer connected'))

    // A refresh asks for the current head (the test head() counts up on every call).
    const before = b.net.peer(a.net.peerId)!.status.headHeight
    const updates: PeerInfo[] = []
    b.net.on('peer:status', (info: PeerInfo) => updates.push(info))
    const fresh = await b.net.refreshStatus(a.net.peerId)
    assert.ok(fresh.headHeight > before)
    assert.ok(updates.some((u) => u.peerId === a.net.peerId && u.status.headHeight === fresh.headHeight))
    assert.equal(b.net.peer(a.net.peerId)!.status.headHeight, fresh.headHeight)

    // Stopping B is reported on A, once.
    const gone = nextEvent<{ peerId: string }>(a.net, 'peer:disconnected')
    await b.net.stop()
    assert.equal((await gone).peerId, b.net.peerId)
    assert.deepEqual(a.net.peers(), [])
  })

  test('three hosts: two join through the first, the third lists both as bootnodes', async (t) => {
    const a = await startNode(t)
    const b = await startNode(t, { bootnodes: a.net.multiaddrs() })
    const c = await startNode(t, { bootnodes: [...a.net.multiaddrs(), ...b.net.multiaddrs()] })
    await waitConnected([
      [a.net, b.net],
      [a.net, c.net],
      [b.net, c.net],
    ])
    assert.equal(a.net.peers().length, 2)
    assert.equal(b.net.peers().length, 2)
    assert.equal(c.net.peers().length, 2)
  })

  test('peer exchange: two hosts that only know a third find each other', async (t) => {
    const a = await startNode(t)
    const b = await startNode(t, { bootnodes: a.net.multiaddrs() })
    const c = await startNode(t, { bootnodes: a.net.multiaddrs() })
    await waitConnected([
      [a.net, b.net],
      [a.net, c.net],
      [b.net, c.net],
    ])
  })

  test('with peer exchange off, they do not', async (t) => {
    const limits = { targetPeers: 0 }
    const a = await startNode(t, { limits })
    const b = await startNode(t, { bootnodes: a.net.multiaddrs(), limits })
    const c = await startNode(t, { bootnodes: a.net.multiaddrs(), limits })
    await waitConnected([
      [a.net, b.net],
      [a.net, c.net],
    ])
    // C asks A for peers by hand: A names B, with its listen address.
    const { decodePeers } = await import('../../../src/net/discovery.ts')
    const shared = decodePeers(await c.net.request(a.net.peerId, 'peers', new Uint8Array()))
    assert.deepEqual(
      shared.map((p) => p.peerId),
      [b.net.peerId],
    )
    assert.ok(shared[0]!.addrs.some((addr) => b.net.multiaddrs().includes(`${addr.toString()}/p2p/${b.net.peerId}`)))
    assert.equal(isPeer(b.net, c.net), false)
  })

  test('a bootnode that comes back later is redialed', async (t) => {
    const a = await startNode(t, {}, false)
    // Listen address known before start: take a free port from a first start, then restart.
    await a.net.start()
    const addrs = a.net.multiaddrs()
    await a.net.stop()
    const b = await startNode(t, { bootnodes: addrs })
    await waitFor(() => b.logs.some((l) => l.startsWith('cannot reach bootnode')), 'the failed dial to be logged')
    const a2 = await startNode(t, { datadir: a.datadir, listen: addrs.map((s) => s.replace(/\/p2p\/.*$/, '')) })
    await waitConnected([[a2.net, b.net]])
    assert.ok(b.logs.includes('bootnode reachable again'))
  })

  test('a host on another chain is disconnected with a clear reason on both sides', async (t) => {
    const a = await startNode(t)
    const c = await startNode(t, { bootnodes: a.net.multiaddrs(), genesisHash: OTHER_GENESIS }, false)
    let connected = 0
    a.net.on('peer:connected', () => connected++)
    c.net.on('peer:connected', () => connected++)
    await c.net.start()

    const ours = bytesToHex(GENESIS)
    const theirs = bytesToHex(OTHER_GENESIS)
    await waitFor(
      () =>
        a.logs.includes(`peer ${c.net.peerId} is on another chain: genesis ${theirs} (ours ${ours})`) &&
        c.logs.includes(`peer ${a.net.peerId} is on another chain: genesis ${ours} (ours ${theirs})`),
      'both wrong-chain log lines',
    )
    await waitFor(() => a.net.libp2p.getConnections().length === 0, 'the connection to close')
    assert.equal(connected, 0)
    assert.deepEqual(a.net.peers(), [])
    assert.deepEqual(c.net.peers(), [])
    // It stays refused for a while: the bootnode redial does not bring it back.
    assert.ok(c.net.isBanned(a.net.peerId))
    assert.ok(a.net.isBanned(c.net.peerId))
    // An operator's explicit connect says why it failed.
    const d = await startNode(t, { genesisHash: OTHER_GENESIS })
    await assert.rejects(d.net.connect(a.net.multiaddrs()[0]!), (err) => {
      assert.ok(err instanceof NetError)
      assert.equal(err.code, 'DIAL_FAILED')
      assert.match(err.message, new RegExp(`on another chain: genesis ${ours} \\(ours ${theirs}\\)`))
      return true
    })
  })

  test('a host with another chain id is disconnected', async (t) => {
    const a = await startNode(t)
    const c = await startNode(t, { bootnodes: a.net.multiaddrs(), chainId: 999n })
    await waitFor(() => a.logs.includes(`peer ${c.net.peerId} is on another chain: chain id 999 (ours 1337)`), 'the wrong-chain log line')
    await waitFor(() => c.net.libp2p.getConnections().length === 0, 'the connection to close')
    assert.equal(isPeer(a.net, c.net), false)
  })
})

describe('node key', () => {
  test('is created once with mode 0600 and keeps the peer id across restarts', async (t) => {
    const first = await startNode(t, {}, false)
    const key = `${first.datadir}/node.key`
    assert.equal(statSync(key).mode & 0o777, 0o600)
    const text = readFileSync(key, 'utf8')
    assert.match(text, /^[0-9a-f]+\n$/)
    assert.ok(first.logs.includes('created a new node key'))
    await first.net.start()
    await first.net.stop()

    const second = await startNode(t, { datadir: first.datadir })
    assert.equal(second.net.peerId, first.net.peerId)
    assert.equal(readFileSync(key, 'utf8'), text)
    assert.ok(!second.logs.includes('created a new node key'))
    assert.ok(second.net.multiaddrs().every((m) => m.endsWith(`/p2p/${first.net.peerId}`)))
  })
})
