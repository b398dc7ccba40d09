/**
 * Prometheus metrics for one node (prom-client), served at GET /metrics on the RPC port.
 *
 * Each NodeMetrics owns its own Registry, not prom-client's global one, so several nodes in
 * one process (tests, the lab) never clash. Gauges are read live at scrape time through
 * `collect()` callbacks; counters and histograms are fed by chain, network, mempool,
 * importer and RPC events (`instrumentNode` wires them). Every label has a bounded set of
 * values: RPC methods are the served ones (the server reports others as 'unknown_method'),
 * and a cap folds anything beyond MAX_METHOD_LABELS into 'other'.
 * @module
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { FastifyInstance } from 'fastify'
import type { Chain, ImportedBlock, Reorg } from '../chain/chain.ts'
import type { BlockImporter, ImportStep } from '../chain/import.ts'
import type { ConsensusEngine, EngineReadings } from '../consensus/index.ts'
import type { Mempool } from '../mempool/pool.ts'
import type { MempoolErrorCode, RemovalReason } from '../mempool/index.ts'
import type { Network } from '../net/index.ts'
import type { RequestObserver } from './rpc/server.ts'

export const METRICS_PREFIX = 'catena_'
/** Distinct RPC method labels kept; more are counted as 'other' (a guard: the server already bounds them). */
export const MAX_METHOD_LABELS = 256

const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const IMPORT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const REORG_DEPTH_BUCKETS = [1, 2, 3, 5, 8, 13, 21, 34, 55, 100, 250, 1000]

/** Live values the gauges read at each scrape. */
export interface NodeReadings {
  chainHeight(): bigint
  finalizedHeight(): bigint
  /** The head block's timestamp, Unix seconds. */
  headTimestamp(): bigint
  /** Connected peers (after the status handshake); 0 without networking. */
  peers(): number
  mempoolPending(): number
  mempoolQueued(): number
}

export type PowReadings = Extract<EngineReadings, { kind: 'pow' }>
export type BftReadings = Extract<EngineReadings, { kind: 'bft' }>
export type PohReadings = Extract<EngineReadings, { kind: 'poh' }>

export interface NodeMetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop lag, GC) under the same prefix; default true. */
  defaultMetrics?: boolean
  /** Labels on every series, e.g. { node: 'validator-1' }. */
  labels?: Record<string, string>
}

export class NodeMetrics {
  readonly registry = new Registry()
  private readonly rpcSeconds: Histogram<'method'>
  private readonly rpcRequests: Counter<'method' | 'ok'>
  private readonly importSeconds: Histogram<'step'>
  private readonly blocksImported: Counter
  private readonly txsIncluded: Counter
  private readonly reorgs: Counter
  private readonly reorgDepth: Histogram
  private readonly peerBans: Counter
  private readonly mempoolRejections: Counter<'reason'>
  private readonly mempoolDrops: Counter<'reason'>
  private readonly methods = new Set<string>()

