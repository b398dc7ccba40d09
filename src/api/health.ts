/**
 * Health endpoints for orchestrators and load balancers, on the RPC port:
 * - GET /health/live: 200 while the process serves HTTP (restart it when this fails).
 * - GET /health/ready: 200 when the node is synced and peered, else 503 with the failed
 *   checks (send it no traffic meanwhile).
 *
 * "synced" (like geth's eth_syncing and Lodestar's sync state): no peer reports a head more
 * than SYNC_TOLERANCE_BLOCKS ahead (a range sync is then running, or about to), and on a networked node whose
 * engine makes blocks on a clock (PoW, BFT) the head is not older than a few block times, so a
 * node cut off from a live network, or on a halted one, is not ready. A dev chain seals on
 * demand, so an idle one is still ready; a node without networking has nothing to sync from.
 * "peered": at least one peer when the node was given bootnodes to dial; a node without
 * networking or bootnodes (the first node of a network) does not wait for peers.
 *
 * registerOperations is the one call node/ makes: metrics (metrics.ts) and health together.
 * @module
 */
import type { FastifyInstance } from 'fastify'
import type { ChainSpec } from '../chain/spec/index.ts'
import type { BlockSync } from '../sync/index.ts'
import { instrumentNode, registerMetricsRoute, type InstrumentedNode, type NodeMetrics, type NodeMetricsOptions } from './metrics.ts'

export type ReadinessCheck = 'synced' | 'peered'

/** A peer this far ahead (or less) still counts as in sync: blocks in flight by gossip. */
export const SYNC_TOLERANCE_BLOCKS = 2n

/** What readiness is decided from, read at each probe. */
export interface ReadinessState {
  /** P2P networking is on. */
  networked: boolean
  /** Bootnodes were configured: the node is meant to have peers. */
  peersExpected: boolean
  peerCount: number
  /** The highest head a peer reported (its last status); undefined without peers. */
  bestPeerHeight?: bigint
  /** A range sync is running (said in the detail; the gap to the best peer decides). */
  syncing: boolean
  headHeight: bigint
  /** Unix seconds. */
  headTimestamp: bigint
  /** Unix seconds. */
  now: number
  /** The oldest head a networked node may have and be ready; undefined = no limit. */
  maxHeadAgeSeconds?: number
}

export interface CheckResult {
  ok: boolean
  detail: string
}

export interface Readiness {
  ready: boolean
  /** The failed checks, in a fixed order. */
  reasons: ReadinessCheck[]
  checks: Record<ReadinessCheck, CheckResult>
  head: { height: number; ageSeconds: number }
  peers: number
}

/** Decides readiness (pure, so every rule is unit-testable). */
export function checkReadiness(s: ReadinessState): Readiness {
  const age = Math.max(0, Math.floor(s.now - Number(s.headTimestamp)))
  const synced = syncedCheck(s, age)
  const peered: CheckResult =
    !s.peersExpected || s.peerCount > 0
      ? { ok: true, detail: s.peersExpected ? `${s.peerCount} peer(s)` : s.networked ? `${s.peerCount} peer(s); no bootnodes, none required` : 'networking is off' }
      : { ok: false, detail: 'no peers connected, though bootnodes are configured' }
  const checks = { synced, peered }
  const reasons = (['synced', 'peered'] as const).filter((k) => !checks[k].ok)
  return { ready: reasons.length === 0, reasons, checks, head: { height: Number(s.headHeight), ageSeconds: age }, peers: s.peerCount }
}

function syncedCheck(s: ReadinessState, age: number): CheckResult {
  // A range sync that fetches the last block or two does not count: readiness would flap on
  // every head a follower learns from a status message before gossip brings the block.
  if (s.bestPeerHeight !== undefined && s.bestPeerHeight > s.headHeight + SYNC_TOLERANCE_BLOCKS) {
    const behind = `${s.bestPeerHeight - s.headHeight} blocks behind the best peer (height ${s.bestPeerHeight}, ours ${s.headHeight})`
    return { ok: false, detail: s.syncing ? `range sync in progress: ${behind}` : behind }
  }
  if (s.networked && s.maxHeadAgeSeconds !== undefined && age > s.maxHeadAgeSeconds) {
    return { ok: false, detail: `the head block is ${age} s old (limit ${s.maxHeadAgeSeconds} s): no new blocks from the network` }
  }
  return { ok: true, detail: `head at height ${s.headHeight}, ${age} s old` }
}

