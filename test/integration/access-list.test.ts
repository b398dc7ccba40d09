/**
 * eth_createAccessList through a real node's JSON-RPC server, on a dev chain whose genesis
 * says `"execution": { "parallel": true }` (a separate OS process; its blocks are built by the
 * parallel executor on worker threads). A call that reads and writes a contract's storage gets
 * exactly its slots (geth's list: under the contract, no sender); the tx signed with that list,
 * as EIP-1559 and as EIP-2930, runs and writes; the same call without the list is included
 * failed — status 0, all its gas charged, its write absent — and the chain goes on. A reverting
 * call reports geth's error beside its list; bad parameters are refused with -32602. Transfers
 * sent together succeed, and the node then stops cleanly on SIGTERM.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createAccessList2930Tx, createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bigIntToBytes, bytesToHex, concatBytes, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { decodeFunctionResult, encodeDeployData, encodeFunctionData, type Hex } from 'viem'
import { chainSpecToJSON, loadChainSpec } from '../../src/chain/spec/index.ts'
import { keccak256 } from '../../src/crypto/hash.ts'
import { makeCommon } from '../../src/execution/index.ts'
import { createdAddress } from '../../src/execution/parallel/index.ts'
import { KEYS, addressOf } from '../helpers/chain.ts'
import { RpcCallError, makeDatadir, removeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { fixtureContract } from '../helpers/solc.ts'

const Registry = fixtureContract('Registry')
const common = makeCommon(1337n)
const COUNT_SLOT = bytesToHex(setLengthLeft(bigIntToBytes(1n), 32))
const key = (k: number) => bytesToHex(setLengthLeft(bigIntToBytes(BigInt(k)), 32))
const valueSlot = (k: number) => bytesToHex(keccak256(concatBytes(hexToBytes(key(k) as Hex), new Uint8Array(32))))
const setData = (k: number, v: bigint) => encodeFunctionData({ abi: Registry.abi, functionName: 'set', args: [key(k), v] })

interface Receipt {
  status: string
  gasUsed: string
  blockNumber: string
  contractAddress: string | null
}

describe('eth_createAccessList on a parallel-execution chain', () => {
  let node: NodeProcess
  let dir: string
  let registry: Hex
  const nonces = new Map<number, bigint>()

  before(async () => {
    dir = await makeDatadir('catena-it-acl-')
    const genesis = join(dir, 'genesis.json')
    await writeFile(genesis, JSON.stringify({ ...chainSpecToJSON(loadChainSpec('dev')), execution: { parallel: true } }, null, 2))
    // Blocks every 200 ms (not one per tx), so txs sent together share a block and its batches.
    node = await startNode({ chain: genesis, datadir: join(dir, 'node'), args: ['--automine', 'false', '--block-interval', '200'] })
    const started = node.logLines().find((l) => l.msg === 'Catena node started')
    assert.equal(started?.parallelExecution, true, 'the node runs blocks in parallel')
    const deployed = await send(sign(9, { gasLimit: 1_500_000n, data: hexToBytes(encodeDeployData({ abi: Registry.abi, bytecode: Registry.bytecode })) }))
    assert.equal(deployed.status, '0x1')
    registry = deployed.contractAddress as Hex
    assert.equal(registry, bytesToHex(createdAddress(addressOf(9).bytes, 0n)))
  })

  after(async () => {
    try {
      if (node?.exitInfo === undefined) await node?.stop()
    } finally {
      if (dir) await removeDatadir(dir)
    }
  })

  function sign(from: number, o: { to?: Hex; data: Uint8Array | Hex; gasLimit: bigint; accessList?: Array<{ address: Hex; storageKeys: Hex[] }>; type?: 1 | 2 }): TypedTransaction {
    const nonce = nonces.get(from) ?? 0n
    nonces.set(from, nonce + 1n)
    const base = { nonce, to: o.to ? new Address(hexToBytes(o.to)) : undefined, value: 0n, data: o.data, gasLimit: o.gasLimit, accessList: o.accessList ?? [], chainId: 1337n }
    if (o.type === 1) return createAccessList2930Tx({ ...base, gasPrice: 100_000_000_000n }, { common }).sign(KEYS[from]!)
    return createFeeMarket1559Tx({ ...base, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n }, { common }).sign(KEYS[from]!)
  }

  async function send(tx: TypedTransaction): Promise<Receipt> {
    const hash = await node.rpc<Hex>('eth_sendRawTransaction', [bytesToHex(tx.serialize())])
    return waitFor(`receipt of ${hash}`, () => node.rpc<Receipt | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined))
  }

  async function valueOf(k: number): Promise<bigint> {
    const data = encodeFunctionData({ abi: Registry.abi, functionName: 'values', args: [key(k)] })
    const ret = await node.rpc<Hex>('eth_call', [{ to: registry, data }, 'latest'])
    return decodeFunctionResult({ abi: Registry.abi, functionName: 'values', data: ret }) as bigint
  }

  const alice = () => bytesToHex(addressOf(0).bytes)

  test('a call that writes two slots gets exactly those slots, under the contract, with its gas', async () => {
    const out = await node.rpc('eth_createAccessList', [{ from: alice(), to: registry, data: setData(1, 11n) }, 'latest'])
    assert.deepEqual(out.accessList, [{ address: registry, storageKeys: [valueSlot(1), COUNT_SLOT] }])
    assert.equal(out.error, undefined)
    assert.match(out.gasUsed, /^0x[1-9a-f][0-9a-f]*$/)
    const onPending = await node.rpc('eth_createAccessList', [{ from: alice(), to: registry, data: setData(1, 11n) }])
    assert.deepEqual(onPending, out, 'the block defaults to latest')
  })

  test('the tx sent with that list runs on the parallel chain, as EIP-1559 and as EIP-2930, using the gas reported', async () => {
    for (const [k, type] of [[2, 2], [3, 1]] as const) {
      const out = await node.rpc('eth_createAccessList', [{ from: alice(), to: registry, data: setData(k, 7n) }, 'latest'])
      const receipt = await send(sign(0, { to: registry, data: setData(k, 7n), gasLimit: 200_000n, accessList: out.accessList, type }))
      assert.equal(receipt.status, '0x1', `type ${type}`)
      assert.equal(receipt.gasUsed, out.gasUsed, `type ${type}: gas as reported`)
      assert.equal(await valueOf(k), 7n)
    }
  })

  test('the same call without the list is included failed: status 0, all its gas charged, nothing written; the chain goes on', async () => {
    const gasLimit = 150_000n
    const failed = await send(sign(1, { to: registry, data: setData(4, 9n), gasLimit }))
    assert.equal(failed.status, '0x0')
    assert.equal(BigInt(failed.gasUsed), gasLimit, 'charged its whole gas limit')
    assert.equal(await valueOf(4), 0n, 'its write is absent')
    const out = await node.rpc('eth_createAccessList', [{ from: bytesToHex(addressOf(1).bytes), to: registry, data: setData(4, 9n) }, 'latest'])
    const next = await send(sign(1, { to: registry, data: setData(4, 9n), gasLimit, accessList: out.accessList }))
    assert.equal(next.status, '0x1', 'with the list the same call runs in a later block')
    assert.ok(BigInt(next.blockNumber) > BigInt(failed.blockNumber))
    assert.equal(await valueOf(4), 9n)
  })

  test("a reverting call reports geth's error beside its list; bad parameters are refused", async () => {
    const data = encodeFunctionData({ abi: Registry.abi, functionName: 'divide', args: [1n, 0n] })
    const out = await node.rpc('eth_createAccessList', [{ from: alice(), to: registry, data }, 'latest'])
    assert.deepEqual([out.accessList, out.error], [[], 'execution reverted'])
    for (const params of [[], ['0x1'], [{ to: registry, gas: 'lots' }], [{ to: registry }, 'nope']]) {
      await assert.rejects(node.rpc('eth_createAccessList', params), (err: unknown) => err instanceof RpcCallError && err.code === -32602, JSON.stringify(params))
    }
  })

  test('transfers sent together in one JSON-RPC batch all succeed (sharing a block, they run as one batch on the threads)', async () => {
    const senders = [2, 3, 4, 5, 6, 7, 8]
    const txs = senders.map((from, i) => {
      const nonce = nonces.get(from) ?? 0n
      nonces.set(from, nonce + 1n)
      const to = new Address(hexToBytes(`0x${(0xa11ce0 + i).toString(16).padStart(40, '0')}`))
      return createFeeMarket1559Tx({ nonce, to, value: 1000n, gasLimit: 21_000n, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, chainId: 1337n }, { common }).sign(KEYS[from]!)
    })
    const res = await fetch(node.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(txs.map((tx, id) => ({ jsonrpc: '2.0', id, method: 'eth_sendRawTransaction', params: [bytesToHex(tx.serialize())] }))),
    })
    const answers = (await res.json()) as Array<{ result?: Hex; error?: unknown }>
    assert.deepEqual(answers.map((a) => a.error), txs.map(() => undefined))
    const receipts = await Promise.all(answers.map((a) => waitFor(`receipt of ${a.result}`, () => node.rpc<Receipt | null>('eth_getTransactionReceipt', [a.result]).then((r) => r ?? undefined))))
    assert.deepEqual(receipts.map((r) => r.status), txs.map(() => '0x1'))
  })

  test('SIGTERM stops the node cleanly', async () => {
    const exit = await node.stop()
    assert.deepEqual(exit, { code: 0, signal: null })
  })
})