  constructor(readings: NodeReadings, opts: NodeMetricsOptions = {}) {
    const registers = [this.registry]
    if (opts.labels) this.registry.setDefaultLabels(opts.labels)
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: METRICS_PREFIX })
    const name = (n: string) => `${METRICS_PREFIX}${n}`
    const live = (n: string, help: string, read: () => number | bigint) =>
      new Gauge({ name: name(n), help, registers, collect() { this.set(Number(read())) } })

    live('chain_height', 'Height of the canonical head block', () => readings.chainHeight())
    live('finalized_height', 'Height of the newest final block (the RPC "finalized" tag)', () => readings.finalizedHeight())
    live('head_timestamp_seconds', 'Timestamp of the canonical head block, Unix seconds', () => readings.headTimestamp())
    live('peers', 'Connected peers (status handshake done)', () => readings.peers())
    live('mempool_pending', 'Transactions in the pool that are executable now', () => readings.mempoolPending())
    live('mempool_queued', 'Transactions in the pool waiting behind a nonce gap', () => readings.mempoolQueued())

    this.rpcSeconds = new Histogram({ name: name('rpc_request_seconds'), help: 'JSON-RPC request duration by method', labelNames: ['method'], buckets: RPC_BUCKETS, registers })
    this.rpcRequests = new Counter({ name: name('rpc_requests_total'), help: 'JSON-RPC requests by method and success', labelNames: ['method', 'ok'], registers })
    this.importSeconds = new Histogram({
      name: name('block_import_seconds'),
      help: 'Block processing time by step: build (produce: execute txs), validate (a block from elsewhere: checks and re-execution), commit (the atomic write)',
      labelNames: ['step'],
      buckets: IMPORT_BUCKETS,
      registers,
    })
    this.blocksImported = new Counter({ name: name('blocks_imported_total'), help: 'Blocks that became canonical (produced here or imported)', registers })
    this.txsIncluded = new Counter({ name: name('txs_included_total'), help: 'Transactions in blocks that became canonical; rate() is the tx throughput', registers })
    this.reorgs = new Counter({ name: name('reorgs_total'), help: 'Canonical chain switches to another branch', registers })
    this.reorgDepth = new Histogram({ name: name('reorg_depth'), help: 'Blocks disconnected by a reorg', buckets: REORG_DEPTH_BUCKETS, registers })
    this.peerBans = new Counter({ name: name('peer_bans_total'), help: 'Peers banned (bad data, wrong chain, by hand)', registers })
    this.mempoolRejections = new Counter({ name: name('mempool_rejected_total'), help: 'Transactions the pool refused, by reason', labelNames: ['reason'], registers })
    this.mempoolDrops = new Counter({
      name: name('mempool_dropped_total'),
      help: 'Transactions that left the pool without being included: evicted (pool full), replaced, stale, unaffordable, gas-limit, removed',
      labelNames: ['reason'],
      registers,
    })
  }

  /** The RPC server's onRequest hook: `method` is already 'unknown_method' for names not served. */
  readonly observeRpc: RequestObserver = (method, ms, ok) => {
    const label = this.methodLabel(method)
    this.rpcSeconds.observe({ method: label }, ms / 1000)
    this.rpcRequests.inc({ method: label, ok: ok ? 'true' : 'false' })
  }

  /** A block became canonical. */
  blockImported(txCount: number): void {
    this.blocksImported.inc()
    if (txCount > 0) this.txsIncluded.inc(txCount)
  }

  /** The chain switched branches, disconnecting `depth` blocks. */
  reorg(depth: number): void {
    this.reorgs.inc()
    this.reorgDepth.observe(depth)
  }

  peerBanned(): void {
    this.peerBans.inc()
  }

  mempoolRejected(code: MempoolErrorCode | string): void {
    this.mempoolRejections.inc({ reason: code.toLowerCase() })
  }

  /** An accepted tx left the pool for a reason other than inclusion. */
  mempoolDropped(reason: RemovalReason): void {
    this.mempoolDrops.inc({ reason })
  }

  importStep(step: ImportStep, seconds: number): void {
    this.importSeconds.observe({ step }, seconds)
  }

  /** PoW chains: the miner's hashrate. */
  addPow(r: PowReadings): void {
    new Gauge({ name: `${METRICS_PREFIX}hashrate`, help: 'Mining speed of this node, hashes per second', registers: [this.registry], collect() { this.set(r.hashrate()) } })
  }

  /** BFT chains: the current round, votes counted and double-vote evidence. */
  addBft(r: BftReadings): void {
    const registers = [this.registry]
    new Gauge({ name: `${METRICS_PREFIX}bft_round`, help: 'Round of the height being decided (0 = decided in the first round)', registers, collect() { this.set(r.round()) } })
    new Counter({
      name: `${METRICS_PREFIX}bft_votes_total`,
      help: 'Consensus votes verified and counted (ours included), by type',
      labelNames: ['type'],
      registers,
      collect() {
        const s = r.stats()
        this.reset()
        this.inc({ type: 'prevote' }, s.prevotes)
        this.inc({ type: 'precommit' }, s.precommits)
      },
    })
    new Counter({ name: `${METRICS_PREFIX}evidence_total`, help: 'New double-vote evidence verified and pooled for inclusion (PoS)', registers, collect() { this.reset(); this.inc(r.stats().evidence) } })
  }

  /** PoH chains: the clock's slot and speed, votes, fork switches, and this validator's leader slots. */
  addPoh(r: PohReadings): void {
    const registers = [this.registry]
    const name = (n: string) => `${METRICS_PREFIX}poh_${n}`
    new Gauge({ name: name('slot'), help: "Slot of this node's PoH clock (its head's slot on a node without a validator key)", registers, collect() { this.set(r.slot()) } })
    new Gauge({ name: name('hashrate'), help: "PoH hashes per second of this node's clock (0 without a validator key)", registers, collect() { this.set(r.hashrate()) } })
    // The engine keeps the totals; each scrape copies them.
    const total = (n: string, help: string, read: (s: ReturnType<PohReadings['stats']>) => number) =>
      new Counter({ name: name(n), help, registers, collect() { this.reset(); this.inc(read(r.stats())) } })
    total('votes_received_total', 'Votes from peers verified and counted by the fork choice', (s) => s.votesIn)
    total('votes_sent_total', 'Votes this validator signed and sent (each after its tower was written)', (s) => s.votesSent)
    total('votes_rejected_total', 'Votes from peers refused (bad signature, no stake, undecodable ...); the sender is scored down', (s) => s.votesRejected)
    total('reorgs_total', 'Switches to a heavier fork by stake-weighted votes (the engine\'s fork choice)', (s) => s.reorgs)
    total('blocks_produced_total', 'Blocks this validator produced in its leader slots', (s) => s.produced)
    total('own_slots_skipped_total', "This validator's leader slots that got no block from it", (s) => s.skippedOwn)
    total('duplicate_blocks_total', 'Leaders caught signing two blocks for one slot (evidence pooled for slashing)', (s) => s.duplicates)
  }

  /** Tx forwarding to the coming leaders (PoH): what became of the txs this node routed. */
  addTxForward(stats: () => Readonly<Record<'forwarded' | 'kept' | 'gossiped' | 'resent', number>>): void {
    new Counter({
      name: `${METRICS_PREFIX}tx_forward_total`,
      help: 'Txs this node routed to the coming leaders, by outcome: forwarded (a leader took them), kept (we lead), gossiped (no leader reachable), resent (still pending after a forward)',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect() {
        const s = stats()
        this.reset()
        for (const outcome of ['forwarded', 'kept', 'gossiped', 'resent'] as const) this.inc({ outcome }, s[outcome])
      },
    })
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics()
  }

  private methodLabel(method: string): string {
    if (this.methods.has(method)) return method
    if (this.methods.size >= MAX_METHOD_LABELS) return 'other'
    this.methods.add(method)
    return method
  }
}

