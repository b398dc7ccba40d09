/**
 * eth_call and eth_estimateGas: run a transaction that nobody signed against a block's
 * state, then throw the state away. Like geth, a call without a gas price runs with a zero
 * base fee so read-only calls need no funds, and no call runs with more gas than the RPC gas
 * cap (geth's --rpc.gascap), whatever gas the caller asks for.
 *
 * The node runs these on worker threads (call-pool.ts), never on the thread that produces
 * blocks; this module is the execution itself, the same on either side.
 */
import { runTx, type RunTxOpts, type RunTxResult, type VM } from '@ethereumjs/vm'
import { createTx, type TypedTransaction, type TypedTxData } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import type { Block as EvmBlock } from '@ethereumjs/block'
import type { OverlayState } from '../state/index.ts'
import { AccessListUnsettledError, settleAccessList, type AccessListResult, type AccessListRun } from './access-list.ts'
import { evmBlock, type BlockContext } from './evm-context.ts'
import type { Executor } from './executor.ts'
import { ChunkRunner } from './parallel/chunk.ts'
import { cleanVmMessage } from './vm-message.ts'

export interface CallRequest {
  from?: Uint8Array
  to?: Uint8Array
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  value?: bigint
  data?: Uint8Array
  nonce?: bigint
  accessList?: Array<{ address: string; storageKeys: string[] }>
}

export interface CallOutcome {
  success: boolean
  returnValue: Uint8Array
  gasUsed: bigint
  /** Set when the EVM reverted or halted. */
  error?: string
  reverted: boolean
}

/**
 * The gas a call runs with: the caller's gas, or `default` (the block gas limit) when it names
 * none, and never more than `cap` (0 = no cap, as geth's --rpc.gascap 0).
 */
export interface CallGas {
  default: bigint
  cap: bigint
}

/** geth's default --rpc.gascap. */
export const DEFAULT_RPC_GAS_CAP = 50_000_000n

export function callGasLimit(requested: bigint | undefined, gas: CallGas): bigint {
  const wanted = requested ?? gas.default
  return gas.cap > 0n && wanted > gas.cap ? gas.cap : wanted
}

/** When a call must be done by (ms since the epoch, as Date.now()); undefined = the service's own timeout. */
export interface CallOptions {
  deadline?: number
}

/** What eth_call, eth_estimateGas, eth_createAccessList and REST contract reads need: in-process (CallRunner) or on workers (CallPool). */
export interface CallService {
  call(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: CallGas, opts?: CallOptions): Promise<CallOutcome>
  estimateGas(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: CallGas, opts?: CallOptions): Promise<bigint>
  /**
   * The access list of a call (geth's eth_createAccessList). `parallel`: the chain runs txs
   * under parallel execution's declaration rule, and the list must also satisfy it (access-list.ts).
   */
  createAccessList(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: CallGas, parallel: boolean, opts?: CallOptions): Promise<AccessListResult>
}

/** Thrown when the call cannot even start (nonce, balance, gas below intrinsic, ...). */
export class CallError extends Error {
  readonly code: string = 'CALL_INVALID'
  /** eth_estimateGas: the failed run, when the call ran but failed at the highest gas tried. */
  outcome?: CallOutcome
}

/**
 * Runs calls in this thread, as long as they take: the node gives it only to worker threads
 * (call-worker.ts), which the pool stops at the deadline. The options' deadline is not read here.
 */
export class CallRunner implements CallService {
  private readonly commons = new Map<bigint, Common>()
  /** Runs calls over a guarded state that records what they touch (eth_createAccessList on parallel chains). */
  private readonly recorder: ChunkRunner

  /**
   * Calls run under the chain id in force at their block's height (see CommonSchedule).
   * `recorder`: a call thread shares its own (one warm VM per chain id); by default one of its own.
   */
  constructor(
    private readonly executor: Executor,
    recorder?: ChunkRunner,
  ) {
    this.recorder = recorder ?? new ChunkRunner((chainId) => this.commons.get(chainId)!)
  }

  async call(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: CallGas): Promise<CallOutcome> {
    const result = await this.run(stateRoot, ctx, req, callGasLimit(req.gas, gas))
    return outcome(result)
  }

  /**
   * Smallest gas limit with which the call succeeds, by binary search between the gas it
   * used and the highest allowed (geth's method: refunds and the 63/64 rule make gasUsed too
   * low). The search never goes above the RPC gas cap.
   */
  async estimateGas(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: CallGas): Promise<bigint> {
    const cap = callGasLimit(req.gas, gas)
    const first = outcome(await this.run(stateRoot, ctx, req, cap))
    if (!first.success) return Promise.reject(Object.assign(new CallError(first.error ?? 'execution failed'), { outcome: first }))
    let lo = first.gasUsed - 1n
    let hi = cap
    // Most calls succeed with exactly gasUsed (+ a little): try that before searching.
    const optimistic = (first.gasUsed * 64n) / 63n
    if (optimistic < hi && (await this.succeeds(stateRoot, ctx, req, optimistic))) hi = optimistic
    while (lo + 1n < hi) {
      const mid = (lo + hi) / 2n
      if (await this.succeeds(stateRoot, ctx, req, mid)) hi = mid
      else lo = mid
    }
    return hi
  }

