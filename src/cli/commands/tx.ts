/**
 * `catena tx build | sign | broadcast`: offline (cold-storage) signing in three steps.
 *
 *   online:     catena tx build --from A --to B --value 1.5 --out unsigned.json
 *   air-gapped: catena tx sign unsigned.json --out signed.json       (no network access at all)
 *   online:     catena tx broadcast signed.json --wait
 *
 * The file format and its checks live in src/wallet/offline-tx.ts. `sign` never touches the
 * network: the RPC client and the fee/receipt helpers are imported only inside build and
 * broadcast, and a test runs sign with every socket API made to throw.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import { pathExists } from '../path-exists.ts'
import { basename, dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { Option } from 'commander'
import { listPresets, loadChainSpec } from '../../chain/spec/index.ts'
import { toChecksumAddress } from '../../crypto/index.ts'
import {
  KeystoreError,
  OfflineTxError,
  buildUnsignedTx,
  decryptKeystore,
  formatSummary,
  parseSignedTx,
  parseUnsignedTx,
  serializeTxFile,
  signUnsignedTx,
} from '../../wallet/index.ts'
import type { OfflineTxFields, SignedTxFile, TxSummary, UnsignedTxFile } from '../../wallet/index.ts'
import { readPassword } from '../password.ts'
import type { PromptIO } from '../password.ts'
import { DEFAULT_DATADIR, findAccount, keystoreDir, readSmallFile } from './account.ts'
import {
  formatAmount,
  parseChecksummedAddressOption,
  parseEtherAmountOption,
  parseGasLimitOption,
  parseGweiAmountOption,
  parseHexDataOption,
  parseNonNegativeInt,
  parseRpcUrlOption,
} from './options.ts'

/** Same as rpc-client's; repeated so that `tx sign` does not even load the RPC client. */
const DEFAULT_RPC_URL = 'http://127.0.0.1:8545'

export type TxCommandErrorCode =
  | 'OUTPUT_EXISTS'
  | 'OUTPUT_UNWRITABLE'
  | 'BAD_FEES'
  | 'CHAIN_MISMATCH'
  | 'GAS_ESTIMATE_FAILED'
  | 'KEYSTORE_MISMATCH'
  | 'NEEDS_CONFIRMATION'
  | 'NOT_CONFIRMED'
  | 'TX_REJECTED'
  | 'TX_REVERTED'
  | 'HASH_MISMATCH'

/** A tx command that could not go ahead: `code` says why. */
export class TxCommandError extends Error {
  readonly code: TxCommandErrorCode
  constructor(code: TxCommandErrorCode, message: string) {
    super(message)
    this.name = 'TxCommandError'
    this.code = code
  }
}

let presetNames: Map<bigint, string> | undefined

/** Chain names for summaries: Catena's presets (e.g. 1337 = "Catena dev") on top of the public chains. */
export function catenaChainNames(): ReadonlyMap<bigint, string> {
  if (presetNames === undefined) {
    presetNames = new Map()
    for (const name of listPresets()) presetNames.set(loadChainSpec(name).chainId, `Catena ${name}`)
  }
  return presetNames
}

async function refuseExisting(path: string, overwrite: boolean): Promise<void> {
  if (!overwrite && (await pathExists(path))) {
    throw new TxCommandError('OUTPUT_EXISTS', `${path} already exists: choose another --out, or add --force to replace it`)
  }
}

/**
 * Writes `text` to `path` atomically: a temp file in the same folder, fsync, then a rename
 * (overwrite) or a hard link that fails if `path` exists (no overwrite), then fsync of the folder.
 * A reader never sees half a file, and a crash leaves the old file or the new one.
 */
