/**
 * `catena wallet create | restore | balance`: HD wallets (BIP-39 mnemonic, BIP-44 paths
 * m/44'/60'/0'/0/i) on top of the keystore folder that `catena account` manages.
 *
 * - create: a new mnemonic from the OS CSPRNG, shown once on the terminal (stderr), confirmed by
 *   typing back two words at random positions after the screen is cleared, then account #0 is
 *   stored encrypted in <datadir>/keystore. Without a terminal the phrase cannot be shown once
 *   and confirmed, so it is refused unless --mnemonic-out <file> names a new 0600 file for it.
 * - restore: a mnemonic from a hidden prompt or a file, checked word by word; prints the
 *   addresses and optionally imports one account.
 * - balance: balances and nonces from a node.
 *
 * A mnemonic or key never goes to stdout, argv or a log; passwords come from password.ts.
 * @module
 */
import { open, unlink } from 'node:fs/promises'
import { pathExists } from '../path-exists.ts'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { InvalidArgumentError, Option } from 'commander'
import { privateKeyToAddress, toChecksumAddress } from '../../crypto/index.ts'
import {
  DEFAULT_PATH_PREFIX,
  MNEMONIC_WORD_COUNTS,
  MnemonicError,
  STANDARD_SCRYPT,
  checkConfirmation,
  deriveKeys,
  encryptKeystore,
  formatMnemonicForDisplay,
  generateMnemonic,
  listKeystores,
  pickConfirmationPositions,
  validateMnemonicPhrase,
  writeKeystoreFile,
} from '../../wallet/index.ts'
import type { EncryptKeystoreOptions, MnemonicWordCount } from '../../wallet/index.ts'
import { PasswordError, promptHidden, readNewPassword, selectPasswordSource } from '../password.ts'
import type { PromptIO } from '../password.ts'
import { DEFAULT_RPC_URL, RpcClient, quantity } from '../rpc-client.ts'
import { AccountError, DEFAULT_DATADIR, SCRYPT_N_ENV, keystoreDir, readSmallFile, scryptOptions } from './account.ts'
import { formatAmount, parseChecksummedAddressOption, parseNonNegativeInt, parseRpcUrlOption } from './options.ts'

export type WalletErrorCode = 'NEEDS_TERMINAL' | 'MNEMONIC_OUT_EXISTS' | 'MNEMONIC_OUT_UNWRITABLE' | 'PASSPHRASE_MISMATCH' | 'PROMPT_ABORTED' | 'NO_ADDRESSES' | 'BAD_OPTIONS'

/** A wallet command that cannot go ahead: `code` says why. Nothing was written. */
export class WalletError extends Error {
  readonly code: WalletErrorCode
  constructor(code: WalletErrorCode, message: string) {
    super(message)
    this.name = 'WalletError'
    this.code = code
  }
}

/** Addresses shown by default after create and restore. */
export const DEFAULT_ADDRESS_COUNT = 5
const MAX_ADDRESS_COUNT = 1000
/** BIP-32 non-hardened indexes. */
const MAX_INDEX = 2 ** 31 - 1
/** ED2 (erase display), ED3 (erase scrollback), cursor home: the phrase leaves the screen. */
const CLEAR_SCREEN = '\x1b[2J\x1b[3J\x1b[H'

export interface WalletAccount {
  index: number
  path: string
  /** EIP-55. */
  address: string
}

export interface WalletIO extends PromptIO {
  output: NodeJS.WritableStream & { isTTY?: boolean }
}

function defaultIO(): WalletIO {
  return { input: process.stdin, output: process.stderr }
}

/** Both ends are a terminal: a phrase can be shown there and typed back. */
function isTerminal(io: WalletIO): boolean {
  return io.input.isTTY === true && io.output.isTTY === true
}

/** A prompt; Ctrl-C becomes "cancelled, nothing written" instead of a password message. */
async function ask(question: string, io: WalletIO): Promise<string> {
  try {
    return await promptHidden(question, io)
  } catch (err) {
    if (err instanceof PasswordError && err.code === 'PROMPT_ABORTED') throw new WalletError('PROMPT_ABORTED', 'cancelled: nothing was written')
    throw err
  }
}

