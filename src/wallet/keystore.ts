/**
 * Encrypted key files in the Web3 Secret Storage v3 format
 * (https://ethereum.org/developers/docs/data-structures-and-encoding/web3-secret-storage/),
 * the format geth, Besu, ethers, viem-based tools and MetaMask import/export.
 *
 *   derivedKey = scrypt(password, salt, n, r, p) or PBKDF2-HMAC-SHA256(password, salt, c)
 *   ciphertext = AES-128-CTR(key = derivedKey[0..16], iv, privateKey)
 *   mac        = keccak256(derivedKey[16..32] || ciphertext)
 *
 * Files are named and written like geth's (`UTC--<time>--<address>`, mode 0600, written to a
 * temp file, fsynced, then renamed) so a geth keystore directory and a Catena one are
 * interchangeable. Passwords are UTF-8 encoded as given (geth does not normalize them).
 * @module
 */
import { createCipheriv, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { pbkdf2Async } from '@noble/hashes/pbkdf2.js'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@ethereumjs/util'
import { keccak256, privateKeyToAddress, toChecksumAddress } from '../crypto/index.ts'

export type KeystoreErrorCode =
  | 'BAD_PASSWORD'
  | 'MALFORMED_KEYSTORE'
  | 'UNSUPPORTED_VERSION'
  | 'UNSUPPORTED_CIPHER'
  | 'UNSUPPORTED_KDF'
  | 'INVALID_KDF_PARAMS'
  | 'INVALID_PRIVATE_KEY'
  | 'ADDRESS_MISMATCH'
  | 'INVALID_OPTIONS'

/** A keystore that cannot be created or opened: `code` says why. */
export class KeystoreError extends Error {
  readonly code: KeystoreErrorCode
  constructor(code: KeystoreErrorCode, message: string) {
    super(message)
    this.name = 'KeystoreError'
    this.code = code
  }
}

export interface ScryptKdfParams {
  dklen: number
  n: number
  p: number
  r: number
  salt: string
}

export interface Pbkdf2KdfParams {
  c: number
  dklen: number
  prf: 'hmac-sha256'
  salt: string
}

export type KeystoreKdf =
  | { kdf: 'scrypt'; kdfparams: ScryptKdfParams }
  | { kdf: 'pbkdf2'; kdfparams: Pbkdf2KdfParams }

export interface KeystoreV3 {
  /** 40 lowercase hex digits, no 0x (as geth writes it). */
  address: string
  crypto: {
    cipher: 'aes-128-ctr'
    ciphertext: string
    cipherparams: { iv: string }
    mac: string
  } & KeystoreKdf
  id: string
  version: 3
}

/** geth's standard scrypt cost (about 256 MiB and a second or two per unlock). */
export const STANDARD_SCRYPT = { n: 262144, r: 8, p: 1 } as const
/** geth's `--lightkdf` cost, for dev chains and tests that unlock keys often. */
export const LIGHT_SCRYPT = { n: 4096, r: 8, p: 6 } as const
/** PBKDF2 iterations when kdf 'pbkdf2' is chosen (as in the spec's test vector). */
export const DEFAULT_PBKDF2_ITERATIONS = 262144

export interface EncryptKeystoreOptions {
  kdf?: 'scrypt' | 'pbkdf2'
  scryptN?: number
  scryptR?: number
  scryptP?: number
  pbkdf2Iterations?: number
  /** KDF salt; 32 random bytes by default. */
  salt?: Uint8Array
  /** AES-CTR IV (16 bytes); random by default. */
  iv?: Uint8Array
  /** The file's UUID; a random v4 UUID by default. */
  id?: string
  /** Called with a fraction in [0, 1] while scrypt runs (it can take seconds). */
  onProgress?: (fraction: number) => void
}

export type Password = string | Uint8Array

const encoder = new TextEncoder()
// noble's own default memory cap: geth's standard n=2^18, r=8 needs 256 MiB.
const MAX_SCRYPT_MEMORY = 1024 ** 3
const MAX_DKLEN = 1024
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function fail(code: KeystoreErrorCode, message: string): never {
  throw new KeystoreError(code, message)
}

function passwordBytes(password: Password): Uint8Array {
  if (typeof password === 'string') return encoder.encode(password)
  if (password instanceof Uint8Array) return password
  return fail('INVALID_OPTIONS', 'password must be a string or a Uint8Array')
}

/** Hex (optionally 0x-prefixed) to bytes, with the field named in the error. */
function hexField(value: unknown, field: string, length?: number): Uint8Array {
  if (typeof value !== 'string') return fail('MALFORMED_KEYSTORE', `${field} must be a hex string`)
  const hex = value.startsWith('0x') ? value.slice(2) : value
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    return fail('MALFORMED_KEYSTORE', `${field} is not valid hex`)
  }
  if (length !== undefined && hex.length !== length * 2) {
    return fail('MALFORMED_KEYSTORE', `${field} must be ${length} bytes, got ${hex.length / 2}`)
  }
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

function isPositiveInt(x: unknown, max = Number.MAX_SAFE_INTEGER): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 1 && x <= max
}

