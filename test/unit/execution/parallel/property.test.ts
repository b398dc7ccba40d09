/**
 * Property: on randomized blocks of transfers and contract calls — storage reads and writes
 * across three contracts, nested calls, value forwarding, contract creation, reverts, the
 * coinbase, legacy and EIP-2930 txs, some access lists incomplete, txs that cannot run, gas
 * limits that overflow the block — parallel execution (2 worker threads, and the calling
 * thread) gives the state root, receipts root, receipts, gas used, logs bloom and included txs
 * of in-order execution (Executor), in which a tx that touched undeclared state is replaced by
 * its twin that halts at once; the txs that fail are exactly those whose list left out
 * something they touch; and replaying the built block, in parallel and in order, agrees.
 * Each block is then committed, so later blocks start from the state earlier ones left.
 *
 * A seeded PRNG drives it (fast-check is not installed: node_modules is shared with the main
 * checkout and must not be changed from a worktree). PARALLEL_PROPERTY_SEED and
 * PARALLEL_PROPERTY_RUNS override the seed and the number of blocks; a failure names both.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Address, bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { TypedTransaction } from '@ethereumjs/tx'
import { ParallelExecutor, createdAddress } from '../../../../src/execution/parallel/index.ts'
import { produceBlock } from '../../../helpers/chain.ts'
import { ETHER, GWEI, PRODUCER, addressOf, assertSameResult, call, listSource, nextParams, openFixture, slotOf, twinOf, tx, type AccessList, type Fixture } from './fixture.ts'

const SEED = Number(process.env.PARALLEL_PROPERTY_SEED ?? 0x5ea1e7e1)
const RUNS = Number(process.env.PARALLEL_PROPERTY_RUNS ?? 30)
const SENDERS = 9
const POOL = Array.from({ length: 8 }, (_, i) => hexToBytes(`0x${(0xa0 + i).toString(16).padStart(40, '0')}`))
const INITCODE = hexToBytes('0x600a600c600039600a6000f3602a60005260206000f3')

/** mulberry32: small, fast, good enough to pick test cases. */
function prng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  }
}
type Rng = ReturnType<typeof prng>

interface Generated {
  txs: TypedTransaction[]
  /** Txs whose access list leaves out something they touch (if they run at all). */
  incomplete: Set<TypedTransaction>
}

const hex = (b: Uint8Array) => bytesToHex(b)
const entry = (a: Uint8Array, ...keys: bigint[]): AccessList[number] => ({ address: hex(a), storageKeys: keys.map(slotOf) })

/**
 * A random block on the fixture's current head. `tight`: txs with big gas limits, for a block
 * too small for all of them (several windows, txs left out); no spawns then, since the child's
 * address depends on how many spawns before it were included.
 */
