/**
 * A call thread: the entry of each worker the CallPool (call-pool.ts) starts. It runs
 * eth_call / eth_estimateGas / eth_createAccessList jobs one at a time with the same CallRunner the node would run
 * in-process, over state read through the channel to the main thread (state-channel.ts).
 * A pool that runs block execution sends 'exec' jobs instead: a chunk of a batch of txs with
 * the state it declared shipped along (execution/parallel/chunk.ts). A syncing node sends
 * 'recover' jobs: the tx senders of blocks it is about to import (sender-recovery.ts).
 * A job that overruns its deadline is not stopped here: the pool terminates the whole thread,
 * which also ends a loop that never yields.
 * @module
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { ethereumCustomCrypto } from '../crypto/secp256k1.ts'
import type { AccessListResult } from './access-list.ts'
import { CallError, CallRunner, type CallGas, type CallOutcome, type CallRequest } from './call.ts'
import { CommonSchedule, makeCommon } from './common.ts'
import type { BlockContext } from './evm-context.ts'
import { Executor } from './executor.ts'
import { ChannelStore } from './state-channel.ts'
import { ChunkRunner, type ChunkJob, type ChunkResult } from './parallel/chunk.ts'
import { recoverBodies, type RecoveredKey, type RecoveryBody } from './sender-recovery.ts'

/** workerData of a call thread. */
export interface CallWorkerInit {
  /** The port state reads go through (see state-channel.ts). */
  reads: MessagePort
  /** Int32Array[1] the main thread flips when a read is answered. */
  signal: SharedArrayBuffer
}

/** Main thread -> worker: one call, estimate or access list, under the chain id in force at ctx.height; or a chunk of txs to execute. */
export type CallJob =
  | {
      id: number
      kind: 'call' | 'estimate'
      chainId: bigint
      stateRoot: Uint8Array
      ctx: BlockContext
      req: CallRequest
      gas: CallGas
    }
  | { id: number; kind: 'accessList'; chainId: bigint; stateRoot: Uint8Array; ctx: BlockContext; req: CallRequest; gas: CallGas; parallel: boolean }
  | { id: number; kind: 'exec'; chainId: bigint; chunk: ChunkJob }
  | { id: number; kind: 'recover'; bodies: RecoveryBody[] }

/** Worker -> main thread: the job's result, or why it failed. */
export type CallJobResult =
  | { id: number; ok: true; outcome?: CallOutcome; estimate?: bigint; accessList?: AccessListResult; exec?: ChunkResult; recovered?: RecoveredKey[] }
  | { id: number; ok: false; error: { call: boolean; message: string; outcome?: CallOutcome; stack?: string } }

/** Worker -> main thread once, when the thread has loaded and can take jobs. */
export interface CallWorkerReady {
  ready: true
}

if (!isMainThread && parentPort) {
  const init = workerData as CallWorkerInit
  const store = new ChannelStore(init.reads, new Int32Array(init.signal))
  const runners = new Map<bigint, CallRunner>()
  const commons = new Map<bigint, ReturnType<typeof makeCommon>>()
  const commonFor = (chainId: bigint) => {
    let common = commons.get(chainId)
    if (!common) commons.set(chainId, (common = makeCommon(chainId, ethereumCustomCrypto())))
    return common
  }
  // Block execution's chunks and access lists' recorded runs share one warm VM per chain id.
  const chunks = new ChunkRunner(commonFor)
  // One executor per chain id (a fork may change it); they share the store and so its node caches.
  const runnerFor = (chainId: bigint): CallRunner => {
    let runner = runners.get(chainId)
    if (!runner) {
      runner = new CallRunner(new Executor(store, CommonSchedule.single(commonFor(chainId)), (h) => store.hashAt(h)), chunks)
      runners.set(chainId, runner)
    }
    return runner
  }
  const answer = (job: CallJob): Promise<CallJobResult> => {
    if (job.kind === 'exec') return exec(chunks, job)
    // Recovery throws nothing: what does not decode or recover is left out (sender-recovery.ts).
    if (job.kind === 'recover') return Promise.resolve({ id: job.id, ok: true, recovered: recoverBodies(job.bodies, commonFor) })
    return run(runnerFor(job.chainId), job)
  }
  const port = parentPort
  port.on('message', (job: CallJob) => {
    void answer(job).then((r) => port.postMessage(r))
  })
  port.postMessage({ ready: true } satisfies CallWorkerReady)
}

async function exec(chunks: ChunkRunner, job: CallJob & { kind: 'exec' }): Promise<CallJobResult> {
  try {
    return { id: job.id, ok: true, exec: await chunks.run(job.chunk) }
  } catch (err) {
    const e = err as Error
    return { id: job.id, ok: false, error: { call: false, message: String(e?.message ?? err), stack: e?.stack } }
  }
}

async function run(runner: CallRunner, job: CallJob & { kind: 'call' | 'estimate' | 'accessList' }): Promise<CallJobResult> {
  try {
    if (job.kind === 'call') return { id: job.id, ok: true, outcome: await runner.call(job.stateRoot, job.ctx, job.req, job.gas) }
    if (job.kind === 'accessList') return { id: job.id, ok: true, accessList: await runner.createAccessList(job.stateRoot, job.ctx, job.req, job.gas, job.parallel) }
    return { id: job.id, ok: true, estimate: await runner.estimateGas(job.stateRoot, job.ctx, job.req, job.gas) }
  } catch (err) {
    const e = err as Error
    if (err instanceof CallError) return { id: job.id, ok: false, error: { call: true, message: e.message, ...(err.outcome ? { outcome: err.outcome } : {}) } }
    return { id: job.id, ok: false, error: { call: false, message: String(e?.message ?? err), stack: e?.stack } }
  }
}
