/**
 * Proof of Work across a partition, as OS processes: two miners start apart and mine their own
 * branches; a tx is mined on the lighter side only. When the lighter node rejoins, it fetches the
 * heavier branch, reorganizes to it (logging the switch), and its tx returns to the mempool and
 * is mined again on the winning branch. Blocks report difficulty and total difficulty.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { targetToCompact } from '../../src/consensus/pow/target.ts'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS } from '../helpers/chain.ts'
import { blockHeight, makeDatadir, startNode, trackNodes, waitFor, type NodeProcess } from '../helpers/node-process.ts'

type Hex = `0x${string}`
const CHAIN_ID = 1340n
const common = makeCommon(CHAIN_ID)
const { dirs, running, cleanup } = trackNodes()
after(cleanup)

const height = blockHeight
const head = (n: NodeProcess) => n.rpc<{ hash: Hex; number: Hex; difficulty: Hex; totalDifficulty: Hex }>('eth_getBlockByNumber', ['latest', false])

describe('proof of work: partition, reconnect, reorg', () => {
  test('the lighter side reorganizes to the heavier branch and its tx returns to the mempool', async () => {
    const [dirA, dirB] = await Promise.all([makeDatadir(), makeDatadir()])
    dirs.push(dirA, dirB)
    const spec = presetJSON('bitcoin-like')!
    spec.name = 'pow-reorg-test'
    const bits = targetToCompact((1n << 256n) / 200_000n) // ~200,000 hashes a block: about one a second per miner thread
    spec.engine = { type: 'pow', initialBits: bits, powLimitBits: bits, retarget: { kind: 'bitcoin', interval: 100_000 }, coinbaseMaturity: 100, maxReorgDepth: 1000 }
    spec.blockTimeMs = 1000
    const genesis = join(dirA, 'genesis.json')
    await writeFile(genesis, JSON.stringify(spec))
    const start = async (dir: string, args: string[]) => {
      const n = await startNode({ datadir: dir, chain: genesis, args: ['--p2p-port', '0', ...args] })
      running.add(n)
      return n
    }
    const stop = async (n: NodeProcess) => {
      await n.kill()
      running.delete(n)
    }

    // Two miners that do not know each other: two branches from genesis.
    const a = await start(dirA, ['--mine', '--miner-threads', '1', '--coinbase', '0x00000000000000000000000000000000000000aa'])
    let b = await start(dirB, ['--mine', '--miner-threads', '1', '--coinbase', '0x00000000000000000000000000000000000000bb'])
    const raw = bytesToHex(
      createFeeMarket1559Tx({ nonce: 0n, to: '0x000000000000000000000000000000000000cafe', value: 5n, gasLimit: 21000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n, chainId: CHAIN_ID }, { common })
        .sign(KEYS[5])
        .serialize(),
    )
    const txHash = await b.rpc<Hex>('eth_sendRawTransaction', [raw])
    const minedOnB = await waitFor('the tx mined on B', () => b.rpc<{ blockNumber: Hex } | null>('eth_getTransactionReceipt', [txHash]).then((r) => r ?? undefined), { timeoutMs: 60_000 })
    await waitFor('B at height 3', async () => (await height(b)) >= 3n, { timeoutMs: 60_000 })

    // B stops mining; A mines on until its branch is clearly heavier.
    await stop(b)
    const hB = await waitFor('B to be readable again', async () => {
      b = await start(dirB, [])
      return height(b)
    })
    await stop(b)
    await waitFor('A ahead of B by 5 blocks', async () => (await height(a)) >= hB + 5n, { timeoutMs: 90_000 })
    const aHead = await head(a)
    assert.ok(BigInt(aHead.difficulty) > 0n, 'blocks report their difficulty')
    assert.ok(BigInt(aHead.totalDifficulty) >= BigInt(aHead.difficulty) * BigInt(aHead.number), 'total difficulty is the sum of the chain')
    assert.equal((await a.rpc<unknown>('eth_getTransactionReceipt', [txHash])), null, 'A never saw the tx')

    // B rejoins A (not mining): it takes A's branch and its tx goes back to the pool.
    b = await start(dirB, ['--bootnodes', a.info.p2p![0]!])
    await waitFor('B to reorganize to A', async () => {
      const [ha, hb] = await Promise.all([a.rpc<{ hash: Hex; number: Hex }>('eth_getBlockByNumber', [minedOnB.blockNumber, false]), b.rpc<{ hash: Hex } | null>('eth_getBlockByNumber', [minedOnB.blockNumber, false])])
      return hb?.hash === ha.hash || undefined
    }, { timeoutMs: 90_000 })
    await waitFor('B to log the reorganization', async () => b.logLines().some((l) => l.msg === 'chain reorganized') || undefined, { timeoutMs: 30_000 }).catch((err) => {
      // If it fails, show what B said (a reorg during start-up once went unlogged: sync started before the node's listeners).
      throw new Error(`${(err as Error).message}\nB's log (without block imports):\n${b.output().split('\n').filter((l) => !/block imported/.test(l)).slice(-25).join('\n')}`)
    })
    // The tx left B's chain and was relayed to A, which mines it on the winning branch.
    const final = await waitFor('the tx mined again on the heavier branch', () => a.rpc<{ blockNumber: Hex; status: Hex } | null>('eth_getTransactionReceipt', [txHash]).then((r) => r ?? undefined), { timeoutMs: 90_000 })
    assert.equal(final.status, '0x1')
    await waitFor('B to see it on the new branch', async () => {
      const r = await b.rpc<{ blockHash: Hex } | null>('eth_getTransactionReceipt', [txHash])
      const blockOnA = await a.rpc<{ hash: Hex }>('eth_getBlockByNumber', [final.blockNumber, false])
      return (r && r.blockHash === blockOnA.hash) || undefined
    }, { timeoutMs: 60_000 }).catch(async (err) => {
      throw new Error(`${(err as Error).message}; A at ${await height(a)}, B at ${await height(b)}, tx in A's block ${final.blockNumber}; B says ${JSON.stringify(await b.rpc('eth_getTransactionReceipt', [txHash]))}\n${b.output().split('\n').filter((l) => !/block imported/.test(l)).slice(-15).join('\n')}`)
    })
    const conf = await a.rpc<{ blockNumber: Hex; confirmations: Hex }>('catena_confirmations', [txHash])
    assert.equal(conf.blockNumber, final.blockNumber)
    assert.ok(BigInt(conf.confirmations) >= 1n)
    const mining = await a.rpc<{ mining: boolean; hashrate: number; threads: number }>('catena_mining')
    assert.equal(mining.mining, true)
    assert.ok(mining.hashrate > 0 && mining.threads === 1)
  })
})
