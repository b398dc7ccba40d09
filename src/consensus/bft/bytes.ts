/**
 * Small byte helpers shared by the BFT modules (map keys, ordering, canonical integers).
 * Internal: not exported from the folder's index.
 * @module
 */
import { bigIntToUnpaddedBytes, bytesToBigInt, equalsBytes } from '@ethereumjs/util'

/** Hex without prefix, for Map keys. */
export function toKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
}

export const equalBytes = equalsBytes

/** Equality of block hashes where null stands for nil (a vote for no block). */
export function sameHash(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null ? b === null : b !== null && equalsBytes(a, b)
}

/** Lexicographic order, shorter first on a common prefix (Go's bytes.Compare). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

/** Canonical unsigned integer bytes (no leading zeros; 0 = empty). */
export function uintBytes(n: bigint | number): Uint8Array {
  return bigIntToUnpaddedBytes(BigInt(n))
}

/** Decodes canonical unsigned integer bytes of at most `maxBytes`; undefined if not canonical. */
export function readUint(b: unknown, maxBytes: number): bigint | undefined {
  if (!(b instanceof Uint8Array) || b.length > maxBytes) return undefined
  if (b.length > 0 && b[0] === 0) return undefined
  return bytesToBigInt(b)
}

export function isBytes(x: unknown, length?: number): x is Uint8Array {
  return x instanceof Uint8Array && (length === undefined || x.length === length)
}
