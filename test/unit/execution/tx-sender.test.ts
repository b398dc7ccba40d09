import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createFeeMarket1559Tx, createLegacyTx, createTxFromRLP } from '@ethereumjs/tx'
import { RLP } from '@ethereumjs/rlp'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { txBytes } from '../../../src/execution/tx-bytes.ts'
import { hexToBytes } from '@ethereumjs/util'
import { makeCommon } from '../../../src/execution/common.ts'
import { withCachedSender } from '../../../src/execution/tx-sender.ts'

const KEY = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const SENDER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'
const common = makeCommon(1337n)
const raw = createFeeMarket1559Tx({ chainId: 1337n, nonce: 3n, maxFeePerGas: 10n, gasLimit: 21000n, to: SENDER, value: 1n }, { common })
  .sign(KEY)
  .serialize()

test('the cached sender is the signer, computed once, and the tx ends up frozen', () => {
  const tx = withCachedSender(createTxFromRLP(raw, { common, freeze: false }))
  assert.ok(Object.isFrozen(tx))
  const a = tx.getSenderAddress()
  assert.equal(a.toString(), SENDER)
  assert.equal(tx.getSenderAddress(), a, 'same Address object on later calls')
  assert.equal(createTxFromRLP(raw, { common }).getSenderAddress().toString(), SENDER, 'agrees with ethereumjs')
  assert.deepEqual(tx.hash(), createTxFromRLP(raw, { common }).hash())
})

test('an already frozen tx is returned as it is and still answers', () => {
  const frozen = createTxFromRLP(raw, { common })
  assert.equal(withCachedSender(frozen), frozen)
  assert.equal(frozen.getSenderAddress().toString(), SENDER)
})

test('a signer recovered for some bytes is reused by the next tx decoded from the same bytes', () => {
  const first = withCachedSender(createTxFromRLP(raw, { common, freeze: false }), raw)
  assert.equal(first.getSenderAddress().toString(), SENDER)
  assert.deepEqual(first.hash(), createTxFromRLP(raw, { common }).hash(), 'hash taken from the bytes is the tx hash')
  assert.equal(txBytes(first), raw, 'the decoded bytes are kept as the canonical encoding')

  const second = withCachedSender(createTxFromRLP(raw, { common, freeze: false }), raw)
  assert.ok(second.cache.senderPubKey, 'public key known before anyone asked for the sender')
  assert.equal(second.getSenderAddress().toString(), SENDER)
})

test('a remembered signer is not reused under another chain id', () => {
  // A legacy tx without EIP-155 protection decodes under any chain id; its signer does not
  // depend on it, but the cache must not assume that for any tx.
  const preEip155 = new Common({ chain: Mainnet, hardfork: Hardfork.TangerineWhistle })
  const legacyRaw = createLegacyTx({ nonce: 1n, gasPrice: 10n, gasLimit: 21000n, to: SENDER, value: 1n }, { common: preEip155 })
    .sign(KEY)
    .serialize()
  const a = withCachedSender(createTxFromRLP(legacyRaw, { common, freeze: false }), legacyRaw)
  assert.equal(a.getSenderAddress().toString(), SENDER)
  const other = makeCommon(1338n)
  const b = withCachedSender(createTxFromRLP(legacyRaw, { common: other, freeze: false }), legacyRaw)
  assert.equal(b.cache.senderPubKey, undefined, 'recovered again under chain id 1338')
  assert.equal(b.getSenderAddress().toString(), SENDER)
})

test('bytes that are not the canonical encoding of a tx do not decode, so the hash-of-bytes key is sound', () => {
  // The nonce 3 written as 0x0003 (leading zero): same fields, different bytes.
  const fields = RLP.decode(raw.subarray(1)) as Uint8Array[]
  fields[1] = Uint8Array.of(0, 3)
  const padded = Uint8Array.from([2, ...RLP.encode(fields)])
  assert.throws(() => createTxFromRLP(padded, { common }), /leading zero/i)
})

test('a tx is decoded once per node: the mempool and a proposed block get the same object for the same bytes', async () => {
  const { decodeTxs } = await import('../../../src/chain/block.ts')
  const { decodeOnce } = await import('../../../src/execution/tx-sender.ts')
  const bytes = createFeeMarket1559Tx({ chainId: 1337n, nonce: 99n, maxFeePerGas: 10n, gasLimit: 21000n, to: SENDER, value: 2n }, { common }).sign(KEY).serialize()
  let builds = 0
  const first = decodeOnce(bytes, 1337n, () => (builds++, createTxFromRLP(bytes, { common, freeze: false })))
  const [fromBlock] = decodeTxs([bytes], common)
  assert.equal(fromBlock, first, 'the block body reuses the object')
  assert.equal(builds, 1)
  assert.equal(fromBlock!.getSenderAddress().toString(), SENDER)
  // Another chain id: decoded anew (a legacy tx's signing hash depends on it).
  const other = decodeOnce(bytes, 1338n, () => (builds++, createTxFromRLP(bytes, { common, freeze: false })))
  assert.notEqual(other, first)
  assert.equal(builds, 2)
})
