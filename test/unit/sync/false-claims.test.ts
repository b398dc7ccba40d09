/**
 * Peers that claim a head they cannot show, against a PoW node's range sync: one claims
 * height 2^63 and enormous work and answers nothing, one serves a real but short prefix, one
 * serves headers whose proof of work is forged. The node still syncs from the honest peer,
 * ranks peers by the work their headers prove, and the liars lose score (the forger is
 * dropped at once).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { decodeHeader, encodeBlockEnvelope, encodeHeader } from '../../../src/chain/block.ts'
import { decodePowSeal, encodePowSeal } from '../../../src/consensus/pow/seal.ts'
import { PENALTY } from '../../../src/net/index.ts'
import { decodeHashList, encodeBlockList } from '../../../src/sync/wire.ts'
import { MAX_HEADERS, decodeHeaderRequest, encodeHeaderList } from '../../../src/sync/wire.ts'
import { waitFor, isPeer } from '../net/helpers.ts'
import { connect, mine, powNode, powSpec, workOf, type PowNode } from './harness.ts'

const HUGE = { height: 2n ** 63n, work: 2n ** 200n }

/** A liar: claims HUGE and answers from `honest`'s chain as `serve` says. */
async function liar(t: Parameters<typeof powNode>[0], spec: ReturnType<typeof powSpec>, honest: PowNode, serve: { headers: (from: bigint) => Uint8Array[]; upTo: bigint }) {
  const node = await powNode(t, spec, { noSync: true, claim: () => ({ height: HUGE.height, hash: new Uint8Array(32).fill(0xee), work: HUGE.work }) })
  const served = { headers: 0, bodies: 0 }
  await node.net.handle('headersByLocator', (req) => {
    served.headers++
    const { locator } = decodeHeaderRequest(req)
    const known = locator.map((h) => honest.chain.getHeightOf(h)).find((h) => h !== undefined) ?? 0n
    return encodeHeaderList(serve.headers(known + 1n))
  })
  await node.net.handle('blocksByHash', (req) => {
    served.bodies++
    const blocks = decodeHashList(req).flatMap((h) => {
      const height = honest.chain.getHeightOf(h)
      return height !== undefined && height <= serve.upTo ? [encodeBlockEnvelope(honest.chain.getBlock(h)!)] : []
    })
    return encodeBlockList(blocks)
  })
  await node.net.handle('blocksByRange', () => encodeBlockList([]))
  return { node, served }
}

/** Honest headers from `from` up to `upTo` (at most 1024), encoded. */
function headersOf(honest: PowNode, from: bigint, upTo: bigint, change: (bytes: Uint8Array) => Uint8Array = (b) => b): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let h = from; h <= upTo && out.length < 1024; h++) out.push(change(encodeHeader(honest.chain.getBlockAt(h)!.header)))
  return out
}

