/**
 * The state transition: runs a block's transactions through the ethereumjs VM over a
 * flat overlay of the parent state, pays the producer, and computes the new state root
 * once. The same code path builds blocks (skipping txs that fail) and replays blocks from
 * others (where any failing tx makes the block invalid).
 */
import { runTx, type VM } from '@ethereumjs/vm'
import type { Block as EvmBlock } from '@ethereumjs/block'
import { Address, bigIntToBytes, bytesToHex, concatBytes, equalsBytes, setLengthLeft, utf8ToBytes, type Account } from '@ethereumjs/util'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Common } from '@ethereumjs/common'
import { merkleRoot } from '../crypto/merkle.ts'
import { keccak256 } from '../crypto/hash.ts'
import { encodeReceipt, logsBloom, type Log, type Receipt } from './receipt.ts'
import { OverlayState, StateCache, openWorldState, type StateChanges, type WorldState } from '../state/index.ts'
import type { BatchOp, KeyValueStore } from '../storage/index.ts'
import { evmBlock, type BlockContext } from './evm-context.ts'
import { VmPool } from './vm-pool.ts'
import { asSchedule, type CommonSchedule, type Commons } from './common.ts'
import { cleanVmMessage } from './vm-message.ts'
import { txBytes } from './tx-bytes.ts'
import { applySystemCall, callSystemContract } from './system-contracts.ts'
import { TxPolicyError, checkTxPolicy, policyFieldsOf } from './tx-policy.ts'
import { applyDirectTransfer } from './direct-transfer.ts'

/** A tx of a received block that cannot run: the block is invalid. */
export class TxExecutionError extends Error {
  constructor(
    readonly index: number,
    detail: string,
  ) {
    super(`tx ${index} ${detail}`)
    this.name = 'TxExecutionError'
  }
}

export interface BlockExecutionParams extends BlockContext {
  parentStateRoot: Uint8Array
  /** Subsidy credited to the producer (already clipped to the supply cap). */
  reward: bigint
  /** When false the base fee is paid to the producer instead of burnt. */
  baseFeeBurn: boolean
  /** Byte budget for the txs (block byte limit minus header and framing). */
  maxTxBytes: number
  /** Bytes of RLP framing to count per tx against maxTxBytes. */
  perTxFraming?: number
  /**
   * Permissioned chains: whether a sender may send txs (from the permissions in force at the
   * parent). A block that includes a tx from another sender is invalid; the builder leaves them out.
   */
  senderAllowed?: (sender: Uint8Array) => boolean
  /** View calls into system contracts on the block's final state (permissions, stakes), by name. */
  systemReads?: Record<string, { address: Uint8Array; data: Uint8Array }>
  /**
   * Calls the chain itself makes before the block's txs, from SYSTEM_ADDRESS (slashing a
   * double-voter in the staking contract). One that fails changes nothing; the block stays valid.
   */
  systemCalls?: Array<{ caller: Uint8Array; address: Uint8Array; data: Uint8Array }>
  /**
   * PoS: the block reward is shared: `proposerBasisPoints` of it to the producer, the rest to
   * the voters by weight (those who signed the parent's certificate). Fees stay with the producer.
   */
  rewardSplit?: { proposerBasisPoints: number; voters: Array<{ address: Uint8Array; weight: bigint }> }
  /**
   * PoW coinbase maturity: nothing this block earns is paid now. Its subsidy (`reward`) is
   * minted later, and everything the VM pays to the block's coinbase (tips, the unburned base
   * fee, direct transfers to block.coinbase) lands in this block's escrow account
   * (`coinbaseEscrow(height)`), which is the COINBASE the EVM sees. The block `coinbaseMaturity`
   * blocks back gets paid instead: its subsidy plus its whole escrow, to its producer (null
   * when there is none yet). Like a Bitcoin coinbase output, nothing is spendable before then.
   */
  maturedReward?: { to: Uint8Array; amount: bigint; height: bigint } | null
  /**
   * Hashes of the blocks before this one on its own branch, for BLOCKHASH. Default: the
   * canonical index, which is right only while the parent is canonical; a side-branch block
   * (a reorg candidate) must see its own ancestors or its state root would not match.
   */
  hashAt?: (height: bigint) => Uint8Array | undefined
}

