/**
 * Starts a light client: the chain spec's genesis (or a --checkpoint) as the trusted start, the engine's header
 * rules, the sources, a first header sync, then a sync round every `syncEveryMs` (never two at
 * once), and the JSON-RPC on 127.0.0.1. Engines whose headers the client cannot check yet are
 * refused at start with a clear error.
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { blockHash } from '../../chain/block.ts'
import { commonScheduleFor } from '../../chain/chain.ts'
import { buildGenesis } from '../../chain/genesis.ts'
import type { BlockRules } from '../../chain/rules.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'
import { BftRules } from '../../consensus/bft-engine/rules.ts'
import { ValidatorSchedule } from '../../consensus/bft-engine/config.ts'
import { devRules } from '../../consensus/dev-seal.ts'
import { PowRules } from '../../consensus/pow/rules.ts'
import type { CallOutcome } from '../../execution/index.ts'
import { ethereumCustomCrypto } from '../../crypto/secp256k1.ts'
import { makeCommon } from '../../execution/index.ts'
import { MemoryStore } from '../../storage/index.ts'
import { createRpcServer, type RpcServer } from '../../api/rpc/server.ts'
import { BftMembership, type SnapshotReader } from './bft-membership.ts'
import { BftHeaderSync } from './bft-sync.ts'
import { PohHeaderFollow, PohLightRules, provenTxHashes } from './poh-follow.ts'
import type { LightHeaderChain } from './header-chain.ts'
import { RpcHeaderSource } from './header-source.ts'
import { ancestorWindow, fetchCheckpoint } from './checkpoint.ts'
import { LightClient, VerificationError } from './client.ts'
import { localCall } from './local-call.ts'
import { lightMethods } from './methods.ts'
import { LightPeers } from './p2p-peers.ts'
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
  /** A block hash the user vouches for: headers are followed from it instead of genesis. */
  checkpoint?: Uint8Array
  /** PoH: re-hash every slot's PoH too (each block's body fetched, proven against its txRoot). */
  pohRehash?: boolean
  /** BFT: how long a trusted header vouches for headers skipped to (default: defaultTrustPeriodSeconds). */
  trustPeriodSeconds?: bigint
  /** Full nodes' libp2p multiaddrs: each connected one is a header source too (p2p-peers.ts). */
  bootnodes?: string[]
  /** With bootnodes: listen for peers on 127.0.0.1 at this port; none: dial only. */
  p2pPort?: number
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
  // BFT headers are proven by certificates (bft-sync.ts); the rules give finality and the seal's shape.
  if (spec.engine.type === 'bft') return new BftRules(spec.chainId, new ValidatorSchedule(spec.engine.validators), spec.engine.staking)
  // PoH headers are checked by their follower (poh-follow.ts) and final once votes confirm them.
  if (spec.engine.type === 'poh') return new PohLightRules()
  // Dev headers carry their one producer's signature, checked from the header alone (work 1 a block).
  if (!spec.engine.signer) throw new Error(`chain "${spec.name}" is a dev chain without engine.signer: its blocks are not signed, so a light client has nothing to verify them by (name a signer in its genesis file)`)
  return devRules(spec.engine)
}

/**
 * The trust period (CometBFT's advice): 2/3 of the unbonding time on PoS chains, while a
 * validator that signs a fork can still be slashed; a week on PoA chains.
 */
export function defaultTrustPeriodSeconds(spec: ChainSpec): bigint {
  if (spec.engine.type === 'bft' && spec.engine.staking) return BigInt(Math.max(1, Math.floor((spec.engine.staking.unbondingBlocks * spec.blockTimeMs * 2) / 3 / 1000)))
  return 7n * 24n * 3600n
}

export async function startLightClient(o: LightStartOptions): Promise<RunningLightClient> {
  if (o.rpcUrls.length === 0) throw new Error('give at least one full node with --rpc <url>')
  const rules = lightRules(o.spec)
  const sources = o.rpcUrls.map((u) => new RpcSource(u))
  const common = makeCommon(o.spec.chainId, ethereumCustomCrypto())
  const genesis = await buildGenesis(o.spec, new MemoryStore(), common)
  const commons = commonScheduleFor(o.spec, common)
  // BFT: a system contract's snapshot() runs here over proven state (the sources never name the validators).
  let reader: LightClient | undefined
  const read: SnapshotReader = async (at, contract, data) => {
    const out = (await localCall(reader!, o.spec, commons, { ...at, work: 0n }, { to: contract, data }, 'call')) as CallOutcome
    if (!out.success) throw new VerificationError(`snapshot() of ${bytesToHex(contract)} after block ${at.header.height} failed over proven state: ${out.error ?? 'reverted'}`)
    return out.returnValue
  }
  const engine = o.spec.engine
  const follower =
    engine.type === 'bft'
      ? (chain: LightHeaderChain) =>
          new BftHeaderSync({ chain, membership: new BftMembership(engine, o.spec, read), chainId: o.spec.chainId, trustPeriodSeconds: o.trustPeriodSeconds ?? defaultTrustPeriodSeconds(o.spec), now: () => BigInt(Math.floor(Date.now() / 1000)), log: o.log })
      : engine.type === 'poh' && rules instanceof PohLightRules
        ? (chain: LightHeaderChain) =>
            new PohHeaderFollow({ chain, spec: { ...o.spec, engine }, read, rules, log: o.log, ...(genesis.stakes ? { genesisStakes: genesis.stakes } : {}), ...(o.pohRehash ? { txHashes: (l) => provenTxHashes(reader!, l) } : {}) })
        : undefined
  const genesisHash = blockHash(genesis.header)
  // From a checkpoint: its header and the ancestors its engine reads, bound to the hash given; genesis is always known.
  const start = o.checkpoint ? await fetchCheckpoint(sources.map((s) => new RpcHeaderSource(s)), o.checkpoint, ancestorWindow(o.spec)) : undefined
  const client = new LightClient({
    spec: o.spec,
    commons,
    rules,
    ...(start ? { ancestors: [genesis.header, ...start.ancestors.filter((h) => h.height > 0n)] } : {}),
    ...(follower ? { follower } : {}),
    checkpoint: start ? { hash: start.hash, header: start.header, work: 0n } : { hash: genesisHash, header: genesis.header, work: 0n },
    sources,
    log: o.log,
    ...(o.progress ? { progress: o.progress } : {}),
  })
  reader = client
  const store = o.datadir ? await LightHeaderStore.open(o.datadir, genesisHash, client.headers.checkpoint.hash) : undefined
  if (store) {
    const loaded = store.load(client.headers)
    if (loaded > 0) o.progress?.(`headers: ${loaded} loaded from ${o.datadir} and checked again, head ${client.headers.head.header.height}`)
  }
  // --bootnodes: each full node connected over libp2p is one more header source.
  const peers = o.bootnodes?.length
    ? await LightPeers.start({
        spec: o.spec,
        genesisHash,
        ...(commons.forksChainId ? { chainIdAt: (h: bigint) => commons.chainIdAt(h) } : {}),
        bootnodes: o.bootnodes,
        ...(o.p2pPort !== undefined ? { p2pPort: o.p2pPort } : {}),
        ...(o.datadir ? { datadir: o.datadir } : {}),
        log: o.log,
      }).catch(async (err) => {
        await store?.close()
        throw err
      })
    : undefined
  peers?.attach(client.headerSources)
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
      await peers?.stop()
      await store?.close()
    },
  }
}
