/**
 * Hash functions used across Catena.
 *
 * SHA-256 (FIPS 180-4) runs through node:crypto, about twice as fast as the pure-JS version on
 * these machines, which matters for PoW (double SHA-256 per header) and PoH (a sequential hash
 * chain). Keccak-256 (the pre-standard SHA-3 used by Ethereum) has no node:crypto version: it
 * runs through the native binding of the `keccak` package (about 1.6x faster than noble on
 * 32 bytes and 5x on the ~500-byte trie nodes the state root hashes), with @noble/hashes as
 * the fallback when the binding cannot load. `KECCAK_BACKEND` says which one runs.
 *
 * Hex helpers are not here: use `bytesToHex` / `hexToBytes` from @ethereumjs/util.
 * @module
 */
import { hash as nodeHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { keccak_256 } from '@noble/hashes/sha3.js'

interface NativeKeccakState {
  initialize(rate: number, capacity: number): void
  absorb(data: Uint8Array): void
  absorbLastFewBits(bits: number): void
  squeeze(length: number): Buffer
}

/** The keccak package's native sponge, checked against noble before use; undefined if unavailable. */
function loadNativeKeccak(): NativeKeccakState | undefined {
  try {
    const keccakPackage = createRequire(import.meta.url).resolve('keccak/package.json')
    // node-gyp-build is the keccak package's own loader: resolve it from there.
    const nodeGypBuild = createRequire(keccakPackage)('node-gyp-build') as (dir: string) => unknown
    const State = nodeGypBuild(dirname(keccakPackage)) as new () => NativeKeccakState
    const state = new State()
    const probe = Uint8Array.from({ length: 200 }, (_, i) => i)
    state.initialize(1088, 512)
    state.absorb(probe)
    state.absorbLastFewBits(0x01)
    const digest = state.squeeze(32)
    return Buffer.from(keccak_256(probe)).equals(digest) ? state : undefined
  } catch {
    return undefined
  }
}

const nativeKeccak = loadNativeKeccak()
export const KECCAK_BACKEND: 'native' | 'noble' = nativeKeccak ? 'native' : 'noble'

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
  if (!nativeKeccak) return keccak_256(data)
  // One sponge, re-initialized per call: hashing is synchronous, so calls never interleave.
  nativeKeccak.initialize(1088, 512)
  nativeKeccak.absorb(data)
  nativeKeccak.absorbLastFewBits(0x01)
  return view(nativeKeccak.squeeze(32))
}