export async function writeFileAtomic(path: string, text: string, opts: { overwrite?: boolean; mode?: number } = {}): Promise<void> {
  const target = resolve(path)
  const dir = dirname(target)
  const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`)
  let file
  try {
    file = await open(temp, 'wx', opts.mode ?? 0o644)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw new TxCommandError('OUTPUT_UNWRITABLE', `cannot write ${target}: ${e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' ? 'permission denied' : e.message}`)
  }
  try {
    await file.writeFile(text)
    await file.sync()
    await file.close()
    if (opts.overwrite) {
      await rename(temp, target)
    } else {
      try {
        await link(temp, target)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new TxCommandError('OUTPUT_EXISTS', `${target} already exists: choose another --out, or add --force to replace it`)
        throw err
      }
      await unlink(temp)
    }
  } catch (err) {
    await file.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    throw err
  }
  const d = await open(dir, 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
}

/** Re-labels a file-format error with the file it came from, keeping its code and field. */
function inFile(path: string, err: unknown): never {
  if (err instanceof OfflineTxError) throw new OfflineTxError(err.code, `${path}: ${err.message}`, err.field)
  throw err
}

// ---- build ----

export interface TxBuildOptions {
  from: string
  to: string
  value: bigint
  data?: string
  gas?: bigint
  maxFee?: bigint
  tip?: bigint
  nonce?: number | bigint
  chainId?: number | bigint
  rpc?: string
  out: string
  force?: boolean
}

export interface TxBuildResult {
  out: string
  file: UnsignedTxFile
  /** Set when the node says the sender cannot pay value + max total fee. */
  warning?: string
  /** Whether the node was asked for anything. */
  usedNode: boolean
}

/**
 * Fills in what was not given from the node (chain id, pending nonce, fees, gas estimate) and
 * writes the unsigned file. With all of --chain-id, --nonce, --gas, --max-fee and --tip it
 * needs no node.
 */
export async function buildTx(opts: TxBuildOptions): Promise<TxBuildResult> {
  const out = resolve(opts.out)
  await refuseExisting(out, opts.force === true)
  const data = opts.data ?? '0x'
  if (opts.maxFee !== undefined && opts.tip !== undefined && opts.maxFee < opts.tip) {
    throw new TxCommandError('BAD_FEES', `--max-fee (${formatAmount(opts.maxFee, 'gwei')} gwei) is below --tip (${formatAmount(opts.tip, 'gwei')} gwei)`)
  }
  let chainId = opts.chainId === undefined ? undefined : BigInt(opts.chainId)
  let nonce = opts.nonce === undefined ? undefined : BigInt(opts.nonce)
  let gasLimit = opts.gas
  let maxFeePerGas = opts.maxFee
  let maxPriorityFeePerGas = opts.tip
  let warning: string | undefined
  const usedNode = [chainId, nonce, gasLimit, maxFeePerGas, maxPriorityFeePerGas].some((x) => x === undefined)

  if (usedNode) {
    const [{ RpcClient, RpcClientError, quantity, toQuantity }, { planFees }] = await Promise.all([
      import('../rpc-client.ts'),
      import('./send.ts'),
    ])
    const rpc = new RpcClient(opts.rpc ?? DEFAULT_RPC_URL)
    const nodeChainId = quantity(await rpc.call('eth_chainId'), 'eth_chainId', 'chain id')
    if (chainId !== undefined && chainId !== nodeChainId) {
      throw new TxCommandError('CHAIN_MISMATCH', `--chain-id is ${chainId} but the node at ${rpc.url} is on chain ${nodeChainId}`)
    }
    chainId = nodeChainId
    nonce ??= quantity(await rpc.call('eth_getTransactionCount', [opts.from, 'pending']), 'eth_getTransactionCount', 'nonce')
    if (maxFeePerGas === undefined || maxPriorityFeePerGas === undefined) {
      ;({ maxFeePerGas, maxPriorityFeePerGas } = await planFees(rpc, { maxFeePerGas, maxPriorityFeePerGas }))
    }
    if (gasLimit === undefined) {
      const request = { from: opts.from, to: opts.to, value: toQuantity(opts.value), data }
      try {
        gasLimit = quantity(await rpc.call('eth_estimateGas', [request]), 'eth_estimateGas', 'gas estimate')
      } catch (err) {
        if (err instanceof RpcClientError && err.code === 'RPC_ERROR') {
          throw new TxCommandError('GAS_ESTIMATE_FAILED', `cannot estimate gas: ${err.rpcMessage} (set --gas to build anyway)`)
        }
        throw err
      }
    }
    const balance = quantity(await rpc.call('eth_getBalance', [opts.from, 'latest']), 'eth_getBalance', 'balance')
    const cost = opts.value + gasLimit * maxFeePerGas!
    if (balance < cost) {
      warning = `${opts.from} holds ${formatAmount(balance)} ETH, less than value + max total fee (${formatAmount(cost)} ETH): the node may refuse this transaction`
    }
  }

  const fields: OfflineTxFields = {
    chainId: chainId!,
    nonce: nonce!,
    maxPriorityFeePerGas: maxPriorityFeePerGas!,
    maxFeePerGas: maxFeePerGas!,
    gasLimit: gasLimit!,
    to: opts.to,
    value: opts.value,
    data,
  }
  const file = buildUnsignedTx(opts.from, fields, { chainNames: catenaChainNames() })
  await writeFileAtomic(out, serializeTxFile(file), { overwrite: opts.force === true })
  return { out, file, warning, usedNode }
}

// ---- sign (offline) ----

export interface TxSignOptions {
  file: string
  /** A keystore file, or an address whose keystore is in <datadir>/keystore (default: the tx's from). */
  keystore?: string
  datadir?: string
  passwordFile?: string
  out: string
  force?: boolean
  /** Sign without asking (needed when stdin is not a terminal). */
  yes?: boolean
  env?: Record<string, string | undefined>
  io?: PromptIO
}

export interface TxSignResult {
  out: string
  file: SignedTxFile
}

/** A visible yes/no question on the terminal; anything but y/yes is no. */
function askYesNo(question: string, io: PromptIO): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const rl = createInterface({ input: io.input, output: io.output, terminal: true })
    let answered = false
    const done = (yes: boolean) => {
      if (answered) return
      answered = true
      rl.close()
      resolveAnswer(yes)
    }
    rl.on('SIGINT', () => {
      io.output.write('\n')
      done(false)
    })
    rl.on('close', () => done(false))
    rl.question(question, (answer) => done(/^\s*y(es)?\s*$/i.test(answer)))
  })
}

