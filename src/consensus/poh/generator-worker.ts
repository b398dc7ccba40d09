/**
 * The PoH generator's thread (started by PohGenerator in generator.ts): hashes without pause in
 * one synchronous loop that never yields to its event loop.
 *
 * Every `checkEvery` hashes (and at each tick) the loop does three cheap things: publishes its
 * hash count in shared memory, looks at a shared mail counter (the main thread bumps it after
 * posting a record, reset or stop on the control port) and, only if it moved, drains the port
 * with receiveMessageOnPort; and posts the entries made since the last post in one message.
 *
 * The thread only hashes the chain: a record arrives as the Merkle root of its txs, computed on
 * the main thread, and the entry goes back without them (the main thread still has them).
 *
 * Ticks follow Solana's PoH: a tick is the last hash of every hashesPerTick; a record (an entry
 * with txs) takes one hash of the current tick for its mix-in, plus the plain hashes since the
 * previous entry, so ticks stay exactly hashesPerTick hashes apart. A record never takes a
 * tick's last hash: if only that one is left, the tick comes first.
 *
 * Pacing (optional, `minTickMs`): a tick is not completed before its time, counted from the
 * start or the last reset (Solana's low-power tick mode for test clusters, where
 * hashes_per_tick is small and ticks follow a target tick duration). The hashes still prove at
 * least hashesPerTick sequential hashes per tick; pacing only keeps a fast machine from running
 * ahead of the slot time, so many validators can share a few cores.
 *
 * Backpressure: the main thread counts the batches it has taken in shared memory. When
 * maxBacklog batches are posted and not yet taken, the loop stops hashing and waits (still
 * answering stop and reset) rather than queueing entries without bound: a main thread that
 * stalls for long stalls the clock, which the PoH then shows honestly as fewer hashes.
 * @module
 */
import { receiveMessageOnPort, workerData, parentPort, type MessagePort } from 'node:worker_threads'
import { hashInPlace, mixInPlace } from './sequence.ts'

/** Int32 slots of the shared control array. */
export const CTL_MAIL = 0
export const CTL_TAKEN = 1
export const CTL_STALLS = 2
export const CTL_STALLED_MS = 3
export const CTL_SLOTS = 4

export interface GeneratorWorkerInit {
  startHash: Uint8Array
  hashesPerTick: number
  tickHeight: number
  checkEvery: number
  maxBacklog: number
  /** 0: hash without pause. Otherwise no tick completes earlier than this many ms after the previous one's time. */
  minTickMs?: number
  /** Int32Array[CTL_SLOTS]. */
  control: SharedArrayBuffer
  /** BigInt64Array[1]: hashes computed since the thread started. */
  counters: SharedArrayBuffer
  /** Main -> worker control messages, read with receiveMessageOnPort. */
  port: MessagePort
}

/** Main thread -> worker, on the control port. */
export type GeneratorCommand =
  /** Mix in the txs whose Merkle root (sequence.ts txRootOf) the main thread computed. */
  | { type: 'record'; id: number; txRoot: Uint8Array }
  | { type: 'reset'; gen: number; hash: Uint8Array; tickHeight: number }
  | { type: 'stop' }

/** One entry as the worker made it: a tick, or (with recordId) the entry of that record's txs. */
export interface MadeEntry {
  numHashes: number
  hash: Uint8Array
  /** Ticks completed before this entry (the entry's own tick not counted). */
  ticksBefore: number
  /** The record this entry carries, for an entry with txs. */
  recordId?: number
}

/** Worker -> main thread. */
export type GeneratorReport = { type: 'ready' } | { type: 'entries'; gen: number; entries: MadeEntry[] }

export interface GeneratorIo {
  /** The next command, if one is waiting. */
  receive(): GeneratorCommand | undefined
  post(report: GeneratorReport): void
}

/**
 * The generator loop; returns on a stop command. Exported so tests can drive it on their
 * own thread with a fake clock of commands.
 */
