/**
 * Sealevel-style block execution (issue 13, item 4): a block's txs grouped into batches of
 * txs that touch disjoint declared state (schedule.ts), the batches run one after another,
 * the txs of a batch in parallel on worker threads over exactly the state they declared
 * (prestate.ts, chunk.ts), their writes merged in block order. The result — state root,
 * receipts, gas used, logs — is the one in-order execution of the same txs gives
 * (Executor.replay), with one rule added: a tx that touches state it did not declare fails and
 * is charged its whole gas limit (chunk.ts), in building and in replay alike. Everything
 * around the txs (system calls, rewards, the state commit) is the Executor's own (executeWith).
 *
 * Building pulls txs from the source in windows. A window holds txs that certainly fit: the sum
 * of their gas limits and sizes fits what the block has left, so no later tx's fit depends on
 * how much gas an earlier one of the same window actually uses; the first tx that might not fit
 * starts the next window, when the gas used is known again. So the builder leaves out exactly
 * the txs in-order building leaves out, in the same order, and calls `skipSender` for the same
 * senders (txs of a skipped sender already pulled into the window are dropped, which assumes,
 * as the mempool's source does, that skipping one sender does not reorder the others).
 * A replayed block is split the same way (a window ends where the txs' gas limits would exceed
 * the block's); its batches are computed from its txs, so a validator runs the batches its
 * leader ran (they differ only where the leader dropped txs).
 * @module
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import type { EVM } from '@ethereumjs/evm'
import type { Common } from '@ethereumjs/common'
import type { Logger } from 'pino'
import { bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../../crypto/hash.ts'
import type { KeyValueStore } from '../../storage/index.ts'
import { CallPool, CallPoolError } from '../call-pool.ts'
import {
  TxExecutionError, admitTx, senderRefusal,
  type BlockExecution, type BlockExecutionParams, type ExecutedTx, type Executor, type TxPhaseContext, type TxPhaseResult, type TxSource,
} from '../executor.ts'
import type { Log, Receipt } from '../receipt.ts'
import { txBytes } from '../tx-bytes.ts'
import { declaredAccess, hexOf, type Hex, type TxAccess } from './access.ts'
import { ChunkRunner, type ChunkJob, type ChunkResult, type TxOutcome } from './chunk.ts'
import { ParallelExecutionError, UndeclaredAccessError } from './errors.ts'
import { CoinbaseTips, applyWrites } from './merge.ts'
import { OneAtATime } from './one-at-a-time.ts'
import { gatherPreState } from './prestate.ts'
import { scheduleBatches } from './schedule.ts'

export interface ParallelExecutorOptions {
  /** What the worker threads' state channel serves (the call pool's machinery; batches do not read through it). */
  store: KeyValueStore
  hashAt: (height: bigint) => Uint8Array | undefined
  /** Worker threads for batches (default 2); 0 runs every batch on the calling thread, under the same rules. */
  threads?: number
  /** A batch with fewer txs runs on the calling thread: a lone tx gains nothing from a thread (default 2). */
  inlineBelow?: number
  /** Most txs pulled into one window (default 4096). */
  maxWindow?: number
  /** Most txs in one chunk shipped to a worker (default 256): smaller chunks overlap the main thread's work with the workers'. */
  chunkSize?: number
  logger?: Logger
}

/** The txs of a block that touched undeclared state: included, failed, charged. */
export interface UndeclaredFailure {
  /** Position in the block. */
  index: number
  hash: Uint8Array
  error: UndeclaredAccessError
}

/** Where the tx phase's time went, in ms of the calling thread (`workersMs`: summed over worker chunks). */
export interface ParallelTiming {
  /** The whole tx phase (the block's execution less system calls, rewards and the state root). */
  phaseMs: number
  /** Pulling txs, admission, declarations. */
  fillMs: number
  scheduleMs: number
  /** Reading and packing the state shipped to workers. */
  prepareMs: number
  /** Waiting for worker chunks. */
  waitMs: number
  /** Batches run in place on this thread. */
  inPlaceMs: number
  /** Merging workers' writes and the coinbase's tips. */
  mergeMs: number
  workersMs: number
}

export interface ExecutionPlan {
  windows: number
  /** The size of each batch in order (counting txs that ran). */
  batches: number[]
  timing: ParallelTiming
}

