/**
 * Senders recovered ahead of import on a call thread (sender-recovery.ts): the thread finds
 * exactly the signer the main thread would, leaves out what the main thread must reject
 * itself (high-s signatures, txs for another chain id, bytes that do not decode), and what it
 * found is reused by the next decode of the same bytes.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { createFeeMarket1559Tx, createLegacyTx, createTxFromRLP } from '@ethereumjs/tx'
import { bytesToBigInt, bigIntToBytes, hexToBytes } from '@ethereumjs/util'
import { ethereumCustomCrypto } from '../../../src/crypto/secp256k1.ts'
import { CallPool, makeCommon, prefillSenders, recoverBodies } from '../../../src/execution/index.ts'
import { decodeOnce } from '../../../src/execution/tx-sender.ts'
import { MemoryStore } from '../../../src/storage/index.ts'

const KEY = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const SENDER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'
const common = makeCommon(1337n, ethereumCustomCrypto())
const commonFor = (id: bigint) => (id === 1337n ? common : makeCommon(id, ethereumCustomCrypto()))
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

function transfer(nonce: bigint, chainId = 1337n): Uint8Array {
  const c = chainId === 1337n ? common : makeCommon(chainId)
  return createFeeMarket1559Tx({ chainId, nonce, maxFeePerGas: 10n, gasLimit: 21000n, to: SENDER, value: 1n }, { common: c }).sign(KEY).serialize()
}

/** The same signature with s replaced by n - s: valid for secp256k1, refused by Ethereum (EIP-2). */
function highS(raw: Uint8Array): Uint8Array {
  const fields = RLP.decode(raw.subarray(1)) as Uint8Array[]
  const s = bytesToBigInt(fields[11]!)
  fields[11] = bigIntToBytes(N - s)
  fields[9] = fields[9]!.length === 0 ? Uint8Array.of(1) : new Uint8Array(0) // flip yParity
  return Uint8Array.from([2, ...RLP.encode(fields)])
}

test('the thread-side recovery finds the main thread signer and leaves out what must be refused', () => {
  const good = [transfer(0n), transfer(1n)]
  const body = RLP.encode([...good, highS(transfer(2n)), transfer(3n, 999n), Uint8Array.of(2, 0xc0)])
  const keys = recoverBodies([{ chainId: 1337n, bodyBytes: body }, { chainId: 1337n, bodyBytes: Uint8Array.of(0x85, 1) }], commonFor)
  assert.equal(keys.length, 2, 'only the two valid txs')
  for (const [i, k] of keys.entries()) {
    const mainThread = createTxFromRLP(good[i]!, { common })
    assert.deepEqual(k.publicKey, mainThread.getSenderPublicKey())
    assert.equal(`0x${Buffer.from(k.address).toString('hex')}`, SENDER)
    assert.deepEqual(k.txHash, mainThread.hash())
    assert.equal(k.chainId, 1337n)
  }
  assert.throws(() => createTxFromRLP(highS(transfer(2n)), { common }).getSenderPublicKey(), /s-value/i, 'the main thread refuses the high-s tx')
})

const pool = new CallPool({ store: new MemoryStore(), hashAt: () => undefined, chainIdAt: () => 1337n, threads: 1 })
after(() => pool.close())

test('a prefill on a real call thread fills the cache the next decode reads', async () => {
  await pool.warm()
  const raws = Array.from({ length: 20 }, (_, i) => transfer(100n + BigInt(i)))
  await prefillSenders(pool, [{ chainId: 1337n, bodyBytes: RLP.encode(raws) }])
  for (const raw of raws) {
    const tx = decodeOnce(raw, 1337n, () => createTxFromRLP(raw, { common, freeze: false }))
    assert.ok(tx.cache.senderPubKey, 'sender known before anyone asked for it')
    assert.equal(tx.getSenderAddress().toString(), SENDER)
  }
})

test('a prefill never rejects: a closed pool leaves the work to the import', async () => {
  const closed = new CallPool({ store: new MemoryStore(), hashAt: () => undefined, chainIdAt: () => 1337n, threads: 1 })
  await closed.warm()
  await closed.close()
  await prefillSenders(closed, [{ chainId: 1337n, bodyBytes: RLP.encode([transfer(500n)]) }])
})

test('nobody waits on a pool that is loading: the first prefill starts a thread and leaves the work to the import', async () => {
  const fresh = new CallPool({ store: new MemoryStore(), hashAt: () => undefined, chainIdAt: () => 1337n, threads: 1 })
  try {
    const raw = transfer(2000n)
    await prefillSenders(fresh, [{ chainId: 1337n, bodyBytes: RLP.encode([raw]) }])
    assert.equal(fresh.stats().live, 1, 'the first use started loading a thread')
    assert.equal(fresh.stats().busy, 0, 'and gave it no job')
    const tx = decodeOnce(raw, 1337n, () => createTxFromRLP(raw, { common, freeze: false }))
    assert.equal(tx.cache.senderPubKey, undefined, 'nothing was recovered ahead')
    assert.equal(tx.getSenderAddress().toString(), SENDER, 'the main thread recovers it')
    await fresh.warm()
    assert.equal(fresh.stats().loaded, 1)
  } finally {
    await fresh.close()
  }
})