function checkDklen(dklen: unknown): number {
  // The AES key is derivedKey[0..16] and the MAC key derivedKey[16..32].
  if (!isPositiveInt(dklen, MAX_DKLEN) || dklen < 32) {
    return fail('INVALID_KDF_PARAMS', `dklen must be an integer in [32, ${MAX_DKLEN}], got ${String(dklen)}`)
  }
  return dklen
}

function checkScrypt(n: unknown, r: unknown, p: unknown): { n: number; r: number; p: number } {
  if (!isPositiveInt(n) || n < 2 || (n & (n - 1)) !== 0 || n > 2 ** 30) {
    fail('INVALID_KDF_PARAMS', `scrypt n must be a power of two in [2, 2^30], got ${String(n)}`)
  }
  if (!isPositiveInt(r) || !isPositiveInt(p) || r * p >= 2 ** 30) {
    fail('INVALID_KDF_PARAMS', `scrypt r and p must be positive integers with r*p < 2^30, got r=${String(r)} p=${String(p)}`)
  }
  const memory = 128 * r * (n + p + 1)
  if (memory > MAX_SCRYPT_MEMORY) {
    fail('INVALID_KDF_PARAMS', `scrypt n=${n} r=${r} needs ${Math.ceil(memory / 2 ** 20)} MiB, over the 1024 MiB limit`)
  }
  return { n, r, p }
}

function checkIterations(c: unknown): number {
  if (!isPositiveInt(c, 2 ** 32 - 1)) fail('INVALID_KDF_PARAMS', `pbkdf2 c must be a positive integer, got ${String(c)}`)
  return c
}

async function deriveKey(password: Uint8Array, kdf: KeystoreKdf, salt: Uint8Array, onProgress?: (f: number) => void) {
  if (kdf.kdf === 'scrypt') {
    const { n, r, p, dklen } = kdf.kdfparams
    return scryptAsync(password, salt, { N: n, r, p, dkLen: dklen, maxmem: MAX_SCRYPT_MEMORY + 2 ** 20, onProgress })
  }
  return pbkdf2Async(sha256, password, salt, { c: kdf.kdfparams.c, dkLen: kdf.kdfparams.dklen })
}

function mac(derivedKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const body = new Uint8Array(16 + ciphertext.length)
  body.set(derivedKey.subarray(16, 32), 0)
  body.set(ciphertext, 16)
  return keccak256(body)
}

/** AES-128-CTR is its own inverse: the same call encrypts and decrypts. */
function aes128ctr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-ctr', key, iv)
  const out = Buffer.concat([cipher.update(data), cipher.final()])
  const copy = new Uint8Array(out)
  out.fill(0)
  return copy
}

function addressOf(privateKey: Uint8Array): Uint8Array {
  try {
    return privateKeyToAddress(privateKey)
  } catch {
    return fail('INVALID_PRIVATE_KEY', 'the key is not a valid secp256k1 private key (32 bytes, in [1, n-1])')
  }
}