export interface ParallelBlockExecution extends BlockExecution {
  failures: UndeclaredFailure[]
  /** How the txs ran. */
  plan: ExecutionPlan
}

export const DEFAULT_PARALLEL_THREADS = 2
const DEFAULT_INLINE_BELOW = 2
const DEFAULT_MAX_WINDOW = 4096
const DEFAULT_CHUNK_SIZE = 256
/** The first guess of a tx's cost in the tx phase, ms (until a build measured it). */
const FIRST_MS_PER_TX = 0.5
/** BLOCKHASH reaches back this far. */
const HASH_WINDOW = 256n

/** A tx pulled into a window and what became of it. */
interface Candidate {
  tx: TypedTransaction
  size: number
  /** Its place in pull order (in replay, its position in the block). */
  index: number
  /** Left out before running: the policy or the permissions refuse it. */
  refused?: string
  sender?: Uint8Array
  access?: TxAccess
  /** Its sender was skipped before it ran: it never was a candidate of in-order building. */
  dropped?: boolean
  outcome?: TxOutcome
}

/** One block's run: where the phase keeps what it needs across windows. */
interface BlockRun {
  ctx: TxPhaseContext
  source: TxSource
  coinbase: Hex
  precompiles: ReadonlySet<Hex>
  tips: CoinbaseTips
  skipped: Set<Hex>
  hashes?: { from: bigint; packed: Uint8Array }
  /** Candidates pulled so far. */
  pulled: number
  plan: ExecutionPlan
}

function noPlan(): ExecutionPlan {
  return { windows: 0, batches: [], timing: { phaseMs: 0, fillMs: 0, scheduleMs: 0, prepareMs: 0, waitMs: 0, inPlaceMs: 0, mergeMs: 0, workersMs: 0 } }
}

export class ParallelExecutor {
  readonly threads: number
  private readonly inlineBelow: number
  private readonly maxWindow: number
  private readonly chunkSize: number
  private readonly pool?: CallPool
  private readonly commons = new Map<bigint, Common>()
  private readonly local = new ChunkRunner((chainId) => this.commons.get(chainId)!)
  /**
   * One execution at a time (a leader's build and a block's replay may be asked for at once):
   * the calling thread's runner (one warm VM, one guard) and the pool's bounded queue serve a
   * single block, and a build that waits its turn is not also competing for the cores.
   */
  private readonly blocks = new OneAtATime()
  /** The calling thread's runner, one chunk at a time (chunks that fell back from the workers). */
  private readonly localRuns = new OneAtATime()
  /** Recent ms of the tx phase per tx (sizes windows to a build's deadline). */
  private msPerTx = FIRST_MS_PER_TX

  constructor(
    private readonly executor: Executor,
    private readonly o: ParallelExecutorOptions,
  ) {
    this.threads = o.threads ?? DEFAULT_PARALLEL_THREADS
    this.inlineBelow = o.inlineBelow ?? DEFAULT_INLINE_BELOW
    this.maxWindow = o.maxWindow ?? DEFAULT_MAX_WINDOW
    this.chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE
    if (this.threads > 0) {
      // Block execution gets threads of its own: it must never wait behind RPC calls. No deadline:
      // a block's txs are bounded by its gas.
      this.pool = new CallPool({
        store: o.store,
        hashAt: o.hashAt,
        chainIdAt: (h) => executor.commonAt(h).chainId(),
        threads: this.threads,
        timeoutMs: 0,
        // Every chunk of a window's batch may be queued at once.
        maxQueued: Math.ceil(this.maxWindow / Math.max(1, Math.min(this.chunkSize, this.maxWindow))) + this.threads,
        logger: o.logger,
      })
    }
  }

  /** Builds a block from `source` (see Executor.build), its txs run in parallel batches. */
  async build(params: BlockExecutionParams, source: TxSource): Promise<ParallelBlockExecution> {
    return this.execute(params, 'build', source)
  }

  /** Re-executes a received block in the batches its txs' declarations give (see Executor.replay). */
  async replay(params: BlockExecutionParams, txs: TypedTransaction[]): Promise<ParallelBlockExecution> {
    let i = 0
    return this.execute(params, 'replay', { next: () => txs[i++], skipSender: () => {} })
  }

  /** Loads the worker threads now (see CallPool.warm), so the first parallel block does not wait for them. */
  async warm(): Promise<void> {
    await this.pool?.warm()
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await this.pool?.close()
  }

