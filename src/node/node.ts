/**
 * The composition root: the only place that knows every part. Builds storage, chain,
 * execution, mempool, consensus engine and JSON-RPC from a chain spec and a config, in
 * order, and shuts them down in reverse (like Lodestar's nodejs.ts).
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Address, bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { Chain, type ImportedBlock } from '../chain/chain.ts'
import { BlockImporter } from '../chain/import.ts'
import { nextBaseFee } from '../chain/basefee.ts'
import { loadChainSpec, paramsAt, type ChainSpec } from '../chain/spec/index.ts'
import { ethereumCustomCrypto, SECP256K1_BACKEND } from '../crypto/secp256k1.ts'
import { KECCAK_BACKEND } from '../crypto/hash.ts'
import { CallRunner, Executor, makeCommon } from '../execution/index.ts'
import { Mempool } from '../mempool/pool.ts'
import { LevelStore, type KeyValueStore } from '../storage/index.ts'
import { DevEngine, DEV_COINBASE, EngineParamsError, type ConsensusEngine, type EngineHost } from '../consensus/index.ts'
import { createRpcServer, type RpcServer } from '../api/rpc/server.ts'
import { SubscriptionHub } from '../api/rpc/subscriptions.ts'
import { invalidParams } from '../api/rpc/errors.ts'
import { ethMethods, formatHeader, blockLogs, type EthBackend } from '../api/eth/index.ts'
import { blockSize } from '../chain/block.ts'
import type { Network } from '../net/index.ts'
import type { BlockSync, TxRelay } from '../sync/index.ts'
import type { Common } from '@ethereumjs/common'

export const CLIENT_VERSION = `Catena/v0.1.0/${process.platform}-${process.arch}/node${process.versions.node}`

export interface NodeConfig {
  /** Preset name or path to a genesis JSON file. */
  chain: string
  datadir: string
  rpcHost: string
  rpcPort: number
  logger: Logger
  /** Address credited for blocks this node produces. */
  coinbase?: string
  /** Overrides of the dev engine's spec settings. */
  automine?: boolean
  blockIntervalMs?: number
  /** Origins allowed to call the RPC from a browser; none by default. */
  corsOrigins?: string[]
  /** fsync every block batch (survives power loss, not just a killed process); off by default. */
  syncWrites?: boolean
  /** P2P TCP port (0 = any free port); networking is off when undefined. */
  p2pPort?: number
  p2pHost?: string
  /** Multiaddrs of peers to dial (with /p2p/<peer id>). */
  bootnodes?: string[]
}

/** Written to <datadir>/node.json once the node serves RPC, so scripts and tests find it. */
export interface NodeInfoFile {
  rpcUrl: string
  wsUrl: string
  pid: number
  chainId: string
  genesisHash: string
  /** With networking on: this node's peer id and dialable multiaddrs (with /p2p/<peer id>). */
  peerId?: string
  p2p?: string[]
}

export class CatenaNode {
  private constructor(
    readonly spec: ChainSpec,
    readonly chain: Chain,
    readonly mempool: Mempool,
    readonly engine: ConsensusEngine,
    private readonly rpc: RpcServer,
    private readonly store: KeyValueStore,
    private readonly log: Logger,
    private readonly datadir: string,
    readonly rpcUrl: string,
    readonly wsUrl: string,
    private readonly p2p?: { network: Network; sync: BlockSync; relay: TxRelay },
  ) {}

  static async start(cfg: NodeConfig): Promise<CatenaNode> {
    const log = cfg.logger
    const spec = loadChainSpec(cfg.chain)
    await mkdir(cfg.datadir, { recursive: true })
    const store = await LevelStore.open(join(cfg.datadir, 'chaindata'), { syncWrites: cfg.syncWrites })
    try {
      return await CatenaNode.assemble(cfg, spec, store, log)
    } catch (err) {
      await store.close()
      throw err
    }
  }

