/**
 * Ethereum addresses as text: EIP-55 mixed-case checksums
 * (https://eips.ethereum.org/EIPS/eip-55) and strict parsing of user input.
 * @module
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { keccak256 } from './hash.ts'

export type AddressErrorCode =
  | 'INVALID_ADDRESS_TYPE'
  | 'INVALID_ADDRESS_LENGTH'
  | 'INVALID_ADDRESS_HEX'
  | 'BAD_ADDRESS_CHECKSUM'

/** An address string that cannot be used: `code` says why. */
export class AddressError extends Error {
  readonly code: AddressErrorCode
  constructor(code: AddressErrorCode, message: string) {
    super(message)
    this.name = 'AddressError'
    this.code = code
  }
}

const HEX40 = /^[0-9a-fA-F]{40}$/
const encoder = new TextEncoder()

/** The 40 hex digits of an address string (optional 0x prefix), or a typed error. */
function hexDigits(addr: string): string {
  if (typeof addr !== 'string') {
    throw new AddressError('INVALID_ADDRESS_TYPE', `address must be a string, got ${typeof addr}`)
  }
  const digits = addr.startsWith('0x') ? addr.slice(2) : addr
  if (digits.length !== 40) {
    throw new AddressError(
      'INVALID_ADDRESS_LENGTH',
      `address must be 20 bytes (40 hex digits), got ${digits.length} characters: ${JSON.stringify(addr)}`,
    )
  }
  if (!HEX40.test(digits)) {
    throw new AddressError('INVALID_ADDRESS_HEX', `address has non-hex characters: ${JSON.stringify(addr)}`)
  }
  return digits
}

/** EIP-55 casing of 40 lowercase hex digits: a letter is upper-case where keccak's nibble >= 8. */
function checksumDigits(lower: string): string {
  const hash = keccak256(encoder.encode(lower))
  let out = '0x'
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0x0f
    const c = lower[i]!
    out += nibble >= 8 ? c.toUpperCase() : c
  }
  return out
}

/**
 * The EIP-55 checksummed form (`0x` + mixed case) of an address given as 20 bytes or as hex in
 * any case (the input's own casing is not checked: use parseAddress for user input).
 */
export function toChecksumAddress(addr: string | Uint8Array): string {
  if (addr instanceof Uint8Array) {
    if (addr.length !== 20) {
      throw new AddressError('INVALID_ADDRESS_LENGTH', `address must be 20 bytes, got ${addr.length}`)
    }
    return checksumDigits(bytesToHex(addr).slice(2))
  }
  return checksumDigits(hexDigits(addr).toLowerCase())
}

/** True when `addr` is `0x` + 40 hex digits in exactly the EIP-55 casing. */
export function isValidChecksumAddress(addr: string): boolean {
  if (typeof addr !== 'string' || !addr.startsWith('0x') || !HEX40.test(addr.slice(2))) return false
  return checksumDigits(addr.slice(2).toLowerCase()) === addr
}

/**
 * Parses a user-supplied address (with or without `0x`) into 20 bytes. All-lowercase and
 * all-uppercase hex carry no checksum and are accepted; mixed case must be a correct EIP-55
 * checksum, so a typo in a checksummed address is caught instead of sending funds astray.
 */
export function parseAddress(str: string): Uint8Array {
  const digits = hexDigits(str)
  const lower = digits.toLowerCase()
  if (digits !== lower && digits !== digits.toUpperCase()) {
    if (checksumDigits(lower) !== `0x${digits}`) {
      throw new AddressError(
        'BAD_ADDRESS_CHECKSUM',
        `address ${JSON.stringify(str)} has a wrong EIP-55 checksum (mixed case that does not match); ` +
          'check it for typos',
      )
    }
  }
  return hexToBytes(`0x${lower}`)
}
