/**
 * The canonical chain on disk: genesis, head, block/receipt/tx lookups, and block import
 * as ONE atomic batch (block, receipts, indexes, state, head). A process killed at any
 * instant restarts at its last committed head, with no repair step.
 * Blocks of other branches are stored too (by hash, off the canonical index); when a branch
 * gains more total work the canonical index, tx index and head switch to it in one batch.
 * Events: 'block' (ImportedBlock) for each block that becomes canonical, in order; 'reorg'
 * (Reorg) before the 'block' events of a branch switch; 'side' (ImportedBlock) for a block
 * stored on a branch with less work.
 */
import { EventEmitter } from 'node:events'
import { bigIntToBytes, bytesToBigInt, bytesToHex, concatBytes, equalsBytes } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import { CommonSchedule } from '../execution/common.ts'
import type { TypedTransaction } from '@ethereumjs/tx'
import { keys, SCHEMA_VERSION, heightKey, type BatchOp, type KeyValueStore } from '../storage/index.ts'
import { blockHash, decodeBody, decodeHeader, encodeBody, encodeHeader, type Block, type BlockHeader } from './block.ts'
import { decodeReceipts, encodeReceipts, type Receipt } from '../execution/index.ts'
import { BlockError } from './errors.ts'
import { loadPermissionsHistory, type Permissions } from './permissions.ts'
import { HeaderCache } from './header-cache.ts'
import { SnapshotHistory, type BranchStore } from './snapshots.ts'
import { decodeStakeSnapshot, type StakeSnapshot } from '../contracts/index.ts'
import { buildGenesis, u256 } from './genesis.ts'
import { addressIndexOps } from './address-index.ts'
import type { ChainSpec } from './spec/index.ts'

const RECENT_BLOCKS = 256

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  cache.set(key, value)
  if (cache.size > RECENT_BLOCKS) cache.delete(cache.keys().next().value!)
}

export interface ChainHead {
  hash: Uint8Array
  header: BlockHeader
}

export interface ImportedBlock {
  hash: Uint8Array
  block: Block
  receipts: Receipt[]
  /** The proof its engine required to import it (BFT: its commit certificate); empty for PoW and dev. */
  proof?: Uint8Array
}

export interface TxLocation {
  blockHash: Uint8Array
  height: bigint
  index: number
}

/** What an import commits besides the block: produced by execution. */
export interface BlockCommit {
  receipts: Receipt[]
  stateOps: BatchOp[]
  /** Total wei issued after this block (genesis allocations + all rewards so far). */
  issued: bigint
  /** Permissioned chains: the permissions contract's snapshot() after this block. */
  permissions?: Uint8Array
  /** PoS chains: the staking contract's snapshot() after this block, when it was read. */
  stakes?: Uint8Array
  /** Total work of the chain ending at this block (fork choice); default: parent's + 1. */
  work?: bigint
  /** The proof its engine requires (BFT: the commit certificate), stored in the block's batch. */
  proof?: Uint8Array
  /**
   * fsync the batch: the block survives a power cut, not only a killed process. A validator
   * commits this way, because it prunes its vote log of the block's height right after.
   */
  durable?: boolean
  /**
   * Runs once the block is stored and is the head, before 'block' listeners hear of it (the
   * executor moves its head state cache here, so their reads of the new head hit the cache).
   */
  onStored?: () => void
}

/** A reorganization: the canonical chain switched branches at `forkPoint`. */
export interface Reorg {
  forkPoint: ChainHead
  /** Blocks that left the canonical chain, oldest first. */
  disconnected: ImportedBlock[]
  /** Blocks that joined it, oldest first (the last is the new head). */
  connected: ImportedBlock[]
}

