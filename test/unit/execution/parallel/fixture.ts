/**
 * What the parallel-execution tests share: a chain with three `Store` contracts deployed (and
 * one of them funded), signed txs of every kind the tests need with complete or incomplete
 * access lists, block parameters, the "twin" that in-order execution runs in place of a tx
 * that touches undeclared state, and a comparison of two executions.
 */
import assert from 'node:assert/strict'
import { createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bigIntToBytes, bytesToHex, concatBytes, createAddressFromPrivateKey, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { encodeDeployData, encodeFunctionData, type Abi, type Hex as ViemHex } from 'viem'
import type { BlockExecution, BlockExecutionParams, TxSource } from '../../../../src/execution/index.ts'
import { createdAddress } from '../../../../src/execution/parallel/index.ts'
import { keccak256 } from '../../../../src/crypto/hash.ts'
import { KEYS, PRODUCER, addressOf, openTestChain, produceBlock, type TestChain } from '../../../helpers/chain.ts'
import { compileSources } from '../../../helpers/solc.ts'
import { loadChainSpec } from '../../../../src/chain/spec/index.ts'

export const STORE_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract Child {
    uint256 public born = 1;
}

/// Storage at mapping position 0: the slot of key k is keccak256(abi.encode(k, 0)).
contract Store {
    mapping(uint256 => uint256) public slots;
    event Put(address indexed by, uint256 indexed key, uint256 value);

    function put(uint256 k, uint256 v) external { slots[k] = v; emit Put(msg.sender, k, v); }
    function move(uint256 from, uint256 to) external { slots[to] += slots[from]; slots[from] = 0; }
    function forward(address payable to) external payable { to.transfer(msg.value); }
    function readBalance(address a, uint256 k) external { slots[k] = a.balance; }
    function spawn() external returns (address c) { c = address(new Child()); }
    function relay(Store other, uint256 k, uint256 v) external { other.put(k, v); }
    function payOut(address payable to, uint256 amount) external { to.transfer(amount); }
    function fail(uint256 k) external { slots[k] = 1; revert("no"); }
    receive() external payable {}
}

/// Halts at its first instruction, as INVALID does: in-order execution's equivalent of a tx
/// that touched undeclared state under parallel execution.
contract Halt {
    fallback() external payable { assembly { invalid() } }
}
`

const compiled = compileSources({ 'Store.sol': STORE_SOURCE })
export const STORE_ABI = compiled.Store!.abi
const HALT_BYTECODE = compiled.Halt!.bytecode
const STORE_BYTECODE = compiled.Store!.bytecode

export type AccessList = Array<{ address: `0x${string}`; storageKeys: Array<`0x${string}`> }>

/** The storage slot of key `k` of Store's mapping. */
export function slotOf(k: bigint): `0x${string}` {
  return bytesToHex(keccak256(concatBytes(setLengthLeft(bigIntToBytes(k), 32), new Uint8Array(32))))
}

export function call(fn: string, args: unknown[]): Uint8Array {
  return hexToBytes(encodeFunctionData({ abi: STORE_ABI as Abi, functionName: fn, args } as never))
}

export interface Fixture {
  t: TestChain
  /** Three Store contracts; `stores[0]` holds 1 ether for payOut. */
  stores: Uint8Array[]
  halt: Uint8Array
}

export const ETHER = 10n ** 18n
export const GWEI = 10n ** 9n

/**
 * An account that exists but is empty by EIP-161 (nonce 0, balance 0, no code) and still has
 * storage: only a genesis allocation can make one. As a coinbase it shows EIP-161's deletion.
 */
export const EMPTY_WITH_STORAGE = hexToBytes('0x00000000000000000000000000000000000c0b0e')

/** A dev chain with the contracts deployed by account 9 (and EMPTY_WITH_STORAGE allocated). */
export async function openFixture(): Promise<Fixture> {
  const spec = loadChainSpec('dev')
  const alloc = new Map(spec.genesis.alloc)
  alloc.set(bytesToHex(EMPTY_WITH_STORAGE), { nonce: 0n, balance: 0n, storage: new Map([[`0x${'00'.repeat(31)}01`, `0x${'00'.repeat(31)}05`]]) })
  const t = await openTestChain({ spec: { ...spec, genesis: { ...spec.genesis, alloc } } })
  common = t.common
  const deployer = addressOf(9)
  const deploy = (nonce: bigint, data: Uint8Array) => tx({ from: 9, nonce, data, gasLimit: 3_000_000n })
  const storeInit = hexToBytes(encodeDeployData({ abi: STORE_ABI as Abi, bytecode: STORE_BYTECODE as ViemHex }))
  const txs = [deploy(0n, storeInit), deploy(1n, storeInit), deploy(2n, storeInit), deploy(3n, hexToBytes(HALT_BYTECODE as ViemHex))]
  const stores = [0n, 1n, 2n].map((n) => createdAddress(deployer.bytes, n))
  const halt = createdAddress(deployer.bytes, 3n)
  txs.push(tx({ from: 9, nonce: 4n, to: stores[0], value: ETHER, gasLimit: 100_000n }))
  const produced = await produceBlock(t, txs)
  assert.deepEqual(produced.rejected.map((r) => r.reason), [])
  assert.deepEqual(t.chain.getReceipts(t.chain.head.hash)!.map((r) => r.status), [1, 1, 1, 1, 1], 'the fixture deploys')
  return { t, stores, halt }
}

export interface TxSpec {
  from: number
  nonce: bigint
  to?: Uint8Array
  value?: bigint
  data?: Uint8Array
  gasLimit?: bigint
  accessList?: AccessList
  /** 0 legacy, 1 EIP-2930, 2 EIP-1559 (default). */
  type?: 0 | 1 | 2
  maxFeePerGas?: bigint
  tip?: bigint
}

export function tx(s: TxSpec): TypedTransaction {
  const t = openTestChainCommon()
  const base = { nonce: s.nonce, to: s.to ? new Address(s.to) : undefined, value: s.value ?? 0n, data: s.data ?? new Uint8Array(0), gasLimit: s.gasLimit ?? 21_000n }
  const maxFee = s.maxFeePerGas ?? 100n * GWEI
  if (s.type === 0) return createLegacyTx({ ...base, gasPrice: maxFee }, { common: t }).sign(KEYS[s.from]!)
  if (s.type === 1) return createAccessList2930Tx({ ...base, gasPrice: maxFee, accessList: s.accessList ?? [], chainId: t.chainId() }, { common: t }).sign(KEYS[s.from]!)
  return createFeeMarket1559Tx(
    { ...base, maxFeePerGas: maxFee, maxPriorityFeePerGas: s.tip ?? GWEI, accessList: s.accessList ?? [], chainId: t.chainId() },
    { common: t },
  ).sign(KEYS[s.from]!)
}

/** The chain's Common, set by openFixture (txs are signed for its chain id). */
let common: TestChain['common'] | undefined
function openTestChainCommon(): TestChain['common'] {
  if (!common) throw new Error('openFixture first')
  return common
}

/**
 * The tx in-order execution runs in place of one that touched undeclared state: the same
 * sender, nonce, type, fees, gas, value, data and access list, but calling code that halts at
 * once, so it uses all its gas and changes nothing else — the parallel executor's rule.
 */
export function twinOf(original: TypedTransaction, halt: Uint8Array): TypedTransaction {
  const from = KEYS.findIndex((k) => createAddressFromPrivateKey(k).equals(original.getSenderAddress()))
  assert.ok(from >= 0, 'a fixture key signed it')
  const accessList = 'accessList' in original ? original.accessList.map(([a, keys]) => ({ address: bytesToHex(a), storageKeys: keys.map((k) => bytesToHex(k)) })) : undefined
  const fees = 'maxFeePerGas' in original ? { maxFeePerGas: original.maxFeePerGas, tip: original.maxPriorityFeePerGas } : { maxFeePerGas: original.gasPrice }
  return tx({ from, nonce: original.nonce, to: halt, value: original.value, data: original.data, gasLimit: original.gasLimit, accessList, type: original.type as 0 | 1 | 2, ...fees })
}

/** Parameters of a block on the head (not committed: every execution in a test starts from the same parent). */
export function nextParams(t: TestChain, over: Partial<BlockExecutionParams> = {}): BlockExecutionParams {
  const head = t.chain.head
  return {
    parentStateRoot: head.header.stateRoot,
    parentHash: head.hash,
    height: head.header.height + 1n,
    timestamp: head.header.timestamp + 1n,
    producer: PRODUCER,
    gasLimit: 30_000_000n,
    baseFee: 7n,
    reward: 2n * ETHER,
    baseFeeBurn: true,
    maxTxBytes: 1_000_000,
    ...over,
  }
}

/** A source over a fixed list that honours skipSender, as the mempool's does. */
export function listSource(txs: TypedTransaction[]): TxSource & { skipped: string[] } {
  const skipped = new Set<string>()
  let i = 0
  return {
    skipped: [],
    next() {
      while (i < txs.length) {
        const t = txs[i++]!
        if (!skipped.has(t.getSenderAddress().toString())) return t
      }
      return undefined
    },
    skipSender(sender) {
      const a = bytesToHex(sender)
      skipped.add(a)
      this.skipped.push(a)
    },
  }
}

/** The commitments of a block execution that must agree: roots, gas, bloom, receipts. */
export function assertSameResult(got: BlockExecution, want: BlockExecution, label: string): void {
  assert.equal(bytesToHex(got.stateRoot), bytesToHex(want.stateRoot), `${label}: state root`)
  assert.equal(bytesToHex(got.receiptsRoot), bytesToHex(want.receiptsRoot), `${label}: receipts root`)
  assert.equal(got.gasUsed, want.gasUsed, `${label}: gas used`)
  assert.equal(bytesToHex(got.logsBloom), bytesToHex(want.logsBloom), `${label}: logs bloom`)
  assert.deepEqual(got.receipts, want.receipts, `${label}: receipts`)
  assert.equal(got.txs.length, want.txs.length, `${label}: included txs`)
}

export { PRODUCER, addressOf }
