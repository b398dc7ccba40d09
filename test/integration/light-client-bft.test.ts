/**
 * The light client on a permissioned BFT chain, against a real validator process: headers are
 * proven final by their commit certificates, the validator set comes from the permissions
 * contract's snapshot() run locally over state proven against each header, and it follows
 * the set when the admins vote it changed. viem uses the light client's RPC for a transfer and
 * its receipt. Through a proxy that forges the head's certificate (signed by a validator
 * holding too little power, or by keys never in charge), the forged head is refused, the lie
 * is reported, and an honest source beside the liar carries the client on. A --checkpoint
 * start, and MetaMask's calls for an account and a send, in its order.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import pino from 'pino'
import { createPublicClient, createWalletClient, defineChain, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { parseChainSpec } from '../../src/chain/spec/index.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { certificateFromVotes, decodeCertificate, encodeCertificate, signVote } from '../../src/consensus/bft/index.ts'
import { PERMISSIONS_ADDRESS, ProposalKind, encodePropose } from '../../src/contracts/index.ts'
import { privateKeyToAddress } from '../../src/crypto/secp256k1.ts'
import { makeCommon } from '../../src/execution/index.ts'
import { startLightClient, type RunningLightClient } from '../../src/sync/light/start.ts'
import { KEYS, addressOf } from '../helpers/chain.ts'
import { assertFails, catena } from '../helpers/cli.ts'
import { lyingProxy } from '../helpers/lying-proxy.ts'
import { lightRpc, lightTestSet } from '../helpers/light.ts'
import { makeDatadir, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { startValidator } from '../helpers/validators.ts'

type Hex = `0x${string}`
const { dirs, running, lights, servers } = lightTestSet()

// One validator (account 0, also the only admin) so one process runs the chain; its votes pass alone.
const json = presetJSON('consortium')!
json.name = 'light-bft-test'
json.engine = { type: 'bft', validators: [{ address: addressOf(0).toString(), power: 1 }], timeouts: { proposeMs: 1000, prevoteMs: 500, precommitMs: 500, deltaMs: 200, commitMs: 300 } } as typeof json.engine
json.permissions = { admins: [addressOf(0).toString()], accounts: null, nodes: null }
const spec = parseChainSpec(json)
const common = makeCommon(spec.chainId)
const silent = pino({ level: process.env.LIGHT_LOG ?? 'silent' })
const alice = privateKeyToAccount(bytesToHex(KEYS[3]!) as Hex)
const chain = defineChain({ id: Number(spec.chainId), name: 'light-bft', nativeCurrency: { name: 'C', symbol: 'C', decimals: 18 }, rpcUrls: { default: { http: ['http://127.0.0.1'] } } })
let node: NodeProcess

async function light(urls: string[], checkpoint?: Uint8Array): Promise<RunningLightClient> {
  const l = await startLightClient({ spec, rpcUrls: urls, rpcPort: 0, log: silent, clientVersion: 'test', syncEveryMs: 300, ...(checkpoint ? { checkpoint } : {}) })
  lights.push(l)
  return l
}

const rpc = lightRpc

const height = async () => BigInt(await node.rpc<Hex>('eth_blockNumber', []))

/** The admin's vote (executed at once: the only admin is a majority), sent to the node, awaited. */
async function setValidator(index: number, power: bigint): Promise<bigint> {
  const nonce = BigInt(await node.rpc<Hex>('eth_getTransactionCount', [addressOf(0).toString(), 'pending']))
  const tx = createFeeMarket1559Tx(
    { nonce, to: PERMISSIONS_ADDRESS, data: encodePropose({ kind: ProposalKind.SetValidator, account: privateKeyToAddress(KEYS[index]!), power }), gasLimit: 1_000_000n, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n, chainId: spec.chainId },
    { common },
  ).sign(KEYS[0]!)
  const hash = await node.rpc<Hex>('eth_sendRawTransaction', [bytesToHex(tx.serialize())])
  const receipt = await waitFor(`vote ${hash}`, () => node.rpc<{ status: Hex; blockNumber: Hex } | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), { timeoutMs: 60_000 })
  assert.equal(receipt.status, '0x1')
  return BigInt(receipt.blockNumber)
}

interface Status {
  head: { number: Hex }
  lies: Array<{ what: string }>
  sources: Array<{ url: string; lies: number }>
  consensus: { headValidators: Array<{ address: Hex; power: Hex }>; trustExpired: boolean; certificates: { skipping: number; sequential: number } }
}

