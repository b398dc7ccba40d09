/**
 * secp256k1 ECDSA (SEC 1 v2, RFC 6979 nonces, low-s) over 32-byte digests, with public-key
 * recovery as Ethereum uses it.
 *
 * Two backends sit behind one interface: libsecp256k1 through the `secp256k1` npm package's
 * native binding (~30x faster for recovery, which every tx sender check needs), and
 * @noble/curves as the audited pure-JS fallback. The package's own entry point silently falls
 * back to a slow pure-JS `elliptic` build when the binary does not load, so the binding is
 * required directly: either we get libsecp256k1 or we use noble, and `SECP256K1_BACKEND` says
 * which (the node logs it at start).
 *
 * Both backends produce byte-identical signatures (RFC 6979 deterministic nonces, low-s).
 * @module
 */
import { createRequire } from 'node:module'
import { secp256k1 as noble } from '@noble/curves/secp256k1.js'
import type { CustomCrypto } from '@ethereumjs/common'
import {
  EthereumJSErrorWithoutCode,
  calculateSigRecovery,
  ecrecover as utilEcrecover,
  setLengthLeft,
} from '@ethereumjs/util'
import { keccak256, sha256 } from './hash.ts'

export type Secp256k1ErrorCode =
  | 'INVALID_DIGEST'
  | 'INVALID_PRIVATE_KEY'
  | 'INVALID_PUBLIC_KEY'
  | 'INVALID_SIGNATURE'

/** Bad input to a secp256k1 operation: `code` says which input, the message says why. */
export class Secp256k1Error extends Error {
  readonly code: Secp256k1ErrorCode
  constructor(code: Secp256k1ErrorCode, message: string) {
    super(message)
    this.name = 'Secp256k1Error'
    this.code = code
  }
}

export interface RecoverableSignature {
  /** 32 bytes, big-endian. */
  r: Uint8Array
  /** 32 bytes, big-endian, always in the lower half of the group order. */
  s: Uint8Array
  /** Parity of R's y coordinate: Ethereum's yParity (v = 27 + recovery for legacy txs). */
  recovery: 0 | 1
}

/** One implementation of the raw operations; inputs are already checked by the callers below. */
export interface Secp256k1Backend {
  readonly name: 'native' | 'noble'
  /** Deterministic low-s signature of a 32-byte digest. Throws on an invalid private key. */
  sign(digest: Uint8Array, privateKey: Uint8Array): RecoverableSignature
  /** 65-byte uncompressed public key from a 64-byte r||s signature. Throws if none exists. */
  recover(digest: Uint8Array, rs: Uint8Array, recovery: number): Uint8Array
  /** 65-byte uncompressed public key. Throws on an invalid private key. */
  publicKey(privateKey: Uint8Array): Uint8Array
}

function toRecovery(recovery: number): 0 | 1 {
  // 2 and 3 mean R.x >= n (probability ~2^-128); Ethereum cannot express them.
  if (recovery !== 0 && recovery !== 1) throw new Error(`unsupported recovery id ${recovery}`)
  return recovery
}

/** The pure-JS backend (@noble/curves). */
export const nobleSecp256k1: Secp256k1Backend = {
  name: 'noble',
  sign(digest, privateKey) {
    // prehash:false because the input is already a digest (noble v2 hashes by default).
    const sig = noble.sign(digest, privateKey, { prehash: false, lowS: true, format: 'recovered' })
    return { recovery: toRecovery(sig[0]), r: sig.slice(1, 33), s: sig.slice(33, 65) }
  },
  recover(digest, rs, recovery) {
    return noble.Signature.fromBytes(rs, 'compact')
      .addRecoveryBit(recovery)
      .recoverPublicKey(digest)
      .toBytes(false)
  },
  publicKey(privateKey) {
    return noble.getPublicKey(privateKey, false)
  },
}

/** The subset of the `secp256k1` package's API used here (it ships no types). */
interface NativeSecp256k1 {
  ecdsaSign(msg32: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number }
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array
  publicKeyCreate(privateKey: Uint8Array, compressed: boolean): Uint8Array
}