  private execute(params: BlockExecutionParams, mode: 'build' | 'replay', source: TxSource): Promise<ParallelBlockExecution> {
    return this.blocks.run(async () => {
      let failures: UndeclaredFailure[] = []
      let plan = noPlan()
      const execution = await this.executor.executeWith(params, mode, async (ctx) => {
        const started = performance.now()
        const run = this.startRun(ctx, source)
        const result = await this.runTxs(run)
        failures = result.failures
        plan = run.plan
        plan.timing.phaseMs = performance.now() - started
        return result
      })
      return { ...execution, failures, plan }
    })
  }

  private startRun(ctx: TxPhaseContext, source: TxSource): BlockRun {
    const chainId = ctx.common.chainId()
    if (!this.commons.has(chainId)) this.commons.set(chainId, ctx.common)
    const precompiles = new Set([...(ctx.vm.evm as EVM).precompiles.keys()].map((k) => `0x${k}` as Hex))
    const coinbase = ctx.block.header.coinbase
    return {
      ctx,
      source,
      coinbase: hexOf(coinbase.bytes),
      precompiles,
      tips: new CoinbaseTips(ctx.state, coinbase),
      skipped: new Set(),
      pulled: 0,
      plan: noPlan(),
    }
  }

  /** The tx phase: windows of candidates, each run in batches, then accounted in block order. */
  private async runTxs(run: BlockRun): Promise<TxPhaseResult & { failures: UndeclaredFailure[] }> {
    const { params, mode } = run.ctx
    const out: ExecutedTx[] = []
    const receipts: Receipt[] = []
    const logs: Log[] = []
    const rejected: BlockExecution['rejected'] = []
    const failures: UndeclaredFailure[] = []
    let gasUsed = 0n
    let bytes = 0
    let carried: TypedTransaction | undefined
    for (;;) {
      const t0 = performance.now()
      const { window, carry, exhausted } = this.fillWindow(run, carried, params.gasLimit - gasUsed, params.maxTxBytes - bytes, this.windowLimit(run))
      run.plan.timing.fillMs += performance.now() - t0
      carried = carry
      if (window.length === 0) break
      run.plan.windows++
      const t1 = performance.now()
      await this.runWindow(run, window)
      this.measured(window, performance.now() - t1)
      for (const c of window) {
        if (c.refused !== undefined) {
          rejected.push({ tx: c.tx, reason: c.refused })
          continue
        }
        const o = c.outcome
        if (c.dropped || !o) continue
        if (o.kind === 'rejected') {
          rejected.push({ tx: c.tx, reason: o.reason })
          continue
        }
        gasUsed += o.gasUsed
        bytes += c.size
        const txLogs = o.kind === 'ok' ? o.logs : []
        logs.push(...txLogs)
        receipts.push({ type: c.tx.type, status: o.kind === 'ok' ? o.status : 0, cumulativeGasUsed: gasUsed, logs: txLogs })
        if (o.kind === 'failed') {
          const { code, address, slot } = o.error
          failures.push({ index: out.length, hash: c.tx.hash(), error: new UndeclaredAccessError(code, address, slot) })
        }
        out.push({ tx: c.tx, sender: c.sender!, gasUsed: o.gasUsed, ...(o.kind === 'ok' && o.createdAddress ? { contractAddress: o.createdAddress } : {}) })
      }
      if (mode === 'replay' && out.length !== window.at(-1)!.index + 1) {
        throw new ParallelExecutionError('WORKER_FAILED', 'a replayed window did not account for every tx')
      }
      if (!carried && exhausted) break
    }
    const t0 = performance.now()
    await run.tips.pay()
    run.plan.timing.mergeMs += performance.now() - t0
    return { txs: out, receipts, logs, gasUsed, rejected, failures }
  }

  /**
   * The most txs the next window may pull: a build with a deadline pulls about what it can run
   * before it (at the cost measured lately), so the window in hand, not the whole block, is
   * what may run past the deadline; windows go on until the source hands out no more.
   */
  private windowLimit(run: BlockRun): number {
    const deadline = run.source.deadline
    if (run.ctx.mode !== 'build' || deadline === undefined) return this.maxWindow
    return Math.max(1, Math.min(this.maxWindow, Math.floor((deadline - Date.now()) / this.msPerTx)))
  }

