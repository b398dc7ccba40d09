/**
 * Producing and importing blocks, as small named steps (like Lodestar's verifyBlocks*),
 * cheapest first: the header against its parent and the chain spec, the engine's proof
 * (a BFT commit certificate) and seal, and only then the body: decoding the txs, the tx
 * root, re-execution and comparison of every commitment; then one atomic commit that stores
 * the block with its proof.
 */
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { PERMISSIONS_ADDRESS, SNAPSHOT_CALLDATA } from '../contracts/index.ts'
import { merkleRoot } from '../crypto/merkle.ts'
import { checkHeaderSanity } from './header-rules.ts'
import { TxExecutionError, type BlockExecution, type BlockExecutionParams, type Executor, type TxSource } from '../execution/index.ts'
import { decodeRawBody, toRawBlock, type Block, type BlockHeader, type RawBlock } from './block.ts'
import type { BlockCommit, Chain, ImportedBlock, Reorg } from './chain.ts'
import { BlockError } from './errors.ts'
import { nextBaseFee } from './basefee.ts'
import { blockReward } from './monetary.ts'
import { ChainArgumentError, paramsAt } from './spec/index.ts'
import { txBytes } from '../execution/index.ts'
import type { BlockExecutionInputs, BlockRules, BranchView, HeaderView } from './rules.ts'

export type { BlockExecutionInputs, BlockRules, HeaderView } from './rules.ts'

/** How a block from elsewhere is imported (importRaw). */
export interface ImportOptions {
  /**
   * The verified total work of the header branch this block leads to: headers-first sync
   * checked those headers' seals and work before it asked for the bodies. Without it a block
   * off the head's branch counts only its own chain's work, as a block nobody asked for should.
   */
  branchWork?: bigint
}

/** What importing a block did: extended the head, switched the chain to its branch, or stored it on a lighter branch. */
export interface ImportOutcome {
  status: 'extended' | 'reorg' | 'side'
  imported: ImportedBlock
  reorg?: Reorg
  /** A heavier branch that was not adopted because switching to it was too deep: why. */
  refusedReorg?: string
}

export interface ProduceOptions {
  source: TxSource
  timestamp: bigint
  producer: Uint8Array
  extraData?: Uint8Array
  /** A seal known before building (BFT: round, parent certificate, evidence): it goes in the header and may change what executes. */
  presetSeal?: Uint8Array
  /** Fills the engine's seal into the header (PoW nonce, signature, ...). */
  seal: (header: BlockHeader) => Promise<BlockHeader>
}

/** A block with its execution, ready to commit (built here or validated from elsewhere). */
export interface ExecutedBlock {
  block: Block
  execution: BlockExecution
  /** The subsidy paid to the producer: counts toward the supply issued. */
  reward: bigint
}

export interface Produced {
  imported: ImportedBlock
  rejected: BlockExecution['rejected']
}

/**
 * What runs a block's txs: the Executor itself (in block order), or, on a chain whose spec says
 * `execution.parallel`, a ParallelExecutor over it (execution/parallel: Sealevel-style batches).
 */
export type BlockRunner = Pick<Executor, 'build' | 'replay'>

export interface ImporterOptions {
  /**
   * The runner of a chain whose spec says `execution.parallel`: required there and refused
   * elsewhere, because the parallel rule (a tx that touches undeclared state fails) is part of
   * the chain's rules: a block built under it replays only under it.
   */
  parallel?: BlockRunner
  /** The clock for the future-time rule (seconds). */
  now?: () => bigint
}

/** A step of block production or import: build / validate execute txs, commit writes the atomic batch. */
export type ImportStep = 'build' | 'validate' | 'commit'

/** Room reserved for the header and RLP framing inside maxBlockBytes. */
const HEADER_ALLOWANCE = 1024
const PER_TX_FRAMING = 5

export class BlockImporter {
  /** Metrics hook: called after each successful step with its duration in seconds. */
  onTiming?: (step: ImportStep, seconds: number) => void
  private readonly now: () => bigint
  /** Builds and replays blocks (the executor, or the parallel runner). */
  private readonly runner: BlockRunner

  constructor(
    private readonly chain: Chain,
    private readonly executor: Executor,
    private readonly rules: BlockRules,
    opts: ImporterOptions = {},
  ) {
    const parallel = chain.spec.execution?.parallel === true
    if (parallel && !opts.parallel) throw new ChainArgumentError(`chain ${chain.spec.name} runs its blocks' txs in parallel (execution.parallel): the importer needs the parallel runner`)
    if (!parallel && opts.parallel) throw new ChainArgumentError(`chain ${chain.spec.name} runs its blocks' txs in order: a parallel runner would break its rules`)
    this.runner = opts.parallel ?? executor
    this.now = opts.now ?? (() => BigInt(Math.floor(Date.now() / 1000)))
  }