function accountsOf(phrase: string, count: number, passphrase: string, start = 0): WalletAccount[] {
  return deriveKeys(phrase, count, { passphrase, start }).map((k, i) => {
    const address = toChecksumAddress(privateKeyToAddress(k.privateKey))
    k.privateKey.fill(0)
    return { index: start + i, path: k.path, address }
  })
}

/** Encrypts account `index` of the phrase and writes it to `dir`; the key is zeroed. */
async function storeAccount(dir: string, phrase: string, passphrase: string, index: number, password: string, kdf: EncryptKeystoreOptions): Promise<string> {
  const [key] = deriveKeys(phrase, 1, { passphrase, start: index })
  try {
    return await writeKeystoreFile(dir, await encryptKeystore(key!.privateKey, password, kdf))
  } finally {
    key!.privateKey.fill(0)
  }
}

function warnIfLightKdf(kdf: EncryptKeystoreOptions, io: WalletIO): void {
  if (kdf.scryptN !== undefined && kdf.scryptN < STANDARD_SCRYPT.n) {
    io.output.write(`warning: ${SCRYPT_N_ENV}=${kdf.scryptN} makes this key file easier to crack than the standard n=${STANDARD_SCRYPT.n}\n`)
  }
}

/** Writes the phrase to a new 0600 file; never replaces an existing one. */
async function writeMnemonicFile(path: string, phrase: string): Promise<void> {
  let file
  try {
    file = await open(path, 'wx', 0o600)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'EEXIST') throw new WalletError('MNEMONIC_OUT_EXISTS', `${path} already exists: --mnemonic-out never overwrites a file`)
    throw new WalletError('MNEMONIC_OUT_UNWRITABLE', `cannot create ${path}: ${e.code === 'ENOENT' ? 'no such directory' : e.code ?? e.message}`)
  }
  try {
    await file.writeFile(`${phrase}\n`)
    await file.sync()
    await file.close()
  } catch (err) {
    await file.close().catch(() => undefined)
    await unlink(path).catch(() => undefined)
    throw err
  }
}

async function askPassphrase(io: WalletIO, confirm: boolean): Promise<string> {
  if (!isTerminal(io)) throw new WalletError('NEEDS_TERMINAL', '--passphrase-prompt needs a terminal to ask for the BIP-39 passphrase')
  io.output.write('The BIP-39 passphrase is an extra word: the same mnemonic with another passphrase is another wallet.\n')
  const passphrase = await ask('BIP-39 passphrase (hidden): ', io)
  if (confirm && (await ask('Repeat passphrase: ', io)) !== passphrase) {
    throw new WalletError('PASSPHRASE_MISMATCH', 'the passphrases do not match; nothing was written')
  }
  return passphrase
}

function checkCount(count: number): number {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_ADDRESS_COUNT) {
    throw new WalletError('BAD_OPTIONS', `--count must be between 1 and ${MAX_ADDRESS_COUNT}, got ${count}`)
  }
  return count
}

// ---- create ----

export interface WalletCreateOptions {
  words?: MnemonicWordCount
  count?: number
  datadir?: string
  passwordFile?: string
  passphrasePrompt?: boolean
  /** A new file for the phrase (scripts): nothing is shown or confirmed on a terminal. */
  mnemonicOut?: string
  env?: Record<string, string | undefined>
  io?: WalletIO
  /** Randomness for the mnemonic (tests); node's CSPRNG by default. */
  randomBytes?: (n: number) => Uint8Array
  /** Random positions to confirm (tests). */
  randomInt?: (max: number) => number
}

export interface WalletCreateResult {
  keystore: string
  accounts: WalletAccount[]
  mnemonicOut?: string
}

/** Shows the phrase once, clears it, and asks for two words of it back. */
async function showAndConfirm(phrase: string, io: WalletIO, randomInt?: (max: number) => number): Promise<void> {
  io.output.write(`\n${formatMnemonicForDisplay(phrase)}\n\n`)
  await ask('Press Enter once you have written the words down (the screen will be cleared)... ', io)
  io.output.write(CLEAR_SCREEN)
  const words = phrase.split(' ')
  const positions = pickConfirmationPositions(words.length, 2, randomInt)
  io.output.write(`To check your copy, type words #${positions.join(' and #')} of your recovery phrase (input hidden).\n`)
  // Each word is checked as it is typed: a wrong one stops at once.
  for (const pos of positions) checkConfirmation(phrase, [pos], [await ask(`Word #${pos}: `, io)])
  io.output.write('Recovery phrase confirmed.\n')
}

