/**
 * The pure parts of PoH verification, shared by the main thread and the verifier's threads:
 * the cheap checks that bound the work before any hashing, the hashing loop over a run of
 * entries, the split of a list into segments of about equal hash counts, and the packed form
 * in which a segment travels to a thread (one transferable ArrayBuffer, no per-entry clone).
 * @module
 */
import { PohError } from './errors.ts'
import { advanceInPlace, checkEntry, hashInPlace, mixInPlace, POH_HASH_BYTES, txRootOf, type PohEntry } from './sequence.ts'

export interface PohLimits {
  /**
   * Most hashes the entries may claim in total (slot.ts slotHashBudget: ticksPerSlot *
   * hashesPerTick, times the slots covered, plus slack). A list over it is refused unhashed.
   */
  maxHashes: number
  /** Most entries (default 65,536). */
  maxEntries?: number
  /** Most tx hashes over all entries (default 65,536). */
  maxTxs?: number
  /** Most tx hashes in one entry (default and ceiling MAX_ENTRY_TXS). */
  maxTxsPerEntry?: number
}

export interface PohWork {
  hashes: number
  txs: number
}

const DEFAULT_MAX_ENTRIES = 65_536
const DEFAULT_MAX_TXS = 65_536

/** Hashes between looks at a stop flag: ~1 ms of work at this machine's ~3.5 MH/s. */
export const STOP_CHECK_EVERY = 4096

/**
 * The cheap checks, in order: the start hash, the limits, the entry count, then each entry's
 * shape while summing hashes and txs, failing as soon as a sum passes its limit. Hashes nothing.
 */
export function precheck(start: Uint8Array, entries: PohEntry[], limits: PohLimits): PohWork {
  if (!(start instanceof Uint8Array) || start.length !== POH_HASH_BYTES) throw new PohError('BAD_ARGUMENT', 'the start hash must be 32 bytes')
  if (typeof limits !== 'object' || limits === null || !Number.isSafeInteger(limits.maxHashes) || limits.maxHashes < 0) {
    throw new PohError('BAD_ARGUMENT', 'limits.maxHashes must be a non-negative safe integer')
  }
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES
  const maxTxs = limits.maxTxs ?? DEFAULT_MAX_TXS
  if (!Array.isArray(entries)) throw new PohError('BAD_ARGUMENT', 'entries must be an array')
  if (entries.length > maxEntries) throw new PohError('TOO_MANY_ENTRIES', `${entries.length} PoH entries, over the limit of ${maxEntries}`)
  let hashes = 0
  let txs = 0
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    checkEntry(e, i, limits.maxTxsPerEntry)
    hashes += e.numHashes
    if (hashes > limits.maxHashes) {
      throw new PohError('TOO_MANY_HASHES', `PoH entries claim more than ${limits.maxHashes} hashes (over the limit at entry ${i})`, { index: i })
    }
    txs += e.txHashes.length
    if (txs > maxTxs) throw new PohError('TOO_MANY_TXS', `PoH entries hold more than ${maxTxs} tx hashes (over the limit at entry ${i})`, { index: i })
  }
  return { hashes, txs }
}

/** What a run of entries came to: all checked, or the first that did not, or stopped from outside. */
export type RunResult = { ok: true; endHash: Uint8Array } | { ok: false; index: number } | { stopped: true }

/**
 * Hashes `entries[from..to)` in order from `start` and compares each result with the entry's
 * claimed hash. `stop` is asked every STOP_CHECK_EVERY hashes; when it says yes the run ends.
 * Entries are assumed prechecked. Indexes in the result are indexes into `entries`.
 */
export function runEntries(
  start: Uint8Array,
  entries: PohEntry[],
  from = 0,
  to = entries.length,
  stop?: () => boolean,
): RunResult {
  const h = Uint8Array.from(start)
  for (let i = from; i < to; i++) {
    const e = entries[i]!
    const txRoot = e.txHashes.length > 0 ? txRootOf(e.txHashes) : undefined
    if (stop === undefined) {
      advanceInPlace(h, e.numHashes, txRoot)
    } else {
      let plain = txRoot === undefined ? e.numHashes : e.numHashes - 1
      while (plain > 0) {
        const k = plain < STOP_CHECK_EVERY ? plain : STOP_CHECK_EVERY
        hashInPlace(h, k)
        plain -= k
        if (stop()) return { stopped: true }
      }
      if (txRoot !== undefined) mixInPlace(h, txRoot)
    }
    if (!equal32(h, e.hash)) return { ok: false, index: i }
  }
  return { ok: true, endHash: h }
}

function equal32(a: Uint8Array, b: Uint8Array): boolean {
  for (let j = 0; j < 32; j++) if (a[j] !== b[j]) return false
  return true
}

/**
 * Splits `entries` into at most `k` contiguous non-empty segments of about equal hash counts
 * (the greedy cut where the running sum passes each j/k of the total). Returns the start index
 * of each segment; segment j runs to the next start (the last to entries.length).
 */
export function splitSegments(entries: PohEntry[], k: number): number[] {
  const n = entries.length
  if (n === 0) return []
  const parts = Math.max(1, Math.min(k, n))
  let total = 0
  for (const e of entries) total += e.numHashes
  const starts = [0]
  let sum = 0
  for (let i = 0; i + 1 < n && starts.length < parts; i++) {
    sum += entries[i]!.numHashes
    // Cut after entry i when the running sum reaches the next share, or when every entry left
    // must start a segment of its own to make `parts`.
    const needed = parts - starts.length
    if (n - (i + 1) <= needed || sum >= (total * starts.length) / parts) starts.push(i + 1)
  }
  return starts
}

/**
 * Packs entries[from..to) into one ArrayBuffer: per entry, uint32 numHashes, uint32 tx count
 * (little-endian), the 32-byte hash, then the 32-byte tx hashes. Entries are assumed prechecked.
 */
export function packEntries(entries: PohEntry[], from: number, to: number): ArrayBuffer {
  let size = 0
  for (let i = from; i < to; i++) size += 8 + 32 * (1 + entries[i]!.txHashes.length)
  const buf = new ArrayBuffer(size)
  const view = new DataView(buf)
  const bytes = new Uint8Array(buf)
  let o = 0
  for (let i = from; i < to; i++) {
    const e = entries[i]!
    view.setUint32(o, e.numHashes, true)
    view.setUint32(o + 4, e.txHashes.length, true)
    bytes.set(e.hash, o + 8)
    o += 40
    for (const t of e.txHashes) {
      bytes.set(t, o)
      o += 32
    }
  }
  return buf
}

/** The entries of a packed buffer, as views into it (no copies). Throws BAD_ARGUMENT on a bad buffer. */
export function unpackEntries(buf: ArrayBuffer): PohEntry[] {
  const view = new DataView(buf)
  const bytes = new Uint8Array(buf)
  const out: PohEntry[] = []
  let o = 0
  while (o < buf.byteLength) {
    if (o + 40 > buf.byteLength) throw new PohError('BAD_ARGUMENT', 'packed PoH entries are truncated')
    const numHashes = view.getUint32(o, true)
    const txCount = view.getUint32(o + 4, true)
    const hash = bytes.subarray(o + 8, o + 40)
    o += 40
    if (o + 32 * txCount > buf.byteLength) throw new PohError('BAD_ARGUMENT', 'packed PoH entries are truncated')
    const txHashes: Uint8Array[] = new Array(txCount)
    for (let t = 0; t < txCount; t++, o += 32) txHashes[t] = bytes.subarray(o, o + 32)
    out.push({ numHashes, hash, txHashes })
  }
  return out
}
