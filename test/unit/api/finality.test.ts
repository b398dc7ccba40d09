/**
 * One finality rule per engine, used by every API (issue 12, defect 9): the RPC "finalized"
 * and "safe" tags, the REST chain view and metrics all ask the engine's rules. On a PoW chain
 * the head is never final: the tags name the block 6 confirmations deep.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { loadChainSpec } from '../../../src/chain/spec/index.ts'
import { finalityAt } from '../../../src/chain/rules.ts'
import { ethMethods, type EthBackend } from '../../../src/api/eth/index.ts'
import { consensusView } from '../../../src/api/rest/consensus-view.ts'
import { BftEngine } from '../../../src/consensus/bft-engine/index.ts'
import { DevEngine } from '../../../src/consensus/dev.ts'
import { openTestChain, produceBlock, unminedPowRules, type TestChain } from '../../helpers/chain.ts'
import type { BlockRules } from '../../../src/chain/rules.ts'

async function chainOf(height: number, rules: BlockRules, spec = loadChainSpec('bitcoin-like')): Promise<TestChain> {
  const t = await openTestChain({ spec, engine: rules })
  for (let i = 0; i < height; i++) await produceBlock(t, [], t.chain.head.header.timestamp + 600n)
  return t
}

/** eth_getBlockByNumber(tag) through the real method table, over a backend that asks `rules`. */
async function tagHeight(t: TestChain, rules: BlockRules, tag: string): Promise<number> {
  const backend = { chain: t.chain, finality: () => finalityAt(rules, t.chain.head.header.height) } as unknown as EthBackend
  const block = (await ethMethods(backend).eth_getBlockByNumber!([tag, false], { transport: 'http' })) as { number: string }
  return Number(block.number)
}

describe('finality: one rule per engine, every API', () => {
  test('PoW: "finalized" and "safe" are 6 blocks deep, never the head; REST agrees', async () => {
    const spec = loadChainSpec('bitcoin-like')
    const rules = unminedPowRules(spec)
    const t = await chainOf(10, rules, spec)
    assert.equal(await tagHeight(t, rules, 'latest'), 10)
    assert.equal(await tagHeight(t, rules, 'finalized'), 4)
    assert.equal(await tagHeight(t, rules, 'safe'), 4)
    const view = await consensusView(spec, { type: 'pow', rules })
    assert.equal(view.finalizedHeight(10n), 4n, 'the REST chain view gives the same answer')
    const young = await chainOf(3, rules, spec)
    assert.equal(await tagHeight(young, rules, 'finalized'), 0, 'before 6 blocks, only genesis is final')
  })

  test('BFT and dev: every imported block is final', async () => {
    const consortium = loadChainSpec('consortium')
    if (consortium.engine.type !== 'bft') throw new Error('consortium is bft')
    const bft = BftEngine.rulesFor({ chainId: consortium.chainId, config: consortium.engine })
    assert.deepEqual(finalityAt(bft, 42n), { finalized: 42n, safe: 42n })
    const dev = new DevEngine({ automine: false, intervalMs: 0, producer: new Uint8Array(20) }).rules
    const t = await chainOf(3, dev, loadChainSpec('dev'))
    assert.equal(await tagHeight(t, dev, 'finalized'), 3)
    assert.equal(await tagHeight(t, dev, 'safe'), 3)
  })
})