  /** Folds a window's run time into the per-tx cost estimate. */
  private measured(window: Candidate[], ms: number): void {
    const ran = window.reduce((n, c) => n + (c.access !== undefined && !c.dropped ? 1 : 0), 0)
    if (ran < 8) return // too few to say anything about the next window
    this.msPerTx = 0.7 * this.msPerTx + 0.3 * (ms / ran)
  }

  /**
   * Pulls at most `limit` txs that certainly fit in `gasLeft` and `bytesLeft` (exact:
   * everything before is accounted); returns the first that might not, to start the next
   * window, and whether the source ran dry.
   */
  private fillWindow(
    run: BlockRun,
    carried: TypedTransaction | undefined,
    gasLeft: bigint,
    bytesLeft: number,
    limit: number,
  ): { window: Candidate[]; carry?: TypedTransaction; exhausted: boolean } {
    const { params, mode, common } = run.ctx
    const chainId = common.chainId()
    const window: Candidate[] = []
    let gasBound = 0n
    let bytesBound = 0
    let next = carried
    while (window.length < limit) {
      const tx = next ?? run.source.next()
      next = undefined
      if (tx === undefined) return { window, exhausted: true }
      const size = txBytes(tx).length + (params.perTxFraming ?? 0)
      const index = run.pulled
      if (mode === 'build') {
        // Cannot fit whatever the txs before use: in-order building skips it too.
        if (tx.gasLimit > gasLeft || size > bytesLeft) continue
        if (gasBound + tx.gasLimit > gasLeft || bytesBound + size > bytesLeft) return { window, carry: tx, exhausted: false }
      } else if (gasBound + tx.gasLimit > gasLeft) {
        if (window.length === 0) throw new TxExecutionError(index, `its gas limit exceeds the block's remaining gas`)
        return { window, carry: tx, exhausted: false }
      }
      const admitted = admitTx(tx, chainId)
      if ('reason' in admitted) {
        if (mode === 'replay') throw new TxExecutionError(index, `(${bytesToHex(keccak256(txBytes(tx)))}): ${admitted.reason}`)
        window.push({ tx, size, index, refused: admitted.reason })
        run.pulled++
        continue
      }
      const { sender } = admitted
      if (run.skipped.has(hexOf(sender))) continue
      const refused = senderRefusal(params, sender)
      if (refused) {
        if (mode === 'replay') throw new TxExecutionError(index, `(${bytesToHex(tx.hash())}): ${refused}`)
        window.push({ tx, size, index, refused })
        run.pulled++
        this.skipSender(run, sender)
        continue
      }
      gasBound += tx.gasLimit
      bytesBound += size
      window.push({ tx, size, index, sender, access: declaredAccess(tx, sender, run.coinbase, run.precompiles) })
      run.pulled++
    }
    return { window, exhausted: false }
  }

  private skipSender(run: BlockRun, sender: Uint8Array): void {
    run.skipped.add(hexOf(sender))
    run.source.skipSender(sender)
  }

  /** Runs a window's txs batch by batch, merging each batch's writes before the next starts. */
  private async runWindow(run: BlockRun, window: Candidate[]): Promise<void> {
    const runnable = window.filter((c) => c.access !== undefined)
    const timing = run.plan.timing
    let t0 = performance.now()
    const batches = scheduleBatches(runnable.map((c) => c.access!))
    timing.scheduleMs += performance.now() - t0
    for (const batch of batches) {
      const members: Candidate[] = []
      for (const i of batch) {
        const c = runnable[i]!
        if (run.skipped.has(hexOf(c.sender!))) c.dropped = true
        else members.push(c)
      }
      if (members.length === 0) continue
      run.plan.batches.push(members.length)
      // A tx that declares the coinbase runs alone and must see it paid up to here.
      if (members[0]!.access!.exclusive) await run.tips.pay()
      await this.runBatch(run, members)
    }
  }

