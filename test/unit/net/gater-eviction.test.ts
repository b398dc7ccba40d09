/**
 * Eviction through the gater's libp2p hooks: the address checks run before the handshake, the
 * eviction only after the newcomer's identity passed the ban and allowlist checks, so a banned
 * or unlisted peer cannot push an inbound peer out.
 */
import '../../../src/net/polyfill.ts'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import pino from 'pino'
import { keyedGroupOrder } from '../../../src/net/conn-policy.ts'
import { createConnectionGater } from '../../../src/net/gater.ts'
import { PeerScores } from '../../../src/net/peers.ts'

const log = pino({ level: 'silent' })
const newPeer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const maConn = (addr: string) => ({ remoteAddr: multiaddr(addr) }) as unknown as MultiaddrConnection

describe('gater eviction', () => {
  test('only a newcomer that passed the identity checks evicts, and only when the inbound slots are full', async () => {
    const closed: string[] = []
    const open: Connection[] = []
    // 10 inbound peers and one outbound.
    for (let i = 0; i < 11; i++) {
      const peer = await newPeer()
      open.push({
        remotePeer: peer,
        remoteAddr: multiaddr(`/ip4/${20 + i}.1.1.1/tcp/1`),
        direction: i === 10 ? 'outbound' : 'inbound',
        timeline: { open: i },
        close: async () => void closed.push(peer.toString()),
      } as unknown as Connection)
    }
    const scores = new PeerScores()
    const limits = { maxConnectionsPerIp: 4, maxConnectionsPerPeer: 2, maxPeers: 12, outboundPeers: 2, maxInboundPerGroup: 0, evictInbound: true }
    const gater = createConnectionGater({ scores, allowlist: undefined, limits, connections: () => open, groupKey: keyedGroupOrder(new Uint8Array(32)), log })
    const ma = maConn('/ip4/5.5.5.5/tcp/9')
    // Full (10 inbound of maxPeers - outboundPeers = 10): let the handshake run, evict nobody yet.
    assert.equal(await gater.denyInboundConnection!(ma), false)
    assert.deepEqual(closed, [])
    const banned = await newPeer()
    scores.ban(banned.toString(), 60_000, 'test')
    assert.equal(await gater.denyInboundEncryptedConnection!(banned, ma), true)
    assert.deepEqual(closed, [], 'a banned newcomer evicts nobody')
    const good = await newPeer()
    assert.equal(await gater.denyInboundEncryptedConnection!(good, ma), false)
    await new Promise((r) => setImmediate(r))
    assert.equal(closed.length, 1, 'an admitted newcomer evicts one inbound peer')
    assert.notEqual(closed[0], open[10]!.remotePeer.toString(), 'never the outbound one')

    // Without eviction a full node refuses before the handshake.
    const strict = createConnectionGater({ scores, allowlist: undefined, limits: { ...limits, evictInbound: false }, connections: () => open, log })
    assert.equal(await strict.denyInboundConnection!(ma), true)
  })
})
