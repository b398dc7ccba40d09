/**
 * Gossip among three hosts on real TCP, all connected to each other: messages reach every
 * subscriber; rejected and oversized messages cost their sender score and go no further.
 */
import '../../../src/net/polyfill.ts'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NetError, PENALTY, topicId, type GossipVerdict, type Network } from '../../../src/net/index.ts'
import { gossipMessageId } from '../../../src/net/message-id.ts'
import { gossipsubOf, startNode, waitConnected, waitFor } from './helpers.ts'

interface Received {
  data: Uint8Array
  from: string
}

/** Three fully connected hosts. */
async function mesh(t: Parameters<typeof startNode>[0], limitsC = {}) {
  const a = await startNode(t, { limits: { scoreDecayPerMinute: 0 } })
  const b = await startNode(t, { bootnodes: a.net.multiaddrs(), limits: { scoreDecayPerMinute: 0 } })
  const c = await startNode(t, { bootnodes: [...a.net.multiaddrs(), ...b.net.multiaddrs()], limits: { scoreDecayPerMinute: 0, ...limitsC } })
  await waitConnected([
    [a.net, b.net],
    [a.net, c.net],
    [b.net, c.net],
  ])
  return [a.net, b.net, c.net] as const
}

/** Subscribes to txs: records what arrives, rejects messages starting with 0xff. */
function listen(net: Network): Received[] {
  const got: Received[] = []
  net.subscribe('txs', (data, from): GossipVerdict => {
    if (data[0] === 0xff) return 'reject'
    got.push({ data, from })
    return 'accept'
  })
  return got
}

async function waitSubscribed(nets: readonly Network[]): Promise<void> {
  await waitFor(
    () => nets.every((n) => nets.filter((o) => o !== n).every((o) => n.topicPeers('txs').includes(o.peerId))),
    'every host to see the others subscribed',
  )
}

