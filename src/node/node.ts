/**
 * The composition root: the only place that knows every part. Builds storage, chain,
 * execution, mempool, consensus engine and JSON-RPC from a chain spec and a config, in
 * order, and shuts them down in reverse (like Lodestar's nodejs.ts).
 */
import { rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Address, bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { BlockError } from '../chain/errors.ts'
import { Chain, type ImportedBlock } from '../chain/chain.ts'
import { BlockImporter, type ExecutedBlock } from '../chain/import.ts'
import { finalityAt } from '../chain/rules.ts'
import { nextBaseFee } from '../chain/basefee.ts'
import { loadChainSpec, paramsAt, type ChainSpec } from '../chain/spec/index.ts'
import { ethereumCustomCrypto, SECP256K1_BACKEND } from '../crypto/secp256k1.ts'
import { KECCAK_BACKEND } from '../crypto/hash.ts'
import { CallPool, DEFAULT_RPC_GAS_CAP, Executor, makeCommon, prefillSenders } from '../execution/index.ts'
import { ParallelExecutor } from '../execution/parallel/index.ts'
import { Mempool } from '../mempool/pool.ts'
import { LevelStore, type KeyValueStore } from '../storage/index.ts'
import { EngineParamsError, EngineUnavailableError, type ConsensusEngine, type EngineHost } from '../consensus/index.ts'
import { createRpcServer, type RpcHandler, type RpcServer } from '../api/rpc/server.ts'
import { SubscriptionHub } from '../api/rpc/subscriptions.ts'
import { DEFAULT_WORK_BUDGET } from '../api/rpc/work-budget.ts'
import { registerOperations } from '../api/health.ts'
import { RpcError, RpcErrorCode, invalidParams } from '../api/rpc/errors.ts'
import { ethMethods, formatHeader, blockLogs, type EthBackend } from '../api/eth/index.ts'
import { blockHash, blockSize, type Block, type BlockHeader, type RawBlock } from '../chain/block.ts'
import type { Network, ValidatorIdentities } from '../net/index.ts'
import type { BlockSync, TxRelay } from '../sync/index.ts'
import { requeueOnReorg, warnOnEvictions } from './mempool-events.ts'
import { networkLimitsFor } from './network-limits.ts'
import { txForwarding } from './tx-forwarding.ts'
import { createEngine } from './engine-factory.ts'
import { assertPrivateFile, preparePrivateDir, readPrivateFile } from './private-files.ts'

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
  /** RPC limits and checks (geth's --rpc.gascap, --rpc.evmtimeout, --http.vhosts, --ws.origins): see api/rpc/server.ts. */
  rpc?: { gasCap?: bigint; evmTimeoutMs?: number; callThreads?: number; vhosts?: string[]; wsOrigins?: string[]; maxConnectionsPerIp?: number }
  /** fsync every block batch (survives power loss, not just a killed process); off by default. */
  syncWrites?: boolean
  /** A file holding this node's validator private key (hex), for BFT chains. */
  validatorKeyFile?: string
  /** Misbehave on purpose (attack lab, slashing tests): 'double-vote' signs conflicting prevotes. */
  /** Misbehave on purpose (attack labs, slashing tests): BFT double votes, PoH double-signed blocks. */
  byzantine?: 'double-vote' | 'double-sign' | 'bad-poh' | 'fork'
  /** PoW chains: mine blocks (to --coinbase). */
  mine?: boolean
  /** PoW chains: miner worker threads (default: one per core). */
  minerThreads?: number
  /** P2P TCP port (0 = any free port); networking is off when undefined. */
  p2pPort?: number
  p2pHost?: string
  /** Multiaddrs of peers to dial (with /p2p/<peer id>). */
  bootnodes?: string[]
  /** REST admin API keys: a file with one key per line (the CATENA_API_KEY variable adds one); none = admin routes closed. */
  apiKeyFile?: string
  /** REST requests per minute per client IP (0 = off); default: CATENA_REST_RATE_LIMIT, else 600. */
  restRateLimit?: number
  /** What POST /v1/admin/shutdown calls (the CLI passes its signal shutdown); default: node.stop(). */
  onShutdownRequest?: () => unknown
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
    private readonly p2p?: { network: Network; sync: BlockSync; relay: TxRelay; identities?: ValidatorIdentities },
    /** Parallel-execution chains: the block runner, whose worker threads stop with the node. */
    private readonly parallel?: ParallelExecutor,
  ) {}

  static async start(cfg: NodeConfig): Promise<CatenaNode> {
    const log = cfg.logger
    const spec = loadChainSpec(cfg.chain)
    // Secrets others can read are refused before anything starts (as ssh refuses such a key).
    if (cfg.validatorKeyFile !== undefined) await assertPrivateFile(cfg.validatorKeyFile, 'validator key file')
    if (cfg.apiKeyFile !== undefined) await assertPrivateFile(cfg.apiKeyFile, 'API key file')
    await preparePrivateDir(cfg.datadir, log)
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
    // BFT blocks are served and imported only with their certificates (see Chain.open).
    const chain = await Chain.open(store, spec, common, { needsProofs: spec.engine.type === 'bft' })
    // Txs and blocks at each height use that height's Common (a fork may change the chain id).
    const commons = chain.commons
    const executor = new Executor(store, commons, (h) => chain.getHashAt(h))
    executor.stateCache.reset(chain.head.header.stateRoot)
    // eth_call / eth_estimateGas run on worker threads, never on the thread that produces blocks.
    const calls = new CallPool({ store, hashAt: (h) => chain.getHashAt(h), chainIdAt: (h) => commons.chainIdAt(h), threads: cfg.rpc?.callThreads, timeoutMs: cfg.rpc?.evmTimeoutMs, logger: log })

    const nextFee = () => nextBaseFee(chain.head.header, spec.feeMarket)
    const mempool = new Mempool({
      // The pool admits txs for the next block, under the chain id in force there.
      get common() {
        return commons.at(chain.head.header.height + 1n)
      },
      get chainId() {
        return commons.chainIdAt(chain.head.header.height + 1n)
      },
      getAccount: async (address) => {
        const a = await executor.readAccount(chain.head.header.stateRoot, address)
        return { nonce: a?.nonce ?? 0n, balance: a?.balance ?? 0n }
      },
      // Permissioned chains: the account allowlist in force for the next block.
      isSenderAllowed: (address) => chain.permissions.after(chain.head.header.height)?.allowsAccount(address.bytes) ?? true,
      limits: () => {
        const p = paramsAt(spec, chain.head.header.height + 1n)
        return { minGasPrice: p.monetary.minGasPrice, baseFee: nextFee(), blockGasLimit: p.limits.blockGasLimit, maxTxBytes: p.limits.maxTxBytes }
      },
    })

    const network = cfg.p2pPort === undefined ? undefined : await startNetwork(cfg, chain, log)
    // Read once: the engine signs with it, and tx forwarding proves this node's validator identity with it.
    const validatorKey = cfg.validatorKeyFile ? await readValidatorKey(cfg.validatorKeyFile) : undefined
    const engine = await createEngine(spec, cfg, { network, common: commons, chain, validatorKey })
    // A chain spec with execution.parallel builds and replays every block in parallel batches
    // (its own worker threads, apart from the RPC's call threads): a rule of the chain, so the
    // producer and every validator run the same batches.
    const parallel = spec.execution?.parallel ? new ParallelExecutor(executor, { store, hashAt: (h) => chain.getHashAt(h), logger: log }) : undefined
    // Its threads load in the background while the node starts: the first parallel block must not wait a second or more for them.
    parallel?.warm().catch((err) => log.warn({ err }, 'starting the parallel execution threads failed (they start at the first block instead)'))
    const importer = new BlockImporter(chain, executor, engine.rules, parallel ? { parallel } : {})
    // Set before sync starts: a catch-up at start-up may already switch branches.
    requeueOnReorg(chain, mempool, log)
    warnOnEvictions(mempool, log)
    // A syncing node recovers the tx senders of fetched blocks on a call thread while it imports the ones before.
    const prefill = (blocks: RawBlock[]) => prefillSenders(calls, blocks.map((b) => ({ chainId: commons.chainIdAt(b.header.height), bodyBytes: b.bodyBytes })))
    const p2p = network ? await startSync(network, chain, importer, mempool, log, engine, prefill, validatorKey) : undefined

    const hub = new SubscriptionHub({ logger: log })
    const backend: EthBackend = {
      chain,
      common,
      mempool,
      calls,
      clientVersion: CLIENT_VERSION,
      finality: () => finalityAt(engine.rules, chain.head.header.height),
      callGas: () => ({ default: paramsAt(spec, chain.head.header.height + 1n).limits.blockGasLimit, cap: cfg.rpc?.gasCap ?? DEFAULT_RPC_GAS_CAP }),
      suggestedTip: () => (spec.feeMarket.initialBaseFee === 0n && spec.monetary.minGasPrice === 0n ? 0n : 1_000_000_000n),
      peerCount: () => p2p?.network.peers().length ?? 0,
      nextBaseFee: nextFee,
      txSubmitted: (hash, status) => engine.txSubmitted(hash, status),
      readAccount: (root, address) => executor.readAccount(root, address),
      worldAt: (root) => executor.readOnlyWorld(root),
      ...(engine.rules.blockWork ? { blockWork: (hash: Uint8Array, header: BlockHeader) => ({ difficulty: engine.rules.blockWork!(header), total: chain.getWork(hash) }) } : {}),
    }
    const methods: Record<string, RpcHandler> = { ...ethMethods(backend), catena_permissions: async () => permissionsJSON(chain) }
    for (const [name, fn] of Object.entries(engine.rpcMethods())) {
      methods[name] = async (params) => {
        try {
          return await fn(params)
        } catch (err) {
          if (err instanceof EngineParamsError) throw invalidParams(err.message)
          if (err instanceof EngineUnavailableError) throw new RpcError(RpcErrorCode.SERVER_ERROR, err.message)
          throw err
        }
      }
    }
    const rpc = createRpcServer({ host: cfg.rpcHost, port: cfg.rpcPort, methods, hub, logger: log, cors: cfg.corsOrigins, onRequest: (m, ms, ok) => operations.metrics.observeRpc(m, ms, ok),
      workBudget: { ...DEFAULT_WORK_BUDGET, timeoutMs: cfg.rpc?.evmTimeoutMs ?? DEFAULT_WORK_BUDGET.timeoutMs },
      vhosts: cfg.rpc?.vhosts, wsOrigins: cfg.rpc?.wsOrigins, maxConnectionsPerIp: cfg.rpc?.maxConnectionsPerIp })
    rpc.app.addHook('preClose', async () => calls.close()) // running calls end now, not at their deadline
    // HTTP surfaces beside JSON-RPC on the same port (REST /v1 + OpenAPI, metrics and health, explorer).
    // Each registers itself on rpc.app below, one call per surface, before rpc.listen().
    // -- http surfaces: rest --
    {
      const rest = await import('../api/rest/index.ts')
      await rest.registerRestApi(rpc.app, {
        chain,
        mempool,
        engine,
        ...(network ? { network } : {}),
        readAccount: (root, address) => executor.readAccount(root, address),
        readCode: (root, address) => executor.readOnlyWorld(root).manager.getCode(address),
        // As eth_call on "latest": on top of the head, as if in the next block.
        callAtHead: (req) => {
          const head = chain.head
          const ctx = { height: head.header.height + 1n, timestamp: head.header.timestamp, producer: head.header.producer, gasLimit: head.header.gasLimit, baseFee: nextFee(), parentHash: head.hash }
          return calls.call(head.header.stateRoot, ctx, req, backend.callGas())
        },
        logger: log,
        clientVersion: CLIENT_VERSION,
        apiKeys: await rest.loadApiKeys({ file: cfg.apiKeyFile, env: process.env[rest.API_KEY_ENV] }),
        ...(cfg.restRateLimit !== undefined ? { rateLimitPerMinute: cfg.restRateLimit } : {}),
        // `node` exists by the time anyone can call the route (the server listens after it is built).
        shutdown: () => (cfg.onShutdownRequest ? cfg.onShutdownRequest() : node.stop()),
      })
    }
    // -- http surfaces: metrics/health --
    // (set up before listen(), so it exists by the first request the onRequest hook above sees)
    const operations = registerOperations(rpc.app, { chain, mempool, engine, importer, spec, network, sync: p2p?.sync, bootnodes: cfg.bootnodes ?? [], finalizedHeight: () => backend.finality().finalized,
      ...(p2p?.relay.forwarder ? { txForwardStats: () => p2p.relay.forwarder!.stats } : {}) })
    // -- http surfaces: explorer --
    const { registerExplorer } = await import('../api/explorer.ts')
    registerExplorer(rpc, { logger: log })

    // Every new block (produced here or imported) updates the pool; production waits on it.
    let headUpdate: Promise<void> = Promise.resolve()
    chain.on('block', (b: ImportedBlock) => {
      headUpdate = mempool.onNewHead(b.block.txs.map((tx) => tx.hash()))
      if (engine.announces?.(b) ?? true) void p2p?.sync.announce(b)
      const permissions = chain.permissions.inForce(b.block.header.height + 1n)
      if (permissions && permissions.since === b.block.header.height + 1n && b.block.header.height > 0n) {
        log.info({ height: Number(b.block.header.height), version: Number(permissions.value.version) }, 'permissions changed on chain')
        if (network) void network.enforceAllowlist((peer) => permissions.value.allowsNode(peer))
      }
      // While catching up, the sync's progress line (once a second) says it: a line per block cost ~5% of import.
      const level = p2p?.sync.isSyncing ? 'debug' : 'info'
      log[level](
        { height: Number(b.block.header.height), hash: bytesToHex(b.hash), txs: b.block.txs.length, gasUsed: Number(b.block.header.gasUsed) },
        'block imported',
      )
      if (hub.count() === 0) return
      hub.publishNewHead(formatHeader(b.hash, b.block.header, blockSize(b.block), backend.blockWork?.(b.hash, b.block.header)))
      const logs = blockLogs(b.hash, b.block, b.receipts)
      if (logs.length > 0) hub.publishLogs(logs)
    })
    mempool.on('added', (entry) => hub.publishPendingTransaction(entry.hashHex))

    // `deadline` (ms since the epoch): no more txs are handed out after it (a PoH leader builds within its slot).
    const mempoolSource = (deadline?: number) => {
      const source = mempool.executable(nextFee())
      const iter = source[Symbol.iterator]()
      return {
        ...(deadline !== undefined ? { deadline } : {}),
        next: () => {
          if (deadline !== undefined && Date.now() > deadline) return undefined
          const r = iter.next()
          return r.done ? undefined : r.value.tx
        },
        skipSender: (sender: Uint8Array) => source.skipSender(new Address(sender)),
      }
    }
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
      onHead: (listener) => {
        chain.on('block', listener)
        return () => chain.off('block', listener)
      },
      produce: async ({ timestamp, seal }) => {
        const produced = await importer.produce({ timestamp, producer: engine.producer, seal, source: mempoolSource() })
        // Txs that can no longer execute leave the pool, as geth drops invalid txs.
        for (const r of produced.rejected) mempool.remove(r.tx.hash())
        await headUpdate
        return produced
      },
      // What engines that propose before they commit (BFT) use: build, validate, commit.
      build: async ({ timestamp, producer, presetSeal, deadline, parentHash }) => {
        const built = await importer.build({ timestamp, producer, presetSeal, source: mempoolSource(deadline), ...(parentHash ? { parentHash } : {}) })
        for (const r of built.execution.rejected) mempool.remove(r.tx.hash())
        return built
      },
      validate: (block: Block) => importer.validate(block),
      commit: async (executed: ExecutedBlock, proof: Uint8Array) => {
        // Block sync may import the same decided block first, even while this commit waits its turn.
        const hash = blockHash(executed.block.header)
        const alreadyHead = () => (equalsBytes(chain.head.hash, hash) ? { hash, block: executed.block, receipts: chain.getReceipts(hash)! } : undefined)
        const known = alreadyHead()
        if (known) return known
        try {
          // Durable: the validator prunes its vote log of this height right after.
          const imported = await importer.commit(executed, { proof, durable: true })
          await headUpdate
          return imported
        } catch (err) {
          const raced = err instanceof BlockError && (err.code === 'NOT_EXTENDING_HEAD' || err.code === 'ALREADY_KNOWN') ? alreadyHead() : undefined
          if (raced) return raced
          throw err
        }
      },
      blockAt: (height: bigint) => chain.getBlockAt(height),
      proofOf: (hash: Uint8Array) => chain.getProof(hash),
      requestSync: () => p2p?.sync.requestSync(),
      reorganize: async (tip: Uint8Array) => {
        await importer.switchTo(tip)
        await headUpdate
      },
      onSideBlock: (listener) => {
        chain.on('side', listener)
        return () => chain.off('side', listener)
      },
      blockByHash: (hash: Uint8Array) => chain.getBlock(hash),
      publishBlock: (block: Block) => void p2p?.sync.announce({ hash: blockHash(block.header), block, receipts: [] }),
    }

    const { url, wsUrl } = await rpc.listen()
    const node = new CatenaNode(spec, chain, mempool, engine, rpc, store, log, cfg.datadir, url, wsUrl, p2p, parallel)
    await engine.start(host)
    await node.writeInfoFile()
    log.info({ chain: spec.name, chainId: Number(spec.chainId), head: Number(chain.head.header.height), rpc: url, ws: wsUrl, parallelExecution: parallel !== undefined }, 'Catena node started')
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
      await this.p2p.identities?.stop()
      await this.p2p.sync.stop()
      await this.p2p.network.stop()
    }
    await this.rpc.close()
    // Nothing builds or imports blocks any more: their threads can go.
    await this.parallel?.close()
    await this.store.close()
    await rm(join(this.datadir, 'node.json'), { force: true })
  }
}