export interface ExecutedTx {
  tx: TypedTransaction
  sender: Uint8Array
  gasUsed: bigint
  contractAddress?: Uint8Array
}

export interface BlockExecution {
  txs: ExecutedTx[]
  receipts: Receipt[]
  gasUsed: bigint
  logsBloom: Uint8Array
  stateRoot: Uint8Array
  txRoot: Uint8Array
  receiptsRoot: Uint8Array
  /** Trie nodes to write in the block's atomic batch. */
  stateOps: BatchOp[]
  /** Build mode only: txs left out because they failed, with the reason. */
  rejected: Array<{ tx: TypedTransaction; reason: string }>
  /** The state this block started from and what it changed (to advance the state cache). */
  parentStateRoot: Uint8Array
  stateChanges: StateChanges
  /** Return data of each of `params.systemReads` on the block's final state. */
  systemReads?: Record<string, Uint8Array>
}

/** What the builder pulls txs from: yields candidates; `skipSender` drops the rest of a sender's. */
export interface TxSource {
  next(): TypedTransaction | undefined
  skipSender(sender: Uint8Array): void
  /**
   * When set (ms since the epoch), next() hands out nothing after it. A builder that pulls txs
   * ahead of running them (the parallel one) pulls no more than it expects to run by then.
   */
  deadline?: number
}

/**
 * What a block's tx phase runs with (see `Executor.executeWith`): the block's VM and overlay
 * after the system calls, and the EVM's block, whose coinbase is where the VM pays tips.
 */
export interface TxPhaseContext {
  vm: VM
  state: OverlayState
  common: Common
  block: EvmBlock
  params: BlockExecutionParams
  mode: 'build' | 'replay'
  /** BLOCKHASH's source for this block (its own branch). */
  hashAt: (height: bigint) => Uint8Array | undefined
  /** Plain transfers skip the EVM (direct-transfer.ts); off only to compare the two paths. */
  directTransfers: boolean
}

/** The txs a tx phase ran, in block order, and (build mode) the ones it left out. */
export interface TxPhaseResult {
  txs: ExecutedTx[]
  receipts: Receipt[]
  logs: Log[]
  gasUsed: bigint
  rejected: BlockExecution['rejected']
}

/** Runs a block's txs: in order on the block's VM (the default), or in parallel batches (execution/parallel). */
export type TxPhase = (ctx: TxPhaseContext) => Promise<TxPhaseResult>

export class Executor {
  /** One VM pool per chain id: the CHAINID opcode and tx checks follow the block's height. */
  private readonly vms = new Map<bigint, VmPool>()
  private readonly commons: CommonSchedule
  /** The genesis Common (state tries do not depend on the chain id). */
  private readonly common: Common
  /** Flat cache of the head state; advanced by `committed` after each block commit. */
  readonly stateCache = new StateCache()
  private lastReadWorld?: WorldState

  constructor(
    private readonly store: KeyValueStore,
    commons: Commons,
    /** Canonical block hashes (BLOCKHASH for blocks on the canonical branch, and for calls). */
    readonly hashAt: (height: bigint) => Uint8Array | undefined,
    private readonly opts: { directTransfers?: boolean } = {},
  ) {
    this.commons = asSchedule(commons)
    this.common = this.commons.genesis
  }

  /** The Common in force at `height`. */
  commonAt(height: bigint): Common {
    return this.commons.at(height)
  }

  private vmPool(common: Common): VmPool {
    const id = common.chainId()
    let pool = this.vms.get(id)
    if (!pool) {
      pool = new VmPool(common, this.hashAt)
      this.vms.set(id, pool)
    }
    return pool
  }

