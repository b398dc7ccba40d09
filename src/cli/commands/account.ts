/**
 * `catena account new | import | list`: encrypted key files (Web3 Secret Storage v3, geth's
 * format and naming) in `<datadir>/keystore/`. A private key is never printed, never written
 * in plaintext and never taken from argv; nor is a password.
 *
 * Key-derivation cost: geth's standard scrypt (n = 262144, about 256 MiB and a second or two).
 * CATENA_KEYSTORE_SCRYPT_N=<power of two> lowers it for tests and throwaway dev keys; a
 * warning says so whenever it is in effect.
 * @module
 */
import { readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { Option } from 'commander'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@ethereumjs/util'
import { privateKeyToAddress, toChecksumAddress } from '../../crypto/index.ts'
import {
  KeystoreError,
  STANDARD_SCRYPT,
  decryptKeystore,
  encryptKeystore,
  listKeystores,
  writeKeystoreFile,
} from '../../wallet/index.ts'
import type { EncryptKeystoreOptions, KeystoreFileInfo, KeystoreV3 } from '../../wallet/index.ts'
import { readNewPassword, readPassword } from '../password.ts'

/** The default data directory, the same as `catena node --chain dev`. */
export const DEFAULT_DATADIR = './.catena/dev'
/** Overrides scrypt's n for new key files (tests, throwaway keys); the default is geth's standard. */
export const SCRYPT_N_ENV = 'CATENA_KEYSTORE_SCRYPT_N'
const MAX_INPUT_FILE_BYTES = 1 << 20

export type AccountErrorCode =
  | 'NO_ACCOUNTS'
  | 'ACCOUNT_NOT_FOUND'
  | 'AMBIGUOUS_ACCOUNT'
  | 'ACCOUNT_EXISTS'
  | 'FILE_UNREADABLE'
  | 'INVALID_PRIVATE_KEY_FILE'
  | 'INVALID_KEYSTORE_FILE'
  | 'INVALID_SCRYPT_N'
  | 'BAD_OPTIONS'

/** An account command that cannot go ahead: `code` says why. Nothing was written. */
export class AccountError extends Error {
  readonly code: AccountErrorCode
  constructor(code: AccountErrorCode, message: string) {
    super(message)
    this.name = 'AccountError'
    this.code = code
  }
}

export function keystoreDir(datadir: string): string {
  return resolve(datadir, 'keystore')
}

/** scrypt options for new key files: geth's standard unless CATENA_KEYSTORE_SCRYPT_N says otherwise. */
export function scryptOptions(env: Record<string, string | undefined> = process.env): EncryptKeystoreOptions {
  const text = env[SCRYPT_N_ENV]
  if (text === undefined || text === '') return { kdf: 'scrypt', scryptN: STANDARD_SCRYPT.n }
  const n = /^\d+$/.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(n) || n < 2 || (n & (n - 1)) !== 0 || n > 2 ** 30) {
    throw new AccountError('INVALID_SCRYPT_N', `${SCRYPT_N_ENV} must be a power of two between 2 and 2^30, got ${JSON.stringify(text)}`)
  }
  return { kdf: 'scrypt', scryptN: n }
}

/** Reads a small user-named file, turning fs errors into one clear line. */
export async function readSmallFile(path: string, what: string): Promise<string> {
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new Error('not a regular file')
    if (info.size > MAX_INPUT_FILE_BYTES) throw new Error(`larger than ${MAX_INPUT_FILE_BYTES} bytes`)
    return await readFile(path, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message
    throw new AccountError('FILE_UNREADABLE', `cannot read ${what} ${path}: ${why}`)
  }
}

/**
 * The keystore to use: the one for `from` if given, else the only one in `dir`. A missing,
 * unknown or ambiguous account is an AccountError that says what to do.
 */
export async function findAccount(dir: string, from?: string): Promise<KeystoreFileInfo> {
  const all = await listKeystores(dir)
  if (from !== undefined) {
    const want = from.toLowerCase()
    const match = all.find((k) => k.address.toLowerCase() === want)
    if (!match) throw new AccountError('ACCOUNT_NOT_FOUND', `no keystore for ${toChecksumAddress(from)} in ${dir}`)
    return match
  }
  if (all.length === 0) {
    throw new AccountError('NO_ACCOUNTS', `no keystore in ${dir}: create one with \`catena account new\` or \`catena account import\``)
  }
  if (all.length > 1) {
    throw new AccountError('AMBIGUOUS_ACCOUNT', `${all.length} accounts in ${dir}: choose one with --from <address>`)
  }
  return all[0]!
}