  /** Builds, seals and commits the next block on top of the head. */
  async produce(opts: ProduceOptions): Promise<Produced> {
    const built = await this.build(opts)
    const sealed = { ...built, block: { ...built.block, header: await opts.seal(built.block.header) } }
    const imported = await this.commit(sealed)
    return { imported, rejected: built.execution.rejected }
  }

  /**
   * Builds the next block on the head from `source` without committing it: its header is
   * complete but unsealed. BFT proposes such a block and commits it only once it is decided.
   */
  async build(opts: Omit<ProduceOptions, 'seal'> & { parentHash?: Uint8Array }): Promise<ExecutedBlock> {
    const started = performance.now()
    const parent = opts.parentHash ? this.storedHead(opts.parentHash) : this.chain.head
    const height = parent.header.height + 1n
    const seal = opts.presetSeal ?? new Uint8Array(0)
    const params = this.executionParams(parent.hash, parent.header, height, opts.timestamp, opts.producer, seal)
    const execution = await this.runner.build(params, opts.source)
    const header: BlockHeader = {
      parentHash: parent.hash,
      height,
      timestamp: opts.timestamp,
      txRoot: execution.txRoot,
      stateRoot: execution.stateRoot,
      receiptsRoot: execution.receiptsRoot,
      logsBloom: execution.logsBloom,
      gasLimit: params.gasLimit,
      gasUsed: execution.gasUsed,
      baseFee: params.baseFee,
      producer: opts.producer,
      extraData: opts.extraData ?? new Uint8Array(0),
      seal,
    }
    this.timed('build', started)
    return { block: { header, txs: execution.txs.map((t) => t.tx) }, execution, reward: params.reward }
  }

  /**
   * Checks a block from elsewhere (a proposer) completely — chain rules, the engine's header
   * rules, re-execution against every commitment — without committing it. (Its proof, if its
   * engine takes one, does not exist yet: see importBlock.)
   */
  async validate(block: Block): Promise<ExecutedBlock> {
    const raw = toRawBlock(block)
    const parent = this.parentOf(raw)
    this.checkHeader(raw, parent)
    return this.checkBody(raw, parent)
  }

  /** A stored block as a head to build on (attack labs build off the head), or UNKNOWN_PARENT. */
  private storedHead(hash: Uint8Array): { hash: Uint8Array; header: BlockHeader } {
    const header = this.chain.getHeader(hash)
    if (!header) throw new BlockError('UNKNOWN_PARENT', `block ${bytesToHex(hash)} is not stored`)
    return { hash, header }
  }

  /** The stored parent of a block, or UNKNOWN_PARENT. */
  private parentOf(raw: RawBlock): BlockHeader {
    const parent = this.chain.getHeader(raw.header.parentHash)
    if (!parent) throw new BlockError('UNKNOWN_PARENT', `parent ${bytesToHex(raw.header.parentHash)} is unknown`)
    return parent
  }

  /** Everything the header alone can tell, cheapest first: shape and limits against the parent and spec, then the seal. */
  private checkHeader(raw: RawBlock, parent: BlockHeader): void {
    this.verifySanity(raw, parent)
    this.rules.verifyHeader(raw.header, parent)
  }

  /** Whether sync can check this engine's headers before their blocks (see BlockRules.withHeaders). */
  get headersFirst(): boolean {
    return this.rules.withHeaders !== undefined
  }

  /** Whether the engine, not the most work, picks the canonical branch (PoH: votes). */
  get engineForkChoice(): boolean {
    return this.rules.forkChoice === 'engine'
  }

  /** The deepest branch switch the engine allows (undefined: no limit). */
  get maxReorgDepth(): number | undefined {
    return this.rules.maxReorgDepth
  }

  /**
   * Headers-first sync: a check of a header not stored yet against its parent (stored, or the
   * previous header of the same branch) with everything a header alone can tell: the chain's
   * header rules and the engine's, which read ancestors from `view`. Undefined when the engine
   * cannot judge a header without its block.
   */
  headerChecker(view: HeaderView): ((header: BlockHeader, parent: BlockHeader) => void) | undefined {
    const rules = this.rules.withHeaders?.(view)
    if (!rules) return undefined
    return (header, parent) => {
      this.checkHeaderSanity(header, parent)
      rules.verifyHeader(header, parent)
    }
  }

