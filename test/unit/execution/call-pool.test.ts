/**
 * Calls on worker threads (CallPool) give exactly what the in-process CallRunner gives:
 * return data, revert data and reasons, gas used, BLOCKHASH and CHAINID, estimates. And the
 * limits hold: gas above the cap is cut to the cap, a call past its deadline is stopped (its
 * thread is replaced and the next call works), a full queue refuses at once.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bigIntToBytes, bytesToHex, concatBytes, generateAddress, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { encodeDeployData, encodeFunctionData } from 'viem'
import { CallBusyError, CallError, CallPool, CallRunner, CallTimeoutError, type CallGas, type CallRequest } from '../../../src/execution/index.ts'
import type { BlockContext } from '../../../src/execution/evm-context.ts'
import { fixtureContract } from '../../helpers/solc.ts'
import { Signer, addressOf, openTestChain, produceBlock, type TestChain } from '../../helpers/chain.ts'


const Token = fixtureContract('Token')
const GAS: CallGas = { default: 30_000_000n, cap: 50_000_000n }

/** Creation code that deploys `runtime` (hex, at most 32 bytes). The loop: JUMPDEST PUSH1 0 JUMP. */
function initcodeReturning(runtime: string): Uint8Array {
  const len = runtime.length / 2
  // PUSH<len> runtime, PUSH1 0, MSTORE, PUSH1 len, PUSH1 32-len, RETURN (runtime <= 32 bytes)
  const push = (0x5f + len).toString(16)
  return hexToBytes(`0x${push}${runtime}60005260${len.toString(16).padStart(2, '0')}60${(32 - len).toString(16).padStart(2, '0')}f3`)
}

