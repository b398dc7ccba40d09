/**
 * Readiness rules (synced, peered), the engine-aware head age limit, and the operations
 * routes: /health/live, /health/ready (200 / 503 bodies), /metrics, and their OpenAPI entries.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { checkReadiness, maxHeadAgeSeconds, registerHealthRoutes, type Readiness, type ReadinessState } from '../../../src/api/health.ts'
import { NodeMetrics, registerMetricsRoute } from '../../../src/api/metrics.ts'
import { loadChainSpec } from '../../../src/chain/spec/index.ts'
import { parseExposition, valueOf } from '../../helpers/prometheus.ts'

const NOW = 1_800_000_000

function state(over: Partial<ReadinessState> = {}): ReadinessState {
  return { networked: true, peersExpected: true, peerCount: 2, bestPeerHeight: 100n, syncing: false, headHeight: 100n, headTimestamp: BigInt(NOW - 3), now: NOW, maxHeadAgeSeconds: 60, ...over }
}

describe('checkReadiness', () => {
  test('a synced, peered node is ready', () => {
    const r = checkReadiness(state())
    assert.equal(r.ready, true)
    assert.deepEqual(r.reasons, [])
    assert.deepEqual(r.head, { height: 100, ageSeconds: 3 })
    assert.equal(r.peers, 2)
  })

  test('bootnodes configured but no peers: not ready, "peered"', () => {
    const r = checkReadiness(state({ peerCount: 0, bestPeerHeight: undefined }))
    assert.equal(r.ready, false)
    assert.deepEqual(r.reasons, ['peered'])
    assert.match(r.checks.peered.detail, /no peers/)
    assert.equal(r.checks.synced.ok, true)
  })

  test('no peers are required without bootnodes or without networking', () => {
    assert.equal(checkReadiness(state({ peersExpected: false, peerCount: 0, bestPeerHeight: undefined })).ready, true)
    const solo = checkReadiness(state({ networked: false, peersExpected: false, peerCount: 0, bestPeerHeight: undefined }))
    assert.equal(solo.ready, true)
    assert.match(solo.checks.peered.detail, /networking is off/)
  })

  test('a peer more than a couple of blocks ahead (a range sync): not ready, "synced"', () => {
    assert.deepEqual(checkReadiness(state({ bestPeerHeight: 103n })).reasons, ['synced'])
    const syncing = checkReadiness(state({ syncing: true, bestPeerHeight: 500n }))
    assert.deepEqual(syncing.reasons, ['synced'])
    assert.match(syncing.checks.synced.detail, /range sync in progress: 400 blocks behind/)
    // A block or two in flight by gossip, even fetched by a short range sync, is still in sync.
    assert.equal(checkReadiness(state({ bestPeerHeight: 102n })).ready, true)
    assert.equal(checkReadiness(state({ syncing: true, bestPeerHeight: 101n })).ready, true)
  })

  test('a networked node whose head is older than the limit is not synced; without a limit (dev) it is', () => {
    const old = BigInt(NOW - 61)
    const stale = checkReadiness(state({ headTimestamp: old }))
    assert.deepEqual(stale.reasons, ['synced'])
    assert.match(stale.checks.synced.detail, /61 s old \(limit 60 s\)/)
    assert.equal(checkReadiness(state({ headTimestamp: old, maxHeadAgeSeconds: undefined })).ready, true)
    // Nothing to sync from without networking.
    assert.equal(checkReadiness(state({ headTimestamp: old, networked: false, peersExpected: false, peerCount: 0, bestPeerHeight: undefined })).ready, true)
  })

  test('a head from the future has age 0; both failures are listed in order', () => {
    assert.equal(checkReadiness(state({ headTimestamp: BigInt(NOW + 100) })).head.ageSeconds, 0)
    assert.deepEqual(checkReadiness(state({ headTimestamp: BigInt(NOW - 1000), peerCount: 0 })).reasons, ['synced', 'peered'])
  })
})

describe('maxHeadAgeSeconds', () => {
  test('dev: no limit; PoW: many block times; BFT: a few', () => {
    assert.equal(maxHeadAgeSeconds(loadChainSpec('dev')), undefined)
    const pow = loadChainSpec('bitcoin-like')
    assert.equal(maxHeadAgeSeconds(pow), Math.max(600, (144 * pow.blockTimeMs) / 1000))
    const bft = loadChainSpec('consortium')
    assert.equal(maxHeadAgeSeconds(bft), Math.max(60, (30 * bft.blockTimeMs) / 1000))
  })
})

describe('operations routes', () => {
  async function app(readiness: () => Readiness) {
    const a = Fastify()
    // As the REST surface does: swagger first (not awaited), then the other surfaces.
    a.register(swagger, { openapi: { info: { title: 'catena', version: '0.1.0' } } })
    const metrics = new NodeMetrics(
      { chainHeight: () => 7n, finalizedHeight: () => 7n, headTimestamp: () => 1n, peers: () => 0, mempoolPending: () => 0, mempoolQueued: () => 0 },
      { defaultMetrics: false },
    )
    registerMetricsRoute(a, metrics)
    registerHealthRoutes(a, readiness)
    await a.ready()
    return a
  }

  test('/health/live, /health/ready (200 and 503), /metrics', async (t) => {
    let r = checkReadiness(state())
    const a = await app(() => r)
    t.after(() => a.close())

    const live = await a.inject({ method: 'GET', url: '/health/live' })
    assert.equal(live.statusCode, 200)
    assert.deepEqual(live.json(), { status: 'ok' })

    const ready = await a.inject({ method: 'GET', url: '/health/ready' })
    assert.equal(ready.statusCode, 200)
    assert.deepEqual(ready.json(), { status: 'ready', reasons: [], checks: r.checks, head: r.head, peers: 2 })

    r = checkReadiness(state({ peerCount: 0, bestPeerHeight: undefined, headTimestamp: BigInt(NOW - 1000) }))
    const notReady = await a.inject({ method: 'GET', url: '/health/ready' })
    assert.equal(notReady.statusCode, 503)
    const body = notReady.json()
    assert.equal(body.status, 'not-ready')
    assert.deepEqual(body.reasons, ['synced', 'peered'])
    assert.equal(body.checks.peered.ok, false)
    assert.match(body.checks.synced.detail, /1000 s old/)

    const m = await a.inject({ method: 'GET', url: '/metrics' })
    assert.equal(m.statusCode, 200)
    assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/)
    assert.equal(valueOf(parseExposition(m.body), 'catena_chain_height'), 7)
  })

  test('the routes appear in the OpenAPI spec under "operations"', async (t) => {
    const a = await app(() => checkReadiness(state()))
    t.after(() => a.close())
    const spec = a.swagger() as { paths: Record<string, { get?: { tags?: string[]; responses?: Record<string, unknown> } }> }
    for (const path of ['/metrics', '/health/live', '/health/ready']) {
      assert.deepEqual(spec.paths[path]?.get?.tags, ['operations'], path)
    }
    assert.deepEqual(Object.keys(spec.paths['/health/ready']!.get!.responses!).sort(), ['200', '503'])
  })
})
