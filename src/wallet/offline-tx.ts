/**
 * Files for offline (cold-storage) signing: an online machine writes an *unsigned* EIP-1559
 * transaction, an air-gapped one signs it, and the online one broadcasts the *signed* file.
 *
 *   { "format": "catena-unsigned-tx", "version": 1, "from": "0x…",
 *     "tx": { "type": "0x2", "chainId": "0x539", "nonce": "0x0", "maxPriorityFeePerGas": "0x…",
 *             "maxFeePerGas": "0x…", "gasLimit": "0x5208", "to": "0x…", "value": "0x…",
 *             "data": "0x", "accessList": [] },
 *     "summary": { plain words: value in ETH and wei, fees, max total fee, chain, nonce, … } }
 *
 * A signed file adds "raw" (the signed tx, ready for eth_sendRawTransaction) and "hash".
 * Quantities are JSON-RPC QUANTITY hex, so the tx object reads like eth_signTransaction's.
 *
 * Nothing in a file is trusted: every field is checked, unknown fields are refused, the summary
 * must be exactly what the fields say (a hand-edited value with a stale summary is caught, and
 * the summary a signer sees is always recomputed from the fields), and a signed file's raw tx
 * must decode to the same fields, hash and sender. Errors name the field.
 *
 * Pure: no I/O. The callers read and write the files.
 * @module
 */
import { Hardfork, Mainnet, createCustomCommon } from '@ethereumjs/common'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx'
import type { FeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToBigInt, bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { PrefixedHexString } from '@ethereumjs/util'
import { ethereumCustomCrypto, parseAddress, privateKeyToAddress, toChecksumAddress } from '../crypto/index.ts'
import { KNOWN_CHAINS, gwei, summarizeTx, type OfflineTxOptions, type TxSummary } from './tx-summary.ts'

export { KNOWN_CHAINS, chainNameOf, formatSummary, summarizeTx } from './tx-summary.ts'
export type { OfflineTxOptions, TxSummary } from './tx-summary.ts'

export const UNSIGNED_TX_FORMAT = 'catena-unsigned-tx'
export const SIGNED_TX_FORMAT = 'catena-signed-tx'
export const OFFLINE_TX_VERSION = 1

/** Intrinsic gas of the cheapest transaction: a tx with a lower limit can never be mined. */
export const MIN_GAS_LIMIT = 21000n
const MAX_UINT256 = (1n << 256n) - 1n
const MAX_UINT64 = (1n << 64n) - 1n
/** ethereumjs keeps the chain id as a JS number. */
const MAX_CHAIN_ID = BigInt(Number.MAX_SAFE_INTEGER)
/** Call data larger than this is refused (the node's own tx size limit is about this). */
export const MAX_DATA_BYTES = 128 * 1024



export type OfflineTxErrorCode =
  | 'MALFORMED_FILE'
  | 'WRONG_FILE_KIND'
  | 'UNSUPPORTED_FORMAT'
  | 'UNSUPPORTED_VERSION'
  | 'INVALID_FIELD'
  | 'UNKNOWN_FIELD'
  | 'SUMMARY_MISMATCH'
  | 'INVALID_RAW'
  | 'RAW_MISMATCH'
  | 'HASH_MISMATCH'
  | 'SENDER_MISMATCH'
  | 'KEY_MISMATCH'

/** A transaction file that cannot be used: `code` says why, `field` (e.g. "tx.value") where. */
export class OfflineTxError extends Error {
  readonly code: OfflineTxErrorCode
  readonly field?: string
  constructor(code: OfflineTxErrorCode, message: string, field?: string) {
    super(message)
    this.name = 'OfflineTxError'
    this.code = code
    this.field = field
  }
}

/** The EIP-1559 fields, as values. `to` is EIP-55 (null: contract creation); `data` lower-case hex. */
export interface OfflineTxFields {
  chainId: bigint
  nonce: bigint
  maxPriorityFeePerGas: bigint
  maxFeePerGas: bigint
  gasLimit: bigint
  to: string | null
  value: bigint
  data: string
}

/** The EIP-1559 fields as they are written in a file. */
export interface TxFieldsJSON {
  type: '0x2'
  chainId: string
  nonce: string
  maxPriorityFeePerGas: string
  maxFeePerGas: string
  gasLimit: string
  to: string | null
  value: string
  data: string
  accessList: []
}

export interface UnsignedTxFile {
  format: typeof UNSIGNED_TX_FORMAT
  version: typeof OFFLINE_TX_VERSION
  from: string
  tx: TxFieldsJSON
  summary: TxSummary
}

export interface SignedTxFile {
  format: typeof SIGNED_TX_FORMAT
  version: typeof OFFLINE_TX_VERSION
  from: string
  hash: string
  raw: string
  tx: TxFieldsJSON
  summary: TxSummary
}

export interface ParsedUnsignedTx {
  from: string
  fields: OfflineTxFields
  summary: TxSummary
  file: UnsignedTxFile
}

export interface ParsedSignedTx {
  from: string
  fields: OfflineTxFields
  summary: TxSummary
  hash: string
  raw: string
  file: SignedTxFile
}

function fail(code: OfflineTxErrorCode, message: string, field?: string): never {
  throw new OfflineTxError(code, message, field)
}

// ---- field checks ----

const QUANTITY = /^0x(0|[1-9a-f][0-9a-f]*)$/

function asObject(x: unknown, field: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(x === undefined ? 'MALFORMED_FILE' : 'INVALID_FIELD', `${field} ${x === undefined ? 'is missing' : 'must be a JSON object'}`, field)
  return x as Record<string, unknown>
}

function refuseUnknown(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail('UNKNOWN_FIELD', `${where ? `${where}.` : ''}${key} is not a field of this file format`, where ? `${where}.${key}` : key)
  }
}