/**
 * How old the head may get on a networked node: PoW block gaps are exponential, so many block
 * times (Bitcoin Core leaves initial download within 144 block times of the clock); BFT makes
 * a block each height, slower only when rounds fail. The dev engine seals on demand: no limit.
 */
export function maxHeadAgeSeconds(spec: ChainSpec): number | undefined {
  const blockSeconds = spec.blockTimeMs / 1000
  switch (spec.engine.type) {
    case 'dev':
      return undefined
    case 'pow':
      return Math.max(600, Math.ceil(144 * blockSeconds))
    default:
      return Math.max(60, Math.ceil(30 * blockSeconds))
  }
}

const checkSchema = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, detail: { type: 'string' } },
  required: ['ok', 'detail'],
} as const

const readinessSchema = (description: string, status: string) => ({
  description,
  type: 'object',
  properties: {
    status: { type: 'string', enum: [status] },
    reasons: { type: 'array', items: { type: 'string', enum: ['synced', 'peered'] } },
    checks: { type: 'object', properties: { synced: checkSchema, peered: checkSchema }, required: ['synced', 'peered'] },
    head: { type: 'object', properties: { height: { type: 'integer' }, ageSeconds: { type: 'integer' } }, required: ['height', 'ageSeconds'] },
    peers: { type: 'integer' },
  },
  required: ['status', 'reasons', 'checks', 'head', 'peers'],
})

/** GET /health/live and /health/ready. Registered in their own plugin so route hooks registered earlier (OpenAPI) see them. */
export function registerHealthRoutes(app: FastifyInstance, readiness: () => Readiness): void {
  app.register(async (scope) => {
    scope.get(
      '/health/live',
      {
        schema: {
          tags: ['operations'],
          summary: 'Liveness probe',
          description: 'Answers 200 while the node process serves HTTP.',
          response: {
            200: { description: 'The process is alive', type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] },
          },
        },
      },
      async () => ({ status: 'ok' }),
    )
    scope.get(
      '/health/ready',
      {
        schema: {
          tags: ['operations'],
          summary: 'Readiness probe',
          description: 'Answers 200 when the node is synced and peered, else 503 with the failed checks in `reasons` ("synced", "peered").',
          response: {
            200: readinessSchema('Synced and peered: ready for traffic', 'ready'),
            503: readinessSchema('Not ready: `reasons` lists the failed checks', 'not-ready'),
          },
        },
      },
      async (_request, reply) => {
        const r = readiness()
        const body = { status: r.ready ? 'ready' : 'not-ready', reasons: r.reasons, checks: r.checks, head: r.head, peers: r.peers }
        return reply.code(r.ready ? 200 : 503).send(body)
      },
    )
  })
}

/** Everything the operations endpoints read from a node. */
export interface OperationsNode extends InstrumentedNode {
  spec: ChainSpec
  sync?: BlockSync
  /** The bootnodes this node dials: readiness then requires a peer. */
  bootnodes: readonly string[]
}

export interface Operations {
  metrics: NodeMetrics
  readiness(): Readiness
}

/** Instruments the node and registers GET /metrics, /health/live and /health/ready on `app`. */
export function registerOperations(app: FastifyInstance, node: OperationsNode, opts: NodeMetricsOptions = {}): Operations {
  const metrics = instrumentNode(node, opts)
  const maxAge = maxHeadAgeSeconds(node.spec)
  const readiness = (): Readiness => {
    const peers = node.network?.peers() ?? []
    // Claims sync found false do not count (a peer claiming height 2^63 would keep us unready).
    let best = node.sync?.bestPeerHeight()
    if (!node.sync) for (const p of peers) if (best === undefined || p.status.headHeight > best) best = p.status.headHeight
    const head = node.chain.head.header
    return checkReadiness({
      networked: node.network !== undefined,
      peersExpected: node.network !== undefined && node.bootnodes.length > 0,
      peerCount: peers.length,
      ...(best !== undefined ? { bestPeerHeight: best } : {}),
      syncing: node.sync?.isSyncing ?? false,
      headHeight: head.height,
      headTimestamp: head.timestamp,
      now: Date.now() / 1000,
      ...(maxAge !== undefined ? { maxHeadAgeSeconds: maxAge } : {}),
    })
  }
  registerMetricsRoute(app, metrics)
  registerHealthRoutes(app, readiness)
  return { metrics, readiness }
}
