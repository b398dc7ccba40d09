/**
 * The light client following a real PoW full node over libp2p (`--bootnodes`): its JSON-RPC
 * source is a proxy that serves no header at all, so every header it verifies came by
 * headersByRange from the node's libp2p peer. The node keeps it as a peer at the genesis,
 * with no penalty. A hostile in-process peer (a real libp2p host of the same chain) that
 * serves a header with a bad proof of work is reported as a liar and the honest peer carries
 * the client on; one that answers with bytes that do not decode is reported and, after a few,
 * banned by the light client's network.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import pino from 'pino'
import { decodeHeader, encodeHeader } from '../../src/chain/block.ts'
import { parseChainSpec } from '../../src/chain/spec/index.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { decodePowSeal, encodePowSeal } from '../../src/consensus/pow/seal.ts'
import { targetToCompact } from '../../src/consensus/pow/target.ts'
import { createNetwork, type Network } from '../../src/net/index.ts'
import { startLightClient, type RunningLightClient } from '../../src/sync/light/start.ts'
import { decodeRangeRequest, encodeHeaderList, MAX_HEADERS } from '../../src/sync/wire.ts'
import { addressOf } from '../helpers/chain.ts'
import { lyingProxy } from '../helpers/lying-proxy.ts'
import { lightRpc, lightTestSet } from '../helpers/light.ts'
import { makeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'

type Hex = `0x${string}`
const { dirs, running, lights, servers, stoppers } = lightTestSet()

const silent = pino({ level: process.env.LIGHT_LOG ?? 'silent' })
const json = presetJSON('bitcoin-like')!
json.name = 'light-p2p-test'
json.engine = { type: 'pow', initialBits: targetToCompact((1n << 256n) / 100_000n), powLimitBits: targetToCompact((1n << 256n) / 1000n), retarget: { kind: 'bitcoin', interval: 100_000 }, coinbaseMaturity: 100, maxReorgDepth: 1000 } as typeof json.engine
json.blockTimeMs = 1000
const spec = parseChainSpec(json)
let node: NodeProcess
/** The node's JSON-RPC with every header answer taken out: headers can only come over libp2p. */
let noHeaders: string

async function light(bootnodes: string[]): Promise<RunningLightClient> {
  const l = await startLightClient({ spec, rpcUrls: [noHeaders], bootnodes, rpcPort: 0, log: silent, clientVersion: 'test', syncEveryMs: 300 })
  lights.push(l)
  return l
}

const rpc = lightRpc

const nodeHeight = async () => BigInt(await node.rpc<Hex>('eth_blockNumber', []))

/**
 * A peer of the same chain in this process (a real libp2p host): it claims the node's head and
 * answers headersByRange with the node's headers passed through `answer`.
 */
async function hostilePeer(answer: (headers: Uint8Array[]) => Uint8Array): Promise<Network> {
  const dir = await makeDatadir()
  dirs.push(dir)
  const head = await node.rpc<{ hash: Hex; number: Hex }>('eth_getBlockByNumber', ['latest', false])
  const net = await createNetwork({
    datadir: dir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootnodes: [],
    chainId: spec.chainId,
    genesisHash: hexToBytes(node.info.genesisHash as Hex),
    head: () => ({ height: BigInt(head.number), hash: hexToBytes(head.hash) }),
    logger: silent,
  })
  await net.handle('headersByRange', async (req) => {
    const { from, count } = decodeRangeRequest(req, MAX_HEADERS)
    const headers: Uint8Array[] = []
    for (let h = from; h < from + BigInt(count) && h <= BigInt(head.number); h++) headers.push(hexToBytes(await node.rpc<Hex>('catena_getHeader', [`0x${h.toString(16)}`])))
    return answer(headers)
  })
  await net.start()
  stoppers.push(() => net.stop())
  return net
}

