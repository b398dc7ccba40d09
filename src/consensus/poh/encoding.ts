/**
 * The wire form of a block's PoH entries: canonical RLP
 *
 *   entries = [entry, ...]
 *   entry   = [numHashes, hash, [txHash, ...]]
 *
 * numHashes is a big-endian unsigned integer with no leading zero bytes (1 to 4 bytes, never
 * empty: numHashes >= 1); hash and each txHash are 32-byte strings. @ethereumjs/rlp refuses
 * non-minimal length prefixes and trailing bytes; the integer rule is checked here, so one
 * entry list has exactly one encoding. Decoding is bounded before and after: the byte length
 * first, then counts of entries and tx hashes, all before any PoH hash is computed.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { PohError } from './errors.ts'
import { checkEntry, MAX_ENTRY_TXS, POH_HASH_BYTES, type PohEntry } from './sequence.ts'

export interface PohDecodeLimits {
  /** Largest encoding accepted, in bytes (default 16 MiB). */
  maxBytes?: number
  /** Most entries accepted (default 65,536). */
  maxEntries?: number
  /** Most tx hashes in all entries together (default 65,536). */
  maxTxs?: number
  /** Most tx hashes in one entry (default and ceiling MAX_ENTRY_TXS). */
  maxTxsPerEntry?: number
}

export const DEFAULT_MAX_ENCODED_BYTES = 16 * 1024 * 1024
export const DEFAULT_MAX_ENTRIES = 65_536
export const DEFAULT_MAX_TXS = 65_536

/** The canonical RLP of `entries` (checked first: a malformed entry is BAD_ENTRY at its index). */
export function encodePohEntries(entries: PohEntry[]): Uint8Array {
  if (!Array.isArray(entries)) throw new PohError('BAD_ARGUMENT', 'entries must be an array')
  entries.forEach((e, i) => checkEntry(e, i))
  return RLP.encode(entries.map((e) => [uintBytes(e.numHashes), e.hash, e.txHashes]))
}

/**
 * Decodes entries from their canonical RLP. Throws PohError: TOO_LARGE, BAD_ENCODING (with the
 * entry index when one entry is at fault), TOO_MANY_ENTRIES or TOO_MANY_TXS. The returned
 * entries own their bytes (copies), so the input buffer may be reused.
 */
export function decodePohEntries(bytes: Uint8Array, limits: PohDecodeLimits = {}): PohEntry[] {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_ENCODED_BYTES
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES
  const maxTxs = limits.maxTxs ?? DEFAULT_MAX_TXS
  const maxPerEntry = Math.min(limits.maxTxsPerEntry ?? MAX_ENTRY_TXS, MAX_ENTRY_TXS)
  if (!(bytes instanceof Uint8Array)) throw new PohError('BAD_ARGUMENT', 'encoded entries must be a Uint8Array')
  if (bytes.length > maxBytes) throw new PohError('TOO_LARGE', `PoH entries: ${bytes.length} bytes, over the limit of ${maxBytes}`)
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new PohError('BAD_ENCODING', `PoH entries are not valid RLP: ${(err as Error).message}`, { cause: err })
  }
  if (!Array.isArray(decoded)) throw new PohError('BAD_ENCODING', 'PoH entries must be an RLP list')
  if (decoded.length > maxEntries) {
    throw new PohError('TOO_MANY_ENTRIES', `${decoded.length} PoH entries, over the limit of ${maxEntries}`)
  }
  // Counts first (cheap), so a list over the tx limit is refused before anything is copied.
  let txs = 0
  decoded.forEach((item, i) => {
    const fields = entryFields(item, i)
    if (fields[2].length > maxPerEntry) {
      throw new PohError('TOO_MANY_TXS', `PoH entry ${i}: ${fields[2].length} tx hashes, over the limit of ${maxPerEntry}`, { index: i })
    }
    txs += fields[2].length
  })
  if (txs > maxTxs) throw new PohError('TOO_MANY_TXS', `${txs} tx hashes in PoH entries, over the limit of ${maxTxs}`)
  return decoded.map((item, i) => {
    const [n, h, txHashes] = entryFields(item, i)
    const bad = (why: string): never => {
      throw new PohError('BAD_ENCODING', `PoH entry ${i}: ${why}`, { index: i })
    }
    if (n.length === 0 || n.length > 4 || n[0] === 0) bad('numHashes must be a uint32 from 1 up, with no leading zero bytes')
    if (h.length !== POH_HASH_BYTES) bad('its hash must be 32 bytes')
    const copies = txHashes.map((t, k) => {
      if (!(t instanceof Uint8Array) || t.length !== POH_HASH_BYTES) bad(`tx hash ${k} must be a 32-byte string`)
      return Uint8Array.from(t)
    })
    return { numHashes: readUint(n), hash: Uint8Array.from(h), txHashes: copies }
  })
}

type Fields = [Uint8Array, Uint8Array, Uint8Array[]]

function entryFields(item: unknown, i: number): Fields {
  if (
    !Array.isArray(item) ||
    item.length !== 3 ||
    !(item[0] instanceof Uint8Array) ||
    !(item[1] instanceof Uint8Array) ||
    !Array.isArray(item[2])
  ) {
    throw new PohError('BAD_ENCODING', `PoH entry ${i} must be RLP [numHashes, hash, [txHash, ...]]`, { index: i })
  }
  return item as Fields
}

function uintBytes(n: number): Uint8Array {
  const out: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256)
  return Uint8Array.from(out)
}

function readUint(b: Uint8Array): number {
  let v = 0
  for (const byte of b) v = v * 256 + byte
  return v
}
