/**
 * State reads for a call worker, served by the thread that owns the database. LevelDB
 * (classic-level) cannot be opened twice in one process, so a worker thread asks the main
 * thread for each trie node, code blob and block hash it misses, and waits for the answer
 * synchronously: the trie and the EVM read state synchronously (see storage/kv.ts), and the
 * worker has nothing else to do meanwhile.
 *
 * The worker posts a request on a MessagePort and sleeps on a shared Int32 (Atomics.wait); the
 * main thread answers on the same port, then flips the Int32 and wakes it; the worker takes
 * the answer with receiveMessageOnPort. Only state keys (trie nodes and code, which are
 * content-addressed and never change, so the worker caches them) and canonical block hashes
 * (which a reorg may change, so they are asked each time) are served.
 * @module
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { equalsBytes } from '@ethereumjs/util'
import { STATE_PREFIX } from '../storage/layout.ts'
import type { BatchOp, KeyValueStore } from '../storage/index.ts'

/** What a worker asks: a store key (under the state prefix) or the canonical hash at a height. */
export type StateRead = { get: Uint8Array } | { hashAt: bigint }

/** The answer: the value, or null when there is none. */
export type StateAnswer = Uint8Array | null

/** Slot 0 of the shared Int32: 0 while a request waits, 1 once its answer is on the port. */
const PENDING = 0
const ANSWERED = 1
/** A worker that waits this long for the main thread gives up (the main thread is gone or stuck). */
const READ_TIMEOUT_MS = 60_000

export class StateChannelError extends Error {
  readonly code = 'STATE_CHANNEL'
}

/** Main thread: answers a worker's reads from `store` and the canonical chain. Returns a stop function. */
export function serveStateReads(
  port: MessagePort,
  signal: Int32Array,
  store: KeyValueStore,
  hashAt: (height: bigint) => Uint8Array | undefined,
): () => void {
  const onRead = (read: StateRead) => {
    let answer: StateAnswer = null
    try {
      if ('get' in read) answer = isStateKey(read.get) ? (store.get(read.get) ?? null) : null
      else answer = hashAt(read.hashAt) ?? null
    } catch {
      answer = null // a closed store: the worker's call fails on missing state, the node carries on
    }
    port.postMessage(answer)
    Atomics.store(signal, 0, ANSWERED)
    Atomics.notify(signal, 0)
  }
  port.on('message', onRead)
  // The port must not keep the process alive: the pool decides when workers live.
  port.unref()
  return () => {
    port.off('message', onRead)
    port.close()
  }
}

function isStateKey(key: Uint8Array): boolean {
  return key.length > STATE_PREFIX.length && equalsBytes(key.subarray(0, STATE_PREFIX.length), STATE_PREFIX)
}

/** Worker thread: one blocking read through the channel. */
export function readBlocking(port: MessagePort, signal: Int32Array, read: StateRead): StateAnswer {
  Atomics.store(signal, 0, PENDING)
  port.postMessage(read)
  if (Atomics.wait(signal, 0, PENDING, READ_TIMEOUT_MS) === 'timed-out') {
    throw new StateChannelError('state read timed out: the node did not answer')
  }
  const got = receiveMessageOnPort(port)
  if (!got) throw new StateChannelError('state read answered without a value')
  return got.message as StateAnswer
}

/** Worker thread: the store the executor reads state from; writes are refused (calls never commit). */
export class ChannelStore implements KeyValueStore {
  constructor(
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
  ) {}

  get(key: Uint8Array): Uint8Array | undefined {
    return readBlocking(this.port, this.signal, { get: key }) ?? undefined
  }

  hashAt(height: bigint): Uint8Array | undefined {
    return readBlocking(this.port, this.signal, { hashAt: height }) ?? undefined
  }

  batch(_ops: BatchOp[]): Promise<void> {
    return Promise.reject(new StateChannelError('a call worker never writes state'))
  }

  // eslint-disable-next-line require-yield
  async *entries(): AsyncIterable<[Uint8Array, Uint8Array]> {
    throw new StateChannelError('a call worker never scans the store')
  }

  async close(): Promise<void> {}
}
