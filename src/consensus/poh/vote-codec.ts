/**
 * Small byte and RLP helpers shared by the PoH voting modules (canonical integers, map keys,
 * ordering). Internal to consensus/poh.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, equalsBytes } from '@ethereumjs/util'

export const ADDRESS_LENGTH = 20
export const HASH_LENGTH = 32
export const SIGNATURE_LENGTH = 65
/** Slots are u64 as in Solana; kept below 2^63 so they are safe as signed 64-bit too. */
export const MAX_SLOT = (1n << 63n) - 1n

export const equalBytes = equalsBytes

/** Hex without prefix, for Map keys. */
export function toKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
}

/** Lexicographic order, shorter first on a common prefix. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

export function isBytes(x: unknown, length?: number): x is Uint8Array {
  return x instanceof Uint8Array && (length === undefined || x.length === length)
}

export function isSlot(x: unknown): x is bigint {
  return typeof x === 'bigint' && x >= 0n && x <= MAX_SLOT
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

/** RLP-decodes `bytes`, or calls `fail` with a reason (which must throw). */
export function rlpDecode(bytes: unknown, fail: (why: string) => never): unknown {
  if (!(bytes instanceof Uint8Array)) fail('must be bytes')
  try {
    return RLP.decode(bytes)
  } catch (err) {
    return fail(`is not valid RLP: ${(err as Error).message}`)
  }
}

/** A list of exactly `n` items, or `fail`. */
export function listOf(d: unknown, n: number, fail: (why: string) => never): unknown[] {
  if (!Array.isArray(d) || d.length !== n) fail(`must be an RLP list of ${n} items`)
  return d as unknown[]
}

/** A byte string of `length` bytes (any length if omitted), or `fail`. */
export function bytesField(d: unknown, name: string, fail: (why: string) => never, length?: number): Uint8Array {
  if (!isBytes(d, length)) fail(`${name} must be ${length === undefined ? 'a byte string' : `${length} bytes`}`)
  return d as Uint8Array
}

/** A canonical unsigned integer of at most `maxBytes`, or `fail`. */
export function uintField(d: unknown, name: string, maxBytes: number, fail: (why: string) => never): bigint {
  const v = readUint(d, maxBytes)
  if (v === undefined) fail(`${name} is not a canonical integer of at most ${maxBytes} bytes`)
  return v as bigint
}
