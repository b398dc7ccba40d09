/**
 * Every reason the mempool refuses a tx: the error code, geth's wording (what viem and ethers
 * match on), and that the pool is exactly as it was afterwards.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { SECP256K1_ORDER, bigIntToUnpaddedBytes } from '@ethereumjs/util'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { makeCommon } from '../../../src/execution/common.ts'
import { MempoolError } from '../../../src/mempool/index.ts'
import {
  ADDRS,
  KEYS,
  common,
  concat,
  expectRejected,
  makePool,
  raw1559,
  tx1559,
  tx2930,
  txLegacy,
  txUnprotected,
} from './helpers.ts'

const [A, B, C] = KEYS as [Uint8Array, Uint8Array, Uint8Array]

/** A pool that already holds a pending and a queued tx, so "unchanged" means something. */
async function seeded(opts: Parameters<typeof makePool>[0] = {}) {
  const ctx = makePool(opts)
  await ctx.pool.add(tx1559(B, { nonce: 0n, feeCap: 20n }).serialize())
  await ctx.pool.add(tx1559(B, { nonce: 2n, feeCap: 20n }).serialize())
  assert.equal(ctx.pool.pendingCount, 1)
  assert.equal(ctx.pool.queuedCount, 1)
  return ctx
}

describe('mempool validation', () => {
  test('accepts legacy (EIP-155), EIP-2930 and EIP-1559 txs', async () => {
    const { pool } = makePool()
    const txs = [txLegacy(A, { nonce: 0n }), tx2930(A, { nonce: 1n }), tx1559(A, { nonce: 2n })]
    for (const tx of txs) {
      const res = await pool.add(tx.serialize())
      assert.deepEqual(res, { hash: tx.hash(), status: 'pending' })
      const e = pool.get(tx.hash())
      assert.ok(e)
      assert.equal(e.sender.toString(), ADDRS[0]?.toString())
      assert.equal(e.size, tx.serialize().length)
      assert.deepEqual(e.raw, tx.serialize())
    }
    assert.equal(pool.size, 3)
  })

  test('undecodable bytes', async () => {
    const { pool } = await seeded()
    const good = tx1559(A, {}).serialize()
    await expectRejected(pool, () => pool.add(new Uint8Array()), 'DECODE', /^invalid transaction: rlp/)
    await expectRejected(pool, () => pool.add(good.subarray(0, good.length - 3)), 'DECODE', /^invalid transaction: rlp/)
    await expectRejected(pool, () => pool.add(new Uint8Array([0x83, 1, 2, 3])), 'DECODE', /^invalid transaction: rlp/)
    await expectRejected(pool, () => pool.add(new Uint8Array([0xc3, 1, 2, 3])), 'DECODE', /^invalid transaction: rlp/)
    // A list inside a scalar field.
    const legacy = RLP.decode(txLegacy(A, {}).serialize()) as Uint8Array[]
    const nested = RLP.encode([[new Uint8Array([1])], ...legacy.slice(1)])
    await expectRejected(pool, () => pool.add(nested), 'DECODE', /^invalid transaction: /)
  })

  test('blob (type 3), set-code (type 4) and unknown types are not supported', async () => {
    const { pool } = await seeded()
    const body = RLP.decode(tx1559(A, {}).serialize().subarray(1)) as Uint8Array[]
    for (const type of [3, 4, 5, 0x7f]) {
      const raw = concat(new Uint8Array([type]), RLP.encode(body))
      await expectRejected(pool, () => pool.add(raw), 'TX_TYPE_NOT_SUPPORTED', /^transaction type not supported: type \d+/)
    }
  })

  test('oversized data', async () => {
    const { pool } = await seeded({ limits: { maxTxBytes: 300 } })
    const raw = tx1559(A, { data: new Uint8Array(400).fill(1), gasLimit: 100_000n }).serialize()
    await expectRejected(pool, () => pool.add(raw), 'OVERSIZED', `oversized data: transaction size ${raw.length}, limit 300`)
  })

  test('wrong chain id, typed and legacy', async () => {
    const { pool } = await seeded()
    const other = makeCommon(1n)
    for (const tx of [tx1559(A, {}, other), tx2930(A, {}, other), txLegacy(A, {}, other)]) {
      await expectRejected(pool, () => pool.add(tx.serialize()), 'INVALID_CHAIN_ID', 'invalid chain id: have 1 want 1337')
      await expectRejected(pool, () => pool.addTx(tx), 'INVALID_CHAIN_ID', 'invalid chain id: have 1 want 1337')
    }
  })

  test('legacy tx without EIP-155 replay protection', async () => {
    const { pool } = await seeded()
    const tx = txUnprotected(A)
    assert.ok(tx.v === 27n || tx.v === 28n)
    const msg = 'only replay-protected (EIP-155) transactions allowed'
    await expectRejected(pool, () => pool.add(tx.serialize()), 'NOT_REPLAY_PROTECTED', msg)
    await expectRejected(pool, () => pool.addTx(tx), 'NOT_REPLAY_PROTECTED', msg)
  })

  test('bad signature values: high s, zero r, bad y parity, unsigned', async () => {
    const { pool } = await seeded()
    const msg = 'invalid transaction v, r, s values'
    // The same signature in its high-s form still recovers, but EIP-2 forbids it.
    const highS = raw1559(A, { tip: 1n, feeCap: 10n }, (s) => ({ yParity: 1n - s.yParity, r: s.r, s: SECP256K1_ORDER - s.s }))
    await expectRejected(pool, () => pool.add(highS), 'INVALID_SIGNATURE', msg)
    await expectRejected(pool, () => pool.add(raw1559(A, { tip: 1n, feeCap: 10n }, (s) => ({ ...s, r: 0n }))), 'INVALID_SIGNATURE', msg)
    await expectRejected(pool, () => pool.add(raw1559(A, { tip: 1n, feeCap: 10n }, (s) => ({ ...s, yParity: 2n }))), 'INVALID_SIGNATURE', msg)
    const fields = RLP.decode(tx1559(A, {}).serialize().subarray(1)) as Uint8Array[]
    const unsigned = concat(new Uint8Array([2]), RLP.encode(fields.slice(0, 9)))
    await expectRejected(pool, () => pool.add(unsigned), 'INVALID_SIGNATURE', msg)
  })

  test('a signature that recovers no key is an invalid sender', async () => {
    const { pool } = await seeded()
    // Smallest r that is not the x coordinate of a curve point: recovery must fail.
    let r = 1n
    for (;; r++) {
      try {
        secp256k1.Point.fromBytes(concat(new Uint8Array([2]), pad32(r)))
      } catch {
        break
      }
    }
    const raw = raw1559(A, { tip: 1n, feeCap: 10n }, (s) => ({ ...s, r }))
    await expectRejected(pool, () => pool.add(raw), 'INVALID_SENDER', 'invalid sender')
  })

  test('sender not allowed on a permissioned chain', async () => {
    const allowed = ADDRS[1]?.toString()
    const { pool } = await seeded({ isSenderAllowed: (a) => a.toString() === allowed })
    await expectRejected(pool, () => pool.add(tx1559(A, {}).serialize()), 'SENDER_NOT_ALLOWED', /^sender account not authorized/)
  })

  test('gas limit below intrinsic gas and below the EIP-7623 calldata floor', async () => {
    const { pool } = await seeded()
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { gasLimit: 20_999n }).serialize()),
      'INTRINSIC_GAS',
      'intrinsic gas too low: have 20999, want 21000',
    )
    // 100 non-zero calldata bytes: intrinsic 21000 + 16 * 100; creation adds 32000 + 2 per word.
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { gasLimit: 22_000n, data: new Uint8Array(100).fill(7) }).serialize()),
      'INTRINSIC_GAS',
      'intrinsic gas too low: have 22000, want 22600',
    )
    // A contract creation costs 32000 more.
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { to: '', gasLimit: 52_999n }).serialize()),
      'INTRINSIC_GAS',
      'intrinsic gas too low: have 52999, want 53000',
    )
    await pool.add(tx1559(A, { to: '', gasLimit: 53_000n }).serialize())
    // 1000 non-zero bytes: intrinsic 37000, floor 21000 + 10 * 4 * 1000 = 61000.
    await expectRejected(
      pool,
      () => pool.add(tx1559(C, { gasLimit: 40_000n, data: new Uint8Array(1000).fill(7) }).serialize()),
      'FLOOR_DATA_GAS',
      'insufficient gas for floor data gas cost: have 40000, want 61000',
    )
  })

  test('init code above the EIP-3860 limit', async () => {
    const { pool } = await seeded({ limits: { maxTxBytes: 1 << 20 } })
    const big = createFeeMarket1559Tx(
      { maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, gasLimit: 10_000_000n, data: new Uint8Array(49_153) },
      { common, allowUnlimitedInitCodeSize: true },
    )
    const raw = big.sign(A).serialize()
    await expectRejected(pool, () => pool.add(raw), 'INITCODE_TOO_LARGE', 'max initcode size exceeded: code size 49153, limit 49152')
  })

  test('gas limit above the block gas limit', async () => {
    const { pool } = await seeded({ limits: { blockGasLimit: 100_000n } })
    await expectRejected(pool, () => pool.add(tx1559(A, { gasLimit: 100_001n }).serialize()), 'GAS_LIMIT', /^exceeds block gas limit/)
  })

  test('fee cap below the minimum gas price', async () => {
    const { pool } = await seeded({ limits: { minGasPrice: 5n } })
    await expectRejected(pool, () => pool.add(tx1559(A, { feeCap: 4n }).serialize()), 'UNDERPRICED', /^transaction underpriced/)
    await expectRejected(pool, () => pool.add(txLegacy(A, { gasPrice: 4n }).serialize()), 'UNDERPRICED', /^transaction underpriced/)
    await pool.add(tx1559(A, { feeCap: 5n }).serialize())
  })

  test('tip above fee cap', async () => {
    const { pool } = await seeded()
    await expectRejected(
      pool,
      () => pool.add(raw1559(A, { tip: 11n, feeCap: 10n })),
      'TIP_ABOVE_FEE_CAP',
      /^max priority fee per gas higher than max fee per gas/,
    )
  })

  test('nonce below the account nonce', async () => {
    const { pool, state } = await seeded()
    state.set(ADDRS[0]!, 5n)
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { nonce: 3n }).serialize()),
      'NONCE_TOO_LOW',
      'nonce too low: next nonce 5, tx nonce 3',
    )
  })

  test('nonce too far ahead of the account nonce', async () => {
    const { pool } = await seeded({ maxPerSender: 4 })
    await expectRejected(pool, () => pool.add(tx1559(A, { nonce: 5n }).serialize()), 'NONCE_TOO_HIGH', /^nonce too high/)
    await pool.add(tx1559(A, { nonce: 4n }).serialize()) // exactly maxPerSender ahead is allowed (queued)
  })

  test('balance below gasLimit * maxFee + value, alone and with the sender\'s other txs', async () => {
    const { pool, state } = await seeded()
    const balance = 21000n * 10n * 2n + 5n
    state.set(ADDRS[0]!, 0n, balance)
    const cost = 21000n * 10n + 1000n
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { feeCap: 10n, value: balance }).serialize()),
      'INSUFFICIENT_FUNDS',
      `insufficient funds for gas * price + value: balance ${balance}, tx cost ${21000n * 10n + balance}, overshot ${21000n * 10n}`,
    )
    await pool.add(tx1559(A, { nonce: 0n, feeCap: 10n, value: 1000n }).serialize())
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { nonce: 1n, feeCap: 10n, value: 1000n }).serialize()),
      'INSUFFICIENT_FUNDS',
      `insufficient funds for gas * price + value: balance ${balance}, queued cost ${cost}, tx cost ${cost}, overshot ${2n * cost - balance}`,
    )
  })

  test('already known', async () => {
    const { pool } = await seeded()
    const raw = tx1559(A, {}).serialize()
    await pool.add(raw)
    await expectRejected(pool, () => pool.add(raw), 'ALREADY_KNOWN', 'already known')
  })

  test('errors are typed: code, message, malformed flag', async () => {
    const { pool } = makePool()
    const err = await pool.add(new Uint8Array([0xc0])).catch((e: unknown) => e)
    assert.ok(err instanceof MempoolError)
    assert.ok(err instanceof Error)
    assert.equal(err.name, 'MempoolError')
    assert.equal(err.malformed, true)
    const known = tx1559(A, {}).serialize()
    await pool.add(known)
    const dup = await pool.add(known).catch((e: unknown) => e)
    assert.ok(dup instanceof MempoolError)
    assert.equal(dup.malformed, false)
  })
})

function pad32(n: bigint): Uint8Array {
  const b = bigIntToUnpaddedBytes(n)
  const out = new Uint8Array(32)
  out.set(b, 32 - b.length)
  return out
}
