/**
 * An orphan flood against a PoW node's block gossip: blocks whose parents are unknown, each
 * the tip of a long fake ancestry the attacker serves by hash. The node fetches none of it on
 * the gossip path (no ancestor walk, nothing held per orphan), asks the sender for its status
 * a bounded number of times, and keeps importing real blocks from the same connection.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { blockHash, encodeBlockEnvelope, type BlockHeader } from '../../../src/chain/block.ts'
import { encodePowSeal } from '../../../src/consensus/pow/seal.ts'
import { decodeHashList, encodeBlockList } from '../../../src/sync/wire.ts'
import { waitFor } from '../net/helpers.ts'
import { connect, copyChain, gossipReady, mine, powChain, powNode, powSpec } from './harness.ts'

const ANCESTRY = 1100
const ORPHANS = 8

describe('PoW orphan flood', () => {
  test('orphans with an endless fake ancestry cost no fetches and no memory; gossip stays responsive', async (t) => {
    const spec = powSpec()
    const victim = await powNode(t, spec)
    await mine(victim, 5)
    const attacker = await powNode(t, spec, { noSync: true })

    // A fake ancestry: each header names the previous one as parent (so it can be served by hash).
    const head = victim.chain.head.header
    const envelopes = new Map<string, Uint8Array>()
    const tips: Uint8Array[] = []
    let parentHash: Uint8Array = randomBytes(32)
    for (let i = 0; i < ANCESTRY; i++) {
      const header: BlockHeader = { ...head, parentHash, height: head.height + 1n, timestamp: head.timestamp + 1n, seal: encodePowSeal({ bits: 0x207fffff, nonce: BigInt(i) }) }
      const envelope = encodeBlockEnvelope({ header, txs: [] })
      parentHash = blockHash(header)
      envelopes.set(Buffer.from(parentHash).toString('hex'), envelope)
      if (i >= ANCESTRY - ORPHANS) tips.push(envelope)
    }
    let served = 0
    await attacker.net.handle('blocksByHash', (req) => {
      served++
      return encodeBlockList(decodeHashList(req).flatMap((h) => envelopes.get(Buffer.from(h).toString('hex')) ?? []))
    })
    let statusAsks = 0
    attacker.net.on('peer:status', (p) => void (p.peerId === victim.net.peerId && statusAsks++))
    const sentinel = await powChain(spec)
    await copyChain(victim, sentinel, victim.chain.head.header.height)
    await mine(sentinel, 1)

    await connect(victim, attacker)
    await gossipReady(attacker, victim)
    for (const tip of tips) assert.equal(await attacker.net.publish('blocks', tip), 1)
    assert.equal(await attacker.net.publish('blocks', encodeBlockEnvelope(sentinel.chain.getBlockAt(sentinel.chain.head.header.height)!)), 1)
    await waitFor(() => victim.chain.head.header.height === sentinel.chain.head.header.height, 'the victim to import the block after the flood', 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}; the victim said: ${victim.logs.slice(-15).join(' | ')}`)
    })

    assert.equal(served, 0, `no ancestor of an orphan was fetched on the gossip path (${served} requests)`)
    assert.ok(statusAsks <= 2, `the sender's status was asked a bounded number of times (${statusAsks})`)
    assert.equal(victim.validated, 1, 'only the real block was executed')
  })
})