  /**
   * A fresh overlay over the state at `root` for read-only work (calls, estimates), using the
   * head state cache when `root` is the head's. It must not be committed: its trie is shared.
   */
  overlayAt(root: Uint8Array): OverlayState {
    return new OverlayState(this.readOnlyWorld(root), this.stateCache.view(root))
  }

  /** An account at `root` (the mempool's nonce and balance checks read the head this way). */
  async readAccount(root: Uint8Array, address: Address): Promise<Account | undefined> {
    const cached = this.stateCache.view(root)?.getAccount(address.toString() as `0x${string}`) ?? 'miss'
    if (cached !== 'miss') return cached
    return this.overlayAt(root).getAccount(address)
  }

  /**
   * The state at `root` for reads only (RPC state queries, calls). Opening a trie costs
   * ~0.1 ms; reads at the same root (nearly always the head) share one. Never commit to it.
   */
  readOnlyWorld(root: Uint8Array): WorldState {
    if (this.lastReadWorld && equalsBytes(this.lastReadWorld.root, root)) return this.lastReadWorld
    this.lastReadWorld = openWorldState(this.store, root, this.common)
    return this.lastReadWorld
  }

  /** Tells the executor that `exec` is now committed: the head state cache follows it. */
  committed(exec: BlockExecution): void {
    this.stateCache.advance(exec.parentStateRoot, exec.stateRoot, exec.stateChanges)
  }

  /** Runs `fn` with a pooled VM over `state` (for calls and estimates). */
  withVM<T>(state: OverlayState, fn: (vm: VM) => Promise<T>, height?: bigint): Promise<T> {
    return this.vmPool(height === undefined ? this.common : this.commons.at(height)).with(state, fn)
  }

  /** Builds a block from `source`, skipping txs that do not fit or fail. */
  async build(params: BlockExecutionParams, source: TxSource): Promise<BlockExecution> {
    return this.executeWith(params, 'build', (ctx) => runTxsInOrder(ctx, source))
  }

  /** Re-executes a received block's txs; any tx that cannot run makes the block invalid. */
  async replay(params: BlockExecutionParams, txs: TypedTransaction[]): Promise<BlockExecution> {
    let i = 0
    const source: TxSource = { next: () => txs[i++], skipSender: () => {} }
    return this.executeWith(params, 'replay', (ctx) => runTxsInOrder(ctx, source))
  }

  /**
   * Runs a block with `phase` in place of the in-order tx loop. Everything around the txs is
   * this executor's own: the system calls before them, the producer's pay, the system reads and
   * the one state commit after them, so another way of running the txs (parallel batches) can
   * only differ from in-order execution in how it runs them.
   */
  async executeWith(params: BlockExecutionParams, mode: 'build' | 'replay', phase: TxPhase): Promise<BlockExecution> {
    const world = openWorldState(this.store, params.parentStateRoot, this.common)
    const state = new OverlayState(world, this.stateCache.view(params.parentStateRoot))
    const common = this.commons.at(params.height)
    const hashAt = params.hashAt ?? this.hashAt
    const directTransfers = this.opts.directTransfers ?? true
    return this.vmPool(common).with(state, (vm) => this.runBlock({ vm, state, common, params, mode, hashAt, directTransfers, block: evmBlockOf(params, common) }, world, phase), params.hashAt)
  }

  private async runBlock(ctx: TxPhaseContext, world: WorldState, phase: TxPhase): Promise<BlockExecution> {
    const { vm, state, params, block } = ctx
    await this.runSystemCalls(vm, state, params, block)
    const { txs, receipts, logs, gasUsed, rejected } = await phase(ctx)
    await this.payProducer(state, params, gasUsed)
    let systemReads: Record<string, Uint8Array> | undefined
    for (const [name, read] of Object.entries(params.systemReads ?? {})) {
      ;(systemReads ??= {})[name] = await callSystemContract(vm.evm, state, read.address, read.data, block)
    }
    const stateRoot = await state.commitToTrie()
    return {
      txs,
      receipts,
      gasUsed,
      logsBloom: logsBloom(logs),
      stateRoot,
      txRoot: merkleRoot(txs.map((e) => txBytes(e.tx))),
      receiptsRoot: merkleRoot(receipts.map(encodeReceipt)),
      stateOps: world.db.takeOps(),
      rejected,
      parentStateRoot: params.parentStateRoot,
      stateChanges: state.changes(),
      ...(systemReads ? { systemReads } : {}),
    }
  }

