/**
 * eth_createAccessList's execution (CallRunner.createAccessList, and the same on a call thread):
 * geth's list — the storage a call touches under its account, the accounts it calls or reads,
 * never the sender, the recipient or a precompile for themselves — with the gas the call uses
 * with it and its EVM error; the list is a fixed point (fed back, it comes back unchanged). On a
 * chain with parallel execution the list also holds what that rule needs, and it is enough: the
 * tx signed with it runs under the parallel executor, while the same tx without it (or with
 * geth's list where geth's is not enough) fails as undeclared. On a call thread it gives the
 * same, and all its runs share one call deadline.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { CallPool, CallRunner, CallTimeoutError, type AccessListResult, type CallGas, type CallRequest } from '../../../src/execution/index.ts'
import type { BlockContext } from '../../../src/execution/evm-context.ts'
import { ParallelExecutor } from '../../../src/execution/parallel/index.ts'
import { addressOf, call, listSource, nextParams, openFixture, slotOf, tx, type AccessList, type Fixture } from './parallel/fixture.ts'

const GAS: CallGas = { default: 30_000_000n, cap: 50_000_000n }
const R = hexToBytes('0x00000000000000000000000000000000000beef1')
const ECRECOVER = hexToBytes(`0x${'00'.repeat(19)}01`)
const hex = (b: Uint8Array) => bytesToHex(b)

describe('eth_createAccessList execution', () => {
  let f: Fixture
  let runner: CallRunner
  let parallel: ParallelExecutor
  let pool: CallPool
  const from = () => addressOf(0).bytes

  before(async () => {
    f = await openFixture()
    runner = new CallRunner(f.t.executor)
    parallel = new ParallelExecutor(f.t.executor, { store: f.t.store, hashAt: (h) => f.t.chain.getHashAt(h), threads: 0 })
    pool = new CallPool({ store: f.t.store, hashAt: (h) => f.t.chain.getHashAt(h), chainIdAt: (h) => f.t.chain.commons.chainIdAt(h), threads: 1 })
  })

  after(() => pool?.close())

  const head = (): { root: Uint8Array; ctx: BlockContext } => {
    const h = f.t.chain.head
    return { root: h.header.stateRoot, ctx: { height: h.header.height + 1n, timestamp: h.header.timestamp, producer: h.header.producer, gasLimit: h.header.gasLimit, baseFee: 7n, parentHash: h.hash } }
  }
  const create = (req: CallRequest, onParallelChain: boolean): Promise<AccessListResult> => {
    const { root, ctx } = head()
    return runner.createAccessList(root, ctx, req, GAS, onParallelChain)
  }
  const store = () => f.stores[0]!
  const other = () => f.stores[1]!
  const callTo = (to: Uint8Array, fn: string, args: unknown[], value?: bigint): CallRequest => ({ from: from(), to, data: call(fn, args), ...(value ? { value } : {}) })

  /** Runs account 0's tx with `list` (undefined: none) as the only tx of a parallel block. */
  async function runParallel(req: CallRequest, list: AccessList | undefined) {
    const signed = tx({ from: 0, nonce: 0n, to: req.to, value: req.value, data: req.data, gasLimit: 500_000n, ...(list ? { accessList: list } : {}) })
    const built = await parallel.build(nextParams(f.t), listSource([signed]))
    assert.deepEqual(built.rejected, [])
    return { status: built.receipts[0]!.status, gasUsed: built.gasUsed, failures: built.failures.map((x) => x.error.code) }
  }

  test("geth's list: slots under their account, called and read accounts alone; never the sender, the recipient or a precompile for themselves", async () => {
    const put = await create(callTo(store(), 'put', [5n, 7n]), false)
    assert.deepEqual(put.accessList, [{ address: hex(store()), storageKeys: [slotOf(5n)] }], 'the recipient is listed for its slot only')
    assert.equal(put.error, undefined)
    const relay = await create(callTo(store(), 'relay', [hex(other()), 5n, 7n]), false)
    assert.deepEqual(relay.accessList, [{ address: hex(other()), storageKeys: [slotOf(5n)] }], 'the called contract with its slot; the recipient touched no storage')
    const read = await create(callTo(store(), 'readBalance', [hex(R), 3n]), false)
    assert.deepEqual(read.accessList, [{ address: hex(R), storageKeys: [] }, { address: hex(store()), storageKeys: [slotOf(3n)] }])
    const pre = await create({ from: from(), to: ECRECOVER, data: new Uint8Array(128) }, false)
    assert.deepEqual(pre.accessList, [], 'a precompile is never listed')
    const self = await create(callTo(store(), 'readBalance', [hex(from()), 4n]), false)
    assert.deepEqual(self.accessList, [{ address: hex(store()), storageKeys: [slotOf(4n)] }], 'the sender is never listed for itself')
  })

  test('gasUsed is what the tx signed with the list uses; a reverting call reports geth\'s error with its list', async () => {
    const req = callTo(store(), 'put', [6n, 8n])
    const out = await create(req, false)
    const signed = tx({ from: 0, nonce: 0n, to: req.to, data: req.data, gasLimit: 200_000n, accessList: out.accessList })
    const inOrder = await f.t.executor.build(nextParams(f.t), listSource([signed]))
    assert.equal(inOrder.receipts[0]!.status, 1)
    assert.equal(inOrder.gasUsed, out.gasUsed)
    const fail = await create(callTo(other(), 'fail', [2n]), false)
    assert.equal(fail.error, 'execution reverted')
    assert.deepEqual(fail.accessList, [{ address: hex(other()), storageKeys: [slotOf(2n)] }], 'what it touched before it reverted')
  })

  test('the list is a fixed point: given back as the start it comes back unchanged; a start entry for the sender alone is dropped', async () => {
    const req = callTo(store(), 'relay', [hex(other()), 9n, 1n])
    const first = await create(req, false)
    const again = await create({ ...req, accessList: [...first.accessList, { address: hex(from()), storageKeys: [] }] }, false)
    assert.deepEqual(again, first)
  })

  test('on a parallel chain the list declares what the rule needs; the tx runs with it and fails as undeclared without it', async () => {
    const cases: Array<[string, CallRequest, string]> = [
      ['a storage write', callTo(store(), 'put', [5n, 7n]), 'UNDECLARED_SLOT'],
      ['a call into another contract', callTo(store(), 'relay', [hex(other()), 5n, 7n]), 'UNDECLARED_ACCOUNT'],
      ['a balance read', callTo(store(), 'readBalance', [hex(R), 3n]), 'UNDECLARED_ACCOUNT'],
      ['a zero-value call whose contract pays out', callTo(store(), 'payOut', [hex(R), 5n]), 'UNDECLARED_ACCOUNT'],
      ['a contract creating a child', callTo(other(), 'spawn', []), 'UNDECLARED_ACCOUNT'],
      ['a value call forwarding ether', callTo(store(), 'forward', [hex(R)], 10n), 'UNDECLARED_ACCOUNT'],
    ]
    for (const [name, req, without] of cases) {
      const list = (await create(req, true)).accessList
      const ran = await runParallel(req, list)
      assert.deepEqual([ran.status, ran.failures], [1, []], `${name}: runs with its list`)
      assert.equal(ran.gasUsed, (await create(req, true)).gasUsed, `${name}: gas as reported`)
      const bare = await runParallel(req, undefined)
      assert.deepEqual([bare.status, bare.failures], [0, [without]], `${name}: fails without it`)
    }
  })

  test("where geth's list is not enough for the parallel rule, the parallel list adds entries with no keys", async () => {
    const payOut = callTo(store(), 'payOut', [hex(R), 5n])
    const geth = (await create(payOut, false)).accessList
    assert.deepEqual(geth, [{ address: hex(R), storageKeys: [] }], 'geth leaves out the recipient')
    assert.deepEqual((await runParallel(payOut, geth)).failures, ['UNDECLARED_WRITE'], "the recipient's balance changes: geth's list fails")
    assert.deepEqual((await create(payOut, true)).accessList, [{ address: hex(R), storageKeys: [] }, { address: hex(store()), storageKeys: [] }])
    const spawn = await create(callTo(other(), 'spawn', []), true)
    const child = spawn.accessList[0]!.address
    assert.deepEqual(spawn.accessList, [
      { address: child, storageKeys: [`0x${'00'.repeat(32)}`] },
      { address: child, storageKeys: [] },
      { address: hex(other()), storageKeys: [] },
    ], 'the child twice (its slot, and the right to create it), the creator (its nonce changes)')
  })

  test('all its runs share one call deadline: a call that never ends is stopped, and the thread serves the next', async () => {
    const { root, ctx } = head()
    const quick = new CallPool({ store: f.t.store, hashAt: (h) => f.t.chain.getHashAt(h), chainIdAt: (h) => f.t.chain.commons.chainIdAt(h), threads: 1, timeoutMs: 300 })
    try {
      // A creation whose code spins (JUMPDEST PUSH1 0 JUMP) until 50M gas run out: seconds of EVM time.
      const spin: CallRequest = { from: from(), data: hexToBytes('0x5b600056'), gas: 50_000_000n }
      await assert.rejects(quick.createAccessList(root, ctx, spin, GAS, true), CallTimeoutError)
      const req = callTo(store(), 'put', [5n, 7n])
      assert.deepEqual(await quick.createAccessList(root, ctx, req, GAS, true), await create(req, true))
    } finally {
      await quick.close()
    }
  })

  test('a call thread gives what the in-process runner gives', async () => {
    const { root, ctx } = head()
    for (const req of [callTo(other(), 'spawn', []), callTo(store(), 'fail', [3n]), callTo(store(), 'readBalance', [hex(R), 3n])]) {
      for (const onParallel of [false, true]) {
        assert.deepEqual(await pool.createAccessList(root, ctx, req, GAS, onParallel), await runner.createAccessList(root, ctx, req, GAS, onParallel))
      }
    }
  })
})