export class Chain extends EventEmitter {
  private headState!: ChainHead
  /** Permissioned chains: the permissions in force by height (empty otherwise). */
  permissions!: SnapshotHistory<Permissions>
  /** PoS chains: the staking contract's active validators by height (empty otherwise). */
  stakes!: SnapshotHistory<StakeSnapshot>
  private readonly headers = new HeaderCache()
  private genesis!: Uint8Array
  private importing: Promise<unknown> = Promise.resolve()
  // Recent blocks and receipts stay decoded: RPC clients poll the newest ones again and again.
  private readonly recentBlocks = new Map<string, Block>()
  private readonly recentReceipts = new Map<string, Receipt[]>()

  private constructor(
    readonly store: KeyValueStore,
    readonly spec: ChainSpec,
    /** The Common of each height: a fork may change the chain id (replay protection). */
    readonly commons: CommonSchedule,
  ) {
    super()
  }

  /** The genesis chain id's Common. */
  get common(): Common {
    return this.commons.genesis
  }

  /**
   * Opens the chain in `store`, writing genesis on first use; refuses a store of another chain.
   * `needsProofs`: the engine imports blocks only with a proof (BFT). A store written before
   * proofs were kept (schema 1) holds blocks without them: serving those would get this node
   * penalized by every peer, so it is refused, unless it holds nothing but genesis.
   */
  static async open(store: KeyValueStore, spec: ChainSpec, common: Common, opts: { needsProofs?: boolean } = {}): Promise<Chain> {
    const chain = new Chain(store, spec, commonScheduleFor(spec, common))
    const genesis = await buildGenesis(spec, store, common)
    const genesisHash = blockHash(genesis.header)
    const stored = store.get(keys.meta('genesis'))
    if (stored === undefined) {
      await store.batch([
        ...genesis.stateOps,
        ...(genesis.permissions ? loadPermissionsHistory(store).record(0n, genesis.permissions).ops : []),
        ...(genesis.stakes ? loadStakeHistory(store).record(0n, genesis.stakes).ops : []),
        ...chain.blockOps(genesisHash, { header: genesis.header, txs: [] }, { receipts: [], stateOps: [], issued: genesis.issued, work: 0n }),
        { type: 'put', key: keys.meta('genesis'), value: genesisHash },
        { type: 'put', key: keys.meta('chainid'), value: bigIntToBytes(spec.chainId) },
        { type: 'put', key: keys.meta('schema'), value: Uint8Array.of(SCHEMA_VERSION) },
      ])
    } else if (!equalsBytes(stored, genesisHash)) {
      throw new Error(
        `the datadir holds a different chain (genesis ${bytesToHex(stored)}, this chain spec's genesis is ${bytesToHex(genesisHash)}); use another --datadir`,
      )
    }
    const storedChainId = store.get(keys.meta('chainid'))
    if (storedChainId !== undefined && bytesToBigInt(storedChainId) !== spec.chainId) {
      throw new Error(
        `the datadir holds chain id ${bytesToBigInt(storedChainId)} but this chain spec says ${spec.chainId}; use another --datadir`,
      )
    }
    chain.genesis = genesisHash
    chain.permissions = loadPermissionsHistory(store)
    chain.stakes = loadStakeHistory(store)
    const headHash = store.get(keys.meta('head'))!
    chain.headState = { hash: headHash, header: chain.getHeader(headHash)! }
    const schema = store.get(keys.meta('schema'))?.[0] ?? 1
    if (schema > SCHEMA_VERSION) throw new Error(`the datadir was written by a newer Catena (store schema ${schema}, this one reads up to ${SCHEMA_VERSION}); use another --datadir`)
    if (schema < SCHEMA_VERSION) {
      if (opts.needsProofs && chain.headState.header.height > 0n) {
        throw new Error(
          `the datadir was written by an older Catena (store schema ${schema}): its blocks are stored without their commit certificates, which this chain's peers require; start with a new --datadir and sync`,
        )
      }
      await store.batch([{ type: 'put', key: keys.meta('schema'), value: Uint8Array.of(SCHEMA_VERSION) }])
    }
    return chain
  }

