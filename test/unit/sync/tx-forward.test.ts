/**
 * Tx forwarding to the coming leaders (PoH), over real libp2p hosts, each with a real Mempool,
 * TxRelay and ValidatorIdentities: txs taken over RPC (added to the pool) go only to the peers
 * that proved they run a target validator, never to the others; gossip is the fallback when no
 * target is connected; a leader keeps what was forwarded to it and passes it on once its slots
 * are over; the hop bound holds; and a forwarded batch is checked and charged exactly as a
 * gossiped one. The schedule is a plain list the test changes (engine.txForwardTargets in a node).
 */
import '../../../src/net/polyfill.ts'
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { SECP256K1_ORDER, bigIntToUnpaddedBytes } from '@ethereumjs/util'
import pino from 'pino'
import { privateKeyToAddress } from '../../../src/crypto/secp256k1.ts'
import { PENALTY, RemoteError, ValidatorIdentities, type Network } from '../../../src/net/index.ts'
import { MAX_FORWARD_HOPS, MAX_RESENDS } from '../../../src/sync/tx-forward.ts'
import { TxRelay, USELESS_TX_PENALTY } from '../../../src/sync/tx-relay.ts'
import { MAX_TX_BATCH, decodeTxBatch, encodeTxBatch } from '../../../src/sync/wire.ts'
import { TEST_MNEMONIC, deriveKeys } from '../../../src/wallet/hd.ts'
import { ADDRS, KEYS, makePool, raw1559, tx1559 } from '../mempool/helpers.ts'
import { CHAIN_ID, GENESIS, startNode, waitFor } from '../net/helpers.ts'

const [A, B, C] = KEYS as [Uint8Array, Uint8Array, Uint8Array]
// Validator keys: the last of the mnemonic's first 20, apart from the tx senders.
const [V1, V2, V3] = deriveKeys(TEST_MNEMONIC, 20).slice(17).map((k) => k.privateKey) as [Uint8Array, Uint8Array, Uint8Array]
const ADDR1 = privateKeyToAddress(V1)
const ADDR2 = privateKeyToAddress(V2)
const ADDR3 = privateKeyToAddress(V3)
const silent = pino({ level: 'silent' })
const limits = { scoreDecayPerMinute: 0 }

/** The leader schedule every node of a test reads: the test moves it. */
interface Schedule {
  targets: Uint8Array[]
}

interface FwdNode {
  net: Network
  pool: ReturnType<typeof makePool>['pool']
  /** The accounts the pool checks txs against. */
  state: ReturnType<typeof makePool>['state']
  relay: TxRelay
  ids: ValidatorIdentities
  /** Every tx batch this node received as gossip (decoded). */
  gossiped: Uint8Array[][]
  /** Every txForward request this node answered, by sender. */
  forwardedFrom: string[]
}

/** A node with a pool, tx relay in forwarding mode and identities; a validator when given a key. */
async function fwdNode(t: TestContext, schedule: Schedule, key?: Uint8Array, bootnodes: string[] = [], resendAfterMs = 600_000): Promise<FwdNode> {
  const stops: Array<() => unknown> = []
  // After-hooks run in order: relay and identities stop before the network does (added first below).
  t.after(async () => {
    for (const stop of stops) await stop()
  })
  const node = await startNode(t, { bootnodes, limits }, false)
  const { pool, state } = makePool()
  stops.push(() => pool.close())
  const gossiped: Uint8Array[][] = []
  const forwardedFrom: string[] = []
  const subscribe = node.net.subscribe.bind(node.net)
  node.net.subscribe = (topic, validator) =>
    subscribe(topic, (data, from) => {
      try {
        gossiped.push(decodeTxBatch(data))
      } catch {
        // recorded only when it decodes
      }
      return validator(data, from)
    })
  const handle = node.net.handle.bind(node.net)
  node.net.handle = (protocol, handler) =>
    handle(protocol, (req, peer) => {
      if (protocol === 'txForward') forwardedFrom.push(peer)
      return handler(req, peer)
    })
  await node.net.start()
  const ids = new ValidatorIdentities({ network: node.net, chainId: CHAIN_ID, genesisHash: GENESIS, ...(key ? { privateKey: key } : {}), log: silent, retryDelaysMs: [50, 100, 200] })
  await ids.start()
  stops.push(() => ids.stop())
  const relay = new TxRelay(node.net, pool, silent, {
    forward: { identities: ids, targets: () => schedule.targets, ...(key ? { self: privateKeyToAddress(key) } : {}), recheckMs: 20, resendAfterMs },
  })
  await relay.start()
  stops.push(() => relay.stop())
  return { net: node.net, pool, state, relay, ids, gossiped, forwardedFrom }
}

