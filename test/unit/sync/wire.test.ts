import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { decodeBlockEnvelope, decodeRawBody, encodeBlockEnvelope, encodeHeader } from '../../../src/chain/block.ts'
import { BlockError } from '../../../src/chain/errors.ts'
import {
  MAX_RANGE_BLOCKS,
  WireError,
  decodeBlockList,
  encodeBlockList,
  encodeTxBatch,
  decodeTxBatch,
} from '../../../src/sync/wire.ts'
import { MAX_HASHES, decodeHashList, decodeRangeRequest, encodeHashList, encodeRangeRequest } from '../../../src/sync/wire.ts'
import { progressLine } from '../../../src/sync/progress.ts'
import { openTestChain, produceBlock, Signer } from '../../helpers/chain.ts'

test('blocks, ranges and tx batches round-trip', async () => {
  const t = await openTestChain()
  const signer = new Signer(t.common)
  const { imported } = await produceBlock(t, [signer.transfer(0, '0x000000000000000000000000000000000000dead', 5n)])
  const proof = Uint8Array.of(1, 2, 3)
  const bytes = encodeBlockEnvelope(imported.block, proof)
  const raw0 = decodeBlockEnvelope(bytes)
  assert.deepEqual(raw0.hash, imported.hash)
  assert.deepEqual(raw0.proof, proof)
  const back = decodeRawBody(raw0, t.chain.commons)
  assert.deepEqual(encodeHeader(back.header), encodeHeader(imported.block.header))
  assert.equal(back.txs.length, 1)
  assert.deepEqual(decodeBlockList(encodeBlockList([bytes, bytes])), [bytes, bytes])
  assert.deepEqual(decodeRangeRequest(encodeRangeRequest({ from: 12345n, count: 64 })), { from: 12345n, count: 64 })
  const raw = imported.block.txs[0].serialize()
  assert.deepEqual(decodeTxBatch(encodeTxBatch([raw, raw])), [raw, raw])
  assert.deepEqual(decodeTxBatch(encodeTxBatch([raw], 7)), [raw])
  assert.notDeepEqual(encodeTxBatch([raw], 1), encodeTxBatch([raw], 2), 'a retry is a different gossip message')
})

test('malformed wire data gives typed errors', async () => {
  const t = await openTestChain()
  const isWire = (e: unknown) => e instanceof WireError && e.code === 'MALFORMED_MESSAGE'
  const malformedBlock = (e: unknown) => e instanceof BlockError && e.code === 'MALFORMED'
  assert.throws(() => decodeBlockEnvelope(Uint8Array.of(0xff, 0x00)), malformedBlock)
  assert.throws(() => decodeBlockEnvelope(RLP.encode([Uint8Array.of(1)])), malformedBlock)
  assert.throws(() => decodeBlockEnvelope(RLP.encode([Uint8Array.of(1), Uint8Array.of(2), new Uint8Array()])), malformedBlock)
  void t
  assert.throws(() => decodeRangeRequest(encodeRangeRequest({ from: 1n, count: 0 })), isWire)
  assert.throws(() => decodeRangeRequest(encodeRangeRequest({ from: 1n, count: MAX_RANGE_BLOCKS + 1 })), isWire)
  assert.throws(() => decodeRangeRequest(RLP.encode([new Uint8Array(9), Uint8Array.of(1)])), isWire)
  assert.throws(() => decodeBlockList(RLP.encode(Array.from({ length: MAX_RANGE_BLOCKS + 1 }, () => Uint8Array.of(1)))), isWire)
  assert.throws(() => decodeBlockList(RLP.encode([[Uint8Array.of(1)]])), isWire)
  assert.throws(() => decodeTxBatch(RLP.encode([[Uint8Array.of(1)]])), isWire)
  assert.throws(() => decodeTxBatch(RLP.encode([Uint8Array.of(0), [[Uint8Array.of(1)]]])), isWire)
  assert.throws(() => decodeTxBatch(Uint8Array.of(0x01)), isWire)
})

test('progress line', () => {
  const line = progressLine(50n, 200n, Date.now() - 1000)
  assert.match(line, /^\[#####-+\] 25% 50\/200 blocks, \d+\/s$/)
  assert.match(progressLine(0n, 0n, Date.now()), /100%/)
})

test('hash lists for blocksByHash: 1..64 hashes of 32 bytes', () => {
  const hashes = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]
  assert.deepEqual(decodeHashList(encodeHashList(hashes)), hashes)
  assert.throws(() => decodeHashList(encodeHashList([])), /1\.\.64 hashes/)
  assert.throws(() => decodeHashList(encodeHashList(Array.from({ length: MAX_HASHES + 1 }, () => new Uint8Array(32)))), /1\.\.64 hashes/)
  assert.throws(() => decodeHashList(RLP.encode([new Uint8Array(31)])), /32-byte hashes/)
  assert.throws(() => decodeHashList(Uint8Array.of(0x01)), WireError)
})
