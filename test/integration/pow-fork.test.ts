/**
 * A contentious hard fork, as OS processes. One genesis; node A's chain spec schedules a fork
 * at height FORK that raises the block byte limit and changes the chain id (replay
 * protection), node B's does not. Both follow one chain until FORK; then they split into two
 * chains that never merge again (each side's seals commit to its own chain id, and the peers
 * refuse each other), big blocks exist only on A's side, and a tx signed for one side is
 * refused by the other.
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
const OLD_ID = 1340n
const NEW_ID = 1342n
const FORK = 10n
const OLD_MAX_BLOCK_BYTES = 4000
const { dirs, running, cleanup } = trackNodes()
after(cleanup)

const height = blockHeight
const blockAt = (n: NodeProcess, h: bigint) => n.rpc<{ hash: Hex; size: Hex; transactions: Hex[] } | null>('eth_getBlockByNumber', [`0x${h.toString(16)}`, false])

function signed(chainId: bigint, key: number, over: { nonce?: bigint; data?: Uint8Array } = {}): Hex {
  const tx = createFeeMarket1559Tx(
    { nonce: over.nonce ?? 0n, to: '0x000000000000000000000000000000000000cafe', value: 7n, gasLimit: over.data ? 1_000_000n : 21_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n, chainId, data: over.data },
    { common: makeCommon(chainId) },
  )
  return bytesToHex(tx.sign(KEYS[key]).serialize())
}

async function mined(n: NodeProcess, hash: Hex, what: string) {
  return waitFor(what, () => n.rpc<{ blockNumber: Hex; status: Hex } | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), { timeoutMs: 60_000 })
}

describe('proof of work: a hard fork splits the network, with replay protection', () => {
  test('nodes with and without the fork part at its height; txs and big blocks stay on their side', async () => {
    const [dirA, dirB] = await Promise.all([makeDatadir(), makeDatadir()])
    dirs.push(dirA, dirB)
    const spec = presetJSON('bitcoin-like')!
    spec.name = 'pow-fork-test'
    const bits = targetToCompact((1n << 256n) / 200_000n) // about one block a second on one thread
    spec.engine = { type: 'pow', initialBits: bits, powLimitBits: bits, retarget: { kind: 'bitcoin', interval: 100_000 }, coinbaseMaturity: 100, maxReorgDepth: 1000 }
    spec.blockTimeMs = 1000
    spec.limits = { ...spec.limits, maxBlockBytes: OLD_MAX_BLOCK_BYTES, maxTxBytes: 3500 }
    const legacyGenesis = join(dirB, 'genesis.json')
    await writeFile(legacyGenesis, JSON.stringify(spec))
    const forkedGenesis = join(dirA, 'genesis.json')
    spec.forks = [{ name: 'big-blocks', height: Number(FORK), changes: { maxBlockBytes: 40_000, maxTxBytes: 30_000, chainId: Number(NEW_ID) } }]
    await writeFile(forkedGenesis, JSON.stringify(spec))

    const start = async (dir: string, chain: string, args: string[]) => {
      const n = await startNode({ datadir: dir, chain, args: ['--p2p-port', '0', ...args] })
      running.add(n)
      return n
    }
    // B (no fork, not mining yet) follows A (fork adopted, mining) from genesis.
    let b = await start(dirB, legacyGenesis, [])
    const a = await start(dirA, forkedGenesis, ['--mine', '--miner-threads', '1', '--coinbase', '0x00000000000000000000000000000000000000aa', '--bootnodes', b.info.p2p![0]!])
    assert.equal(await a.rpc<Hex>('eth_chainId'), `0x${OLD_ID.toString(16)}`, 'before the fork A still signs for the old id')

    // A tx before the fork is on both nodes' chain.
    const early = await a.rpc<Hex>('eth_sendRawTransaction', [signed(OLD_ID, 5)])
    const earlyReceipt = await mined(a, early, 'the pre-fork tx mined')
    assert.ok(BigInt(earlyReceipt.blockNumber) < FORK, `mined before the fork (block ${BigInt(earlyReceipt.blockNumber)})`)
    await mined(b, early, 'B to have the pre-fork tx')

    // A passes the fork. B keeps the common history and refuses everything after it.
    await waitFor('A past the fork', async () => (await height(a)) >= FORK + 2n, { timeoutMs: 90_000 })
    assert.equal(await a.rpc<Hex>('eth_chainId'), `0x${NEW_ID.toString(16)}`)
    await waitFor('B at the block before the fork', async () => (await height(b)) === FORK - 1n || undefined, { timeoutMs: 30_000 })
    assert.equal((await blockAt(b, FORK - 1n))!.hash, (await blockAt(a, FORK - 1n))!.hash, 'one shared history up to the fork')
    // Whichever sees the other's status first says why they part.
    const parted = (n: NodeProcess) => n.logLines().some((l) => /is on another chain: chain id \d+ after height \d+ \(our fork schedule says \d+ there\)/.test(String(l.msg)))
    await waitFor('A or B to log that the other is on another chain', async () => parted(a) || parted(b) || undefined, { timeoutMs: 30_000 }).catch((err) => {
      throw new Error(`${(err as Error).message}\nA:\n${a.output().split('\n').filter((l) => !/block imported|mined/.test(l)).slice(-12).join('\n')}\nB:\n${b.output().split('\n').filter((l) => !/block imported/.test(l)).slice(-12).join('\n')}`)
    })
    assert.equal(await height(b), FORK - 1n, 'B never took a block of the forked chain')

    // B starts mining: the non-adopters' chain grows on its own from the fork height.
    await b.stop()
    running.delete(b)
    b = await start(dirB, legacyGenesis, ['--mine', '--miner-threads', '1', '--coinbase', '0x00000000000000000000000000000000000000bb', '--bootnodes', a.info.p2p![0]!])
    await waitFor('B past the fork on its own chain', async () => (await height(b)) >= FORK + 2n, { timeoutMs: 90_000 })
    const [forkA, forkB] = await Promise.all([blockAt(a, FORK), blockAt(b, FORK)])
    assert.notEqual(forkA!.hash, forkB!.hash, 'two chains from the fork height')
    assert.equal(await b.rpc<Hex>('eth_chainId'), `0x${OLD_ID.toString(16)}`)
    await waitFor('A and B to refuse each other as peers', async () => ((await a.rpc<Hex>('net_peerCount')) === '0x0' && (await b.rpc<Hex>('net_peerCount')) === '0x0') || undefined, { timeoutMs: 30_000 })

    // Replay protection: the same key, the same nonce, one tx per side; each side refuses the other's.
    const forA = signed(NEW_ID, 6)
    const forB = signed(OLD_ID, 6)
    await assert.rejects(b.rpc('eth_sendRawTransaction', [forA]), /chain id/i, 'a tx for the forked chain is refused by B')
    await assert.rejects(a.rpc('eth_sendRawTransaction', [forB]), /chain id/i, 'a tx for the old chain is refused by A')
    const onA = await mined(a, await a.rpc<Hex>('eth_sendRawTransaction', [forA]), 'the new-id tx on A')
    const onB = await mined(b, await b.rpc<Hex>('eth_sendRawTransaction', [forB]), 'the old-id tx on B')
    assert.equal(onA.status, '0x1')
    assert.equal(onB.status, '0x1')

    // The raised byte limit: a block over the old limit exists on A's chain only.
    const data = new Uint8Array(10_000).fill(0xab)
    const bigHash = await a.rpc<Hex>('eth_sendRawTransaction', [signed(NEW_ID, 7, { data })])
    const big = await mined(a, bigHash, 'the big tx on A')
    const bigBlock = await blockAt(a, BigInt(big.blockNumber))
    assert.ok(Number(bigBlock!.size) > OLD_MAX_BLOCK_BYTES, `A's block is ${Number(bigBlock!.size)} bytes, over the old ${OLD_MAX_BLOCK_BYTES}`)
    await assert.rejects(b.rpc('eth_sendRawTransaction', [signed(OLD_ID, 7, { data })]), /oversized|too large|size/i, 'B keeps the old limit')
  })
})
