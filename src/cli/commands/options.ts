/** Parsers for CLI option values: bad input is a clear error before anything starts. */
import { InvalidArgumentError } from 'commander'
import { parseAddress, toChecksumAddress } from '../../crypto/index.ts'

export function parsePort(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a port number (0-65535)')
  const n = Number(value)
  if (n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)')
  return n
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer')
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('is too large')
  return n
}

/** A duration such as 5s, 500ms or 0 (plain numbers are seconds, as geth's flags read them), in ms. */
export function parseDurationMs(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim())
  if (!m) throw new InvalidArgumentError('must be a duration such as 5s, 500ms or 0')
  const ms = Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000))
  if (!Number.isSafeInteger(ms) || ms > 24 * 3600_000) throw new InvalidArgumentError('must be at most 24h')
  return ms
}

/** A gas amount (decimal), at most 2^64 - 1. */
export function parseGasOption(value: string): bigint {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a non-negative integer (gas)')
  const gas = BigInt(value.trim())
  if (gas >= 1n << 64n) throw new InvalidArgumentError('must be below 2^64')
  return gas
}

/** A comma-separated list; empty items are dropped. */
export function parseList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean)
}

/** A 32-byte block hash, 0x-hex. */
export function parseBlockHashOption(value: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value.trim())) throw new InvalidArgumentError('must be a 0x-prefixed 32-byte block hash')
  return value.trim().toLowerCase()
}

export function parseAddressOption(value: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidArgumentError('must be a 0x-prefixed 20-byte hex address')
  return value.toLowerCase()
}

export function parseBoolOption(value: string): boolean {
  if (value === 'true' || value === '1' || value === 'on') return true
  if (value === 'false' || value === '0' || value === 'off') return false
  throw new InvalidArgumentError('must be true or false')
}

// ---- amounts, fees, addresses, data and URLs (catena send, catena status) ----

/** Decimal places of each unit an amount may be written in (1 eth = 10^18 wei). */
export const UNIT_DECIMALS = { wei: 0, gwei: 9, eth: 18 } as const
export type AmountUnit = keyof typeof UNIT_DECIMALS

const UNIT_ALIASES: Record<string, AmountUnit> = { wei: 'wei', gwei: 'gwei', eth: 'eth', ether: 'eth' }
const MAX_UINT256 = (1n << 256n) - 1n
const MAX_GAS_LIMIT = (1n << 64n) - 1n
const AMOUNT_SYNTAX = /^(\d*)(?:\.(\d*))?\s*([a-z]*)$/i

export type AmountErrorCode = 'INVALID_AMOUNT' | 'NEGATIVE_AMOUNT' | 'UNKNOWN_UNIT' | 'TOO_MANY_DECIMALS' | 'AMOUNT_TOO_LARGE'

/** An amount the user wrote that is not a valid number of wei: `code` says why. */
export class AmountError extends Error {
  readonly code: AmountErrorCode
  constructor(code: AmountErrorCode, message: string) {
    super(message)
    this.name = 'AmountError'
    this.code = code
  }
}

/**
 * Parses "1.5", "1.5eth", "20 gwei" or "100wei" into wei, exactly (bigint arithmetic, never a
 * float). A number without a unit is in `defaultUnit`. Fractions finer than the unit allows
 * (e.g. "1.5wei") are refused rather than rounded.
 */
export function parseAmount(text: string, defaultUnit: AmountUnit = 'eth'): bigint {
  const hint = 'write a decimal like 1.5, or add a unit: 1.5eth, 20gwei, 100wei'
  const trimmed = typeof text === 'string' ? text.trim() : ''
  if (trimmed.startsWith('-')) throw new AmountError('NEGATIVE_AMOUNT', `amount ${JSON.stringify(text)} is negative`)
  const m = AMOUNT_SYNTAX.exec(trimmed)
  const whole = m?.[1] ?? ''
  const fraction = m?.[2] ?? ''
  if (!m || (whole === '' && fraction === '')) {
    throw new AmountError('INVALID_AMOUNT', `${JSON.stringify(text)} is not an amount: ${hint}`)
  }
  const unitText = m[3]!.toLowerCase()
  const unit = unitText === '' ? defaultUnit : UNIT_ALIASES[unitText]
  if (unit === undefined) {
    throw new AmountError('UNKNOWN_UNIT', `unknown unit ${JSON.stringify(m[3])} in ${JSON.stringify(text)} (use eth, gwei or wei)`)
  }
  const decimals = UNIT_DECIMALS[unit]
  const significant = fraction.replace(/0+$/, '')
  if (significant.length > decimals) {
    throw new AmountError(
      'TOO_MANY_DECIMALS',
      `${JSON.stringify(text)} has ${significant.length} decimal places but ${unit} allows ${decimals} (1 wei is the smallest amount)`,
    )
  }
  const wei = BigInt(whole || '0') * 10n ** BigInt(decimals) + BigInt(significant.padEnd(decimals, '0') || '0')
  if (wei > MAX_UINT256) throw new AmountError('AMOUNT_TOO_LARGE', `${JSON.stringify(text)} is more than 2^256-1 wei`)
  return wei
}

/** `wei` in `unit` as a plain decimal with no trailing zeros: formatAmount(1500000000000000000n) = "1.5". */
export function formatAmount(wei: bigint, unit: AmountUnit = 'eth'): string {
  const decimals = BigInt(UNIT_DECIMALS[unit])
  const sign = wei < 0n ? '-' : ''
  const abs = wei < 0n ? -wei : wei
  const scale = 10n ** decimals
  const whole = abs / scale
  const fraction = (abs % scale).toString().padStart(Number(decimals), '0').replace(/0+$/, '')
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`
}

function amountOption(value: string, unit: AmountUnit): bigint {
  try {
    return parseAmount(value, unit)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

/** An amount in ether unless a unit is given ("1.5", "1.5eth", "20gwei", "100wei"), as wei. */
export function parseEtherAmountOption(value: string): bigint {
  return amountOption(value, 'eth')
}

/** A fee in gwei unless a unit is given ("1.5", "2gwei", "100wei"), as wei. */
export function parseGweiAmountOption(value: string): bigint {
  return amountOption(value, 'gwei')
}

/** A gas limit: a positive integer below 2^64. */
export function parseGasLimitOption(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a positive integer number of gas units')
  const n = BigInt(value)
  if (n === 0n || n > MAX_GAS_LIMIT) throw new InvalidArgumentError('must be between 1 and 2^64-1')
  return n
}

/** Call data: 0x followed by an even number of hex digits, returned lower-case. */
export function parseHexDataOption(value: string): string {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(value)) throw new InvalidArgumentError('must be 0x followed by an even number of hex digits')
  return value.toLowerCase()
}

/**
 * An address checked like a wallet checks it (mixed case must be a correct EIP-55 checksum),
 * returned in EIP-55 form.
 */
export function parseChecksummedAddressOption(value: string): string {
  try {
    return toChecksumAddress(parseAddress(value))
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

/** A JSON-RPC endpoint: an http:// or https:// URL. */
export function parseRpcUrlOption(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InvalidArgumentError('must be an http:// or https:// URL, e.g. http://127.0.0.1:8545')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`must be an http:// or https:// URL (got ${url.protocol}//)`)
  }
  return value
}
