/**
 * A flood must not leave the pool holding txs that can never execute. Found by a probe of
 * running nodes: after a flood, 7,064 of 8,192 slots were held by queued txs with 0 pending,
 * forever. The slots are freed by two rules: queued txs expire after a lifetime without
 * progress (geth: 3 h), and a tx that leaves without its nonce being used takes its sender's
 * later nonces with it.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createAddressFromPrivateKey } from '@ethereumjs/util'
import type { PoolEntry, RemovalReason } from '../../../src/mempool/index.ts'
import { TEST_MNEMONIC, deriveKeys } from '../../../src/wallet/hd.ts'
import { ADDRS, KEYS, makePool, tx1559 } from './helpers.ts'

const HOUR = 3_600_000
const [A, B, C] = KEYS as [Uint8Array, Uint8Array, Uint8Array]

function removals(pool: ReturnType<typeof makePool>['pool']): Array<[string, bigint, RemovalReason]> {
  const log: Array<[string, bigint, RemovalReason]> = []
  pool.on('removed', (e: PoolEntry, why) => log.push([e.senderHex, e.nonce, why]))
  return log
}

function count(log: Array<[string, bigint, RemovalReason]>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [, , why] of log) out[why] = (out[why] ?? 0) + 1
  return out
}

/** A fake clock for the pool: tests move time by hand instead of sleeping. */
function clock(start = 1_700_000_000_000) {
  let now = start
  return { now: () => now, advance: (ms: number) => void (now += ms) }
}

describe('flood: queued txs behind evicted nonces', () => {
  test('after a flood the queued txs left behind evicted nonces expire after the lifetime; nothing else does', async () => {
    const time = clock()
    const { pool, state } = makePool({ maxTotal: 32, maxPerSender: 16, now: time.now })
    const log = removals(pool)
    const victims = deriveKeys(TEST_MNEMONIC, 20).slice(12).map((k) => k.privateKey) // 8 fresh senders
    const flooders = KEYS.slice(0, 4)
    for (const k of victims) state.set(createAddressFromPrivateKey(k), 0n)

    // 8 senders fill the pool with nonces 0..3 at a low price.
    for (let n = 0n; n < 4n; n++) for (const k of victims) await pool.add(tx1559(k, { nonce: n, feeCap: 10n }).serialize())
    assert.deepEqual([pool.size, pool.pendingCount], [32, 32])
    // The flood: 4 senders at a higher price push out the victims' last nonces (2 and 3).
    for (let n = 0n; n < 4n; n++) for (const k of flooders) await pool.add(tx1559(k, { nonce: n, feeCap: 20n }).serialize())
    assert.equal(count(log).evicted, 16)
    // A block makes room (the flooders' txs are mined); the victims' wallets go on with nonces 4 and 5,
    // which now wait behind the evicted 2 and 3.
    for (const k of flooders) state.set(ADDRS[KEYS.indexOf(k)]!, 4n)
    await pool.onNewHead(flooders.flatMap((k) => [0n, 1n, 2n, 3n].map((nonce) => tx1559(k, { nonce, feeCap: 20n }).hash())))
    for (let n = 4n; n < 6n; n++) for (const k of victims) assert.equal((await pool.add(tx1559(k, { nonce: n, feeCap: 10n }).serialize())).status, 'queued')
    // Blocks mine everything that can run.
    for (const k of victims) state.set(createAddressFromPrivateKey(k), 2n)
    await pool.onNewHead(victims.flatMap((k) => [0n, 1n].map((nonce) => tx1559(k, { nonce, feeCap: 10n }).hash())))
    assert.deepEqual([pool.size, pool.pendingCount, pool.queuedCount], [16, 0, 16], 'stuck: queued, with nothing pending')

    // Within the lifetime they stay (the sender may still send the missing nonces)...
    time.advance(3 * HOUR - 1)
    assert.equal(pool.expireQueued(), 0)
    assert.equal(pool.queuedCount, 16)
    // ...then they go, reported as expired.
    time.advance(2)
    assert.equal(pool.expireQueued(), 16)
    assert.deepEqual([pool.size, pool.pendingCount, pool.queuedCount], [0, 0, 0])
    assert.equal(count(log).expired, 16)
  })

  test('the lifetime counts from the sender\'s last progress: a gap that fills resets it, new queued txs do not', async () => {
    const time = clock()
    const { pool } = makePool({ queuedLifetimeMs: HOUR, now: time.now })
    const log = removals(pool)
    await pool.add(tx1559(A, { nonce: 0n }).serialize())
    await pool.add(tx1559(A, { nonce: 2n }).serialize())
    await pool.add(tx1559(B, { nonce: 1n }).serialize())
    time.advance(HOUR - 10)
    // A fills its gap: 2 is promoted, A's new queued tx 4 starts a fresh lifetime.
    await pool.add(tx1559(A, { nonce: 1n }).serialize())
    await pool.add(tx1559(A, { nonce: 4n }).serialize())
    // B keeps adding queued txs: that is not progress.
    await pool.add(tx1559(B, { nonce: 2n }).serialize())
    time.advance(20)
    assert.equal(pool.expireQueued(), 2)
    assert.deepEqual(log, [
      [ADDRS[1]!.toString(), 1n, 'expired'],
      [ADDRS[1]!.toString(), 2n, 'expired'],
    ])
    assert.deepEqual([pool.pendingCount, pool.queuedCount], [3, 1])
    time.advance(HOUR)
    assert.equal(pool.expireQueued(), 1, "A's queued tx 4 expires a lifetime after A's last progress")
    assert.deepEqual([pool.pendingCount, pool.queuedCount], [3, 0], 'pending txs never expire')
  })

})