function makeNativeBackend(lib: NativeSecp256k1): Secp256k1Backend {
  return {
    name: 'native',
    sign(digest, privateKey) {
      // libsecp256k1 signs with RFC 6979 nonces and always returns the low-s form.
      const { signature, recid } = lib.ecdsaSign(digest, privateKey)
      return { recovery: toRecovery(recid), r: signature.slice(0, 32), s: signature.slice(32, 64) }
    },
    recover(digest, rs, recovery) {
      return lib.ecdsaRecover(rs, recovery, digest, false)
    },
    publicKey(privateKey) {
      return lib.publicKeyCreate(privateKey, false)
    },
  }
}

/** Loads the native binding and checks it against noble on a fixed key before trusting it. */
function loadNative(): { backend?: Secp256k1Backend; error?: string } {
  try {
    const lib = createRequire(import.meta.url)('secp256k1/bindings') as NativeSecp256k1
    const backend = makeNativeBackend(lib)
    const key = sha256(new TextEncoder().encode('catena secp256k1 self-test key'))
    const digest = keccak256(key)
    const a = backend.sign(digest, key)
    const b = nobleSecp256k1.sign(digest, key)
    const rs = concat64(a.r, a.s)
    const pubA = backend.recover(digest, rs, a.recovery)
    const pubB = nobleSecp256k1.publicKey(key)
    if (!equalBytes(rs, concat64(b.r, b.s)) || a.recovery !== b.recovery || !equalBytes(pubA, pubB)) {
      return { error: 'native secp256k1 disagrees with @noble/curves on the self-test vector' }
    }
    return { backend }
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) }
  }
}

const loaded = loadNative()

/** The native backend, or undefined when the binding did not load (see SECP256K1_NATIVE_ERROR). */
export const nativeSecp256k1: Secp256k1Backend | undefined = loaded.backend
/** Why the native binding is not in use, for the node's start-up log; undefined when it is. */
export const SECP256K1_NATIVE_ERROR: string | undefined = loaded.error
const backend: Secp256k1Backend = nativeSecp256k1 ?? nobleSecp256k1
/** Which implementation the functions below use. */
export const SECP256K1_BACKEND: 'native' | 'noble' = backend.name

