import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { AddressError, isValidChecksumAddress, parseAddress, toChecksumAddress } from '../../../src/crypto/index.ts'

// The test cases listed in EIP-55 (https://eips.ethereum.org/EIPS/eip-55#test-cases).
const EIP55_VECTORS = [
  // All caps
  '0x52908400098527886E0F7030069857D2E4169EE7',
  '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
  // All lower
  '0xde709f2102306220921060314715629080e2fb77',
  '0x27b1fdb04752bbc536007a920d24acb045561c26',
  // Normal
  '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
  '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
  '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
]

function errorCode(f: () => unknown): string {
  try {
    f()
  } catch (err) {
    assert.ok(err instanceof AddressError, `expected AddressError, got ${String(err)}`)
    assert.ok(err.message.length > 10)
    return err.code
  }
  return 'no error'
}

describe('EIP-55', () => {
  test('toChecksumAddress reproduces every spec vector from any casing and from bytes', () => {
    for (const v of EIP55_VECTORS) {
      assert.equal(toChecksumAddress(v.toLowerCase()), v)
      assert.equal(toChecksumAddress(`0x${v.slice(2).toUpperCase()}`), v)
      assert.equal(toChecksumAddress(v.slice(2)), v)
      assert.equal(toChecksumAddress(hexToBytes(v.toLowerCase() as `0x${string}`)), v)
    }
  })

  test('isValidChecksumAddress accepts the vectors and rejects any case flip', () => {
    for (const v of EIP55_VECTORS) {
      assert.equal(isValidChecksumAddress(v), true)
      const i = [...v].findIndex((c, j) => j > 1 && /[a-fA-F]/.test(c))
      const flipped = v.slice(0, i) + (v[i] === v[i]!.toLowerCase() ? v[i]!.toUpperCase() : v[i]!.toLowerCase()) + v.slice(i + 1)
      assert.equal(isValidChecksumAddress(flipped), false)
    }
    assert.equal(isValidChecksumAddress('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe'), false)
    assert.equal(isValidChecksumAddress('5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'), false)
    assert.equal(isValidChecksumAddress(42 as unknown as string), false)
  })
})

describe('parseAddress', () => {
  test('accepts all-lower, all-upper and correctly checksummed hex, with or without 0x', () => {
    for (const v of EIP55_VECTORS) {
      const bytes = parseAddress(v)
      assert.equal(bytes.length, 20)
      assert.equal(bytesToHex(bytes), v.toLowerCase())
      assert.deepEqual(parseAddress(v.toLowerCase()), bytes)
      assert.deepEqual(parseAddress(`0x${v.slice(2).toUpperCase()}`), bytes)
      assert.deepEqual(parseAddress(v.slice(2)), bytes)
    }
  })

  test('rejects a wrong checksum, a wrong length, non-hex and non-strings with typed errors', () => {
    assert.equal(errorCode(() => parseAddress('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD')), 'BAD_ADDRESS_CHECKSUM')
    assert.equal(errorCode(() => parseAddress('0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed')), 'BAD_ADDRESS_CHECKSUM')
    assert.equal(errorCode(() => parseAddress('0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae')), 'INVALID_ADDRESS_LENGTH')
    assert.equal(errorCode(() => parseAddress('0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00')), 'INVALID_ADDRESS_LENGTH')
    assert.equal(errorCode(() => parseAddress('')), 'INVALID_ADDRESS_LENGTH')
    assert.equal(errorCode(() => parseAddress('0x')), 'INVALID_ADDRESS_LENGTH')
    assert.equal(errorCode(() => parseAddress('0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg')), 'INVALID_ADDRESS_HEX')
    assert.equal(errorCode(() => parseAddress('0x 5aaeb6053f3e94c9b9a09f33669435e7ef1beae')), 'INVALID_ADDRESS_HEX')
    assert.equal(errorCode(() => parseAddress('0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed')), 'INVALID_ADDRESS_LENGTH')
    assert.equal(errorCode(() => parseAddress(undefined as unknown as string)), 'INVALID_ADDRESS_TYPE')
    assert.equal(errorCode(() => toChecksumAddress(new Uint8Array(19))), 'INVALID_ADDRESS_LENGTH')
    assert.equal(errorCode(() => toChecksumAddress('0xzz')), 'INVALID_ADDRESS_LENGTH')
  })
})