export function runGenerator(init: Omit<GeneratorWorkerInit, 'port'>, io: GeneratorIo): void {
  const ctl = new Int32Array(init.control)
  const counters = new BigInt64Array(init.counters)
  const H = init.hashesPerTick
  const h = Uint8Array.from(init.startHash)
  let remaining = H // hashes left in the current tick, its tick hash included
  let sinceEntry = 0
  let ticks = init.tickHeight
  let gen = 0
  let total = 0
  let posted = 0
  let seenMail = 0
  let outbox: MadeEntry[] = []
  const pace = init.minTickMs ?? 0
  let paceFrom = performance.now()
  let paceTicks = ticks

  const pushTick = () => {
    hashInPlace(h, 1)
    sinceEntry++
    total++
    outbox.push({ numHashes: sinceEntry, hash: h.slice(), ticksBefore: ticks })
    ticks++
    sinceEntry = 0
    remaining = H
  }

  /** Handles waiting commands; false on stop. */
  const drain = (): boolean => {
    for (let cmd = io.receive(); cmd !== undefined; cmd = io.receive()) {
      if (cmd.type === 'stop') return false
      if (cmd.type === 'reset') {
        h.set(cmd.hash)
        remaining = H
        sinceEntry = 0
        ticks = cmd.tickHeight
        paceFrom = performance.now()
        paceTicks = ticks
        gen = cmd.gen
        outbox = [] // entries of the old fork: the main thread no longer wants them
        continue
      }
      if (remaining === 1) pushTick()
      mixInPlace(h, cmd.txRoot)
      sinceEntry++
      total++
      remaining--
      outbox.push({ numHashes: sinceEntry, hash: h.slice(), ticksBefore: ticks, recordId: cmd.id })
      sinceEntry = 0
    }
    return true
  }

  const flush = () => {
    if (outbox.length === 0) return
    io.post({ type: 'entries', gen, entries: outbox })
    outbox = []
    posted++
  }

  io.post({ type: 'ready' })
  for (;;) {
    const mail = Atomics.load(ctl, CTL_MAIL)
    if (mail !== seenMail) {
      seenMail = mail
      if (!drain()) return
      flush() // records answered at once, not at the next tick
    }
    const taken = Atomics.load(ctl, CTL_TAKEN)
    if (posted - taken >= init.maxBacklog) {
      const t0 = Date.now()
      Atomics.add(ctl, CTL_STALLS, 1)
      Atomics.wait(ctl, CTL_TAKEN, taken, 50) // woken by a take, a command, or after 50 ms
      Atomics.add(ctl, CTL_STALLED_MS, Date.now() - t0)
      continue
    }
    let budget = init.checkEvery
    let ticked = false
    let waitMs = 0
    while (budget > 0) {
      const n = remaining - 1 < budget ? remaining - 1 : budget
      if (n > 0) {
        hashInPlace(h, n)
        remaining -= n
        sinceEntry += n
        total += n
        budget -= n
      }
      if (remaining === 1 && budget > 0) {
        if (pace > 0) {
          const early = paceFrom + (ticks - paceTicks + 1) * pace - performance.now()
          if (early > 0) {
            waitMs = early
            break
          }
        }
        pushTick()
        budget--
        ticked = true
      }
    }
    Atomics.store(counters, 0, BigInt(total))
    if (ticked) flush()
    // Paced and early: sleep until the tick's time, woken at once by a command or a take.
    if (waitMs > 0) Atomics.wait(ctl, CTL_TAKEN, Atomics.load(ctl, CTL_TAKEN), Math.min(waitMs, 50))
  }
}

if (parentPort && workerData && (workerData as GeneratorWorkerInit).port) {
  const init = workerData as GeneratorWorkerInit
  const out = parentPort
  runGenerator(init, {
    receive: () => receiveMessageOnPort(init.port)?.message as GeneratorCommand | undefined,
    post: (report) => out.postMessage(report),
  })
  init.port.close()
}