async function startNetwork(cfg: NodeConfig, chain: Chain, log: Logger): Promise<Network> {
  // Loaded only when networking is on: libp2p is large and needs its polyfill first.
  const { createNetwork } = await import('../net/index.ts')
  const network = await createNetwork({
    datadir: cfg.datadir,
    listen: [`/ip4/${cfg.p2pHost ?? '127.0.0.1'}/tcp/${cfg.p2pPort}`],
    bootnodes: cfg.bootnodes ?? [],
    chainId: chain.spec.chainId,
    ...(chain.commons.forksChainId ? { chainIdAt: (h: bigint) => chain.commons.chainIdAt(h) } : {}),
    genesisHash: chain.genesisHash,
    head: () => ({ height: chain.head.header.height, hash: chain.head.hash, work: chain.getWork(chain.head.hash) }),
    // Permissioned chains: the node allowlist in force at our head.
    isAllowed: (peerId) => chain.permissions.after(chain.head.header.height)?.allowsNode(peerId) ?? true,
    limits: networkLimitsFor(chain.spec),
    logger: log,
  })
  await network.start()
  return network
}

async function startSync(
  network: Network,
  chain: Chain,
  importer: BlockImporter,
  mempool: Mempool,
  log: Logger,
  engine: ConsensusEngine,
  prefill: (blocks: RawBlock[]) => Promise<void>,
  validatorKey?: Uint8Array,
) {
  const { BlockSync, TxRelay } = await import('../sync/index.ts')
  const sync = new BlockSync({ network, chain, importer, log, prefill })
  // Engines that know the coming leaders (PoH): txs go to the leaders' peers, which prove who they are.
  const fwd = await txForwarding(network, chain, engine, log, validatorKey)
  const relay = new TxRelay(network, mempool, log, fwd ? { forward: fwd.forward } : {})
  await sync.start()
  await relay.start()
  return { network, sync, relay, ...(fwd ? { identities: fwd.identities } : {}) }
}

async function readValidatorKey(file: string): Promise<Uint8Array> {
  const text = (await readPrivateFile(file, 'validator key file')).trim()
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(text)) throw new Error(`${file} must hold a 32-byte hex private key`)
  return hexToBytes(`0x${text.replace(/^0x/, '')}`)
}

/** catena_permissions: the permissions in force for the next block, or null on an open chain. */
function permissionsJSON(chain: Chain) {
  const head = chain.head.header.height
  const p = chain.permissions.inForce(head + 1n)
  if (!p) return null
  const s = p.value.snapshot
  return {
    version: `0x${s.version.toString(16)}`,
    since: `0x${p.since.toString(16)}`,
    admins: s.admins.map((a) => bytesToHex(a)),
    validators: s.validators.map((v) => ({ address: bytesToHex(v.address), power: `0x${v.power.toString(16)}` })),
    accountsRestricted: s.accountsRestricted,
    accounts: s.accounts.map((a) => bytesToHex(a)),
    nodesRestricted: s.nodesRestricted,
    nodes: s.nodes,
  }
}