describe('gossip', () => {
  test('a message reaches every subscriber', async (t) => {
    const nets = await mesh(t)
    const [a, b, c] = nets
    const got = nets.map(listen)
    await waitSubscribed(nets)

    const tx = Uint8Array.from({ length: 500 }, (_, i) => i & 0x7f)
    assert.equal(await a.publish('txs', tx), 2)
    await waitFor(() => got[1]!.length === 1 && got[2]!.length === 1, 'B and C to receive')
    assert.deepEqual(got[1]![0]!.data, tx)
    assert.deepEqual(got[2]![0]!.data, tx)
    assert.equal(got[0]!.length, 0, 'no echo to the publisher')

    await c.publish('txs', Uint8Array.of(1, 2, 3))
    await waitFor(() => got[0]!.length === 1 && got[1]!.length === 2, 'A and B to receive from C')
    assert.equal(got[0]![0]!.from, c.peerId)
    // Re-publishing the same bytes is not an error, and goes nowhere (seen already).
    await c.publish('txs', Uint8Array.of(1, 2, 3))
    assert.equal(b.penaltyOf(c.peerId), 0)
  })

  test('a rejected message costs its sender and is not relayed', async (t) => {
    const nets = await mesh(t)
    const [a, b, c] = nets
    const got = nets.map(listen)
    await waitSubscribed(nets)

    await a.publish('txs', Uint8Array.of(0xff, 1))
    await waitFor(() => b.penaltyOf(a.peerId) > 0 && c.penaltyOf(a.peerId) > 0, 'B and C to penalize A')
    assert.equal(b.penaltyOf(a.peerId), PENALTY.rejectedGossip)
    assert.equal(c.penaltyOf(a.peerId), PENALTY.rejectedGossip)
    // A good message afterwards still flows, and nobody blamed the honest relays.
    await a.publish('txs', Uint8Array.of(7))
    await waitFor(() => got[1]!.length === 1 && got[2]!.length === 1, 'the good message')
    assert.equal(c.penaltyOf(b.peerId), 0)
    assert.equal(b.penaltyOf(c.peerId), 0)
  })

  test('messages over the topic limit: refused to publish, rejected on arrival', async (t) => {
    const nets = await mesh(t, { topics: { txs: 1000 } })
    const [a, , c] = nets
    const got = nets.map(listen)
    await waitSubscribed(nets)

    // Our own publish of an oversized message is refused before it leaves.
    await assert.rejects(c.publish('txs', new Uint8Array(1001)), (err) => err instanceof NetError && err.code === 'TOO_LARGE')
    // A (whose limit is 1 MiB) publishes 2000 bytes: B takes it, C rejects it on size alone.
    await a.publish('txs', new Uint8Array(2000).fill(1))
    await waitFor(() => got[1]!.length === 1 && c.penaltyOf(a.peerId) > 0, 'B to take it and C to penalize A')
    assert.equal(c.penaltyOf(a.peerId), PENALTY.oversized)
    assert.equal(got[2]!.length, 0)
    // Bytes sent raw on the topic are checked the same way.
    await a.libp2p.services.pubsub.publish(topicId(a.chainTag, 'txs'), new Uint8Array(3000).fill(2))
    await waitFor(() => c.penaltyOf(a.peerId) >= 2 * PENALTY.oversized, 'C to penalize A again')
    assert.equal(got[2]!.length, 0)
  })

  test('hosts speak gossipsub v1.2: a host that gets a large message tells its other mesh peer it has it (IDONTWANT)', async (t) => {
    const nets = await mesh(t)
    const [a, b, c] = nets
    const got = nets.map(listen)
    await waitSubscribed(nets)
    const topic = topicId(a.chainTag, 'txs')
    await waitFor(() => nets.every((n) => gossipsubOf(n).getMeshPeers(topic).length === 2), 'a full mesh on the topic')
    // Every IDONTWANT id a host receives (a probe on gossipsub's RPC handler).
    const sent: Array<{ from: string; to: string; id: string }> = []
    for (const n of nets) {
      const pubsub = gossipsubOf(n)
      const handle = pubsub.handleReceivedRpc.bind(pubsub)
      pubsub.handleReceivedRpc = (from, rpc) => {
        for (const ctl of rpc.control?.idontwant ?? []) for (const id of ctl.messageIDs) sent.push({ from: from.toString(), to: n.peerId, id: Buffer.from(id).toString('hex') })
        return handle(from, rpc)
      }
    }
    const tx = new Uint8Array(1024).fill(3) // over the library's 512-byte IDONTWANT floor
    await a.publish('txs', tx)
    await waitFor(() => got[1]!.length === 1 && got[2]!.length === 1, 'B and C to receive')
    // B and C each tell the one mesh peer that is not where their copy came from; A, the publisher, tells no one.
    await waitFor(() => sent.length >= 2, 'two IDONTWANTs')
    const id = Buffer.from(gossipMessageId(topic, tx)).toString('hex')
    assert.deepEqual(sent.map((s) => s.id), [id, id])
    assert.deepEqual(sent.map((s) => s.from).sort(), [b.peerId, c.peerId].sort())
    for (const s of sent) assert.notEqual(s.to, s.from)
  })

  test('topic and subscription misuse is refused', async (t) => {
    const [a] = await mesh(t)
    const off = a.subscribe('blocks', () => 'accept')
    assert.throws(() => a.subscribe('blocks', () => 'accept'), (err) => err instanceof NetError && err.code === 'ALREADY_HANDLED')
    off()
    a.subscribe('blocks', () => 'accept') // free again after unsubscribing
    assert.throws(() => a.subscribe('nope' as never, () => 'accept'), (err) => err instanceof NetError && err.code === 'UNKNOWN_TOPIC')
    await assert.rejects(a.publish('nope' as never, new Uint8Array(1)), (err) => err instanceof NetError && err.code === 'UNKNOWN_TOPIC')
  })
})
