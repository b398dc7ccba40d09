/**
 * Parameter parsing for eth_* handlers, following geth's JSON decoding rules (hexutil):
 * quantities are 0x-prefixed hex with no leading zero digits ("0x0" for zero), data is
 * 0x-prefixed hex of even length, addresses and hashes have exact lengths, block references
 * are tags, numbers, hashes or EIP-1898 objects. Every failure throws -32602 with a message
 * that names the parameter: `invalid fromBlock: hex number with leading zero digits`.
 *
 * Output helpers (`toQuantity`, `toData`) produce the same wire encoding.
 */
import { bigIntToHex, bytesToHex, hexToBytes, intToHex } from '@ethereumjs/util'
import { invalidParams } from './errors.ts'

export type BlockTag = 'latest' | 'earliest' | 'pending' | 'safe' | 'finalized'
/** A block by tag or number (what eth_getBlockByNumber and log filters take). */
export type BlockNumberOrTag = { tag: BlockTag } | { number: bigint }
/** A block by tag, number or hash (EIP-1898), as eth_getBalance / eth_call take. */
export type BlockRef = BlockNumberOrTag | { hash: Uint8Array; requireCanonical: boolean }

export interface AccessListItem {
  address: Uint8Array
  storageKeys: Uint8Array[]
}

/** eth_call / eth_estimateGas transaction object; absent fields are left to the handler. */
export interface TxCallObject {
  from?: Uint8Array
  /** Absent (or null on the wire) means contract creation. */
  to?: Uint8Array
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  value?: bigint
  /** From `input` or `data` (both may be sent if they are equal). */
  data?: Uint8Array
  nonce?: bigint
  accessList?: AccessListItem[]
  type?: number
  chainId?: bigint
}

/** eth_getLogs / eth_newFilter criteria. `blockHash` excludes `fromBlock` / `toBlock`. */
export interface LogFilter {
  fromBlock?: BlockNumberOrTag
  toBlock?: BlockNumberOrTag
  blockHash?: Uint8Array
  /** Any of these addresses; empty = any address. */
  addresses: Uint8Array[]
  /** Position-wise: null = any topic, otherwise any of the listed topics. */
  topics: (Uint8Array[] | null)[]
}

const BLOCK_TAGS: ReadonlySet<string> = new Set(['latest', 'earliest', 'pending', 'safe', 'finalized'])
const MAX_INT64 = (1n << 63n) - 1n
export const MAX_LOG_TOPICS = 4

function fail(name: string, reason: string): never {
  throw invalidParams(`invalid ${name}: ${reason}`)
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Reads a field only if the object owns it (never `__proto__`, `toString`, ...). */
function field(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined
}

/** Geth accepts "0x" and "0X". Returns the digits after the prefix. */
function stripPrefix(v: unknown, name: string): string {
  if (typeof v !== 'string') fail(name, `expected a 0x-prefixed hex string, got ${describe(v)}`)
  if (v.length === 0) fail(name, 'empty hex string')
  if (v.length < 2 || v[0] !== '0' || (v[1] !== 'x' && v[1] !== 'X')) fail(name, 'hex string without 0x prefix')
  return v.slice(2)
}

const HEX_DIGITS = /^[0-9a-fA-F]*$/

/** Checks that `params` has between `min` and `max` entries (geth's wording). */
export function expectParams(params: readonly unknown[], min: number, max: number = min): void {
  if (params.length > max) {
    throw invalidParams(`too many arguments, want at most ${max}`)
  }
  for (let i = 0; i < min; i++) {
    if (i >= params.length || params[i] === undefined || params[i] === null) {
      throw invalidParams(`missing value for required argument ${i}`)
    }
  }
}

/**
 * An Ethereum quantity: "0x" then hex digits without leading zeros ("0x0" for zero), at most
 * `maxBits` bits (256 by default; pass 64 for gas, nonces and block numbers).
 */
export function parseQuantity(v: unknown, name: string, maxBits = 256): bigint {
  const digits = stripPrefix(v, name)
  if (digits.length === 0) fail(name, 'hex string "0x" has no digits')
  if (!HEX_DIGITS.test(digits)) fail(name, 'invalid hex string')
  if (digits.length > 1 && digits[0] === '0') fail(name, 'hex number with leading zero digits')
  if (digits.length * 4 > maxBits + 3) fail(name, `hex number > ${maxBits} bits`)
  const n = BigInt(`0x${digits}`)
  if (n >> BigInt(maxBits) !== 0n) fail(name, `hex number > ${maxBits} bits`)
  return n
}

/** Arbitrary bytes: "0x" then an even number of hex digits ("0x" is empty data). */
export function parseData(v: unknown, name: string): Uint8Array {
  const digits = stripPrefix(v, name)
  if (!HEX_DIGITS.test(digits)) fail(name, 'invalid hex string')
  if (digits.length % 2 !== 0) fail(name, 'hex string of odd length')
  return hexToBytes(`0x${digits}`)
}

function parseFixed(v: unknown, name: string, bytes: number, what: string): Uint8Array {
  const digits = stripPrefix(v, name)
  if (!HEX_DIGITS.test(digits)) fail(name, 'invalid hex string')
  if (digits.length !== bytes * 2) {
    fail(name, `hex string has length ${digits.length}, want ${bytes * 2} for ${what}`)
  }
  return hexToBytes(`0x${digits}`)
}

/** A 20-byte address. Mixed case is accepted without a checksum check, as geth does. */
export function parseAddress(v: unknown, name: string): Uint8Array {
  return parseFixed(v, name, 20, 'an address')
}

/** A 32-byte hash. */
export function parseHash(v: unknown, name: string): Uint8Array {
  return parseFixed(v, name, 32, 'a hash')
}

/** A JSON boolean (eth_getBlockByNumber's fullTransactions flag and the like). */
export function parseBool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') fail(name, `expected a boolean, got ${describe(v)}`)
  return v
}

