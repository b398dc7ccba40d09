/**
 * The direct value-transfer path against the EVM path (differential, fast-check): random
 * blocks of mixed txs, built and replayed by an executor that applies plain transfers
 * directly and by one that runs every tx in the EVM, must agree on the state root, receipts
 * root, receipts, gas used, logs bloom, the txs included and the txs left out with their
 * reasons. The txs cover self-transfers, the coinbase, a precompile and a contract as
 * recipients, zero value to new accounts, an empty account that EIP-161 deletes when touched
 * (as recipient and as coinbase), fee caps below the base fee, nonce gaps and stale nonces,
 * gas limits below the intrinsic gas and over the block's, funds short of the cost, a sender
 * with code (EIP-3607), an unfunded sender, data and access lists, and every tx type.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bytesToHex, createAddressFromPrivateKey, hexToBytes } from '@ethereumjs/util'
import { loadChainSpec } from '../../../src/chain/spec/index.ts'
import { keccak256 } from '../../../src/crypto/hash.ts'
import { Executor, type BlockExecution, type BlockExecutionParams } from '../../../src/execution/index.ts'
import { isPlainTransfer } from '../../../src/execution/direct-transfer.ts'
import { KEYS, PRODUCER, openTestChain, type TestChain } from '../../helpers/chain.ts'
import { assertSameResult, listSource } from './parallel/fixture.ts'

const GWEI = 10n ** 9n
const ETHER = 10n ** 18n
const UNFUNDED = keccak256(new TextEncoder().encode('catena/test/unfunded'))
const WITH_CODE = keccak256(new TextEncoder().encode('catena/test/sender-with-code'))
const SENDER_KEYS = [KEYS[0]!, KEYS[1]!, KEYS[2]!, KEYS[3]!, UNFUNDED, WITH_CODE]
/** Exists, nonce 0, balance 0, no code: EIP-161 deletes it when a tx touches it and leaves it empty. */
const EMPTY = hexToBytes('0x00000000000000000000000000000000000e0e0e')
/** Runtime code STOP: a contract that takes value. */
const CONTRACT = hexToBytes('0x0000000000000000000000000000000000c0de00')
const PRECOMPILE = hexToBytes('0x0000000000000000000000000000000000000004')
const addressOfKey = (k: Uint8Array) => createAddressFromPrivateKey(k).bytes

type Recipient = 'other' | 'self' | 'coinbase' | 'precompile' | 'contract' | 'new' | 'empty'
interface Spec {
  from: number
  to: Recipient
  fresh: number
  value: 0n | 1n | bigint
  type: 0 | 1 | 2
  nonceMode: 'next' | 'gap' | 'stale'
  gasLimit: bigint
  maxFee: bigint
  tip: bigint
  data: boolean
  accessList: boolean
}

/** Anything, including every way a tx can fail or must not take the direct path. */
const wildArb: fc.Arbitrary<Spec> = fc.record({
  from: fc.constantFrom(0, 1, 2, 3, 4, 5),
  to: fc.constantFrom<Recipient>('other', 'new', 'self', 'coinbase', 'precompile', 'contract', 'empty'),
  fresh: fc.integer({ min: 1, max: 1_000_000 }),
  value: fc.constantFrom(0n, 1n, 12_345n, ETHER, 10n ** 30n),
  type: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
  nonceMode: fc.constantFrom<Spec['nonceMode']>('next', 'next', 'gap', 'stale'),
  gasLimit: fc.constantFrom(21_000n, 20_999n, 25_000n, 60_000n, 30_000_001n),
  maxFee: fc.constantFrom(6n, 7n, 8n, 100n * GWEI),
  tip: fc.constantFrom(0n, 1n, GWEI),
  data: fc.boolean(),
  accessList: fc.boolean(),
})

/** A transfer that should succeed: what most txs of a real block are. */
const plainArb: fc.Arbitrary<Spec> = fc.record({
  from: fc.constantFrom(0, 1, 2, 3),
  to: fc.constantFrom<Recipient>('other', 'new', 'empty'),
  fresh: fc.integer({ min: 1, max: 1_000_000 }),
  value: fc.constantFrom(0n, 1n, 12_345n),
  type: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
  nonceMode: fc.constant<Spec['nonceMode']>('next'),
  gasLimit: fc.constantFrom(21_000n, 25_000n),
  maxFee: fc.constantFrom(7n, 8n, 100n * GWEI),
  tip: fc.constantFrom(0n, 1n, GWEI),
  data: fc.constant(false),
  accessList: fc.constant(false),
})

const specArb = fc.oneof({ arbitrary: plainArb, weight: 4 }, { arbitrary: wildArb, weight: 1 })