describe('CallPool against the in-process CallRunner', () => {
  let t: TestChain
  let pool: CallPool
  let runner: CallRunner
  let token: Uint8Array
  let loop: Uint8Array
  let context: Uint8Array
  const alice = addressOf(0)

  before(async () => {
    t = await openTestChain()
    const signer = new Signer(t.common)
    const deployToken = signer.deploy(0, hexToBytes(encodeDeployData({ abi: Token.abi, bytecode: Token.bytecode, args: ['T', 'T', 1000n] })), 2_000_000n)
    const deployLoop = signer.deploy(0, initcodeReturning('5b600056'))
    // Returns BLOCKHASH(NUMBER - 1) ++ CHAINID: what the channel's hash lookups and the Common give.
    const deployContext = signer.deploy(0, initcodeReturning('600143034060005246602052604060' + '00f3'))
    const produced = await produceBlock(t, [deployToken, deployLoop, deployContext])
    assert.deepEqual(produced.rejected.map((r) => r.reason), [])
    const receipts = t.chain.getReceipts(t.chain.head.hash)!
    assert.deepEqual(receipts.map((r) => r.status), [1, 1, 1], "deployments succeed")
    const created = (nonce: bigint) => generateAddress(alice.bytes, nonce === 0n ? new Uint8Array(0) : bigIntToBytes(nonce))
    ;[token, loop, context] = [created(0n), created(1n), created(2n)]
    await produceBlock(t, []) // a second block, so BLOCKHASH(NUMBER - 1) is a real hash
    pool = new CallPool({ store: t.store, hashAt: (h) => t.chain.getHashAt(h), chainIdAt: (h) => t.chain.commons.chainIdAt(h), threads: 1 })
    runner = new CallRunner(t.executor)
  })

  after(() => pool?.close())

  const head = (): { root: Uint8Array; ctx: BlockContext } => {
    const h = t.chain.head
    return {
      root: h.header.stateRoot,
      ctx: { height: h.header.height + 1n, timestamp: h.header.timestamp, producer: h.header.producer, gasLimit: h.header.gasLimit, baseFee: 0n, parentHash: h.hash },
    }
  }
  // hash ++ v ++ r ++ s of a real signature: ecrecover returns its signer, alice.
  const ecrecoverInput = (signed = new Signer(t.common).transfer(0, alice.bytes, 1n)) => concatBytes(signed.getHashedMessageToSign(), setLengthLeft(bigIntToBytes(27n + signed.v!), 32), setLengthLeft(bigIntToBytes(signed.r!), 32), setLengthLeft(bigIntToBytes(signed.s!), 32))
  const data = (functionName: string, args: unknown[]) => hexToBytes(encodeFunctionData({ abi: Token.abi, functionName, args } as never))
  const cases = (): Array<[string, CallRequest]> => [
    ['balanceOf', { to: token, data: data('balanceOf', [alice.toString()]) }],
    ['transfer', { from: alice.bytes, to: token, data: data('transfer', ['0x0000000000000000000000000000000000001234', 5n]) }],
    ['transfer reverting with a reason', { from: alice.bytes, to: token, data: data('transfer', ['0x0000000000000000000000000000000000001234', 10n ** 30n]) }],
    ['plain value transfer', { from: alice.bytes, to: hexToBytes('0x0000000000000000000000000000000000005678'), value: 1n }],
    ['BLOCKHASH and CHAINID', { to: context }],
    ['a loop that runs out of gas', { to: loop, gas: 200_000n }],
    ['the ecrecover precompile (the native secp256k1 backend in a thread)', { to: hexToBytes(`0x${'00'.repeat(19)}01`), data: ecrecoverInput() }],
  ]

  test('eth_call outcomes are identical', async () => {
    const { root, ctx } = head()
    for (const [name, req] of cases()) {
      const expected = await runner.call(root, ctx, req, GAS)
      const got = await pool.call(root, ctx, req, GAS)
      assert.deepEqual(got, expected, name)
    }
    const recovered = await pool.call(root, ctx, { to: hexToBytes(`0x${'00'.repeat(19)}01`), data: ecrecoverInput() }, GAS)
    assert.equal(bytesToHex(recovered.returnValue.subarray(12)), alice.toString())
    const ctxOut = await pool.call(root, ctx, { to: context }, GAS)
    assert.equal(bytesToHex(ctxOut.returnValue.subarray(0, 32)), bytesToHex(t.chain.head.hash), 'BLOCKHASH of the head')
    assert.equal(BigInt(bytesToHex(ctxOut.returnValue.subarray(32))), t.common.chainId())
  })

  test('eth_estimateGas answers and failures are identical', async () => {
    const { root, ctx } = head()
    for (const [name, req] of cases()) {
      const expected = await runner.estimateGas(root, ctx, req, GAS).then((v) => ({ v }), (e: CallError) => ({ e: e.message, outcome: e.outcome }))
      const got = await pool.estimateGas(root, ctx, req, GAS).then((v) => ({ v }), (e: CallError) => ({ e: e.message, outcome: e.outcome }))
      assert.deepEqual(got, expected, name)
    }
  })

  test('gas above the cap is cut to the cap', async () => {
    const { root, ctx } = head()
    const out = await pool.call(root, ctx, { to: loop, gas: 2n ** 64n - 1n }, { default: 30_000_000n, cap: 1_000_000n })
    assert.equal(out.success, false)
    assert.equal(out.error, 'out of gas')
    assert.equal(out.gasUsed, 1_000_000n)
  })

  test('a call past its deadline is stopped, and the next call runs on a fresh thread', async () => {
    const { root, ctx } = head()
    const stuck = pool.call(root, ctx, { to: loop, gas: 2n ** 64n - 1n }, { default: 30_000_000n, cap: 0n }, { deadline: Date.now() + 300 })
    await assert.rejects(stuck, (err: Error) => err instanceof CallTimeoutError && /execution aborted \(timeout/.test(err.message))
    assert.equal(pool.stats().terminated, 1)
    const after = await pool.call(root, ctx, { to: token, data: data('balanceOf', [alice.toString()]) }, GAS)
    assert.equal(BigInt(bytesToHex(after.returnValue)), 1000n)
  })

  test('a deadline already past fails without running', async () => {
    const { root, ctx } = head()
    await assert.rejects(pool.call(root, ctx, { to: token }, GAS, { deadline: Date.now() - 1 }), CallTimeoutError)
  })

  test('warm() loads every thread before any job; a job right after it shares the load', async () => {
    const warmed = new CallPool({ store: t.store, hashAt: (h) => t.chain.getHashAt(h), chainIdAt: () => t.common.chainId(), threads: 2 })
    try {
      assert.equal(warmed.stats().live, 0, 'threads start lazily')
      const warming = warmed.warm()
      const { root, ctx } = head()
      const during = warmed.call(root, ctx, cases()[0]![1], GAS)
      await warming
      assert.equal(warmed.stats().live, 2, 'both threads are up')
      assert.equal((await during).success, true)
      await warmed.warm() // again: nothing to do
      assert.equal(warmed.stats().live, 2)
    } finally {
      await warmed.close()
    }
    await warmed.warm() // closed: does nothing
    assert.equal(warmed.stats().live, 0)
  })

  test('a full queue refuses at once', async () => {
    const small = new CallPool({ store: t.store, hashAt: (h) => t.chain.getHashAt(h), chainIdAt: () => t.common.chainId(), threads: 1, maxQueued: 1 })
    try {
      const { root, ctx } = head()
      const spin = { to: loop, gas: 2n ** 62n }
      const noCap = { default: 0n, cap: 0n }
      const running = assert.rejects(small.call(root, ctx, spin, noCap, { deadline: Date.now() + 60_000 }), /shutting down/)
      const queued = assert.rejects(small.call(root, ctx, spin, noCap, { deadline: Date.now() + 60_000 }), /shutting down/)
      await assert.rejects(small.call(root, ctx, spin, noCap), CallBusyError)
      await small.close()
      await Promise.all([running, queued])
    } finally {
      await small.close()
    }
  })
})