  /** Block subsidy, plus the base fee when the chain does not burn it (tips are paid by the VM). */
  private async payProducer(state: OverlayState, params: BlockExecutionParams, gasUsed: bigint): Promise<void> {
    const fees = params.baseFeeBurn ? 0n : gasUsed * params.baseFee
    if (params.maturedReward !== undefined) {
      await credit(state, coinbaseEscrow(params.height), fees)
      const matured = params.maturedReward
      if (matured) await credit(state, matured.to, matured.amount + (await drain(state, coinbaseEscrow(matured.height))))
      return
    }
    const split = params.rewardSplit
    const totalWeight = split?.voters.reduce((sum, v) => sum + v.weight, 0n) ?? 0n
    if (!split || totalWeight === 0n) return credit(state, params.producer, params.reward + fees)
    // The voters' share is divided by weight; rounding dust goes to the producer, so the whole reward is paid.
    const votersShare = (params.reward * BigInt(10_000 - split.proposerBasisPoints)) / 10_000n
    let paid = 0n
    for (const v of split.voters) {
      const amount = (votersShare * v.weight) / totalWeight
      paid += amount
      await credit(state, v.address, amount)
    }
    await credit(state, params.producer, params.reward - paid + fees)
  }

  /** The chain's own calls before a block's txs (see BlockExecutionParams.systemCalls). */
  private async runSystemCalls(vm: VM, state: OverlayState, params: BlockExecutionParams, block: ReturnType<typeof evmBlock>): Promise<void> {
    for (const c of params.systemCalls ?? []) await applySystemCall(vm.evm, state, c.caller, c.address, c.data, block)
  }
}

/** The EVM's block for a Catena block; under PoW maturity its coinbase is the block's escrow account. */
function evmBlockOf(params: BlockExecutionParams, common: Common): EvmBlock {
  const escrowed = params.maturedReward !== undefined
  return evmBlock(escrowed ? { ...params, producer: coinbaseEscrow(params.height) } : params, common)
}