  get head(): ChainHead {
    return this.headState
  }

  get genesisHash(): Uint8Array {
    return this.genesis
  }

  getHeader(hash: Uint8Array): BlockHeader | undefined {
    return this.headers.get(hash, () => this.store.get(keys.header(hash)))
  }

  /** A stored header in its stored encoding (served to peers without decoding it). */
  getEncodedHeader(hash: Uint8Array): Uint8Array | undefined {
    return this.store.get(keys.header(hash))
  }

  /**
   * Where the branch ending at stored block `hash` meets the canonical chain: its highest
   * canonical ancestor (the block itself when canonical), looked for no lower than height
   * `floor`; undefined when it is lower. Walks the branch back (side branches are short: import
   * stores none whose fork point is deeper than the engine's maxReorgDepth).
   */
  forkPoint(hash: Uint8Array, floor: bigint): ChainHead | undefined {
    let cursor = hash
    let header = this.getHeader(cursor)
    while (header && header.height >= floor) {
      const canonical = this.getHashAt(header.height)
      if (canonical && equalsBytes(canonical, cursor)) return { hash: cursor, header }
      cursor = header.parentHash
      header = this.getHeader(cursor)
    }
    return undefined
  }

  /** Canonical block id at a height. */
  getHashAt(height: bigint): Uint8Array | undefined {
    if (height < 0n || height > this.headState.header.height) return undefined
    return this.store.get(keys.canonical(height))
  }

  getBlock(hash: Uint8Array): Block | undefined {
    const key = bytesToHex(hash)
    const cached = this.recentBlocks.get(key)
    if (cached) return cached
    const header = this.getHeader(hash)
    const body = this.store.get(keys.body(hash))
    if (!header || !body) return undefined
    const block = { header, txs: decodeBody(body, this.commons.at(header.height)) }
    remember(this.recentBlocks, key, block)
    return block
  }

  getBlockAt(height: bigint): Block | undefined {
    const hash = this.getHashAt(height)
    return hash ? this.getBlock(hash) : undefined
  }

  getReceipts(hash: Uint8Array): Receipt[] | undefined {
    const key = bytesToHex(hash)
    const cached = this.recentReceipts.get(key)
    if (cached) return cached
    const raw = this.store.get(keys.receipts(hash))
    if (!raw) return undefined
    const receipts = decodeReceipts(raw)
    remember(this.recentReceipts, key, receipts)
    return receipts
  }

  getHeightOf(hash: Uint8Array): bigint | undefined {
    const raw = this.store.get(keys.height(hash))
    return raw ? bytesToBigInt(raw) : undefined
  }

  isCanonical(hash: Uint8Array): boolean {
    const height = this.getHeightOf(hash)
    if (height === undefined) return false
    const at = this.getHashAt(height)
    return at !== undefined && equalsBytes(at, hash)
  }

  getTxLocation(txHash: Uint8Array): TxLocation | undefined {
    const raw = this.store.get(keys.tx(txHash))
    if (!raw) return undefined
    const blockHash = raw.subarray(0, 32)
    const index = new DataView(raw.buffer, raw.byteOffset + 32, 4).getUint32(0)
    const height = this.getHeightOf(blockHash)
    if (height === undefined) return undefined
    return { blockHash, height, index }
  }

  getTransaction(txHash: Uint8Array): { tx: TypedTransaction; location: TxLocation } | undefined {
    const location = this.getTxLocation(txHash)
    if (!location) return undefined
    const block = this.getBlock(location.blockHash)
    const tx = block?.txs[location.index]
    return tx ? { tx, location } : undefined
  }

  /** Logs bloom of the canonical block at a height, without decoding the block. */
  getBloomAt(height: bigint): Uint8Array | undefined {
    return this.store.get(keys.bloom(height))
  }