  /** The work a block adds to its chain, for fork choice (default 1 a block). */
  workOf(header: BlockHeader): bigint {
    return this.rules.blockWork?.(header) ?? 1n
  }

  /** The proof a block from elsewhere must carry for import (checked before its seal and body). */
  private checkProof(raw: RawBlock): void {
    if (this.rules.verifyProof) return this.rules.verifyProof(raw.header, raw.hash, raw.proof.length > 0 ? raw.proof : undefined)
    if (raw.proof.length > 0) throw new BlockError('BAD_PROOF', `this chain's blocks carry no proof, but block ${raw.header.height} came with ${raw.proof.length} bytes of one`)
  }

  /** Decodes the txs (only now), checks the tx root and re-executes against every commitment. */
  private async checkBody(raw: RawBlock, parent: BlockHeader): Promise<ExecutedBlock> {
    const started = performance.now()
    const block = 'block' in raw ? (raw as RawBlock & { block: Block }).block : decodeRawBody(raw, this.chain.commons)
    const h = block.header
    const txRoot = merkleRoot(block.txs.map(txBytes))
    if (!equalsBytes(txRoot, h.txRoot)) throw new BlockError('BAD_TX_ROOT', `tx root ${bytesToHex(h.txRoot)} does not match the txs (${bytesToHex(txRoot)})`)
    await this.rules.verifyBlock?.(block, parent)
    const params = this.executionParams(h.parentHash, parent, h.height, h.timestamp, h.producer, h.seal)
    let execution: BlockExecution
    try {
      execution = await this.runner.replay(params, block.txs)
    } catch (err) {
      if (err instanceof TxExecutionError) throw new BlockError('BAD_TX', err.message)
      throw err
    }
    verifyExecution(h, execution)
    this.timed('validate', started)
    return { block, execution, reward: params.reward }
  }

  /**
   * Commits a built or validated block atomically, with the proof its engine requires (a
   * decided BFT block's certificate); it must still extend the head. `durable` fsyncs the batch.
   */
  async commit(executed: ExecutedBlock, opts: { proof?: Uint8Array; durable?: boolean } = {}): Promise<ImportedBlock> {
    const started = performance.now()
    const imported = await this.chain.commitBlock(executed.block, {
      ...this.blockCommit(executed),
      ...(opts.proof?.length ? { proof: opts.proof } : {}),
      ...(opts.durable ? { durable: true } : {}),
      onStored: () => this.executor.committed(executed.execution),
    })
    this.timed('commit', started)
    return imported
  }

  private timed(step: ImportStep, started: number): void {
    this.onTiming?.(step, (performance.now() - started) / 1000)
  }

  private blockCommit(executed: ExecutedBlock): BlockCommit {
    const { block, execution } = executed
    return {
      receipts: execution.receipts,
      stateOps: execution.stateOps,
      issued: this.chain.getIssued(block.header.parentHash) + executed.reward,
      work: this.chain.getWork(block.header.parentHash) + this.workOf(block.header),
      ...(execution.systemReads?.permissions ? { permissions: execution.systemReads.permissions } : {}),
      ...(execution.systemReads?.stakes ? { stakes: execution.systemReads.stakes } : {}),
    }
  }

  /** Validates a block from elsewhere (peer, RPC) completely, then commits it (see importBlock). */
  async import(block: Block, proof?: Uint8Array): Promise<ImportedBlock> {
    return (await this.importBlock(block, proof)).imported
  }

  /** importRaw for a block already decoded (with the proof its engine requires, if any). */
  async importBlock(block: Block, proof?: Uint8Array, opts: ImportOptions = {}): Promise<ImportOutcome> {
    return this.importRaw(toRawBlock(block, proof), opts)
  }

