/**
 * Tx gossip as an attacker sends it: a peer publishes raw batches on the 'txs' topic of a real
 * network to a node running TxRelay over a real Mempool. Checks run cheapest first and are
 * bounded (batch size, known hashes before decoding, malformed txs stop the batch), and the
 * sender pays: a malformed batch is rejected, a mostly useless one (stale nonces, underpriced,
 * already known) costs score beyond a small allowance, while an honest batch that raced a block
 * costs nothing. The verdicts are read from the validator TxRelay registers, wrapped.
 */
import '../../../src/net/polyfill.ts'
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes } from '@ethereumjs/util'
import pino from 'pino'
import type { GossipValidator, GossipVerdict } from '../../../src/net/index.ts'
import { PENALTY } from '../../../src/net/index.ts'
import { MAX_TX_BATCH, encodeTxBatch } from '../../../src/sync/wire.ts'
import { SECP256K1_ORDER } from '@ethereumjs/util'
import { TxRelay, USELESS_TX_PENALTY } from '../../../src/sync/tx-relay.ts'
import { ADDRS, KEYS, makePool, raw1559, tx1559 } from '../mempool/helpers.ts'
import { startNode, waitConnected, waitFor } from '../net/helpers.ts'

const [A, B, C] = KEYS as [Uint8Array, Uint8Array, Uint8Array]

interface Seen {
  verdict: GossipVerdict
  from: string
}

/** An attacker host and a node with TxRelay; every verdict of the relay's validator is recorded. */
async function relayPair(t: TestContext, poolOpts: Parameters<typeof makePool>[0] = {}, now?: () => number) {
  // After-hooks run in the order they were added: the relay must stop before the networks do.
  const stops: Array<() => void> = []
  t.after(() => stops.forEach((stop) => stop()))
  const limits = { scoreDecayPerMinute: 0 }
  const attacker = await startNode(t, { limits })
  const node = await startNode(t, { bootnodes: attacker.net.multiaddrs(), limits })
  await waitConnected([[attacker.net, node.net]])
  const { pool, state } = makePool(poolOpts)
  stops.push(() => pool.close())
  const verdicts: Seen[] = []
  const subscribe = node.net.subscribe.bind(node.net)
  node.net.subscribe = (topic, validator: GossipValidator) =>
    subscribe(topic, async (data, from) => {
      const verdict = await validator(data, from)
      verdicts.push({ verdict, from })
      return verdict
    })
  const relay = new TxRelay(node.net, pool, pino({ level: 'silent' }), { now })
  relay.start()
  stops.push(() => relay.stop())
  attacker.net.subscribe('txs', () => 'ignore')
  await waitFor(() => attacker.net.topicPeers('txs').includes(node.net.peerId), 'the attacker to see the node in the txs topic')
  // gossipsub may not route to a new subscriber at once: an empty batch until one gets through.
  let attempt = 0
  let delivered = 0
  let publishing = false
  await waitFor(() => {
    if (delivered === 0 && !publishing) {
      publishing = true
      void attacker.net
        .publish('txs', encodeTxBatch([], attempt++))
        .then((n) => (delivered += n), () => undefined)
        .finally(() => (publishing = false))
    }
    return verdicts.length > 0
  }, 'a first batch to reach the node')
  assert.ok(verdicts.splice(0).every((v) => v.verdict === 'ignore'), 'an empty batch is ignored')
  assert.equal(node.net.penaltyOf(attacker.net.peerId), 0, 'and costs nothing')
  /** Publishes `raws` as one batch and waits for the node's verdict on it. */
  const send = async (raws: Uint8Array[] | Uint8Array): Promise<GossipVerdict> => {
    const before = verdicts.length
    const bytes = raws instanceof Uint8Array ? raws : encodeTxBatch(raws, attempt++)
    assert.equal(await attacker.net.publish('txs', bytes), 1)
    await waitFor(() => verdicts.length > before, 'the node to judge the batch')
    const seen = verdicts[before]!
    assert.equal(seen.from, attacker.net.peerId)
    return seen.verdict
  }
  const penalty = () => node.net.penaltyOf(attacker.net.peerId)
  return { attacker, node, pool, state, send, penalty }
}

/** Counts the mempool's refusals: each one means a tx was decoded (and usually recovered). */
function refusals(pool: ReturnType<typeof makePool>['pool']): string[] {
  const codes: string[] = []
  pool.on('rejected', (code) => codes.push(code))
  return codes
}

const stale = (key: Uint8Array, count: number, from = 0n) =>
  Array.from({ length: count }, (_, i) => tx1559(key, { nonce: from + BigInt(i) }).serialize())

