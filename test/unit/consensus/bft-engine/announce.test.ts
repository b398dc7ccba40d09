/**
 * Which BFT blocks a node gossips on the blocks topic (BftEngine.announces, asked by node/ for
 * every block the chain announces), and why the ones it decides need no gossip: a non-validator
 * full node that missed a height's votes still gets every final block with its certificate,
 * through block sync, even when the proposer stops right after committing. The in-memory
 * network here carries consensus messages only: no block is ever gossiped.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bytesToHex } from '@ethereumjs/util'
import type { ImportedBlock } from '../../../../src/chain/chain.ts'
import { decodeCertificate } from '../../../../src/consensus/bft/index.ts'
import { TestValidator, startCluster, waitFor } from './harness.ts'

/** Per node: for each block the chain announced, whether the engine asked for it to be gossiped. */
function recordAnnouncements(v: TestValidator): Array<{ height: bigint; gossiped: boolean }> {
  const seen: Array<{ height: bigint; gossiped: boolean }> = []
  // As node/node.ts asks: inside the chain's 'block' event, while the commit is under way.
  v.t.chain.on('block', (b: ImportedBlock) => seen.push({ height: b.block.header.height, gossiped: v.engine?.announces(b) ?? true }))
  return seen
}

function minHeight(nodes: TestValidator[]): bigint {
  return nodes.reduce((m, v) => (v.height < m ? v.height : m), nodes[0]!.height)
}

describe('bft engine: block announcements', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>
  let follower: TestValidator
  const announced = new Map<string, Array<{ height: bigint; gossiped: boolean }>>()

  before(async () => {
    cluster = await startCluster(4, { followers: 1 })
    follower = cluster.followers[0]!
    for (const v of [...cluster.nodes, follower]) announced.set(v.id, recordAnnouncements(v))
  })
  after(async () => {
    await cluster?.close()
  })

  test('blocks decided by consensus are not gossiped, by validators or by a following full node', async () => {
    const nodes = [...cluster.nodes, follower]
    await waitFor(() => minHeight(nodes) >= 3n, 30_000, 'height 3 on the validators and the follower')
    assert.equal(follower.syncs, 0, 'the follower committed from the votes, not by sync')
    for (const v of nodes) {
      const mine = announced.get(v.id)!
      assert.ok(mine.length >= 3, `${v.id} committed ${mine.length} blocks`)
      assert.deepEqual(mine.filter((a) => a.gossiped), [], `${v.id} gossips no block it decided`)
    }
  })

  test('a follower that missed heights gets every final block by sync, with its certificate, though the proposer stopped right after committing', async () => {
    const { net, nodes } = cluster
    net.setConnected(follower.id, false)
    const missedFrom = follower.height + 1n
    await waitFor(() => minHeight(nodes) >= missedFrom + 1n, 30_000, 'two heights the follower does not see')
    // The proposer of the newest block stops as soon as it has it: the others go on without it.
    const head = nodes[0]!.t.chain.head
    const proposer = nodes.find((v) => bytesToHex(v.engine!.producer) === bytesToHex(head.header.producer))!
    await proposer.stop()
    const live = nodes.filter((v) => v !== proposer)
    const target = minHeight(live) + 1n
    net.setConnected(follower.id, true)
    await waitFor(() => follower.height >= target, 30_000, `the follower at height ${target}`)
    assert.ok(follower.syncs > 0, 'the next heights’ messages sent the follower to block sync')
    for (let h = missedFrom; h <= target; h++) {
      const hash = follower.t.chain.getHashAt(h)!
      assert.equal(bytesToHex(hash), bytesToHex(live[0]!.t.chain.getHashAt(h)!), `height ${h}`)
      const certificate = decodeCertificate(follower.t.chain.getProof(hash)!)
      assert.equal(certificate.height, h, `height ${h} is stored with its certificate`)
    }
    // What came by sync is not a block this engine decided: it may be announced (block sync skips it while catching up).
    const synced = announced.get(follower.id)!.filter((a) => a.height >= missedFrom && a.height < target)
    assert.ok(synced.length > 0 && synced.every((a) => a.gossiped), JSON.stringify(synced.map((a) => [String(a.height), a.gossiped])))
  })
})
