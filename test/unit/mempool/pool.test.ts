/**
 * Pool behaviour: pending vs queued and promotion, replacement, per-sender and global limits
 * with eviction, new heads, nonces for eth_getTransactionCount "pending", events.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { PoolEntry, RemovalReason } from '../../../src/mempool/index.ts'
import { ADDRS, KEYS, expectRejected, makePool, tx1559, txLegacy } from './helpers.ts'

const [A, B, C, D, E] = KEYS as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]
const [addrA, addrB] = ADDRS as [(typeof ADDRS)[0], (typeof ADDRS)[0]]

function statuses(pool: ReturnType<typeof makePool>['pool'], key: Uint8Array, nonces: bigint[]): Array<string | undefined> {
  return nonces.map((n) => {
    const e = [...pool.entries()].find((x) => x.tx.nonce === n && x.senderHex === ADDRS[KEYS.indexOf(key)]?.toString())
    return e?.status
  })
}

function record(pool: ReturnType<typeof makePool>['pool']) {
  const log: string[] = []
  pool.on('added', (e) => log.push(`added ${e.nonce} ${e.status}`))
  pool.on('promoted', (e) => log.push(`promoted ${e.nonce}`))
  pool.on('removed', (e, why) => log.push(`removed ${e.nonce} ${why}`))
  return log
}

describe('pending and queued', () => {
  test('contiguous nonces are pending, gaps are queued, and fill-in promotes', async () => {
    const { pool } = makePool()
    const log = record(pool)
    assert.equal((await pool.add(tx1559(A, { nonce: 0n }).serialize())).status, 'pending')
    assert.equal((await pool.add(tx1559(A, { nonce: 2n }).serialize())).status, 'queued')
    assert.equal((await pool.add(tx1559(A, { nonce: 3n }).serialize())).status, 'queued')
    assert.equal((await pool.add(tx1559(A, { nonce: 5n }).serialize())).status, 'queued')
    assert.deepEqual([pool.pendingCount, pool.queuedCount], [1, 3])
    assert.equal(await pool.nextNonce(addrA), 1n)

    assert.equal((await pool.add(tx1559(A, { nonce: 1n }).serialize())).status, 'pending')
    assert.deepEqual(statuses(pool, A, [0n, 1n, 2n, 3n, 5n]), ['pending', 'pending', 'pending', 'pending', 'queued'])
    assert.deepEqual([pool.pendingCount, pool.queuedCount], [4, 1])
    assert.equal(await pool.nextNonce(addrA), 4n)
    assert.deepEqual(log, [
      'added 0 pending',
      'added 2 queued',
      'added 3 queued',
      'added 5 queued',
      'added 1 pending',
      'promoted 2',
      'promoted 3',
    ])
  })

  test('the account nonce is the start of the pending run', async () => {
    const { pool, state } = makePool()
    state.set(addrA, 7n)
    assert.equal((await pool.add(tx1559(A, { nonce: 8n }).serialize())).status, 'queued')
    assert.equal((await pool.add(tx1559(A, { nonce: 7n }).serialize())).status, 'pending')
    assert.equal(pool.get(tx1559(A, { nonce: 8n }).hash())?.status, 'pending')
    assert.equal(await pool.nextNonce(addrA), 9n)
    assert.equal(await pool.nextNonce(addrB), 0n)
  })

  test('remove() takes the later nonces too: they cannot run without it', async () => {
    const { pool } = makePool()
    const log = record(pool)
    const txs = [0n, 1n, 2n].map((nonce) => tx1559(A, { nonce }))
    for (const tx of txs) await pool.add(tx.serialize())
    assert.equal(await pool.remove(txs[1]!.hash()), true)
    assert.equal(await pool.remove(txs[1]!.hash()), false)
    assert.deepEqual(statuses(pool, A, [0n, 1n, 2n]), ['pending', undefined, undefined])
    assert.deepEqual(log.slice(3), ['removed 1 removed', 'removed 2 orphaned'])
    assert.equal(await pool.nextNonce(addrA), 1n)
    await pool.add(txs[1]!.serialize())
    assert.deepEqual(statuses(pool, A, [0n, 1n, 2n]), ['pending', 'pending', undefined])
  })

  test('content() groups by status, sender and nonce', async () => {
    const { pool } = makePool()
    await pool.add(tx1559(A, { nonce: 0n }).serialize())
    await pool.add(tx1559(A, { nonce: 2n }).serialize())
    await pool.add(tx1559(B, { nonce: 0n }).serialize())
    const c = pool.content()
    assert.deepEqual(Object.keys(c.pending).sort(), [addrA.toString(), addrB.toString()].sort())
    assert.deepEqual(Object.keys(c.pending[addrA.toString()]!), ['0'])
    assert.deepEqual(Object.keys(c.queued[addrA.toString()]!), ['2'])
    assert.equal(c.queued[addrB.toString()], undefined)
  })

  test('concurrent adds for one sender are serialised around the account lookup', async () => {
    const { pool, state } = makePool()
    const slow = state.getAccount
    // Each lookup resolves on a later turn, so unserialised adds would interleave.
    const opts = (pool as unknown as { opts: { getAccount: typeof slow } }).opts
    opts.getAccount = async (a) => {
      await new Promise((r) => setImmediate(r))
      return slow(a)
    }
    const txs = [4n, 2n, 0n, 3n, 1n].map((nonce) => tx1559(A, { nonce }))
    const dup = tx1559(B, {})
    const results = await Promise.allSettled([
      ...txs.map((t) => pool.add(t.serialize())),
      pool.add(dup.serialize()),
      pool.add(dup.serialize()),
    ])
    assert.deepEqual(
      results.slice(0, 5).map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
    )
    const dupResults = results.slice(5).map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))
    assert.deepEqual(dupResults.sort(), ['already known', 'ok'])
    assert.deepEqual(statuses(pool, A, [0n, 1n, 2n, 3n, 4n]), Array(5).fill('pending'))
    assert.equal(pool.size, 6)
  })
})

describe('replacement', () => {
  test('needs both fee cap and tip raised by the bump: 9% refused, 10% accepted', async () => {
    const { pool } = makePool()
    const log = record(pool)
    const old = tx1559(A, { nonce: 0n, feeCap: 1000n, tip: 100n })
    await pool.add(old.serialize())
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { nonce: 0n, feeCap: 1090n, tip: 109n }).serialize()),
      'REPLACEMENT_UNDERPRICED',
      'replacement transaction underpriced',
    )
    // Raising only one of the two is not enough.
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { nonce: 0n, feeCap: 2000n, tip: 100n }).serialize()),
      'REPLACEMENT_UNDERPRICED',
      'replacement transaction underpriced',
    )
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { nonce: 0n, feeCap: 1099n, tip: 200n }).serialize()),
      'REPLACEMENT_UNDERPRICED',
      'replacement transaction underpriced',
    )
    const next = tx1559(A, { nonce: 0n, feeCap: 1100n, tip: 110n })
    const res = await pool.add(next.serialize())
    assert.deepEqual(res, { hash: next.hash(), status: 'pending', replaced: old.hash() })
    assert.equal(pool.get(old.hash()), undefined)
    assert.equal(pool.get(next.hash())?.status, 'pending')
    assert.equal(pool.size, 1)
    assert.deepEqual(log, ['added 0 pending', 'removed 0 replaced', 'added 0 pending'])
  })

  test('legacy gas price bump, custom percent, and a queued tx stays queued', async () => {
    const { pool } = makePool({ priceBumpPercent: 25 })
    await pool.add(txLegacy(A, { nonce: 3n, gasPrice: 100n }).serialize())
    await expectRejected(
      pool,
      () => pool.add(txLegacy(A, { nonce: 3n, gasPrice: 124n }).serialize()),
      'REPLACEMENT_UNDERPRICED',
      'replacement transaction underpriced',
    )
    const res = await pool.add(tx1559(A, { nonce: 3n, feeCap: 125n }).serialize())
    assert.equal(res.status, 'queued')
    assert.equal(pool.queuedCount, 1)
  })

  test('the balance check counts the replacement, not both', async () => {
    const { pool, state } = makePool()
    state.set(addrA, 0n, 21000n * 300n)
    await pool.add(tx1559(A, { nonce: 0n, feeCap: 200n }).serialize())
    await pool.add(tx1559(A, { nonce: 0n, feeCap: 300n }).serialize())
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { nonce: 0n, feeCap: 400n }).serialize()),
      'INSUFFICIENT_FUNDS',
      /^insufficient funds for gas \* price \+ value: balance 6300000, tx cost 8400000/,
    )
  })
})

describe('limits and eviction', () => {
  test('per-sender limit; a gap filler evicts the sender\'s farthest queued tx', async () => {
    const { pool } = makePool({ maxPerSender: 4 })
    for (const nonce of [0n, 1n, 3n, 4n]) await pool.add(tx1559(A, { nonce }).serialize())
    await expectRejected(pool, () => pool.add(tx1559(A, { nonce: 5n }).serialize()), 'NONCE_TOO_HIGH', /^nonce too high/)
    const log = record(pool)
    const res = await pool.add(tx1559(A, { nonce: 2n }).serialize())
    assert.equal(res.status, 'pending')
    assert.deepEqual(statuses(pool, A, [0n, 1n, 2n, 3n, 4n]), ['pending', 'pending', 'pending', 'pending', undefined])
    assert.deepEqual(log, ['removed 4 evicted', 'added 2 pending', 'promoted 3'])
  })

  test('per-sender limit refuses a tx beyond the sender\'s last', async () => {
    const { pool } = makePool({ maxPerSender: 3 })
    for (const nonce of [0n, 1n, 2n]) await pool.add(tx1559(A, { nonce }).serialize())
    await expectRejected(
      pool,
      () => pool.add(tx1559(A, { nonce: 3n }).serialize()),
      'ACCOUNT_LIMIT',
      'account limit exceeded: 3 txs, limit 3',
    )
    // Replacements are not new slots.
    await pool.add(tx1559(A, { nonce: 2n, feeCap: 20n }).serialize())
  })

  test('full pool evicts another sender\'s queued tx first, even a pricier one', async () => {
    const { pool } = makePool({ maxTotal: 4 })
    await pool.add(tx1559(A, { nonce: 0n, feeCap: 10n }).serialize())
    await pool.add(tx1559(A, { nonce: 1n, feeCap: 10n }).serialize())
    await pool.add(tx1559(B, { nonce: 0n, feeCap: 10n }).serialize())
    const queued = tx1559(C, { nonce: 5n, feeCap: 1000n })
    await pool.add(queued.serialize())
    const log = record(pool)
    const res = await pool.add(tx1559(D, { nonce: 0n, feeCap: 2n }).serialize())
    assert.equal(res.status, 'pending')
    assert.equal(pool.get(queued.hash()), undefined)
    assert.deepEqual(log, ['removed 5 evicted', 'added 0 pending'])
    assert.equal(pool.size, 4)
  })

  test('full of pending txs: evicts the cheapest sender\'s last pending tx, never opening a gap', async () => {
    const { pool } = makePool({ maxTotal: 4 })
    const a0 = tx1559(A, { nonce: 0n, feeCap: 2n })
    const a1 = tx1559(A, { nonce: 1n, feeCap: 20n })
    const b0 = tx1559(B, { nonce: 0n, feeCap: 5n })
    const c0 = tx1559(C, { nonce: 0n, feeCap: 6n })
    for (const tx of [a0, a1, b0, c0]) await pool.add(tx.serialize())
    // a0 is the cheapest tx but evicting it would strand a1; the cheapest tail is b0 at 5.
    await expectRejected(pool, () => pool.add(tx1559(D, { feeCap: 4n }).serialize()), 'POOL_FULL', 'txpool is full')
    await expectRejected(pool, () => pool.add(tx1559(D, { feeCap: 5n }).serialize()), 'POOL_FULL', 'txpool is full')
    // A queued newcomer never displaces a pending tx.
    await expectRejected(pool, () => pool.add(tx1559(D, { nonce: 1n, feeCap: 99n }).serialize()), 'POOL_FULL', 'txpool is full')
    const d0 = tx1559(D, { feeCap: 6n, tip: 1n })
    await pool.add(d0.serialize())
    assert.equal(pool.get(b0.hash()), undefined)
    assert.ok(pool.get(a0.hash()) && pool.get(a1.hash()) && pool.get(c0.hash()) && pool.get(d0.hash()))
    // Own txs are never the victim: A cannot push out its own cheap a0 or anyone at a lower price.
    await expectRejected(pool, () => pool.add(tx1559(A, { nonce: 2n, feeCap: 1n }).serialize()), 'POOL_FULL', 'txpool is full')
    // But a pricier pending tx from A pushes out the cheapest other tail (d0: fee 6, tip 1).
    await pool.add(tx1559(A, { nonce: 2n, feeCap: 50n }).serialize())
    assert.equal(pool.get(d0.hash()), undefined)
    assert.equal(pool.size, 4)
  })

  test('a sender cannot evict itself: a pool full of one sender refuses the next', async () => {
    const { pool } = makePool({ maxTotal: 2 })
    await pool.add(tx1559(A, { nonce: 0n }).serialize())
    await pool.add(tx1559(A, { nonce: 1n }).serialize())
    await expectRejected(pool, () => pool.add(tx1559(A, { nonce: 2n, feeCap: 1000n }).serialize()), 'POOL_FULL', 'txpool is full')
    await pool.add(tx1559(B, { nonce: 0n, feeCap: 1000n }).serialize())
    assert.equal(pool.size, 2)
  })
})

describe('new heads', () => {
  test('removes included txs and keeps the rest in order', async () => {
    const { pool, state } = makePool()
    const txs = [0n, 1n, 2n, 4n].map((nonce) => tx1559(A, { nonce }))
    for (const tx of txs) await pool.add(tx.serialize())
    const b0 = tx1559(B, {})
    await pool.add(b0.serialize())
    const log = record(pool)
    state.set(addrA, 2n)
    await pool.onNewHead([txs[0]!.hash(), txs[1]!.hash(), randomBytes(32)])
    assert.deepEqual(statuses(pool, A, [0n, 1n, 2n, 4n]), [undefined, undefined, 'pending', 'queued'])
    assert.equal(pool.get(b0.hash())?.status, 'pending')
    assert.deepEqual(log, ['removed 0 included', 'removed 1 included'])
    assert.deepEqual([pool.size, pool.pendingCount, pool.queuedCount], [3, 2, 1])
    assert.deepEqual(
      [...pool.executable(0n)].map((e) => `${e.senderHex === addrA.toString() ? 'A' : 'B'}${e.nonce}`).sort(),
      ['A2', 'B0'],
    )
  })

  test('promotes queued txs whose gap was mined from elsewhere, drops stale ones', async () => {
    const { pool, state } = makePool()
    for (const nonce of [0n, 2n, 3n]) await pool.add(tx1559(A, { nonce }).serialize())
    const log = record(pool)
    // Nonces 0 and 1 were mined in txs this pool never saw (e.g. a replacement sent elsewhere).
    state.set(addrA, 2n)
    await pool.onNewHead([randomBytes(32)], [addrA])
    assert.deepEqual(statuses(pool, A, [0n, 2n, 3n]), [undefined, 'pending', 'pending'])
    assert.deepEqual(log, ['removed 0 stale', 'promoted 2', 'promoted 3'])
  })

  test('drops what the balance no longer covers, and the later nonces behind it', async () => {
    const { pool, state } = makePool()
    for (const nonce of [0n, 1n, 2n]) await pool.add(tx1559(A, { nonce, value: nonce === 1n ? 10n ** 18n : 0n }).serialize())
    const log = record(pool)
    state.set(addrA, 0n, 10n ** 17n)
    await pool.revalidate([addrA])
    assert.deepEqual(statuses(pool, A, [0n, 1n, 2n]), ['pending', undefined, undefined])
    assert.deepEqual(log, ['removed 1 unaffordable', 'removed 2 orphaned'])
  })

  test('drops txs above a lowered block gas limit', async () => {
    const { pool, state, limits } = makePool()
    await pool.add(tx1559(A, { nonce: 0n, gasLimit: 50_000n }).serialize())
    await pool.add(tx1559(B, { nonce: 0n, gasLimit: 21_000n }).serialize())
    limits.blockGasLimit = 30_000n
    state.set(addrA, 0n)
    await pool.revalidate()
    assert.equal(pool.size, 1)
    assert.equal([...pool.entries()][0]?.senderHex, addrB.toString())
  })

  test('an add after the head moved catches the sender up first', async () => {
    const { pool, state } = makePool()
    for (const nonce of [0n, 1n, 3n]) await pool.add(tx1559(A, { nonce }).serialize())
    const removed: Array<[bigint, RemovalReason]> = []
    pool.on('removed', (e: PoolEntry, why) => removed.push([e.nonce, why]))
    state.set(addrA, 2n)
    assert.equal((await pool.add(tx1559(A, { nonce: 2n }).serialize())).status, 'pending')
    assert.deepEqual(removed, [
      [0n, 'stale'],
      [1n, 'stale'],
    ])
    assert.deepEqual(statuses(pool, A, [2n, 3n]), ['pending', 'pending'])
  })
})

describe('re-adding decoded txs', () => {
  test('addTx takes a tx object, keeping its recovered sender', async () => {
    const { pool } = makePool()
    const tx = tx1559(E, { nonce: 0n })
    const res = await pool.addTx(tx)
    assert.equal(res.status, 'pending')
    assert.equal(pool.get(tx.hash())?.sender.toString(), ADDRS[4]?.toString())
    await expectRejected(pool, () => pool.addTx(tx), 'ALREADY_KNOWN', 'already known')
  })
})