/** Encrypts a 32-byte private key under `password` (geth's standard scrypt cost by default). */
export async function encryptKeystore(
  privateKey: Uint8Array,
  password: Password,
  opts: EncryptKeystoreOptions = {},
): Promise<KeystoreV3> {
  if (!(privateKey instanceof Uint8Array)) fail('INVALID_PRIVATE_KEY', 'private key must be a Uint8Array')
  const address = addressOf(privateKey)
  const pw = passwordBytes(password)
  const salt = opts.salt ?? randomBytes(32)
  const iv = opts.iv ?? randomBytes(16)
  if (!(salt instanceof Uint8Array) || salt.length < 16) fail('INVALID_OPTIONS', 'salt must be at least 16 bytes')
  if (!(iv instanceof Uint8Array) || iv.length !== 16) fail('INVALID_OPTIONS', 'iv must be 16 bytes')
  const id = opts.id ?? randomUUID()
  if (typeof id !== 'string' || !UUID.test(id)) fail('INVALID_OPTIONS', `id must be a UUID, got ${String(id)}`)

  const saltHex = bytesToHex(salt).slice(2)
  let kdf: KeystoreKdf
  const kind = opts.kdf ?? 'scrypt'
  if (kind === 'scrypt') {
    const { n, r, p } = checkScrypt(
      opts.scryptN ?? STANDARD_SCRYPT.n,
      opts.scryptR ?? STANDARD_SCRYPT.r,
      opts.scryptP ?? STANDARD_SCRYPT.p,
    )
    kdf = { kdf: 'scrypt', kdfparams: { dklen: 32, n, p, r, salt: saltHex } }
  } else if (kind === 'pbkdf2') {
    const c = checkIterations(opts.pbkdf2Iterations ?? DEFAULT_PBKDF2_ITERATIONS)
    kdf = { kdf: 'pbkdf2', kdfparams: { c, dklen: 32, prf: 'hmac-sha256', salt: saltHex } }
  } else {
    return fail('UNSUPPORTED_KDF', `kdf must be 'scrypt' or 'pbkdf2', got ${String(kind)}`)
  }

  const derivedKey = await deriveKey(pw, kdf, salt, opts.onProgress)
  if (typeof password === 'string') pw.fill(0)
  const ciphertext = aes128ctr(derivedKey.subarray(0, 16), iv, privateKey)
  const tag = mac(derivedKey, ciphertext)
  derivedKey.fill(0)
  return {
    address: bytesToHex(address).slice(2),
    crypto: {
      cipher: 'aes-128-ctr',
      ciphertext: bytesToHex(ciphertext).slice(2),
      cipherparams: { iv: bytesToHex(iv).slice(2) },
      ...kdf,
      mac: bytesToHex(tag).slice(2),
    },
    id,
    version: 3,
  }
}

function asObject(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return fail('MALFORMED_KEYSTORE', `${what} must be a JSON object`)
  return x as Record<string, unknown>
}

function parseJson(json: unknown): Record<string, unknown> {
  if (typeof json !== 'string') return asObject(json, 'keystore')
  try {
    return asObject(JSON.parse(json), 'keystore')
  } catch (err) {
    if (err instanceof KeystoreError) throw err
    return fail('MALFORMED_KEYSTORE', `keystore is not valid JSON: ${(err as Error).message}`)
  }
}

/** The kdf section of an untrusted keystore, checked. */
function parseKdf(crypto: Record<string, unknown>): KeystoreKdf {
  const params = asObject(crypto.kdfparams, 'crypto.kdfparams')
  if (crypto.kdf === 'scrypt') {
    const { n, r, p } = checkScrypt(params.n, params.r, params.p)
    const salt = hexField(params.salt, 'kdfparams.salt')
    return { kdf: 'scrypt', kdfparams: { dklen: checkDklen(params.dklen), n, p, r, salt: bytesToHex(salt).slice(2) } }
  }
  if (crypto.kdf === 'pbkdf2') {
    if (params.prf !== 'hmac-sha256') fail('UNSUPPORTED_KDF', `pbkdf2 prf ${JSON.stringify(params.prf)} is not supported (only hmac-sha256)`)
    const salt = hexField(params.salt, 'kdfparams.salt')
    return {
      kdf: 'pbkdf2',
      kdfparams: { c: checkIterations(params.c), dklen: checkDklen(params.dklen), prf: 'hmac-sha256', salt: bytesToHex(salt).slice(2) },
    }
  }
  return fail('UNSUPPORTED_KDF', `kdf ${JSON.stringify(crypto.kdf)} is not supported (scrypt or pbkdf2)`)
}

/**
 * Decrypts a v3 keystore (object or JSON text) and returns the 32-byte private key. A wrong
 * password is BAD_PASSWORD; anything the file gets wrong has its own code.
 */
