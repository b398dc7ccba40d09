/**
 * The address index: every canonical tx is findable by its sender, its recipient or the
 * contract it created, newest first, page by page; it is written in the block's own batch,
 * and a reorg removes the entries of the blocks that left and adds those of the new branch.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, generateAddress, bigIntToUnpaddedBytes } from '@ethereumjs/util'
import { addressIndexOps, addressTxs, addressesOfTx } from '../../../src/chain/address-index.ts'
import type { BlockRules } from '../../../src/chain/import.ts'
import { keys } from '../../../src/storage/index.ts'
import { Signer, addressOf, openTestChain, produceBlock } from '../../helpers/chain.ts'

const hexes = (refs: Array<{ txHash: Uint8Array }>) => refs.map((r) => bytesToHex(r.txHash))

describe('address index', () => {
  test('indexes sender, recipient and created contract; pages newest first', async () => {
    const t = await openTestChain()
    const s = new Signer(t.common)
    const a0 = addressOf(0)
    const a1 = addressOf(1)
    const a2 = addressOf(2)
    const txA = s.transfer(0, a1.bytes, 1n)
    const txB = s.transfer(1, a0.bytes, 2n)
    await produceBlock(t, [txA, txB])
    const self = s.transfer(2, a2.bytes, 3n) // to itself: indexed once
    const create = s.deploy(0, Uint8Array.from([0x00])) // STOP: an empty contract
    await produceBlock(t, [self, create])
    const txC = s.transfer(0, a1.bytes, 4n)
    await produceBlock(t, [txC])

    const all0 = await addressTxs(t.store, a0, { limit: 100 })
    assert.deepEqual(hexes(all0), [txC, create, txB, txA].map((tx) => bytesToHex(tx.hash())), 'account 0: newest first')
    assert.deepEqual(all0.map((r) => [Number(r.height), r.index]), [[3, 0], [2, 1], [1, 1], [1, 0]])
    assert.deepEqual(hexes(await addressTxs(t.store, a1, { limit: 100 })), [txC, txB, txA].map((tx) => bytesToHex(tx.hash())))
    assert.deepEqual(hexes(await addressTxs(t.store, a2, { limit: 100 })), [bytesToHex(self.hash())])
    const contract = generateAddress(a0.bytes, bigIntToUnpaddedBytes(create.nonce))
    assert.deepEqual(hexes(await addressTxs(t.store, contract, { limit: 10 })), [bytesToHex(create.hash())])
    assert.deepEqual(addressesOfTx(self).length, 1)
    assert.deepEqual(await addressTxs(t.store, addressOf(5), { limit: 10 }), [])

    // Pages: each starts strictly before the last position of the previous one.
    const page1 = await addressTxs(t.store, a0, { limit: 2 })
    const last = page1[page1.length - 1]!
    const page2 = await addressTxs(t.store, a0, { limit: 2, before: { height: last.height, index: last.index } })
    const page3 = await addressTxs(t.store, a0, { limit: 2, before: { height: page2[1]!.height, index: page2[1]!.index } })
    assert.deepEqual([...hexes(page1), ...hexes(page2)], hexes(all0))
    assert.deepEqual(page3, [])
    assert.deepEqual(await addressTxs(t.store, a0, { limit: 0 }), [])
  })

  test('put and del ops mirror each other', async () => {
    const t = await openTestChain()
    const s = new Signer(t.common)
    const { imported } = await produceBlock(t, [s.transfer(0, addressOf(1).bytes, 1n)])
    const puts = addressIndexOps(imported.block, 'put')
    const dels = addressIndexOps(imported.block, 'del')
    assert.equal(puts.length, 2)
    assert.deepEqual(dels.map((o) => [o.type, bytesToHex(o.key)]), puts.map((o) => ['del', bytesToHex(o.key)]))
    assert.equal(bytesToHex(t.store.get(keys.addressTx(addressOf(0).bytes, 1n, 0))!), bytesToHex(imported.block.txs[0]!.hash()), 'written with the block')
  })

  test('a reorg moves the index to the new branch', async () => {
    const engine: BlockRules = { verifyHeader() {}, maxFutureSeconds: 10_000n, blockWork: () => 1n }
    const x = await openTestChain({ engine })
    const y = await openTestChain({ engine })
    const sx = new Signer(x.common)
    const sy = new Signer(y.common)
    const shared = await produceBlock(x, [sx.transfer(0, addressOf(9).bytes, 1n)])
    await y.importer.import(shared.imported.block)
    sy.transfer(0, addressOf(9).bytes, 0n) // keep y's nonces in step
    const onlyA = sx.transfer(1, addressOf(7).bytes, 100n)
    const same = sx.transfer(4, addressOf(5).bytes, 7n)
    await produceBlock(x, [onlyA, same])
    const both = sx.transfer(2, addressOf(6).bytes, 5n)
    await produceBlock(x, [both])
    // Branch B: `same` at the same position, `both` at another height, a new tx, one block more.
    const onlyB = sy.transfer(3, addressOf(8).bytes, 300n)
    const b = [
      await produceBlock(y, [onlyB, same], y.chain.head.header.timestamp + 5n),
      await produceBlock(y, [], y.chain.head.header.timestamp + 5n),
      await produceBlock(y, [both], y.chain.head.header.timestamp + 5n),
    ]
    // As headers-first sync imports a branch: with the work its verified headers showed.
    const branchWork = y.chain.getWork(y.chain.head.hash)
    for (const blk of b) await x.importer.importBlock(blk.imported.block, undefined, { branchWork })
    assert.equal(bytesToHex(x.chain.head.hash), bytesToHex(b[2]!.imported.hash), 'branch B won')
    assert.equal(x.chain.head.header.height, 4n)

    assert.deepEqual(await addressTxs(x.store, addressOf(1), { limit: 10 }), [], 'the disconnected tx left the index')
    assert.deepEqual(await addressTxs(x.store, addressOf(7), { limit: 10 }), [])
    assert.deepEqual(hexes(await addressTxs(x.store, addressOf(8), { limit: 10 })), [bytesToHex(onlyB.hash())])
    const moved = await addressTxs(x.store, addressOf(6), { limit: 10 })
    assert.deepEqual(moved.map((r) => [bytesToHex(r.txHash), Number(r.height), r.index]), [[bytesToHex(both.hash()), 4, 0]], 'a tx in both branches is indexed at its new height only')
    const kept = await addressTxs(x.store, addressOf(5), { limit: 10 })
    assert.deepEqual(kept.map((r) => [bytesToHex(r.txHash), Number(r.height), r.index]), [[bytesToHex(same.hash()), 2, 1]], 'same position in both branches: deleted and re-put in one batch, still there')
    assert.equal((await addressTxs(x.store, addressOf(0), { limit: 10 })).length, 1, 'the shared block stays indexed')
  })
})