const knows = (n: FwdNode, peer: FwdNode, address: Uint8Array) => n.ids.peersOf(address).includes(peer.net.peerId)

/**
 * Publishes a marker batch (an empty one, numbered) from `from` until `to` saw it on gossip: gossip
 * from one peer arrives in order, so anything `from` had gossiped earlier arrived before it.
 */
async function gossipMarker(from: FwdNode, to: FwdNode, attempt: number): Promise<void> {
  const marker = encodeTxBatch([], attempt)
  const seen = () => to.gossiped.some((b) => b.length === 0)
  let publishing = false
  await waitFor(() => {
    if (!seen() && !publishing) {
      publishing = true
      void from.net.publish('txs', marker).then(
        () => undefined,
        () => undefined,
      ).finally(() => (publishing = false))
    }
    return seen()
  }, 'the marker to cross the gossip mesh')
}

describe('tx forwarding to the coming leaders', () => {
  test('txs taken over RPC go only to the peers of the target validators, not to the others', async (t) => {
    const schedule: Schedule = { targets: [ADDR1] }
    const leader = await fwdNode(t, schedule, V1)
    const other = await fwdNode(t, schedule, V2) // a validator, but not a target now
    const plain = await fwdNode(t, schedule) // no validator at all
    const origin = await fwdNode(t, schedule, undefined, [leader.net, other.net, plain.net].map((n) => n.multiaddrs()[0]!))
    await waitFor(() => knows(origin, leader, ADDR1) && knows(origin, other, ADDR2), 'the origin to learn the validators')

    const tx = tx1559(A, {})
    await origin.pool.add(tx.serialize())
    await waitFor(() => leader.pool.has(tx.hash()), 'the leader to get the tx')
    await waitFor(() => origin.relay.forwarder!.stats.forwarded === 1, 'the origin to count the forward')
    assert.deepEqual(leader.forwardedFrom, [origin.net.peerId])
    assert.equal(leader.relay.forwarder!.stats.kept, 1, 'the leader keeps it')
    assert.equal(leader.relay.forwarder!.heldCount, 1)

    // Nothing was gossiped: a marker sent after the forward reaches the others first.
    await gossipMarker(origin, other, 1)
    await gossipMarker(origin, plain, 2)
    assert.equal(origin.relay.forwarder!.stats.gossiped, 0)
    for (const n of [other, plain]) {
      assert.equal(n.pool.has(tx.hash()), false)
      assert.deepEqual(n.forwardedFrom, [])
      assert.ok(n.gossiped.every((b) => b.length === 0), 'only the markers came as gossip')
    }
    assert.ok(leader.gossiped.every((b) => b.length === 0), 'the leader did not get it as gossip either')
    for (const n of [leader, other, plain]) assert.equal(n.net.penaltyOf(origin.net.peerId), 0)
  })

  test('with no target validator connected, txs are gossiped (none is lost)', async (t) => {
    const schedule: Schedule = { targets: [ADDR1] }
    const plain = await fwdNode(t, schedule)
    const origin = await fwdNode(t, schedule, undefined, [plain.net.multiaddrs()[0]!])
    const tx = tx1559(A, {})
    await origin.pool.add(tx.serialize())
    await waitFor(() => plain.pool.has(tx.hash()), 'the peer to get the tx by gossip')
    assert.equal(origin.relay.forwarder!.stats.gossiped, 1)
    assert.equal(origin.relay.forwarder!.stats.forwarded, 0)
    assert.deepEqual(plain.forwardedFrom, [])
  })

  test('a leader keeps forwarded txs; when its slots have passed it passes the pending ones to the next leader only, once', async (t) => {
    // L1 leads now and L2 next: the origin sends to both.
    const schedule: Schedule = { targets: [ADDR1, ADDR2] }
    const l3 = await fwdNode(t, schedule, V3)
    const l2 = await fwdNode(t, schedule, V2)
    const l1 = await fwdNode(t, schedule, V1, [l2.net.multiaddrs()[0]!, l3.net.multiaddrs()[0]!])
    const origin = await fwdNode(t, schedule, undefined, [l1.net.multiaddrs()[0]!, l2.net.multiaddrs()[0]!])
    await waitFor(() => knows(origin, l1, ADDR1) && knows(origin, l2, ADDR2) && knows(l1, l2, ADDR2) && knows(l1, l3, ADDR3), 'the validators to be known')

    const kept = tx1559(A, {})
    const mined = tx1559(B, {})
    await origin.pool.add(kept.serialize())
    await origin.pool.add(mined.serialize())
    for (const l of [l1, l2]) await waitFor(() => l.pool.has(kept.hash()) && l.pool.has(mined.hash()), 'the leaders to get both')
    await waitFor(() => origin.relay.forwarder!.stats.forwarded === 2, 'the origin to count its forwards')
    assert.equal(l3.pool.size, 0, 'while L1 is a leader, it sends nothing on')
    // One of them goes into L1's block; then its slots are over: L2 leads, L3 is next.
    await l1.pool.remove(mined.hash())
    schedule.targets = [ADDR2, ADDR3]
    await waitFor(() => l3.pool.has(kept.hash()), 'the next leader to get the pending tx')
    await waitFor(() => l1.relay.forwarder!.stats.forwarded === 1 && l3.relay.forwarder!.stats.kept === 1, 'both to count it')
    assert.deepEqual(l3.forwardedFrom, [l1.net.peerId])
    assert.deepEqual(l2.forwardedFrom, [origin.net.peerId], 'not to the current leader, which had it from the origin')
    assert.equal(l3.pool.has(mined.hash()), false, 'a tx no longer pending is not passed on')
    assert.equal(l1.relay.forwarder!.heldCount, 0, 'passed on once, then forgotten')
    assert.equal(l2.relay.forwarder!.heldCount, 2, 'the current leader keeps both')
    for (const l of [l2, l3]) assert.equal(l.net.penaltyOf(l1.net.peerId), 0)
  })

  test(`a forwarded tx the leaders dropped is sent again to the leaders of the moment, at most ${MAX_RESENDS} times; a mined one is not`, async (t) => {
    const schedule: Schedule = { targets: [ADDR1] }
    const l1 = await fwdNode(t, schedule, V1)
    const l2 = await fwdNode(t, schedule, V2)
    const origin = await fwdNode(t, schedule, undefined, [l1.net.multiaddrs()[0]!, l2.net.multiaddrs()[0]!], 300)
    await waitFor(() => knows(origin, l1, ADDR1) && knows(origin, l2, ADDR2), 'the validators to be known')
    const dropped = tx1559(A, {})
    const mined = tx1559(B, {})
    await origin.pool.add(dropped.serialize())
    await origin.pool.add(mined.serialize())
    await waitFor(() => l1.pool.has(dropped.hash()) && l1.pool.has(mined.hash()), 'the leader to get both')
    // L1 drops one (a full pool, a crash before its slots); the other goes into a block everywhere.
    await l1.pool.remove(dropped.hash())
    await l1.pool.remove(mined.hash())
    await origin.pool.remove(mined.hash())
    schedule.targets = [ADDR2]
    await waitFor(() => l2.pool.has(dropped.hash()), 'the leader of the moment to get the dropped tx')
    assert.equal(l2.pool.has(mined.hash()), false, 'a tx no longer in our pool is not sent again')
    // It stays pending (L2 never builds here): it is resent up to the bound, then no more.
    await waitFor(() => origin.relay.forwarder!.stats.resent === MAX_RESENDS, 'the resends')
    await new Promise((r) => setTimeout(r, 1_000))
    assert.equal(origin.relay.forwarder!.stats.resent, MAX_RESENDS, 'no resend past the bound')
    assert.deepEqual(l1.forwardedFrom, [origin.net.peerId], 'L1 got it once, before its slots passed')
    assert.ok(l2.forwardedFrom.length >= 1 && l2.forwardedFrom.every((p) => p === origin.net.peerId))
    assert.equal(origin.relay.forwarder!.stats.gossiped, 0)
  })

  test(`a node that is no target passes forwarded txs on to the next leader, below ${MAX_FORWARD_HOPS} forwards, not back to the sender`, async (t) => {
    const schedule: Schedule = { targets: [ADDR1, ADDR2] }
    const current = await fwdNode(t, schedule, V1)
    const next = await fwdNode(t, schedule, V2)
    const relayNode = await fwdNode(t, schedule, undefined, [current.net.multiaddrs()[0]!, next.net.multiaddrs()[0]!])
    const sender = await startNode(t, { bootnodes: [relayNode.net.multiaddrs()[0]!], limits })
    await waitFor(() => knows(relayNode, current, ADDR1) && knows(relayNode, next, ADDR2) && relayNode.net.peer(sender.net.peerId) !== undefined, 'the peers to connect')

    // The sender (a node whose view of the schedule is behind) sent it to us and to its next: the current leader.
    const once = tx1559(A, {})
    assert.deepEqual(await sender.net.request(relayNode.net.peerId, 'txForward', encodeTxBatch([once.serialize()], 1)), new Uint8Array(0))
    await waitFor(() => next.pool.has(once.hash()), 'the next leader to get the tx from the relay node')
    await waitFor(() => relayNode.relay.forwarder!.stats.forwarded === 1, 'the relay node to count it')
    assert.deepEqual(next.forwardedFrom, [relayNode.net.peerId])
    assert.deepEqual(current.forwardedFrom, [], 'not to the current leader, which the sender reached')

    // At the bound: not forwarded again; gossiped instead, so it still reaches the leaders.
    const many = tx1559(B, {})
    await sender.net.request(relayNode.net.peerId, 'txForward', encodeTxBatch([many.serialize()], MAX_FORWARD_HOPS))
    await waitFor(() => relayNode.relay.forwarder!.stats.gossiped === 1, 'the relay node to gossip it')
    await waitFor(() => next.pool.has(many.hash()) && current.pool.has(many.hash()), 'the leaders to get it by gossip')
    assert.deepEqual(next.forwardedFrom, [relayNode.net.peerId], 'no second forward')
    assert.deepEqual(current.forwardedFrom, [])
    assert.equal(relayNode.net.penaltyOf(sender.net.peerId), 0)
  })
})