export async function walletCreate(opts: WalletCreateOptions = {}): Promise<WalletCreateResult> {
  const io = opts.io ?? defaultIO()
  const env = opts.env ?? process.env
  const words = opts.words ?? 24
  const count = checkCount(opts.count ?? DEFAULT_ADDRESS_COUNT)
  const dir = keystoreDir(opts.datadir ?? DEFAULT_DATADIR)
  const kdf = scryptOptions(env)
  const mnemonicOut = opts.mnemonicOut === undefined ? undefined : resolve(opts.mnemonicOut)
  // Everything that can fail is checked before a phrase is made: no one writes down words for nothing.
  if (mnemonicOut === undefined && !isTerminal(io)) {
    throw new WalletError(
      'NEEDS_TERMINAL',
      'wallet create shows the mnemonic once and asks you to confirm it, so it needs a terminal; a script can use --mnemonic-out <new file>',
    )
  }
  if (mnemonicOut !== undefined && (await pathExists(mnemonicOut))) {
    throw new WalletError('MNEMONIC_OUT_EXISTS', `${mnemonicOut} already exists: --mnemonic-out never overwrites a file`)
  }
  if (opts.passphrasePrompt && !isTerminal(io)) {
    throw new WalletError('NEEDS_TERMINAL', '--passphrase-prompt needs a terminal to ask for the BIP-39 passphrase')
  }
  selectPasswordSource({ passwordFile: opts.passwordFile, env, interactive: io.input.isTTY === true })

  const phrase = generateMnemonic(words, opts.randomBytes)
  if (mnemonicOut === undefined) await showAndConfirm(phrase, io, opts.randomInt)
  const passphrase = opts.passphrasePrompt ? await askPassphrase(io, true) : ''
  const password = await readNewPassword({ passwordFile: opts.passwordFile, env, io })
  const accounts = accountsOf(phrase, count, passphrase)
  warnIfLightKdf(kdf, io)
  const [key] = deriveKeys(phrase, 1, { passphrase })
  let keystore
  try {
    keystore = await encryptKeystore(key!.privateKey, password, kdf)
  } finally {
    key!.privateKey.fill(0)
  }
  // The phrase first: if the key file then fails, the phrase still restores the wallet.
  if (mnemonicOut !== undefined) await writeMnemonicFile(mnemonicOut, phrase)
  const path = await writeKeystoreFile(dir, keystore)
  return { keystore: path, accounts, ...(mnemonicOut !== undefined ? { mnemonicOut } : {}) }
}

// ---- restore ----

export interface WalletRestoreOptions {
  mnemonicFile?: string
  count?: number
  importIndex?: number
  datadir?: string
  passwordFile?: string
  passphrasePrompt?: boolean
  env?: Record<string, string | undefined>
  io?: WalletIO
}

export interface WalletRestoreResult {
  accounts: WalletAccount[]
  imported?: WalletAccount & { keystore: string }
}

async function readMnemonic(opts: WalletRestoreOptions, io: WalletIO): Promise<string> {
  let text: string
  let source: string
  if (opts.mnemonicFile !== undefined) {
    text = await readSmallFile(opts.mnemonicFile, 'mnemonic file')
    source = `mnemonic file ${opts.mnemonicFile}`
  } else if (io.input.isTTY === true) {
    text = await ask('Mnemonic (words separated by spaces, input hidden): ', io)
    source = 'mnemonic'
  } else {
    throw new WalletError('NEEDS_TERMINAL', 'no mnemonic: use --mnemonic-file <file>, or run in a terminal to type it at a hidden prompt')
  }
  try {
    return validateMnemonicPhrase(text)
  } catch (err) {
    if (err instanceof MnemonicError) throw new MnemonicError(err.code, `${source}: ${err.message}`, err.position)
    throw err
  }
}