describe('light client over libp2p against a PoW full node', () => {
  before(async () => {
    const dir = await makeDatadir()
    dirs.push(dir)
    const genesisFile = join(dir, 'genesis.json')
    await writeFile(genesisFile, JSON.stringify(json))
    node = await startNode({ datadir: dir, chain: genesisFile, args: ['--mine', '--miner-threads', '1', '--coinbase', '0x00000000000000000000000000000000000000aa', '--p2p-port', '0'] })
    running.add(node)
    noHeaders = await lyingProxy(node.rpcUrl, (m, _p, r) => (m === 'catena_getHeader' || m === 'catena_getCommit' ? null : r), servers)
    await waitFor('a few blocks', async () => (await nodeHeight()) >= 3n, { timeoutMs: 60_000 })
  })

  test('headers arrive over libp2p only, follow the node, and prove the RPC answers; the node keeps the light peer unpenalized', async () => {
    const alone = await light([])
    assert.equal(alone.client.headers.head.header.height, 0n, 'the proxy serves no header')

    const l = await light([node.info.p2p![0]!])
    const first = l.client.headers.head.header.height
    assert.ok(first >= 3n, `synced over libp2p at start (head ${first})`)
    await waitFor('the light head to follow the node', async () => (l.client.headers.head.header.height >= first + 2n ? true : undefined), { timeoutMs: 30_000 })
    const head = l.client.headers.head
    const honest = await node.rpc<{ hash: Hex }>('eth_getBlockByNumber', [`0x${head.header.height.toString(16)}`, false])
    assert.equal(bytesToHex(head.hash), honest.hash, 'the node’s own block')

    const status = (await rpc<{ sources: Array<{ url: string; lies: number }>; lies: unknown[] }>(l.url, 'catena_lightStatus', [])).result!
    assert.deepEqual(
      status.sources.map((s) => s.url),
      [noHeaders, `p2p:${node.info.peerId}`],
      'the RPC source and the node’s libp2p peer',
    )
    assert.deepEqual(status.lies, [])
    // A state answer: proven by the RPC source against a header that came over libp2p.
    const balance = await rpc<Hex>(l.url, 'eth_getBalance', [addressOf(3).toString(), 'latest'])
    assert.equal(balance.result, await node.rpc<Hex>('eth_getBalance', [addressOf(3).toString(), { blockHash: bytesToHex(l.client.headers.head.hash) }]))

    const peers = (await (await fetch(`${node.rpcUrl}/v1/peers`)).json()) as { items: Array<{ id: string; height: number; penalty: number }>; banned: unknown[] }
    assert.equal(peers.items.length, 1, JSON.stringify(peers))
    assert.equal(peers.items[0]!.height, 0, 'the light peer tells the genesis as its head')
    assert.equal(peers.items[0]!.penalty, 0)
    assert.deepEqual(peers.banned, [])
  })

  test('a header with a bad proof of work over libp2p is refused and its peer reported; the honest peer carries the client on', async () => {
    const liar = await hostilePeer((headers) =>
      encodeHeaderList(
        headers.map((raw) => {
          const h = decodeHeader(raw)
          if (h.height !== 2n) return raw
          const seal = decodePowSeal(h.seal)
          return encodeHeader({ ...h, seal: encodePowSeal({ ...seal, nonce: seal.nonce + 1n }) })
        }),
      ),
    )
    const fooled = await light([liar.multiaddrs()[0]!])
    assert.equal(fooled.client.headers.head.header.height, 1n, 'it stops at the last good header')
    assert.equal(fooled.client.lies[0]!.source, `p2p:${liar.peerId}`)
    assert.match(fooled.client.lies[0]!.what, /invalid header/)

    const target = await nodeHeight()
    const both = await light([liar.multiaddrs()[0]!, node.info.p2p![0]!])
    await waitFor('the honest peer to carry it on', async () => (both.client.headers.head.header.height >= target ? true : undefined), { timeoutMs: 30_000 })
    // (The liar is caught only when it is asked before the honest peer: its lie is at height 2.)
    const at = both.client.headers.head
    assert.equal(bytesToHex(at.hash), (await node.rpc<{ hash: Hex }>('eth_getBlockByNumber', [`0x${at.header.height.toString(16)}`, false])).hash)
    assert.ok(!both.client.lies.some((x) => x.source === `p2p:${node.info.peerId}`), JSON.stringify(both.client.lies))
  })

  test('an answer that does not decode is reported, and a peer that keeps sending them is banned', async () => {
    const garbage = await hostilePeer(() => Uint8Array.of(0xff, 0x01, 0x02))
    const l = await light([garbage.multiaddrs()[0]!])
    assert.match(l.client.lies[0]?.what ?? '', /does not decode/)
    assert.equal(l.client.lies[0]!.source, `p2p:${garbage.peerId}`)
    // 25 points a malformed answer, banned at 100: the fourth round hangs up on it.
    await waitFor('the garbage peer banned and gone', async () => (garbage.peers().length === 0 && l.client.headerSources.length === 1 ? true : undefined), { timeoutMs: 30_000 })
    assert.ok(l.client.lies.length >= 4)
  })
})
