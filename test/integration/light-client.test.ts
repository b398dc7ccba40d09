/**
 * The light client against a real PoW full node process, asked directly and through a proxy
 * that rewrites the node's answers as a lying or hacked node would. Correct answers pass
 * unchanged (and viem uses the light client's RPC as a node's: balance, block number, a
 * transfer sent and its receipt awaited); each lie is refused with an error naming what did
 * not check: a wrong balance, a proof for another account, a forged storage value, a receipt
 * not in the block, a header with a bad proof of work; with an honest source beside the liar
 * the answer comes from the honest one and the lie is reported; a second chain that is
 * longer but has less work does not become the head.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import pino from 'pino'
import { createPublicClient, createWalletClient, defineChain, encodeFunctionData, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { decodeHeader, encodeHeader } from '../../src/chain/block.ts'
import { parseChainSpec } from '../../src/chain/spec/index.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { decodePowSeal, encodePowSeal } from '../../src/consensus/pow/seal.ts'
import { targetToCompact } from '../../src/consensus/pow/target.ts'
import { startLightClient, type RunningLightClient } from '../../src/sync/light/start.ts'
import { KEYS } from '../helpers/chain.ts'
import { fixtureContract } from '../helpers/solc.ts'
import { lyingProxy as lyingProxyOn, type Rewrite } from '../helpers/lying-proxy.ts'
import { lightRpc, lightTestSet } from '../helpers/light.ts'
import { makeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'

type Hex = `0x${string}`
const { dirs, running, lights, servers } = lightTestSet()

const silent = pino({ level: 'silent' })

const lyingProxy = (target: string, rewrite: Rewrite) => lyingProxyOn(target, rewrite, servers)

async function light(urls: string[]): Promise<RunningLightClient> {
  const l = await startLightClient({ spec, rpcUrls: urls, rpcPort: 0, log: silent, clientVersion: 'test', syncEveryMs: 300 })
  lights.push(l)
  return l
}

const rpc = lightRpc

const json = presetJSON('bitcoin-like')!
json.name = 'light-test'
json.engine = { type: 'pow', initialBits: targetToCompact((1n << 256n) / 100_000n), powLimitBits: targetToCompact((1n << 256n) / 1000n), retarget: { kind: 'bitcoin', interval: 100_000 }, coinbaseMaturity: 100, maxReorgDepth: 1000 } as typeof json.engine
json.blockTimeMs = 1000
const spec = parseChainSpec(json)
let node: NodeProcess
let genesisFile: string
const alice = privateKeyToAccount(bytesToHex(KEYS[3]!) as Hex)
const Token = fixtureContract('Token')
let token: Hex
const chain = defineChain({ id: Number(spec.chainId), name: 'light-test', nativeCurrency: { name: 'C', symbol: 'C', decimals: 18 }, rpcUrls: { default: { http: ['http://127.0.0.1'] } } })

describe('light client against a PoW full node', () => {
  before(async () => {
    const dir = await makeDatadir()
    dirs.push(dir)
    genesisFile = join(dir, 'genesis.json')
    await writeFile(genesisFile, JSON.stringify(json))
    node = await startNode({ datadir: dir, chain: genesisFile, args: ['--mine', '--miner-threads', '1', '--coinbase', '0x00000000000000000000000000000000000000aa'] })
    running.add(node)
    await waitFor('a few blocks', async () => BigInt(await node.rpc<Hex>('eth_blockNumber', [])) >= 3n, { timeoutMs: 60_000 })
  })

  test('true answers pass, and viem uses it as a node: balance, block number, a transfer and its receipt', async () => {
    const l = await light([node.rpcUrl])
    assert.ok(l.client.headers.head.header.height >= 3n)
    const direct = await node.rpc<Hex>('eth_getBalance', [alice.address, bytesToHex(l.client.headers.head.hash).length ? { blockHash: bytesToHex(l.client.headers.head.hash) } : 'latest'])
    const viaLight = await rpc<Hex>(l.url, 'eth_getBalance', [alice.address, 'latest'])
    assert.equal(viaLight.result, direct)

    const pub = createPublicClient({ chain, transport: http(l.url) })
    const wallet = createWalletClient({ account: alice, chain, transport: http(l.url) })
    assert.ok((await pub.getBlockNumber()) >= 3n)
    const to = '0x000000000000000000000000000000000000beef' as const
    const hash = await wallet.sendTransaction({ to, value: parseEther('0.5') })
    const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 300, timeout: 60_000 })
    assert.equal(receipt.status, 'success')
    assert.equal(await pub.getBalance({ address: to }), parseEther('0.5'))
    const tx = await pub.getTransaction({ hash })
    assert.equal(tx.from.toLowerCase(), alice.address.toLowerCase())
    const logs = await rpc<unknown[]>(l.url, 'eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest' }])
    assert.deepEqual(logs.result, [], 'no contract: no logs, checked block by block')
    // eth_feeHistory (MetaMask's gas estimate): the light client's answer from verified headers and blocks equals the node's.
    const newest = `0x${l.client.headers.head.header.height.toString(16)}`
    const fees = await rpc<{ oldestBlock: Hex; baseFeePerGas: Hex[]; gasUsedRatio: number[]; reward: Hex[][] }>(l.url, 'eth_feeHistory', ['0x4', newest, [25, 75]])
    assert.deepEqual(fees.result, await node.rpc('eth_feeHistory', ['0x4', newest, [25, 75]]))
    const status = await rpc<{ lies: unknown[] }>(l.url, 'catena_lightStatus', [])
    assert.deepEqual(status.result?.lies, [])

    // An ERC-20 read with eth_call: run here, over state proven against the header.
    const deployHash = await wallet.deployContract({ abi: Token.abi, bytecode: Token.bytecode as Hex, args: ['Light', 'LT', 1000n], gas: 2_000_000n })
    const deployed = await pub.waitForTransactionReceipt({ hash: deployHash, pollingInterval: 300, timeout: 60_000 })
    token = deployed.contractAddress!
    assert.equal(await pub.readContract({ address: token, abi: Token.abi, functionName: 'balanceOf', args: [alice.address] }), 1000n)
    const sent = await wallet.writeContract({ address: token, abi: Token.abi, functionName: 'transfer', args: [to, 7n], gas: 200_000n })
    assert.equal((await pub.waitForTransactionReceipt({ hash: sent, pollingInterval: 300, timeout: 60_000 })).status, 'success')
    assert.equal(await pub.readContract({ address: token, abi: Token.abi, functionName: 'balanceOf', args: [to] }), 7n)
    const transfers = await pub.getContractEvents({ address: token, abi: Token.abi, eventName: 'Transfer', fromBlock: 0n })
    assert.ok(transfers.some((e) => (e.args as { value?: bigint }).value === 7n), 'the Transfer log, found through verified receipts')
  })

  test('each lie is refused with what did not check; beside an honest source, the honest answer wins and the liar is reported', async () => {
    const head = BigInt(await node.rpc<Hex>('eth_blockNumber', []))
    const lies: Array<[string, (method: string, params: unknown[], result: unknown) => unknown, string, unknown[], RegExp]> = [
      ['a wrong balance', (m, _p, r) => (m === 'eth_getProof' ? { ...(r as object), balance: '0x1' } : r), 'eth_getBalance', [alice.address, 'latest'], /balance 1 does not match the proof/],
      ['a proof for another account', (m, _p, r) => (m === 'eth_getProof' ? { ...(r as object), address: '0x000000000000000000000000000000000000dead' } : r), 'eth_getBalance', [alice.address, 'latest'], /is for account 0x0+dead/],
      ['a forged storage value', (m, _p, r) => (m === 'eth_getProof' ? { ...(r as { storageProof: { value: string }[] }), storageProof: (r as { storageProof: object[] }).storageProof.map((s) => ({ ...s, value: '0x2a' })) } : r), 'eth_getStorageAt', [alice.address, '0x0', 'latest'], /storage value 42 of slot .* does not match/],
      ['a receipt not in the block', (m, _p, r) => (m === 'eth_getBlockReceipts' && Array.isArray(r) ? [...r, { type: '0x2', status: '0x1', cumulativeGasUsed: '0x5208', logs: [] }] : r), 'eth_getBlockByNumber', ['0x1', false], /receipts/],
    ]
    const balanceOf = encodeFunctionData({ abi: Token.abi, functionName: 'balanceOf', args: [alice.address] })
    lies.push(
      ['a contract read over a forged storage value', (m, _p, r) => (m === 'eth_getProof' ? { ...(r as { storageProof: { value: string }[] }), storageProof: (r as { storageProof: object[] }).storageProof.map((x) => ({ ...x, value: '0x3e8' })) } : r), 'eth_call', [{ to: token, data: balanceOf }, 'latest'], /storage value 1000 of slot .* does not match/],
      ['a contract read whose access list hides the slot it reads', (m, _p, r) => (m === 'eth_createAccessList' ? { ...(r as object), accessList: [] } : r), 'eth_call', [{ to: token, data: balanceOf }, 'latest'], /no source proved/],
    )
    for (const [what, rewrite, method, params, pattern] of lies) {
      const liar = await lyingProxy(node.rpcUrl, rewrite)
      const alone = await light([liar])
      const refused = await rpc(alone.url, method, params)
      assert.ok(refused.error, `${what}: refused (got ${JSON.stringify(refused.result)})`)
      assert.match(refused.error!.message, pattern, what)
      if (!/hides the slot/.test(what)) assert.match(refused.error!.message, new RegExp(liar.replace(/[.:/]/g, '\\$&')), `${what}: the error names the source`)
      const both = await light([liar, node.rpcUrl])
      const answered = await rpc(both.url, method, params)
      assert.equal(answered.error, undefined, `${what}: the honest source answers`)
      if (/hides the slot/.test(what)) continue // a hint left short is no lie anyone can prove; the call just cannot run
      const status = await rpc<{ sources: Array<{ url: string; lies: number }> }>(both.url, 'catena_lightStatus', [])
      assert.equal(status.result!.sources.find((s) => s.url === liar)!.lies, 1, `${what}: the liar is reported`)
    }
    // A header with a bad proof of work: its nonce changed.
    const badPow = await lyingProxy(node.rpcUrl, (m, p, r) => {
      if (m !== 'catena_getHeader' || typeof r !== 'string' || BigInt(p[0] as string) !== 2n) return r
      const h = decodeHeader(hexToBytes(r as Hex))
      const seal = decodePowSeal(h.seal)
      return bytesToHex(encodeHeader({ ...h, seal: encodePowSeal({ ...seal, nonce: seal.nonce + 1n }) }))
    })
    const fooled = await light([badPow])
    assert.equal(fooled.client.headers.head.header.height, 1n, 'it stops at the last good header')
    assert.match(fooled.client.lies[0]!.what, /invalid header/)
    const honestToo = await light([badPow, node.rpcUrl])
    assert.ok(honestToo.client.headers.head.header.height >= head, 'the honest source carries it on')
  })

  test('a chain with less work does not become the head; headers made easier than the rule allows are refused', async () => {
    // Another miner on the same genesis that never met this node: its own chain, shorter, less work.
    const dir = await makeDatadir()
    dirs.push(dir)
    const other = await startNode({ datadir: dir, chain: genesisFile, args: ['--mine', '--miner-threads', '1', '--coinbase', '0x00000000000000000000000000000000000000bb'] })
    running.add(other)
    await waitFor('the other chain to have 2 blocks', async () => BigInt(await other.rpc<Hex>('eth_blockNumber', [])) >= 2n, { timeoutMs: 60_000 })
    await other.kill()
    running.delete(other)
    const otherHead = await other.rpc<{ hash: Hex; number: Hex }>('eth_getBlockByNumber', ['latest', false]).catch(() => undefined)
    assert.equal(otherHead, undefined, 'stopped')
    const restarted = await startNode({ datadir: dir, chain: genesisFile })
    running.add(restarted)
    const lighter = await restarted.rpc<{ hash: Hex; number: Hex; totalDifficulty: Hex }>('eth_getBlockByNumber', ['latest', false])
    const heavier = await node.rpc<{ hash: Hex; number: Hex; totalDifficulty: Hex }>('eth_getBlockByNumber', ['latest', false])
    assert.ok(BigInt(lighter.totalDifficulty) < BigInt(heavier.totalDifficulty))
    const l = await light([restarted.rpcUrl, node.rpcUrl])
    assert.ok(l.client.headers.get(hexToBytes(lighter.hash)), 'the lighter chain was checked and kept aside')
    assert.equal(l.client.headers.isBest(hexToBytes(lighter.hash)), false)
    assert.ok(l.client.headers.head.work >= BigInt(heavier.totalDifficulty), 'the head is on the heavier chain')
    const status = await rpc<{ conflicts: Array<{ source: string; hash: Hex }> }>(l.url, 'catena_lightStatus', [])
    assert.deepEqual(status.result!.conflicts.map((c) => [c.source, c.hash]), [[restarted.rpcUrl, lighter.hash]], 'the disagreement is reported')

    // Headers whose bits claim an easier target than the retarget rule gives (a cheap chain dressed up).
    const easier = await lyingProxy(node.rpcUrl, (m, _p, r) => {
      if (m !== 'catena_getHeader' || typeof r !== 'string') return r
      const h = decodeHeader(hexToBytes(r as Hex))
      if (h.height < 2n) return r
      const seal = decodePowSeal(h.seal)
      return bytesToHex(encodeHeader({ ...h, seal: encodePowSeal({ ...seal, bits: targetToCompact((1n << 256n) / 1000n) }) }))
    })
    const both = await light([easier, node.rpcUrl])
    assert.ok(both.client.headers.head.header.height >= 3n)
    const honestAt = await node.rpc<{ hash: Hex }>('eth_getBlockByNumber', [`0x${both.client.headers.head.header.height.toString(16)}`, false])
    assert.equal(bytesToHex(both.client.headers.head.hash), honestAt.hash)
    assert.ok(both.client.lies.some((x) => x.source === easier && /bits/.test(x.what)), JSON.stringify(both.client.lies))
  })
})
