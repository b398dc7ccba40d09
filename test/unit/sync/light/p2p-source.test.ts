/**
 * The light client's libp2p side against a full node in this process (a real chain, libp2p
 * host and BlockSync, see ../harness.ts): a connected node is one header source, named
 * p2p:<peer id>; headers by range (no more than asked, none past its head), headers by hash,
 * finality proofs (none for PoW) and the head its status tells; the full node serves
 * headersByRange within its bounds and keeps the light peer, which tells the genesis as its
 * head, without syncing from it or penalizing it. A light client on another genesis is refused.
 * It only dials, unless given a port.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import pino from 'pino'
import { blockHash, encodeHeader } from '../../../../src/chain/block.ts'
import { RemoteError } from '../../../../src/net/index.ts'
import { LightPeers } from '../../../../src/sync/light/p2p-peers.ts'
import { encodeRangeRequest } from '../../../../src/sync/wire.ts'
import { mine, powNode, powSpec } from '../harness.ts'
import { waitFor } from '../../net/helpers.ts'

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
})
