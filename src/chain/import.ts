/**
 * Producing and importing blocks, as small named steps (like Lodestar's verifyBlocks*):
 * sanity checks against the parent and the chain spec, the engine's seal check,
 * re-execution and comparison of every commitment, then one atomic commit.
 */
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { PERMISSIONS_ADDRESS, SNAPSHOT_CALLDATA, STAKE_SNAPSHOT_CALLDATA, STAKING_ADDRESS } from '../contracts/index.ts'
import { merkleRoot } from '../crypto/merkle.ts'
import { TxExecutionError, type BlockExecution, type BlockExecutionParams, type Executor, type TxSource } from '../execution/index.ts'
import { blockHash, blockSize, checkHeaderShape, type Block, type BlockHeader } from './block.ts'
import type { BlockCommit, Chain, ImportedBlock, Reorg } from './chain.ts'
import { BlockError } from './errors.ts'
import { nextBaseFee } from './basefee.ts'
import { blockReward } from './monetary.ts'
import { paramsAt } from './spec/index.ts'
import { txBytes } from '../execution/index.ts'

/** The part of a consensus engine that block import needs. */
export interface HeaderVerifier {
  /** Engine rules for a header (seal, producer eligibility); throws BlockError('BAD_SEAL', ...). */
  verifyHeader(header: BlockHeader, parent: BlockHeader): void
  /**
   * How far ahead of this node's clock a block's timestamp may be; undefined = no limit (the
   * dev engine's time travel: evm_increaseTime, hardhat_mine with an interval). PoW scales
   * Bitcoin's two hours to the block time; BFT bounds it by its proposer rules.
   */
  readonly maxFutureSeconds?: bigint
  /** Engine duties executed with the block (PoS: slashing from evidence, the voters' reward share); from the sealed header. */
  executionInputs?(header: Pick<BlockHeader, 'height' | 'seal'>): BlockExecutionInputs
  /** The work a block adds to its chain, for fork choice (PoW: expected hashes; default 1 per block). */
  blockWork?(header: BlockHeader): bigint
  /**
   * The deepest branch switch allowed (PoW); deeper ones are refused with a log line. 0 means
   * blocks are final once on the chain (BFT): blocks off the head's branch are refused, not stored.
   */
  readonly maxReorgDepth?: number
}

/** What importing a block did: extended the head, switched the chain to its branch, or stored it on a lighter branch. */
export interface ImportOutcome {
  status: 'extended' | 'reorg' | 'side'
  imported: ImportedBlock
  reorg?: Reorg
  /** A heavier branch that was not adopted because switching to it was too deep: why. */
  refusedReorg?: string
}

export type BlockExecutionInputs = Pick<BlockExecutionParams, 'systemCalls' | 'rewardSplit'>

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

/** A step of block production or import: build / validate execute txs, commit writes the atomic batch. */
export type ImportStep = 'build' | 'validate' | 'commit'

/** Room reserved for the header and RLP framing inside maxBlockBytes. */
const HEADER_ALLOWANCE = 1024
const PER_TX_FRAMING = 5

export class BlockImporter {
  /** Metrics hook: called after each successful step with its duration in seconds. */
  onTiming?: (step: ImportStep, seconds: number) => void