export async function walletRestore(opts: WalletRestoreOptions = {}): Promise<WalletRestoreResult> {
  const io = opts.io ?? defaultIO()
  const env = opts.env ?? process.env
  const count = checkCount(opts.count ?? DEFAULT_ADDRESS_COUNT)
  const importIndex = opts.importIndex
  if (importIndex !== undefined && (!Number.isSafeInteger(importIndex) || importIndex < 0 || importIndex > MAX_INDEX)) {
    throw new WalletError('BAD_OPTIONS', `--import-index must be between 0 and ${MAX_INDEX}, got ${importIndex}`)
  }
  const dir = keystoreDir(opts.datadir ?? DEFAULT_DATADIR)
  let kdf: EncryptKeystoreOptions | undefined
  if (importIndex !== undefined) {
    kdf = scryptOptions(env)
    selectPasswordSource({ passwordFile: opts.passwordFile, env, interactive: io.input.isTTY === true })
  }
  if (opts.passphrasePrompt && !isTerminal(io)) {
    throw new WalletError('NEEDS_TERMINAL', '--passphrase-prompt needs a terminal to ask for the BIP-39 passphrase')
  }

  const phrase = await readMnemonic(opts, io)
  const passphrase = opts.passphrasePrompt ? await askPassphrase(io, false) : ''
  const accounts = accountsOf(phrase, count, passphrase)
  if (importIndex === undefined || kdf === undefined) return { accounts }

  const [target] = accountsOf(phrase, 1, passphrase, importIndex)
  const existing = (await listKeystores(dir)).find((k) => k.address === target!.address)
  if (existing) throw new AccountError('ACCOUNT_EXISTS', `an account for ${target!.address} already exists: ${existing.path}`)
  const password = await readNewPassword({ passwordFile: opts.passwordFile, env, io })
  warnIfLightKdf(kdf, io)
  const keystore = await storeAccount(dir, phrase, passphrase, importIndex, password, kdf)
  return { accounts, imported: { ...target!, keystore } }
}

// ---- balance ----

export interface BalanceRow {
  address: string
  /** Wei. */
  balance: bigint
  nonce: bigint
  pendingNonce: bigint
}

export interface WalletBalanceResult {
  rpcUrl: string
  chainId: bigint
  blockNumber: bigint
  rows: BalanceRow[]
}

export async function walletBalance(opts: { addresses?: string[]; rpc?: string; datadir?: string }): Promise<WalletBalanceResult> {
  let addresses = opts.addresses ?? []
  if (addresses.length === 0) {
    const dir = keystoreDir(opts.datadir ?? DEFAULT_DATADIR)
    addresses = (await listKeystores(dir)).map((k) => k.address)
    if (addresses.length === 0) {
      throw new WalletError('NO_ADDRESSES', `no addresses given and no keystore in ${dir}: name addresses, or use --datadir`)
    }
  }
  const rpc = new RpcClient(opts.rpc ?? DEFAULT_RPC_URL)
  const [chainId, blockNumber] = await Promise.all([rpc.call('eth_chainId'), rpc.call('eth_blockNumber')])
  // Every query is at this block number, so all rows describe one state.
  const at = blockNumber
  const rows = await Promise.all(
    addresses.map(async (address) => {
      const [balance, nonce, pending] = await Promise.all([
        rpc.call('eth_getBalance', [address, at]),
        rpc.call('eth_getTransactionCount', [address, at]),
        rpc.call('eth_getTransactionCount', [address, 'pending']),
      ])
      return {
        address,
        balance: quantity(balance, 'eth_getBalance', 'balance'),
        nonce: quantity(nonce, 'eth_getTransactionCount', 'nonce'),
        pendingNonce: quantity(pending, 'eth_getTransactionCount', 'nonce'),
      }
    }),
  )
  return {
    rpcUrl: rpc.url,
    chainId: quantity(chainId, 'eth_chainId', 'chain id'),
    blockNumber: quantity(blockNumber, 'eth_blockNumber', 'block number'),
    rows,
  }
}

// ---- output and registration ----

function printAccounts(accounts: WalletAccount[], stored?: number): void {
  for (const a of accounts) console.log(`${a.path.padEnd(22)}${a.address}${a.index === stored ? '  (in keystore)' : ''}`)
}

function parseWords(value: string): MnemonicWordCount {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !(MNEMONIC_WORD_COUNTS as readonly number[]).includes(n)) {
    throw new InvalidArgumentError(`must be one of ${MNEMONIC_WORD_COUNTS.join(', ')}`)
  }
  return n as MnemonicWordCount
}

function parseAddressList(values: string[]): string[] {
  return values.map((v) => {
    try {
      return parseChecksummedAddressOption(v)
    } catch (err) {
      throw new WalletError('BAD_OPTIONS', `${JSON.stringify(v)} is not an address: ${(err as Error).message}`)
    }
  })
}

