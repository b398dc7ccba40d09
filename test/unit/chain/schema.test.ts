/**
 * Stores written before blocks kept their proofs (schema 1): a BFT node refuses one that holds
 * blocks (it would serve blocks without certificates and be penalized by every peer); other
 * chains are upgraded in place; a newer store is refused.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Chain } from '../../../src/chain/chain.ts'
import { keys, MemoryStore } from '../../../src/storage/index.ts'
import { openTestChain, produceBlock } from '../../helpers/chain.ts'

async function schema1Store(height: number) {
  const t = await openTestChain()
  for (let i = 0; i < height; i++) await produceBlock(t, [])
  await t.store.batch([{ type: 'put', key: keys.meta('schema'), value: Uint8Array.of(1) }])
  return t
}

test('a schema-1 store with blocks is refused where blocks need proofs, upgraded elsewhere', async () => {
  const t = await schema1Store(2)
  await assert.rejects(Chain.open(t.store, t.spec, t.common, { needsProofs: true }), /older Catena .*commit certificates/)
  const chain = await Chain.open(t.store, t.spec, t.common)
  assert.equal(chain.head.header.height, 2n)
  assert.equal(t.store.get(keys.meta('schema'))![0], 2)
})

test('a schema-1 store with only genesis is upgraded even where blocks need proofs; a newer store is refused', async () => {
  const t = await schema1Store(0)
  await Chain.open(t.store, t.spec, t.common, { needsProofs: true })
  assert.equal(t.store.get(keys.meta('schema'))![0], 2)
  const store = t.store as MemoryStore
  await store.batch([{ type: 'put', key: keys.meta('schema'), value: Uint8Array.of(9) }])
  await assert.rejects(Chain.open(store, t.spec, t.common), /newer Catena/)
})
