/**
 * Side chains against a PoW node, through its real entry points (range sync and block gossip
 * of a real BlockSync over libp2p): a long cheap chain from genesis is neither executed nor
 * stored, and a peer that claimed it had more work is penalized; a real heavier fork still
 * reorganizes the chain; a fork deeper than maxReorgDepth is refused before any body is fetched.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { encodeBlockEnvelope } from '../../../src/chain/block.ts'
import type { Reorg } from '../../../src/chain/chain.ts'
import { nextEvent, waitFor } from '../net/helpers.ts'
import { connect, copyChain, gossipReady, mine, powChain, powNode, powSpec, workOf, type PowNode } from './harness.ts'

/** Hashes of a node's canonical blocks 1..head. */
function hashes(node: Pick<PowNode, 'chain'>): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let h = 1n; h <= node.chain.head.header.height; h++) out.push(node.chain.getHashAt(h)!)
  return out
}

describe('PoW side chains', () => {
  test('a long cheap chain from genesis, served by a peer claiming more work, is neither executed nor stored; the peer is penalized', async (t) => {
    const spec = powSpec({ maxReorgDepth: 1000 })
    const victim = await powNode(t, spec)
    await mine(victim, 40) // 1 s apart: ahead of schedule, harder and harder
    // The attacker's chain: 4x as many blocks, 10 minutes apart, all at the easiest target.
    const attacker = await powNode(t, spec, { claim: (real) => ({ ...real, work: workOf(victim) * 1000n }) })
    await mine(attacker, 160, 600n)
    assert.ok(attacker.chain.head.header.height > victim.chain.head.header.height)
    assert.ok(workOf(attacker) < workOf(victim), `the attacker's chain has less work (${workOf(attacker)} < ${workOf(victim)})`)
    const head = victim.chain.head.hash
    const cheap = hashes(attacker)

    await connect(victim, attacker)
    await waitFor(() => victim.net.penaltyOf(attacker.net.peerId) > 0 || victim.validated > 0, 'the victim to deal with the attacker', 20_000)
    assert.equal(victim.validated, 0, 'no block of the cheap chain was executed')
    assert.equal(cheap.filter((h) => victim.chain.hasBlock(h)).length, 0, 'no block of the cheap chain was stored')
    assert.deepEqual(victim.chain.head.hash, head)
    assert.ok(victim.net.penaltyOf(attacker.net.peerId) >= 20, 'claimed more work than it showed')
  })

  test('a long cheap chain gossiped block by block is neither executed nor stored', async (t) => {
    const spec = powSpec({ maxReorgDepth: 1000 })
    const victim = await powNode(t, spec)
    await mine(victim, 40)
    const attacker = await powNode(t, spec, { noSync: true })
    await mine(attacker, 160, 600n)
    assert.ok(workOf(attacker) < workOf(victim))
    // The last message: the victim's own next block, so once it is in, every earlier one was handled.
    const sentinel = await powChain(spec)
    await copyChain(victim, sentinel, victim.chain.head.header.height)
    await mine(sentinel, 1)

    await connect(victim, attacker)
    await gossipReady(attacker, victim)
    for (let h = 1n; h <= attacker.chain.head.header.height; h++) assert.equal(await attacker.net.publish('blocks', encodeBlockEnvelope(attacker.chain.getBlockAt(h)!)), 1)
    assert.equal(await attacker.net.publish('blocks', encodeBlockEnvelope(sentinel.chain.getBlockAt(sentinel.chain.head.header.height)!)), 1)
    await waitFor(() => victim.chain.head.header.height === sentinel.chain.head.header.height, 'the victim to import the sentinel block', 20_000)
    assert.equal(victim.validated, 1, 'only the sentinel block was executed')
    assert.equal(hashes(attacker).filter((h) => victim.chain.hasBlock(h)).length, 0, 'no block of the cheap chain was stored')
  })

  test('a heavier fork from an honest peer reorganizes the chain, found at connection and followed by gossip', async (t) => {
    const spec = powSpec({ maxReorgDepth: 100 })
    const honest = await powNode(t, spec)
    await mine(honest, 10)
    const victim = await powNode(t, spec)
    await copyChain(honest, victim, 10n)
    await mine(victim, 3, 2n) // the victim's own branch: 3 blocks
    await mine(honest, 8) // the honest branch: 8 blocks, more work
    assert.ok(workOf(honest) > workOf(victim))
    const reorgs: Reorg[] = []
    victim.chain.on('reorg', (r: Reorg) => reorgs.push(r))

    await connect(victim, honest)
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(honest.chain.head.hash), 'the victim to adopt the heavier branch', 20_000)
    assert.equal(reorgs.length, 1)
    assert.equal(reorgs[0]!.forkPoint.header.height, 10n)
    assert.equal(reorgs[0]!.disconnected.length, 3)
    // New blocks on the winning branch arrive by gossip.
    await gossipReady(honest, victim)
    await mine(honest, 2)
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(honest.chain.head.hash), 'the victim to follow by gossip', 20_000)
    assert.equal(victim.net.penaltyOf(honest.net.peerId), 0, 'the honest peer lost no score')
  })

  test('a heavier fork shown by gossip is followed: the status asks its blocks cause are rate-limited, not lost', async (t) => {
    const spec = powSpec({ maxReorgDepth: 100 })
    const victim = await powNode(t, spec)
    await mine(victim, 10)
    // The peer shares 10 blocks and has 5 more of its own; its status tells only the shared head until told otherwise.
    let honestClaim = false
    const peer = await powNode(t, spec, { quiet: true, claim: (real) => (honestClaim ? real : { height: 10n, hash: victim.chain.getHashAt(10n)!, work: victim.chain.getWork(victim.chain.getHashAt(10n)!) }) })
    await copyChain(victim, peer, 10n)
    await mine(victim, 3, 2n)
    await mine(peer, 5)
    assert.ok(workOf(peer) > workOf(victim))
    const block = (h: bigint) => encodeBlockEnvelope(peer.chain.getBlockAt(h)!)
    const asked = () => nextEvent(peer.net, 'peer:status', (p: { peerId: string }) => p.peerId === victim.net.peerId)

    await connect(victim, peer)
    await gossipReady(peer, victim)
    // Block 11 is lighter than the victim's head: not kept, but its sender is asked for its status (still the old claim).
    const first = asked()
    assert.equal(await peer.net.publish('blocks', block(11n)), 1)
    await first
    // Within the same second the peer's claim grows and block 12 arrives (an orphan): the ask it
    // causes waits for the end of the second instead of being dropped.
    honestClaim = true
    assert.equal(await peer.net.publish('blocks', block(12n)), 1)
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(peer.chain.head.hash), 'the victim to take the heavier fork', 20_000)
  })

  test('a heavier fork deeper than maxReorgDepth is refused before any body is downloaded', async (t) => {
    const spec = powSpec({ maxReorgDepth: 5 })
    const victim = await powNode(t, spec)
    await mine(victim, 12)
    const other = await powNode(t, spec)
    await mine(other, 30, 2n) // other timestamps: forked at genesis, 12 blocks below the victim's head; more work
    assert.ok(workOf(other) > workOf(victim))
    assert.notDeepEqual(other.chain.getHashAt(1n), victim.chain.getHashAt(1n))
    const head = victim.chain.head.hash
    const deep = hashes(other)

    await connect(victim, other)
    await waitFor(() => victim.logs.some((l) => /maxReorgDepth/.test(l)) || victim.validated > 0, 'the victim to look at the deep fork', 20_000)
    assert.equal(victim.validated, 0, 'no body of the deep fork was executed')
    assert.equal(deep.filter((h) => victim.chain.hasBlock(h)).length, 0, 'nothing of it was stored')
    assert.deepEqual(victim.chain.head.hash, head)
    assert.equal(victim.net.penaltyOf(other.net.peerId), 0, 'a deep fork is no offence: the peer keeps its score')
  })
})
