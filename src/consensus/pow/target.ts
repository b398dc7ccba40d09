/**
 * Targets, compact "bits" and work, exactly as Bitcoin Core's arith_uint256 SetCompact /
 * GetCompact and GetBlockProof, on bigint (no fixed width, no floating point).
 *
 * Compact form (Bitcoin's nBits): the top byte is a base-256 exponent `size`, the low 23
 * bits a mantissa, and 0x00800000 a sign bit:
 *
 *   target = mantissa * 256^(size - 3)        (size <= 3: mantissa >> 8 * (3 - size))
 *
 * A target is a 256-bit unsigned integer; a block's proof-of-work hash must be <= target.
 * @module
 */

/** Codes callers can match on. */
export type PowErrorCode =
  /** compact bits that are negative, overflow 256 bits, decode to zero, or are not a uint32 */
  | 'BAD_BITS'
  /** a target that is not in [1, 2^256 - 1] (or above the chain's powLimit where that applies) */
  | 'BAD_TARGET'
  /** a malformed argument or chain parameter (interval, spacing, half-life, hash length, ...) */
  | 'BAD_PARAMS'
  /** a block time not strictly after the median time past of its parent */
  | 'TIME_TOO_OLD'
  /** a block time too far ahead of this node's clock */
  | 'TIME_TOO_NEW'

/** The one error type of the PoW math; `code` tells the cases apart. */
export class PowError extends Error {
  constructor(
    readonly code: PowErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'PowError'
  }
}

export const MAX_UINT256 = (1n << 256n) - 1n
const TWO_256 = 1n << 256n
const SIGN_BIT = 0x00800000
const MANTISSA_MASK = 0x007fffff

export interface DecodedCompact {
  /** The target, reduced to 256 bits as arith_uint256 would hold it (meaningless when overflow). */
  target: bigint
  /** The sign bit is set and the mantissa is not zero. */
  negative: boolean
  /** The value does not fit in 256 bits. */
  overflow: boolean
}

/** Throws BAD_BITS unless `bits` is a uint32. */
function checkBitsField(bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) {
    throw new PowError('BAD_BITS', `bits must be a uint32, got ${String(bits)}`)
  }
}

/** Throws BAD_TARGET unless `target` is a bigint in [0, 2^256 - 1]. */
function checkUint256(target: bigint, what: string): void {
  if (typeof target !== 'bigint' || target < 0n || target > MAX_UINT256) {
    throw new PowError('BAD_TARGET', `${what} must be a bigint in [0, 2^256 - 1], got ${String(target)}`)
  }
}

/**
 * Decodes compact bits exactly as arith_uint256::SetCompact, reporting the sign and overflow
 * flags instead of rejecting them (use compactToTarget to reject).
 */
export function decodeCompact(bits: number): DecodedCompact {
  checkBitsField(bits)
  const size = bits >>> 24
  let word = bits & MANTISSA_MASK
  let target: bigint
  if (size <= 3) {
    word >>>= 8 * (3 - size)
    target = BigInt(word)
  } else {
    // arith_uint256's left shift drops bits past 256; reduce the same way.
    target = (BigInt(word) << BigInt(8 * (size - 3))) & MAX_UINT256
  }
  // Both flags look at the mantissa after the size <= 3 shift, as SetCompact does.
  const negative = word !== 0 && (bits & SIGN_BIT) !== 0
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32))
  return { target, negative, overflow }
}

/** The target of compact bits; throws PowError BAD_BITS when they are negative, overflow or zero. */
export function compactToTarget(bits: number): bigint {
  const { target, negative, overflow } = decodeCompact(bits)
  const hex = `0x${(bits >>> 0).toString(16).padStart(8, '0')}`
  if (negative) throw new PowError('BAD_BITS', `compact bits ${hex} encode a negative target`)
  if (overflow) throw new PowError('BAD_BITS', `compact bits ${hex} encode a target wider than 256 bits`)
  if (target === 0n) throw new PowError('BAD_BITS', `compact bits ${hex} encode a zero target`)
  return target
}

/**
 * Encodes a target exactly as arith_uint256::GetCompact: keep the 3 most significant bytes,
 * and if that would set the sign bit, shift one more byte so the result never reads as negative.
 * `negative` sets the sign bit (as GetCompact(true)); only tests need it.
 */
export function targetToCompact(target: bigint, negative = false): number {
  checkUint256(target, 'target')
  let size = byteLength(target)
  let compact = size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)))
  if (compact & SIGN_BIT) {
    compact >>>= 8
    size++
  }
  compact |= size << 24
  if (negative && (compact & MANTISSA_MASK) !== 0) compact |= SIGN_BIT
  return compact >>> 0
}

/** Number of bytes needed to hold `n` (0 for 0), like (bits() + 7) / 8. */
function byteLength(n: bigint): number {
  return n === 0n ? 0 : Math.ceil(n.toString(2).length / 8)
}

/**
 * The expected number of hashes to find a block at `target`: 2^256 / (target + 1), rounded
 * down (Bitcoin's GetBlockProof). Chain work is the sum of this over the chain.
 * Throws BAD_TARGET unless target is in [1, 2^256 - 1].
 */
export function workFromTarget(target: bigint): bigint {
  checkUint256(target, 'target')
  if (target === 0n) throw new PowError('BAD_TARGET', 'target must not be zero')
  return TWO_256 / (target + 1n)
}

/**
 * The work of a block with these bits. Unlike GetBlockProof, which returns 0 for bits that
 * are negative, overflow or zero, this throws PowError BAD_BITS: such a header is invalid and
 * must never add to chain work.
 */
export function workFromBits(bits: number): bigint {
  return workFromTarget(compactToTarget(bits))
}

/**
 * A 32-byte hash as an unsigned integer, reading the bytes BIG-endian: byte 0 is the most
 * significant. (Bitcoin reads its hash little-endian and displays it byte-reversed, which is
 * why its block ids start with zeros on screen; Catena compares the bytes as they are.)
 */
export function hashToBigInt(hash: Uint8Array): bigint {
  if (!(hash instanceof Uint8Array) || hash.length !== 32) {
    throw new PowError('BAD_PARAMS', `a PoW hash is 32 bytes, got ${hash instanceof Uint8Array ? hash.length : typeof hash}`)
  }
  let n = 0n
  for (const b of hash) n = (n << 8n) | BigInt(b)
  return n
}

/**
 * Whether `hash` satisfies `target`: the hash, read as a big-endian 256-bit number (see
 * hashToBigInt), must be <= target, as CheckProofOfWork's `hash > target` failure test.
 */
export function hashMeetsTarget(hash: Uint8Array, target: bigint): boolean {
  checkUint256(target, 'target')
  return hashToBigInt(hash) <= target
}