  /** Total wei issued up to and including block `hash`. */
  getIssued(hash: Uint8Array): bigint {
    const raw = this.store.get(keys.issued(hash))
    if (!raw) throw new Error(`no issuance record for block ${bytesToHex(hash)}`)
    return bytesToBigInt(raw)
  }

  /** Total work of the chain ending at block `hash` (stores from before work was recorded: its height). */
  getWork(hash: Uint8Array): bigint {
    const raw = this.store.get(keys.work(hash))
    if (raw) return bytesToBigInt(raw)
    const height = this.getHeightOf(hash)
    if (height === undefined) throw new Error(`no work record for block ${bytesToHex(hash)}`)
    return height
  }

  /** The proof stored with a block (BFT: the commit certificate that made it final), if its engine takes one. */
  getProof(hash: Uint8Array): Uint8Array | undefined {
    return this.store.get(keys.proof(hash))
  }

  hasBlock(hash: Uint8Array): boolean {
    return this.store.get(keys.header(hash)) !== undefined
  }

  /**
   * Commits a block that extends the current head, already validated and executed, in one
   * atomic batch. Imports are serialized.
   */
  async commitBlock(block: Block, commit: BlockCommit): Promise<ImportedBlock> {
    return this.serialized(async () => {
      const hash = blockHash(block.header)
      if (!equalsBytes(block.header.parentHash, this.headState.hash)) {
        throw new BlockError('NOT_EXTENDING_HEAD', `block ${bytesToHex(hash)} does not extend the head ${bytesToHex(this.headState.hash)}`)
      }
      if (this.store.get(keys.header(hash))) throw new BlockError('ALREADY_KNOWN', `block ${bytesToHex(hash)} is already stored`)
      const permissions = commit.permissions ? this.permissions.record(block.header.height, commit.permissions) : undefined
      const stakes = commit.stakes ? this.stakes.record(block.header.height, commit.stakes) : undefined
      await this.store.batch(
        [
          ...commit.stateOps,
          ...this.storedBlockOps(hash, block, commit),
          ...this.canonicalOps(hash, block),
          { type: 'put', key: keys.meta('head'), value: hash },
          ...(permissions?.ops ?? []),
          ...(stakes?.ops ?? []),
        ],
        { sync: commit.durable === true },
      )
      permissions?.adopt()
      stakes?.adopt()
      this.headState = { hash, header: block.header }
      commit.onStored?.()
      const imported = this.remembered(hash, block, commit.receipts, commit.proof)
      this.emit('block', imported)
      return imported
    })
  }

  /**
   * Stores a validated block of another branch, off the canonical chain (its parent is stored,
   * its chain has no more work than ours; the importer stores only branches that could still
   * become canonical). `reorganize` can make its branch canonical later.
   */
  async storeSideBlock(block: Block, commit: BlockCommit): Promise<ImportedBlock> {
    return this.serialized(async () => {
      const hash = blockHash(block.header)
      if (this.store.get(keys.header(hash))) throw new BlockError('ALREADY_KNOWN', `block ${bytesToHex(hash)} is already stored`)
      if (!this.store.get(keys.header(block.header.parentHash))) throw new BlockError('UNKNOWN_PARENT', `parent ${bytesToHex(block.header.parentHash)} is unknown`)
      // Its snapshots, kept by hash when they differ from its parent's: a reorg to its branch restores them.
      const snapshotOps = [
        ...(commit.permissions ? this.permissions.sideOps(hash, commit.permissions, block.header.parentHash, this.branchView()) : []),
        ...(commit.stakes ? this.stakes.sideOps(hash, commit.stakes, block.header.parentHash, this.branchView()) : []),
      ]
      await this.store.batch([...commit.stateOps, ...this.storedBlockOps(hash, block, commit), ...snapshotOps])
      const imported = this.remembered(hash, block, commit.receipts, commit.proof)
      this.emit('side', imported)
      return imported
    })
  }

