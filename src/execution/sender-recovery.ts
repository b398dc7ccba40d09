/**
 * Signature recovery off the main thread for blocks about to be imported (sync). Recovering a
 * tx's sender is the largest per-tx cost of an import after execution (~70 µs native); a
 * syncing node knows the next blocks while it imports the current ones, so their senders are
 * recovered on a call thread meanwhile (the thread decodes each tx with the same ethereumjs
 * code and chain rules as the main thread, so it finds the same sender or none), and the
 * results fill tx-sender.ts's recovered-sender cache, keyed by the hash of the tx's bytes.
 * The import then decodes each tx as always and finds its sender known.
 *
 * Nothing depends on it: a tx the thread could not decode or recover is left to the main
 * thread, which reports the error as it always did; a busy or failed pool just means the main
 * thread recovers as before.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import type { Common } from '@ethereumjs/common'
import { createTxFromRLP } from '@ethereumjs/tx'
import { keccak256 } from '../crypto/hash.ts'
import { rememberRecovered } from './tx-sender.ts'

/** The serialized body of one block and the chain id in force at its height. */
export interface RecoveryBody {
  chainId: bigint
  bodyBytes: Uint8Array
}

/** One tx's recovery: the hash of its bytes, its sender's public key (64 bytes) and address. */
export interface RecoveredKey {
  txHash: Uint8Array
  chainId: bigint
  publicKey: Uint8Array
  address: Uint8Array
}

/** At most this many txs per prefill: the cache (tx-sender.ts) must not evict them before their import. */
export const MAX_PREFILL_TXS = 20_000

/**
 * Worker side: every tx of `bodies` that decodes and has a valid signature under its block's
 * chain rules; the rest are left out. Bodies that are not RLP lists of byte strings are skipped.
 */
export function recoverBodies(bodies: RecoveryBody[], commonFor: (chainId: bigint) => Common): RecoveredKey[] {
  const out: RecoveredKey[] = []
  let budget = MAX_PREFILL_TXS
  for (const { chainId, bodyBytes } of bodies) {
    let raws: unknown
    try {
      raws = RLP.decode(bodyBytes)
    } catch {
      continue
    }
    if (!Array.isArray(raws)) continue
    const common = commonFor(chainId)
    for (const raw of raws) {
      if (budget-- <= 0) return out
      if (!(raw instanceof Uint8Array)) continue
      try {
        const publicKey = createTxFromRLP(raw, { common }).getSenderPublicKey()
        out.push({ txHash: keccak256(raw), chainId, publicKey, address: keccak256(publicKey).subarray(12) })
      } catch {
        // The main thread decodes it again and reports what is wrong.
      }
    }
  }
  return out
}

/** Main-thread side: what a call thread recovered goes into the recovered-sender cache. */
export function rememberRecoveredKeys(keys: RecoveredKey[]): void {
  for (const k of keys) rememberRecovered(k.txHash, k.chainId, k.publicKey, k.address)
}

/**
 * Recovers the senders of `bodies` on `pool`'s threads into the cache. Best effort: resolves
 * (never rejects) once done, or at once when the pool is not ready (see ready()), busy, closed
 * or failed.
 */
export async function prefillSenders(pool: RecoveryPool, bodies: RecoveryBody[]): Promise<void> {
  if (bodies.length === 0 || !ready(pool)) return
  try {
    rememberRecoveredKeys(await pool.recoverSenders(bodies))
  } catch {
    // The import recovers them itself.
  }
}

/** A pool that recovers senders and tells how busy it is (CallPool). */
export interface RecoveryPool {
  recoverSenders(bodies: RecoveryBody[]): Promise<RecoveredKey[]>
  stats(): { queued: number; loaded: number }
  /** Starts the pool's threads (without a job). */
  warm(): Promise<void>
}

/** Jobs already waiting on the pool (long eth_calls, earlier prefills) past which a prefill is skipped. */
const MAX_QUEUED = 2

/**
 * Whether to give `pool` work now: only when a thread is loaded and jobs do not queue. A thread
 * takes a second or more of CPU to load, which nobody should wait for: the first use starts the
 * loading and is left to the main thread.
 */
function ready(pool: RecoveryPool): boolean {
  const { loaded, queued } = pool.stats()
  if (loaded === 0) {
    void pool.warm().catch(() => undefined)
    return false
  }
  return queued < MAX_QUEUED
}