describe('a forwarded batch is checked and charged as gossip is', () => {
  /** A node in forwarding mode and an attacker that sends it txForward requests. */
  async function target(t: TestContext) {
    const schedule: Schedule = { targets: [ADDR1] }
    const node = await fwdNode(t, schedule, V1)
    const attacker = await startNode(t, { bootnodes: [node.net.multiaddrs()[0]!], limits: { ...limits, reqresp: { txForward: { maxRequestBytes: 4 * 1024 * 1024 } } } })
    await waitFor(() => node.net.peer(attacker.net.peerId) !== undefined, 'the attacker to connect')
    const codes: string[] = []
    node.pool.on('rejected', (code) => codes.push(code))
    const send = (bytes: Uint8Array) => attacker.net.request(node.net.peerId, 'txForward', bytes)
    const penalty = () => node.net.penaltyOf(attacker.net.peerId)
    return { node, attacker, codes, send, penalty }
  }

  const refused = (status: string, pattern: RegExp) => (err: unknown) => {
    assert.ok(err instanceof RemoteError, String(err))
    assert.equal(err.status, status)
    assert.match(err.message, pattern)
    return true
  }

  test('an invalid tx rejects the batch, stops the work on it and costs what invalid gossip costs', async (t) => {
    const { node, codes, send, penalty } = await target(t)
    const highS = raw1559(B, { tip: 1n, feeCap: 10n }, (s) => ({ yParity: 1n - s.yParity, r: s.r, s: SECP256K1_ORDER - s.s }))
    const later = Array.from({ length: 20 }, (_, i) => tx1559(C, { nonce: BigInt(i) }).serialize())
    await assert.rejects(send(encodeTxBatch([tx1559(A, {}).serialize(), highS, ...later])), refused('invalidRequest', /invalid tx/))
    assert.equal(penalty(), PENALTY.rejectedGossip)
    assert.deepEqual(codes, ['INVALID_SIGNATURE'], 'the txs after the bad one are not even decoded')
    assert.equal(node.pool.size, 1)
    await assert.rejects(send(encodeTxBatch([Uint8Array.of(0x02, 0xc0)])), refused('invalidRequest', /invalid tx/))
    assert.equal(penalty(), 2 * PENALTY.rejectedGossip)
  })

  test(`a batch of more than ${MAX_TX_BATCH} txs, or not a batch, is refused before any tx is decoded`, async (t) => {
    const { node, codes, send, penalty } = await target(t)
    const raw = tx1559(A, {}).serialize()
    await assert.rejects(send(RLP.encode([bigIntToUnpaddedBytes(0n), Array(MAX_TX_BATCH + 1).fill(raw)])), refused('invalidRequest', /limit 1024/))
    assert.equal(penalty(), PENALTY.rejectedGossip)
    await assert.rejects(send(Uint8Array.of(0x01, 0x02)), refused('invalidRequest', /forwarded tx batch/))
    assert.equal(penalty(), 2 * PENALTY.rejectedGossip)
    assert.deepEqual(codes, [])
    assert.equal(node.pool.size, 0)
  })

  test('a batch over the size limit costs what oversized gossip costs', async (t) => {
    const { node, send, penalty } = await target(t)
    const big = new Uint8Array(1024 * 1024 + 1)
    await assert.rejects(send(encodeTxBatch([big])))
    await waitFor(() => penalty() > 0, 'the oversized request to be penalized')
    assert.equal(penalty(), PENALTY.oversized)
    assert.equal(node.pool.size, 0)
  })

  test('useless txs past the allowance cost the sender as on gossip; the same txs again are not decoded and cost little', async (t) => {
    const { node, codes, send, penalty } = await target(t)
    // Sender A's nonces below 1000 are spent: every tx is stale.
    node.state.set(ADDRS[0]!, 1000n)
    const stale = Array.from({ length: 400 }, (_, i) => tx1559(A, { nonce: BigInt(i) }).serialize())
    await assert.rejects(send(encodeTxBatch(stale)), refused('resourceUnavailable', /allowance of useless txs/))
    assert.equal(penalty(), USELESS_TX_PENALTY)
    assert.ok(codes.length < 300 && codes.every((c) => c === 'NONCE_TOO_LOW'), `checked ${codes.length} of 400 stale txs`)
    // Known txs (a leader forwarding on what another forwarder also sent) count a sixteenth each.
    const decoded = codes.length
    await send(encodeTxBatch(stale.slice(0, decoded)))
    assert.equal(codes.length, decoded, 'known hashes are not decoded again')
    assert.equal(penalty(), USELESS_TX_PENALTY)
    assert.equal(node.pool.size, 0)
  })
})