  /**
   * Runs one batch: in place when it is too small for threads, else in chunks on the workers.
   * Chunks are gathered and posted one after another (a worker starts on the first while the
   * next is gathered) and merged in block order as each comes back (while later ones still
   * run). Txs of one batch touch disjoint state, so gathering a chunk after an earlier chunk of
   * the batch was merged reads the same values.
   */
  private async runBatch(run: BlockRun, members: Candidate[]): Promise<void> {
    const { ctx } = run
    const timing = run.plan.timing
    let t0 = performance.now()
    if (!this.pool || members.length < this.inlineBelow) {
      const outcomes = await this.localRuns.run(() => this.local.runInPlace(ctx.common, ctx.state, ctx.block, ctx.hashAt, members.map((c) => ({ tx: c.tx, access: c.access! }))))
      timing.inPlaceMs += performance.now() - t0
      t0 = performance.now()
      for (let i = 0; i < members.length; i++) await this.settle(run, members[i]!, outcomes[i]!)
      timing.mergeMs += performance.now() - t0
      return
    }
    const parts = Math.max(Math.min(this.threads, members.length), Math.ceil(members.length / this.chunkSize))
    const chunks: Array<{ members: Candidate[]; result: Promise<ChunkResult> }> = []
    for (let p = 0; p < parts; p++) {
      const chunk = members.slice(Math.floor((p * members.length) / parts), Math.floor(((p + 1) * members.length) / parts))
      t0 = performance.now()
      const job = await this.jobFor(run, chunk)
      timing.prepareMs += performance.now() - t0
      const result = this.onWorker(job)
      result.catch(() => undefined) // awaited below, in order; an early failure must not go unhandled meanwhile
      chunks.push({ members: chunk, result })
    }
    for (const chunk of chunks) {
      t0 = performance.now()
      const r = await chunk.result
      timing.waitMs += performance.now() - t0
      timing.workersMs += r.ms
      if (r.outcomes.length !== chunk.members.length) {
        throw new ParallelExecutionError('WORKER_FAILED', `a chunk of ${chunk.members.length} txs came back with ${r.outcomes.length} outcomes`)
      }
      t0 = performance.now()
      for (let i = 0; i < chunk.members.length; i++) await this.settle(run, chunk.members[i]!, r.outcomes[i]!)
      timing.mergeMs += performance.now() - t0
    }
  }

  /** A chunk on a worker; if the worker machinery fails, the same chunk on this thread (same code, same result). */
  private async onWorker(job: ChunkJob): Promise<ChunkResult> {
    try {
      return await this.pool!.exec(job)
    } catch (err) {
      if (!(err instanceof CallPoolError)) throw err
      this.o.logger?.warn({ err }, 'parallel execution: a worker failed, running its chunk on the main thread')
      return this.localRuns.run(() => this.local.run(job))
    }
  }

  private async jobFor(run: BlockRun, chunk: Candidate[]): Promise<ChunkJob> {
    const { ctx } = run
    const p = ctx.params
    run.hashes ??= recentHashes(p.height, ctx.hashAt)
    return {
      chainId: ctx.common.chainId(),
      ctx: { height: p.height, timestamp: p.timestamp, producer: ctx.block.header.coinbase.bytes, gasLimit: p.gasLimit, baseFee: p.baseFee, parentHash: p.parentHash },
      hashesFrom: run.hashes.from,
      hashes: run.hashes.packed,
      txs: chunk.map((c) => ({ raw: txBytes(c.tx), sender: c.sender! })),
      pre: await gatherPreState(ctx.state, chunk.map((c) => c.access!), run.precompiles),
    }
  }

  /** Merges one tx's outcome (block order within its batch). */
  private async settle(run: BlockRun, c: Candidate, o: TxOutcome): Promise<void> {
    c.outcome = o
    if (o.kind === 'rejected') {
      if (run.ctx.mode === 'replay') throw new TxExecutionError(c.index, `(${bytesToHex(c.tx.hash())}) cannot execute: ${o.reason}`)
      this.skipSender(run, c.sender!)
      return
    }
    if (o.writes) await applyWrites(run.ctx.state, o.writes)
    // A tx that declared the coinbase paid its tip into the header it wrote.
    if (!c.access!.writes.has(run.coinbase)) run.tips.add(c.index, o.minerValue)
  }
}

/** The block hashes BLOCKHASH may ask for in block `height`, packed for shipping. */
function recentHashes(height: bigint, hashAt: (h: bigint) => Uint8Array | undefined): { from: bigint; packed: Uint8Array } {
  const from = height > HASH_WINDOW ? height - HASH_WINDOW : 0n
  const packed = new Uint8Array(Number(height - from) * 32)
  for (let h = from; h < height; h++) {
    const hash = hashAt(h)
    if (hash) packed.set(hash, Number(h - from) * 32)
  }
  return { from, packed }
}