describe('tx gossip: cheap checks first, and the sender pays', () => {
  test('honest batches are accepted (so relayed on); a few stale txs that raced a block cost nothing', async (t) => {
    const { pool, state, send, penalty } = await relayPair(t)
    assert.equal(await send(stale(A, 30)), 'accept')
    assert.equal(pool.size, 30)
    // B's first 5 nonces were mined elsewhere before this batch arrived.
    state.set(ADDRS[1]!, 5n)
    assert.equal(await send(stale(B, 30)), 'accept')
    assert.equal(pool.size, 55)
    assert.equal(penalty(), 0)
  })

  test(`a batch of more than ${MAX_TX_BATCH} txs is rejected before any tx is decoded`, async (t) => {
    const { pool, send, penalty } = await relayPair(t)
    const codes = refusals(pool)
    const raw = tx1559(A, {}).serialize()
    // Encoded by hand: encodeTxBatch refuses to build it.
    assert.equal(await send(RLP.encode([bigIntToUnpaddedBytes(0n), Array(MAX_TX_BATCH + 1).fill(raw)])), 'reject')
    assert.equal(penalty(), PENALTY.rejectedGossip)
    assert.equal(pool.size, 0)
    assert.deepEqual(codes, [], 'nothing decoded')
  })

  test('a bad signature or an undecodable tx rejects the batch and stops it there', async (t) => {
    const { pool, send, penalty } = await relayPair(t)
    const codes = refusals(pool)
    const highS = raw1559(B, { tip: 1n, feeCap: 10n }, (s) => ({ yParity: 1n - s.yParity, r: s.r, s: SECP256K1_ORDER - s.s }))
    assert.equal(await send([tx1559(A, {}).serialize(), highS, ...stale(C, 20)]), 'reject')
    assert.equal(penalty(), PENALTY.rejectedGossip)
    assert.deepEqual(codes, ['INVALID_SIGNATURE'], 'the txs after the bad one are not even decoded')
    assert.equal(await send([Uint8Array.of(0x02, 0xc0), ...stale(C, 20)]), 'reject')
    assert.equal(penalty(), 2 * PENALTY.rejectedGossip)
    assert.equal(pool.size, 1)
  })

  test('a batch of stale nonces costs the sender, and only a bounded number of txs is checked', async (t) => {
    const { pool, state, send, penalty } = await relayPair(t)
    state.set(ADDRS[0]!, 1000n)
    const codes = refusals(pool)
    const batch = stale(A, 400)
    assert.equal(await send(batch), 'ignore')
    assert.equal(penalty(), USELESS_TX_PENALTY)
    assert.ok(codes.length < 300, `checked ${codes.length} of 400 stale txs`)
    assert.ok(codes.every((c) => c === 'NONCE_TOO_LOW'))
    // The same txs again (a new message: another attempt number): known, not decoded again, and
    // cheap (an honest relay sends known txs all the time): no penalty for one such batch.
    const decoded = codes.length
    assert.equal(await send(batch.slice(0, decoded)), 'ignore')
    assert.equal(codes.length, decoded, 'known hashes are not decoded again')
    assert.equal(penalty(), USELESS_TX_PENALTY)
  })

  test('known txs cost a sixteenth of a useless one: a relay that races is not penalized, a flood of them still runs dry', async (t) => {
    // A stopped clock: the peer earns nothing back while the test runs.
    const { pool, send, penalty } = await relayPair(t, { maxPerSender: 512 }, () => 0)
    const batch = stale(A, 200)
    assert.equal(await send(batch), 'accept')
    assert.equal(pool.size, 200)
    const codes = refusals(pool)
    let batches = 0
    for (; batches < 1000 && penalty() === 0; batches++) assert.equal(await send(batch), 'ignore')
    assert.equal(penalty(), USELESS_TX_PENALTY)
    // 200 known txs cost 12.5 of the 1,024 useless txs a peer may save up: about 80 batches.
    assert.ok(batches > 60 && batches < 100, `penalized after ${batches} batches of 200 known txs`)
    assert.deepEqual(codes, [], 'known txs are never decoded')
  })

  test('many small useless batches add up: the allowance is per peer, not per batch', async (t) => {
    // A stopped clock: the peer earns nothing back while the test runs.
    const { state, send, penalty } = await relayPair(t, {}, () => 0)
    state.set(ADDRS[0]!, 100_000n)
    let batches = 0
    // 30 stale txs: each batch alone is within its own allowance (16 + half of it).
    for (; batches < 100 && penalty() === 0; batches++) assert.equal(await send(stale(A, 30, BigInt(batches * 30))), 'ignore')
    assert.equal(penalty(), USELESS_TX_PENALTY)
    assert.ok(batches > 10 && batches < 100, `penalized after ${batches} batches of 30 stale txs`)
  })

  test('an undecodable batch is rejected', async (t) => {
    const { send, penalty } = await relayPair(t)
    assert.equal(await send(RLP.encode([bigIntToUnpaddedBytes(0n), [[Uint8Array.of(1)]]])), 'reject')
    assert.equal(penalty(), PENALTY.rejectedGossip)
  })

  test('a big batch yields to other work between chunks', async (t) => {
    const { pool, send } = await relayPair(t, { maxPerSender: 512 })
    const batch = stale(A, 300)
    let sizeSeenByOtherWork: number | undefined
    pool.once('added', () => setImmediate(() => (sizeSeenByOtherWork = pool.size)))
    assert.equal(await send(batch), 'accept')
    assert.equal(pool.size, 300)
    assert.ok(sizeSeenByOtherWork !== undefined && sizeSeenByOtherWork < 300, `other work ran only after ${sizeSeenByOtherWork} of 300 txs`)
  })
})
