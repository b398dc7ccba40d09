/**
 * The connection gater on its own: each libp2p hook refuses banned and unlisted peers, and
 * connections past the per-IP and per-peer limits.
 */
import '../../../src/net/polyfill.ts'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import pino from 'pino'
import { createConnectionGater, ipOf } from '../../../src/net/gater.ts'
import { PeerScores } from '../../../src/net/peers.ts'

const log = pino({ level: 'silent' })
const newPeer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

function conn(peer: PeerId, addr: string): Connection {
  return { remotePeer: peer, remoteAddr: multiaddr(addr) } as unknown as Connection
}

function maConn(addr: string): MultiaddrConnection {
  return { remoteAddr: multiaddr(addr) } as unknown as MultiaddrConnection
}

describe('connection gater', () => {
  test('refuses banned peers in every direction, until the ban ends', async () => {
    const clock = { now: 0 }
    const scores = new PeerScores({ banThreshold: 100, banMs: 1000, decayPerMinute: 0 }, () => clock.now)
    const gater = createConnectionGater({ scores, allowlist: undefined, limits: { maxConnectionsPerIp: 10, maxConnectionsPerPeer: 2 }, connections: () => [], log })
    const bad = await newPeer()
    const good = await newPeer()
    scores.ban(bad.toString(), 1000, 'test')
    const ma = maConn('/ip4/10.0.0.1/tcp/1')
    assert.equal(await gater.denyDialPeer!(bad), true)
    assert.equal(await gater.denyDialMultiaddr!(multiaddr(`/ip4/10.0.0.1/tcp/1/p2p/${bad}`)), true)
    assert.equal(await gater.denyOutboundEncryptedConnection!(bad, ma), true)
    assert.equal(await gater.denyInboundEncryptedConnection!(bad, ma), true)
    assert.equal(await gater.denyDialPeer!(good), false)
    assert.equal(await gater.denyInboundEncryptedConnection!(good, ma), false)
    // A bare address says nothing about who is behind it: decided after the handshake.
    assert.equal(await gater.denyDialMultiaddr!(multiaddr('/ip4/10.0.0.1/tcp/1')), false)
    clock.now = 1000
    assert.equal(await gater.denyDialPeer!(bad), false)
    assert.equal(await gater.denyInboundEncryptedConnection!(bad, ma), false)
  })

  test('an allowlist refuses everyone else, both ways', async () => {
    const listed = await newPeer()
    const other = await newPeer()
    const gater = createConnectionGater({
      scores: new PeerScores(),
      allowlist: new Set([listed.toString()]),
      limits: { maxConnectionsPerIp: 10, maxConnectionsPerPeer: 2 },
      connections: () => [],
      log,
    })
    const ma = maConn('/ip4/10.0.0.1/tcp/1')
    for (const [peer, denied] of [
      [listed, false],
      [other, true],
    ] as const) {
      assert.equal(await gater.denyDialPeer!(peer), denied)
      assert.equal(await gater.denyOutboundEncryptedConnection!(peer, ma), denied)
      assert.equal(await gater.denyInboundEncryptedConnection!(peer, ma), denied)
    }
  })

  test('limits connections per IP and per peer', async () => {
    const p1 = await newPeer()
    const p2 = await newPeer()
    const open: Connection[] = [conn(p1, '/ip4/10.0.0.1/tcp/5'), conn(p2, '/ip4/10.0.0.1/tcp/6'), conn(p2, '/ip6/::1/tcp/7')]
    const gater = createConnectionGater({
      scores: new PeerScores(),
      allowlist: undefined,
      limits: { maxConnectionsPerIp: 2, maxConnectionsPerPeer: 2 },
      connections: () => open,
      log,
    })
    assert.equal(await gater.denyInboundConnection!(maConn('/ip4/10.0.0.1/tcp/9')), true)
    assert.equal(await gater.denyInboundConnection!(maConn('/ip4/10.0.0.2/tcp/9')), false)
    assert.equal(await gater.denyInboundConnection!(maConn('/ip6/::1/tcp/9')), false)
    const ma = maConn('/ip4/10.0.0.3/tcp/9')
    assert.equal(await gater.denyInboundEncryptedConnection!(p2, ma), true)
    assert.equal(await gater.denyInboundEncryptedConnection!(p1, ma), false)
    assert.equal(ipOf(multiaddr('/ip6/::1/tcp/7')), '::1')
    assert.equal(ipOf(multiaddr('/dns4/example.com/tcp/7')), undefined)
  })
})