/** The default tx phase: each tx in turn on the block's VM. */
async function runTxsInOrder(ctx: TxPhaseContext, source: TxSource): Promise<TxPhaseResult> {
  const { vm, params, block, mode } = ctx
  const chainId = ctx.common.chainId()
  const out: ExecutedTx[] = []
  const receipts: Receipt[] = []
  const rejected: BlockExecution['rejected'] = []
  const allLogs: Log[] = []
  let gasUsed = 0n
  let bytes = 0
  for (let tx = source.next(); tx !== undefined; tx = source.next()) {
    const size = txBytes(tx).length + (params.perTxFraming ?? 0)
    if (mode === 'build') {
      // Out of room: this tx waits for a later block; smaller ones may still fit.
      if (gasUsed + tx.gasLimit > params.gasLimit || bytes + size > params.maxTxBytes) continue
    } else {
      if (gasUsed + tx.gasLimit > params.gasLimit) throw new TxExecutionError(out.length, `its gas limit exceeds the block's remaining gas`)
    }
    // The chain's tx policy (types, EIP-155, the chain id in force at this height), the same
    // rule the mempool applies, checked before the signature is recovered.
    const admitted = admitTx(tx, chainId)
    if ('reason' in admitted) {
      // keccak of the bytes: an unsigned tx has no tx.hash().
      if (mode === 'replay') throw new TxExecutionError(out.length, `(${bytesToHex(keccak256(txBytes(tx)))}): ${admitted.reason}`)
      rejected.push({ tx, reason: admitted.reason })
      continue
    }
    const { sender } = admitted
    const refused = senderRefusal(params, sender)
    if (refused) {
      if (mode === 'replay') throw new TxExecutionError(out.length, `(${bytesToHex(tx.hash())}): ${refused}`)
      rejected.push({ tx, reason: refused })
      source.skipSender(sender)
      continue
    }
    // A plain transfer that succeeds needs no EVM; anything else (or anything that fails) runs in it.
    const direct = ctx.directTransfers ? await applyDirectTransfer(ctx.state, tx, sender, block) : undefined
    if (direct !== undefined) {
      gasUsed += direct
      bytes += size
      receipts.push({ type: tx.type, status: 1, cumulativeGasUsed: gasUsed, logs: [] })
      out.push({ tx, sender, gasUsed: direct })
      continue
    }
    let result
    try {
      result = await runTx(vm, { tx, block, blockGasUsed: gasUsed, skipHardForkValidation: true })
    } catch (err) {
      const reason = cleanVmMessage((err as Error).message)
      if (mode === 'replay') throw new TxExecutionError(out.length, `(${bytesToHex(tx.hash())}) cannot execute: ${reason}`)
      rejected.push({ tx, reason })
      source.skipSender(sender)
      continue
    }
    gasUsed += result.totalGasSpent
    bytes += size
    const logs: Log[] = (result.execResult.logs ?? []).map(([address, topics, data]) => ({ address, topics, data }))
    allLogs.push(...logs)
    receipts.push({ type: tx.type, status: result.execResult.exceptionError ? 0 : 1, cumulativeGasUsed: gasUsed, logs })
    out.push({ tx, sender, gasUsed: result.totalGasSpent, contractAddress: result.createdAddress?.bytes })
  }
  return { txs: out, receipts, logs: allLogs, gasUsed, rejected }
}

/** Why a permissioned chain refuses txs from `sender` in this block, or undefined when it may send. */
export function senderRefusal(params: BlockExecutionParams, sender: Uint8Array): string | undefined {
  if (!params.senderAllowed || params.senderAllowed(sender)) return undefined
  return `sender ${bytesToHex(sender)} is not allowed to send transactions on this permissioned chain`
}

async function credit(state: OverlayState, to: Uint8Array, amount: bigint): Promise<void> {
  if (amount === 0n) return
  const address = new Address(to)
  const account = await state.getAccount(address)
  await state.modifyAccountFields(address, { balance: (account?.balance ?? 0n) + amount })
}

/**
 * Where block `height`'s coinbase earnings wait until they mature (PoW): an address no key
 * controls, derived from the height, so each block's earnings are kept apart and move as one.
 */
export function coinbaseEscrow(height: bigint): Uint8Array {
  return keccak256(concatBytes(utf8ToBytes('catena/coinbase-escrow'), setLengthLeft(bigIntToBytes(height), 8))).subarray(12)
}

/** Empties an account that holds only a balance, returning what it held (the account is removed). */
async function drain(state: OverlayState, at: Uint8Array): Promise<bigint> {
  const address = new Address(at)
  const account = await state.getAccount(address)
  if (!account) return 0n
  await state.deleteAccount(address)
  return account.balance
}

/**
 * The admission check of a block's tx, cheapest first: the chain's tx policy, then the sender's
 * recovery (an unsigned tx, or a signature that recovers no key, has no sender).
 */
export function admitTx(tx: TypedTransaction, chainId: bigint): { sender: Uint8Array } | { reason: string } {
  try {
    checkTxPolicy(policyFieldsOf(tx), chainId)
  } catch (err) {
    if (err instanceof TxPolicyError) return { reason: err.message }
    throw err
  }
  try {
    return { sender: tx.getSenderAddress().bytes }
  } catch {
    return { reason: 'invalid sender: the signature does not recover a public key' }
  }
}
