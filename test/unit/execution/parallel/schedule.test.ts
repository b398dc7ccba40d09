/**
 * What a tx declares (access.ts) and how txs are grouped into batches (schedule.ts): the
 * table of implicit and listed items, read versus write, the coinbase and precompiles, and
 * the placement of each tx in the first batch after every earlier tx it conflicts with.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx'
import { Address, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { makeCommon } from '../../../../src/execution/index.ts'
import { createdAddress, declaredAccess, scheduleBatches, type Hex, type TxAccess } from '../../../../src/execution/parallel/index.ts'

const common = makeCommon(1337n)
const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as Hex
const slot = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const SENDER = hexToBytes(addr(0xaa))
const COINBASE = addr(0xc0)
const PRECOMPILES = new Set<Hex>([addr(1), addr(2)])

function access(to: Hex | undefined, value: bigint, list: Array<[Hex, Hex[]]> = []) {
  const tx = createFeeMarket1559Tx(
    { to: to ? new Address(hexToBytes(to)) : undefined, value, gasLimit: 100_000n, maxFeePerGas: 1n, nonce: 5n, chainId: 1337n, accessList: list.map(([address, storageKeys]) => ({ address, storageKeys })) },
    { common },
  )
  return declaredAccess(tx, SENDER, COINBASE, PRECOMPILES)
}

const sorted = (s: Set<Hex>) => [...s].sort()

describe('declared access', () => {
  test('a value transfer writes its sender and recipient; a zero-value call only reads its recipient', () => {
    const a = access(addr(0xb0), 1n)
    assert.deepEqual(sorted(a.writes), [addr(0xaa), addr(0xb0)])
    assert.deepEqual(sorted(a.reads), [])
    const b = access(addr(0xb0), 0n)
    assert.deepEqual(sorted(b.writes), [addr(0xaa)])
    assert.deepEqual(sorted(b.reads), [addr(0xb0)])
    assert.equal(a.exclusive || b.exclusive, false)
  })

  test('a creation writes the contract it creates (address from sender and nonce)', () => {
    const a = access(undefined, 0n)
    assert.deepEqual(sorted(a.writes), [addr(0xaa), bytesToHex(createdAddress(SENDER, 5n))].sort())
  })

  test('listed with keys: header read, slots read-write; listed without keys: header written', () => {
    const a = access(addr(0xb0), 0n, [[addr(0xd0), [slot(1), slot(2)]], [addr(0xd1), []], [addr(0xd2), [slot(3)]], [addr(0xd2), []]])
    assert.deepEqual(sorted(a.writes), [addr(0xaa), addr(0xd1), addr(0xd2)])
    assert.deepEqual(sorted(a.reads), [addr(0xb0), addr(0xd0)])
    assert.deepEqual([...a.slots].map(([k, v]) => [k, [...v]]), [[addr(0xd0), [slot(1), slot(2)]], [addr(0xd2), [slot(3)]]])
  })

  test('a legacy tx declares only its sender and recipient', () => {
    const tx = createLegacyTx({ to: addr(0xb0), value: 0n, gasLimit: 21_000n, gasPrice: 1n }, { common })
    const a = declaredAccess(tx, SENDER, COINBASE, PRECOMPILES)
    assert.deepEqual(sorted(a.writes), [addr(0xaa)])
    assert.deepEqual(sorted(a.reads), [addr(0xb0)])
    assert.equal(a.slots.size, 0)
  })

  test('declaring the coinbase in any way writes it and runs alone; writing a precompile runs alone, reading it does not', () => {
    for (const a of [access(COINBASE, 1n), access(COINBASE, 0n), access(addr(0xb0), 0n, [[COINBASE, [slot(1)]]])]) {
      assert.ok(a.writes.has(COINBASE))
      assert.ok(!a.reads.has(COINBASE))
      assert.equal(a.exclusive, true)
    }
    assert.equal(access(addr(1), 1n).exclusive, true)
    assert.equal(access(addr(0xb0), 0n, [[addr(2), []]]).exclusive, true)
    assert.equal(access(addr(1), 0n).exclusive, false)
    assert.equal(access(addr(0xb0), 0n, [[addr(2), [slot(0)]]]).exclusive, false)
  })
})

function a(writes: Hex[], reads: Hex[] = [], slots: Array<[Hex, Hex[]]> = [], exclusive = false): TxAccess {
  return { writes: new Set(writes), reads: new Set(reads), slots: new Map(slots.map(([k, v]) => [k, new Set(v)])), exclusive }
}

describe('batches', () => {
  test('disjoint txs share one batch; a write waits for every earlier reader and writer', () => {
    assert.deepEqual(scheduleBatches([a([addr(1)]), a([addr(2)]), a([addr(3)])]), [[0, 1, 2]])
    assert.deepEqual(scheduleBatches([a([addr(1)]), a([addr(1)])]), [[0], [1]], 'write after write')
    assert.deepEqual(scheduleBatches([a([addr(9)], [addr(1)]), a([addr(8)], [addr(1)]), a([addr(1)])]), [[0, 1], [2]], 'readers share, the writer waits for both')
    assert.deepEqual(scheduleBatches([a([addr(1)]), a([addr(9)], [addr(1)])]), [[0], [1]], 'read after write')
  })

  test('each tx goes right after the last tx it conflicts with, not after every earlier batch', () => {
    // 0 and 1 conflict (on 1); 2 conflicts with 0 only (on 2); 3 with 1 only.
    const txs = [a([addr(1), addr(2)]), a([addr(1)]), a([addr(2)]), a([addr(3)], [addr(1)])]
    assert.deepEqual(scheduleBatches(txs), [[0], [1, 2], [3]])
  })

  test('slots: different keys of one account run together; a header writer of the account waits for them', () => {
    const s = addr(0x50)
    const txs = [a([addr(1)], [s], [[s, [slot(1)]]]), a([addr(2)], [s], [[s, [slot(2)]]]), a([addr(3)], [s], [[s, [slot(1)]]]), a([addr(4), s])]
    assert.deepEqual(scheduleBatches(txs), [[0, 1], [2], [3]])
  })

  test('an exclusive tx runs alone, after everything before it and before everything after it', () => {
    const txs = [a([addr(1)]), a([addr(2)]), a([addr(3)], [], [], true), a([addr(4)]), a([addr(5)])]
    assert.deepEqual(scheduleBatches(txs), [[0, 1], [2], [3, 4]])
  })
})
