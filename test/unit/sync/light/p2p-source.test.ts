/**
 * The light client's libp2p side against a full node in this process (a real chain, libp2p
 * host and BlockSync, see ../harness.ts): a connected node is one header source, named
 * p2p:<peer id>; headers by range (no more than asked, none past its head), headers by hash,
 * finality proofs (none for PoW) and the head its status tells; the full node serves
 * headersByRange within its bounds and keeps the light peer, which tells the genesis as its
 * head, without syncing from it or penalizing it. A light client on another genesis is refused.
 * It only dials, unless given a port. A hostile peer's answers that do not fit the question
 * (other heights, more than asked, another block) are MALFORMED block errors and cost it score;
 * one that stalls times out and pays too.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import pino from 'pino'
import { BlockError } from '../../../../src/chain/errors.ts'
import { blockHash, encodeBlockEnvelope, encodeHeader } from '../../../../src/chain/block.ts'
import { PENALTY, RemoteError, isNetError } from '../../../../src/net/index.ts'
import { LightPeers } from '../../../../src/sync/light/p2p-peers.ts'
import { P2pHeaderSource } from '../../../../src/sync/light/p2p-source.ts'
import { decodeRangeRequest, encodeBlockList, encodeHeaderList, encodeRangeRequest, MAX_HEADERS } from '../../../../src/sync/wire.ts'
import { mine, powNode, powSpec } from '../harness.ts'
import { startNode, waitFor } from '../../net/helpers.ts'

const silent = pino({ level: 'silent' })

describe('light client header sources over libp2p', () => {
  test('a full node as a header source: ranges, hashes, no PoW proof, its head; it serves within bounds and keeps the light peer unpenalized', async (t) => {
    const spec = powSpec()
    const full = await powNode(t, spec)
    await mine(full, 5)
    const peers = await LightPeers.start({ spec, genesisHash: full.chain.genesisHash, bootnodes: [full.net.multiaddrs()[0]!], log: silent })
    t.after(() => peers.stop())
    assert.deepEqual(peers.sources.map((s) => s.url), [`p2p:${full.net.peerId}`])
    assert.deepEqual(peers.network.multiaddrs(), [], 'it only dials')
    const list: unknown[] = ['rpc']
    peers.attach(list as never)
    assert.equal(list.length, 2, 'attached to the client’s list')
    const src = peers.sources[0]!

    const encoded = (h: bigint) => bytesToHex(encodeHeader(full.chain.getBlockAt(h)!.header))
    assert.deepEqual((await src.headers(1n, 5n)).map((h) => bytesToHex(encodeHeader(h))), [1n, 2n, 3n, 4n, 5n].map(encoded))
    assert.deepEqual((await src.headers(4n, 1000n)).map((h) => h.height), [4n, 5n], 'fewer past its head')
    assert.deepEqual(await src.headers(9n, 12n), [])
    const two = full.chain.getBlockAt(2n)!.header
    assert.equal(bytesToHex(encodeHeader((await src.headerByHash(blockHash(two)))!)), encoded(2n))
    assert.equal(await src.headerByHash(new Uint8Array(32).fill(9)), undefined)
    assert.equal(await src.finalityProof(2n), null, 'a PoW block carries no proof beside its header')
    assert.equal(await src.finalityProof(50n), null)
    assert.equal(await src.headNumber(), 5n)
    await mine(full, 2)
    assert.equal(await src.headNumber(), 7n, 'asked again each time')

    // More than MAX_HEADERS asked: refused, as any request over its bounds.
    await assert.rejects(peers.network.request(full.net.peerId, 'headersByRange', encodeRangeRequest({ from: 1n, count: 1025 })), (err) => err instanceof RemoteError && err.status === 'invalidRequest' && /1\.\.1024, got 1025/.test(err.message))
    const big = await peers.network.request(full.net.peerId, 'headersByRange', encodeRangeRequest({ from: 0n, count: 1024 }))
    assert.ok(big.length > 0)

    // The full node holds the light peer at the genesis: never a sync candidate, and unpenalized for serving nothing.
    const seen = full.net.peer(peers.network.peerId)!
    assert.equal(seen.status.headHeight, 0n)
    assert.equal(bytesToHex(seen.status.headHash), bytesToHex(full.chain.genesisHash))
    full.sync.requestSync()
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(full.net.penaltyOf(peers.network.peerId) <= 5, true, 'only the over-bounds request above cost it (5 points)')
    assert.ok(!full.logs.some((m) => /sync: (peer|request)/.test(m)), 'no sync from the light peer was tried')
  })

  test('a light client on another genesis is refused by the full node: no source', async (t) => {
    const spec = powSpec()
    const full = await powNode(t, spec)
    const peers = await LightPeers.start({ spec, genesisHash: new Uint8Array(32).fill(3), bootnodes: [full.net.multiaddrs()[0]!], p2pPort: 0, log: silent })
    t.after(() => peers.stop())
    assert.match(peers.network.multiaddrs()[0] ?? '', /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//, 'with a port it listens on 127.0.0.1')
    assert.deepEqual(peers.sources, [])
    await waitFor(() => full.net.peers().length === 0, 'the full node hangs up')
  })

  test('hostile answers: other heights, more than asked, another block, a stall; each refused with a typed error and paid for, up to a ban', async (t) => {
    const spec = powSpec()
    const full = await powNode(t, spec)
    await mine(full, 4)
    const block = (h: bigint) => full.chain.getBlockAt(h)!
    const header = (h: bigint) => encodeHeader(block(h).header)
    let mode = ''
    const liar = await startNode(t, { chainId: spec.chainId, genesisHash: full.chain.genesisHash, head: () => ({ height: 4n, hash: full.chain.head.hash }) }, false)
    await liar.net.handle('headersByRange', async (req) => {
      const { from } = decodeRangeRequest(req, MAX_HEADERS)
      if (mode === 'stall') await new Promise((r) => setTimeout(r, 2000))
      if (mode === 'too many') return encodeHeaderList([1n, 2n, 3n].map(header))
      return encodeHeaderList([from + 1n, from + 2n].map(header)) // one off
    })
    await liar.net.handle('blocksByHash', () => encodeBlockList([encodeBlockEnvelope(block(3n))]))
    await liar.net.handle('blocksByRange', () => encodeBlockList([encodeBlockEnvelope(block(1n))]))
    await liar.net.start()
    const peers = await LightPeers.start({ spec, genesisHash: full.chain.genesisHash, bootnodes: [liar.net.multiaddrs()[0]!], log: silent })
    t.after(() => peers.stop())
    const src = new P2pHeaderSource(peers.network, liar.net.peerId, { timeoutMs: 500 })
    const malformed = (pattern: RegExp) => (err: unknown) => err instanceof BlockError && err.code === 'MALFORMED' && pattern.test(err.message) && err.message.startsWith(`p2p:${liar.net.peerId}`)

    await assert.rejects(src.headers(1n, 2n), malformed(/from 1 with header 2 at place 0/))
    mode = 'too many'
    await assert.rejects(src.headers(1n, 1n), malformed(/holds 3 headers, asked for at most 1/))
    await assert.rejects(src.headerByHash(blockHash(block(2n).header)), malformed(/answered blocksByHash 0x[0-9a-f]+ with block/))
    mode = 'stall'
    await assert.rejects(src.headers(1n, 1n), (err) => isNetError(err, 'TIMEOUT'))
    assert.equal(Math.round(peers.network.penaltyOf(liar.net.peerId)), 3 * PENALTY.malformed + PENALTY.unfulfilledClaim, 'each costs it')
    assert.equal(peers.network.isBanned(liar.net.peerId), false)
    mode = ''
    await assert.rejects(src.finalityProof(2n), malformed(/answered blocksByRange 2 with block 1/))
    assert.equal(peers.network.isBanned(liar.net.peerId), true, 'past 100 points')
    await waitFor(() => liar.net.peers().length === 0, 'the light client hangs up on it')
  })
})