/** The keystore to sign with and the address it says it holds (checked before any password is asked). */
async function resolveKeystore(opts: TxSignOptions, from: string): Promise<{ path: string; text: string; address?: string }> {
  const spec = opts.keystore
  if (spec === undefined || /^0x[0-9a-fA-F]{40}$/.test(spec)) {
    const account = await findAccount(keystoreDir(opts.datadir ?? DEFAULT_DATADIR), spec ?? from)
    return { path: account.path, text: await readSmallFile(account.path, 'keystore file'), address: account.address }
  }
  const text = await readSmallFile(spec, 'keystore file')
  let address: string | undefined
  try {
    const parsed = JSON.parse(text) as { address?: unknown }
    if (typeof parsed.address === 'string') address = toChecksumAddress(parsed.address)
  } catch {
    // decryptKeystore below reports what is wrong with the file
  }
  return { path: resolve(spec), text, address }
}

/**
 * Checks the unsigned file, shows its summary, asks for confirmation (unless `yes`), unlocks the
 * key, signs, and writes the signed file. Makes no network access of any kind.
 */
export async function signTxFile(opts: TxSignOptions): Promise<TxSignResult> {
  const io = opts.io ?? { input: process.stdin, output: process.stderr }
  const out = resolve(opts.out)
  await refuseExisting(out, opts.force === true)
  const chainNames = catenaChainNames()
  let unsigned
  try {
    unsigned = parseUnsignedTx(await readSmallFile(opts.file, 'transaction file'), { chainNames })
  } catch (err) {
    inFile(opts.file, err)
  }
  const keystore = await resolveKeystore(opts, unsigned.from)
  if (keystore.address !== undefined && keystore.address !== unsigned.from) {
    throw new TxCommandError('KEYSTORE_MISMATCH', `keystore ${keystore.path} is for ${keystore.address} but the transaction is from ${unsigned.from}`)
  }

  io.output.write(`${formatSummary(unsigned.summary)}\n`)
  if (!opts.yes) {
    if (io.input.isTTY !== true) {
      throw new TxCommandError('NEEDS_CONFIRMATION', 'stdin is not a terminal, so the summary cannot be confirmed: add --yes to sign without asking')
    }
    if (!(await askYesNo('Sign this transaction? [y/N] ', io))) throw new TxCommandError('NOT_CONFIRMED', 'not signed: the transaction was not confirmed; nothing was written')
  }

  const password = await readPassword(`Password for ${keystore.address ?? keystore.path}: `, { passwordFile: opts.passwordFile, env: opts.env, io })
  let key: Uint8Array
  try {
    key = await decryptKeystore(keystore.text, password)
  } catch (err) {
    if (err instanceof KeystoreError) throw new KeystoreError(err.code, `cannot unlock ${keystore.address ?? keystore.path}: ${err.message}`)
    throw err
  }
  let signed: SignedTxFile
  try {
    signed = signUnsignedTx(unsigned, key, { chainNames })
  } finally {
    key.fill(0)
  }
  parseSignedTx(signed, { chainNames }) // what broadcast will check, checked now
  await writeFileAtomic(out, serializeTxFile(signed), { overwrite: opts.force === true })
  return { out, file: signed }
}