function quantityField(value: unknown, field: string, max: bigint, what: string): bigint {
  if (value === undefined) fail('INVALID_FIELD', `${field} is missing`, field)
  if (typeof value !== 'string' || !QUANTITY.test(value)) {
    fail('INVALID_FIELD', `${field} must be a hex quantity such as "0x1a" (lower case, no leading zeros), got ${JSON.stringify(value)}`, field)
  }
  const n = BigInt(value)
  if (n > max) fail('INVALID_FIELD', `${field} (${n}) is larger than the largest ${what}`, field)
  return n
}

function addressField(value: unknown, field: string): string {
  if (value === undefined) fail('INVALID_FIELD', `${field} is missing`, field)
  try {
    return toChecksumAddress(parseAddress(value as string))
  } catch (err) {
    return fail('INVALID_FIELD', `${field} is not a valid address: ${(err as Error).message}`, field)
  }
}

function dataField(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(value)) {
    fail('INVALID_FIELD', `${field} must be 0x followed by an even number of hex digits`, field)
  }
  if ((value.length - 2) / 2 > MAX_DATA_BYTES) fail('INVALID_FIELD', `${field} is larger than ${MAX_DATA_BYTES} bytes`, field)
  return value.toLowerCase()
}

/** Checks fields given as values (the builder's input); returns them normalized. */
export function checkFields(fields: OfflineTxFields): OfflineTxFields {
  const range = (n: unknown, field: string, min: bigint, max: bigint, what: string) => {
    if (typeof n !== 'bigint') fail('INVALID_FIELD', `${field} must be a bigint`, field)
    if (n < min || n > max) fail('INVALID_FIELD', `${field} must be between ${min} and ${max} (${what}), got ${n}`, field)
    return n
  }
  const out: OfflineTxFields = {
    chainId: range(fields.chainId, 'tx.chainId', 1n, MAX_CHAIN_ID, 'a chain id'),
    nonce: range(fields.nonce, 'tx.nonce', 0n, MAX_UINT64 - 1n, 'EIP-2681'),
    maxPriorityFeePerGas: range(fields.maxPriorityFeePerGas, 'tx.maxPriorityFeePerGas', 0n, MAX_UINT256, 'wei'),
    maxFeePerGas: range(fields.maxFeePerGas, 'tx.maxFeePerGas', 0n, MAX_UINT256, 'wei'),
    gasLimit: range(fields.gasLimit, 'tx.gasLimit', MIN_GAS_LIMIT, MAX_UINT64, 'gas; 21000 is the least any transaction uses'),
    to: fields.to === null ? null : addressField(fields.to, 'tx.to'),
    value: range(fields.value, 'tx.value', 0n, MAX_UINT256, 'wei'),
    data: dataField(fields.data, 'tx.data'),
  }
  if (out.maxPriorityFeePerGas > out.maxFeePerGas) {
    fail(
      'INVALID_FIELD',
      `tx.maxPriorityFeePerGas (${gwei(out.maxPriorityFeePerGas)}) is above tx.maxFeePerGas (${gwei(out.maxFeePerGas)})`,
      'tx.maxPriorityFeePerGas',
    )
  }
  if (out.gasLimit * out.maxFeePerGas + out.value > MAX_UINT256) {
    fail('INVALID_FIELD', 'tx.value plus gas limit x max fee per gas is more than 2^256-1 wei', 'tx.value')
  }
  return out
}

