/** Parsers for CLI option values: bad input is a clear error before anything starts. */
import { InvalidArgumentError } from 'commander'

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

export function parseAddressOption(value: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidArgumentError('must be a 0x-prefixed 20-byte hex address')
  return value.toLowerCase()
}

export function parseBoolOption(value: string): boolean {
  if (value === 'true' || value === '1' || value === 'on') return true
  if (value === 'false' || value === '0' || value === 'off') return false
  throw new InvalidArgumentError('must be true or false')
}