export async function decryptKeystore(json: KeystoreV3 | string | object, password: Password): Promise<Uint8Array> {
  const ks = parseJson(json)
  if (ks.version !== 3) fail('UNSUPPORTED_VERSION', `keystore version ${JSON.stringify(ks.version)} is not supported (only 3)`)
  // geth also reads "Crypto", which some old wallets wrote.
  const crypto = asObject(ks.crypto ?? ks.Crypto, 'keystore crypto section')
  if (crypto.cipher !== 'aes-128-ctr') fail('UNSUPPORTED_CIPHER', `cipher ${JSON.stringify(crypto.cipher)} is not supported (only aes-128-ctr)`)
  const iv = hexField(asObject(crypto.cipherparams, 'crypto.cipherparams').iv, 'cipherparams.iv', 16)
  const ciphertext = hexField(crypto.ciphertext, 'ciphertext')
  const expectedMac = hexField(crypto.mac, 'mac', 32)
  const kdf = parseKdf(crypto)
  let expectedAddress: Uint8Array | undefined
  if (ks.address !== undefined) expectedAddress = hexField(ks.address, 'address', 20)
  const pw = passwordBytes(password)

  const derivedKey = await deriveKey(pw, kdf, hexField(kdf.kdfparams.salt, 'kdfparams.salt'))
  if (typeof password === 'string') pw.fill(0)
  try {
    if (!timingSafeEqual(mac(derivedKey, ciphertext), expectedMac)) fail('BAD_PASSWORD', 'wrong password (MAC mismatch)')
    const privateKey = aes128ctr(derivedKey.subarray(0, 16), iv, ciphertext)
    if (privateKey.length !== 32) {
      privateKey.fill(0)
      fail('INVALID_PRIVATE_KEY', `keystore holds ${privateKey.length} bytes, not a 32-byte private key`)
    }
    const address = addressOf(privateKey)
    if (expectedAddress !== undefined && !timingSafeEqual(address, expectedAddress)) {
      privateKey.fill(0)
      fail('ADDRESS_MISMATCH', `keystore says address ${toChecksumAddress(expectedAddress)} but its key is for ${toChecksumAddress(address)}`)
    }
    return privateKey
  } finally {
    derivedKey.fill(0)
  }
}

/** geth's file time stamp: ISO 8601 UTC with '-' for ':' and nanoseconds. */
function fileTimestamp(now: Date): string {
  const iso = now.toISOString() // 2024-01-02T03:04:05.678Z
  // Sub-millisecond digits from the monotonic clock keep names from one process distinct.
  const subMs = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0')
  return `${iso.slice(0, 19).replace(/:/g, '-')}.${iso.slice(20, 23)}${subMs}Z`
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/**
 * Writes `keystore` into `dir` (created with mode 0700 if missing) as `UTC--<time>--<address>`,
 * atomically: a 0600 temp file in the same directory, fsync, rename, fsync of the directory.
 * Returns the file's path.
 */
export async function writeKeystoreFile(dir: string, keystore: KeystoreV3): Promise<string> {
  const address = hexField(asObject(keystore, 'keystore').address, 'address', 20)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  let target: string
  do {
    target = join(dir, `UTC--${fileTimestamp(new Date())}--${bytesToHex(address).slice(2)}`)
  } while (await exists(target))
  const temp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`)
  const file = await open(temp, 'wx', 0o600)
  try {
    await file.writeFile(JSON.stringify(keystore))
    await file.sync()
    await file.close()
    await rename(temp, target)
  } catch (err) {
    await file.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    throw err
  }
  const d = await open(dir, 'r')
  try {
    await d.sync() // make the rename itself durable
  } finally {
    await d.close()
  }
  return target
}

export interface KeystoreFileInfo {
  /** EIP-55 checksummed, 0x-prefixed. */
  address: string
  path: string
}

const MAX_KEYSTORE_FILE_BYTES = 1 << 20

/**
 * The v3 keystores in `dir`, sorted by file name (oldest first for geth-style names). Skips
 * hidden and backup files, directories, and anything that is not a v3 keystore with an
 * address. A missing directory has no keystores.
 */
export async function listKeystores(dir: string): Promise<KeystoreFileInfo[]> {
  let names: string[]
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const found: KeystoreFileInfo[] = []
  for (const name of names.sort()) {
    if (name.startsWith('.') || name.endsWith('~')) continue // as geth: editor backups, temp files
    const path = join(dir, name)
    try {
      if ((await stat(path)).size > MAX_KEYSTORE_FILE_BYTES) continue
      const ks = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
      const crypto = ks.crypto ?? ks.Crypto
      if (ks.version !== 3 || typeof crypto !== 'object' || crypto === null) continue
      if (typeof ks.address !== 'string') continue
      found.push({ address: toChecksumAddress(ks.address), path })
    } catch {
      continue // unreadable, not JSON, or a malformed address: not a keystore
    }
  }
  return found
}