describe('light client against a BFT validator', () => {
  before(async () => {
    const dir = await makeDatadir()
    dirs.push(dir)
    const genesisFile = join(dir, 'genesis.json')
    await writeFile(genesisFile, JSON.stringify(json))
    node = await startValidator(0, dir, [], { chain: genesisFile, running })
    await waitFor('a few blocks', async () => (await height()) >= 3n, { timeoutMs: 60_000 })
  })

  test('certified headers, proven validator sets across a vote that changes them, and viem on top', async () => {
    const l = await light([node.rpcUrl])
    assert.ok(l.client.headers.head.header.height >= 3n)
    const pub = createPublicClient({ chain, transport: http(l.url) })
    const wallet = createWalletClient({ account: alice, chain, transport: http(l.url) })
    const to = '0x000000000000000000000000000000000000beef' as const
    const hash = await wallet.sendTransaction({ to, value: parseEther('0.25') })
    assert.equal((await pub.waitForTransactionReceipt({ hash, pollingInterval: 300, timeout: 60_000 })).status, 'success')
    assert.equal(await pub.getBalance({ address: to }), parseEther('0.25'))

    // The admin votes account 0 to power 5, then account 1 in with power 1 (account 0 alone still finalizes).
    await setValidator(0, 5n)
    const changed = await setValidator(1, 1n)
    await waitFor('the light client past the change', async () => (l.client.headers.head.header.height > changed + 1n ? true : undefined), { timeoutMs: 60_000 })
    const status = (await rpc<Status>(l.url, 'catena_lightStatus', [])).result!
    assert.deepEqual(
      status.consensus.headValidators.map((v) => [v.address.toLowerCase(), v.power]).sort(),
      [[addressOf(0).toString().toLowerCase(), '0x5'], [addressOf(1).toString().toLowerCase(), '0x1']].sort(),
      'the set read from the permissions contract over proven state',
    )
    assert.deepEqual(status.lies, [])
    assert.ok(status.consensus.certificates.sequential + status.consensus.certificates.skipping > 0)
  })

  test('a forged head certificate is refused: too little power, or keys never in charge', async () => {
    // The liar stays at `at` and forges every certificate it is asked for; the seals of the
    // headers below `at` still carry the real ones, so only block `at` lacks a true certificate.
    const forge = (signers: number[], at: bigint) => (method: string, _params: unknown[], result: unknown) => {
      if (method === 'eth_blockNumber') return `0x${at.toString(16)}`
      if (method !== 'catena_getCommit' || !result) return result
      const cert = decodeCertificate(hexToBytes((result as { certificate: Hex }).certificate))
      const forged = certificateFromVotes(signers.map((i) => signVote({ type: 'precommit', height: cert.height, round: cert.round, blockHash: cert.blockHash, validator: privateKeyToAddress(KEYS[i]!) }, KEYS[i]!, spec.chainId)))
      return { ...(result as object), certificate: bytesToHex(encodeCertificate(forged)) }
    }
    for (const [signers, pattern] of [[[1], /carries 1 of 6 voting power/], [[6, 7, 8], /is not a validator at height/]] as const) {
      const at = await height()
      const liar = await lyingProxy(node.rpcUrl, forge([...signers], at), servers)
      const fooled = await light([liar])
      const status = (await rpc<Status>(fooled.url, 'catena_lightStatus', [])).result!
      assert.equal(BigInt(status.head.number), at - 1n, `the head ${at} with the forged certificate is not taken`)
      assert.ok(status.lies.some((x) => pattern.test(x.what)), `the lie is named: ${JSON.stringify(status.lies)}`)
      const both = await light([liar, node.rpcUrl])
      assert.ok(both.client.headers.head.header.height >= at, 'the honest source carries it on')
    }
  })

  test('from a --checkpoint: it follows from that block, skipping from the start; a hash nobody has is refused', async () => {
    const cp = await node.rpc<{ hash: Hex; number: Hex }>('eth_getBlockByNumber', ['0x5', false])
    await waitFor('a few blocks past the checkpoint', async () => ((await height()) >= 8n ? true : undefined), { timeoutMs: 60_000 })
    const before = await height()
    const l = await light([node.rpcUrl], hexToBytes(cp.hash))
    const status = (await rpc<Status & { checkpoint: { number: Hex; hash: Hex } }>(l.url, 'catena_lightStatus', [])).result!
    assert.deepEqual(status.checkpoint, { number: '0x5', hash: cp.hash })
    assert.ok(BigInt(status.head.number) >= before, `synced to the head it saw at start (${before})`)
    assert.equal(status.consensus.trustExpired, false, 'a recent checkpoint is within the trust period')
    assert.ok(status.consensus.certificates.skipping > 0, `skipping from the checkpoint: ${JSON.stringify(status.consensus.certificates)}`)
    assert.equal(l.client.headers.at(4n), undefined, 'nothing below the checkpoint is kept')
    // Its balance answers are proven like any other.
    const at = { blockHash: bytesToHex(l.client.headers.head.hash) }
    assert.equal((await rpc<Hex>(l.url, 'eth_getBalance', [alice.address, at])).result, await node.rpc<Hex>('eth_getBalance', [alice.address, at]))
    await assert.rejects(light([node.rpcUrl], new Uint8Array(32).fill(0xab)), /checkpoint 0xabab.* could not be fetched/)
    assertFails(await catena(['light', '--chain', 'dev', '--rpc', node.rpcUrl, '--checkpoint', '0x1234']), /must be a 0x-prefixed 32-byte block hash/)
  })

  test("MetaMask's calls for showing an account and sending ETH, in its order, all answered and verified", async () => {
    const l = await light([node.rpcUrl])
    const from = alice.address
    const to = '0x000000000000000000000000000000000000cafe'
    const call = async <T,>(method: string, params: unknown[]): Promise<T> => {
      const r = await rpc<T>(l.url, method, params)
      assert.equal(r.error, undefined, `${method}: ${r.error?.message}`)
      return r.result as T
    }
    // Network and account (MetaMask's network controller and account tracker).
    assert.equal(await call('eth_chainId', []), await node.rpc('eth_chainId', []))
    assert.equal(await call('net_version', []), await node.rpc('net_version', []))
    assert.match(await call<string>('web3_clientVersion', []), /\w/)
    const latest = await call<{ hash: Hex; number: Hex; baseFeePerGas?: Hex }>('eth_getBlockByNumber', ['latest', false])
    assert.ok(latest.baseFeePerGas !== undefined, 'EIP-1559 detected from the latest block')
    const same = await node.rpc<Record<string, unknown>>('eth_getBlockByHash', [latest.hash, false])
    for (const field of ['number', 'parentHash', 'stateRoot', 'transactionsRoot', 'receiptsRoot', 'baseFeePerGas', 'timestamp', 'miner']) {
      assert.deepEqual((latest as Record<string, unknown>)[field], same[field], `the light block's ${field} is the node's`)
    }
    assert.ok(BigInt(await call<Hex>('eth_blockNumber', [])) >= BigInt(latest.number))
    const at = { blockHash: latest.hash }
    assert.equal(await call('eth_getBalance', [from, at]), await node.rpc('eth_getBalance', [from, at]))
    // The send: code at the recipient (a plain transfer or a contract call), nonce, gas and fees.
    assert.equal(await call('eth_getCode', [to, 'latest']), '0x')
    const nonce = BigInt(await call<Hex>('eth_getTransactionCount', [from, 'pending']))
    assert.equal(nonce, BigInt(await node.rpc<Hex>('eth_getTransactionCount', [from, 'latest'])))
    const gas = BigInt(await call<Hex>('eth_estimateGas', [{ from, to, value: '0x1' }]))
    assert.equal(gas, 21_000n)
    const fees = await call<{ baseFeePerGas: Hex[]; reward: Hex[][] }>('eth_feeHistory', ['0x5', 'latest', [10, 20, 30]])
    assert.equal(fees.reward.length, fees.baseFeePerGas.length - 1)
    await call<Hex>('eth_gasPrice', [])
    await call<Hex>('eth_maxPriorityFeePerGas', [])
    const signed = await alice.signTransaction({ type: 'eip1559', chainId: Number(spec.chainId), nonce: Number(nonce), to, value: 1n, gas, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n })
    const hash = await call<Hex>('eth_sendRawTransaction', [signed])
    // MetaMask polls for the receipt, then shows the tx and its block.
    const receipt = await waitFor('the receipt through the light client', () => call<{ blockHash: Hex; status: Hex } | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), { timeoutMs: 60_000 })
    assert.equal(receipt.status, '0x1')
    assert.equal((await call<{ hash: Hex }>('eth_getTransactionByHash', [hash])).hash, hash)
    assert.equal((await call<{ hash: Hex }>('eth_getBlockByHash', [receipt.blockHash, false])).hash, receipt.blockHash)
    assert.equal(await call('eth_getBalance', [to, 'latest']), '0x1')
  })
})