function isBytes(x: unknown, length: number): x is Uint8Array {
  return x instanceof Uint8Array && x.length === length
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function concat64(r: Uint8Array, s: Uint8Array): Uint8Array {
  const rs = new Uint8Array(64)
  rs.set(r, 0)
  rs.set(s, 32)
  return rs
}

function checkDigest(digest: unknown): asserts digest is Uint8Array {
  if (!isBytes(digest, 32)) throw new Secp256k1Error('INVALID_DIGEST', 'digest must be a 32-byte Uint8Array')
}

function checkPrivateKeyShape(privateKey: unknown): asserts privateKey is Uint8Array {
  if (!isBytes(privateKey, 32)) {
    throw new Secp256k1Error('INVALID_PRIVATE_KEY', 'private key must be a 32-byte Uint8Array')
  }
}

const PRIVATE_KEY_RANGE = 'private key must be in [1, n-1] (n = the secp256k1 group order)'

/** Signs a 32-byte digest (e.g. a keccak-256 tx hash); deterministic and low-s. */
export function signDigest(digest: Uint8Array, privateKey: Uint8Array): RecoverableSignature {
  checkDigest(digest)
  checkPrivateKeyShape(privateKey)
  try {
    return backend.sign(digest, privateKey)
  } catch {
    throw new Secp256k1Error('INVALID_PRIVATE_KEY', PRIVATE_KEY_RANGE)
  }
}

/**
 * Recovers the signer's 65-byte uncompressed public key (0x04 || x || y). Accepts high-s
 * signatures (as Ethereum's ecrecover precompile does); reject them earlier if a rule forbids them.
 */
export function recoverPublicKey(
  digest: Uint8Array,
  r: Uint8Array,
  s: Uint8Array,
  recovery: number,
): Uint8Array {
  checkDigest(digest)
  if (!isBytes(r, 32) || !isBytes(s, 32)) {
    throw new Secp256k1Error('INVALID_SIGNATURE', 'r and s must be 32-byte Uint8Arrays')
  }
  if (recovery !== 0 && recovery !== 1) {
    throw new Secp256k1Error('INVALID_SIGNATURE', `recovery must be 0 or 1, got ${String(recovery)}`)
  }
  try {
    return backend.recover(digest, concat64(r, s), recovery)
  } catch {
    throw new Secp256k1Error(
      'INVALID_SIGNATURE',
      'no public key recovers from this signature (r or s out of range, or r is not a curve point)',
    )
  }
}

/** The 65-byte uncompressed public key of a private key. */
export function privateKeyToPublicKey(privateKey: Uint8Array): Uint8Array {
  checkPrivateKeyShape(privateKey)
  try {
    return backend.publicKey(privateKey)
  } catch {
    throw new Secp256k1Error('INVALID_PRIVATE_KEY', PRIVATE_KEY_RANGE)
  }
}

/**
 * The 20-byte Ethereum address of a public key: the last 20 bytes of keccak-256 over the
 * 64-byte x || y. Takes 65 bytes (0x04 prefix), 64 bytes (no prefix) or 33 bytes (compressed).
 * Only the compressed form is checked to be on the curve.
 */
export function publicKeyToAddress(publicKey: Uint8Array): Uint8Array {
  let xy: Uint8Array
  if (isBytes(publicKey, 65) && publicKey[0] === 0x04) xy = publicKey.subarray(1)
  else if (isBytes(publicKey, 64)) xy = publicKey
  else if (isBytes(publicKey, 33) && (publicKey[0] === 0x02 || publicKey[0] === 0x03)) {
    try {
      xy = noble.Point.fromBytes(publicKey).toBytes(false).subarray(1)
    } catch {
      throw new Secp256k1Error('INVALID_PUBLIC_KEY', 'compressed public key is not a point on secp256k1')
    }
  } else {
    throw new Secp256k1Error(
      'INVALID_PUBLIC_KEY',
      'public key must be 65 bytes (0x04 prefix), 64 bytes (x || y) or 33 bytes (compressed)',
    )
  }
  return keccak256(xy).slice(12)
}

/** The 20-byte Ethereum address controlled by a private key. */
export function privateKeyToAddress(privateKey: Uint8Array): Uint8Array {
  return publicKeyToAddress(privateKeyToPublicKey(privateKey))
}

/**
 * `ecrecover` with exactly the semantics of @ethereumjs/util's (same v handling for 0/1,
 * 27/28 and EIP-155 chainId*2+35/36, same errors, same 64-byte result without the 0x04 prefix),
 * on the native backend.
 */
function makeNativeEcrecover(native: Secp256k1Backend): NonNullable<CustomCrypto['ecrecover']> {
  return (msgHash, v, r, s, chainId) => {
    // libsecp256k1 takes exactly 32-byte digests; noble (util's path) takes any length.
    if (!isBytes(msgHash, 32)) return utilEcrecover(msgHash, v, r, s, chainId)
    const rs = concat64(setLengthLeft(r, 32), setLengthLeft(s, 32))
    const recovery = calculateSigRecovery(v, chainId)
    if (recovery !== 0n && recovery !== 1n) throw EthereumJSErrorWithoutCode('Invalid signature v value')
    return native.recover(msgHash, rs, Number(recovery)).slice(1)
  }
}

/**
 * Crypto for ethereumjs's `Common` (`makeCommon(chainId, ethereumCustomCrypto())`): tx sender
 * recovery and the ecrecover precompile run on the native backend when it loaded; SHA-256
 * (the 0x02 precompile, block hashing) runs on node:crypto.
 */
export function ethereumCustomCrypto(impl: Secp256k1Backend = backend): CustomCrypto {
  return {
    keccak256,
    sha256,
    ecrecover: impl.name === 'native' ? makeNativeEcrecover(impl) : utilEcrecover,
  }
}