describe('PoW sync: false claims', () => {
  test('a peer claiming height 2^63 and huge work with empty answers is penalized; the node syncs from the honest peer', async (t) => {
    const spec = powSpec()
    const honest = await powNode(t, spec)
    await mine(honest, 30)
    const victim = await powNode(t, spec)
    const { node: l } = await liar(t, spec, honest, { headers: () => [], upTo: 0n })

    await connect(victim, l)
    await waitFor(() => victim.net.penaltyOf(l.net.peerId) > 0, 'the liar to be penalized')
    await connect(victim, honest)
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(honest.chain.head.hash), 'the victim to sync from the honest peer', 20_000)
    assert.ok(victim.net.penaltyOf(l.net.peerId) >= PENALTY.unfulfilledClaim)
    assert.equal(victim.net.penaltyOf(honest.net.peerId), 0)
    // Readiness compares against believed claims only: the liar's 2^63 does not count.
    assert.equal(victim.sync.bestPeerHeight(), honest.chain.head.header.height)
  })

  test('a peer claiming huge work that never answers is penalized after the request times out; the node syncs from the honest peer', async (t) => {
    const spec = powSpec()
    const honest = await powNode(t, spec)
    await mine(honest, 10)
    const victim = await powNode(t, spec)
    const l = await powNode(t, spec, { noSync: true, claim: () => ({ height: HUGE.height, hash: new Uint8Array(32).fill(0xee), work: HUGE.work }) })
    let release!: () => void
    const hung = new Promise<Uint8Array>((resolve) => (release = () => resolve(encodeHeaderList([]))))
    t.after(() => release())
    await l.net.handle('headersByLocator', () => hung)

    await connect(victim, l)
    await connect(victim, honest)
    await waitFor(() => victim.net.penaltyOf(l.net.peerId) >= PENALTY.unfulfilledClaim, 'the silent liar to be penalized', 20_000)
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(honest.chain.head.hash), 'the victim to sync from the honest peer', 20_000)
  })

  test('a peer serving a real but short prefix under a huge claim is penalized after it; the node syncs from the honest peer', async (t) => {
    const spec = powSpec()
    const honest = await powNode(t, spec)
    await mine(honest, 30)
    const victim = await powNode(t, spec)
    const { node: l, served } = await liar(t, spec, honest, { headers: (from) => headersOf(honest, from, 5n), upTo: 5n })

    await connect(victim, l)
    await waitFor(() => victim.net.penaltyOf(l.net.peerId) > 0, 'the liar to be penalized')
    assert.ok(served.headers > 0)
    await connect(victim, honest)
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(honest.chain.head.hash), 'the victim to sync from the honest peer', 20_000)
    assert.ok(victim.net.penaltyOf(l.net.peerId) >= PENALTY.unfulfilledClaim)
  })

  test('a peer whose headers carry a forged proof of work is penalized and dropped before any body is fetched', async (t) => {
    const spec = powSpec()
    const honest = await powNode(t, spec)
    await mine(honest, 30)
    const victim = await powNode(t, spec)
    // The honest headers with the nonce changed: the proof no longer meets the target (for most nonces).
    const forge = (bytes: Uint8Array) => {
      const h = decodeHeader(bytes)
      const seal = decodePowSeal(h.seal)
      return encodeHeader({ ...h, seal: encodePowSeal({ bits: seal.bits, nonce: seal.nonce ^ 0xffffn }) })
    }
    const { node: l, served } = await liar(t, spec, honest, { headers: (from) => headersOf(honest, from, 30n, forge), upTo: 30n })

    await connect(victim, l)
    await waitFor(() => !isPeer(victim.net, l.net), 'the forger to be dropped')
    assert.ok(victim.net.penaltyOf(l.net.peerId) >= 50, `the forger lost score (${victim.net.penaltyOf(l.net.peerId)})`)
    assert.equal(served.bodies, 0, 'no body was asked for')
    assert.equal(victim.validated, 0)
    await connect(victim, honest)
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(honest.chain.head.hash), 'the victim to sync from the honest peer', 20_000)
  })

  test('a liar whose whole valid chain falls short of its claim is penalized and none of it is taken, even by a fresh node', async (t) => {
    // With maxReorgDepth 20, taking the liar's 160 blocks first would make the honest chain a fork too deep to follow.
    const spec = powSpec({ maxReorgDepth: 20 })
    const honest = await powNode(t, spec)
    await mine(honest, 45)
    const liar = await powNode(t, spec, { claim: (real) => ({ ...real, work: HUGE.work }) })
    await mine(liar, 160, 600n)
    assert.ok(workOf(liar) < workOf(honest))
    const cheap = liar.chain.getHashAt(1n)!
    const victim = await powNode(t, spec, { deferSync: true })

    // Both connected before the victim looks at either. The liar claims the most work, so it is
    // looked at first; were the honest chain taken first, the liar's would be a fork deeper than
    // maxReorgDepth, which is not followed (and not a fault), and its claim never tested.
    await connect(victim, liar)
    await connect(victim, honest)
    await victim.sync.start()
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(honest.chain.head.hash), 'the victim to take the heavier chain', 20_000)
    assert.equal(victim.chain.hasBlock(cheap), false, 'nothing of the lighter chain was taken')
    assert.ok(victim.net.penaltyOf(liar.net.peerId) >= PENALTY.unfulfilledClaim, 'the liar showed less than it claimed')
  })

  test('a fresh node knowing a liar and an honest peer takes the chain with more verified work, not the bigger claim', async (t) => {
    // The liar's chain is longer than one header window (so it is not seen whole, and its claim
    // cannot be caught yet) and lighter; taken first, it would make the honest chain a fork
    // deeper than maxReorgDepth (20) and the victim could never leave it.
    const spec = powSpec({ maxReorgDepth: 20 })
    const honest = await powNode(t, spec)
    await mine(honest, 70)
    const liar = await powNode(t, spec, { claim: (real) => ({ ...real, work: HUGE.work }) })
    await mine(liar, MAX_HEADERS + 76, 600n)
    assert.ok(workOf(liar) < workOf(honest), `the liar's chain is lighter (${workOf(liar)} < ${workOf(honest)})`)
    const cheap = liar.chain.getHashAt(1n)!
    const victim = await powNode(t, spec, { deferSync: true })
    await connect(victim, liar)
    await connect(victim, honest)
    await victim.sync.start()

    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(honest.chain.head.hash), 'the victim to take the heavier chain', 20_000)
    assert.equal(victim.chain.hasBlock(cheap), false, 'nothing of the lighter chain was taken')
    assert.equal(victim.validated, 70)
  })

  test('of two honest peers on different branches, the node follows the one whose headers prove more work, not the higher one', async (t) => {
    const spec = powSpec()
    const heavy = await powNode(t, spec)
    await mine(heavy, 30) // 1 s apart: fewer blocks, more work
    const long = await powNode(t, spec)
    await mine(long, 80, 600n) // more blocks, less work
    assert.ok(long.chain.head.header.height > heavy.chain.head.header.height)
    assert.ok(long.chain.getWork(long.chain.head.hash) < heavy.chain.getWork(heavy.chain.head.hash))
    const victim = await powNode(t, spec)

    await connect(victim, long)
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(long.chain.head.hash), 'the victim to take the only chain it knows', 20_000)
    await connect(victim, heavy)
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(heavy.chain.head.hash), 'the victim to switch to the heavier chain', 20_000)
    assert.equal(victim.net.penaltyOf(long.net.peerId), 0)
    assert.equal(victim.net.penaltyOf(heavy.net.peerId), 0)
  })
})