  private static async assemble(cfg: NodeConfig, spec: ChainSpec, store: KeyValueStore, log: Logger): Promise<CatenaNode> {
    const common = makeCommon(spec.chainId, ethereumCustomCrypto())
    log.info({ secp256k1: SECP256K1_BACKEND, keccak: KECCAK_BACKEND }, 'crypto backends loaded')
    const chain = await Chain.open(store, spec, common)
    const executor = new Executor(store, common, (h) => chain.getHashAt(h))
    executor.stateCache.reset(chain.head.header.stateRoot)
    const calls = new CallRunner(common, executor)

    const nextFee = () => nextBaseFee(chain.head.header, spec.feeMarket)
    const mempool = new Mempool({
      common,
      chainId: spec.chainId,
      getAccount: async (address) => {
        const a = await executor.readAccount(chain.head.header.stateRoot, address)
        return { nonce: a?.nonce ?? 0n, balance: a?.balance ?? 0n }
      },
      limits: () => {
        const p = paramsAt(spec, chain.head.header.height + 1n)
        return { minGasPrice: p.monetary.minGasPrice, baseFee: nextFee(), blockGasLimit: p.limits.blockGasLimit, maxTxBytes: p.limits.maxTxBytes }
      },
    })

    const engine = createEngine(spec, cfg)
    const importer = new BlockImporter(chain, executor, engine)
    const p2p = cfg.p2pPort === undefined ? undefined : await startP2P(cfg, chain, importer, mempool, common, log)

    const hub = new SubscriptionHub({ logger: log })
    const backend: EthBackend = {
      chain,
      common,
      mempool,
      calls,
      clientVersion: CLIENT_VERSION,
      finalizedHeight: () => chain.head.header.height,
      rpcGasCap: () => paramsAt(spec, chain.head.header.height + 1n).limits.blockGasLimit,
      suggestedTip: () => (spec.feeMarket.initialBaseFee === 0n && spec.monetary.minGasPrice === 0n ? 0n : 1_000_000_000n),
      peerCount: () => p2p?.network.peers().length ?? 0,
      nextBaseFee: nextFee,
      txSubmitted: (hash, status) => engine.txSubmitted(hash, status),
      readAccount: (root, address) => executor.readAccount(root, address),
    }
    const methods = { ...ethMethods(backend) }
    for (const [name, fn] of Object.entries(engine.rpcMethods())) {
      methods[name] = async (params) => {
        try {
          return await fn(params)
        } catch (err) {
          if (err instanceof EngineParamsError) throw invalidParams(err.message)
          throw err
        }
      }
    }
    const rpc = createRpcServer({ host: cfg.rpcHost, port: cfg.rpcPort, methods, hub, logger: log, cors: cfg.corsOrigins })

    // Every new block (produced here or imported) updates the pool; production waits on it.
    let headUpdate: Promise<void> = Promise.resolve()
    chain.on('block', (b: ImportedBlock) => {
      headUpdate = mempool.onNewHead(b.block.txs.map((tx) => tx.hash()))
      void p2p?.sync.announce(b)
      log.info(
        { height: Number(b.block.header.height), hash: bytesToHex(b.hash), txs: b.block.txs.length, gasUsed: Number(b.block.header.gasUsed) },
        'block imported',
      )
      if (hub.count() === 0) return
      hub.publishNewHead(formatHeader(b.hash, b.block.header, blockSize(b.block)))
      const logs = blockLogs(b.hash, b.block, b.receipts)
      if (logs.length > 0) hub.publishLogs(logs)
    })
    mempool.on('added', (entry) => hub.publishPendingTransaction(entry.hashHex))

    const host: EngineHost = {
      head: () => chain.head,
      log,
      pendingTxCount: () => mempool.pendingCount,
      onPendingTx: (listener) => {
        mempool.on('added', listener)
        mempool.on('promoted', listener)
        return () => {
          mempool.off('added', listener)
          mempool.off('promoted', listener)
        }
      },
      produce: async ({ timestamp }) => {
        const source = mempool.executable(nextFee())
        const iter = source[Symbol.iterator]()
        const produced = await importer.produce({
          timestamp,
          producer: engine.producer,
          seal: (h) => engine.seal(h),
          source: {
            next: () => {
              const r = iter.next()
              return r.done ? undefined : r.value.tx
            },
            skipSender: (sender) => source.skipSender(new Address(sender)),
          },
        })
        // Txs that can no longer execute leave the pool, as geth drops invalid txs.
        for (const r of produced.rejected) mempool.remove(r.tx.hash())
        await headUpdate
        return produced
      },
    }

    const { url, wsUrl } = await rpc.listen()
    const node = new CatenaNode(spec, chain, mempool, engine, rpc, store, log, cfg.datadir, url, wsUrl, p2p)
    await engine.start(host)
    await node.writeInfoFile()
    log.info({ chain: spec.name, chainId: Number(spec.chainId), head: Number(chain.head.header.height), rpc: url, ws: wsUrl }, 'Catena node started')
    return node
  }

  private async writeInfoFile(): Promise<void> {
    const info: NodeInfoFile = {
      rpcUrl: this.rpcUrl,
      wsUrl: this.wsUrl,
      pid: process.pid,
      chainId: this.spec.chainId.toString(),
      genesisHash: bytesToHex(this.chain.genesisHash),
      ...(this.p2p ? { peerId: this.p2p.network.peerId, p2p: this.p2p.network.multiaddrs() } : {}),
    }
    const path = join(this.datadir, 'node.json')
    await writeFile(`${path}.tmp`, JSON.stringify(info, null, 2) + '\n')
    await rename(`${path}.tmp`, path)
  }

  async stop(): Promise<void> {
    this.log.info('stopping')
    await this.engine.stop()
    if (this.p2p) {
      this.p2p.relay.stop()
      await this.p2p.sync.stop()
      await this.p2p.network.stop()
    }
    await this.rpc.close()
    await this.store.close()
    await rm(join(this.datadir, 'node.json'), { force: true })
  }
}

async function startP2P(cfg: NodeConfig, chain: Chain, importer: BlockImporter, mempool: Mempool, common: Common, log: Logger) {
  // Loaded only when networking is on: libp2p is large and needs its polyfill first.
  const { createNetwork } = await import('../net/index.ts')
  const { BlockSync, TxRelay } = await import('../sync/index.ts')
  const network = await createNetwork({
    datadir: cfg.datadir,
    listen: [`/ip4/${cfg.p2pHost ?? '127.0.0.1'}/tcp/${cfg.p2pPort}`],
    bootnodes: cfg.bootnodes ?? [],
    chainId: chain.spec.chainId,
    genesisHash: chain.genesisHash,
    head: () => ({ height: chain.head.header.height, hash: chain.head.hash }),
    logger: log,
  })
  const sync = new BlockSync({ network, chain, importer, common, log })
  const relay = new TxRelay(network, mempool, log)
  await network.start()
  await sync.start()
  relay.start()
  return { network, sync, relay }
}

function createEngine(spec: ChainSpec, cfg: NodeConfig): ConsensusEngine {
  const producer = hexToBytes((cfg.coinbase ?? DEV_COINBASE) as `0x${string}`)
  switch (spec.engine.type) {
    case 'dev':
      return new DevEngine({
        automine: cfg.automine ?? spec.engine.automine,
        intervalMs: cfg.blockIntervalMs ?? spec.engine.intervalMs,
        producer,
      })
    case 'bft':
      // TODO(lead): new BftEngine({ chainId, config: spec.engine, privateKey, transport, common, datadir }) with a BftHost
      throw new Error('the bft engine is not wired into the node yet')
  }
}
