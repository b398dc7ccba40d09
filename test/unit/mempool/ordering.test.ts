/**
 * executable(): highest effective tip first across senders, nonce order within a sender,
 * senders that cannot pay the base fee left out, skipSender; and a seeded randomized run
 * checking the sequence is always a valid greedy price-and-nonce order.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { effectiveTip } from '../../../src/mempool/index.ts'
import type { Mempool, PoolEntry } from '../../../src/mempool/index.ts'
import { ADDRS, KEYS, makePool, prng, tx1559, txLegacy } from './helpers.ts'

const [A, B, C, D] = KEYS as [Uint8Array, Uint8Array, Uint8Array, Uint8Array]
const names = new Map<string, string>(ADDRS.map((a, i) => [a.toString(), 'ABCDEFGHIJKL'[i] as string]))
const label = (e: PoolEntry) => `${names.get(e.senderHex)}${e.nonce}`

describe('executable ordering', () => {
  test('highest tip first across senders, nonce order within each', async () => {
    const { pool } = makePool()
    const txs = [
      tx1559(A, { nonce: 0n, feeCap: 100n, tip: 5n }),
      tx1559(A, { nonce: 1n, feeCap: 100n, tip: 50n }),
      tx1559(B, { nonce: 0n, feeCap: 100n, tip: 10n }),
      tx1559(B, { nonce: 1n, feeCap: 100n, tip: 1n }),
      tx1559(C, { nonce: 0n, feeCap: 100n, tip: 7n }),
      tx1559(C, { nonce: 2n, feeCap: 100n, tip: 99n }), // queued: never executable
    ]
    // Add in an order unrelated to price.
    for (const tx of [...txs].reverse()) await pool.add(tx.serialize())
    assert.deepEqual([...pool.executable(0n)].map(label), ['B0', 'C0', 'A0', 'A1', 'B1'])
  })

  test('effective tip is min(tip, feeCap - baseFee); legacy pays gasPrice - baseFee', async () => {
    const { pool } = makePool()
    await pool.add(tx1559(A, { feeCap: 103n, tip: 100n }).serialize()) // 3 at base fee 100
    await pool.add(tx1559(B, { feeCap: 200n, tip: 5n }).serialize()) // 5
    await pool.add(txLegacy(C, { gasPrice: 104n }).serialize()) // 4
    await pool.add(tx1559(D, { feeCap: 99n, tip: 99n }).serialize()) // cannot pay 100
    assert.deepEqual([...pool.executable(100n)].map(label), ['B0', 'C0', 'A0'])
    // At base fee 0 the legacy tx tips its whole gas price.
    assert.deepEqual([...pool.executable(0n)].map(label), ['C0', 'A0', 'D0', 'B0'])
  })

  test('a sender stops at its first tx that cannot pay the base fee', async () => {
    const { pool } = makePool()
    await pool.add(tx1559(A, { nonce: 0n, feeCap: 50n, tip: 1n }).serialize())
    await pool.add(tx1559(A, { nonce: 1n, feeCap: 9n, tip: 1n }).serialize())
    await pool.add(tx1559(A, { nonce: 2n, feeCap: 50n, tip: 1n }).serialize())
    await pool.add(tx1559(B, { nonce: 0n, feeCap: 50n, tip: 2n }).serialize())
    assert.deepEqual([...pool.executable(10n)].map(label), ['B0', 'A0'])
  })

  test('equal tips go to the tx seen first; default base fee comes from limits()', async () => {
    const { pool, limits } = makePool()
    await pool.add(tx1559(C, { feeCap: 30n, tip: 2n }).serialize())
    await pool.add(tx1559(A, { feeCap: 30n, tip: 2n }).serialize())
    await pool.add(tx1559(B, { feeCap: 30n, tip: 2n }).serialize())
    assert.deepEqual([...pool.executable(0n)].map(label), ['C0', 'A0', 'B0'])
    limits.baseFee = 29n // tips become min(2, 1) for all
    assert.deepEqual([...pool.executable()].map(label), ['C0', 'A0', 'B0'])
    limits.baseFee = 31n
    assert.deepEqual([...pool.executable()].map(label), [])
  })

  test('skipSender drops the rest of that sender, before or after its turn', async () => {
    const { pool } = makePool()
    for (const nonce of [0n, 1n, 2n]) await pool.add(tx1559(A, { nonce, feeCap: 100n, tip: 10n - nonce }).serialize())
    for (const nonce of [0n, 1n]) await pool.add(tx1559(B, { nonce, feeCap: 100n, tip: 5n }).serialize())
    await pool.add(tx1559(C, { nonce: 0n, feeCap: 100n, tip: 1n }).serialize())
    const it = pool.executable(0n)
    const seen: string[] = []
    for (const e of it) {
      seen.push(label(e))
      if (label(e) === 'A1') it.skipSender(e.sender) // A1 "failed": A2 must not follow
      if (label(e) === 'B0') it.skipSender(ADDRS[2]!.toString().toUpperCase().replace('0X', '0x')) // C, before its turn
    }
    assert.deepEqual(seen, ['A0', 'A1', 'B0', 'B1'])
  })

  test('the iterator is a snapshot: pool changes during a build do not disturb it', async () => {
    const { pool } = makePool()
    const a = [0n, 1n].map((nonce) => tx1559(A, { nonce }))
    for (const tx of a) await pool.add(tx.serialize())
    const seen: string[] = []
    for (const e of pool.executable(0n)) {
      seen.push(label(e))
      await pool.remove(e.hash) // A0 takes A1 with it; the snapshot still yields A1
    }
    assert.deepEqual(seen, ['A0', 'A1'])
    assert.equal(pool.size, 0)
  })
})

/** Checks the sequence is nonce-contiguous per sender and, at each step, the best tip available. */
function checkGreedy(pool: Mempool, baseFee: bigint, accountNonces: Map<string, bigint>): number {
  const pendingBySender = new Map<string, PoolEntry[]>()
  for (const e of pool.entries()) {
    if (e.status !== 'pending') continue
    const list = pendingBySender.get(e.senderHex) ?? []
    list.push(e)
    pendingBySender.set(e.senderHex, list)
  }
  for (const [s, list] of pendingBySender) {
    list.sort((x, y) => (x.nonce < y.nonce ? -1 : 1))
    list.forEach((e, i) => assert.equal(e.nonce, (accountNonces.get(s) ?? 0n) + BigInt(i), 'pending must be contiguous'))
  }
  const cursor = new Map<string, number>()
  let count = 0
  for (const e of pool.executable(baseFee)) {
    const i = cursor.get(e.senderHex) ?? 0
    const list = pendingBySender.get(e.senderHex) ?? []
    assert.equal(e, list[i], 'each sender in nonce order, no gaps, no repeats')
    const tip = effectiveTip(e, baseFee)
    assert.ok(tip >= 0n, 'every tx pays the base fee')
    for (const [s, other] of pendingBySender) {
      const j = cursor.get(s) ?? 0
      const head = other[j]
      if (s === e.senderHex || head === undefined) continue
      // A sender whose head can not pay is out for good; otherwise its head must not beat e.
      if (effectiveTip(head, baseFee) >= 0n) assert.ok(effectiveTip(head, baseFee) <= tip, 'best tip first')
    }
    cursor.set(e.senderHex, i + 1)
    count++
  }
  // Nothing payable was left behind.
  for (const [s, list] of pendingBySender) {
    const next = list[cursor.get(s) ?? 0]
    if (next !== undefined) assert.ok(effectiveTip(next, baseFee) < 0n, 'a payable tx was skipped')
  }
  return count
}

