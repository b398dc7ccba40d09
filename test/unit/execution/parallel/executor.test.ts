/**
 * The parallel executor against in-order execution (Executor) on hand-made blocks: transfers
 * and contract calls that declare what they touch give the same state root, receipts, gas and
 * logs; txs that touch an undeclared account, slot or read-only account fail with a typed
 * error and are charged exactly as in-order execution charges a tx that halts at once; the
 * coinbase's tips; txs that cannot run (left out when building, an invalid block in replay);
 * blocks whose txs' gas limits exceed the block's (several windows). Batches run on 2 worker
 * threads and on the calling thread, with the same result.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Address, bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { TypedTransaction } from '@ethereumjs/tx'
import { TxExecutionError, type BlockExecutionParams } from '../../../../src/execution/index.ts'
import { ParallelExecutor, UndeclaredAccessError, createdAddress, type ParallelBlockExecution } from '../../../../src/execution/parallel/index.ts'
import {
  EMPTY_WITH_STORAGE, ETHER, GWEI, PRODUCER, addressOf, assertSameResult, call, listSource, nextParams, openFixture, slotOf, twinOf, tx, type Fixture,
} from './fixture.ts'

const RECIPIENTS = Array.from({ length: 40 }, (_, i) => hexToBytes(`0x${(0xbeef00 + i).toString(16).padStart(40, '0')}`))
const hex = (b: Uint8Array) => bytesToHex(b)

describe('parallel execution against in-order execution', () => {
  let f: Fixture
  let workers: ParallelExecutor
  let inline: ParallelExecutor

  before(async () => {
    f = await openFixture()
    const o = { store: f.t.store, hashAt: (h: bigint) => f.t.chain.getHashAt(h) }
    workers = new ParallelExecutor(f.t.executor, { ...o, threads: 2 })
    inline = new ParallelExecutor(f.t.executor, { ...o, threads: 0 })
  })

  after(async () => {
    await workers?.close()
  })

  /**
   * Builds `txs` in parallel (workers and inline) and in order, with `halting` (indices into
   * txs) replaced by their twins for the in-order run; checks the three agree, and that a
   * validator replaying the built block (in parallel, and in order with the twins) agrees too.
   */
  async function check(txs: TypedTransaction[], halting: number[] = [], params: BlockExecutionParams = nextParams(f.t)): Promise<ParallelBlockExecution> {
    const twins = txs.map((t, i) => (halting.includes(i) ? twinOf(t, f.halt) : t))
    const inOrder = await f.t.executor.build(params, listSource(twins))
    const par = await workers.build(params, listSource(txs))
    const one = await inline.build(params, listSource(txs))
    assertSameResult(par, inOrder, 'workers vs in order')
    assertSameResult(one, par, 'calling thread vs workers')
    assert.deepEqual([par.plan.windows, par.plan.batches], [one.plan.windows, one.plan.batches])
    const twinOfHash = new Map(txs.map((t, i) => [hex(twins[i]!.hash()), hex(t.hash())]))
    assert.deepEqual(par.txs.map((e) => hex(e.tx.hash())), inOrder.txs.map((e) => twinOfHash.get(hex(e.tx.hash()))), 'the same txs, in the same order')
    assert.deepEqual(par.rejected.map((r) => [hex(r.tx.hash()), r.reason]), inOrder.rejected.map((r) => [twinOfHash.get(hex(r.tx.hash())), r.reason]))
    const failed = par.failures.map((x) => hex(x.hash)).sort()
    assert.deepEqual(failed, halting.map((i) => hex(txs[i]!.hash())).sort(), 'exactly the expected txs touched undeclared state')
    const replayed = await workers.replay(params, par.txs.map((e) => e.tx))
    assertSameResult(replayed, par, 'parallel replay')
    assert.deepEqual(replayed.failures.map((x) => [x.index, x.error.code]), par.failures.map((x) => [x.index, x.error.code]))
    assertSameResult(await f.t.executor.replay(params, inOrder.txs.map((e) => e.tx)), par, 'in-order replay')
    return par
  }

  const [store, other] = [() => f.stores[0]!, () => f.stores[1]!]
  const list = (address: Uint8Array, ...keys: bigint[]) => ({ address: hex(address), storageKeys: keys.map(slotOf) })
  const nonceOf = async (i: number) => (await f.t.executor.readAccount(f.t.chain.head.header.stateRoot, addressOf(i)))?.nonce ?? 0n

  test('conflict-free transfers run as one batch and end where in-order execution does', async () => {
    const txs = RECIPIENTS.slice(0, 9).map((to, i) => tx({ from: i, nonce: 0n, to, value: 1000n + BigInt(i) }))
    const par = await check(txs)
    assert.deepEqual(par.plan.batches, [9])
  })

  test('a sender\'s txs and transfers to one recipient conflict and run in block order', async () => {
    const txs = [
      tx({ from: 0, nonce: 0n, to: RECIPIENTS[0], value: 5n }),
      tx({ from: 0, nonce: 1n, to: RECIPIENTS[1], value: 6n }),
      tx({ from: 1, nonce: 0n, to: RECIPIENTS[0], value: 7n }),
      tx({ from: 2, nonce: 0n, to: RECIPIENTS[2], value: 8n, type: 0 }),
      tx({ from: 3, nonce: 0n, to: addressOf(4).bytes, value: 9n, type: 1 }),
      tx({ from: 4, nonce: 0n, to: RECIPIENTS[3], value: 10n }),
    ]
    const par = await check(txs)
    // 0: {t0, t3, t4}; t1 after t0 (sender), t2 after t0 (recipient), t5 after t4 (4 received).
    assert.deepEqual(par.plan.batches, [3, 3])
  })

  test('contract calls that declare their slots run side by side and give the same storage, logs and gas', async () => {
    const txs = [
      tx({ from: 0, nonce: 0n, to: store(), data: call('put', [1n, 11n]), gasLimit: 200_000n, accessList: [list(store(), 1n)] }),
      tx({ from: 1, nonce: 0n, to: store(), data: call('put', [2n, 22n]), gasLimit: 200_000n, accessList: [list(store(), 2n)] }),
      tx({ from: 2, nonce: 0n, to: store(), data: call('move', [1n, 3n]), gasLimit: 200_000n, accessList: [list(store(), 1n, 3n)] }),
      tx({ from: 3, nonce: 0n, to: store(), data: call('relay', [hex(other()), 4n, 44n]), gasLimit: 200_000n, accessList: [list(other(), 4n)] }),
      tx({ from: 4, nonce: 0n, to: store(), data: call('fail', [5n]), gasLimit: 200_000n, accessList: [list(store(), 5n)] }),
      tx({ from: 5, nonce: 0n, to: store(), value: 3n, data: call('forward', [hex(RECIPIENTS[5]!)]), gasLimit: 200_000n, accessList: [{ address: hex(RECIPIENTS[5]!), storageKeys: [] }] }),
    ]
    const par = await check(txs)
    assert.deepEqual(par.receipts.map((r) => r.status), [1, 1, 1, 1, 0, 1], 'fail() reverts as it does in order')
    assert.equal(par.receipts[0]!.logs.length, 1)
    // put(1), put(2), relay, fail run at once; move(1->3) waits for put(1); forward writes the store's header, so waits for every reader of it.
    assert.deepEqual(par.plan.batches, [4, 1, 1])
  })

  test('creating contracts: a creation tx, and a contract that deploys a child it declared', async () => {
    const storeNonce = (await f.t.executor.readAccount(f.t.chain.head.header.stateRoot, new Address(store())))!.nonce
    const child = createdAddress(store(), storeNonce)
    const txs = [
      tx({ from: 6, nonce: 0n, data: hexToBytes('0x600a600c600039600a6000f3602a60005260206000f3'), gasLimit: 200_000n }),
      tx({ from: 7, nonce: 0n, to: store(), data: call('spawn', []), gasLimit: 500_000n, accessList: [{ address: hex(store()), storageKeys: [] }, { address: hex(child), storageKeys: [] }] }),
    ]
    const par = await check(txs)
    assert.equal(hex(par.txs[0]!.contractAddress!), hex(createdAddress(addressOf(6).bytes, 0n)))
  })

  test('touching an undeclared slot, account or read-only account fails the tx, which is charged like a tx that halts', async () => {
    const txs = [
      // 0: writes slot 7 but declared slot 8 only
      tx({ from: 0, nonce: 0n, to: store(), data: call('put', [7n, 1n]), gasLimit: 300_000n, accessList: [list(store(), 8n)] }),
      // 1: reads the balance of an account it did not list
      tx({ from: 1, nonce: 0n, to: store(), data: call('readBalance', [hex(RECIPIENTS[9]!), 9n]), gasLimit: 300_000n, accessList: [list(store(), 9n)] }),
      // 2: calls a contract it did not list
      tx({ from: 2, nonce: 0n, to: store(), data: call('relay', [hex(other()), 4n, 1n]), gasLimit: 300_000n }),
      // 3: the store pays out of its own balance, but was declared read-only (listed with keys only)
      tx({ from: 3, nonce: 0n, to: store(), data: call('payOut', [hex(RECIPIENTS[10]!), 5n]), gasLimit: 300_000n, accessList: [list(store(), 1n), { address: hex(RECIPIENTS[10]!), storageKeys: [] }] }),
      // 4: the same, declared writable: runs
      tx({ from: 4, nonce: 0n, to: store(), data: call('payOut', [hex(RECIPIENTS[10]!), 5n]), gasLimit: 300_000n, accessList: [{ address: hex(store()), storageKeys: [] }, { address: hex(RECIPIENTS[10]!), storageKeys: [] }] }),
      // 5: a legacy tx (no access list) into a contract that writes storage
      tx({ from: 5, nonce: 0n, to: store(), data: call('put', [1n, 2n]), gasLimit: 300_000n, type: 0 }),
      // 6: the failed senders go on: their next nonce runs
      tx({ from: 0, nonce: 1n, to: RECIPIENTS[11], value: 1n }),
      // 7: a nested call writes a slot of the other store that was not declared (two frames deep)
      tx({ from: 6, nonce: 0n, to: store(), data: call('relay', [hex(other()), 12n, 1n]), gasLimit: 300_000n, accessList: [list(other(), 13n)] }),
      tx({ from: 6, nonce: 1n, to: RECIPIENTS[12], value: 1n }),
    ]
    const par = await check(txs, [0, 1, 2, 3, 5, 7])
    assert.deepEqual(par.failures.map((x) => [x.index, x.error.code]), [
      [0, 'UNDECLARED_SLOT'], [1, 'UNDECLARED_ACCOUNT'], [2, 'UNDECLARED_ACCOUNT'], [3, 'UNDECLARED_WRITE'], [5, 'UNDECLARED_SLOT'], [7, 'UNDECLARED_SLOT'],
    ])
    for (const x of par.failures) assert.ok(x.error instanceof UndeclaredAccessError)
    assert.equal(par.failures[0]!.error.slot, slotOf(7n))
    assert.equal(par.failures[1]!.error.address, hex(RECIPIENTS[9]!))
    assert.equal(par.failures[3]!.error.address, hex(store()))
    const gas = par.txs.map((e) => e.gasUsed)
    for (const i of [0, 1, 2, 3, 5]) assert.equal(gas[i], txs[i]!.gasLimit, `tx ${i} pays all its gas`)
    assert.deepEqual(par.receipts.map((r) => r.status), [0, 0, 0, 0, 1, 0, 1, 0, 1])
  })

  test('the coinbase: tips are paid at the end; a tx that reads it must declare it, and then sees every tip before it', async () => {
    const coinbase = PRODUCER
    const txs = [
      tx({ from: 0, nonce: 0n, to: RECIPIENTS[20], value: 1n, tip: 3n * GWEI }),
      tx({ from: 1, nonce: 0n, to: RECIPIENTS[21], value: 1n, tip: 0n }),
      // reads the coinbase's balance into slot 30: undeclared
      tx({ from: 2, nonce: 0n, to: store(), data: call('readBalance', [hex(coinbase), 30n]), gasLimit: 300_000n, accessList: [list(store(), 30n)] }),
      // the same, declared: runs alone, after the tips of txs 0-2
      tx({ from: 3, nonce: 0n, to: store(), data: call('readBalance', [hex(coinbase), 31n]), gasLimit: 300_000n, accessList: [list(store(), 31n), list(coinbase, 1n)] }),
      tx({ from: 4, nonce: 0n, to: RECIPIENTS[22], value: 1n, tip: 2n * GWEI }),
      // a transfer to the coinbase: writes it, runs alone
      tx({ from: 5, nonce: 0n, to: coinbase, value: ETHER }),
      tx({ from: 6, nonce: 0n, to: RECIPIENTS[23], value: 1n, tip: 5n * GWEI }),
    ]
    for (const baseFeeBurn of [true, false]) {
      const par = await check(txs, [2], nextParams(f.t, { baseFeeBurn, baseFee: GWEI }))
      assert.deepEqual(par.plan.batches, [3, 1, 1, 1, 1])
    }
  })

  test('a coinbase that exists but is empty is deleted (storage and all) by a zero tip first, as EIP-161 does in order', async () => {
    const empty = EMPTY_WITH_STORAGE
    const before = await f.t.executor.readAccount(f.t.chain.head.header.stateRoot, new Address(empty))
    assert.ok(before && before.balance === 0n && before.nonce === 0n, 'the genesis allocated it')
    const zeroTip = tx({ from: 0, nonce: 0n, to: RECIPIENTS[24], value: 1n, tip: 0n })
    const someTip = tx({ from: 1, nonce: 0n, to: RECIPIENTS[25], value: 1n, tip: GWEI })
    const params = nextParams(f.t, { producer: empty, reward: 0n, baseFee: GWEI })
    await check([zeroTip, someTip], [], params) // deleted by the first, recreated by the second
    await check([someTip, zeroTip], [], params) // not empty after the first: kept, storage too
    await check([zeroTip], [], params) // deleted
  })

  test('a tx that cannot run is left out when building (its sender skipped) and makes a replayed block invalid', async () => {
    const txs = [
      tx({ from: 0, nonce: 0n, to: RECIPIENTS[30], value: 1n }),
      tx({ from: 1, nonce: 5n, to: RECIPIENTS[31], value: 1n }), // nonce gap
      tx({ from: 1, nonce: 0n, to: RECIPIENTS[32], value: 1n }), // dropped: its sender was skipped
      tx({ from: 2, nonce: 0n, to: RECIPIENTS[33], value: 10n ** 30n }), // more than it has
      tx({ from: 3, nonce: 0n, to: RECIPIENTS[34], value: 1n, maxFeePerGas: 1n, tip: 0n }), // below the base fee
    ]
    const params = nextParams(f.t, { baseFee: GWEI })
    const par = await check(txs, [], params)
    assert.equal(par.txs.length, 1)
    assert.equal(par.rejected.length, 3)
    for (const bad of [txs[1]!, txs[3]!, txs[4]!]) {
      const inOrder = await f.t.executor.replay(params, [txs[0]!, bad]).then(() => undefined, (e: Error) => e)
      const parallel = await workers.replay(params, [txs[0]!, bad]).then(() => undefined, (e: Error) => e)
      assert.ok(inOrder instanceof TxExecutionError && parallel instanceof TxExecutionError)
      assert.equal(parallel.message, inOrder.message)
    }
  })

  test('txs whose gas limits exceed the block\'s run in several windows and the same ones are left out', async () => {
    const big = (from: number, nonce: bigint, k: bigint) =>
      tx({ from, nonce, to: store(), data: call('put', [k, k]), gasLimit: 9_000_000n, accessList: [list(store(), k)] })
    const txs = [big(0, 0n, 40n), big(1, 0n, 41n), big(2, 0n, 42n), big(3, 0n, 43n), big(4, 0n, 44n), tx({ from: 5, nonce: 0n, to: RECIPIENTS[35], value: 1n, gasLimit: 25_000_000n })]
    const params = nextParams(f.t, { gasLimit: 20_000_000n })
    const par = await check(txs, [], params)
    assert.ok(par.plan.windows > 1, `${par.plan.windows} windows`)
    assert.equal(par.txs.length, 5, 'the 25M-gas transfer does not fit')
  })

  test('the same block replays with the batches its leader had', async () => {
    const txs = [
      tx({ from: 0, nonce: 0n, to: store(), data: call('put', [60n, 1n]), gasLimit: 200_000n, accessList: [list(store(), 60n)] }),
      tx({ from: 1, nonce: 0n, to: store(), data: call('move', [60n, 61n]), gasLimit: 200_000n, accessList: [list(store(), 60n, 61n)] }),
      tx({ from: 2, nonce: 0n, to: RECIPIENTS[36], value: 1n }),
    ]
    const params = nextParams(f.t)
    const built = await workers.build(params, listSource(txs))
    const replayed = await inline.replay(params, built.txs.map((e) => e.tx))
    assert.deepEqual([replayed.plan.windows, replayed.plan.batches], [built.plan.windows, built.plan.batches])
    assert.deepEqual(built.plan.batches, [2, 1])
    assert.equal(await nonceOf(0), 0n, 'nothing was committed')
  })
  test('builds and replays asked for at once run one after another, each with the in-order result', async () => {
    // A PoH leader's build given up at its slot's end still runs while the next build and a
    // replay start: they shared the calling thread's guard and overflowed the pool's queue.
    const transfers = RECIPIENTS.slice(0, 9).map((to, i) => tx({ from: i, nonce: 0n, to, value: 50n + BigInt(i) }))
    const calls = [0n, 1n, 2n, 3n].map((k) => tx({ from: Number(k), nonce: 0n, to: store(), data: call('put', [70n + k, k]), gasLimit: 200_000n, accessList: [list(store(), 70n + k)] }))
    const params = nextParams(f.t)
    const wantA = await f.t.executor.build(params, listSource(transfers))
    const wantB = await f.t.executor.build(params, listSource(calls))
    for (const ex of [workers, inline]) {
      const runs = await Promise.all([
        ex.build(params, listSource(transfers)),
        ex.build(params, listSource(calls)),
        ex.replay(params, wantA.txs.map((e) => e.tx)),
        ex.build(params, listSource(transfers)),
      ])
      assertSameResult(runs[0], wantA, 'first build')
      assertSameResult(runs[1], wantB, 'second build')
      assertSameResult(runs[2], wantA, 'replay')
      assertSameResult(runs[3], wantA, 'third build')
    }
  })

  test('a build with a deadline pulls txs in windows sized to it, not the whole block at once', async () => {
    const txs = RECIPIENTS.slice(0, 30).map((to, i) => tx({ from: i % 9, nonce: BigInt(Math.floor(i / 9)), to, value: 1n }))
    const params = nextParams(f.t)
    const source = listSource(txs)
    const all = await workers.build(params, { deadline: Date.now() + 60_000, next: () => source.next(), skipSender: (s) => source.skipSender(s) })
    assert.equal(all.txs.length, 30, 'a far deadline: every tx')
    assertSameResult(all, await f.t.executor.build(params, listSource(txs)), 'deadline build vs in order')
    assert.equal(all.plan.windows, 1, 'a far deadline: one window')
    // A deadline already past (and a source that still hands txs out): windows of one tx each.
    const gone = listSource(txs)
    const late = await workers.build(params, { deadline: Date.now() - 1, next: () => gone.next(), skipSender: (s) => gone.skipSender(s) })
    assert.equal(late.plan.windows, 30)
    assertSameResult(late, all, 'one-tx windows vs one window')
  })
})