const TX_KEYS = ['type', 'chainId', 'nonce', 'maxPriorityFeePerGas', 'maxFeePerGas', 'gasLimit', 'to', 'value', 'data', 'accessList'] as const
const SUMMARY_KEYS: readonly (keyof TxSummary)[] = [
  'from', 'to', 'value', 'maxFeePerGas', 'maxPriorityFeePerGas', 'gasLimit', 'maxTotalFee', 'maxTotalCost', 'chainId', 'chainName', 'nonce', 'data',
]

function parseTxObject(value: unknown): OfflineTxFields {
  const tx = asObject(value, 'tx')
  refuseUnknown(tx, TX_KEYS, 'tx')
  if (tx.type !== '0x2') fail('INVALID_FIELD', `tx.type must be "0x2" (EIP-1559), got ${JSON.stringify(tx.type)}`, 'tx.type')
  if (!Array.isArray(tx.accessList) || tx.accessList.length !== 0) {
    fail('INVALID_FIELD', 'tx.accessList must be [] (access lists are not supported)', 'tx.accessList')
  }
  if (!('to' in tx)) fail('INVALID_FIELD', 'tx.to is missing (null for a contract creation)', 'tx.to')
  return checkFields({
    chainId: quantityField(tx.chainId, 'tx.chainId', MAX_CHAIN_ID, 'chain id'),
    nonce: quantityField(tx.nonce, 'tx.nonce', MAX_UINT64 - 1n, 'nonce'),
    maxPriorityFeePerGas: quantityField(tx.maxPriorityFeePerGas, 'tx.maxPriorityFeePerGas', MAX_UINT256, 'uint256'),
    maxFeePerGas: quantityField(tx.maxFeePerGas, 'tx.maxFeePerGas', MAX_UINT256, 'uint256'),
    gasLimit: quantityField(tx.gasLimit, 'tx.gasLimit', MAX_UINT64, 'gas limit'),
    to: tx.to === null ? null : addressField(tx.to, 'tx.to'),
    value: quantityField(tx.value, 'tx.value', MAX_UINT256, 'uint256'),
    data: dataField(tx.data, 'tx.data'),
  })
}

const q = (n: bigint) => `0x${n.toString(16)}`

export function fieldsToJSON(fields: OfflineTxFields): TxFieldsJSON {
  return {
    type: '0x2',
    chainId: q(fields.chainId),
    nonce: q(fields.nonce),
    maxPriorityFeePerGas: q(fields.maxPriorityFeePerGas),
    maxFeePerGas: q(fields.maxFeePerGas),
    gasLimit: q(fields.gasLimit),
    to: fields.to,
    value: q(fields.value),
    data: fields.data,
    accessList: [],
  }
}

