/**
 * The Proof-of-Work hash: double SHA-256 over a compact 44-byte mining preimage instead of
 * the ~600-byte RLP header, so one attempt costs two single-block SHA-256 compressions.
 *
 *   preimage = sealHash (32 bytes) || bits (uint32, big-endian) || nonce (uint64, big-endian)
 *   powHash  = sha256d(preimage)
 *
 * `sealHash` is sha256d of the header encoded with an empty seal (computed by the engine), so
 * the proof commits to every header field, as Ethereum's header-hash-without-nonce does. A
 * proof is valid when powHash, read as a big-endian 256-bit integer, is <= the target.
 * @module
 */
import { sha256d } from '../../crypto/hash.ts'

export const POW_PREIMAGE_BYTES = 44
/** Byte offsets of the preimage fields; the miner's workers write the nonce in place. */
export const SEAL_HASH_OFFSET = 0
export const BITS_OFFSET = 32
export const NONCE_OFFSET = 36

const MAX_NONCE = (1n << 64n) - 1n

/** The 44-byte mining preimage. Throws RangeError on a malformed field. */
export function powPreimage(sealHash: Uint8Array, bits: number, nonce: bigint): Uint8Array {
  if (!(sealHash instanceof Uint8Array) || sealHash.length !== 32) {
    throw new RangeError(`sealHash must be 32 bytes, got ${sealHash instanceof Uint8Array ? sealHash.length : typeof sealHash}`)
  }
  checkBits(bits)
  checkNonce(nonce)
  const out = new Uint8Array(POW_PREIMAGE_BYTES)
  const view = new DataView(out.buffer)
  out.set(sealHash, SEAL_HASH_OFFSET)
  view.setUint32(BITS_OFFSET, bits)
  view.setBigUint64(NONCE_OFFSET, nonce)
  return out
}

/** sha256d(powPreimage(sealHash, bits, nonce)), 32 bytes. */
export function powHash(sealHash: Uint8Array, bits: number, nonce: bigint): Uint8Array {
  return sha256d(powPreimage(sealHash, bits, nonce))
}

/** Whether `hash` (32 bytes, big-endian) is <= `target`. A target of 2^256 or more accepts every hash. */
export function meetsTarget(hash: Uint8Array, target: bigint): boolean {
  if (hash.length !== 32) throw new RangeError(`a PoW hash is 32 bytes, got ${hash.length}`)
  checkTarget(target)
  return bytesToBigInt(hash) <= target
}

/** Throws RangeError unless `bits` is a uint32 (the compact-target field). */
export function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) {
    throw new RangeError(`bits must be a uint32, got ${bits}`)
  }
}

/** Throws RangeError unless `nonce` is a uint64. */
export function checkNonce(nonce: bigint): void {
  if (typeof nonce !== 'bigint' || nonce < 0n || nonce > MAX_NONCE) {
    throw new RangeError(`nonce must be a uint64 bigint, got ${String(nonce)}`)
  }
}

/** Throws RangeError unless `target` is a non-negative bigint. */
export function checkTarget(target: bigint): void {
  if (typeof target !== 'bigint' || target < 0n) {
    throw new RangeError(`target must be a non-negative bigint, got ${String(target)}`)
  }
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`)
}
