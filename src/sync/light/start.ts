/**
 * Starts a light client: the chain spec's genesis as the trusted start, the engine's header
 * rules, the sources, a first header sync, then a sync round every `syncEveryMs` (never two at
 * once), and the JSON-RPC on 127.0.0.1. Engines whose headers the client cannot check yet are
 * refused at start with a clear error.
 * @module
 */
import type { Logger } from 'pino'
import { blockHash } from '../../chain/block.ts'
import { commonScheduleFor } from '../../chain/chain.ts'
import { buildGenesis } from '../../chain/genesis.ts'
import type { BlockRules } from '../../chain/rules.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'
import { PowRules } from '../../consensus/pow/rules.ts'
import { ethereumCustomCrypto } from '../../crypto/secp256k1.ts'
import { makeCommon } from '../../execution/index.ts'
import { MemoryStore } from '../../storage/index.ts'
import { createRpcServer, type RpcServer } from '../../api/rpc/server.ts'
import { LightClient } from './client.ts'
import { lightMethods } from './methods.ts'
import { RpcSource } from './source.ts'
import { LightHeaderStore } from './store.ts'

export interface LightStartOptions {
  spec: ChainSpec
  rpcUrls: string[]
  rpcPort: number
  rpcHost?: string
  /** Where verified headers are kept across restarts (re-checked when loaded); none: memory only. */
  datadir?: string
  syncEveryMs?: number
  log: Logger
  clientVersion: string
  progress?: (line: string) => void
}

export interface RunningLightClient {
  client: LightClient
  rpc: RpcServer
  url: string
  stop(): Promise<void>
}

/** The engine's header rules a light client checks with; throws for engines it cannot check yet. */
export function lightRules(spec: ChainSpec): BlockRules {
  if (spec.engine.type === 'pow') return new PowRules(spec.engine, spec.blockTimeMs, { getHeader: () => undefined, getHashAt: () => undefined })
  throw new Error(`the light client checks Proof-of-Work headers so far; chain "${spec.name}" runs the ${spec.engine.type} engine, whose light verification (commit certificates, PoH votes, producer signatures) is not built yet`)
}

export async function startLightClient(o: LightStartOptions): Promise<RunningLightClient> {
  if (o.rpcUrls.length === 0) throw new Error('give at least one full node with --rpc <url>')
  const rules = lightRules(o.spec)
  const sources = o.rpcUrls.map((u) => new RpcSource(u))
  const common = makeCommon(o.spec.chainId, ethereumCustomCrypto())
  const genesis = await buildGenesis(o.spec, new MemoryStore(), common)
  const client = new LightClient({
    spec: o.spec,
    commons: commonScheduleFor(o.spec, common),
    rules,
    checkpoint: { hash: blockHash(genesis.header), header: genesis.header, work: 0n },
    sources,
    log: o.log,
    ...(o.progress ? { progress: o.progress } : {}),
  })
  const store = o.datadir ? await LightHeaderStore.open(o.datadir, client.headers.checkpoint.hash) : undefined
  if (store) {
    const loaded = store.load(client.headers)
    if (loaded > 0) o.progress?.(`headers: ${loaded} loaded from ${o.datadir} and checked again, head ${client.headers.head.header.height}`)
  }
  const syncRound = async () => {
    await client.sync()
    await store?.save(client.headers)
  }
  await syncRound()
  let stopped = false
  let round: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    round = round.then(() => (stopped ? undefined : syncRound())).catch((err) => o.log.warn({ err }, 'light sync round failed'))
  }, o.syncEveryMs ?? 2_000)
  const rpc = createRpcServer({ host: o.rpcHost ?? '127.0.0.1', port: o.rpcPort, methods: lightMethods({ client, spec: o.spec, rules, clientVersion: o.clientVersion }), logger: o.log })
  const { url } = await rpc.listen()
  return {
    client,
    rpc,
    url,
    async stop() {
      stopped = true
      clearInterval(timer)
      await round
      await rpc.close()
      await store?.close()
    },
  }
}