/**
 * A chain name in a file is a label from whoever built it, whose table of names may differ
 * from ours: it may be null, or name a chain we do not know, but it may not contradict ours
 * (1337 called "Ethereum Mainnet", or an unknown chain given the name of a known one).
 */
function chainNameAgrees(given: unknown, expected: string | null, opts: OfflineTxOptions): boolean {
  if (given === expected || given === null) return true
  if (typeof given !== 'string' || expected !== null) return false
  const known = new Set([...KNOWN_CHAINS.values(), ...(opts.chainNames?.values() ?? [])])
  return !known.has(given)
}

/** The file's summary must be exactly the one its fields give; a stale or edited entry is named. */
function checkSummary(value: unknown, expected: TxSummary, opts: OfflineTxOptions): void {
  const summary = asObject(value, 'summary')
  refuseUnknown(summary, SUMMARY_KEYS, 'summary')
  for (const key of SUMMARY_KEYS) {
    if (key === 'chainName' ? !chainNameAgrees(summary[key], expected.chainName, opts) : summary[key] !== expected[key]) {
      fail(
        'SUMMARY_MISMATCH',
        `summary.${key} is ${JSON.stringify(summary[key])} but the transaction's fields say ${JSON.stringify(expected[key])}: the file was edited or is damaged`,
        `summary.${key}`,
      )
    }
  }
}

