/**
 * Request/response between hosts on real TCP: round trips, error statuses, timeouts, and
 * size limits on both sides.
 */
import '../../../src/net/polyfill.ts'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { NetError, PENALTY, RemoteError, invalidRequest, resourceUnavailable } from '../../../src/net/index.ts'
import { startNode, waitConnected } from './helpers.ts'

function isNetError(code: string, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof NetError, `expected a NetError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    if (pattern !== undefined) assert.match(err.message, pattern)
    return true
  }
}

async function pair(t: Parameters<typeof startNode>[0], limitsA = {}, limitsB = {}) {
  const a = await startNode(t, { limits: limitsA })
  const b = await startNode(t, { bootnodes: a.net.multiaddrs(), limits: limitsB })
  await waitConnected([[a.net, b.net]])
  return { a: a.net, b: b.net, logsA: a.logs }
}

describe('request/response', () => {
  test('round trips, concurrent requests and empty payloads', async (t) => {
    const { a, b } = await pair(t)
    const seen: string[] = []
    await a.handle('blocksByRange', (req, peer) => {
      seen.push(peer)
      return Uint8Array.from(req, (x) => (x * 2) & 0xff)
    })
    assert.deepEqual(await b.request(a.peerId, 'blocksByRange', Uint8Array.of(1, 2, 3)), Uint8Array.of(2, 4, 6))
    assert.deepEqual(await b.request(a.peerId, 'blocksByRange', new Uint8Array()), new Uint8Array())
    const many = await Promise.all(Array.from({ length: 40 }, (_, i) => b.request(a.peerId, 'blocksByRange', Uint8Array.of(i))))
    many.forEach((res, i) => assert.deepEqual(res, Uint8Array.of(i * 2)))
    assert.ok(seen.every((p) => p === b.peerId))
    assert.equal(seen.length, 42)
  })

  test('handler errors come back as statuses; invalid requests cost the requester a little', async (t) => {
    const { a, b, logsA } = await pair(t)
    await a.handle('headersByRange', (req) => {
      if (req.length === 0) throw invalidRequest('empty range')
      if (req[0] === 1) throw resourceUnavailable('headers before 100 are pruned')
      throw new Error('database on fire')
    })
    await assert.rejects(b.request(a.peerId, 'headersByRange', new Uint8Array()), (err) => {
      assert.ok(err instanceof RemoteError)
      assert.equal(err.code, 'REMOTE_ERROR')
      assert.equal(err.status, 'invalidRequest')
      assert.match(err.message, /answered headersByRange with invalidRequest: empty range/)
      return true
    })
    assert.equal(Math.round(a.penaltyOf(b.peerId)), PENALTY.invalidRequest)

    await assert.rejects(b.request(a.peerId, 'headersByRange', Uint8Array.of(1)), (err) => {
      assert.ok(err instanceof RemoteError)
      assert.equal(err.status, 'resourceUnavailable')
      assert.match(err.message, /pruned/)
      return true
    })
    // Internal failures are logged here and not described to the peer.
    await assert.rejects(b.request(a.peerId, 'headersByRange', Uint8Array.of(2)), (err) => {
      assert.ok(err instanceof RemoteError)
      assert.equal(err.status, 'serverError')
      assert.doesNotMatch(err.message, /fire/)
      return true
    })
    assert.ok(logsA.includes('request handler failed'))
    assert.equal(Math.round(a.penaltyOf(b.peerId)), PENALTY.invalidRequest)
  })

  test('misuse is refused with typed errors and sends nothing', async (t) => {
    const { a, b } = await pair(t)
    await a.handle('blocksByHash', () => new Uint8Array())
    await assert.rejects(a.handle('blocksByHash', () => new Uint8Array()), isNetError('ALREADY_HANDLED'))
    await assert.rejects(a.handle('status' as never, () => new Uint8Array()), isNetError('ALREADY_HANDLED'))
    await assert.rejects(a.handle('peers' as never, () => new Uint8Array()), isNetError('ALREADY_HANDLED', /answers peers requests itself/))
    await assert.rejects(a.handle('nope' as never, () => new Uint8Array()), isNetError('UNKNOWN_PROTOCOL', /unknown request\/response protocol "nope"/))
    await assert.rejects(b.request(a.peerId, 'nope' as never, new Uint8Array()), isNetError('UNKNOWN_PROTOCOL'))
    await assert.rejects(b.request('not-a-peer', 'blocksByHash', new Uint8Array()), isNetError('BAD_PEER_ID'))
    const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    await assert.rejects(b.request(stranger, 'blocksByHash', new Uint8Array()), isNetError('NOT_CONNECTED'))
    // A request over the protocol's limit never leaves.
    await assert.rejects(b.request(a.peerId, 'blocksByRange', new Uint8Array(257)), isNetError('TOO_LARGE', /257 bytes is over the 256-byte limit/))
    // A protocol the peer does not serve.
    await assert.rejects(b.request(a.peerId, 'stateProof', new Uint8Array()), isNetError('STREAM_FAILED', /does not serve stateProof/))
    assert.equal(a.penaltyOf(b.peerId), 0)
  })

  test('a request times out', async (t) => {
    const { a, b } = await pair(t)
    let release!: () => void
    const never = new Promise<void>((r) => (release = r))
    t.after(() => release())
    await a.handle('blocksByRange', async () => {
      await never
      return new Uint8Array()
    })
    await assert.rejects(
      b.request(a.peerId, 'blocksByRange', Uint8Array.of(1), { timeoutMs: 200 }),
      isNetError('TIMEOUT', /blocksByRange request to .* timed out after 200 ms/),
    )
    // A timeout is no proof of bad faith: no penalty either way.
    assert.equal(b.penaltyOf(a.peerId), 0)
  })

  test('a response over the limit is refused and costs the responder', async (t) => {
    const big = { reqresp: { headersByRange: { maxResponseBytes: 1 << 20 } } }
    const small = { reqresp: { headersByRange: { maxResponseBytes: 1000 } } }
    const { a, b } = await pair(t, big, small)
    await a.handle('headersByRange', () => new Uint8Array(2000))
    await assert.rejects(b.request(a.peerId, 'headersByRange', new Uint8Array()), isNetError('TOO_LARGE', /over the 1001-byte limit/))
    assert.equal(Math.round(b.penaltyOf(a.peerId)), PENALTY.oversized)
  })
})
