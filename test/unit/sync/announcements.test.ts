/**
 * Blocks too large for a gossip frame (js-gossipsub cannot send one over 4 MiB, whatever the
 * topic limit) are announced by header: a node that does not have the block asks its sender
 * for its status and catches up by request/response, whose frames follow the chain spec.
 * Here every block counts as too large (maxInlineBytes 0), on a dev chain and a PoW chain.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { bytesToHex } from '@ethereumjs/util'
import { decodeBlockGossip, encodeBlockAnnouncement } from '../../../src/sync/wire.ts'
import { openTestChain, produceBlock } from '../../helpers/chain.ts'
import { waitFor } from '../net/helpers.ts'
import { gossipReady, mine, powNode, powSpec, syncNode } from './harness.ts'

describe('block announcements for blocks too large to gossip', () => {
  test('the announcement is the header and proof, and decodes as one', async () => {
    const t = await openTestChain()
    const { imported } = await produceBlock(t, [])
    const gossip = decodeBlockGossip(encodeBlockAnnouncement(imported.block.header))
    assert.equal(gossip.kind, 'announcement')
    assert.equal(gossip.kind === 'announcement' && bytesToHex(gossip.hash), bytesToHex(imported.hash))
  })

  test('a dev follower gets every announced block by range sync', async (t) => {
    const producer = await syncNode(t, await openTestChain(), { maxInlineBytes: 0 })
    const follower = await syncNode(t, await openTestChain(), { maxInlineBytes: 0 })
    await follower.net.connect(producer.net.multiaddrs()[0]!)
    await gossipReady(producer, follower)
    for (let i = 0; i < 5; i++) {
      await produceBlock(producer, [])
      await waitFor(() => bytesToHex(follower.chain.head.hash) === bytesToHex(producer.chain.head.hash), `block ${i + 1} at the follower`, 20_000)
    }
  })

  test('a PoW follower gets announced blocks headers first', async (t) => {
    const spec = powSpec()
    const miner = await powNode(t, spec, { maxInlineBytes: 0 })
    const follower = await powNode(t, spec, { maxInlineBytes: 0 })
    await follower.net.connect(miner.net.multiaddrs()[0]!)
    await gossipReady(miner, follower)
    await mine(miner, 3, 60n)
    await waitFor(() => bytesToHex(follower.chain.head.hash) === bytesToHex(miner.chain.head.hash), 'the mined blocks at the follower', 20_000)
  })
})
