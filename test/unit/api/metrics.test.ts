/**
 * NodeMetrics: the families a scrape renders, live gauges, counters fed by node events, RPC
 * method labels (bounded: unknown methods are one label), engine-specific families, and
 * separate registries for nodes sharing a process.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import pino from 'pino'
import { createRpcServer } from '../../../src/api/rpc/index.ts'
import { instrumentNode, MAX_METHOD_LABELS, METRICS_PREFIX, NodeMetrics, type InstrumentedNode, type NodeReadings } from '../../../src/api/metrics.ts'
import { DevEngine } from '../../../src/consensus/index.ts'
import type { ConsensusEngine } from '../../../src/consensus/index.ts'
import type { Network } from '../../../src/net/index.ts'
import { openTestChain, produceBlock, Signer } from '../../helpers/chain.ts'
import { parseExposition, samplesOf, valueOf, type Exposition } from '../../helpers/prometheus.ts'
import { makePool } from '../mempool/helpers.ts'

const silent = pino({ level: 'silent' })

function readings(over: Partial<NodeReadings> = {}): NodeReadings {
  return {
    chainHeight: () => 42n,
    finalizedHeight: () => 40n,
    headTimestamp: () => 1_700_000_123n,
    peers: () => 3,
    mempoolPending: () => 5,
    mempoolQueued: () => 2,
    ...over,
  }
}

async function scrape(m: NodeMetrics): Promise<Exposition> {
  return parseExposition(await m.render())
}

const CORE_FAMILIES: Record<string, string> = {
  chain_height: 'gauge',
  finalized_height: 'gauge',
  head_timestamp_seconds: 'gauge',
  peers: 'gauge',
  mempool_pending: 'gauge',
  mempool_queued: 'gauge',
  block_import_seconds: 'histogram',
  blocks_imported_total: 'counter',
  txs_included_total: 'counter',
  rpc_request_seconds: 'histogram',
  rpc_requests_total: 'counter',
  reorgs_total: 'counter',
  reorg_depth: 'histogram',
  peer_bans_total: 'counter',
  mempool_rejected_total: 'counter',
  mempool_dropped_total: 'counter',
}

describe('NodeMetrics', () => {
  test('renders every core family with its type, and the gauges read live values', async () => {
    let height = 42n
    const m = new NodeMetrics(readings({ chainHeight: () => height }), { defaultMetrics: false })
    let e = await scrape(m)
    for (const [name, type] of Object.entries(CORE_FAMILIES)) assert.equal(e.types.get(`${METRICS_PREFIX}${name}`), type, name)
    assert.equal(valueOf(e, 'catena_chain_height'), 42)
    assert.equal(valueOf(e, 'catena_finalized_height'), 40)
    assert.equal(valueOf(e, 'catena_head_timestamp_seconds'), 1_700_000_123)
    assert.equal(valueOf(e, 'catena_peers'), 3)
    assert.equal(valueOf(e, 'catena_mempool_pending'), 5)
    assert.equal(valueOf(e, 'catena_mempool_queued'), 2)
    // No engine-specific families unless the engine has them.
    assert.equal(e.types.has('catena_hashrate'), false)
    assert.equal(e.types.has('catena_bft_round'), false)

    height = 43n
    e = await scrape(m)
    assert.equal(valueOf(e, 'catena_chain_height'), 43)
  })

  test('counters and histograms follow the recorded events', async () => {
    const m = new NodeMetrics(readings(), { defaultMetrics: false })
    m.blockImported(3)
    m.blockImported(0)
    m.blockImported(4)
    m.reorg(2)
    m.peerBanned()
    m.mempoolRejected('NONCE_TOO_LOW')
    m.mempoolRejected('NONCE_TOO_LOW')
    m.mempoolRejected('POOL_FULL')
    m.mempoolDropped('evicted')
    m.mempoolDropped('evicted')
    m.mempoolDropped('replaced')
    m.importStep('validate', 0.02)
    m.importStep('commit', 0.003)
    const e = await scrape(m)
    assert.equal(valueOf(e, 'catena_blocks_imported_total'), 3)
    assert.equal(valueOf(e, 'catena_txs_included_total'), 7)
    assert.equal(valueOf(e, 'catena_reorgs_total'), 1)
    assert.equal(valueOf(e, 'catena_reorg_depth_count'), 1)
    assert.equal(valueOf(e, 'catena_reorg_depth_sum'), 2)
    assert.equal(valueOf(e, 'catena_reorg_depth_bucket', { le: '1' }), 0)
    assert.equal(valueOf(e, 'catena_reorg_depth_bucket', { le: '2' }), 1)
    assert.equal(valueOf(e, 'catena_peer_bans_total'), 1)
    assert.equal(valueOf(e, 'catena_mempool_rejected_total', { reason: 'nonce_too_low' }), 2)
    assert.equal(valueOf(e, 'catena_mempool_rejected_total', { reason: 'pool_full' }), 1)
    assert.equal(valueOf(e, 'catena_mempool_dropped_total', { reason: 'evicted' }), 2)
    assert.equal(valueOf(e, 'catena_mempool_dropped_total', { reason: 'replaced' }), 1)
    assert.equal(valueOf(e, 'catena_block_import_seconds_count', { step: 'validate' }), 1)
    assert.equal(valueOf(e, 'catena_block_import_seconds_sum', { step: 'validate' }), 0.02)
    assert.equal(valueOf(e, 'catena_block_import_seconds_count', { step: 'commit' }), 1)
  })

  test('process metrics carry the catena_ prefix, and two nodes in one process do not clash', async () => {
    const a = new NodeMetrics(readings({ chainHeight: () => 1n }))
    const b = new NodeMetrics(readings({ chainHeight: () => 2n }))
    a.blockImported(1)
    const [ea, eb] = [await scrape(a), await scrape(b)]
    assert.ok(ea.types.has('catena_process_cpu_user_seconds_total'))
    assert.ok(ea.types.has('catena_nodejs_heap_size_used_bytes'))
    assert.ok([...ea.types.keys()].every((name) => name.startsWith(METRICS_PREFIX)), 'every family is prefixed')
    assert.equal(valueOf(ea, 'catena_chain_height'), 1)
    assert.equal(valueOf(eb, 'catena_chain_height'), 2)
    assert.equal(valueOf(ea, 'catena_blocks_imported_total'), 1)
    assert.equal(valueOf(eb, 'catena_blocks_imported_total'), 0)
  })

  test('default labels go on every series', async () => {
    const m = new NodeMetrics(readings(), { defaultMetrics: false, labels: { node: 'v1' } })
    const e = await scrape(m)
    assert.equal(valueOf(e, 'catena_chain_height', { node: 'v1' }), 42)
  })

  test('PoW and BFT families', async () => {
    const m = new NodeMetrics(readings(), { defaultMetrics: false })
    const stats = { prevotes: 4, precommits: 3, evidence: 0 }
    m.addPow({ kind: 'pow', hashrate: () => 12345 })
    m.addBft({ kind: 'bft', round: () => 2, stats: () => stats })
    let e = await scrape(m)
    assert.equal(e.types.get('catena_hashrate'), 'gauge')
    assert.equal(valueOf(e, 'catena_hashrate'), 12345)
    assert.equal(e.types.get('catena_bft_round'), 'gauge')
    assert.equal(valueOf(e, 'catena_bft_round'), 2)
    assert.equal(e.types.get('catena_bft_votes_total'), 'counter')
    assert.equal(valueOf(e, 'catena_bft_votes_total', { type: 'prevote' }), 4)
    assert.equal(valueOf(e, 'catena_bft_votes_total', { type: 'precommit' }), 3)
    assert.equal(valueOf(e, 'catena_evidence_total'), 0)
    stats.prevotes = 10
    stats.evidence = 1
    e = await scrape(m)
    assert.equal(valueOf(e, 'catena_bft_votes_total', { type: 'prevote' }), 10)
    assert.equal(valueOf(e, 'catena_evidence_total'), 1)
  })

  test('PoH families: slot and clock gauges, vote, reorg and leader-slot counters read live', async () => {
    const m = new NodeMetrics(readings(), { defaultMetrics: false })
    let slot = 41
    const stats = { votesIn: 12, votesRejected: 2, votesSent: 5, reorgs: 1, produced: 7, skippedOwn: 3, duplicates: 1 }
    m.addPoh({ kind: 'poh', slot: () => slot, hashrate: () => 3_500_000, stats: () => stats })
    let e = await scrape(m)
    const want: Record<string, [string, number]> = {
      catena_poh_slot: ['gauge', 41],
      catena_poh_hashrate: ['gauge', 3_500_000],
      catena_poh_votes_received_total: ['counter', 12],
      catena_poh_duplicate_blocks_total: ['counter', 1],
      catena_poh_votes_sent_total: ['counter', 5],
      catena_poh_votes_rejected_total: ['counter', 2],
      catena_poh_reorgs_total: ['counter', 1],
      catena_poh_blocks_produced_total: ['counter', 7],
      catena_poh_own_slots_skipped_total: ['counter', 3],
    }
    for (const [family, [type, value]] of Object.entries(want)) {
      assert.equal(e.types.get(family), type, family)
      assert.equal(valueOf(e, family), value, family)
    }
    assert.equal(e.types.has('catena_hashrate'), false, 'the PoW hashrate is another family')
    slot = 44
    stats.votesIn = 20
    stats.skippedOwn = 4
    e = await scrape(m)
    assert.equal(valueOf(e, 'catena_poh_slot'), 44)
    assert.equal(valueOf(e, 'catena_poh_votes_received_total'), 20)
    assert.equal(valueOf(e, 'catena_poh_own_slots_skipped_total'), 4)
  })

  test('tx forwarding (PoH): what became of the routed txs, by outcome, read live', async () => {
    const m = new NodeMetrics(readings(), { defaultMetrics: false })
    const stats = { forwarded: 9, kept: 2, gossiped: 1, resent: 0 }
    m.addTxForward(() => stats)
    let e = await scrape(m)
    assert.equal(e.types.get('catena_tx_forward_total'), 'counter')
    for (const [outcome, n] of Object.entries(stats)) assert.equal(valueOf(e, 'catena_tx_forward_total', { outcome }), n, outcome)
    stats.resent = 3
    e = await scrape(m)
    assert.equal(valueOf(e, 'catena_tx_forward_total', { outcome: 'resent' }), 3)
  })
})

describe('RPC observer', () => {
  test('records served methods by name and success; every unknown method is one label', async () => {
    const m = new NodeMetrics(readings(), { defaultMetrics: false })
    const rpc = createRpcServer({
      methods: { eth_blockNumber: () => '0x1', fails: () => { throw new Error('boom') } },
      logger: silent,
      onRequest: m.observeRpc,
    })
    try {
      const call = (method: string) => rpc.handle(JSON.stringify({ jsonrpc: '2.0', id: 1, method }))
      await call('eth_blockNumber')
      await call('eth_blockNumber')
      await call('fails')
      for (let i = 0; i < 50; i++) await call(`random_method_${i}`)
      const e = await scrape(m)
      assert.equal(valueOf(e, 'catena_rpc_requests_total', { method: 'eth_blockNumber', ok: 'true' }), 2)
      assert.equal(valueOf(e, 'catena_rpc_requests_total', { method: 'fails', ok: 'false' }), 1)
      assert.equal(valueOf(e, 'catena_rpc_request_seconds_count', { method: 'eth_blockNumber' }), 2)
      assert.equal(valueOf(e, 'catena_rpc_requests_total', { method: 'unknown_method', ok: 'false' }), 50)
      const methods = new Set(samplesOf(e, 'catena_rpc_request_seconds_count').map((s) => s.labels.method))
      assert.deepEqual([...methods].sort(), ['eth_blockNumber', 'fails', 'unknown_method'])
    } finally {
      await rpc.close()
    }
  })

  test('caps distinct method labels even when a caller passes arbitrary names', async () => {
    const m = new NodeMetrics(readings(), { defaultMetrics: false })
    for (let i = 0; i < MAX_METHOD_LABELS + 100; i++) m.observeRpc(`m${i}`, 1, true)
    const e = await scrape(m)
    const labels = samplesOf(e, 'catena_rpc_request_seconds_count').map((s) => s.labels.method)
    assert.equal(labels.length, MAX_METHOD_LABELS + 1)
    assert.equal(valueOf(e, 'catena_rpc_request_seconds_count', { method: 'other' }), 100)
  })
})

describe('instrumentNode', () => {
  test('counts canonical blocks and their txs, block import steps and mempool rejections from a real chain and pool', async () => {
    const t = await openTestChain()
    const { pool } = makePool()
    const metrics = instrumentNode(
      { chain: t.chain, mempool: pool, engine: new DevEngine({ automine: false, intervalMs: 0, producer: new Uint8Array(20) }), importer: t.importer, finalizedHeight: () => t.chain.head.header.height },
      { defaultMetrics: false },
    )
    const signer = new Signer(t.common)
    await produceBlock(t, [signer.transfer(0, '0x' + '11'.repeat(20), 1n), signer.transfer(0, '0x' + '11'.repeat(20), 1n)])
    await produceBlock(t, [])
    await assert.rejects(pool.add(Uint8Array.of(1, 2, 3)), { code: 'DECODE' })
    const e = await scrape(metrics)
    assert.equal(valueOf(e, 'catena_chain_height'), 2)
    assert.equal(valueOf(e, 'catena_finalized_height'), 2)
    assert.equal(valueOf(e, 'catena_head_timestamp_seconds'), Number(t.chain.head.header.timestamp))
    assert.equal(valueOf(e, 'catena_peers'), 0)
    assert.equal(valueOf(e, 'catena_blocks_imported_total'), 2)
    assert.equal(valueOf(e, 'catena_txs_included_total'), 2)
    assert.equal(valueOf(e, 'catena_block_import_seconds_count', { step: 'build' }), 2)
    assert.equal(valueOf(e, 'catena_block_import_seconds_count', { step: 'commit' }), 2)
    assert.equal(valueOf(e, 'catena_mempool_rejected_total', { reason: 'decode' }), 1)

  })

  test("a block from elsewhere is timed as 'validate' and 'commit'", async () => {
    const source = await openTestChain()
    await produceBlock(source, [])
    const t = await openTestChain()
    const { pool } = makePool()
    const engine = new DevEngine({ automine: false, intervalMs: 0, producer: new Uint8Array(20) })
    const metrics = instrumentNode({ chain: t.chain, mempool: pool, engine, importer: t.importer, finalizedHeight: () => 0n }, { defaultMetrics: false })
    await t.importer.import(source.chain.getBlockAt(1n)!)
    const e = await scrape(metrics)
    assert.equal(valueOf(e, 'catena_block_import_seconds_count', { step: 'validate' }), 1)
    assert.equal(valueOf(e, 'catena_block_import_seconds_count', { step: 'commit' }), 1)
    assert.equal(samplesOf(e, 'catena_block_import_seconds_count', { step: 'build' }).length, 0)
    assert.equal(valueOf(e, 'catena_blocks_imported_total'), 1)
  })

  test('peers, bans, reorgs and engine families come from the parts it is given', async () => {
    const t = await openTestChain()
    const { pool } = makePool()
    const network = Object.assign(new EventEmitter(), { peers: () => [{}, {}] }) as unknown as Network
    const stats = { prevotes: 7, precommits: 6, evidence: 1 }
    const bft = { type: 'bft', readings: { kind: 'bft', round: () => 1, stats: () => stats } } as unknown as ConsensusEngine
    const node: InstrumentedNode = { chain: t.chain, mempool: pool, engine: bft, importer: t.importer, network, finalizedHeight: () => 0n }
    const metrics = instrumentNode(node, { defaultMetrics: false })
    network.emit('peer:banned', { peerId: 'x', until: 0, reason: 'test' })
    t.chain.emit('reorg', { forkPoint: t.chain.head, disconnected: [{}, {}, {}], connected: [{}, {}, {}, {}] })
    const e = await scrape(metrics)
    assert.equal(valueOf(e, 'catena_peers'), 2)
    assert.equal(valueOf(e, 'catena_peer_bans_total'), 1)
    assert.equal(valueOf(e, 'catena_reorgs_total'), 1)
    assert.equal(valueOf(e, 'catena_reorg_depth_sum'), 3)
    assert.equal(valueOf(e, 'catena_bft_round'), 1)
    assert.equal(valueOf(e, 'catena_bft_votes_total', { type: 'precommit' }), 6)
    assert.equal(valueOf(e, 'catena_evidence_total'), 1)
    assert.equal(e.types.has('catena_hashrate'), false)

    const pow = { type: 'pow', readings: { kind: 'pow', hashrate: () => 99 } } as unknown as ConsensusEngine
    const powMetrics = instrumentNode({ ...node, engine: pow }, { defaultMetrics: false })
    const ep = await scrape(powMetrics)
    assert.equal(valueOf(ep, 'catena_hashrate'), 99)
    assert.equal(ep.types.has('catena_bft_round'), false)

    const stats2 = { votesIn: 3, votesRejected: 0, votesSent: 2, reorgs: 0, produced: 1, skippedOwn: 0 }
    const poh = { type: 'poh', readings: { kind: 'poh', slot: () => 9, hashrate: () => 1000, stats: () => stats2 } } as unknown as ConsensusEngine
    const pohMetrics = instrumentNode({ ...node, engine: poh }, { defaultMetrics: false })
    const eh = await scrape(pohMetrics)
    assert.equal(valueOf(eh, 'catena_poh_slot'), 9)
    assert.equal(valueOf(eh, 'catena_poh_votes_sent_total'), 2)
    assert.equal(eh.types.has('catena_bft_round'), false)
    assert.equal(eh.types.has('catena_hashrate'), false)
  })
})
