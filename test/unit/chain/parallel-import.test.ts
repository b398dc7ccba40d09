/**
 * The chain spec's `execution.parallel` switch at the block importer: a chain with it on builds
 * and replays its blocks with the parallel executor (worker threads on the leader, the calling
 * thread on a validator), one without it in order. For txs that declare what they touch the two
 * agree block for block, whichever built the block; a tx that touches an undeclared account is
 * included as failed (all its gas charged) by the parallel leader and replayed the same by a
 * parallel validator, while an in-order node refuses that block, and a parallel node refuses
 * the in-order block where the same tx succeeded: the parallel rule is one of the chain's rules.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bigIntToBytes, bytesToHex, concatBytes, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { encodeDeployData, encodeFunctionData } from 'viem'
import { BlockImporter } from '../../../src/chain/import.ts'
import { BlockError } from '../../../src/chain/errors.ts'
import { ChainArgumentError, loadChainSpec, type ChainSpec } from '../../../src/chain/spec/index.ts'
import { keccak256 } from '../../../src/crypto/hash.ts'
import { ParallelExecutor, createdAddress, type ParallelBlockExecution } from '../../../src/execution/parallel/index.ts'
import { KEYS, PRODUCER, addressOf, openTestChain, produceBlock, type TestChain } from '../../helpers/chain.ts'
import { fixtureContract } from '../../helpers/solc.ts'

const Registry = fixtureContract('Registry')
const inOrderSpec = (): ChainSpec => loadChainSpec('dev')
const parallelSpec = (): ChainSpec => ({ ...loadChainSpec('dev'), execution: { parallel: true } })
const recipient = (i: number) => hexToBytes(`0x${(0xfeed00 + i).toString(16).padStart(40, '0')}`)
/** Registry's storage: values at mapping position 0, count at slot 1. */
const valueSlot = (key: Uint8Array) => bytesToHex(keccak256(concatBytes(key, new Uint8Array(32))))
const COUNT_SLOT = bytesToHex(setLengthLeft(bigIntToBytes(1n), 32))
const key = (k: number) => setLengthLeft(bigIntToBytes(BigInt(k)), 32)
/** Creation code of a contract whose runtime reads BALANCE(calldata[0..32]): PUSH1 0 CALLDATALOAD BALANCE POP STOP. */
const PROBER_INIT = hexToBytes('0x656000353150006000526006601af3')