  /**
   * Imports a block from elsewhere: checks it completely, cheapest first (already known, off a
   * final head, unknown parent, header against parent and spec, the engine's proof, the
   * side-branch policy, the seal, then the body), and applies fork choice: a block on the head
   * extends it; a block on another branch that could still become canonical is stored, and
   * when its chain has more work than ours the canonical chain switches to it (one atomic
   * batch); on equal work the engine's tie-break decides (default: the first seen stays).
   * Txs of disconnected blocks are the caller's to re-queue.
   */
  async importRaw(raw: RawBlock, opts: ImportOptions = {}): Promise<ImportOutcome> {
    const { hash } = raw
    if (this.chain.hasBlock(hash)) throw new BlockError('ALREADY_KNOWN', `block ${bytesToHex(hash)} is already stored`)
    this.refuseOffHeadIfFinal(raw.header, hash)
    const parent = this.parentOf(raw)
    this.verifySanity(raw, parent)
    this.checkProof(raw)
    this.checkSideBranch(raw.header, opts.branchWork)
    this.rules.verifyHeader(raw.header, parent)
    const executed = await this.checkBody(raw, parent)
    const proof = raw.proof.length > 0 ? raw.proof : undefined
    const block = executed.block
    const head = this.chain.head
    if (equalsBytes(block.header.parentHash, head.hash)) return { status: 'extended', imported: await this.commit(executed, proof ? { proof } : {}) }
    // The head moved while the block executed (consensus or another sync path committed).
    this.refuseOffHeadIfFinal(block.header, hash)
    this.checkSideBranch(block.header, opts.branchWork)
    const commit = { ...this.blockCommit(executed), ...(proof ? { proof } : {}) }
    const imported = await this.chain.storeSideBlock(block, commit)
    if (this.rules.forkChoice === 'engine') return { status: 'side', imported }
    const headWork = this.chain.getWork(this.chain.head.hash)
    if (commit.work! < headWork || (commit.work === headWork && !this.rules.switchOnTie?.())) return { status: 'side', imported }
    let reorg: Reorg
    try {
      reorg = await this.chain.reorganize(hash, this.rules.maxReorgDepth)
    } catch (err) {
      if (err instanceof BlockError && err.code === 'REORG_TOO_DEEP') return { status: 'side', imported, refusedReorg: err.message }
      throw err
    }
    // The head state cache followed the old branch: start it again at the new head.
    this.executor.stateCache.reset(this.chain.head.header.stateRoot)
    return { status: 'reorg', imported, reorg }
  }

  /**
   * Makes the stored branch ending at `tip` canonical (engines that choose the fork
   * themselves: PoH votes), no deeper than the engine's maxReorgDepth; the head state cache
   * follows. Txs of disconnected blocks are re-queued by the chain's 'reorg' listeners.
   */
  async switchTo(tip: Uint8Array): Promise<Reorg> {
    const reorg = await this.chain.reorganize(tip, this.rules.maxReorgDepth)
    this.executor.stateCache.reset(this.chain.head.header.stateRoot)
    return reorg
  }

  /**
   * The side-branch policy: a block that does not extend the head is executed and stored only
   * if its branch could become canonical (Bitcoin Core accepts a block nobody asked for only
   * with at least the tip's work): its chain's work, or the verified work of the header branch
   * it leads to, is at least the head's, and its fork point is within the engine's
   * maxReorgDepth of the head. A cheap chain from genesis costs its sender, not us.
   */
  private checkSideBranch(header: BlockHeader, branchWork: bigint | undefined): void {
    const head = this.chain.head
    if (equalsBytes(header.parentHash, head.hash)) return
    const work = this.chain.getWork(header.parentHash) + this.workOf(header)
    const headWork = this.chain.getWork(head.hash)
    const shown = branchWork !== undefined && branchWork > work ? branchWork : work
    // Engine fork choice (PoH votes): a lighter branch may still win; the engine's rules bound it.
    if (shown < headWork && this.rules.forkChoice !== 'engine') {
      throw new BlockError('INSUFFICIENT_WORK', `block ${header.height} is on a branch with work ${shown}, less than the head's ${headWork}: not kept`)
    }
    const depth = this.rules.maxReorgDepth
    if (depth === undefined) return
    if (!this.chain.forkPoint(header.parentHash, head.header.height - BigInt(depth))) {
      throw new BlockError(
        'FORK_TOO_DEEP',
        `block ${header.height} is on a branch that forks from ours more than ${depth} blocks below the head (height ${head.header.height}): it could never become canonical`,
      )
    }
  }

  /**
   * On a chain whose blocks are final (maxReorgDepth 0) a block that does not extend the head
   * can never become canonical: keeping it would leave a stored block off the chain that
   * consensus might later try to commit. A peer racing our own commit sends such blocks
   * honestly, so this is NOT_EXTENDING_HEAD (ignored by sync), not an invalid block.
   */
  private refuseOffHeadIfFinal(header: BlockHeader, hash: Uint8Array): void {
    if (this.rules.maxReorgDepth !== 0) return
    const head = this.chain.head
    if (equalsBytes(header.parentHash, head.hash)) return
    if (this.chain.hasBlock(hash)) throw new BlockError('ALREADY_KNOWN', `block ${bytesToHex(hash)} is already stored`)
    throw new BlockError(
      'NOT_EXTENDING_HEAD',
      `block ${bytesToHex(hash)} at height ${header.height} does not extend the head ${bytesToHex(head.hash)} (height ${head.header.height}); this chain's blocks are final, so other branches are not kept`,
    )
  }

