/**
 * An RPC client trying to stall a real dev node (a separate OS process sealing a block every
 * 200 ms) with calls: an infinite loop with gas 2^64-1, a batch of 20 infinite loops, an
 * estimate of an infinite loop. Each answers a clear -32000 error (the gas cap or geth's
 * "execution aborted (timeout = 5s)"), and while they run, eth_blockNumber keeps answering
 * and blocks keep being sealed; SIGTERM still stops the node cleanly. Normal contract calls
 * answer as before: return data, revert reasons with their data, and gas estimates that are
 * exactly enough. A web page from a foreign origin cannot reach the dev methods.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import { createWalletClient, decodeFunctionResult, defineChain, encodeFunctionData, http, type Hex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { RpcCallError, blockHeight, removeDatadir, rpcCall, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { fixtureContract } from '../helpers/solc.ts'
import { raw } from '../unit/api/rpc-helpers.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
/** Creation code of JUMPDEST PUSH1 0 JUMP: a contract that spins until its gas runs out. */
const LOOP_INIT = '0x635b6000566000526004601cf3' as Hex
const MAX_U64 = '0xffffffffffffffff'
const RECIPIENT = '0x0000000000000000000000000000000000001234'
const CALL_LIMIT = /^(out of gas|execution aborted \(timeout = 5s\))$/