/** A block tag or a block number (no hashes): what eth_getBlockByNumber and filters take. */
export function parseBlockNumberOrTag(v: unknown, name: string): BlockNumberOrTag {
  if (typeof v === 'string' && BLOCK_TAGS.has(v)) return { tag: v as BlockTag }
  const n = parseQuantity(v, name, 64)
  if (n > MAX_INT64) fail(name, 'block number larger than int64')
  return { number: n }
}

/**
 * A block reference: a tag, a number, a 32-byte hash string, or an EIP-1898 object
 * `{ blockNumber }` / `{ blockHash, requireCanonical? }`. When `v` is undefined or null and
 * `fallback` is given, returns the fallback (for optional trailing block parameters).
 */
export function parseBlockTag(v: unknown, name: string, fallback?: BlockRef): BlockRef {
  if ((v === undefined || v === null) && fallback !== undefined) return fallback
  if (isPlainObject(v)) return parseEip1898(v, name)
  // A 66-character string is a hash (0x + 64 digits), as in geth.
  if (typeof v === 'string' && v.length === 66) return { hash: parseHash(v, name), requireCanonical: false }
  if (typeof v !== 'string') fail(name, `expected a block tag, number or hash, got ${describe(v)}`)
  return parseBlockNumberOrTag(v, name)
}

function parseEip1898(v: Record<string, unknown>, name: string): BlockRef {
  const blockNumber = field(v, 'blockNumber')
  const blockHash = field(v, 'blockHash')
  const requireCanonical = field(v, 'requireCanonical')
  if (blockNumber !== undefined && blockHash !== undefined) {
    fail(name, 'cannot specify both blockHash and blockNumber, choose one or the other')
  }
  if (blockHash !== undefined) {
    const canonical = requireCanonical === undefined ? false : parseBool(requireCanonical, `${name}.requireCanonical`)
    return { hash: parseHash(blockHash, `${name}.blockHash`), requireCanonical: canonical }
  }
  if (blockNumber !== undefined) {
    if (requireCanonical !== undefined) fail(name, 'requireCanonical only applies to blockHash')
    return parseBlockNumberOrTag(blockNumber, `${name}.blockNumber`)
  }
  return fail(name, 'object needs blockNumber or blockHash')
}

function parseAccessList(v: unknown, name: string): AccessListItem[] {
  if (!Array.isArray(v)) fail(name, `expected an array, got ${describe(v)}`)
  return v.map((item, i) => {
    const at = `${name}[${i}]`
    if (!isPlainObject(item)) fail(at, `expected an object, got ${describe(item)}`)
    const address = parseAddress(field(item, 'address'), `${at}.address`)
    const keys = field(item, 'storageKeys') ?? []
    if (!Array.isArray(keys)) fail(`${at}.storageKeys`, `expected an array, got ${describe(keys)}`)
    return { address, storageKeys: keys.map((k, j) => parseHash(k, `${at}.storageKeys[${j}]`)) }
  })
}

/**
 * The transaction object of eth_call / eth_estimateGas (geth's TransactionArgs). Unknown
 * fields are ignored, as in geth. `data` and `input` may both be sent only if equal.
 */
