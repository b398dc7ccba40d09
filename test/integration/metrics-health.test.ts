/**
 * The operations endpoints of real node processes: /metrics agrees with the JSON-RPC (height,
 * txs included, RPC methods, mempool rejections), /health/live answers, and /health/ready is
 * 200 on a lone dev node but 503 ("peered") on a node whose bootnode does not exist.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS } from '../helpers/chain.ts'
import { RpcCallError, makeDatadir, removeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { parseExposition, samplesOf, valueOf, type Exposition } from '../helpers/prometheus.ts'

type Hex = `0x${string}`
const common = makeCommon(1337n)
const nodes: NodeProcess[] = []
const dirs: string[] = []

after(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => n.kill())))
  await Promise.all(dirs.map(removeDatadir))
})

async function start(args: string[] = []): Promise<NodeProcess> {
  const datadir = await makeDatadir()
  dirs.push(datadir)
  const node = await startNode({ datadir, args })
  nodes.push(node)
  return node
}

async function get(node: NodeProcess, path: string): Promise<{ status: number; contentType: string; text: string }> {
  const res = await fetch(`${node.rpcUrl}${path}`, { signal: AbortSignal.timeout(10_000) })
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() }
}

async function scrape(node: NodeProcess): Promise<Exposition> {
  const res = await get(node, '/metrics')
  assert.equal(res.status, 200)
  assert.match(res.contentType, /^text\/plain/)
  return parseExposition(res.text)
}

function transfer(nonce: bigint): Hex {
  const tx = createFeeMarket1559Tx(
    { nonce, to: '0x000000000000000000000000000000000000beef', value: 1000n, gasLimit: 21000n, maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 10n ** 9n, chainId: 1337n },
    { common },
  )
  return bytesToHex(tx.sign(KEYS[5]).serialize()) as Hex
}

describe('operations endpoints', () => {
  test('a dev node: /metrics follows the chain and the RPC; live and ready answer 200', async () => {
    const node = await start()
    const before = await scrape(node)
    const txsBefore = valueOf(before, 'catena_txs_included_total')

    // Automine: each call answers once its tx is in a block.
    for (let nonce = 0n; nonce < 3n; nonce++) await node.rpc('eth_sendRawTransaction', [transfer(nonce)])
    await assert.rejects(node.rpc('eth_sendRawTransaction', [transfer(0n)]), (err: unknown) => err instanceof RpcCallError && /nonce too low/.test(err.message))

    const height = Number(BigInt(await node.rpc<Hex>('eth_blockNumber')))
    const after = await scrape(node)
    assert.ok(height >= 1)
    assert.equal(valueOf(after, 'catena_chain_height'), height)
    assert.equal(valueOf(after, 'catena_finalized_height'), height)
    assert.equal(valueOf(after, 'catena_txs_included_total') - txsBefore, 3)
    assert.equal(valueOf(after, 'catena_blocks_imported_total'), height)
    assert.equal(valueOf(after, 'catena_mempool_pending'), 0)
    assert.equal(valueOf(after, 'catena_peers'), 0)
    assert.equal(valueOf(after, 'catena_rpc_request_seconds_count', { method: 'eth_sendRawTransaction' }), 4)
    assert.equal(valueOf(after, 'catena_rpc_requests_total', { method: 'eth_sendRawTransaction', ok: 'true' }), 3)
    assert.equal(valueOf(after, 'catena_rpc_requests_total', { method: 'eth_sendRawTransaction', ok: 'false' }), 1)
    assert.equal(valueOf(after, 'catena_mempool_rejected_total', { reason: 'nonce_too_low' }), 1)
    assert.ok(valueOf(after, 'catena_block_import_seconds_count', { step: 'commit' }) >= height)
    assert.ok(samplesOf(after, 'catena_process_resident_memory_bytes').length === 1, 'process metrics are served')

    const live = await get(node, '/health/live')
    assert.equal(live.status, 200)
    assert.deepEqual(JSON.parse(live.text), { status: 'ok' })
    const ready = await get(node, '/health/ready')
    assert.equal(ready.status, 200, ready.text)
    assert.equal(JSON.parse(ready.text).status, 'ready')
  })

  test('a node with p2p and a bootnode that does not exist is live but not ready: "peered"', async () => {
    const missing = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    // Port 1 on loopback: nothing listens there, every dial is refused.
    const node = await start(['--p2p-port', '0', '--bootnodes', `/ip4/127.0.0.1/tcp/1/p2p/${missing}`])
    assert.equal((await get(node, '/health/live')).status, 200)
    const ready = await get(node, '/health/ready')
    assert.equal(ready.status, 503, ready.text)
    const body = JSON.parse(ready.text)
    assert.equal(body.status, 'not-ready')
    assert.deepEqual(body.reasons, ['peered'])
    assert.equal(body.checks.peered.ok, false)
    assert.equal(body.peers, 0)
    // It stays that way (the dialer keeps failing), and the metrics agree.
    await waitFor('a second readiness probe', async () => (await get(node, '/health/ready')).status === 503)
    assert.equal(valueOf(await scrape(node), 'catena_peers'), 0)
  })
})
