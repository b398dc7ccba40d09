/**
 * A PoH checker that knows nothing of Catena: node:crypto's sha256 over the JSON of
 * GET /v1/blocks/{id}/poh, as anyone re-checking a slot would write it. For each entry,
 * h = sha256(h) numHashes times from startHash, except that an entry with tx hashes replaces
 * its last hash by sha256(h || root), root the RFC 6962 Merkle root of its tx hashes
 * (leaf = sha256(0x00 || txHash), node = sha256(0x01 || left || right), split at the largest
 * power of two below the count). Deliberately not using src/ (no shared bug can hide).
 */
import { createHash } from 'node:crypto'

export interface PohJSON {
  startHash: string
  endHash: string
  entries: Array<{ numHashes: number; hash: string; txHashes: string[] }>
}

export type PohCheck = { ok: true; hashes: number; txs: number } | { ok: false; entry: number; why: string }

const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest()

function bytes32(hex: unknown): Buffer | undefined {
  if (typeof hex !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(hex)) return undefined
  return Buffer.from(hex.slice(2), 'hex')
}

/** RFC 6962 Merkle Tree Hash of `leaves` (at least one). */
export function rfc6962Root(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return sha256(Buffer.of(0x00), leaves[0]!)
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  return sha256(Buffer.of(0x01), rfc6962Root(leaves.slice(0, k)), rfc6962Root(leaves.slice(k)))
}

/** Re-computes every hash of the slot; names the first entry that does not check. */
export function checkPohJSON(p: PohJSON, maxHashes = 50_000_000): PohCheck {
  let h = bytes32(p.startHash)
  if (!h) return { ok: false, entry: -1, why: 'startHash is not 32 bytes of hex' }
  let hashes = 0
  let txs = 0
  for (const [i, e] of p.entries.entries()) {
    if (!Number.isSafeInteger(e.numHashes) || e.numHashes < 1) return { ok: false, entry: i, why: `numHashes ${e.numHashes} is not a positive integer` }
    hashes += e.numHashes
    if (hashes > maxHashes) return { ok: false, entry: i, why: `more than ${maxHashes} hashes` }
    const leaves = e.txHashes.map(bytes32)
    if (leaves.some((l) => l === undefined)) return { ok: false, entry: i, why: 'a tx hash is not 32 bytes of hex' }
    const plain = leaves.length > 0 ? e.numHashes - 1 : e.numHashes
    for (let j = 0; j < plain; j++) h = sha256(h)
    if (leaves.length > 0) h = sha256(h, rfc6962Root(leaves as Buffer[]))
    txs += leaves.length
    const want = bytes32(e.hash)
    if (!want || !h.equals(want)) return { ok: false, entry: i, why: `entry ${i} should end on 0x${h.toString('hex')}, says ${e.hash}` }
  }
  const end = bytes32(p.endHash)
  if (!end || !h.equals(end)) return { ok: false, entry: p.entries.length, why: `the last entry ends on 0x${h.toString('hex')}, endHash says ${p.endHash}` }
  return { ok: true, hashes, txs }
}

/** Ways to tamper with a slot's JSON that a check must catch, each on a fresh copy. */
export function tamperings(p: PohJSON): Array<[string, PohJSON]> {
  const copy = (): PohJSON => structuredClone(p)
  const flip = (hex: string) => `0x${(parseInt(hex[2]!, 16) ^ 1).toString(16)}${hex.slice(3)}`
  const out: Array<[string, PohJSON]> = []
  const mid = Math.floor(p.entries.length / 2)
  let c = copy()
  c.entries[mid]!.hash = flip(c.entries[mid]!.hash)
  out.push(['one entry hash changed', c])
  c = copy()
  c.entries[0]!.numHashes += 1
  out.push(['one hash more in the first entry', c])
  c = copy()
  c.startHash = flip(c.startHash)
  out.push(['another start hash', c])
  c = copy()
  c.endHash = flip(c.endHash)
  out.push(['another end hash', c])
  c = copy()
  c.entries.splice(mid, 1)
  out.push(['an entry left out', c])
  const withTxs = p.entries.findIndex((e) => e.txHashes.length > 0)
  if (withTxs >= 0) {
    c = copy()
    c.entries[withTxs]!.txHashes[0] = flip(c.entries[withTxs]!.txHashes[0]!)
    out.push(['a tx hash changed', c])
    c = copy()
    c.entries[withTxs]!.txHashes.pop()
    out.push(['a tx left out', c])
    const multi = p.entries.findIndex((e) => e.txHashes.length > 1)
    if (multi >= 0) {
      c = copy()
      c.entries[multi]!.txHashes.reverse()
      out.push(['txs reordered', c])
    }
    c = copy()
    c.entries[withTxs]!.txHashes = []
    out.push(['an entry with txs passed off as a tick', c])
  }
  return out
}
