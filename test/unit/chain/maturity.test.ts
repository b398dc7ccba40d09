/**
 * PoW coinbase maturity: a block's subsidy and fees (tips, unburned base fee) are paid to its
 * producer only `coinbaseMaturity` blocks later; until then the fees wait in the block's own
 * escrow account, which is the COINBASE its txs see.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Address } from '@ethereumjs/util'
import { parseChainSpec } from '../../../src/chain/spec/index.ts'
import { presetJSON } from '../../../src/chain/spec/presets.ts'
import { coinbaseEscrow } from '../../../src/execution/executor.ts'
import { openTestChain, Signer, unminedPowRules, type TestChain } from '../../helpers/chain.ts'

const SUBSIDY = 50n * 10n ** 18n
const TIP = 2_000_000_000n
const producers = [1, 2, 3, 4].map((i) => new Uint8Array(20).fill(0xa0 + i))

async function balanceOf(t: TestChain, address: Uint8Array): Promise<bigint> {
  return (await t.executor.readAccount(t.chain.head.header.stateRoot, new Address(address)))?.balance ?? 0n
}

async function mine(t: TestChain, producer: Uint8Array, txs: ReturnType<Signer['transfer']>[]) {
  let i = 0
  const out = await t.importer.produce({ timestamp: t.chain.head.header.timestamp + 600n, producer, seal: async (h) => h, source: { next: () => txs[i++], skipSender: () => {} } })
  assert.equal(out.rejected.length, 0, JSON.stringify(out.rejected.map((r) => r.reason)))
  return out
}

test('subsidy and fees of block h reach its producer at block h + maturity, not before', async () => {
  const json = presetJSON('bitcoin-like')!
  json.engine = { ...json.engine, coinbaseMaturity: 2 } as typeof json.engine
  const spec = parseChainSpec(json)
  const t = await openTestChain({ spec, engine: unminedPowRules(spec) })
  const signer = new Signer(t.common)
  const tx = signer.transfer(0, '0x000000000000000000000000000000000000cafe', 1n, { maxFeePerGas: TIP, maxPriorityFeePerGas: TIP })
  const fees = 21_000n * TIP // bitcoin-like has no base fee: the whole gas price is the tip

  await mine(t, producers[0]!, [tx])
  assert.equal(await balanceOf(t, producers[0]!), 0n, 'nothing paid at once')
  assert.equal(await balanceOf(t, coinbaseEscrow(1n)), fees, "block 1's fees wait in its escrow")

  await mine(t, producers[1]!, [])
  assert.equal(await balanceOf(t, producers[0]!), 0n, 'still immature after one block')

  await mine(t, producers[2]!, [])
  assert.equal(await balanceOf(t, producers[0]!), SUBSIDY + fees, 'block 3 pays block 1: subsidy plus fees')
  assert.equal(await t.executor.readAccount(t.chain.head.header.stateRoot, new Address(coinbaseEscrow(1n))), undefined, 'the escrow is emptied and removed')
  assert.equal(await balanceOf(t, producers[1]!), 0n, "block 2's earnings are not due yet")

  await mine(t, producers[3]!, [])
  assert.equal(await balanceOf(t, producers[1]!), SUBSIDY, 'block 2 had no fees: just its subsidy')
})

test('escrow addresses differ per height and are no one key', () => {
  assert.notDeepEqual(coinbaseEscrow(1n), coinbaseEscrow(2n))
  assert.equal(coinbaseEscrow(7n).length, 20)
})
