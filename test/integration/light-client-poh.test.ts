/**
 * The light client on a solana-like (PoH) chain, against a real validator process (one
 * validator: it leads every slot and its vote alone confirms; 100 ms slots, 32-slot epochs so
 * the chain reaches epoch 3, whose leader schedule comes from stakes read in epoch 1, within
 * seconds). Headers are checked by the engine's rules and served once the votes carried in
 * later seals confirm them; the stake snapshot is a local call over state proven against the
 * header of the block where the node reads it; `finalized` is what the votes rooted. viem
 * reads a transfer's receipt through the light client. Through a proxy that breaks the
 * leader's signature of the blocks above some height, those headers are refused, the lie is
 * named, and an honest source beside the liar carries the client on.
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
import { parseChainSpec } from '../../src/chain/spec/index.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { decodePohSeal, encodePohSeal } from '../../src/consensus/poh-engine/seal.ts'
import { startLightClient, type RunningLightClient } from '../../src/sync/light/start.ts'
import { KEYS } from '../helpers/chain.ts'
import { lyingProxy } from '../helpers/lying-proxy.ts'
import { lightTestSet } from '../helpers/light.ts'
import { makeDatadir, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { startValidator, withLogs } from '../helpers/validators.ts'

type Hex = `0x${string}`
const { dirs, running, lights, servers } = lightTestSet()

const json = presetJSON('solana-like')! as unknown as { name: string; blockTimeMs: number; engine: Record<string, unknown> & { validators: unknown[] } }
json.name = 'light-poh-test'
json.engine.validators = json.engine.validators.slice(0, 1)
Object.assign(json.engine, { ticksPerSlot: 16, slotsPerEpoch: 32 }) // 16 ticks of 6.25 ms: 100 ms slots
json.blockTimeMs = 100
const spec = parseChainSpec(json as unknown as Parameters<typeof parseChainSpec>[0])
const silent = pino({ level: process.env.LIGHT_LOG ?? 'silent' })
const alice = privateKeyToAccount(bytesToHex(KEYS[3]!) as Hex)
const chain = defineChain({ id: Number(spec.chainId), name: 'light-poh', nativeCurrency: { name: 'C', symbol: 'C', decimals: 18 }, rpcUrls: { default: { http: ['http://127.0.0.1'] } } })
let node: NodeProcess

async function light(urls: string[], pohRehash = false): Promise<RunningLightClient> {
  const l = await startLightClient({ spec, rpcUrls: urls, rpcPort: 0, log: silent, clientVersion: 'test', syncEveryMs: 300, pohRehash })
  lights.push(l)
  return l
}

async function stopLight(l: RunningLightClient): Promise<void> {
  lights.splice(lights.indexOf(l), 1)
  await l.stop()
}

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

interface Status {
  head: { number: Hex; hash: Hex }
  lies: Array<{ source: string; what: string }>
  consensus: { engine: string; confirmedSlot: number; confirmedHeight: number; rootedHeight: number; stakeReads: number; headersChecked: number; slotsRehashed: number }
}

const slotAt = async (n: bigint) => Number((await rpc<{ slot: number }>(node.rpcUrl, 'catena_getBlockPoh', [Number(n)])).slot)

describe('light client against a PoH validator', () => {
  before(async () => {
    const dir = await makeDatadir()
    dirs.push(dir)
    const genesisFile = join(dir, 'genesis.json')
    await writeFile(genesisFile, JSON.stringify(json))
    node = await startValidator(0, dir, [], { chain: genesisFile, running })
    await waitFor('a few slots', async () => BigInt(await node.rpc<Hex>('eth_blockNumber', [])) >= 3n, { timeoutMs: 60_000 }).catch(withLogs([node]))
  })

  test('confirmed headers across epochs (stakes read over proven state), finality tags, and viem on top', async () => {
    const l = await light([node.rpcUrl])
    // Beside it, one that also re-hashes every slot's PoH from the proven bodies.
    const rehashing = await light([node.rpcUrl], true)
    const pub = createPublicClient({ chain, transport: http(l.url) })
    const wallet = createWalletClient({ account: alice, chain, transport: http(l.url) })
    const to = '0x000000000000000000000000000000000000beef' as const
    const hash = await wallet.sendTransaction({ to, value: parseEther('0.25') })
    const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 300, timeout: 60_000 })
    assert.equal(receipt.status, 'success')
    assert.equal(await pub.getBalance({ address: to }), parseEther('0.25'))
    // Epoch 3 (slot 96 on) is led by the schedule drawn from the stakes read after epoch 1's first block.
    // A root takes 32 votes stacked on it: wait for one too.
    const there = async () => {
      const c = (await rpc<Status>(l.url, 'catena_lightStatus', [])).consensus
      return c.confirmedSlot >= 100 && c.rootedHeight > 0 ? true : undefined
    }
    await waitFor('the light client in epoch 3, past a rooted block', there, { timeoutMs: 45_000 }).catch(withLogs([node]))
    const status = await rpc<Status>(l.url, 'catena_lightStatus', [])
    assert.equal(status.consensus.engine, 'poh')
    assert.ok(status.consensus.stakeReads >= 1, `a stake snapshot was read over proven state: ${JSON.stringify(status.consensus)}`)
    assert.deepEqual(status.lies, [])
    // The served head is the node's block at that height, and a confirmed one: the node's `safe` is at or past it.
    const head = BigInt(status.head.number)
    assert.equal(status.head.hash, (await rpc<{ hash: Hex }>(node.rpcUrl, 'eth_getBlockByNumber', [status.head.number, false])).hash)
    assert.equal(await slotAt(head), status.consensus.confirmedSlot)
    const nodeSafe = BigInt((await rpc<{ number: Hex }>(node.rpcUrl, 'eth_getBlockByNumber', ['safe', false])).number)
    assert.ok(nodeSafe >= head - 2n, `the node's safe block ${nodeSafe} is about the light head ${head} (it also counts gossiped votes)`)
    // Tags: latest = safe (confirmed); finalized = rooted, below it (a root takes 32 votes).
    const tag = async (t: string) => BigInt((await rpc<{ number: Hex }>(l.url, 'eth_getBlockByNumber', [t, false])).number)
    // (The client keeps following meanwhile: safe is read between two reads of latest.)
    const [latest, safe, latestAgain, finalized] = [await tag('latest'), await tag('safe'), await tag('latest'), await tag('finalized')]
    assert.ok(latest <= safe && safe <= latestAgain, `safe ${safe} is the head (${latest}..${latestAgain})`)
    assert.ok(finalized > 0n && finalized < safe, `finalized ${finalized} is a rooted block below the head ${safe}`)
    // The re-hashing client checked every slot's hashes, the transfer's (a tx entry) among them.
    const r = (await rpc<Status>(rehashing.url, 'catena_lightStatus', [])).consensus
    assert.ok(r.confirmedHeight >= Number(receipt.blockNumber), `the re-hashing client is past the transfer's block: ${JSON.stringify(r)}`)
    assert.equal(r.slotsRehashed, r.headersChecked)
    await stopLight(rehashing)
    await stopLight(l)
  })

  test('headers whose leader signature was broken are refused and the lie is named', async () => {
    const at = BigInt(await node.rpc<Hex>('eth_blockNumber', []))
    // The liar breaks the signature of every header above `at`.
    const liar = await lyingProxy(
      node.rpcUrl,
      (method, _params, result) => {
        if (method !== 'catena_getHeader' || typeof result !== 'string') return result
        const header = decodeHeader(hexToBytes(result as Hex))
        if (header.height <= at) return result
        const seal = decodePohSeal(header.seal)
        return bytesToHex(encodeHeader({ ...header, seal: encodePohSeal({ ...seal, signature: Uint8Array.from(seal.signature, (b, i) => (i === 5 ? b ^ 1 : b)) }) }))
      },
      servers,
    )
    const fooled = await light([liar])
    await waitFor('the lie', async () => ((await rpc<Status>(fooled.url, 'catena_lightStatus', [])).lies.length > 0 ? true : undefined), { timeoutMs: 20_000 })
    const status = await rpc<Status>(fooled.url, 'catena_lightStatus', [])
    assert.ok(BigInt(status.head.number) < at, `no header above ${at} is served (head ${status.head.number})`)
    assert.ok(status.lies.some((x) => /signed by|signature/.test(x.what)), `the lie is named: ${JSON.stringify(status.lies)}`)
    await stopLight(fooled)
    const both = await light([liar, node.rpcUrl])
    await waitFor('the honest source carries it on', async () => (both.client.headers.head.header.height > at ? true : undefined), { timeoutMs: 20_000 })
  })
})
