/**
 * The light client on dev chains, whose blocks carry their producer's signature: a real
 * `catena node --chain dev` process signs with the public dev key by default; a light client
 * follows its headers (each seal checked from the header alone) and viem uses it as a node; a
 * proxy that re-signs a header with another key is refused and reported in catena_lightStatus.
 * A chain with its own signer: the node signs with --validator-key-file, refuses at start a key
 * that is not the signer's (no key at all: unit-tested, dev-seal.test.ts), and a header forged
 * with the public dev key is refused.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import pino from 'pino'
import { createPublicClient, createWalletClient, defineChain, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { decodeHeader, encodeHeader } from '../../src/chain/block.ts'
import { DEV_ACCOUNTS, loadChainSpec, parseChainSpec } from '../../src/chain/spec/index.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import type { ChainSpec } from '../../src/chain/spec/index.ts'
import { DEV_SIGNER_KEY, devSealSigner, signDevHeader } from '../../src/consensus/dev-seal.ts'
import { startLightClient, type RunningLightClient } from '../../src/sync/light/start.ts'
import { KEYS } from '../helpers/chain.ts'
import { lyingProxy as lyingProxyOn, type Rewrite } from '../helpers/lying-proxy.ts'
import { lightRpc, lightTestSet } from '../helpers/light.ts'
import { makeDatadir, NodeStartError, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'

type Hex = `0x${string}`
const { dirs, running, lights, servers } = lightTestSet()

const silent = pino({ level: 'silent' })
const lyingProxy = (target: string, rewrite: Rewrite) => lyingProxyOn(target, rewrite, servers)

async function light(spec: ChainSpec, urls: string[]): Promise<RunningLightClient> {
  const l = await startLightClient({ spec, rpcUrls: urls, rpcPort: 0, log: silent, clientVersion: 'test', syncEveryMs: 300 })
  lights.push(l)
  return l
}

const rpc = lightRpc

/** A proxy that re-signs the header at `height` with `key` (a well-formed seal, by the wrong producer). */
function reSigning(target: string, height: bigint, key: Uint8Array): Promise<string> {
  return lyingProxy(target, (m, p, r) => {
    if (m !== 'catena_getHeader' || typeof r !== 'string' || BigInt(p[0] as string) !== height) return r
    return bytesToHex(encodeHeader(signDevHeader(decodeHeader(hexToBytes(r as Hex)), key)))
  })
}

async function keyFile(dir: string, name: string, key: Uint8Array): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, bytesToHex(key), { mode: 0o600 })
  return file
}

const devSpec = loadChainSpec('dev')
const alice = privateKeyToAccount(bytesToHex(KEYS[3]!) as Hex)
const chain = defineChain({ id: Number(devSpec.chainId), name: 'dev', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: ['http://127.0.0.1'] } } })

/** A dev chain whose signer is test account #1, not the public dev key's account. */
const ownJSON = presetJSON('dev')!
ownJSON.name = 'dev-own-signer'
;(ownJSON.engine as { signer?: string }).signer = DEV_ACCOUNTS[1]
const ownSpec = parseChainSpec(ownJSON, 'dev-own-signer')

let node: NodeProcess
let ownNode: NodeProcess
let wrongKeyStart: Promise<unknown>
// The three node processes start side by side (each start is seconds of loading on 2 cores).
before(async () => {
  const dir = await makeDatadir()
  dirs.push(dir)
  const genesis = join(dir, 'genesis.json')
  await writeFile(genesis, JSON.stringify(ownJSON))
  const wrong = await keyFile(dir, 'wrong.key', KEYS[2]!)
  const own = await keyFile(dir, 'signer.key', KEYS[1]!)
  wrongKeyStart = startNode({ chain: genesis, datadir: join(dir, 'wrong'), args: ['--validator-key-file', wrong] }).then(
    (n) => running.add(n),
    (err: unknown) => err,
  )
  ;[node, ownNode] = await Promise.all([startNode({ datadir: join(dir, 'dev') }), startNode({ chain: genesis, datadir: join(dir, 'own'), args: ['--validator-key-file', own] })])
  running.add(node)
  running.add(ownNode)
  await node.rpc('hardhat_mine', ['0x5'])
})

