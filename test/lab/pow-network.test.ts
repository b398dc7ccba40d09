/**
 * The lab's PoW network: real chains, real blocks with real proofs of work, real import; only
 * the clock and the choice of finder are simulated. It converges to the branch with the most
 * work, a withheld heavier branch reorganizes every honest node through the importer, and the
 * same seed gives the same chain.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { PowNetwork, replaySchedule, type MinerStrategy } from '../../src/lab/sim/pow-network.ts'

const noisy = { delay: (_f: number, _t: number, _h: Uint8Array, prng: { next(): number }) => 3 * prng.next(), meanBlockSeconds: 5 }

describe('lab: PoW network over real chains', () => {
  test('honest nodes with propagation delays fork, and converge to the same most-work chain', async () => {
    const net = await PowNetwork.create({ seed: 7, miners: [{ hashrate: 1 }, { hashrate: 1 }, { hashrate: 1 }], ...noisy })
    await net.run({ blocks: 80 })
    await net.settle()
    const heads = net.nodes.map((n) => n.head)
    for (const h of heads) assert.ok(equalsBytes(h.hash, heads[0]!.hash), 'every node ends on the same head')
    // With 3 s delays on 5 s blocks some blocks race: orphans exist and nodes reorganized to the heavier branch.
    assert.ok(net.reorgs.length > 0, 'some node switched branches')
    assert.ok(net.totalBlocks > Number(heads[0]!.header.height), 'some blocks were orphaned')
    const work = net.nodes[0]!.chain.getWork(heads[0]!.hash)
    for (const n of net.nodes) assert.equal(n.chain.getWork(n.head.hash), work)
    // Every canonical block carries a valid proof: another node imported it through the real rules.
    const miners = new Set(net.canonical(0).map((b) => b.miner))
    assert.equal(miners.size, 3, 'all three miners have blocks in the chain')
  })

  test('a withheld heavier branch reorganizes every honest node through the real importer', async () => {
    // Miner 2 mines privately from the start and publishes its tip once it is 2 blocks ahead.
    let tip: Uint8Array | undefined
    let honestHeight = 0n
    let published = false
    const withholder: MinerStrategy = {
      miningParent: (ctx) => tip ?? ctx.node.head.hash,
      onMined: (ctx, hash) => {
        tip = hash
        if (!published && ctx.info(hash).height >= honestHeight + 2n) {
          published = true
          ctx.publish(hash)
        }
      },
      onReceived: (_ctx, hash) => {
        honestHeight = _ctx.info(hash).height > honestHeight ? _ctx.info(hash).height : honestHeight
      },
    }
    // The finders, in order: honest, attacker x3 (private), then honest ones.
    const schedule = replaySchedule([0, 2, 2, 2, 1, 0], 5)
    const net = await PowNetwork.create({ seed: 1, miners: [{ hashrate: 1 }, { hashrate: 1 }, { hashrate: 1, strategy: withholder }], schedule, delay: () => 0.1 })
    await net.run({ blocks: 4 })
    await net.settle()
    const privateTip = tip!
    assert.ok(published)
    for (const i of [0, 1]) {
      assert.ok(equalsBytes(net.nodes[i]!.head.hash, privateTip), `honest node ${i} adopted the heavier private branch`)
      const r = net.reorgs.find((x) => x.node === i)
      assert.ok(r, `node ${i} reorganized`)
      assert.equal(r!.depth, 1, 'the honest block was disconnected')
      // The first private block ties the honest one (kept on the side: first seen wins a tie);
      // the second outweighs it (reorg to 2 blocks); the third extends the new head.
      assert.equal(r!.connected.length, 2)
    }
    assert.deepEqual(net.canonical(0).map((b) => b.miner), [2, 2, 2])
    await net.run()
    await net.settle()
    assert.deepEqual(net.canonical(1).map((b) => b.miner), [2, 2, 2, 1, 0], 'honest miners continue on the adopted branch')
  })

  test('a tie goes to the block a node saw first (delivery order decides, as gamma models)', async () => {
    // Miner 2 mines on genesis whatever it hears and publishes at once: its block ties miner 0's.
    const rival: MinerStrategy = { miningParent: (ctx) => ctx.node.chain.genesisHash, onReceived: () => {} }
    // Miner 0's block takes 1000 s to reach node 1, the rival's 0.1 s: node 1 sees the rival's first.
    const delay = (from: number, to: number) => (from === 0 && to === 1 ? 1000 : 0.1)
    const net = await PowNetwork.create({ seed: 3, miners: [{ hashrate: 1 }, { hashrate: 1 }, { hashrate: 1, strategy: rival }], schedule: replaySchedule([0, 2], 5), delay })
    await net.run()
    await net.settle()
    assert.deepEqual(net.canonical(0).map((b) => b.miner), [0], 'node 0 keeps its own block (seen first)')
    assert.deepEqual(net.canonical(1).map((b) => b.miner), [2], "node 1 keeps the rival's block (seen first)")
    for (const n of net.nodes.slice(0, 2)) assert.equal(n.chain.getWork(n.head.hash), net.nodes[0]!.chain.getWork(net.nodes[0]!.head.hash))
    assert.equal(net.reorgs.length, 0, 'an equal-work block never switches the chain')
  })

  test('same seed, same chain; another seed, another chain', async () => {
    const chainOf = async (seed: number) => {
      const net = await PowNetwork.create({ seed, miners: [{ hashrate: 2 }, { hashrate: 1 }], ...noisy })
      await net.run({ blocks: 30 })
      await net.settle()
      return { head: bytesToHex(net.nodes[0]!.head.hash), miners: net.canonical(0).map((b) => b.miner).join(''), now: net.now }
    }
    const a = await chainOf(11)
    assert.deepEqual(await chainOf(11), a)
    assert.notEqual((await chainOf(12)).head, a.head)
  })
})
