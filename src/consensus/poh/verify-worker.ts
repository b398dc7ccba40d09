/**
 * A PoH verification thread (started by PohVerifier in verify.ts): takes one segment at a time,
 * hashes it from its known start hash and answers ok (with the end hash), the first entry that
 * does not check, or stopped. A job's segments share one Int32 in shared memory holding the
 * lowest failed segment (-1 when the job is cancelled): a segment after a failed one cannot hold
 * the first failure, so its thread stops at its next look (every STOP_CHECK_EVERY hashes).
 * @module
 */
import { parentPort } from 'node:worker_threads'
import { runEntries, unpackEntries } from './verify-segment.ts'

/** Main thread -> worker: verify the packed entries (global indexes offset..) from `start`. */
export interface VerifyTask {
  job: number
  seg: number
  start: Uint8Array
  /** The global index of the segment's first entry. */
  offset: number
  /** verify-segment.ts packEntries. */
  packed: ArrayBuffer
  /** Int32Array[1]: the job's lowest failed segment, or -1 when cancelled. */
  control: SharedArrayBuffer
}

/** Worker -> main thread. `index` is global. */
export type VerifyReply =
  | { job: number; seg: number; ok: true; endHash: Uint8Array }
  | { job: number; seg: number; ok: false; index: number }
  | { job: number; seg: number; stopped: true }

/** Lowers the job's failed-segment mark to `seg` unless it is lower already. */
export function markFailed(control: Int32Array, seg: number): void {
  for (;;) {
    const cur = Atomics.load(control, 0)
    if (cur <= seg || Atomics.compareExchange(control, 0, cur, seg) === cur) return
  }
}

export function runTask(t: VerifyTask): VerifyReply {
  const control = new Int32Array(t.control)
  const stop = () => Atomics.load(control, 0) < t.seg
  if (stop()) return { job: t.job, seg: t.seg, stopped: true }
  const r = runEntries(t.start, unpackEntries(t.packed), 0, undefined, stop)
  if ('stopped' in r) return { job: t.job, seg: t.seg, stopped: true }
  if (r.ok) return { job: t.job, seg: t.seg, ok: true, endHash: r.endHash }
  markFailed(control, t.seg)
  return { job: t.job, seg: t.seg, ok: false, index: t.offset + r.index }
}

if (parentPort) {
  const port = parentPort
  port.on('message', (t: VerifyTask) => port.postMessage(runTask(t)))
}