  constructor(
    private readonly chain: Chain,
    private readonly executor: Executor,
    private readonly engine: HeaderVerifier,
    private readonly now: () => bigint = () => BigInt(Math.floor(Date.now() / 1000)),
  ) {}

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
  async build(opts: Omit<ProduceOptions, 'seal'>): Promise<ExecutedBlock> {
    const started = performance.now()
    const parent = this.chain.head
    const height = parent.header.height + 1n
    const seal = opts.presetSeal ?? new Uint8Array(0)
    const params = this.executionParams(parent.hash, parent.header, height, opts.timestamp, opts.producer, seal)
    const execution = await this.executor.build(params, opts.source)
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
   * Checks a block from elsewhere (peer, proposer) completely — chain rules, the engine's
   * header rules, re-execution against every commitment — without committing it.
   */
  async validate(block: Block): Promise<ExecutedBlock> {
    const started = performance.now()
    const parentHeader = this.chain.getHeader(block.header.parentHash)
    if (!parentHeader) throw new BlockError('UNKNOWN_PARENT', `parent ${bytesToHex(block.header.parentHash)} is unknown`)
    this.verifySanity(block, parentHeader)
    this.engine.verifyHeader(block.header, parentHeader)
    const h = block.header
    const params = this.executionParams(h.parentHash, parentHeader, h.height, h.timestamp, h.producer, h.seal)
    let execution: BlockExecution
    try {
      execution = await this.executor.replay(params, block.txs)
    } catch (err) {
      if (err instanceof TxExecutionError) throw new BlockError('BAD_TX', err.message)
      throw err
    }
    verifyExecution(h, execution)
    this.timed('validate', started)
    return { block, execution, reward: params.reward }
  }

  /** Commits a built or validated block atomically; it must still extend the head. */
  async commit(executed: ExecutedBlock): Promise<ImportedBlock> {
    const started = performance.now()
    const imported = await this.chain.commitBlock(executed.block, { ...this.blockCommit(executed), onStored: () => this.executor.committed(executed.execution) })
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
      work: this.chain.getWork(block.header.parentHash) + (this.engine.blockWork?.(block.header) ?? 1n),
      ...(execution.systemReads?.permissions ? { permissions: execution.systemReads.permissions } : {}),
      ...(execution.systemReads?.stakes ? { stakes: execution.systemReads.stakes } : {}),
    }
  }

  /** Validates a block from elsewhere (peer, RPC) completely, then commits it (see importBlock). */
  async import(block: Block): Promise<ImportedBlock> {
    return (await this.importBlock(block)).imported
  }

  /**
   * Validates a block from elsewhere completely and applies fork choice: a block on the head
   * extends it; a block on another stored branch is stored, and when its chain has more work
   * than ours the canonical chain switches to it (one atomic batch; deeper than the engine's
   * maxReorgDepth is refused). Txs of disconnected blocks are the caller's to re-queue.
   */
  async importBlock(block: Block): Promise<ImportOutcome> {
    const hash = blockHash(block.header)
    if (this.chain.hasBlock(hash)) throw new BlockError('ALREADY_KNOWN', `block ${bytesToHex(hash)} is already stored`)
    this.refuseOffHeadIfFinal(block, hash)
    const executed = await this.validate(block)
    const head = this.chain.head
    if (equalsBytes(block.header.parentHash, head.hash)) return { status: 'extended', imported: await this.commit(executed) }
    // The head moved while the block executed (consensus or another sync path committed).
    this.refuseOffHeadIfFinal(block, hash)
    const commit = this.blockCommit(executed)
    const imported = await this.chain.storeSideBlock(block, commit)
    if (commit.work! <= this.chain.getWork(this.chain.head.hash)) return { status: 'side', imported }
    let reorg: Reorg
    try {
      reorg = await this.chain.reorganize(hash, this.engine.maxReorgDepth)
    } catch (err) {
      if (err instanceof BlockError && err.code === 'REORG_TOO_DEEP') return { status: 'side', imported, refusedReorg: err.message }
      throw err
    }
    // The head state cache followed the old branch: start it again at the new head.
    this.executor.stateCache.reset(this.chain.head.header.stateRoot)
    return { status: 'reorg', imported, reorg }
  }

  /**
   * On a chain whose blocks are final (maxReorgDepth 0) a block that does not extend the head
   * can never become canonical: keeping it would leave a stored block off the chain that
   * consensus might later try to commit. A peer racing our own commit sends such blocks
   * honestly, so this is NOT_EXTENDING_HEAD (ignored by sync), not an invalid block.
   */
  private refuseOffHeadIfFinal(block: Block, hash: Uint8Array): void {
    if (this.engine.maxReorgDepth !== 0) return
    const head = this.chain.head
    if (equalsBytes(block.header.parentHash, head.hash)) return
    if (this.chain.hasBlock(hash)) throw new BlockError('ALREADY_KNOWN', `block ${bytesToHex(hash)} is already stored`)
    throw new BlockError(
      'NOT_EXTENDING_HEAD',
      `block ${bytesToHex(hash)} at height ${block.header.height} does not extend the head ${bytesToHex(head.hash)} (height ${head.header.height}); this chain's blocks are final, so other branches are not kept`,
    )
  }