const datadirOption = () => new Option('--datadir <dir>', 'data directory; keys live in <dir>/keystore').default(DEFAULT_DATADIR)
const passwordFileOption = () =>
  new Option('--password-file <file>', 'read the keystore password from the first line of <file> (else CATENA_PASSWORD, else a hidden prompt)')
const countOption = () =>
  new Option('--count <n>', 'how many addresses to print').argParser(parseNonNegativeInt).default(DEFAULT_ADDRESS_COUNT)

export function registerWalletCommands(program: Command): void {
  const wallet = program
    .command('wallet')
    .description(`HD wallets: BIP-39 mnemonics, BIP-44 accounts (${DEFAULT_PATH_PREFIX}/i) in <datadir>/keystore, balances`)

  wallet
    .command('create')
    .description('make a new mnemonic, show it once and have it confirmed, and store account #0 encrypted in the keystore')
    .addOption(new Option('--words <n>', 'mnemonic length in words').argParser(parseWords).default(24))
    .option('--passphrase-prompt', 'also ask for a BIP-39 passphrase (the "25th word")')
    .addOption(countOption())
    .addOption(datadirOption())
    .addOption(passwordFileOption())
    .option('--mnemonic-out <file>', 'for scripts: write the mnemonic to this new 0600 file instead of showing it (never overwrites)')
    .option('--json', 'print {keystore, accounts} as JSON')
    .showHelpAfterError(false)
    .action(async (opts) => {
      const r = await walletCreate(opts)
      if (opts.json) {
        console.log(JSON.stringify(r, null, 2))
        return
      }
      console.log('wallet created; account #0 is stored encrypted in the keystore')
      console.log(`keystore: ${r.keystore}`)
      if (r.mnemonicOut !== undefined) console.log(`mnemonic: ${r.mnemonicOut} (move it offline; anyone with it controls the funds)`)
      printAccounts(r.accounts, 0)
    })

  wallet
    .command('restore')
    .description('check a mnemonic, print its addresses, and optionally import one account into the keystore')
    .option('--mnemonic-file <file>', 'read the mnemonic from <file> (else a hidden prompt)')
    .option('--passphrase-prompt', 'ask for the BIP-39 passphrase the wallet was made with')
    .addOption(countOption())
    .addOption(new Option('--import-index <i>', 'store account i encrypted in the keystore').argParser(parseNonNegativeInt))
    .addOption(datadirOption())
    .addOption(passwordFileOption())
    .option('--json', 'print {accounts, imported} as JSON')
    .showHelpAfterError(false)
    .action(async (opts) => {
      const r = await walletRestore(opts)
      if (opts.json) {
        console.log(JSON.stringify(r, null, 2))
        return
      }
      printAccounts(r.accounts, r.imported?.index)
      if (r.imported) {
        console.log(`imported account #${r.imported.index} ${r.imported.address}`)
        console.log(`keystore: ${r.imported.keystore}`)
      }
    })

  wallet
    .command('balance')
    .description('balances and nonces from a node, of the given addresses or of every keystore account')
    .argument('[address...]', 'addresses (default: the accounts in <datadir>/keystore)')
    .option('--rpc <url>', 'node JSON-RPC URL', parseRpcUrlOption, DEFAULT_RPC_URL)
    .addOption(datadirOption())
    .option('--json', 'print the balances as JSON (wei as decimal strings)')
    .showHelpAfterError(false)
    .action(async (addresses: string[], opts) => {
      const r = await walletBalance({ addresses: parseAddressList(addresses), rpc: opts.rpc, datadir: opts.datadir })
      if (opts.json) {
        const rows = r.rows.map((x) => ({ address: x.address, balance: x.balance.toString(), nonce: Number(x.nonce), pendingNonce: Number(x.pendingNonce) }))
        console.log(JSON.stringify({ rpcUrl: r.rpcUrl, chainId: Number(r.chainId), blockNumber: Number(r.blockNumber), accounts: rows }, null, 2))
        return
      }
      console.log(`chain ${r.chainId} at block #${r.blockNumber} (${r.rpcUrl})`)
      for (const x of r.rows) {
        const pending = x.pendingNonce !== x.nonce ? ` (pending ${x.pendingNonce})` : ''
        console.log(`${x.address}  ${formatAmount(x.balance)} ETH  nonce ${x.nonce}${pending}`)
      }
    })
}