  /**
   * Makes the branch ending at stored block `tip` canonical, in one atomic batch: the canonical
   * index, blooms and tx index of the heights after the fork point are rewritten, the head moves.
   * State needs no undo: every state root stays readable (archive), and the tip's is the new
   * head state. Refuses (REORG_TOO_DEEP) to disconnect more than `maxDepth` blocks.
   */
  async reorganize(tip: Uint8Array, maxDepth = Number.MAX_SAFE_INTEGER): Promise<Reorg> {
    return this.serialized(async () => {
      const tipHeader = this.getHeader(tip)
      if (!tipHeader) throw new BlockError('UNKNOWN_BLOCK', `block ${bytesToHex(tip)} is not stored`)
      // Walk both branches back to their common ancestor.
      const connected: Array<{ hash: Uint8Array; header: BlockHeader }> = []
      let a = { hash: tip, header: tipHeader }
      let b = this.headState
      const disconnected: Array<{ hash: Uint8Array; header: BlockHeader }> = []
      while (a.header.height > b.header.height) {
        connected.push(a)
        a = this.parentOf(a)
      }
      while (b.header.height > a.header.height) {
        disconnected.push(b)
        b = this.parentOf(b)
      }
      while (!equalsBytes(a.hash, b.hash)) {
        connected.push(a)
        disconnected.push(b)
        a = this.parentOf(a)
        b = this.parentOf(b)
      }
      if (disconnected.length > maxDepth) {
        throw new BlockError(
          'REORG_TOO_DEEP',
          `refusing to reorganize ${disconnected.length} blocks deep (fork at height ${a.header.height}; the limit is ${maxDepth})`,
        )
      }
      connected.reverse()
      disconnected.reverse()
      const load = (x: { hash: Uint8Array }): ImportedBlock => {
        const block = this.getBlock(x.hash)
        const receipts = this.getReceipts(x.hash)
        if (!block || !receipts) throw new Error(`block ${bytesToHex(x.hash)} is incomplete in the store`)
        const proof = this.getProof(x.hash)
        return { hash: x.hash, block, receipts, ...(proof ? { proof } : {}) }
      }
      const out: ImportedBlock[] = disconnected.map(load)
      const inn: ImportedBlock[] = connected.map(load)
      const ops: BatchOp[] = []
      const newTxs = new Set(inn.flatMap((x) => x.block.txs.map((tx) => bytesToHex(tx.hash()))))
      for (const x of out) {
        for (const tx of x.block.txs) if (!newTxs.has(bytesToHex(tx.hash()))) ops.push({ type: 'del', key: keys.tx(tx.hash()) })
        ops.push(...addressIndexOps(x.block, 'del'))
        if (x.block.header.height > tipHeader.height) {
          ops.push({ type: 'del', key: keys.canonical(x.block.header.height) }, { type: 'del', key: keys.bloom(x.block.header.height) })
        }
      }
      for (const x of inn) ops.push(...this.canonicalOps(x.hash, x.block))
      ops.push({ type: 'put', key: keys.meta('head'), value: tip })
      // The stakes and permissions in force follow the branch (a PoH schedule or PoS set is read from them).
      const leavingAt = new Map(out.map((x) => [x.block.header.height, x.hash]))
      const joining = inn.map((x) => ({ hash: x.hash, height: x.block.header.height }))
      const get = (key: Uint8Array) => this.store.get(key)
      const snapshots = [this.permissions, this.stakes].map((h) => h.reorgOps(a.header.height, (height) => leavingAt.get(height), joining, get))
      for (const sn of snapshots) ops.push(...sn.ops)
      await this.store.batch(ops)
      for (const sn of snapshots) sn.adopt()
      this.headState = { hash: tip, header: tipHeader }
      const reorg: Reorg = { forkPoint: a, disconnected: out, connected: inn }
      this.emit('reorg', reorg)
      for (const x of inn) this.emit('block', x)
      return reorg
    })
  }