  private verifySanity(block: Block, parent: BlockHeader): void {
    const h = block.header
    checkHeaderShape(h)
    if (h.height !== parent.height + 1n) throw new BlockError('BAD_HEIGHT', `height ${h.height} does not follow parent height ${parent.height}`)
    if (h.timestamp < parent.timestamp) throw new BlockError('TIME_TOO_OLD', `timestamp ${h.timestamp} is before the parent's ${parent.timestamp}`)
    const drift = this.engine.maxFutureSeconds
    if (drift !== undefined && h.timestamp > this.now() + drift) {
      throw new BlockError('TIME_TOO_NEW', `timestamp ${h.timestamp} is more than ${drift}s in the future`)
    }
    const p = paramsAt(this.chain.spec, h.height)
    if (h.gasLimit !== p.limits.blockGasLimit) throw new BlockError('GAS_LIMIT', `gas limit ${h.gasLimit} differs from the chain spec's ${p.limits.blockGasLimit}`)
    const baseFee = nextBaseFee(parent, this.chain.spec.feeMarket)
    if (h.baseFee !== baseFee) throw new BlockError('BAD_BASE_FEE', `base fee ${h.baseFee} should be ${baseFee}`)
    const size = blockSize(block)
    if (size > p.limits.maxBlockBytes) throw new BlockError('TOO_LARGE', `block is ${size} bytes, limit ${p.limits.maxBlockBytes}`)
    const txRoot = merkleRoot(block.txs.map(txBytes))
    if (!equalsBytes(txRoot, h.txRoot)) throw new BlockError('BAD_TX_ROOT', `tx root ${bytesToHex(h.txRoot)} does not match the txs (${bytesToHex(txRoot)})`)
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
      ...this.systemParams(height, this.engine.executionInputs?.({ height, seal }) ?? {}),
      ...this.maturityParams(parentHash, parent, height),
      ...(this.chain.isCanonical(parentHash) ? {} : { hashAt: (h: bigint) => (h <= parent.height ? this.ancestorHash(parentHash, parent, h) : undefined) }),
    }
  }

  /**
   * PoW: a block's subsidy and fees mature after `coinbaseMaturity` blocks. Block h pays the
   * subsidy and the escrowed earnings of block h - maturity (on its own branch) to that block's
   * producer.
   */
  private maturityParams(parentHash: Uint8Array, parent: BlockHeader, height: bigint): Pick<BlockExecutionParams, 'maturedReward'> {
    const engine = this.chain.spec.engine
    if (engine.type !== 'pow' || engine.coinbaseMaturity === 0) return {}
    const maturing = height - BigInt(engine.coinbaseMaturity)
    if (maturing < 1n) return { maturedReward: null }
    const hash = this.ancestorHash(parentHash, parent, maturing)
    const header = this.chain.getHeader(hash)!
    const amount = this.chain.getIssued(hash) - this.chain.getIssued(header.parentHash)
    return { maturedReward: { to: header.producer, amount, height: maturing } }
  }

  /** The hash of the block at `height` on the branch ending at `parentHash` (canonical index when that branch is canonical). */
  private ancestorHash(parentHash: Uint8Array, parent: BlockHeader, height: bigint): Uint8Array {
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
   * System contracts: on permissioned chains senders are checked against the permissions
   * after the parent, and the permissions are read after the block; on PoS chains the engine's
   * duties (slashing, reward split) run with the block, and the stakes are read at epoch
   * boundaries and after a slash (a jailed validator leaves the set at once).
   */
  private systemParams(height: bigint, inputs: BlockExecutionInputs): Partial<BlockExecutionParams> {
    const out: Partial<BlockExecutionParams> = { ...inputs }
    const reads: NonNullable<BlockExecutionParams['systemReads']> = {}
    const permissions = this.chain.permissions.after(height - 1n)
    if (permissions) {
      out.senderAllowed = (sender) => permissions.allowsAccount(sender)
      reads.permissions = { address: hexToBytes(PERMISSIONS_ADDRESS), data: SNAPSHOT_CALLDATA }
    }
    const staking = this.chain.spec.engine.type === 'bft' ? this.chain.spec.engine.staking : undefined
    if (staking && this.chain.stakes.enabled && (height % BigInt(staking.epochLength) === 0n || (inputs.systemCalls?.length ?? 0) > 0)) {
      reads.stakes = { address: hexToBytes(STAKING_ADDRESS), data: STAKE_SNAPSHOT_CALLDATA }
    }
    if (Object.keys(reads).length > 0) out.systemReads = reads
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

