/**
 * Hash functions used across Catena.
 *
 * SHA-256 (FIPS 180-4) runs through node:crypto, about twice as fast as the pure-JS version on
 * these machines, which matters for PoW (double SHA-256 per header) and PoH (a sequential hash
 * chain). Keccak-256 (the pre-standard SHA-3 used by Ethereum) comes from @noble/hashes:
 * node:crypto has no keccak.
 *
 * Hex helpers are not here: use `bytesToHex` / `hexToBytes` from @ethereumjs/util.
 * @module
 */
import { hash as nodeHash } from 'node:crypto'
import { keccak_256 } from '@noble/hashes/sha3.js'

/**
 * A plain Uint8Array view over a Buffer, so callers comparing with `deepStrictEqual` against a
 * Uint8Array are not tripped by Buffer's prototype. `crypto.hash` allocates a fresh 32-byte
 * ArrayBuffer per digest (not a pooled slab), so the view exposes nothing else.
 */
function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length)
}

/** SHA-256 of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  return view(nodeHash('sha256', data, 'buffer'))
}

/** Double SHA-256, SHA-256(SHA-256(data)), as Bitcoin uses for block and tx ids. */
export function sha256d(data: Uint8Array): Uint8Array {
  return view(nodeHash('sha256', nodeHash('sha256', data, 'buffer'), 'buffer'))
}

/** Keccak-256 of `data` (32 bytes), Ethereum's hash for addresses, txs and the state trie. */
export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data)
}