  /** What snapshot histories read to follow a side branch back to the canonical chain. */
  private branchView(): BranchStore {
    return { isCanonical: (h) => this.isCanonical(h), heightOf: (h) => this.getHeightOf(h), parentHash: (h) => this.getHeader(h)?.parentHash, get: (k) => this.store.get(k) }
  }

  private parentOf(x: { hash: Uint8Array; header: BlockHeader }): { hash: Uint8Array; header: BlockHeader } {
    const header = this.getHeader(x.header.parentHash)
    if (!header) throw new Error(`the parent of stored block ${bytesToHex(x.hash)} is missing`)
    return { hash: x.header.parentHash, header }
  }

  private remembered(hash: Uint8Array, block: Block, receipts: Receipt[], proof?: Uint8Array): ImportedBlock {
    remember(this.recentBlocks, bytesToHex(hash), block)
    remember(this.recentReceipts, bytesToHex(hash), receipts)
    return { hash, block, receipts, ...(proof?.length ? { proof } : {}) }
  }

  /** Chain mutations run one at a time. */
  private serialized<T>(job: () => Promise<T>): Promise<T> {
    const run = this.importing.then(job)
    this.importing = run.catch(() => undefined)
    return run
  }

  /** The genesis block's ops: stored and canonical. */
  private blockOps(hash: Uint8Array, block: Block, commit: BlockCommit): BatchOp[] {
    return [...this.storedBlockOps(hash, block, commit), ...this.canonicalOps(hash, block), { type: 'put', key: keys.meta('head'), value: hash }]
  }

  /** What every stored block has, canonical or not (all keyed by its hash). */
  private storedBlockOps(hash: Uint8Array, block: Block, commit: BlockCommit): BatchOp[] {
    const h = block.header
    const work = commit.work ?? (h.height === 0n ? 0n : this.getWork(h.parentHash) + 1n)
    return [
      { type: 'put', key: keys.header(hash), value: encodeHeader(h) },
      { type: 'put', key: keys.body(hash), value: encodeBody(block.txs) },
      { type: 'put', key: keys.receipts(hash), value: encodeReceipts(commit.receipts) },
      { type: 'put', key: keys.height(hash), value: heightKey(h.height) },
      { type: 'put', key: keys.issued(hash), value: u256(commit.issued) },
      { type: 'put', key: keys.work(hash), value: u256(work) },
      ...(commit.proof?.length ? [{ type: 'put' as const, key: keys.proof(hash), value: commit.proof }] : []),
    ]
  }

  /** The indexes that make a block canonical: height -> hash, its bloom, its txs' locations and the address index. */
  private canonicalOps(hash: Uint8Array, block: Block): BatchOp[] {
    const h = block.header
    const ops: BatchOp[] = [
      { type: 'put', key: keys.canonical(h.height), value: hash },
      { type: 'put', key: keys.bloom(h.height), value: h.logsBloom },
    ]
    block.txs.forEach((tx, i) => {
      const index = new Uint8Array(4)
      new DataView(index.buffer).setUint32(0, i)
      ops.push({ type: 'put', key: keys.tx(tx.hash()), value: concatBytes(hash, index) })
    })
    ops.push(...addressIndexOps(block, 'put'))
    return ops
  }
}

function loadStakeHistory(store: KeyValueStore): SnapshotHistory<StakeSnapshot> {
  return SnapshotHistory.load(store, 'staking', decodeStakeSnapshot)
}

/** The Common schedule of a chain spec: the genesis Common, then one per chain-id fork. */
export function commonScheduleFor(spec: ChainSpec, common: Common): CommonSchedule {
  const changes = spec.forks.flatMap((f) => (f.changes.chainId === undefined ? [] : [{ height: f.height, chainId: f.changes.chainId }]))
  return new CommonSchedule(common.chainId(), changes, common.customCrypto, common)
}