/** The parts of a node that metrics read and listen to. */
export interface InstrumentedNode {
  chain: Chain
  mempool: Mempool
  engine: ConsensusEngine
  importer: BlockImporter
  network?: Network
  /** What the RPC reports as the finalized block's height. */
  finalizedHeight(): bigint
  /** Engines that forward txs to the coming leaders (PoH): the forwarder's totals. */
  txForwardStats?: () => Readonly<Record<'forwarded' | 'kept' | 'gossiped' | 'resent', number>>
}

/** Builds a node's metrics: live gauges over its parts, and listeners for its events. */
export function instrumentNode(node: InstrumentedNode, opts: NodeMetricsOptions = {}): NodeMetrics {
  const { chain, mempool, network } = node
  const metrics = new NodeMetrics(
    {
      chainHeight: () => chain.head.header.height,
      finalizedHeight: node.finalizedHeight,
      headTimestamp: () => chain.head.header.timestamp,
      peers: () => network?.peers().length ?? 0,
      mempoolPending: () => mempool.pendingCount,
      mempoolQueued: () => mempool.queuedCount,
    },
    opts,
  )
  chain.on('block', (b: ImportedBlock) => metrics.blockImported(b.block.txs.length))
  chain.on('reorg', (r: Reorg) => metrics.reorg(r.disconnected.length))
  mempool.on('rejected', (code) => metrics.mempoolRejected(code))
  mempool.on('removed', (_entry, reason) => { if (reason !== 'included') metrics.mempoolDropped(reason) })
  network?.on('peer:banned', () => metrics.peerBanned())
  node.importer.onTiming = (step, seconds) => metrics.importStep(step, seconds)
  const readings = node.engine.readings
  if (readings?.kind === 'pow') metrics.addPow(readings)
  if (readings?.kind === 'bft') metrics.addBft(readings)
  if (readings?.kind === 'poh') metrics.addPoh(readings)
  if (node.txForwardStats) metrics.addTxForward(node.txForwardStats)
  return metrics
}

/** GET /metrics: the Prometheus text format. Registered in its own plugin so route hooks (OpenAPI) registered earlier see it. */
export function registerMetricsRoute(app: FastifyInstance, metrics: NodeMetrics): void {
  app.register(async (scope) => {
    scope.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics',
          description: 'Chain, peers, mempool, block import, JSON-RPC, reorg and engine metrics, plus Node.js process metrics, all prefixed catena_.',
          response: {
            200: {
              description: 'Metrics in the Prometheus text exposition format (version 0.0.4)',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      async (_request, reply) => {
        const text = await metrics.render()
        return reply.header('content-type', metrics.contentType).send(text)
      },
    )
  })
}
