/**
 * The REST API of a real solana-like node (one validator process, the preset's paced 400 ms
 * slots, from a genesis file): every slot's PoH from GET /v1/blocks/{id}/poh is re-checked with
 * node:crypto alone and chains from the genesis hash to the head, a tampered copy fails, the
 * entries carry the txs sent, the answers match JSON-RPC catena_getBlockPoh; /v1/poh/status
 * shows the running clock and processed >= confirmed >= finalized heights that agree with the
 * RPC tags; every PoH response validates against /openapi.json; /metrics has the PoH families.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { toChecksumAddress } from '../../src/crypto/index.ts'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS } from '../helpers/chain.ts'
import { makeDatadir, removeDatadir, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { checkPohJSON, tamperings } from '../helpers/poh-check.ts'
import { parseExposition, valueOf } from '../helpers/prometheus.ts'
import { startValidator, withLogs } from '../helpers/validators.ts'

type Hex = `0x${string}`
const CHAIN_ID = 1342n
const common = makeCommon(CHAIN_ID)
const VALIDATOR = toChecksumAddress(privateToAddress(KEYS[0]!))

describe('REST API of a solana-like node (PoH)', () => {
  let node: NodeProcess
  let datadir: string
  const sent: Hex[] = []
  let txHeight = 0

  const rest = async (path: string) => {
    const res = await fetch(`${node.rpcUrl}${path}`, { signal: AbortSignal.timeout(30_000) })
    return { status: res.status, body: (await res.json()) as any }
  }

  before(async () => {
    datadir = await makeDatadir()
    // The preset with only its first validator: it leads every slot and its vote alone confirms.
    const spec = presetJSON('solana-like')! as unknown as { engine: { validators: unknown[] } }
    spec.engine.validators = spec.engine.validators.slice(0, 1)
    const genesis = join(datadir, 'genesis.json')
    await writeFile(genesis, JSON.stringify(spec))
    node = await startValidator(0, datadir, [], { chain: genesis })
    await waitFor('a few slots', async () => BigInt(await node.rpc<Hex>('eth_blockNumber')) >= 3n, { timeoutMs: 60_000 }).catch(withLogs([node]))
    for (let nonce = 0n; nonce < 3n; nonce++) {
      const tx = createFeeMarket1559Tx({ nonce, to: `0x${'ca'.repeat(20)}`, value: 1n + nonce, gasLimit: 21000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, chainId: CHAIN_ID }, { common }).sign(KEYS[6]!)
      sent.push(await node.rpc<Hex>('eth_sendRawTransaction', [bytesToHex(tx.serialize())]))
    }
    for (const hash of sent) {
      const r = await waitFor(`receipt of ${hash}`, () => node.rpc<{ blockNumber: Hex } | null>('eth_getTransactionReceipt', [hash]).then((x) => x ?? undefined), { timeoutMs: 60_000 }).catch(withLogs([node]))
      txHeight = Math.max(txHeight, Number(BigInt(r.blockNumber)))
    }
  })

  after(async () => {
    if (node && node.exitInfo === undefined) await node.stop()
    if (datadir) await removeDatadir(datadir)
  })

  test('every slot re-checks from the JSON alone, chained from the genesis hash; a tampered copy fails', async () => {
    const head = Number(BigInt(await node.rpc<Hex>('eth_blockNumber')))
    let prevEnd = (await rest('/v1/chain')).body.genesisHash
    let prevSlot = 0
    const txsSeen: string[] = []
    for (let h = 1; h <= head; h++) {
      const { status, body } = await rest(`/v1/blocks/${h}/poh`)
      assert.equal(status, 200, JSON.stringify(body))
      const check = checkPohJSON(body)
      assert.ok(check.ok, `block ${h}: ${JSON.stringify(check)}`)
      assert.equal(body.startHash, prevEnd, `block ${h} starts where block ${h - 1} ends`)
      assert.equal(body.parentSlot, prevSlot)
      assert.ok(body.slot > body.parentSlot)
      assert.equal(body.leader, VALIDATOR)
      // The same data over JSON-RPC (addresses there are lower case).
      const rpc = await node.rpc('catena_getBlockPoh', [h])
      assert.deepEqual({ ...body, leader: body.leader.toLowerCase() }, rpc)
      txsSeen.push(...body.entries.flatMap((e: { txHashes: string[] }) => e.txHashes))
      prevEnd = body.endHash
      prevSlot = body.slot
    }
    for (const hash of sent) assert.ok(txsSeen.includes(hash), `tx ${hash} is mixed into the PoH`)

    const withTxs = (await rest(`/v1/blocks/${txHeight}/poh`)).body
    const cases = tamperings(withTxs)
    assert.ok(cases.length >= 7)
    for (const [name, bad] of cases) assert.equal(checkPohJSON(bad).ok, false, name)
  })

  test('status: the running clock, the current leader, and processed >= confirmed >= finalized heights as the RPC tags say', async () => {
    // The single validator's votes confirm the tx block.
    const s = await waitFor('the tx block confirmed', async () => {
      const r = await rest('/v1/poh/status')
      return r.status === 200 && r.body.heights.confirmed >= txHeight ? r.body : undefined
    }, { timeoutMs: 60_000 }).catch(withLogs([node]))
    assert.equal(s.validator, VALIDATOR)
    assert.equal(s.leader, VALIDATOR)
    assert.ok(s.hashrate > 0, 'the validator runs the PoH clock')
    assert.ok(s.slot >= s.headSlot && s.headSlot >= s.confirmedSlot && s.confirmedSlot >= s.finalizedSlot)
    assert.ok(s.heights.processed >= s.heights.confirmed && s.heights.confirmed >= s.heights.finalized)
    assert.ok(s.votesSent > 0 && s.produced > 0)
    assert.deepEqual(s.clock, { hashesPerTick: 2500, ticksPerSlot: 64, hashesPerSlot: 160_000, slotsPerEpoch: 128, minSlotMs: 400 })
    // Heights only move up: the RPC tags, read after, are at least as high.
    const tag = async (t: string) => Number(BigInt((await node.rpc<{ number: Hex }>('eth_getBlockByNumber', [t, false])).number))
    assert.ok((await tag('safe')) >= s.heights.confirmed)
    assert.ok((await tag('finalized')) >= s.heights.finalized)
    assert.ok((await tag('latest')) >= s.heights.processed)
    const summary = (await rest(`/v1/blocks/${txHeight}`)).body
    assert.equal(summary.poh.slot, (await rest(`/v1/blocks/${txHeight}/poh`)).body.slot)
  })

  test('PoH responses validate against /openapi.json; errors keep the REST shape', async () => {
    const spec = (await rest('/openapi.json')).body
    const ajv = new Ajv({ strict: false, allErrors: true })
    for (const [path, url] of [['/v1/blocks/{id}/poh', `/v1/blocks/${txHeight}/poh`], ['/v1/poh/status', '/v1/poh/status'], ['/v1/poh/schedule', '/v1/poh/schedule'], ['/v1/blocks', '/v1/blocks'], ['/v1/blocks/{id}', `/v1/blocks/${txHeight}`]]) {
      const { status, body } = await rest(url!)
      assert.equal(status, 200, `${url}: ${JSON.stringify(body)}`)
      const validate = ajv.compile(spec.paths[path!].get.responses['200'].content['application/json'].schema)
      assert.ok(validate(body), `${url}: ${ajv.errorsText(validate.errors)}`)
    }
    const schedule = (await rest('/v1/poh/schedule')).body
    assert.ok(schedule.leaders.every((l: { leader: string }) => l.leader === VALIDATOR))
    for (const [url, status] of [['/v1/blocks/999999999/poh', 404], ['/v1/blocks/0/poh', 404], ['/v1/blocks/zz/poh', 400], ['/v1/poh/schedule?epoch=99999', 400]] as const) {
      const r = await rest(url)
      assert.equal(r.status, status, `${url}: ${JSON.stringify(r.body)}`)
      assert.deepEqual(Object.keys(r.body), ['error'])
      assert.ok(ajv.compile(spec.paths['/v1/poh/status'].get.responses['4XX'].content['application/json'].schema)(r.body))
    }
  })

  test('/metrics has the PoH families', async () => {
    const text = await (await fetch(`${node.rpcUrl}/metrics`)).text()
    const e = parseExposition(text)
    assert.ok(valueOf(e, 'catena_poh_slot') > 0)
    assert.ok(valueOf(e, 'catena_poh_hashrate') > 0)
    assert.ok(valueOf(e, 'catena_poh_blocks_produced_total') > 0)
    assert.ok(valueOf(e, 'catena_poh_votes_sent_total') > 0)
    for (const family of ['catena_poh_votes_received_total', 'catena_poh_votes_rejected_total', 'catena_poh_reorgs_total', 'catena_poh_own_slots_skipped_total']) {
      assert.equal(e.types.get(family), 'counter', family)
    }
  })
})