/** Decrypts an account's key file with a password from the usual sources. The caller zeroes the key. */
export async function unlockAccount(account: KeystoreFileInfo, passwordFile?: string): Promise<Uint8Array> {
  const text = await readSmallFile(account.path, 'keystore file')
  const password = await readPassword(`Password for ${account.address}: `, { passwordFile })
  try {
    return await decryptKeystore(text, password)
  } catch (err) {
    if (err instanceof KeystoreError) throw new KeystoreError(err.code, `cannot unlock ${account.address}: ${err.message}`)
    throw err
  }
}

async function refuseDuplicate(dir: string, address: string): Promise<void> {
  const existing = (await listKeystores(dir)).find((k) => k.address.toLowerCase() === address.toLowerCase())
  if (existing) throw new AccountError('ACCOUNT_EXISTS', `an account for ${address} already exists: ${existing.path}`)
}

/** A 32-byte hex private key (optional 0x, surrounding whitespace) — never echoed in errors. */
export function parsePrivateKeyText(text: string, path: string): Uint8Array {
  const hex = text.trim().replace(/^0x/i, '')
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new AccountError('INVALID_PRIVATE_KEY_FILE', `${path} does not hold a private key (64 hex digits, optionally 0x-prefixed)`)
  }
  const key = new Uint8Array(Buffer.from(hex, 'hex'))
  try {
    privateKeyToAddress(key)
  } catch {
    key.fill(0)
    throw new AccountError('INVALID_PRIVATE_KEY_FILE', `${path} holds 32 bytes that are not a valid secp256k1 private key`)
  }
  return key
}

/** A progress line on stderr while scrypt runs, only when stderr is a terminal. */
function scryptProgress(label: string): { onProgress?: (f: number) => void; done: () => void } {
  if (!process.stderr.isTTY) return { done: () => undefined }
  let last = -1
  return {
    onProgress: (f) => {
      const pct = Math.floor(f * 100)
      if (pct !== last) process.stderr.write(`\r${label} ${pct}%`)
      last = pct
    },
    done: () => process.stderr.write('\r\x1b[K'),
  }
}

function warnIfLightKdf(opts: EncryptKeystoreOptions): void {
  if (opts.scryptN !== undefined && opts.scryptN < STANDARD_SCRYPT.n) {
    process.stderr.write(`warning: ${SCRYPT_N_ENV}=${opts.scryptN} makes this key file easier to crack than the standard n=${STANDARD_SCRYPT.n}\n`)
  }
}

/** Encrypts `privateKey` and writes it to `dir`; zeroes the key. Returns address and path. */
async function storeKey(dir: string, privateKey: Uint8Array, password: string, kdf: EncryptKeystoreOptions): Promise<KeystoreFileInfo> {
  warnIfLightKdf(kdf)
  const progress = scryptProgress('encrypting key')
  let keystore: KeystoreV3
  try {
    keystore = await encryptKeystore(privateKey, password, { ...kdf, onProgress: progress.onProgress })
  } finally {
    progress.done()
    privateKey.fill(0)
  }
  const path = await writeKeystoreFile(dir, keystore)
  return { address: toChecksumAddress(keystore.address), path }
}

function report(info: KeystoreFileInfo, json: boolean, verb: string): void {
  if (json) {
    console.log(JSON.stringify(info))
    return
  }
  console.log(`${verb} account ${info.address}`)
  console.log(`keystore: ${info.path}`)
}

async function accountNew(opts: { datadir: string; passwordFile?: string; json?: boolean }): Promise<void> {
  const dir = keystoreDir(opts.datadir)
  const kdf = scryptOptions()
  const password = await readNewPassword({ passwordFile: opts.passwordFile })
  const info = await storeKey(dir, secp256k1.utils.randomSecretKey(), password, kdf)
  report(info, opts.json === true, 'created')
  if (!opts.json) console.log('Keep the password safe: without it the key cannot be recovered.')
}