function parseJson(input: unknown): Record<string, unknown> {
  if (typeof input !== 'string') return asObject(input, 'file')
  let parsed: unknown
  try {
    parsed = JSON.parse(input)
  } catch (err) {
    return fail('MALFORMED_FILE', `not a transaction file: not valid JSON (${(err as Error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('MALFORMED_FILE', 'not a transaction file: not a JSON object')
  return parsed as Record<string, unknown>
}

function checkHeader(file: Record<string, unknown>, want: string): void {
  if (file.format !== want) {
    const other = want === UNSIGNED_TX_FORMAT ? SIGNED_TX_FORMAT : UNSIGNED_TX_FORMAT
    if (file.format === other) {
      fail('WRONG_FILE_KIND', `this is ${other === SIGNED_TX_FORMAT ? 'a signed' : 'an unsigned'} transaction file; expected ${want === SIGNED_TX_FORMAT ? 'a signed' : 'an unsigned'} one`, 'format')
    }
    fail('UNSUPPORTED_FORMAT', `format must be "${want}", got ${JSON.stringify(file.format)}`, 'format')
  }
  if (file.version !== OFFLINE_TX_VERSION) {
    fail('UNSUPPORTED_VERSION', `version ${JSON.stringify(file.version)} is not supported (only ${OFFLINE_TX_VERSION})`, 'version')
  }
}

// ---- unsigned files ----

/** An unsigned-transaction file for `from` and `fields` (checked; throws INVALID_FIELD naming the field). */
export function buildUnsignedTx(from: string, fields: OfflineTxFields, opts: OfflineTxOptions = {}): UnsignedTxFile {
  const sender = addressField(from, 'from')
  const checked = checkFields(fields)
  return {
    format: UNSIGNED_TX_FORMAT,
    version: OFFLINE_TX_VERSION,
    from: sender,
    tx: fieldsToJSON(checked),
    summary: summarizeTx(sender, checked, opts),
  }
}

/** Reads and checks an unsigned-transaction file (JSON text or parsed object). */
export function parseUnsignedTx(input: unknown, opts: OfflineTxOptions = {}): ParsedUnsignedTx {
  const file = parseJson(input)
  checkHeader(file, UNSIGNED_TX_FORMAT)
  refuseUnknown(file, ['format', 'version', 'from', 'tx', 'summary'], '')
  const from = addressField(file.from, 'from')
  const fields = parseTxObject(file.tx)
  const summary = summarizeTx(from, fields, opts)
  checkSummary(file.summary, summary, opts)
  return {
    from,
    fields,
    summary,
    file: { format: UNSIGNED_TX_FORMAT, version: OFFLINE_TX_VERSION, from, tx: fieldsToJSON(fields), summary },
  }
}

// ---- signing ----

/** The ethereumjs Common for signing and decoding on `chainId` (Prague rules, like the node). */
function commonFor(chainId: bigint): Common {
  return createCustomCommon({ chainId: Number(chainId), name: `chain-${chainId}` }, Mainnet, {
    hardfork: Hardfork.Prague,
    customCrypto: ethereumCustomCrypto(),
  })
}

function toEthereumjs(fields: OfflineTxFields) {
  return {
    chainId: fields.chainId,
    nonce: fields.nonce,
    maxPriorityFeePerGas: fields.maxPriorityFeePerGas,
    maxFeePerGas: fields.maxFeePerGas,
    gasLimit: fields.gasLimit,
    to: (fields.to ?? undefined) as PrefixedHexString | undefined,
    value: fields.value,
    data: fields.data as PrefixedHexString,
    accessList: [],
  }
}

/**
 * Signs a checked unsigned tx with `privateKey`, which must be the key of its `from` address
 * (KEY_MISMATCH otherwise, before anything is signed). Does not zero the key: the caller owns it.
 */
export function signUnsignedTx(unsigned: ParsedUnsignedTx, privateKey: Uint8Array, opts: OfflineTxOptions = {}): SignedTxFile {
  const keyAddress = toChecksumAddress(privateKeyToAddress(privateKey))
  if (keyAddress !== unsigned.from) {
    fail('KEY_MISMATCH', `the key is for ${keyAddress} but the transaction is from ${unsigned.from}`, 'from')
  }
  const fields = checkFields(unsigned.fields)
  const tx = createFeeMarket1559Tx(toEthereumjs(fields), { common: commonFor(fields.chainId) }).sign(privateKey)
  const sender = toChecksumAddress(tx.getSenderAddress().bytes)
  if (sender !== unsigned.from) fail('SENDER_MISMATCH', `signed transaction recovers to ${sender}, not ${unsigned.from}`, 'from')
  return {
    format: SIGNED_TX_FORMAT,
    version: OFFLINE_TX_VERSION,
    from: unsigned.from,
    hash: bytesToHex(tx.hash()),
    raw: bytesToHex(tx.serialize()),
    tx: fieldsToJSON(fields),
    summary: summarizeTx(unsigned.from, fields, opts),
  }
}

// ---- signed files ----

function decodeRaw(rawHex: unknown): { tx: FeeMarket1559Tx; chainId: bigint } {
  if (typeof rawHex !== 'string' || !/^0x([0-9a-fA-F]{2})+$/.test(rawHex)) {
    fail(rawHex === undefined ? 'MALFORMED_FILE' : 'INVALID_RAW', `raw ${rawHex === undefined ? 'is missing' : 'must be 0x followed by an even number of hex digits'}`, 'raw')
  }
  const bytes = hexToBytes(rawHex as PrefixedHexString)
  if (bytes[0] !== 2) fail('INVALID_RAW', `raw is not an EIP-1559 transaction (type byte 0x${(bytes[0] ?? 0).toString(16).padStart(2, '0')}, want 0x02)`, 'raw')
  let chainId: bigint
  try {
    const items = RLP.decode(bytes.subarray(1))
    if (!Array.isArray(items) || items.length !== 12 || !(items[0] instanceof Uint8Array)) throw new Error('not a 12-item RLP list')
    chainId = bytesToBigInt(items[0])
    if (chainId < 1n || chainId > MAX_CHAIN_ID) throw new Error(`chain id ${chainId} out of range`)
  } catch (err) {
    return fail('INVALID_RAW', `raw is not a signed EIP-1559 transaction: ${(err as Error).message}`, 'raw')
  }
  try {
    const tx = createTxFromRLP(bytes, { common: commonFor(chainId) }) as FeeMarket1559Tx
    if (!tx.isSigned() || !tx.verifySignature()) throw new Error('no valid signature')
    return { tx, chainId }
  } catch (err) {
    // ethereumjs messages end with a dump of the tx; the first sentence is the reason.
    const why = (err as Error).message.split(' (tx type=')[0]!.split('\n')[0]!
    return fail('INVALID_RAW', `raw is not a valid signed EIP-1559 transaction: ${why}`, 'raw')
  }
}

/** The raw tx must say exactly what the file's tx object says, field by field. */
function compareRaw(tx: FeeMarket1559Tx, chainId: bigint, fields: OfflineTxFields): void {
  const raw: OfflineTxFields = {
    chainId,
    nonce: tx.nonce,
    maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
    maxFeePerGas: tx.maxFeePerGas,
    gasLimit: tx.gasLimit,
    to: tx.to === undefined ? null : toChecksumAddress(tx.to.bytes),
    value: tx.value,
    data: bytesToHex(tx.data),
  }
  for (const key of ['chainId', 'nonce', 'maxPriorityFeePerGas', 'maxFeePerGas', 'gasLimit', 'to', 'value', 'data'] as const) {
    const a = raw[key]
    const b = fields[key]
    if (a !== b) {
      const show = (v: unknown) => (typeof v === 'bigint' ? q(v) : JSON.stringify(v))
      fail('RAW_MISMATCH', `tx.${key} is ${show(b)} but the signed raw transaction has ${show(a)}: the file was edited or is damaged`, `tx.${key}`)
    }
  }
  if (tx.accessList.length !== 0) fail('RAW_MISMATCH', 'the signed raw transaction has an access list but tx.accessList is []', 'tx.accessList')
}

/**
 * Reads and checks a signed-transaction file: the fields, the summary, and that `raw` decodes
 * to those fields with a valid signature by `from` and hashes to `hash`.
 */
export function parseSignedTx(input: unknown, opts: OfflineTxOptions = {}): ParsedSignedTx {
  const file = parseJson(input)
  checkHeader(file, SIGNED_TX_FORMAT)
  refuseUnknown(file, ['format', 'version', 'from', 'hash', 'raw', 'tx', 'summary'], '')
  const from = addressField(file.from, 'from')
  const fields = parseTxObject(file.tx)
  const summary = summarizeTx(from, fields, opts)
  checkSummary(file.summary, summary, opts)
  if (typeof file.hash !== 'string' || !/^0x[0-9a-f]{64}$/.test(file.hash)) {
    fail('INVALID_FIELD', 'hash must be 0x followed by 64 lower-case hex digits', 'hash')
  }
  const { tx, chainId } = decodeRaw(file.raw)
  compareRaw(tx, chainId, fields)
  const hash = bytesToHex(tx.hash())
  if (hash !== file.hash) fail('HASH_MISMATCH', `hash is ${file.hash} but the signed raw transaction hashes to ${hash}`, 'hash')
  const sender = toChecksumAddress(tx.getSenderAddress().bytes)
  if (sender !== from) fail('SENDER_MISMATCH', `from is ${from} but the signature is by ${sender}`, 'from')
  const raw = bytesToHex(tx.serialize())
  return {
    from,
    fields,
    summary,
    hash,
    raw,
    file: { format: SIGNED_TX_FORMAT, version: OFFLINE_TX_VERSION, from, hash, raw, tx: fieldsToJSON(fields), summary },
  }
}

/** A file's text: pretty JSON and a final newline. */
export function serializeTxFile(file: UnsignedTxFile | SignedTxFile): string {
  return `${JSON.stringify(file, null, 2)}\n`
}
