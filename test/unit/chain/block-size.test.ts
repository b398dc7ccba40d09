/**
 * The block byte limit decides between Bitcoin-like and Bitcoin Cash-like rules: a 1.5 MB block
 * built under 32 MB rules is refused by a 1 MB chain and accepted by a 32 MB one.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BlockError } from '../../../src/chain/errors.ts'
import { blockSize } from '../../../src/chain/block.ts'
import { parseChainSpec } from '../../../src/chain/spec/index.ts'
import { presetJSON } from '../../../src/chain/spec/presets.ts'
import type { BlockRules } from '../../../src/chain/import.ts'
import { Signer, openTestChain, produceBlock } from '../../helpers/chain.ts'

const noSeal: BlockRules = { verifyHeader() {}, maxFutureSeconds: 15n }

/** The bitcoin-like spec with `maxBlockBytes` (chain id and genesis unchanged: the limit is not in the genesis header). */
function specWith(maxBlockBytes: number) {
  const json = presetJSON('bitcoin-like')!
  json.limits.maxBlockBytes = maxBlockBytes
  return parseChainSpec(json, `bytes-${maxBlockBytes}`)
}

describe('block byte limit: bitcoin-like vs bitcoin-cash-like', () => {
  test('a 1.5 MB block is refused under 1 MB rules and accepted under 32 MB rules', async () => {
    const big = await openTestChain({ spec: specWith(32_000_000), engine: noSeal })
    const signer = new Signer(big.common)
    // 12 txs of ~125 KB calldata each (the per-tx limit is 128 KB): about 1.5 MB.
    const data = new Uint8Array(125_000) // zero bytes: cheapest calldata (EIP-7623 floor 10 gas per byte)
    const txs = Array.from({ length: 12 }, (_, i) => signer.transfer(i % 10, '0x00000000000000000000000000000000000b10c5', 1n, { data, gasLimit: 1_300_000n }))
    const produced = await produceBlock(big, txs)
    const block = produced.imported.block
    assert.equal(block.txs.length, 12)
    assert.ok(blockSize(block) > 1_400_000, `block is ${blockSize(block)} bytes`)

    const btc = await openTestChain({ spec: specWith(1_000_000), engine: noSeal })
    assert.equal(btc.chain.genesisHash.toString(), big.chain.genesisHash.toString(), 'same genesis')
    await assert.rejects(btc.importer.import(block), (e: unknown) => e instanceof BlockError && e.code === 'TOO_LARGE')
    assert.equal(btc.chain.head.header.height, 0n)

    const bch = await openTestChain({ spec: parseChainSpec({ ...presetJSON('bitcoin-like')!, limits: { ...presetJSON('bitcoin-cash-like')!.limits } }, 'bch-limits'), engine: noSeal })
    await bch.importer.import(block)
    assert.equal(bch.chain.head.header.height, 1n)
  })
})
