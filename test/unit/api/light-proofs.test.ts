/**
 * What a light client asks a full node for (issue 15, part 1), checked the way a light client
 * would: the RLP header re-hashes to the block hash; a tx's bytes and its encoded receipt
 * verify against the header's txRoot and receiptsRoot with the returned RFC 6962 audit paths
 * (crypto/merkle.ts verifyMerkleProof); a wrong index or leaf does not; unknown txs and
 * blocks are null; bad parameters are refused.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { blockHash, decodeHeader } from '../../../src/chain/block.ts'
import { ethMethods, type EthBackend } from '../../../src/api/eth/index.ts'
import { merkleRoot, verifyMerkleProof } from '../../../src/crypto/merkle.ts'
import { decodeReceipt } from '../../../src/execution/receipt.ts'
import { Signer, addressOf, openTestChain, produceBlock } from '../../helpers/chain.ts'

type Hex = `0x${string}`
interface TxProof {
  blockHash: Hex
  blockNumber: Hex
  index: Hex
  leafCount: Hex
  txRoot: Hex
  rawTransaction: Hex
  txSiblings: Hex[]
  receiptsRoot: Hex
  receipt: Hex
  receiptSiblings: Hex[]
}

describe('light client proofs served by a full node', () => {
  test('header, tx and receipt proofs verify against the block hash and its roots', async () => {
    const t = await openTestChain()
    const s = new Signer(t.common)
    const txs = [0, 1, 2, 3, 4].map((i) => s.transfer(i, addressOf(9).bytes, BigInt(i + 1)))
    await produceBlock(t, txs)
    const m = ethMethods({ chain: t.chain, finality: () => ({ finalized: t.chain.head.header.height, safe: t.chain.head.header.height }) } as unknown as EthBackend)
    const call = async (method: string, params: unknown[]) => m[method]!(params, { transport: 'http' })

    const headerHex = (await call('catena_getHeader', ['latest'])) as Hex
    const header = decodeHeader(hexToBytes(headerHex))
    assert.equal(bytesToHex(blockHash(header)), bytesToHex(t.chain.head.hash), 'the header hashes to the block hash')
    assert.equal(await call('catena_getHeader', [bytesToHex(t.chain.head.hash)]), headerHex, 'by hash too')
    assert.equal(await call('catena_getHeader', ['0x99']), null)
    const body = (await call('catena_getBlockBody', ['latest'])) as Hex[]
    assert.deepEqual(body, txs.map((tx) => bytesToHex(tx.serialize())))
    assert.equal(bytesToHex(merkleRoot(body.map((x) => hexToBytes(x)))), bytesToHex(header.txRoot), 'the body re-hashes to the header')
    assert.equal(await call('catena_getBlockBody', ['0x99']), null)

    for (const [i, tx] of txs.entries()) {
      const p = (await call('catena_getTransactionProof', [bytesToHex(tx.hash())])) as TxProof
      assert.equal(p.blockHash, bytesToHex(t.chain.head.hash))
      assert.equal(Number(p.index), i)
      assert.equal(p.txRoot, bytesToHex(header.txRoot))
      assert.equal(p.receiptsRoot, bytesToHex(header.receiptsRoot))
      const proof = (siblings: Hex[]) => ({ index: i, leafCount: Number(p.leafCount), siblings: siblings.map((x) => hexToBytes(x)) })
      assert.ok(verifyMerkleProof(header.txRoot, hexToBytes(p.rawTransaction), proof(p.txSiblings)), `tx ${i} is in the tx root`)
      assert.ok(verifyMerkleProof(header.receiptsRoot, hexToBytes(p.receipt), proof(p.receiptSiblings)), `receipt ${i} is in the receipts root`)
      assert.equal(decodeReceipt(hexToBytes(p.receipt)).status, 1)
      // A liar's proof: the same path for another position, or another tx's bytes, fails.
      assert.equal(verifyMerkleProof(header.txRoot, hexToBytes(p.rawTransaction), { ...proof(p.txSiblings), index: (i + 1) % 5 }), false)
      assert.equal(verifyMerkleProof(header.txRoot, txs[(i + 1) % 5]!.serialize(), proof(p.txSiblings)), false)
    }
    assert.equal(await call('catena_getTransactionProof', [`0x${'ab'.repeat(32)}`]), null, 'an unknown tx')
    await assert.rejects(async () => call('catena_getTransactionProof', ['0x1234']), /hash/)
    await assert.rejects(async () => call('catena_getHeader', []), /missing|argument|param/i)
  })
})
