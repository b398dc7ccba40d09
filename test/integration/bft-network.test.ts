/**
 * A consortium chain (BFT, 4 validators of power 1) as four OS processes over libp2p:
 * txs become final on every node, one validator down keeps finality, two down halt it,
 * restarting them resumes it with no manual step, and no two nodes ever report different
 * blocks at the same height.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS } from '../helpers/chain.ts'
import { AgreementWatch, assertAgreement } from '../helpers/agreement.ts'
import { makeDatadir, removeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { startValidator, withLogs } from '../helpers/validators.ts'

type Hex = `0x${string}`
const common = makeCommon(1338n)
const dirs: string[] = []
const running = new Set<NodeProcess>()

after(async () => {
  await Promise.all([...running].map((n) => n.kill().catch(() => undefined)))
  await Promise.all(dirs.map(removeDatadir))
})

const height = async (n: NodeProcess) => BigInt(await n.rpc<Hex>('eth_blockNumber'))

/** Safety: every pair of live nodes agrees on every height both have. */

describe('consortium BFT network (4 validator processes)', () => {
  test('finality, one down, two down, restart, agreement', async () => {
    const datadirs = await Promise.all([0, 1, 2, 3].map(() => makeDatadir()))
    dirs.push(...datadirs)
    const v: NodeProcess[] = []
    v[0] = await startValidator(0, datadirs[0], [], { running })
    const boot = v[0].info.p2p![0]
    for (let i = 1; i < 4; i++) v[i] = await startValidator(i, datadirs[i], [boot], { running })
    let follower: NodeProcess | undefined
    // Safety, checked over RPC in the background for the whole test, across kills and restarts.
    const watch = new AgreementWatch(() => [...v, follower]).start()
    await waitFor('blocks to finalize', async () => (await height(v[3])) >= 3n, { timeoutMs: 60_000 }).catch(withLogs(v))

    // A tx sent to validator 2 is final on all four (free gas on the consortium preset).
    const raw = bytesToHex(
      createFeeMarket1559Tx({ nonce: 0n, to: '0x000000000000000000000000000000000000cafe', value: 42n, gasLimit: 21000n, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n, chainId: 1338n }, { common })
        .sign(KEYS[6])
        .serialize(),
    )
    const hash = await v[2].rpc<Hex>('eth_sendRawTransaction', [raw])
    for (const n of v) {
      await waitFor(`the tx on validator ${v.indexOf(n)}`, () => n.rpc<object | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), { timeoutMs: 60_000 })
    }
    await assertAgreement(v)

    // One validator down (3 of 4 = more than 2/3 of the power): finality continues.
    await v[3].kill()
    running.delete(v[3])
    const h1 = await height(v[0])
    await waitFor('finality with one validator down', async () => (await height(v[0])) >= h1 + 3n, { timeoutMs: 60_000 })

    // Two down (2 of 4): no new height becomes final.
    await v[2].kill()
    running.delete(v[2])
    const live = [v[0], v[1]]
    const stuckAt = await waitFor('the live pair to settle', async () => {
      const [a, b] = await Promise.all(live.map(height))
      return a === b ? a : undefined
    }, { timeoutMs: 30_000 })
    const deadline = Date.now() + 4000
    while (Date.now() < deadline) {
      for (const n of live) assert.ok((await height(n)) <= stuckAt + 1n, 'no progress without 2/3 of the power')
      await new Promise((r) => setTimeout(r, 250))
    }
    const halted = (await Promise.all(live.map(height))).reduce((a, b) => (a > b ? a : b))

    // Restart both: finality resumes with no manual step, and everyone agrees.
    v[2] = await startValidator(2, datadirs[2], [boot], { running })
    v[3] = await startValidator(3, datadirs[3], [boot], { running })
    // Liveness, not speed: rounds grew while two validators were down, and on 2 busy cores the
    // restarted ones must start, sync and catch up to the live pair's round first.
    await waitFor('finality to resume', async () => (await Promise.all(v.map(height))).every((h) => h >= halted + 2n), { timeoutMs: 180_000 }).catch(withLogs(v))
    await assertAgreement(v)

    // Every validator killed at once, then restarted in a random order on the same addresses
    // (peer ids are kept in the datadirs), each knowing the others: the chain resumes.
    const addrs = v.map((n) => n.info.p2p![0])
    const ports = addrs.map((a) => Number(/\/tcp\/(\d+)\//.exec(a)![1]))
    await Promise.all(v.map((n) => n.kill()))
    for (const n of v) running.delete(n)
    const order = [0, 1, 2, 3].sort(() => Math.random() - 0.5)
    const before = halted + 2n
    for (const i of order) v[i] = await startValidator(i, datadirs[i], addrs.filter((_, j) => j !== i), { p2pPort: ports[i], running })
    await waitFor(`finality after restarting all in order ${order.join(',')}`, async () => (await Promise.all(v.map(height))).every((h) => h >= before + 2n), { timeoutMs: 180_000 }).catch(withLogs(v))
    await assertAgreement(v)

    // A node without a validator key joins late: it syncs from height 0 (checking every seal's
    // certificate) and then follows finality without voting.
    const followerDir = await makeDatadir()
    dirs.push(followerDir)
    follower = await startNode({ datadir: followerDir, chain: 'consortium', args: ['--p2p-port', '0', '--bootnodes', addrs.join(',')] })
    running.add(follower)
    const target = await height(v[0])
    await waitFor('the late follower to sync', async () => (await height(follower)) >= target, { timeoutMs: 60_000 })
    await waitFor('the follower to follow new final blocks', async () => (await height(follower)) >= target + 2n, { timeoutMs: 60_000 })
    await assertAgreement([...v, follower])
    assert.ok(await follower.rpc('eth_getTransactionReceipt', [hash]), 'the follower has the old tx')
    const safety = await watch.stop()
    assert.deepEqual(safety.violations, [])
    assert.ok(safety.checks > 10 && safety.heights > 5, `the watch checked (${safety.checks} checks, ${safety.heights} heights)`)
  })
})