describe('eth_call limits on a running node', () => {
  let node: NodeProcess
  let token: Hex
  let loop: Hex
  const Token = fixtureContract('Token')
  const alice = mnemonicToAccount(MNEMONIC, { addressIndex: 0 })

  before(async () => {
    node = await startNode({ args: ['--block-interval', '200'] })
    const chain = defineChain({ id: 1337, name: 'dev', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [node.rpcUrl] } } })
    const wallet = createWalletClient({ chain, account: alice, transport: http(node.rpcUrl) })
    const deployed = async (hash: Hex): Promise<Hex> => {
      const receipt = await waitFor('receipt', () => node.rpc('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined))
      assert.equal(receipt.status, '0x1')
      return receipt.contractAddress
    }
    token = await deployed(await wallet.deployContract({ abi: Token.abi, bytecode: Token.bytecode, args: ['T', 'T', 1000n] }))
    loop = await deployed(await wallet.sendTransaction({ data: LOOP_INIT, gas: 100_000n }))
  })

  after(async () => {
    if (node?.exitInfo === undefined) await node?.kill()
    if (node) await removeDatadir(node.datadir)
  })

  /** Resolves with the error a call settles with, or 'result' when it succeeds. */
  const outcome = (p: Promise<unknown>) => p.then(() => 'result', (err: RpcCallError) => err)

  test('an infinite loop with gas 2^64-1 and a batch of 20 loops answer limit errors while blocks keep coming', async () => {
    let settled = 0
    const huge = outcome(rpcCall(node.rpcUrl, 'eth_call', [{ to: loop, gas: MAX_U64 }, 'latest'])).finally(() => settled++)
    const batch = fetch(node.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 20 }, (_, id) => ({ jsonrpc: '2.0', id, method: 'eth_call', params: [{ to: loop }, 'latest'] }))),
    }).then((r) => r.json() as Promise<Array<{ id: number; error?: { code: number; message: string } }>>).finally(() => settled++)
    const estimate = outcome(rpcCall(node.rpcUrl, 'eth_estimateGas', [{ to: loop, gas: MAX_U64 }, 'latest'])).finally(() => settled++)

    // While the calls run: the node seals blocks and answers eth_blockNumber.
    const start = await blockHeight(node)
    await waitFor('three blocks sealed while the calls run', async () => (await blockHeight(node)) >= start + 3n)
    assert.equal(settled, 0, 'the calls were still running (each is worth seconds of EVM time)')

    const hugeErr = await huge
    assert.ok(hugeErr instanceof RpcCallError)
    assert.equal(hugeErr.code, -32000)
    assert.match(hugeErr.message, CALL_LIMIT)
    const answers = await batch
    assert.deepEqual(answers.map((a) => a.id), [...Array(20).keys()], 'every entry answered, in order')
    for (const a of answers) {
      assert.equal(a.error?.code, -32000)
      assert.match(a.error!.message, CALL_LIMIT)
    }
    assert.ok(answers.some((a) => a.error!.message.startsWith('execution aborted')), 'the batch shares one time budget')
    const estimateErr = await estimate
    assert.ok(estimateErr instanceof RpcCallError)
    assert.equal(estimateErr.code, -32000)
    assert.match(estimateErr.message, CALL_LIMIT)
  })

  test('normal calls answer as before: return data, revert reason and data, exact estimates', async () => {
    const data = (functionName: string, args: unknown[]) => encodeFunctionData({ abi: Token.abi, functionName, args } as never)
    const balance = await node.rpc<Hex>('eth_call', [{ to: token, data: data('balanceOf', [alice.address]) }, 'latest'])
    assert.equal(decodeFunctionResult({ abi: Token.abi, functionName: 'balanceOf', data: balance }), 1000n)

    const tooMuch = { from: alice.address, to: token, data: data('transfer', [RECIPIENT, 10_000n]) }
    const reverted = await outcome(node.rpc('eth_call', [tooMuch, 'latest']))
    assert.ok(reverted instanceof RpcCallError)
    assert.equal(reverted.code, 3)
    assert.equal(reverted.message, 'execution reverted: Token: insufficient balance')
    assert.match(String(reverted.data), /^0x08c379a0/)
    const estimateReverted = await outcome(node.rpc('eth_estimateGas', [tooMuch, 'latest']))
    assert.ok(estimateReverted instanceof RpcCallError)
    assert.equal(estimateReverted.message, 'execution reverted: Token: insufficient balance')

    const transfer = { from: alice.address, to: token, data: data('transfer', [RECIPIENT, 5n]) }
    const gas = BigInt(await node.rpc<Hex>('eth_estimateGas', [transfer, 'latest']))
    assert.equal(await node.rpc('eth_call', [{ ...transfer, gas: `0x${gas.toString(16)}` }, 'latest']), `0x${'0'.repeat(63)}1`)
    const short = await outcome(node.rpc('eth_call', [{ ...transfer, gas: `0x${(gas - 1n).toString(16)}` }, 'latest']))
    assert.ok(short instanceof RpcCallError, 'one gas less is not enough: the estimate is the smallest that works')
  })

  test('a page from a foreign origin cannot open a WebSocket to call hardhat_mine; the node itself can', async () => {
    const before = await blockHeight(node)
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(node.wsUrl, { headers: { origin: 'http://evil.example' } })
      ws.once('open', () => { ws.close(); resolve(101) })
      ws.once('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode ?? 0) })
      ws.once('error', reject)
    })
    assert.equal(status, 403)
    const foreignHost = await raw(node.rpcUrl, { body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hardhat_mine', params: ['0x5'] }), headers: { 'content-type': 'application/json', host: 'evil.example' } })
    assert.equal(foreignHost.status, 403, 'DNS rebinding: the node answers only its own names')
    assert.match(foreignHost.json().error.message, /invalid host/)
    const local = await raw(node.rpcUrl, { body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hardhat_mine', params: ['0x5'] }), headers: { 'content-type': 'application/json', host: new URL(node.rpcUrl).host } })
    assert.equal(local.json().result, true)
    assert.ok((await blockHeight(node)) >= before + 5n)
  })

  test('SIGTERM stops the node cleanly while calls are running', async () => {
    const running = outcome(rpcCall(node.rpcUrl, 'eth_call', [{ to: loop, gas: MAX_U64 }, 'latest']))
    const height = await blockHeight(node)
    await waitFor('a block sealed while the call runs', async () => (await blockHeight(node)) > height)
    const exit = await node.stop()
    assert.deepEqual(exit, { code: 0, signal: null })
    await running
  })
})