export function parseTxCallObject(v: unknown, name = 'transaction'): TxCallObject {
  if (!isPlainObject(v)) fail(name, `expected an object, got ${describe(v)}`)
  const out: TxCallObject = {}
  const get = (key: string): unknown => {
    const x = field(v, key)
    return x === null ? undefined : x
  }
  const opt = <T>(key: string, parse: (x: unknown, n: string) => T): T | undefined => {
    const x = get(key)
    return x === undefined ? undefined : parse(x, `${name}.${key}`)
  }
  const quantity = (bits: number) => (x: unknown, n: string) => parseQuantity(x, n, bits)

  const from = opt('from', parseAddress)
  if (from) out.from = from
  const to = opt('to', parseAddress)
  if (to) out.to = to
  const gas = opt('gas', quantity(64))
  if (gas !== undefined) out.gas = gas
  const gasPrice = opt('gasPrice', quantity(256))
  if (gasPrice !== undefined) out.gasPrice = gasPrice
  const maxFee = opt('maxFeePerGas', quantity(256))
  if (maxFee !== undefined) out.maxFeePerGas = maxFee
  const maxPriority = opt('maxPriorityFeePerGas', quantity(256))
  if (maxPriority !== undefined) out.maxPriorityFeePerGas = maxPriority
  const value = opt('value', quantity(256))
  if (value !== undefined) out.value = value
  const nonce = opt('nonce', quantity(64))
  if (nonce !== undefined) out.nonce = nonce
  const chainId = opt('chainId', quantity(256))
  if (chainId !== undefined) out.chainId = chainId
  const type = opt('type', quantity(8))
  if (type !== undefined) {
    if (type > 0x7fn) fail(`${name}.type`, `transaction type 0x${type.toString(16)} out of range`)
    out.type = Number(type)
  }
  const accessList = opt('accessList', parseAccessList)
  if (accessList) out.accessList = accessList

  const input = opt('input', parseData)
  const data = opt('data', parseData)
  if (input && data && bytesToHex(input) !== bytesToHex(data)) {
    fail(name, "both 'data' and 'input' are set and not equal. Please use 'input' to pass transaction call data")
  }
  const payload = input ?? data
  if (payload) out.data = payload

  if (gasPrice !== undefined && (maxFee !== undefined || maxPriority !== undefined)) {
    fail(name, 'both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified')
  }
  if (maxFee !== undefined && maxPriority !== undefined && maxFee < maxPriority) {
    fail(name, `maxFeePerGas (${maxFee}) < maxPriorityFeePerGas (${maxPriority})`)
  }
  return out
}

/** `address`: one address or an array of addresses (null / absent = any). */
export function parseAddressFilter(v: unknown, name: string): Uint8Array[] {
  if (v === undefined || v === null) return []
  if (Array.isArray(v)) return v.map((a, i) => parseAddress(a, `${name}[${i}]`))
  return [parseAddress(v, name)]
}

/**
 * `topics`: up to 4 positions, each null (any), a hash, or an array of hashes (any of them).
 * As in geth, an empty array or a null inside an array makes that position a wildcard.
 */
export function parseTopicsFilter(v: unknown, name: string): (Uint8Array[] | null)[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) fail(name, `expected an array, got ${describe(v)}`)
  if (v.length > MAX_LOG_TOPICS) fail(name, `too many topic positions: ${v.length}, at most ${MAX_LOG_TOPICS}`)
  return v.map((position, i) => {
    const at = `${name}[${i}]`
    if (position === null) return null
    if (!Array.isArray(position)) return [parseHash(position, at)]
    if (position.length === 0 || position.includes(null)) {
      position.forEach((t, j) => { if (t !== null) parseHash(t, `${at}[${j}]`) })
      return null
    }
    return position.map((t, j) => parseHash(t, `${at}[${j}]`))
  })
}

/** eth_getLogs / eth_newFilter criteria ({fromBlock, toBlock, address, topics, blockHash}). */
export function parseLogFilter(v: unknown, name = 'filter'): LogFilter {
  if (!isPlainObject(v)) fail(name, `expected an object, got ${describe(v)}`)
  const get = (key: string): unknown => {
    const x = field(v, key)
    return x === null ? undefined : x
  }
  const out: LogFilter = {
    addresses: parseAddressFilter(get('address'), `${name}.address`),
    topics: parseTopicsFilter(get('topics'), `${name}.topics`),
  }
  const blockHash = get('blockHash')
  const fromBlock = get('fromBlock')
  const toBlock = get('toBlock')
  if (blockHash !== undefined) {
    if (fromBlock !== undefined || toBlock !== undefined) {
      fail(name, 'cannot specify both blockHash and fromBlock/toBlock, choose one or the other')
    }
    out.blockHash = parseHash(blockHash, `${name}.blockHash`)
  }
  if (fromBlock !== undefined) out.fromBlock = parseBlockNumberOrTag(fromBlock, `${name}.fromBlock`)
  if (toBlock !== undefined) out.toBlock = parseBlockNumberOrTag(toBlock, `${name}.toBlock`)
  return out
}

/** Encodes a non-negative integer as an Ethereum quantity ("0x0" for zero). */
export function toQuantity(n: bigint | number): `0x${string}` {
  if (typeof n === 'number') {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`toQuantity: not a non-negative safe integer: ${n}`)
    return intToHex(n)
  }
  if (n < 0n) throw new RangeError(`toQuantity: negative value ${n}`)
  return bigIntToHex(n)
}

/** Encodes bytes as 0x-prefixed hex ("0x" for empty). */
export function toData(bytes: Uint8Array): `0x${string}` {
  return bytesToHex(bytes)
}

/** A storage slot as geth takes it: 0x-hex of up to 32 bytes, leading zeros and odd length allowed. */
export function parseStorageSlot(v: unknown, name: string): Uint8Array {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(v)) {
    throw invalidParams(`invalid ${name}: expected 0x-prefixed hex of at most 32 bytes`)
  }
  return Uint8Array.from(Buffer.from(v.slice(2).padStart(64, '0'), 'hex'))
}
