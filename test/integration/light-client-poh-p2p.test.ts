/**
 * The light client on a PoH chain over libp2p: one real validator (100 ms slots), a JSON-RPC
 * source that serves no header, and the validator's libp2p peer as bootnode. Every header the
 * client confirms came by headersByRange; the votes in later seals confirm them as they do
 * for headers fetched by JSON-RPC, and the stake snapshot is still read over proven state.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import pino from 'pino'
import { parseChainSpec } from '../../src/chain/spec/index.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { startLightClient } from '../../src/sync/light/start.ts'
import { lyingProxy } from '../helpers/lying-proxy.ts'
import { lightTestSet } from '../helpers/light.ts'
import { makeDatadir, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { startValidator, withLogs } from '../helpers/validators.ts'

type Hex = `0x${string}`
const { dirs, running, lights, servers } = lightTestSet()

const json = presetJSON('solana-like')! as unknown as { name: string; blockTimeMs: number; engine: Record<string, unknown> & { validators: unknown[] } }
json.name = 'light-poh-p2p-test'
json.engine.validators = json.engine.validators.slice(0, 1)
Object.assign(json.engine, { ticksPerSlot: 16, slotsPerEpoch: 32 })
json.blockTimeMs = 100
const spec = parseChainSpec(json as unknown as Parameters<typeof parseChainSpec>[0])
const silent = pino({ level: process.env.LIGHT_LOG ?? 'silent' })
let node: NodeProcess

interface Status {
  head: { number: Hex }
  lies: unknown[]
  sources: Array<{ url: string }>
  consensus: { engine: string; confirmedSlot: number; stakeReads: number; headersChecked: number }
}

describe('light client over libp2p against a PoH validator', () => {
  before(async () => {
    const dir = await makeDatadir()
    dirs.push(dir)
    const genesisFile = join(dir, 'genesis.json')
    await writeFile(genesisFile, JSON.stringify(json))
    node = await startValidator(0, dir, [], { chain: genesisFile, running })
    await waitFor('a few slots', async () => BigInt(await node.rpc<Hex>('eth_blockNumber', [])) >= 3n, { timeoutMs: 60_000 }).catch(withLogs([node]))
  })

  test('confirmed headers over libp2p only, across epochs', async () => {
    const noHeaders = await lyingProxy(node.rpcUrl, (m, _p, r) => (m === 'catena_getHeader' ? null : r), servers)
    const alone = await startLightClient({ spec, rpcUrls: [noHeaders], rpcPort: 0, log: silent, clientVersion: 'test' })
    lights.push(alone)
    assert.equal(alone.client.headers.head.header.height, 0n, 'the proxy serves no header')
    const l = await startLightClient({ spec, rpcUrls: [noHeaders], bootnodes: [node.info.p2p![0]!], rpcPort: 0, log: silent, clientVersion: 'test', syncEveryMs: 300 })
    lights.push(l)
    const status = async () => {
      const res = await fetch(l.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'catena_lightStatus', params: [] }) })
      return ((await res.json()) as { result: Status }).result
    }
    // Epoch 3 (slot 96 on) is led by the schedule drawn from stakes read over proven state.
    await waitFor('the light client in epoch 3', async () => ((await status()).consensus.confirmedSlot >= 100 ? true : undefined), { timeoutMs: 45_000 }).catch(withLogs([node]))
    const s = await status()
    assert.equal(s.consensus.engine, 'poh')
    assert.ok(s.consensus.stakeReads >= 1, JSON.stringify(s.consensus))
    assert.deepEqual(s.sources.map((x) => x.url), [noHeaders, `p2p:${node.info.peerId}`])
    assert.deepEqual(s.lies, [])
    const head = l.client.headers.head
    assert.equal(bytesToHex(head.hash), (await node.rpc<{ hash: Hex }>('eth_getBlockByNumber', [`0x${head.header.height.toString(16)}`, false])).hash)
  })
})