async function generate(f: Fixture, rng: Rng, tight: boolean): Promise<Generated> {
  const root = f.t.chain.head.header.stateRoot
  const nonces = await Promise.all(Array.from({ length: SENDERS }, async (_, i) => (await f.t.executor.readAccount(root, addressOf(i)))?.nonce ?? 0n))
  const storeNonces = await Promise.all(f.stores.map(async (s) => (await f.t.executor.readAccount(root, new Address(s)))!.nonce))
  const txs: TypedTransaction[] = []
  const incomplete = new Set<TypedTransaction>()
  const n = 10 + rng.int(40)
  for (let i = 0; i < n; i++) {
    const from = rng.pick([0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8])
    const nonce = nonces[from]!++
    const si = rng.int(3)
    const store = f.stores[si]!
    const key = () => BigInt(rng.int(12))
    const bad = rng.chance(0.15)
    const gasLimit = tight && rng.chance(0.15) ? 6_000_000n : 500_000n
    const fees = rng.pick([{}, { tip: 0n }, { tip: 2n * GWEI }, { maxFeePerGas: 3n * GWEI, tip: GWEI }])
    const type = rng.pick([2, 2, 2, 1] as const)
    const base = { from, nonce, gasLimit, type, ...fees }
    let t: TypedTransaction
    let missing = false
    let kind = rng.int(11)
    if (kind === 7 && tight) kind = 1
    switch (kind) {
      case 0: {
        const to = rng.chance(0.05) ? PRODUCER : rng.pick([...POOL, ...POOL, addressOf(rng.int(SENDERS)).bytes, store])
        t = tx({ from, nonce, to, value: rng.chance(0.15) ? 0n : BigInt(1 + rng.int(1000)), type: rng.pick([0, 1, 2] as const), gasLimit: 100_000n, ...fees })
        break
      }
      case 1: {
        const k = key()
        const list = bad ? [entry(store, k + 1n)] : [entry(store, k)]
        missing = bad
        t = tx({ ...base, to: store, data: call('put', [k, BigInt(rng.int(1000))]), accessList: list })
        break
      }
      case 2: {
        const [a, b] = [key(), key()]
        missing = bad && a !== b
        t = tx({ ...base, to: store, data: call('move', [a, b]), accessList: [missing ? entry(store, a) : entry(store, a, b)] })
        break
      }
      case 3: {
        const other = f.stores[(si + 1 + rng.int(2)) % 3]!
        const k = key()
        missing = bad
        t = tx({ ...base, to: store, data: call('relay', [hex(other), k, BigInt(rng.int(1000))]), accessList: missing ? [] : [entry(other, k)] })
        break
      }
      case 4: {
        const who = rng.chance(0.2) ? PRODUCER : rng.pick(POOL)
        const k = key()
        missing = bad
        t = tx({ ...base, to: store, data: call('readBalance', [hex(who), k]), accessList: missing ? [entry(store, k)] : [entry(who), entry(store, k)] })
        break
      }
      case 5: {
        const to = rng.pick(POOL)
        missing = bad
        t = tx({ ...base, to: store, value: BigInt(1 + rng.int(100)), data: call('forward', [hex(to)]), accessList: missing ? [] : [entry(to)] })
        break
      }
      case 6: {
        const to = rng.pick(POOL)
        const paying = f.stores[0]!
        missing = bad
        // Declared with a key only, the paying contract is read-only: paying out changes it.
        const list = missing ? [entry(paying, 1n), entry(to)] : [entry(paying), entry(to)]
        t = tx({ ...base, to: paying, data: call('payOut', [hex(to), BigInt(1 + rng.int(100))]), accessList: list })
        break
      }
      case 7: {
        missing = bad
        const child = createdAddress(store, storeNonces[si]!)
        if (!missing) storeNonces[si]!++
        t = tx({ ...base, to: store, data: call('spawn', []), accessList: missing ? [entry(store)] : [entry(store), entry(child)] })
        break
      }
      case 8:
        t = tx({ ...base, to: store, data: call('fail', [0n]), accessList: [entry(store, 0n)] })
        break
      case 9:
        t = tx({ ...base, data: INITCODE })
        break
      default: {
        // Reads two slots of one store and writes them to another's through relay: wide declarations.
        const other = f.stores[(si + 1) % 3]!
        const [a, b] = [key(), key()]
        t = tx({ ...base, to: store, data: call('move', [a, b]), accessList: [entry(store, a, b), entry(other, a)] })
      }
    }
    if (missing) incomplete.add(t)
    txs.push(t)
  }
  // Txs that cannot run, last (their senders are skipped, which would drop txs after them).
  for (let i = rng.int(3); i > 0; i--) {
    const from = rng.int(SENDERS)
    txs.push(tx({ from, nonce: nonces[from]! + 3n, to: rng.pick(POOL), value: 1n }))
  }
  return { txs, incomplete }
}

let f: Fixture
let workers: ParallelExecutor
let inline: ParallelExecutor

