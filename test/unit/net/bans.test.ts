/**
 * Bad data over real TCP: oversized, malformed and truncated messages are refused and cost the
 * sender score; past the threshold it is banned, disconnected, and refused both ways until the
 * ban ends. The allowlist of a permissioned chain refuses other peers in both directions.
 */
import '../../../src/net/polyfill.ts'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NetError, PENALTY, protocolId, type BanEntry } from '../../../src/net/index.ts'
import { nextEvent, rawExchange, startNode, waitConnected, waitFor } from './helpers.ts'

/** An unsigned varint (the length prefix of a frame). */
function varint(n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Uint8Array.from(out)
}

const dialFailed = (err: unknown) => err instanceof NetError && err.code === 'DIAL_FAILED'

function frame(payload: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint(payload.length), ...payload])
}

describe('peer scoring and bans', () => {
  test('bad requests are refused and penalized; past the threshold the peer is banned until the ban ends', async (t) => {
    // No decay, so the points add up exactly; a short ban so the test can watch it end.
    const a = await startNode(t, { limits: { banMs: 1500, scoreDecayPerMinute: 0 } })
    const m = await startNode(t)
    const addrA = a.net.multiaddrs()[0]!
    const addrM = m.net.multiaddrs()[0]!
    await m.net.connect(addrA)
    await waitConnected([[a.net, m.net]])
    let served = 0
    await a.net.handle('blocksByRange', () => {
      served++
      return new Uint8Array()
    })
    const blocksByRange = protocolId(a.net.chainTag, 'blocksByRange')

    // 1. A length prefix announcing 1 MB on a protocol whose requests are at most 256 bytes:
    //    refused on the prefix, the stream reset, the handler never called.
    const oversized = await rawExchange(m.net, a.net, blocksByRange, Uint8Array.from([...varint(1_000_000), 1, 2, 3]))
    assert.ok(oversized instanceof Error || oversized.length === 0)
    assert.equal(a.net.penaltyOf(m.net.peerId), PENALTY.oversized)
    assert.equal(served, 0)

    // 2. A status request that is not RLP: answered with invalidRequest (status byte 1).
    const garbage = await rawExchange(m.net, a.net, '/catena/status/1', frame(Uint8Array.of(0xff, 0x00, 0x01)))
    assert.ok(garbage instanceof Uint8Array)
    assert.equal(garbage[1], 1, 'invalidRequest status')
    assert.match(Buffer.from(garbage.subarray(2)).toString(), /malformed status/)
    assert.equal(a.net.penaltyOf(m.net.peerId), PENALTY.oversized + PENALTY.malformed)
    assert.ok(a.net.peers().some((p) => p.peerId === m.net.peerId), 'still connected below the threshold')

    // 3. A frame cut short: the threshold is reached, the peer banned and disconnected.
    const banned = nextEvent<BanEntry>(a.net, 'peer:banned')
    await rawExchange(m.net, a.net, blocksByRange, Uint8Array.from([...varint(10), 1, 2, 3]))
    const entry = await banned
    assert.equal(entry.peerId, m.net.peerId)
    assert.match(entry.reason, /^score 100: /)
    assert.equal(served, 0)
    await waitFor(() => m.net.libp2p.getConnections().length === 0, 'the banned peer to be disconnected')
    assert.deepEqual(a.net.bans().map((b) => b.peerId), [m.net.peerId])
    assert.ok(a.logs.some((l) => l.startsWith(`peer ${m.net.peerId} banned for`)))

    // Refused both ways while the ban lasts.
    await assert.rejects(m.net.connect(addrA), dialFailed)
    await assert.rejects(a.net.connect(addrM), dialFailed)
    assert.equal(a.net.peers().length, 0)

    // Once the ban ends it may come back, with a clean slate.
    await waitFor(() => !a.net.isBanned(m.net.peerId), 'the ban to end')
    await m.net.connect(addrA)
    await waitConnected([[a.net, m.net]])
    assert.equal(a.net.penaltyOf(m.net.peerId), 0)
  })

  test('penalize and ban by hand; unban lets the peer back at once', async (t) => {
    const a = await startNode(t, { limits: { scoreDecayPerMinute: 0 } })
    const b = await startNode(t, { bootnodes: a.net.multiaddrs() })
    await waitConnected([[a.net, b.net]])
    assert.deepEqual(a.net.penalize(b.net.peerId, 'sent a stale block', 30), { points: 30 })
    assert.equal(a.net.peer(b.net.peerId)?.penalty, 30)

    const disconnected = nextEvent<{ peerId: string }>(a.net, 'peer:disconnected')
    const entry = a.net.ban(b.net.peerId, 'equivocation', 60_000)
    assert.equal(entry.reason, 'equivocation')
    assert.equal((await disconnected).peerId, b.net.peerId)
    // B keeps redialing its bootnode; A refuses until it lifts the ban.
    assert.ok(a.net.unban(b.net.peerId))
    await waitConnected([[a.net, b.net]])
  })

  test('the allowlist refuses other peers inbound and outbound', async (t) => {
    const b = await startNode(t)
    const c = await startNode(t)
    const a = await startNode(t, { allowlist: [c.net.peerId] })
    const addrA = a.net.multiaddrs()[0]!
    const addrB = b.net.multiaddrs()[0]!

    // Inbound: B is refused once the Noise handshake proves who it is.
    await assert.rejects(b.net.connect(addrA), (err) => dialFailed(err) && /hung up before the status handshake/.test((err as Error).message))
    // Outbound: A does not dial B, by peer id or (learning the id in the handshake) by bare address.
    await assert.rejects(a.net.connect(addrB), dialFailed)
    await assert.rejects(a.net.connect(addrB.replace(/\/p2p\/.*$/, '')), dialFailed)

    // The listed peer connects either way.
    await c.net.connect(addrA)
    await waitConnected([[a.net, c.net]])
    await waitFor(() => b.net.libp2p.getConnections().length === 0, 'refused connections to close')
    assert.deepEqual(
      a.net.peers().map((p) => p.peerId),
      [c.net.peerId],
    )
    assert.deepEqual(b.net.peers(), [])
  })
})