async function importKeystore(dir: string, file: string, passwordFile: string | undefined): Promise<KeystoreFileInfo> {
  const text = await readSmallFile(file, 'keystore file')
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new AccountError('INVALID_KEYSTORE_FILE', `${file} is not a keystore (not JSON)`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || parsed.version !== 3) {
    throw new AccountError('INVALID_KEYSTORE_FILE', `${file} is not a version 3 keystore`)
  }
  const password = await readPassword(`Password for ${file}: `, { passwordFile })
  let key: Uint8Array
  try {
    key = await decryptKeystore(parsed, password) // proves the password and the file before copying
  } catch (err) {
    if (err instanceof KeystoreError) throw new KeystoreError(err.code, `cannot import ${file}: ${err.message}`)
    throw err
  }
  const addressBytes = privateKeyToAddress(key)
  key.fill(0)
  const address = toChecksumAddress(addressBytes)
  await refuseDuplicate(dir, address)
  // Copied as parsed; the address field is filled in if the file lacked one (listKeystores needs it).
  const keystore = { ...parsed, address: bytesToHex(addressBytes).slice(2) } as unknown as KeystoreV3
  return { address, path: await writeKeystoreFile(dir, keystore) }
}

async function importPrivateKey(dir: string, file: string, passwordFile: string | undefined): Promise<KeystoreFileInfo> {
  const kdf = scryptOptions()
  const key = parsePrivateKeyText(await readSmallFile(file, 'private key file'), file)
  try {
    await refuseDuplicate(dir, toChecksumAddress(privateKeyToAddress(key)))
    const password = await readNewPassword({ passwordFile })
    return await storeKey(dir, key, password, kdf)
  } finally {
    key.fill(0)
  }
}

async function accountList(opts: { datadir: string; json?: boolean }): Promise<void> {
  const dir = keystoreDir(opts.datadir)
  const accounts = await listKeystores(dir)
  if (opts.json) {
    console.log(JSON.stringify(accounts, null, 2))
    return
  }
  if (accounts.length === 0) {
    console.log(`no accounts in ${dir}`)
    return
  }
  accounts.forEach((a, i) => console.log(`#${i}  ${a.address}  ${a.path}`))
}

const datadirOption = () => new Option('--datadir <dir>', 'data directory; keys live in <dir>/keystore').default(DEFAULT_DATADIR)
const passwordFileOption = () =>
  new Option('--password-file <file>', 'read the password from the first line of <file> (else CATENA_PASSWORD, else a hidden prompt)')

export function registerAccountCommands(program: Command): void {
  const account = program
    .command('account')
    .description(`manage encrypted key files in <datadir>/keystore (scrypt cost: ${SCRYPT_N_ENV} overrides n=${STANDARD_SCRYPT.n})`)

  account
    .command('new')
    .description('create a new key and store it encrypted with a password')
    .addOption(datadirOption())
    .addOption(passwordFileOption())
    .option('--json', 'print {address, path} as JSON')
    .showHelpAfterError(false)
    .action((opts) => accountNew(opts))

  account
    .command('import')
    .description('import a keystore file, or a private key from a file, into the keystore folder')
    .addOption(new Option('--keystore <file>', 'a v3 keystore file (its password is checked before copying)').conflicts('privateKeyFile'))
    .addOption(new Option('--private-key-file <file>', 'a file holding a 64-hex-digit private key, encrypted with a new password'))
    .addOption(datadirOption())
    .addOption(passwordFileOption())
    .option('--json', 'print {address, path} as JSON')
    .showHelpAfterError(false)
    .action(async (opts) => {
      if (opts.keystore === undefined && opts.privateKeyFile === undefined) {
        throw new AccountError('BAD_OPTIONS', 'account import needs --keystore <file> or --private-key-file <file>')
      }
      const dir = keystoreDir(opts.datadir)
      const info =
        opts.keystore !== undefined
          ? await importKeystore(dir, opts.keystore, opts.passwordFile)
          : await importPrivateKey(dir, opts.privateKeyFile, opts.passwordFile)
      report(info, opts.json === true, 'imported')
    })

  account
    .command('list')
    .description('list the accounts in the keystore folder')
    .addOption(datadirOption())
    .option('--json', 'print [{address, path}] as JSON')
    .showHelpAfterError(false)
    .action((opts) => accountList(opts))
}