// ---- broadcast ----

export interface TxBroadcastOptions {
  file: string
  rpc?: string
  wait?: boolean
  /** Seconds, with wait. */
  timeout?: number
}

export interface TxBroadcastResult {
  hash: string
  summary: TxSummary
  receipt?: { blockNumber: bigint; blockHash: string; status: 'success' | 'reverted'; gasUsed: bigint; effectiveGasPrice: bigint }
}

/** Checks a signed file and sends its raw tx; with `wait`, returns once it is in a block. */
export async function broadcastTx(opts: TxBroadcastOptions, onSent?: (hash: string) => void): Promise<TxBroadcastResult> {
  let signed
  try {
    signed = parseSignedTx(await readSmallFile(opts.file, 'transaction file'), { chainNames: catenaChainNames() })
  } catch (err) {
    inFile(opts.file, err)
  }
  const [{ RpcClient, RpcClientError, quantity }, { waitForReceipt }] = await Promise.all([import('../rpc-client.ts'), import('./send.ts')])
  const rpc = new RpcClient(opts.rpc ?? DEFAULT_RPC_URL)
  const chainId = quantity(await rpc.call('eth_chainId'), 'eth_chainId', 'chain id')
  if (chainId !== signed.fields.chainId) {
    throw new TxCommandError('CHAIN_MISMATCH', `the node at ${rpc.url} is on chain ${chainId} but the transaction is for chain ${signed.fields.chainId}: nothing was sent`)
  }
  let sent: unknown
  try {
    sent = await rpc.call('eth_sendRawTransaction', [signed.raw])
  } catch (err) {
    if (err instanceof RpcClientError && err.code === 'RPC_ERROR') throw new TxCommandError('TX_REJECTED', `the node rejected the transaction: ${err.rpcMessage}`)
    throw err
  }
  if (typeof sent !== 'string' || sent.toLowerCase() !== signed.hash) {
    throw new TxCommandError('HASH_MISMATCH', `the node returned tx hash ${String(sent)} but the signed tx hashes to ${signed.hash}`)
  }
  onSent?.(signed.hash)
  if (!opts.wait) return { hash: signed.hash, summary: signed.summary }
  const receipt = await waitForReceipt(rpc, signed.hash, (opts.timeout ?? 120) * 1000)
  return { hash: signed.hash, summary: signed.summary, receipt }
}

// ---- registration ----

const outOption = () => new Option('--out <file>', 'where to write the file (atomically; an existing file is kept unless --force)').makeOptionMandatory()