describe('blocks between parallel and in-order nodes of one genesis', () => {
  let leader: TestChain // parallel, 2 worker threads
  let validator: TestChain // parallel, calling thread
  let inOrder: TestChain
  let registry: Uint8Array
  let prober: Uint8Array
  const nonces = new Map<number, bigint>()

  before(async () => {
    leader = await openTestChain({ spec: parallelSpec(), parallelThreads: 2 })
    validator = await openTestChain({ spec: parallelSpec() })
    inOrder = await openTestChain({ spec: inOrderSpec() })
    registry = createdAddress(addressOf(9).bytes, 0n)
    prober = createdAddress(addressOf(9).bytes, 1n)
  })

  after(async () => {
    await leader?.parallel?.close()
  })

  function sign(from: number, o: { to?: Uint8Array; value?: bigint; data?: Uint8Array; gasLimit?: bigint; accessList?: Array<{ address: `0x${string}`; storageKeys: Array<`0x${string}`> }> }): TypedTransaction {
    const nonce = nonces.get(from) ?? 0n
    nonces.set(from, nonce + 1n)
    return createFeeMarket1559Tx(
      {
        nonce,
        to: o.to ? new Address(o.to) : undefined,
        value: o.value ?? 0n,
        data: o.data ?? new Uint8Array(0),
        gasLimit: o.gasLimit ?? 21_000n,
        maxFeePerGas: 100_000_000_000n,
        maxPriorityFeePerGas: 1_000_000_000n,
        accessList: o.accessList ?? [],
        chainId: leader.common.chainId(),
      },
      { common: leader.common },
    ).sign(KEYS[from]!)
  }
  const transfer = (from: number, to: number) => sign(from, { to: recipient(to), value: 1_000n + BigInt(to) })
  const set = (from: number, k: number, declared: boolean) =>
    sign(from, {
      to: registry,
      gasLimit: 120_000n,
      data: hexToBytes(encodeFunctionData({ abi: Registry.abi, functionName: 'set', args: [bytesToHex(key(k)), BigInt(k) * 10n] })),
      ...(declared ? { accessList: [{ address: bytesToHex(registry), storageKeys: [valueSlot(key(k)), COUNT_SLOT] }] } : {}),
    })

  /** `importers` import `producer`'s head block and end at its state root, receipts included. */
  async function importInto(producer: TestChain, ...importers: TestChain[]): Promise<void> {
    const head = producer.chain.head
    const block = producer.chain.getBlock(head.hash)!
    for (const t of importers) {
      const outcome = await t.importer.importBlock(block)
      assert.equal(outcome.status, 'extended')
      assert.equal(bytesToHex(t.chain.head.header.stateRoot), bytesToHex(head.header.stateRoot))
      assert.deepEqual(t.chain.getReceipts(head.hash), producer.chain.getReceipts(head.hash))
    }
  }

  test('the two kinds of node start from the same genesis', () => {
    assert.equal(bytesToHex(leader.chain.genesisHash), bytesToHex(inOrder.chain.genesisHash))
    assert.equal(bytesToHex(validator.chain.genesisHash), bytesToHex(inOrder.chain.genesisHash))
  })

  test('an importer follows the spec: a parallel chain needs the parallel runner, an in-order chain refuses one', async () => {
    const parallel = new ParallelExecutor(inOrder.executor, { store: inOrder.store, hashAt: () => undefined, threads: 0 })
    assert.throws(() => new BlockImporter(leader.chain, leader.executor, { verifyHeader() {} }), ChainArgumentError)
    assert.throws(() => new BlockImporter(inOrder.chain, inOrder.executor, { verifyHeader() {} }, { parallel }), ChainArgumentError)
  })

  test('blocks of declared txs built in parallel import in order, and the reverse, with identical state roots', async () => {
    const deploy = sign(9, { gasLimit: 1_500_000n, data: hexToBytes(encodeDeployData({ abi: Registry.abi, bytecode: Registry.bytecode })) })
    const deployProber = sign(9, { gasLimit: 100_000n, data: PROBER_INIT })
    await produceBlock(leader, [deploy, deployProber, ...[0, 1, 2, 3, 4, 5].map((i) => transfer(i, i))])
    assert.deepEqual(leader.chain.getReceipts(leader.chain.head.hash)!.map((r) => r.status), [1, 1, 1, 1, 1, 1, 1, 1])
    await importInto(leader, validator, inOrder)

    await produceBlock(inOrder, [set(5, 1, true), transfer(0, 10), set(6, 2, true), transfer(1, 11), transfer(2, 10), set(7, 3, true)])
    assert.deepEqual(inOrder.chain.getReceipts(inOrder.chain.head.hash)!.map((r) => r.status), [1, 1, 1, 1, 1, 1])
    await importInto(inOrder, leader, validator)

    const built = await leader.importer.build({ timestamp: leader.chain.head.header.timestamp + 1n, producer: PRODUCER, source: listOf([transfer(3, 20), set(5, 4, true), transfer(4, 21), set(8, 5, true), transfer(0, 22), transfer(1, 23)]) })
    const plan = (built.execution as ParallelBlockExecution).plan
    assert.ok(plan.batches.length > 1 && plan.batches.some((n) => n > 1), `parallel batches, some conflicting (got ${plan.batches.join(',')})`)
    assert.deepEqual((built.execution as ParallelBlockExecution).failures, [])
    await leader.importer.commit(built)
    await importInto(leader, validator, inOrder)
  })

  test('txs touching an undeclared account or slot are included as failed by the parallel leader and its validator; an in-order node refuses the block, and vice versa', async () => {
    const height = leader.chain.head.header.height
    const probed = recipient(0)
    // Reads probed's balance, declaring only what a plain call declares (sender, prober).
    const undeclaredAccount = sign(7, { to: prober, gasLimit: 60_000n, data: setLengthLeft(probed, 32) })
    const undeclaredSlot = set(6, 9, false)
    const parent = leader.chain.head
    const built = await leader.importer.build({ timestamp: parent.header.timestamp + 1n, producer: PRODUCER, source: listOf([transfer(2, 30), undeclaredAccount, undeclaredSlot]) })
    const failures = (built.execution as ParallelBlockExecution).failures
    assert.deepEqual(failures.map((x) => [x.index, x.error.code, x.error.address]), [
      [1, 'UNDECLARED_ACCOUNT', bytesToHex(probed)],
      [2, 'UNDECLARED_SLOT', bytesToHex(registry)],
    ])
    assert.deepEqual(built.execution.receipts.map((r) => r.status), [1, 0, 0], 'included, failed')
    assert.deepEqual(built.execution.txs.slice(1).map((e) => e.gasUsed), [undeclaredAccount.gasLimit, undeclaredSlot.gasLimit], 'charged all their gas')
    await leader.importer.commit(built)
    const block = leader.chain.getBlock(leader.chain.head.hash)!

    await importInto(leader, validator)
    await assert.rejects(inOrder.importer.importBlock(block), (err: unknown) => err instanceof BlockError && err.code === 'BAD_GAS_USED')
    assert.equal(inOrder.chain.head.header.height, height, 'the in-order node did not move')

    // The in-order node builds its own block with the same txs: they succeed there.
    const own = await produceBlock(inOrder, [...block.txs])
    assert.deepEqual(own.rejected, [])
    assert.deepEqual(inOrder.chain.getReceipts(inOrder.chain.head.hash)!.map((r) => r.status), [1, 1, 1])
    const ownBlock = inOrder.chain.getBlock(inOrder.chain.head.hash)!
    const refused = (err: unknown) => err instanceof BlockError && err.code === 'BAD_GAS_USED'
    // On the parallel nodes it is a competing block at the same height: replayed, and refused by the rule.
    await assert.rejects(validator.importer.importBlock(ownBlock), refused)
    await assert.rejects(leader.importer.importBlock(ownBlock), refused)
    assert.equal(bytesToHex(leader.chain.head.hash), bytesToHex(validator.chain.head.hash))
  })
})

function listOf(txs: TypedTransaction[]) {
  let i = 0
  return { next: () => txs[i++], skipSender: () => {} }
}