describe('executable randomized', () => {
  test('seeded random adds, replacements, removals and heads keep a valid price-and-nonce order', async () => {
    const rand = prng(0xca7e11a)
    const senders = KEYS.slice(0, 6)
    const { pool, state } = makePool({ maxPerSender: 8, maxTotal: 16 })
    const nonces = new Map<string, bigint>(ADDRS.map((a) => [a.toString(), 0n]))
    const reasons = new Map<string, number>()
    pool.on('removed', (_e, why) => reasons.set(why, (reasons.get(why) ?? 0) + 1))
    let accepted = 0
    let rejected = 0
    let executed = 0
    for (let step = 0; step < 300; step++) {
      const r = rand()
      if (r < 0.8) {
        const k = Math.floor(rand() * senders.length)
        const addr = ADDRS[k]!
        const base = nonces.get(addr.toString()) ?? 0n
        const nonce = base + BigInt(Math.floor(rand() * 6))
        const feeCap = 1n + BigInt(Math.floor(rand() * 60))
        const tip = BigInt(Math.floor(rand() * Number(feeCap + 1n)))
        const make = rand() < 0.3 ? txLegacy(senders[k]!, { nonce, gasPrice: feeCap }) : tx1559(senders[k]!, { nonce, feeCap, tip })
        await pool.add(make.serialize()).then(
          () => accepted++,
          () => rejected++,
        )
      } else if (r < 0.9) {
        // Mine a block: take the first few executable txs and advance their senders' nonces.
        const baseFee = BigInt(Math.floor(rand() * 20))
        const block: PoolEntry[] = []
        const limit = 1 + Math.floor(rand() * 8)
        for (const e of pool.executable(baseFee)) {
          if (block.length >= limit) break
          block.push(e)
        }
        for (const e of block) nonces.set(e.senderHex, e.nonce + 1n)
        for (const [i, a] of ADDRS.entries()) if (i < senders.length) state.set(a, nonces.get(a.toString()) ?? 0n)
        await pool.onNewHead(block.map((e) => e.hash))
        executed += block.length
      } else {
        const all = [...pool.entries()]
        const victim = all[Math.floor(rand() * all.length)]
        if (victim !== undefined) await pool.remove(victim.hash)
      }
      assert.equal(pool.pendingCount + pool.queuedCount, pool.size)
      assert.ok(pool.size <= 16)
      checkGreedy(pool, BigInt(Math.floor(rand() * 30)), nonces)
    }
    assert.ok(accepted > 100 && rejected > 10 && executed > 20, `${accepted} accepted, ${rejected} rejected, ${executed} mined`)
    // The run went through every way a tx leaves the pool.
    for (const why of ['included', 'replaced', 'evicted', 'removed', 'orphaned']) assert.ok((reasons.get(why) ?? 0) > 0, `no ${why}: ${[...reasons]}`)
  })
})
