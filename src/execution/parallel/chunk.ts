/**
 * Runs a chunk of one batch's txs: on a worker thread over the state shipped with it (the call
 * threads' entry, call-worker.ts, hands 'exec' jobs here), or on the calling thread in place,
 * over the block's own overlay (a batch too small to be worth a thread; no shipping, no merge).
 * The txs of a batch touch disjoint state, so each runs with ethereumjs's runTx exactly as it
 * would in block order; the guard (guard.ts) holds each to its declaration either way.
 *
 * Per tx the chunk answers one of:
 * - ok: it ran (succeeded or reverted, as in-order execution would), with its writes;
 * - failed: it touched something undeclared. It is undone and charged as if it had halted at
 *   once with an exceptional error: all its gas used, nonce + 1, the gas paid at its effective
 *   price, the tip owed to the coinbase, status 0, no logs. That is what in-order execution
 *   gives for the same tx calling code that halts (INVALID), so the rule is the same wherever
 *   the violation happens, and a tx pays for the work it caused;
 * - rejected: it could not run at all (nonce, balance, intrinsic gas): what makes the builder
 *   leave a tx out and a replayed block invalid, as in Executor.
 *
 * A VM per chain id stays warm for the thread's life (creating one costs over a millisecond).
 * @module
 */
import { createVM, runTx, type RunTxOpts, type RunTxResult, type VM } from '@ethereumjs/vm'
import type { Block as EvmBlock } from '@ethereumjs/block'
import type { EVM } from '@ethereumjs/evm'
import type { Common } from '@ethereumjs/common'
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { Account, Address, KECCAK256_NULL, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { EMPTY_STATE_ROOT, OverlayState, openWorldState, type WorldState } from '../../state/index.ts'
import { MemoryStore } from '../../storage/index.ts'
import { blockHashLookup, evmBlock, type BlockContext } from '../evm-context.ts'
import type { Log } from '../receipt.ts'
import { cleanVmMessage } from '../vm-message.ts'
import { declaredAccess, hexOf, type Hex, type TxAccess } from './access.ts'
import { ParallelExecutionError, type UndeclaredAccessCode } from './errors.ts'
import { GuardedState, sameHeader, type TxTouches } from './guard.ts'
import { ShippedState, type PreState, type ShippedHeader } from './prestate.ts'

/** Main thread -> worker: a chunk of one batch. */
export interface ChunkJob {
  chainId: bigint
  /** The block as the EVM sees it (`producer` is the EVM's coinbase). */
  ctx: BlockContext
  /** BLOCKHASH answers: 32-byte hashes of heights `hashesFrom`, `hashesFrom + 1`, ... (zeros: none). */
  hashesFrom: bigint
  hashes: Uint8Array
  /** Each tx's canonical bytes and its sender, recovered on the main thread. */
  txs: Array<{ raw: Uint8Array; sender: Uint8Array }>
  pre: PreState
}

/** What a tx changed, to be merged into the block's state in block order. */
export interface TxWrites {
  headers: Array<[Hex, ShippedHeader]>
  /** Accounts whose storage was wiped before the slot writes below (creation). */
  cleared: Hex[]
  /** New code, by account. */
  codes: Array<[Hex, Uint8Array]>
  slots: Array<[Hex, Hex, Uint8Array]>
}

/** `writes` is absent when the tx ran in place (its writes are already in the block's state). */
export type TxOutcome =
  | { kind: 'ok'; gasUsed: bigint; status: 0 | 1; logs: Log[]; createdAddress?: Uint8Array; minerValue: bigint; writes?: TxWrites }
  | { kind: 'failed'; error: { code: UndeclaredAccessCode; address: string; slot?: string }; gasUsed: bigint; minerValue: bigint; writes?: TxWrites }
  | { kind: 'rejected'; reason: string }

export interface ChunkResult {
  outcomes: TxOutcome[]
  /** The chunk's run time on its thread. */
  ms: number
}

interface WarmVm {
  vm: VM
  guard: GuardedState
  common: Common
  precompiles: ReadonlySet<Hex>
  /** Base of every chunk's overlay: nothing is read from it (the shipped state answers first). */
  empty: WorldState
  hashes: { from: bigint; packed: Uint8Array }
  /** The EVM block of the last job (building one costs ~60 µs; a block's chunks share it). */
  block?: { key: string; block: EvmBlock }
  /** In place: BLOCKHASH from the block's own branch. */
  hashAt?: (height: bigint) => Uint8Array | undefined
}

function blockFor(warm: WarmVm, ctx: BlockContext): EvmBlock {
  const key = [ctx.height, ctx.timestamp, ctx.gasLimit, ctx.baseFee, hexOf(ctx.producer), hexOf(ctx.parentHash)].join()
  if (warm.block?.key !== key) warm.block = { key, block: evmBlock(ctx, warm.common) }
  return warm.block.block
}

export class ChunkRunner {
  private readonly vms = new Map<bigint, Promise<WarmVm>>()

  constructor(private readonly commonFor: (chainId: bigint) => Common) {}

  /** A chunk shipped to this (worker) thread: its txs over the shipped state; their writes come back. */
  async run(job: ChunkJob): Promise<ChunkResult> {
    const started = performance.now()
    const warm = await this.vmFor(job.chainId)
    const { vm, guard, common, precompiles } = warm
    warm.hashes = { from: job.hashesFrom, packed: job.hashes }
    const shipped = new ShippedState(job.pre, precompiles)
    const state = new OverlayState(warm.empty, shipped)
    const coinbase = hexOf(job.ctx.producer)
    const block = blockFor(warm, job.ctx)
    guard.use(state, coinbase, precompiles)
    const outcomes: TxOutcome[] = []
    try {
      for (const { raw, sender } of job.txs) {
        const tx = withSender(createTxFromRLP(raw, { common, freeze: false }), sender)
        const access = declaredAccess(tx, sender, coinbase, precompiles)
        outcomes.push(await runOne(vm, guard, state, tx, access, block, job.ctx.baseFee, true))
        if (shipped.failure) throw shipped.failure
      }
    } finally {
      guard.use(undefined, coinbase, precompiles)
    }
    return { outcomes, ms: performance.now() - started }
  }

  /**
   * Txs of one batch on this thread, directly over the block's `state`: their writes land
   * there as they run (so outcomes carry none). `accesses` are the txs' declarations.
   */
  async runInPlace(
    common: Common,
    state: OverlayState,
    block: EvmBlock,
    hashAt: (height: bigint) => Uint8Array | undefined,
    txs: ReadonlyArray<{ tx: TypedTransaction; access: TxAccess }>,
  ): Promise<TxOutcome[]> {
    const warm = await this.vmFor(common.chainId())
    const { vm, guard, precompiles } = warm
    warm.hashAt = hashAt
    const coinbase = hexOf(block.header.coinbase.bytes)
    guard.use(state, coinbase, precompiles)
    const outcomes: TxOutcome[] = []
    try {
      for (const { tx, access } of txs) outcomes.push(await runOne(vm, guard, state, tx, access, block, block.header.baseFeePerGas ?? 0n, false))
    } finally {
      guard.use(undefined, coinbase, precompiles)
      warm.hashAt = undefined
    }
    return outcomes
  }

  /**
   * eth_createAccessList on a parallel chain: one run of a call over `state` with the guard in
   * record mode (nothing refused): how it ended, what it touched, and which headers it changed.
   * A call that cannot run at all throws, as runTx does.
   */
  async record(
    common: Common,
    state: OverlayState,
    opts: RunTxOpts & { block: EvmBlock },
    hashAt: (height: bigint) => Uint8Array | undefined,
  ): Promise<{ result: RunTxResult; touches: TxTouches; changed: Set<Hex> }> {
    const warm = await this.vmFor(common.chainId())
    const { vm, guard, precompiles } = warm
    warm.hashAt = hashAt
    const coinbase = hexOf(opts.block.header.coinbase.bytes)
    guard.use(state, coinbase, precompiles)
    guard.begin(undefined)
    try {
      const result = await runTx(vm, opts)
      const changed = new Set<Hex>()
      for (const [key, before] of guard.touches.headersWritten) {
        if (!sameHeader(before, await state.getAccount(new Address(hexToBytes(key))))) changed.add(key)
      }
      return { result, touches: guard.touches, changed }
    } catch (err) {
      await guard.unwind()
      throw err
    } finally {
      guard.use(undefined, coinbase, precompiles)
      warm.hashAt = undefined
    }
  }

  private vmFor(chainId: bigint): Promise<WarmVm> {
    let warm = this.vms.get(chainId)
    if (!warm) {
      warm = createWarmVm(this.commonFor(chainId))
      this.vms.set(chainId, warm)
    }
    return warm
  }
}

async function createWarmVm(common: Common): Promise<WarmVm> {
  const guard = new GuardedState()
  const warm = { guard, common, hashes: { from: 0n, packed: new Uint8Array(0) } } as WarmVm
  const lookup = (h: bigint) => (warm.hashAt ? warm.hashAt(h) : hashFrom(warm.hashes, h))
  const vm = await createVM({ common, stateManager: guard, blockchain: blockHashLookup(lookup) })
  // The guard must know when the EVM runs: the coinbase may be paid its tip only after.
  const evm = vm.evm as EVM
  const runCall = evm.runCall.bind(evm)
  evm.runCall = async (opts) => {
    guard.enterCall()
    try {
      return await runCall(opts)
    } finally {
      guard.leaveCall()
    }
  }
  warm.vm = vm
  warm.precompiles = new Set([...evm.precompiles.keys()].map((k) => `0x${k}` as Hex))
  warm.empty = openWorldState(new MemoryStore(), EMPTY_STATE_ROOT, common)
  return warm
}

function hashFrom(hashes: { from: bigint; packed: Uint8Array }, height: bigint): Uint8Array | undefined {
  const i = height - hashes.from
  if (i < 0n || (i + 1n) * 32n > BigInt(hashes.packed.length)) return undefined
  const hash = hashes.packed.subarray(Number(i) * 32, Number(i) * 32 + 32)
  return hash.some((b) => b !== 0) ? hash : undefined
}

/** A decoded tx whose sender is the one the main thread recovered (no second recovery here). */
function withSender(tx: TypedTransaction, sender: Uint8Array): TypedTransaction {
  const address = new Address(sender)
  Object.defineProperty(tx, 'getSenderAddress', { value: () => address })
  return Object.freeze(tx) as TypedTransaction
}

/** One tx under its declaration; `extract`: read its writes back for shipping. */
async function runOne(vm: VM, guard: GuardedState, state: OverlayState, tx: TypedTransaction, access: TxAccess, block: EvmBlock, baseFee: bigint, extract: boolean): Promise<TxOutcome> {
  guard.begin(access)
  await state.checkpoint()
  let result: Awaited<ReturnType<typeof runTx>> | undefined
  let thrown: unknown
  try {
    result = await runTx(vm, { tx, block, skipHardForkValidation: true })
  } catch (err) {
    thrown = err
  }
  if (thrown instanceof ParallelExecutionError) throw thrown
  if (thrown !== undefined) await guard.unwind()
  else if (guard.openCheckpoints !== 0) throw new ParallelExecutionError('WORKER_FAILED', `runTx returned with ${guard.openCheckpoints} checkpoints open`)
  const violation = guard.violation ?? (result ? await guard.readOnlyViolation() : undefined)
  if (violation) {
    await state.revert()
    const sender = tx.getSenderAddress()
    const minerValue = await charge(state, tx, sender, baseFee)
    await state.commit()
    const failed = { kind: 'failed' as const, error: violation.toJSON(), gasUsed: tx.gasLimit, minerValue }
    if (!extract) return failed
    return { ...failed, writes: { headers: [[hexOf(sender.bytes), headerOut(await state.getAccount(sender))]], cleared: [], codes: [], slots: [] } }
  }
  if (!result) {
    await state.revert()
    return { kind: 'rejected', reason: cleanVmMessage((thrown as Error)?.message ?? String(thrown)) }
  }
  const writes = extract ? await writesOf(state, guard.touches, access) : undefined
  await state.commit()
  return {
    kind: 'ok',
    gasUsed: result.totalGasSpent,
    status: result.execResult.exceptionError ? 0 : 1,
    logs: (result.execResult.logs ?? []).map(([address, topics, data]) => ({ address, topics, data })),
    ...(result.createdAddress ? { createdAddress: result.createdAddress.bytes } : {}),
    minerValue: result.minerValue,
    ...(writes ? { writes } : {}),
  }
}

/**
 * The charge of a tx that touched undeclared state, on its state as before it ran: all its
 * gas at its effective price, nonce + 1. Returns the tip the coinbase is owed.
 */
async function charge(state: OverlayState, tx: TypedTransaction, sender: Address, baseFee: bigint): Promise<bigint> {
  const price = 'maxFeePerGas' in tx ? min(tx.maxFeePerGas, baseFee + tx.maxPriorityFeePerGas) : tx.gasPrice
  const account = (await state.getAccount(sender)) ?? new Account()
  await state.modifyAccountFields(sender, { nonce: account.nonce + 1n, balance: account.balance - tx.gasLimit * price })
  return tx.gasLimit * (price - baseFee)
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

function headerOut(a: Account | null | undefined): ShippedHeader {
  return a ? [a.nonce, a.balance, a.storageRoot, a.codeHash] : null
}

/** What the tx wrote, read back from the overlay (so writes undone by a revert inside the tx are not shipped). */
async function writesOf(state: OverlayState, touches: TxTouches, access: TxAccess): Promise<TxWrites> {
  const changes = state.changes()
  const writes: TxWrites = { headers: [], cleared: [], codes: [], slots: [] }
  const written = new Set<Hex>([...touches.headersWritten.keys(), ...touches.cleared])
  for (const key of written) {
    if (!access.writes.has(key)) continue // read-only headers were checked unchanged
    if (changes.cleared.has(key)) writes.cleared.push(key)
    const own = changes.accounts.get(key)
    if (own === undefined) continue
    writes.headers.push([key, headerOut(own)])
    const before = touches.headersWritten.get(key)
    if (own && !equalsBytes(own.codeHash, KECCAK256_NULL) && !(before && equalsBytes(before.codeHash, own.codeHash))) {
      writes.codes.push([key, await state.getCode(new Address(hexToBytes(key)))])
    }
  }
  for (const [a, keys] of touches.slotsWritten) {
    const values = changes.storage.get(a)
    for (const k of keys) {
      const v = values?.get(k)
      if (v !== undefined) writes.slots.push([a, k, v])
    }
  }
  return writes
}