  /**
   * geth's eth_createAccessList: runs the call with its access list, adds what it touched, and
   * again until the list stops growing (access-list.ts). Nonce and balance checks are those of
   * eth_call; a call that cannot start at all is a CallError.
   */
  async createAccessList(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: CallGas, parallel: boolean): Promise<AccessListResult> {
    const common = this.executor.commonAt(ctx.height)
    this.commons.set(common.chainId(), common)
    const limit = callGasLimit(req.gas, gas)
    const priced = isPriced(req)
    const from = new Address(req.from ?? new Uint8Array(20))
    const nonce = req.nonce ?? (await this.executor.overlayAt(stateRoot).getAccount(from))?.nonce ?? 0n
    const block = callBlock(ctx, common, priced)
    const runOnce = async (accessList: CallRequest['accessList']): Promise<AccessListRun> => {
      const tx = callTx(common, from, { ...req, nonce, accessList }, ctx, limit)
      const opts = { tx, block, ...CALL_RUN_OPTS, skipBalance: !priced, reportAccessList: true }
      const state = this.executor.overlayAt(stateRoot)
      try {
        if (!parallel) return { result: await this.executor.withVM(state, (vm) => runTx(vm, opts), ctx.height) }
        return await this.recorder.record(common, state, opts, this.executor.hashAt)
      } catch (err) {
        throw new CallError(cleanVmMessage((err as Error).message))
      }
    }
    try {
      return await settleAccessList({ common, from: from.bytes, to: req.to, nonce, value: req.value ?? 0n, start: req.accessList ?? [], parallel }, runOnce)
    } catch (err) {
      if (err instanceof AccessListUnsettledError) throw new CallError(err.message)
      throw err
    }
  }

  private async succeeds(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: bigint): Promise<boolean> {
    try {
      return outcome(await this.run(stateRoot, ctx, req, gas)).success
    } catch {
      return false
    }
  }

  private async run(stateRoot: Uint8Array, ctx: BlockContext, req: CallRequest, gas: bigint): Promise<RunTxResult> {
    const priced = isPriced(req)
    const state = this.executor.overlayAt(stateRoot)
    return this.executor.withVM(state, (vm) => this.runIn(vm, state, ctx, req, gas, priced), ctx.height)
  }

  private async runIn(vm: VM, state: OverlayState, ctx: BlockContext, req: CallRequest, gas: bigint, priced: boolean): Promise<RunTxResult> {
    const common = this.executor.commonAt(ctx.height)
    const block = callBlock(ctx, common, priced)
    const from = new Address(req.from ?? new Uint8Array(20))
    const nonce = req.nonce ?? (await state.getAccount(from))?.nonce ?? 0n
    const tx = callTx(common, from, { ...req, nonce }, ctx, gas)
    try {
      return await runTx(vm, { tx, block, ...CALL_RUN_OPTS, skipBalance: !priced })
    } catch (err) {
      throw new CallError(cleanVmMessage((err as Error).message))
    }
  }
}

/** Like geth, calls skip the nonce check: wallets estimate txs queued behind pending ones. */
const CALL_RUN_OPTS = { skipNonce: true, skipBlockGasLimitValidation: true, skipHardForkValidation: true } satisfies Partial<RunTxOpts>

/** A call with a gas price pays for its gas (and needs the balance); one without runs with a zero base fee, as in geth. */
function isPriced(req: CallRequest): boolean {
  return req.gasPrice !== undefined || req.maxFeePerGas !== undefined
}

function callBlock(ctx: BlockContext, common: Common, priced: boolean): EvmBlock {
  return evmBlock({ ...ctx, baseFee: priced ? ctx.baseFee : 0n }, common)
}

/** The unsigned tx a call runs as: EIP-1559 when it names 1559 fees, else EIP-2930 with an access list, else legacy. */
function callTx(common: Common, from: Address, req: CallRequest & { nonce: bigint }, ctx: BlockContext, gas: bigint): TypedTransaction {
  return impersonated(common, from, {
    to: req.to,
    gasLimit: gas,
    value: req.value ?? 0n,
    data: req.data ?? new Uint8Array(0),
    nonce: req.nonce,
    ...(req.maxFeePerGas !== undefined || req.maxPriorityFeePerGas !== undefined
      ? { type: 2, maxFeePerGas: req.maxFeePerGas ?? ctx.baseFee + (req.maxPriorityFeePerGas ?? 0n), maxPriorityFeePerGas: req.maxPriorityFeePerGas ?? 0n }
      : { type: req.accessList ? 1 : 0, gasPrice: req.gasPrice ?? 0n }),
    ...(req.accessList ? { accessList: req.accessList } : {}),
    chainId: common.chainId(),
  } as unknown as TypedTxData)
}

/** A tx that claims `from` as its sender without a signature: never leaves this module. */
function impersonated(common: Common, from: Address, data: TypedTxData): TypedTransaction {
  const tx = createTx(data, { common, freeze: false })
  tx.getSenderAddress = () => from
  return tx
}

function outcome(r: RunTxResult): CallOutcome {
  const err = r.execResult.exceptionError
  return {
    success: err === undefined,
    returnValue: r.execResult.returnValue,
    gasUsed: r.totalGasSpent,
    error: err?.error,
    reverted: err?.error === 'revert',
  }
}