  /** The chain's header rules (any engine): shape, height, time, gas limit, base fee, size. */
  private verifySanity(raw: RawBlock, parent: BlockHeader): void {
    this.checkHeaderSanity(raw.header, parent)
    const limit = paramsAt(this.chain.spec, raw.header.height).limits.maxBlockBytes
    if (raw.size > limit) throw new BlockError('TOO_LARGE', `block is ${raw.size} bytes, limit ${limit}`)
  }

  /** The chain's rules for a header alone: shape, height, time, gas limit, base fee (header-rules.ts). */
  private checkHeaderSanity(h: BlockHeader, parent: BlockHeader): void {
    checkHeaderSanity(h, parent, this.chain.spec, { now: this.now(), maxFutureSeconds: this.rules.maxFutureSeconds })
  }

  private executionParams(parentHash: Uint8Array, parent: BlockHeader, height: bigint, timestamp: bigint, producer: Uint8Array, seal: Uint8Array): BlockExecutionParams {
    const spec = this.chain.spec
    const p = paramsAt(spec, height)
    const reward = blockReward(height, this.chain.getIssued(parentHash), p.monetary)
    const maxTxBytes = p.limits.maxBlockBytes - HEADER_ALLOWANCE
    return {
      parentStateRoot: parent.stateRoot,
      parentHash,
      height,
      timestamp,
      producer,
      gasLimit: p.limits.blockGasLimit,
      baseFee: nextBaseFee(parent, spec.feeMarket),
      reward,
      baseFeeBurn: p.monetary.baseFeeBurn,
      maxTxBytes,
      perTxFraming: PER_TX_FRAMING,
      ...this.systemParams(height, this.rules.blockEffects?.(this.branchView(parentHash, parent, height, seal)) ?? {}),
      ...(this.chain.isCanonical(parentHash) ? {} : { hashAt: (h: bigint) => (h <= parent.height ? this.ancestorHash(parentHash, parent, h) : undefined) }),
    }
  }

  /** What an engine may read of a block's branch to decide the state changes it makes with the block. */
  private branchView(parentHash: Uint8Array, parent: BlockHeader, height: bigint, seal: Uint8Array): BranchView {
    return {
      height,
      seal,
      parentHash,
      parent,
      ancestorHash: (h) => this.ancestorHash(parentHash, parent, h),
      header: (hash) => this.chain.getHeader(hash),
      issued: (hash) => this.chain.getIssued(hash),
    }
  }

  /** The hash of the block at `height` on the branch ending at `parentHash` (canonical index when that branch is canonical). */
  private ancestorHash(parentHash: Uint8Array, parent: BlockHeader, height: bigint): Uint8Array {
    if (height > parent.height) throw new RangeError(`no ancestor at height ${height} above the parent (${parent.height})`)
    if (this.chain.isCanonical(parentHash)) return this.chain.getHashAt(height)!
    let hash = parentHash
    let header = parent
    while (header.height > height) {
      hash = header.parentHash
      header = this.chain.getHeader(hash)!
    }
    return hash
  }

  /**
   * The engine's duties with the block, and the chain spec's permissions: on permissioned
   * chains senders are checked against the permissions after the parent, and the permissions
   * are read after the block.
   */
  private systemParams(height: bigint, inputs: BlockExecutionInputs): Partial<BlockExecutionParams> {
    const out: Partial<BlockExecutionParams> = { ...inputs }
    const permissions = this.chain.permissions.after(height - 1n)
    if (permissions) {
      out.senderAllowed = (sender) => permissions.allowsAccount(sender)
      out.systemReads = { ...inputs.systemReads, permissions: { address: hexToBytes(PERMISSIONS_ADDRESS), data: SNAPSHOT_CALLDATA } }
    }
    return out
  }
}

function verifyExecution(h: BlockHeader, exec: BlockExecution): void {
  if (exec.gasUsed !== h.gasUsed) throw new BlockError('BAD_GAS_USED', `gas used ${h.gasUsed} but execution used ${exec.gasUsed}`)
  if (!equalsBytes(exec.receiptsRoot, h.receiptsRoot)) throw new BlockError('BAD_RECEIPTS_ROOT', 'receipts root does not match the re-executed receipts')
  if (!equalsBytes(exec.logsBloom, h.logsBloom)) throw new BlockError('BAD_LOGS_BLOOM', 'logs bloom does not match the re-executed logs')
  if (!equalsBytes(exec.stateRoot, h.stateRoot)) {
    throw new BlockError('BAD_STATE_ROOT', `state root ${bytesToHex(h.stateRoot)} but re-execution gives ${bytesToHex(exec.stateRoot)}`)
  }
}

