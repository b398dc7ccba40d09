/**
 * A mining PoW node (a separate OS process) shows each block's real proof-of-work nonce in
 * the Ethereum block JSON (eth_getBlockByNumber / ByHash and newHeads), as the 8-byte hex
 * Ethereum clients read, and it is the nonce of the block's seal (sealFields[0]).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { decodePowSeal } from '../../src/consensus/pow/seal.ts'
import { targetToCompact } from '../../src/consensus/pow/target.ts'
import { blockHeight, makeDatadir, startNode, trackNodes, waitFor } from '../helpers/node-process.ts'
import { WsClient } from '../unit/api/rpc-helpers.ts'

type Hex = `0x${string}`
const { dirs, running, cleanup } = trackNodes()
after(cleanup)

describe('PoW block JSON', () => {
  test('nonce is the seal nonce of each mined block; genesis shows zero', async () => {
    const dir = await makeDatadir()
    dirs.push(dir)
    const spec = presetJSON('bitcoin-like')!
    spec.name = 'pow-nonce-test'
    const bits = targetToCompact((1n << 256n) / 20_000n) // a block in a fraction of a second on one thread
    spec.engine = { type: 'pow', initialBits: bits, powLimitBits: bits, retarget: { kind: 'bitcoin', interval: 100_000 }, coinbaseMaturity: 100, maxReorgDepth: 1000 }
    const genesis = join(dir, 'genesis.json')
    await writeFile(genesis, JSON.stringify(spec))
    const node = await startNode({ datadir: dir, chain: genesis, args: ['--mine', '--miner-threads', '1', '--coinbase', '0x00000000000000000000000000000000000000aa'] })
    running.add(node)
    const ws = await WsClient.open(node.wsUrl)
    try {
      const sub = await ws.call('eth_subscribe', ['newHeads'])
      await waitFor('three blocks mined', async () => (await blockHeight(node)) >= 3n, { timeoutMs: 60_000 })
      const nonces = new Set<string>()
      for (const n of ['0x1', '0x2', '0x3']) {
        const block = await node.rpc<{ hash: Hex; nonce: Hex; sealFields: Hex[] }>('eth_getBlockByNumber', [n, false])
        assert.match(block.nonce, /^0x[0-9a-f]{16}$/)
        assert.equal(BigInt(block.nonce), decodePowSeal(hexToBytes(block.sealFields[0]!)).nonce, `block ${n}`)
        assert.equal((await node.rpc<{ nonce: Hex }>('eth_getBlockByHash', [block.hash, false])).nonce, block.nonce)
        nonces.add(block.nonce)
      }
      assert.ok(nonces.size > 1 || !nonces.has('0x0000000000000000'), 'real nonces, not the zero placeholder')
      const head = await ws.take((m) => m.method === 'eth_subscription' && m.params.subscription === sub.result)
      assert.equal(BigInt(head.params.result.nonce), decodePowSeal(hexToBytes(head.params.result.sealFields[0])).nonce)
      assert.equal((await node.rpc<{ nonce: Hex }>('eth_getBlockByNumber', ['0x0', false])).nonce, '0x0000000000000000')
    } finally {
      await ws.close()
      await node.stop()
      running.delete(node)
    }
  })
})
