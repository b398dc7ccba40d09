/**
 * The Proof-of-History sequence: a sequential SHA-256 hash chain, `h_{i+1} = sha256(h_i)`,
 * recorded as entries (Solana's Entry: num_hashes, hash, transactions).
 *
 * - A tick is an entry without txs: `numHashes` plain hashes from the previous entry's hash.
 * - An entry with txs mixes them in on its last hash: `numHashes - 1` plain hashes, then
 *   `h = sha256(h || txRoot)`, where txRoot is the RFC 6962 Merkle root (crypto/merkle.ts,
 *   the tree of Catena's block tx roots) over the entry's 32-byte tx hashes as leaves (so
 *   each leaf is hashed as sha256(0x00 || txHash)).
 *
 * Every entry has numHashes >= 1. Nothing here is faster than the chain allows: each hash needs
 * the one before it, which is what makes the count of hashes a proof that time passed.
 *
 * The hot loop takes digests from node:crypto as latin1 ('binary') strings and copies their
 * char codes back into the same 32-byte array: a Buffer per digest costs more to allocate and
 * collect than the hash itself, and writing the bytes from JavaScript beats Buffer#write's trip
 * into C++ (bench/poh.ts and the "PoH" section of bench/RESULTS.md have the numbers).
 * @module
 */
import { hash } from 'node:crypto'
import { merkleRoot } from '../../crypto/merkle.ts'
import { PohError } from './errors.ts'

export const POH_HASH_BYTES = 32
/** numHashes is a uint32 on the wire; callers bound the total far lower (see verify.ts). */
export const MAX_NUM_HASHES = 0xffff_ffff
/** At most this many tx hashes in one entry, whatever the caller allows. */
export const MAX_ENTRY_TXS = 4096

/** One PoH entry: `hash` follows the previous entry's hash after `numHashes` hashes (and its txs). */
export interface PohEntry {
  numHashes: number
  hash: Uint8Array
  /** Empty for a tick. */
  txHashes: Uint8Array[]
}

/**
 * `n` plain hashes of `h`, in place: `h` (exactly 32 bytes) ends as the n-th hash. The caller
 * checks its arguments; this is the loop that runs billions of times.
 */
export function hashInPlace(h: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const d = hash('sha256', h, 'binary')
    for (let j = 0; j < 32; j++) h[j] = d.charCodeAt(j)
  }
}

// h || txRoot for the mix-in hash; read synchronously, never kept.
const mixScratch = new Uint8Array(64)

/** `h = sha256(h || txRoot)`, in place. */
export function mixInPlace(h: Uint8Array, txRoot: Uint8Array): void {
  mixScratch.set(h, 0)
  mixScratch.set(txRoot, 32)
  const d = hash('sha256', mixScratch, 'binary')
  for (let j = 0; j < 32; j++) h[j] = d.charCodeAt(j)
}

/** The RFC 6962 Merkle root of an entry's tx hashes (each a leaf). */
export function txRootOf(txHashes: Uint8Array[]): Uint8Array {
  return merkleRoot(txHashes)
}

/**
 * Moves `h` (32 bytes, in place) over one entry: numHashes plain hashes for a tick, or
 * numHashes - 1 and the mix-in of `txRoot` for an entry with txs. No argument checks.
 */
export function advanceInPlace(h: Uint8Array, numHashes: number, txRoot: Uint8Array | undefined): void {
  if (txRoot === undefined) {
    hashInPlace(h, numHashes)
  } else {
    hashInPlace(h, numHashes - 1)
    mixInPlace(h, txRoot)
  }
}

/** The hash after an entry of `numHashes` hashes and `txHashes` (empty: a tick), from `prev`. */
export function nextHash(prev: Uint8Array, numHashes: number, txHashes: Uint8Array[] = []): Uint8Array {
  checkHash(prev, 'the previous hash')
  checkNumHashes(numHashes)
  checkTxHashes(txHashes, MAX_ENTRY_TXS)
  const h = Uint8Array.from(prev)
  advanceInPlace(h, numHashes, txHashes.length > 0 ? txRootOf(txHashes) : undefined)
  return h
}

/** A tick of `numHashes` plain hashes after `prev`. */
export function tick(prev: Uint8Array, numHashes: number): PohEntry {
  return { numHashes, hash: nextHash(prev, numHashes), txHashes: [] }
}

/** An entry mixing `txHashes` (at least one) into the last of its `numHashes` hashes after `prev`. */
export function txEntry(prev: Uint8Array, numHashes: number, txHashes: Uint8Array[]): PohEntry {
  if (!Array.isArray(txHashes) || txHashes.length === 0) throw new PohError('BAD_ARGUMENT', 'an entry with txs needs at least one tx hash')
  return { numHashes, hash: nextHash(prev, numHashes, txHashes), txHashes: txHashes.map((t) => Uint8Array.from(t)) }
}

export function isTick(entry: PohEntry): boolean {
  return entry.txHashes.length === 0
}

/**
 * Throws PohError('BAD_ENTRY', index) unless `entry` is well formed: numHashes a whole number
 * in [1, MAX_NUM_HASHES], a 32-byte hash, at most `maxTxs` 32-byte tx hashes. Cheap: no hashing.
 */
export function checkEntry(entry: PohEntry, index: number, maxTxs = MAX_ENTRY_TXS): void {
  const fail = (why: string): never => {
    throw new PohError('BAD_ENTRY', `PoH entry ${index}: ${why}`, { index })
  }
  if (typeof entry !== 'object' || entry === null) fail('not an entry')
  const { numHashes, hash: h, txHashes } = entry
  if (!Number.isInteger(numHashes) || numHashes < 1 || numHashes > MAX_NUM_HASHES) {
    fail(`numHashes must be a whole number from 1 to ${MAX_NUM_HASHES}, got ${String(numHashes)}`)
  }
  if (!(h instanceof Uint8Array) || h.length !== POH_HASH_BYTES) fail('its hash must be 32 bytes')
  if (!Array.isArray(txHashes)) fail('txHashes must be an array')
  if (txHashes.length > Math.min(maxTxs, MAX_ENTRY_TXS)) fail(`${txHashes.length} tx hashes, over the limit of ${Math.min(maxTxs, MAX_ENTRY_TXS)}`)
  for (let i = 0; i < txHashes.length; i++) {
    const t = txHashes[i]
    if (!(t instanceof Uint8Array) || t.length !== POH_HASH_BYTES) fail(`tx hash ${i} must be 32 bytes`)
  }
}

function checkHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== POH_HASH_BYTES) throw new PohError('BAD_ARGUMENT', `${what} must be 32 bytes`)
}

function checkNumHashes(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_NUM_HASHES) {
    throw new PohError('BAD_ARGUMENT', `numHashes must be a whole number from 1 to ${MAX_NUM_HASHES}, got ${String(n)}`)
  }
}

function checkTxHashes(txHashes: Uint8Array[], max: number): void {
  if (!Array.isArray(txHashes)) throw new PohError('BAD_ARGUMENT', 'txHashes must be an array')
  if (txHashes.length > max) throw new PohError('BAD_ARGUMENT', `${txHashes.length} tx hashes, over the limit of ${max}`)
  txHashes.forEach((t, i) => checkHash(t, `tx hash ${i}`))
}