describe('a tx that leaves without its nonce being used takes its sender\'s later nonces', () => {
  test('remove() (a tx the block builder could not run), after the new heads already asked for', async () => {
    const { pool } = makePool()
    const log = removals(pool)
    const txs = [0n, 1n, 2n, 3n, 5n].map((nonce) => tx1559(A, { nonce }))
    for (const tx of txs) await pool.add(tx.serialize())
    assert.equal(await pool.remove(txs[1]!.hash()), true)
    assert.deepEqual(log.map(([, n, why]) => `${n} ${why}`), ['1 removed', '2 orphaned', '3 orphaned', '5 orphaned'])
    assert.deepEqual([pool.size, pool.pendingCount, pool.queuedCount], [1, 1, 0])
  })

  test('unaffordable and gas-limit drops on a new head', async () => {
    const { pool, state, limits } = makePool()
    const log = removals(pool)
    for (const nonce of [0n, 1n, 2n]) await pool.add(tx1559(A, { nonce, value: nonce === 1n ? 10n ** 18n : 0n }).serialize())
    for (const nonce of [0n, 1n, 2n]) await pool.add(tx1559(B, { nonce, gasLimit: nonce === 0n ? 50_000n : 21_000n }).serialize())
    await pool.add(tx1559(C, { nonce: 0n }).serialize())
    state.set(ADDRS[0]!, 0n, 10n ** 17n)
    limits.blockGasLimit = 30_000n
    await pool.revalidate()
    assert.deepEqual(log.map(([s, n, why]) => `${s === ADDRS[0]!.toString() ? 'A' : 'B'}${n} ${why}`), ['A1 unaffordable', 'A2 orphaned', 'B0 gas-limit', 'B1 orphaned', 'B2 orphaned'])
    assert.deepEqual([pool.size, pool.pendingCount, pool.queuedCount], [2, 2, 0])
  })

  test('a full pool evicting a queued tx evicts the queued txs behind it too', async () => {
    const { pool } = makePool({ maxTotal: 4 })
    await pool.add(tx1559(A, { nonce: 0n, feeCap: 30n }).serialize())
    for (const nonce of [2n, 3n, 4n]) await pool.add(tx1559(B, { nonce, feeCap: nonce === 2n ? 5n : 40n }).serialize())
    const log = removals(pool)
    await pool.add(tx1559(C, { nonce: 0n, feeCap: 10n }).serialize())
    assert.deepEqual(log.map(([, n, why]) => `${n} ${why}`), ['2 evicted', '3 orphaned', '4 orphaned'])
    assert.deepEqual([pool.size, pool.pendingCount, pool.queuedCount], [2, 2, 0])
  })

  test('a builder that read the pool before the last head reports a tx that head included: the later nonces stay', async () => {
    const { pool, state } = makePool()
    const log = removals(pool)
    const txs = [0n, 1n, 2n].map((nonce) => tx1559(A, { nonce }))
    for (const tx of txs) await pool.add(tx.serialize())
    // Block 1 included A0; the builder of block 2 saw A0 still pending, and it failed (nonce too low).
    state.set(ADDRS[0]!, 1n)
    const head = pool.onNewHead([txs[0]!.hash()])
    const removed = pool.remove(txs[0]!.hash())
    await head
    assert.equal(await removed, false)
    assert.deepEqual(log.map(([, n, why]) => `${n} ${why}`), ['0 included'])
    assert.deepEqual([pool.pendingCount, pool.queuedCount], [2, 0])
  })
})