describe('direct value transfers against the EVM', () => {
  let t: TestChain
  let evmOnly: Executor

  before(async () => {
    const spec = loadChainSpec('dev')
    const alloc = new Map(spec.genesis.alloc)
    alloc.set(bytesToHex(EMPTY), { nonce: 0n, balance: 0n })
    alloc.set(bytesToHex(CONTRACT), { nonce: 1n, balance: 0n, code: Uint8Array.of(0) })
    alloc.set(bytesToHex(addressOfKey(WITH_CODE)), { nonce: 0n, balance: ETHER, code: Uint8Array.of(0) })
    t = await openTestChain({ spec: { ...spec, genesis: { ...spec.genesis, alloc } } })
    evmOnly = new Executor(t.store, t.chain.commons, (h) => t.chain.getHashAt(h), { directTransfers: false })
  })

  function params(producer: Uint8Array): BlockExecutionParams {
    const head = t.chain.head
    return { parentStateRoot: head.header.stateRoot, parentHash: head.hash, height: head.header.height + 1n, timestamp: head.header.timestamp + 1n, producer, gasLimit: 30_000_000n, baseFee: 7n, reward: 2n * ETHER, baseFeeBurn: true, maxTxBytes: 1_000_000 }
  }

  function sign(s: Spec, nonce: bigint, coinbase: Uint8Array): TypedTransaction {
    const key = SENDER_KEYS[s.from]!
    const recipients: Record<Recipient, Uint8Array> = {
      other: addressOfKey(SENDER_KEYS[(s.from + 1) % 4]!),
      self: addressOfKey(key),
      coinbase,
      precompile: PRECOMPILE,
      contract: CONTRACT,
      new: keccak256(Uint8Array.of(s.fresh & 0xff, (s.fresh >> 8) & 0xff, s.fresh >> 16)).subarray(12),
      empty: EMPTY,
    }
    const common = t.common
    const base = { nonce, to: new Address(recipients[s.to]), value: s.value, data: s.data ? Uint8Array.of(1, 2) : new Uint8Array(0), gasLimit: s.gasLimit }
    const accessList = s.accessList ? [{ address: bytesToHex(CONTRACT), storageKeys: [] }] : []
    if (s.type === 0) return createLegacyTx({ ...base, gasPrice: s.maxFee }, { common }).sign(key)
    if (s.type === 1) return createAccessList2930Tx({ ...base, gasPrice: s.maxFee, accessList, chainId: common.chainId() }, { common }).sign(key)
    return createFeeMarket1559Tx({ ...base, maxFeePerGas: s.maxFee, maxPriorityFeePerGas: s.tip > s.maxFee ? s.maxFee : s.tip, accessList, chainId: common.chainId() }, { common }).sign(key)
  }

  const hashes = (e: BlockExecution) => e.txs.map((x) => bytesToHex(x.tx.hash()))
  const reasons = (e: BlockExecution) => e.rejected.map((r) => [bytesToHex(r.tx.hash()), r.reason])

  test('random mixed blocks: identical roots, receipts, gas, included txs and rejection reasons', async () => {
    let direct = 0
    await fc.assert(
      fc.asyncProperty(fc.array(specArb, { minLength: 1, maxLength: 30 }), fc.constantFrom(PRODUCER, EMPTY, hexToBytes('0x00000000000000000000000000000000000ba5e0')), async (specs, coinbase) => {
        const next = new Map<number, bigint>()
        const txs = specs.map((s) => {
          const n = next.get(s.from) ?? 0n
          if (s.nonceMode === 'next') next.set(s.from, n + 1n)
          return sign(s, s.nonceMode === 'gap' ? n + 1n : s.nonceMode === 'stale' && n > 0n ? n - 1n : n, coinbase)
        })
        const p = params(coinbase)
        const a = await t.executor.build(p, listSource(txs))
        const b = await evmOnly.build(p, listSource(txs))
        assertSameResult(a, b, 'build')
        assert.deepEqual(hashes(a), hashes(b), 'the same txs included')
        assert.deepEqual(reasons(a), reasons(b), 'the same txs left out, for the same reasons')
        assert.equal(bytesToHex(a.txRoot), bytesToHex(b.txRoot))
        const included = a.txs.map((x) => x.tx)
        assertSameResult(await t.executor.replay(p, included), b, 'replay, direct')
        assertSameResult(await evmOnly.replay(p, included), b, 'replay, EVM')
        direct += a.txs.filter((x) => isPlainTransfer(x.tx) && !['self', 'coinbase', 'precompile', 'contract'].includes(specs[txs.indexOf(x.tx)]!.to)).length
      }),
      { numRuns: 40, seed: 20261207 },
    )
    assert.ok(direct > 100, `the direct path was taken (${direct} txs)`)
  })
})