export function registerTxCommands(program: Command): void {
  const tx = program
    .command('tx')
    .description('offline signing: build an unsigned tx online, sign it on an offline machine, broadcast it online')

  tx.command('build')
    .description('write an unsigned EIP-1559 transaction file, asking the node for chain id, nonce, fees and gas that are not given')
    .requiredOption('--from <address>', 'sender (the key that will sign it)', parseChecksummedAddressOption)
    .requiredOption('--to <address>', 'recipient (mixed case must be a valid EIP-55 checksum)', parseChecksummedAddressOption)
    .requiredOption('--value <amount>', 'amount: ether by default ("1.5"), or with a unit ("20gwei", "100wei")', parseEtherAmountOption)
    .option('--data <hex>', 'call data, 0x-prefixed', parseHexDataOption, '0x')
    .option('--gas <n>', 'gas limit (default: eth_estimateGas)', parseGasLimitOption)
    .option('--max-fee <gwei>', 'max fee per gas in gwei, or with a unit (default: 2 x next base fee + tip)', parseGweiAmountOption)
    .option('--tip <gwei>', 'max priority fee per gas in gwei, or with a unit (default: eth_maxPriorityFeePerGas)', parseGweiAmountOption)
    .option('--nonce <n>', 'nonce (default: the sender\'s pending nonce)', parseNonNegativeInt)
    .option('--chain-id <n>', 'chain id (default: the node\'s; checked against it when the node is asked anything)', parseNonNegativeInt)
    .option('--rpc <url>', 'node JSON-RPC URL', parseRpcUrlOption, DEFAULT_RPC_URL)
    .addOption(outOption())
    .option('--force', 'replace --out if it exists')
    .option('--json', 'print the unsigned file as JSON')
    .showHelpAfterError(false)
    .action(async (opts) => {
      const r = await buildTx(opts)
      if (r.warning) process.stderr.write(`warning: ${r.warning}\n`)
      if (opts.json) {
        console.log(serializeTxFile(r.file).trimEnd())
        return
      }
      console.log(formatSummary(r.file.summary))
      console.log(`unsigned transaction written to ${r.out}`)
      console.log(`next, on the offline machine: catena tx sign ${r.out} --out signed.json`)
    })

  tx.command('sign')
    .description('sign an unsigned transaction file with a keystore key; makes no network access')
    .argument('<file>', 'unsigned transaction file (from catena tx build)')
    .option('--keystore <file|address>', 'a keystore file, or an address with a keystore in <datadir>/keystore (default: the tx\'s from)')
    .option('--datadir <dir>', 'data directory; keys live in <dir>/keystore', DEFAULT_DATADIR)
    .option('--password-file <file>', 'read the password from the first line of <file> (else CATENA_PASSWORD, else a hidden prompt)')
    .addOption(outOption())
    .option('--force', 'replace --out if it exists')
    .option('-y, --yes', 'sign without asking for confirmation (required when stdin is not a terminal)')
    .option('--json', 'print {out, hash, from} as JSON')
    .showHelpAfterError(false)
    .action(async (file: string, opts) => {
      const r = await signTxFile({ ...opts, file })
      if (opts.json) {
        console.log(JSON.stringify({ out: r.out, hash: r.file.hash, from: r.file.from }, null, 2))
        return
      }
      console.log(`signed transaction written to ${r.out}`)
      console.log(`tx hash: ${r.file.hash}`)
      console.log(`next, on an online machine: catena tx broadcast ${r.out}`)
    })

  tx.command('broadcast')
    .description('send a signed transaction file to a node (eth_sendRawTransaction)')
    .argument('<file>', 'signed transaction file (from catena tx sign)')
    .option('--rpc <url>', 'node JSON-RPC URL', parseRpcUrlOption, DEFAULT_RPC_URL)
    .option('--wait', 'wait for the receipt and print block, status and gas used')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds', parseNonNegativeInt, 120)
    .option('--json', 'print the result as JSON')
    .showHelpAfterError(false)
    .action(async (file: string, opts) => {
      const r = await broadcastTx({ file, rpc: opts.rpc, wait: opts.wait, timeout: opts.timeout }, (hash) => {
        if (!opts.json) console.log(`tx hash:   ${hash}`)
      })
      const receipt = r.receipt
      if (opts.json) {
        const out: Record<string, unknown> = { hash: r.hash }
        if (receipt) {
          out.receipt = { blockNumber: Number(receipt.blockNumber), blockHash: receipt.blockHash, status: receipt.status, gasUsed: receipt.gasUsed.toString() }
        }
        console.log(JSON.stringify(out, null, 2))
      } else if (receipt) {
        console.log(`block:     ${receipt.blockNumber} (${receipt.blockHash})`)
        console.log(`status:    ${receipt.status}`)
        console.log(`gas used:  ${receipt.gasUsed}`)
      }
      if (receipt && receipt.status !== 'success') {
        throw new TxCommandError('TX_REVERTED', `transaction ${r.hash} reverted in block ${receipt.blockNumber} (gas used ${receipt.gasUsed})`)
      }
    })
}
