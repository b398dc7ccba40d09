/**
 * The REST API in-process, for fast tests: a real Chain in memory (test/helpers/chain.ts), a
 * real Mempool, the node's Fastify app from createRpcServer (never listening; requests go
 * through app.inject), and a fake network with peers and bans.
 */
import { EventEmitter } from 'node:events'
import type { Address } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { createRpcServer, type RpcServer } from '../../../src/api/rpc/server.ts'
import { registerRestApi, type PeerNetwork, type RestContext } from '../../../src/api/rest/index.ts'
import type { AlertThresholds } from '../../../src/api/rest/alerts.ts'
import type { EngineLike } from '../../../src/api/rest/consensus-view.ts'
import { nextBaseFee } from '../../../src/chain/basefee.ts'
import type { BlockRules } from '../../../src/chain/import.ts'
import { paramsAt, type ChainSpec } from '../../../src/chain/spec/index.ts'
import { Mempool } from '../../../src/mempool/pool.ts'
import type { BanEntry, PeerInfo } from '../../../src/net/index.ts'
import { openTestChain, type TestChain } from '../../helpers/chain.ts'
import { captureLogger } from './rpc-helpers.ts'

export const PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

/** Peers and bans like Network's, with 'peer:banned' events. */
export class FakeNetwork extends EventEmitter implements PeerNetwork {
  private readonly banned = new Map<string, BanEntry>()

  peers(): PeerInfo[] {
    return [{
      peerId: PEER,
      status: { chainId: 1337n, genesisHash: new Uint8Array(32), headHeight: 5n, headHash: new Uint8Array(32).fill(1) },
      direction: 'outbound',
      remoteAddr: '/ip4/127.0.0.1/tcp/30301',
      connectedAt: 1_700_000_000_000,
      penalty: 12.345,
    }]
  }

  bans(): BanEntry[] {
    return [...this.banned.values()]
  }

  ban(peer: string, reason: string, ms = 3_600_000): BanEntry {
    if (!/^(12D3KooW|Qm)/.test(peer)) throw Object.assign(new Error(`"${peer}" is not a libp2p peer id`), { code: 'BAD_PEER_ID' })
    const entry = { peerId: peer, reason, until: Date.now() + ms }
    this.banned.set(peer, entry)
    this.emit('peer:banned', entry)
    return entry
  }

  unban(peer: string): boolean {
    return this.banned.delete(peer)
  }

  /** Addresses dialed; one with port 1 fails as a refused dial does. */
  readonly dialed: string[] = []

  async connect(addr: string): Promise<string> {
    if (!addr.startsWith('/ip4/')) throw Object.assign(new Error(`address: "${addr}" is not a valid multiaddr`), { code: 'BAD_CONFIG' })
    if (addr.includes('/tcp/1/') || addr.endsWith('/tcp/1')) throw Object.assign(new Error(`cannot connect to ${addr}: ECONNREFUSED`), { code: 'DIAL_FAILED' })
    this.dialed.push(addr)
    return PEER
  }
}

export interface RestApp {
  t: TestChain
  rpc: RpcServer
  app: FastifyInstance
  ctx: RestContext
  mempool: Mempool
  network?: FakeNetwork
  logger: Logger
  /** Every route Fastify registered (method, url), JSON-RPC's included. */
  routes: Array<{ method: string; url: string }>
  shutdowns: number
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>
  close(): Promise<void>
}

export interface RestAppOptions {
  spec?: ChainSpec
  /** What the REST API reads from an engine; its rules are also the importer's (unless `chain` is given). */
  engine?: EngineLike & { rules: BlockRules }
  /** A chain opened by the caller (e.g. a PoH chain whose importer applies PohRules); `spec` is ignored. */
  chain?: TestChain
  apiKeys?: string[]
  rateLimitPerMinute?: number
  network?: boolean
  thresholds?: Partial<AlertThresholds>
  shutdown?: boolean
  now?: () => number
}

export async function restApp(opts: RestAppOptions = {}): Promise<RestApp> {
  const t = opts.chain ?? (await openTestChain({ ...(opts.spec ? { spec: opts.spec } : {}), ...(opts.engine ? { engine: opts.engine.rules } : {}) }))
  const { logger } = captureLogger()
  const spec = t.spec
  const mempool = new Mempool({
    common: t.common,
    chainId: spec.chainId,
    getAccount: async (address) => {
      const a = await t.executor.readAccount(t.chain.head.header.stateRoot, address)
      return { nonce: a?.nonce ?? 0n, balance: a?.balance ?? 0n }
    },
    limits: () => {
      const p = paramsAt(spec, t.chain.head.header.height + 1n)
      return { minGasPrice: p.monetary.minGasPrice, baseFee: nextBaseFee(t.chain.head.header, spec.feeMarket), blockGasLimit: p.limits.blockGasLimit, maxTxBytes: p.limits.maxTxBytes }
    },
  })
  t.chain.on('block', (b) => void mempool.onNewHead(b.block.txs.map((tx: { hash(): Uint8Array }) => tx.hash())))
  const rpc = createRpcServer({ methods: { eth_chainId: () => '0x539' }, logger })
  const routes: Array<{ method: string; url: string }> = []
  rpc.app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url })
  })
  const network = opts.network ? new FakeNetwork() : undefined
  const state = { shutdowns: 0 }
  const ctx = await registerRestApi(rpc.app, {
    chain: t.chain,
    mempool,
    engine: opts.engine ?? { type: spec.engine.type, rules: {} },
    ...(network ? { network } : {}),
    readAccount: (root, address: Address) => t.executor.readAccount(root, address),
    readCode: (root, address: Address) => t.executor.readOnlyWorld(root).manager.getCode(address),
    logger,
    clientVersion: 'Catena/test',
    apiKeys: opts.apiKeys ?? [],
    rateLimitPerMinute: opts.rateLimitPerMinute ?? 0,
    ...(opts.shutdown ? { shutdown: () => { state.shutdowns++ } } : {}),
    ...(opts.thresholds ? { thresholds: opts.thresholds } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  })
  // A surface registered after the REST API, as metrics and health are in the node.
  await rpc.app.register(async (scope) => {
    scope.get('/v1/later', { schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, async () => ({ ok: true }))
  })
  await rpc.app.ready()
  return {
    t,
    rpc,
    app: rpc.app,
    ctx,
    mempool,
    ...(network ? { network } : {}),
    logger,
    routes,
    get shutdowns() {
      return state.shutdowns
    },
    get: (url, headers) => rpc.app.inject({ method: 'GET', url, ...(headers ? { headers } : {}) }),
    close: () => rpc.close(),
  }
}