before(async () => {
  f = await openFixture()
  const o = { store: f.t.store, hashAt: (h: bigint) => f.t.chain.getHashAt(h) }
  // Small chunks: a batch goes out in many, merged in order as they come back.
  workers = new ParallelExecutor(f.t.executor, { ...o, threads: 2, chunkSize: 3 })
  inline = new ParallelExecutor(f.t.executor, { ...o, threads: 0 })
})

after(async () => {
  await workers?.close()
})

test(`randomized blocks: parallel execution equals in-order execution (seed ${SEED}, ${RUNS} blocks)`, async () => {
  const rng = prng(SEED)
  let failures = 0
  let batches = 0
  let windows = 0
  let txCount = 0
  for (let run = 0; run < RUNS; run++) {
    const where = `seed ${SEED}, block ${run}`
    const tight = rng.chance(0.25)
    const { txs, incomplete } = await generate(f, rng, tight)
    const params = nextParams(f.t, {
      baseFee: rng.pick([0n, 7n, GWEI]),
      baseFeeBurn: rng.chance(0.5),
      gasLimit: tight ? 3_000_000n + BigInt(rng.int(6)) * 1_000_000n : 30_000_000n,
      reward: rng.chance(0.5) ? 2n * ETHER : 0n,
    })
    const par = await workers.build(params, listSource(txs))
    const one = await inline.build(params, listSource(txs))
    assertSameResult(one, par, `${where}: calling thread vs workers`)
    assert.deepEqual(one.failures.map((x) => [x.index, x.error.code]), par.failures.map((x) => [x.index, x.error.code]), where)
    assert.deepEqual([one.plan.windows, one.plan.batches], [par.plan.windows, par.plan.batches], where)

    const failed = new Set(par.failures.map((x) => hex(x.hash)))
    const byHash = new Map(txs.map((t) => [hex(t.hash()), t]))
    for (const h of failed) assert.ok(incomplete.has(byHash.get(h)!), `${where}: tx ${h} failed, but its list was complete`)
    if (!tight) {
      // Everything fits: every incomplete tx runs, so every one fails.
      const expected = [...incomplete].map((t) => hex(t.hash())).sort()
      assert.deepEqual([...failed].sort(), expected, `${where}: the txs with incomplete lists fail`)
    }

    const twins = txs.map((t) => (failed.has(hex(t.hash())) ? twinOf(t, f.halt) : t))
    const original = new Map(txs.map((t, i) => [hex(twins[i]!.hash()), hex(t.hash())]))
    const inOrder = await f.t.executor.build(params, listSource(twins))
    assertSameResult(par, inOrder, `${where}: parallel vs in order`)
    assert.deepEqual(par.txs.map((e) => hex(e.tx.hash())), inOrder.txs.map((e) => original.get(hex(e.tx.hash()))), `${where}: included txs`)
    assert.deepEqual(par.rejected.map((r) => hex(r.tx.hash())), inOrder.rejected.map((r) => original.get(hex(r.tx.hash()))), `${where}: left-out txs`)

    const replayed = await workers.replay(params, par.txs.map((e) => e.tx))
    assertSameResult(replayed, par, `${where}: parallel replay`)
    assert.deepEqual(replayed.failures.map((x) => [x.index, x.error.code]), par.failures.map((x) => [x.index, x.error.code]), where)
    assertSameResult(await f.t.executor.replay(params, inOrder.txs.map((e) => e.tx)), par, `${where}: in-order replay`)

    failures += par.failures.length
    batches += par.plan.batches.length
    windows += par.plan.windows
    txCount += par.txs.length
    // Move on: the next block starts where this one (as in-order execution runs it) left the state.
    await produceBlock(f.t, inOrder.txs.map((e) => e.tx))
  }
  // The blocks exercised what they should: failures, several batches, several windows.
  assert.ok(failures > RUNS / 2, `${failures} failed txs`)
  assert.ok(batches > 2 * RUNS, `${batches} batches`)
  assert.ok(windows > RUNS, `${windows} windows`)
  assert.ok(txCount > 10 * RUNS, `${txCount} txs`)
})