describe('light client against a dev node that signs its blocks', () => {
  test('the node signs with the public dev key; the light client follows its headers and viem sends a transfer through it', async () => {
    assert.ok(node.logLines().some((l) => /public dev key/.test(String(l.msg))), 'the node says it signs with the public dev key')
    const l = await light(devSpec, [node.rpcUrl])
    assert.ok(l.client.headers.head.header.height >= 5n)
    for (let h = 1n; h <= 5n; h++) assert.equal(bytesToHex(devSealSigner(l.client.headers.at(h)!.header)), DEV_ACCOUNTS[0].toLowerCase(), `header ${h} signed by the dev signer`)

    const pub = createPublicClient({ chain, transport: http(l.url) })
    const wallet = createWalletClient({ account: alice, chain, transport: http(l.url) })
    const to = '0x000000000000000000000000000000000000beef' as const
    const hash = await wallet.sendTransaction({ to, value: parseEther('0.25') })
    const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 200, timeout: 30_000 })
    assert.equal(receipt.status, 'success')
    assert.equal(await pub.getBalance({ address: to }), parseEther('0.25'), 'proven against a signed header')
    const status = await rpc<{ lies: unknown[] }>(l.url, 'catena_lightStatus', [])
    assert.deepEqual(status.result?.lies, [])
  })

  test('a header re-signed by another key is refused and reported; beside an honest source, the honest chain wins', async () => {
    const liar = await reSigning(node.rpcUrl, 2n, KEYS[1]!)
    const fooled = await light(devSpec, [liar])
    assert.equal(fooled.client.headers.head.header.height, 1n, 'it stops at the last good header')
    const status = await rpc<{ lies: Array<{ source: string; what: string }>; sources: Array<{ url: string; lies: number }> }>(fooled.url, 'catena_lightStatus', [])
    const lie = status.result!.lies.find((x) => x.source === liar)
    assert.ok(lie, JSON.stringify(status.result))
    assert.match(lie.what, new RegExp(`signed by ${DEV_ACCOUNTS[1].toLowerCase()}, not by the chain's producer ${DEV_ACCOUNTS[0].toLowerCase()}`))

    const head = BigInt(await node.rpc<Hex>('eth_blockNumber', []))
    const both = await light(devSpec, [liar, node.rpcUrl])
    assert.ok(both.client.headers.head.header.height >= head, 'the honest source carries it on')
    const honestAt = await node.rpc<{ hash: Hex }>('eth_getBlockByNumber', ['0x2', false])
    assert.equal(bytesToHex(both.client.headers.at(2n)!.hash), honestAt.hash)
    const bothStatus = await rpc<{ sources: Array<{ url: string; lies: number }> }>(both.url, 'catena_lightStatus', [])
    assert.ok(bothStatus.result!.sources.find((s) => s.url === liar)!.lies >= 1, 'the liar is reported')
  })

  test('a dev chain without a signer is refused: nothing to verify its headers by', async () => {
    const json = presetJSON('dev')!
    delete (json.engine as { signer?: string }).signer
    await assert.rejects(startLightClient({ spec: parseChainSpec(json, 'unsigned'), rpcUrls: [node.rpcUrl], rpcPort: 0, log: silent, clientVersion: 'test' }), /dev chain without engine.signer: its blocks are not signed/)
  })
})

describe('a dev chain with its own signer', () => {
  test('the node signs with --validator-key-file and refuses at start a key that is not the signer\'s; a header forged with the public dev key is refused', async () => {
    const refused = await wrongKeyStart
    assert.ok(refused instanceof NodeStartError, `a node with another key does not start (got ${String(refused)})`)
    assert.match(refused.output, new RegExp(`the validator key is for ${DEV_ACCOUNTS[2].toLowerCase()}, but this dev chain's blocks must be signed by ${DEV_ACCOUNTS[1].toLowerCase()}`))

    await ownNode.rpc('hardhat_mine', ['0x3'])
    const spec = ownSpec
    const l = await light(spec, [ownNode.rpcUrl])
    await waitFor('3 headers', async () => l.client.headers.head.header.height >= 3n, { timeoutMs: 10_000 })
    assert.equal(bytesToHex(devSealSigner(l.client.headers.at(3n)!.header)), DEV_ACCOUNTS[1].toLowerCase())

    // The public dev key signs nothing valid here.
    const forger = await reSigning(ownNode.rpcUrl, 1n, DEV_SIGNER_KEY)
    const fooled = await light(spec, [forger])
    assert.equal(fooled.client.headers.head.header.height, 0n)
    assert.match(fooled.client.lies[0]!.what, new RegExp(`signed by ${DEV_ACCOUNTS[0].toLowerCase()}, not by the chain's producer ${DEV_ACCOUNTS[1].toLowerCase()}`))
  })
})
