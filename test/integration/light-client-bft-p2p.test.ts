/**
 * The light client on a BFT chain over libp2p: its JSON-RPC source (a proxy of a real
 * validator) serves neither headers nor commit certificates, so each header comes by
 * headersByRange from the validator's libp2p peer and each certificate a batch ends on comes
 * with its block (blocksByRange's envelope: header, body, proof); the validator set is still
 * read over state proven by the RPC source. A peer in this process (a real libp2p host of the
 * chain) that serves the true headers but a forged certificate for its head is refused there
 * and reported, and the head stops below it.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { RLP } from '@ethereumjs/rlp'
import pino from 'pino'
import { encodeBody } from '../../src/chain/block.ts'
import { parseChainSpec } from '../../src/chain/spec/index.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { certificateFromVotes, decodeCertificate, encodeCertificate, signVote } from '../../src/consensus/bft/index.ts'
import { privateKeyToAddress } from '../../src/crypto/secp256k1.ts'
import { createNetwork, type Network } from '../../src/net/index.ts'
import { startLightClient, type RunningLightClient } from '../../src/sync/light/start.ts'
import { decodeRangeRequest, encodeBlockList, encodeHeaderList, MAX_HEADERS } from '../../src/sync/wire.ts'
import { KEYS, addressOf } from '../helpers/chain.ts'
import { lyingProxy } from '../helpers/lying-proxy.ts'
import { lightTestSet } from '../helpers/light.ts'
import { makeDatadir, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { startValidator } from '../helpers/validators.ts'

type Hex = `0x${string}`
const { dirs, running, lights, servers, stoppers } = lightTestSet()

// One validator (account 0) so one process runs the chain.
const json = presetJSON('consortium')!
json.name = 'light-bft-p2p-test'
json.engine = { type: 'bft', validators: [{ address: addressOf(0).toString(), power: 1 }], timeouts: { proposeMs: 1000, prevoteMs: 500, precommitMs: 500, deltaMs: 200, commitMs: 300 } } as typeof json.engine
json.permissions = { admins: [addressOf(0).toString()], accounts: null, nodes: null }
const spec = parseChainSpec(json)
const silent = pino({ level: process.env.LIGHT_LOG ?? 'silent' })
let node: NodeProcess
let noHeaders: string

interface Status {
  head: { number: Hex }
  lies: Array<{ source: string; what: string }>
  sources: Array<{ url: string; lies: number }>
  consensus: { certificates: { skipping: number; sequential: number } }
}

async function light(bootnodes: string[]): Promise<RunningLightClient> {
  const l = await startLightClient({ spec, rpcUrls: [noHeaders], bootnodes, rpcPort: 0, log: silent, clientVersion: 'test', syncEveryMs: 300 })
  lights.push(l)
  return l
}

async function status(l: RunningLightClient): Promise<Status> {
  const res = await fetch(l.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'catena_lightStatus', params: [] }) })
  return ((await res.json()) as { result: Status }).result
}

const height = async () => BigInt(await node.rpc<Hex>('eth_blockNumber', []))
const quantity = (n: bigint) => `0x${n.toString(16)}`

/**
 * A peer of the chain that claims block `at` as its head and serves the validator's true
 * headers up to it, and each block envelope with a certificate signed by keys never in charge.
 */
async function forgingPeer(at: bigint): Promise<Network> {
  const dir = await makeDatadir()
  dirs.push(dir)
  const head = await node.rpc<{ hash: Hex }>('eth_getBlockByNumber', [quantity(at), false])
  const net = await createNetwork({ datadir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], bootnodes: [], chainId: spec.chainId, genesisHash: hexToBytes(node.info.genesisHash as Hex), head: () => ({ height: at, hash: hexToBytes(head.hash) }), logger: silent })
  await net.handle('headersByRange', async (req) => {
    const { from, count } = decodeRangeRequest(req, MAX_HEADERS)
    const out: Uint8Array[] = []
    for (let h = from; h < from + BigInt(count) && h <= at; h++) out.push(hexToBytes(await node.rpc<Hex>('catena_getHeader', [quantity(h)])))
    return encodeHeaderList(out)
  })
  await net.handle('blocksByRange', async (req) => {
    const { from } = decodeRangeRequest(req)
    if (from > at) return encodeBlockList([])
    const header = hexToBytes(await node.rpc<Hex>('catena_getHeader', [quantity(from)]))
    const cert = decodeCertificate(hexToBytes((await node.rpc<{ certificate: Hex }>('catena_getCommit', [quantity(from)])).certificate))
    const forged = certificateFromVotes([6, 7, 8].map((i) => signVote({ type: 'precommit', height: cert.height, round: cert.round, blockHash: cert.blockHash, validator: privateKeyToAddress(KEYS[i]!) }, KEYS[i]!, spec.chainId)))
    return encodeBlockList([RLP.encode([header, encodeBody([]), encodeCertificate(forged)])])
  })
  await net.start()
  stoppers.push(() => net.stop())
  return net
}

describe('light client over libp2p against a BFT validator', () => {
  before(async () => {
    const dir = await makeDatadir()
    dirs.push(dir)
    const genesisFile = join(dir, 'genesis.json')
    await writeFile(genesisFile, JSON.stringify(json))
    node = await startValidator(0, dir, [], { chain: genesisFile, running })
    noHeaders = await lyingProxy(node.rpcUrl, (m, _p, r) => (m === 'catena_getHeader' || m === 'catena_getCommit' ? null : r), servers)
    await waitFor('a few blocks', async () => (await height()) >= 3n, { timeoutMs: 60_000 })
  })

  test('certified headers over libp2p: headers by range, each batch’s last certificate with its block', async () => {
    const alone = await light([])
    assert.equal(alone.client.headers.head.header.height, 0n, 'the proxy serves no header')

    const l = await light([node.info.p2p![0]!])
    const first = l.client.headers.head.header.height
    assert.ok(first >= 3n, `synced over libp2p at start (head ${first})`)
    await waitFor('the light head to follow the validator', async () => (l.client.headers.head.header.height >= first + 2n ? true : undefined), { timeoutMs: 30_000 })
    const head = l.client.headers.head
    assert.equal(bytesToHex(head.hash), (await node.rpc<{ hash: Hex }>('eth_getBlockByNumber', [quantity(head.header.height), false])).hash)
    const s = await status(l)
    assert.deepEqual(s.sources.map((x) => x.url), [noHeaders, `p2p:${node.info.peerId}`])
    assert.deepEqual(s.lies, [])
    assert.ok(s.consensus.certificates.sequential + s.consensus.certificates.skipping > 0)
  })

  test('a forged certificate over libp2p is refused and its peer reported; the head stops below it', async () => {
    const at = await height()
    const liar = await forgingPeer(at)
    const fooled = await light([liar.multiaddrs()[0]!])
    const s = await status(fooled)
    assert.equal(BigInt(s.head.number), at - 1n, `the head ${at} with the forged certificate is not taken`)
    assert.ok(s.lies.some((x) => x.source === `p2p:${liar.peerId}` && /is not a validator at height/.test(x.what)), JSON.stringify(s.lies))
  })
})
