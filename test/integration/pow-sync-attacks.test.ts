/**
 * Proof of Work under a lying peer, as OS processes: a miner A and a follower V; a malicious
 * peer (a small libp2p client in this test process, with its own copy of the chain) connects
 * to V, claims height 2^63 and enormous work and answers no header, gossips orphans whose
 * parents do not exist and a long cheap chain from genesis (more blocks than A's, far less
 * work). V keeps following A, penalizes the claim, and executes and stores nothing of the
 * cheap chain.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import pino from 'pino'
import { encodeBlockEnvelope } from '../../src/chain/block.ts'
import { parseChainSpec } from '../../src/chain/spec/index.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { targetToCompact } from '../../src/consensus/pow/target.ts'
import { createNetwork } from '../../src/net/index.ts'
import { encodeBlockList, encodeHeaderList } from '../../src/sync/wire.ts'
import { mine, powChain } from '../unit/sync/harness.ts'
import { blockHeight, makeDatadir, startNode, trackNodes, waitFor, type NodeProcess } from '../helpers/node-process.ts'

type Hex = `0x${string}`
const { dirs, running, cleanup } = trackNodes()
after(cleanup)

describe('proof of work: a lying peer against a follower', () => {
  test('the follower keeps following the miner, penalizes the claim and keeps nothing of the cheap chain', async () => {
    const [dirA, dirV] = await Promise.all([makeDatadir(), makeDatadir()])
    dirs.push(dirA, dirV)
    const json = presetJSON('bitcoin-like')!
    json.name = 'pow-sync-attacks'
    json.blockTimeMs = 1000
    // Retarget every 10 blocks: A's blocks settle near one a second (~10^5 hashes), while a chain
    // stamped 10 minutes apart falls to the easiest target (16 hashes).
    json.engine = { type: 'pow', initialBits: targetToCompact((1n << 256n) / 50_000n), powLimitBits: targetToCompact((1n << 256n) / 16n), retarget: { kind: 'bitcoin', interval: 10 }, coinbaseMaturity: 100, maxReorgDepth: 1000 }
    const genesis = join(dirA, 'genesis.json')
    await writeFile(genesis, JSON.stringify(json))
    const start = async (dir: string, args: string[]) => {
      const n = await startNode({ datadir: dir, chain: genesis, args: ['--p2p-port', '0', ...args] })
      running.add(n)
      return n
    }
    const a = await start(dirA, ['--mine', '--miner-threads', '1', '--coinbase', '0x00000000000000000000000000000000000000aa'])
    const v = await start(dirV, ['--bootnodes', a.info.p2p![0]!])
    await waitFor('V to follow A past height 30', async () => (await blockHeight(v)) >= 30n, { timeoutMs: 90_000 })

    // The attacker's own chain: more blocks than A's, at the easiest target.
    const spec = parseChainSpec(json)
    const cheap = await powChain(spec)
    await mine(cheap, 200, 600n)
    const cheapHashes: Hex[] = []
    for (let h = 1n; h <= cheap.chain.head.header.height; h++) cheapHashes.push(bytesToHex(cheap.chain.getHashAt(h)!) as Hex)
    const aWork = BigInt((await a.rpc<{ totalDifficulty: Hex }>('eth_getBlockByNumber', ['latest', false])).totalDifficulty)
    assert.ok(cheap.chain.getWork(cheap.chain.head.hash) < aWork, 'the cheap chain has less work than A')
    assert.ok(cheap.chain.head.header.height > (await blockHeight(a)), 'and more blocks')

    const attackerDir = mkdtempSync(join(tmpdir(), 'catena-attacker-'))
    const attacker = await createNetwork({
      datadir: attackerDir,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootnodes: [],
      chainId: spec.chainId,
      genesisHash: cheap.chain.genesisHash,
      head: () => ({ height: 2n ** 63n, hash: randomBytes(32), work: 2n ** 200n }),
      logger: pino({ level: 'silent' }),
      limits: { statusRefreshMs: 0 },
    })
    try {
      await attacker.start()
      await attacker.handle('headersByLocator', () => encodeHeaderList([]))
      await attacker.handle('blocksByRange', () => encodeBlockList([]))
      await attacker.handle('blocksByHash', () => encodeBlockList([]))
      attacker.subscribe('blocks', () => 'ignore')
      await attacker.connect(v.info.p2p![0]!)
      const tip = cheap.chain.getBlockAt(cheap.chain.head.header.height)!
      const orphan = () => encodeBlockEnvelope({ header: { ...tip.header, parentHash: randomBytes(32) }, txs: [] })
      // Orphans until one gets through: gossipsub drops what is published before its stream to V is open.
      await waitFor('gossip to reach V', async () => (await attacker.publish('blocks', orphan()).catch(() => 0)) > 0, { timeoutMs: 20_000 })
      const before = await blockHeight(v)
      for (let h = 1n; h <= cheap.chain.head.header.height; h++) assert.equal(await attacker.publish('blocks', encodeBlockEnvelope(cheap.chain.getBlockAt(h)!)), 1)
      for (let i = 0; i < 50; i++) assert.equal(await attacker.publish('blocks', orphan()), 1)

      const penalized = (n: NodeProcess) => n.logLines().some((l) => l.msg === 'sync: peer did not deliver what it claimed' && l.peer === attacker.peerId)
      await waitFor('V to penalize the false claim', () => penalized(v), { timeoutMs: 30_000 })
      await waitFor('V to keep following A', async () => {
        const hv = await blockHeight(v)
        if (hv < before + 5n) return undefined
        const [bv, ba] = await Promise.all([v.rpc<{ hash: Hex }>('eth_getBlockByNumber', [`0x${hv.toString(16)}`, false]), a.rpc<{ hash: Hex }>('eth_getBlockByNumber', [`0x${hv.toString(16)}`, false])])
        return bv.hash === ba.hash || undefined
      }, { timeoutMs: 60_000 })
      // A few at a time: the RPC port holds at most 128 connections per client address.
      const kept: unknown[] = []
      for (let i = 0; i < cheapHashes.length; i += 16) kept.push(...(await Promise.all(cheapHashes.slice(i, i + 16).map((h) => v.rpc<unknown>('eth_getBlockByHash', [h, false])))))
      assert.equal(kept.filter((b) => b !== null).length, 0, 'no block of the cheap chain is stored on V')
      assert.equal(v.logLines().filter((l) => l.msg === 'block stored on a side branch').length, 0)
    } finally {
      await attacker.stop()
      rmSync(attackerDir, { recursive: true, force: true })
    }
  })
})
