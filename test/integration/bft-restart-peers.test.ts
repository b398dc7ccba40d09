/**
 * A consortium network laid out as `catena devnet` lays it out (node 0 is every other
 * node's only bootnode) loses all four validators at once, and only nodes 1-3 come back.
 * Three of four is more than 2/3 of the power, so the chain must finalize again: the
 * restarted nodes find each other through the peers they remember (<datadir>/peers.json),
 * not through node 0, which stays down.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { assertAgreement } from '../helpers/agreement.ts'
import { readPeerStore } from '../../src/net/peer-store.ts'
import { blockHeight, makeDatadir, trackNodes, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { startValidator, withLogs } from '../helpers/validators.ts'

const { dirs, running, cleanup } = trackNodes()
after(cleanup)

describe('consortium restart without its bootnode (4 validator processes)', () => {
  test('all four killed, nodes 1-3 restarted with only node 0 as bootnode: they finalize again', async (t) => {
    const datadirs = await Promise.all([0, 1, 2, 3].map(() => makeDatadir()))
    dirs.push(...datadirs)
    const v: NodeProcess[] = []
    v[0] = await startValidator(0, datadirs[0], [], { running })
    const boot = v[0].info.p2p![0]
    for (let i = 1; i < 4; i++) v[i] = await startValidator(i, datadirs[i], [boot], { running })
    await waitFor('blocks to finalize', async () => (await Promise.all(v.map(blockHeight))).every((h) => h >= 3n), { timeoutMs: 120_000 }).catch(withLogs(v))

    // Peer exchange meshes the network; each of nodes 1-3 must have saved the other two in
    // its peer store before the crash (the store is what survives it).
    const ids = v.map((n) => n.info.peerId!)
    for (const i of [1, 2, 3]) {
      const others = [1, 2, 3].filter((j) => j !== i).map((j) => ids[j])
      await waitFor(`node ${i} to remember nodes 1-3`, async () => {
        const stored = new Set((await readPeerStore(datadirs[i])).map((p) => p.peerId))
        return others.every((id) => stored.has(id))
      }, { timeoutMs: 60_000 }).catch(withLogs(v))
    }

    const ports = v.map((n) => Number(/\/tcp\/(\d+)\//.exec(n.info.p2p![0])![1]))
    await Promise.all(v.map((n) => n.kill()))
    for (const n of v) running.delete(n)

    // Only 1-3 come back, on their old addresses, told of node 0 alone (as the devnet did).
    const restartedAt = Date.now()
    const back: NodeProcess[] = []
    for (const i of [1, 2, 3]) back.push(await startValidator(i, datadirs[i], [boot], { p2pPort: ports[i], running }))
    const start = (await Promise.all(back.map(blockHeight))).reduce((a, b) => (a > b ? a : b))
    await waitFor('nodes 1-3 to finalize two new heights without node 0', async () => (await Promise.all(back.map(blockHeight))).every((h) => h >= start + 2n), {
      timeoutMs: 180_000,
    }).catch(withLogs(back))
    t.diagnostic(`restart to 2 new final heights: ${Date.now() - restartedAt} ms (node starts included)`)
    await assertAgreement(back)
    assert.ok(back.every((n) => n.exitInfo === undefined), 'every restarted node is still running')
  })
})
