/**
 * Compact bits, targets and work, checked against Bitcoin Core's own vectors:
 * src/test/arith_uint256_tests.cpp (bignum_SetCompact) and src/test/pow_tests.cpp
 * (CheckProofOfWork_test_*), plus Bitcoin's genesis bits and chain work.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  MAX_UINT256,
  PowError,
  compactToTarget,
  decodeCompact,
  hashMeetsTarget,
  hashToBigInt,
  targetToCompact,
  workFromBits,
  workFromTarget,
  type PowErrorCode,
} from '../../../../src/consensus/pow/index.ts'

function throwsCode(fn: () => unknown, code: PowErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PowError, `expected PowError, got ${String(e)}`)
    assert.equal(e.code, code)
    if (message) assert.match(e.message, message)
    return true
  })
}

const hex256 = (n: bigint) => n.toString(16).padStart(64, '0')
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))

/** Bitcoin mainnet powLimit, ~uint256(0) >> 32. */
const BTC_POW_LIMIT = MAX_UINT256 >> 32n

describe('pow target: SetCompact / GetCompact (arith_uint256_tests bignum_SetCompact)', () => {
  // [bits, GetHex() after SetCompact, GetCompact() (with the negative flag when negative), negative, overflow]
  const vectors: Array<[number, string, number, boolean]> = [
    [0x00000000, '0', 0x00000000, false],
    [0x00123456, '0', 0x00000000, false],
    [0x01003456, '0', 0x00000000, false],
    [0x02000056, '0', 0x00000000, false],
    [0x03000000, '0', 0x00000000, false],
    [0x04000000, '0', 0x00000000, false],
    [0x00923456, '0', 0x00000000, false],
    [0x01803456, '0', 0x00000000, false],
    [0x02800056, '0', 0x00000000, false],
    [0x03800000, '0', 0x00000000, false],
    [0x04800000, '0', 0x00000000, false],
    [0x01123456, '12', 0x01120000, false],
    [0x01fedcba, '7e', 0x01fe0000, true],
    [0x02123456, '1234', 0x02123400, false],
    [0x03123456, '123456', 0x03123456, false],
    [0x04123456, '12345600', 0x04123456, false],
    [0x04923456, '12345600', 0x04923456, true],
    [0x05009234, '92340000', 0x05009234, false],
    [0x20123456, '1234560000000000000000000000000000000000000000000000000000000000', 0x20123456, false],
  ]
  for (const [bits, hex, compact, negative] of vectors) {
    test(`0x${bits.toString(16).padStart(8, '0')}`, () => {
      const d = decodeCompact(bits)
      assert.equal(hex256(d.target), hex.padStart(64, '0'))
      assert.equal(d.negative, negative)
      assert.equal(d.overflow, false)
      assert.equal(targetToCompact(d.target, negative), compact)
    })
  }

  test('0xff123456 overflows and is not negative', () => {
    const d = decodeCompact(0xff123456)
    assert.equal(d.overflow, true)
    assert.equal(d.negative, false)
  })

  test('0x80 encodes as 0x02008000: GetCompact never sets the sign bit', () => {
    assert.equal(targetToCompact(0x80n), 0x02008000)
    assert.equal(compactToTarget(0x02008000), 0x80n)
  })

  test('bits must be a uint32', () => {
    for (const bad of [-1, 0x1_0000_0000, 1.5, Number.NaN]) throwsCode(() => decodeCompact(bad), 'BAD_BITS', /uint32/)
  })
})

describe('pow target: compactToTarget rejects what CheckProofOfWork rejects', () => {
  test('negative: powLimit encoded with the sign bit (CheckProofOfWork_test_negative_target)', () => {
    const bits = targetToCompact(BTC_POW_LIMIT, true)
    assert.equal(bits, 0x1d80ffff)
    throwsCode(() => compactToTarget(bits), 'BAD_BITS', /negative/)
  })

  test('overflow: ~0x00800000 (CheckProofOfWork_test_overflow_target)', () => {
    throwsCode(() => compactToTarget(~0x00800000 >>> 0), 'BAD_BITS', /wider than 256 bits/)
    throwsCode(() => compactToTarget(0xff123456), 'BAD_BITS', /wider than 256 bits/)
  })

  test('zero targets', () => {
    for (const bits of [0x00000000, 0x01003456, 0x04000000]) throwsCode(() => compactToTarget(bits), 'BAD_BITS', /zero/)
  })

  test('bits larger than powLimit still decode (the chain compares with powLimit)', () => {
    const tooEasy = compactToTarget(targetToCompact(BTC_POW_LIMIT * 2n)) // CheckProofOfWork_test_too_easy_target
    assert.ok(tooEasy > BTC_POW_LIMIT, 'decodes above powLimit')
  })

  test('the largest targets that fit in 256 bits decode', () => {
    assert.equal(compactToTarget(0x2100ffff), 0xffffn << 240n)
    assert.equal(compactToTarget(0x207fffff), 0x7fffffn << 232n)
    assert.equal(targetToCompact(MAX_UINT256), 0x2100ffff)
  })
})

describe('pow target: Bitcoin genesis', () => {
  test('0x1d00ffff is the genesis (and mainnet powLimit) target', () => {
    assert.equal(hex256(compactToTarget(0x1d00ffff)), '00000000ffff0000000000000000000000000000000000000000000000000000')
    assert.equal(targetToCompact(BTC_POW_LIMIT), 0x1d00ffff)
  })

  test('genesis work is 0x100010001 (its chainwork)', () => {
    assert.equal(workFromBits(0x1d00ffff), 0x100010001n)
    assert.equal(workFromTarget(compactToTarget(0x1d00ffff)), 0x100010001n)
  })
})

describe('pow target: round trips', () => {
  test('normalized bits survive decode then encode', () => {
    const bits = [0x1d00ffff, 0x1c05a3f4, 0x1b0404cb, 0x1802aee8, 0x17034219, 0x207fffff, 0x03123456, 0x02008000, 0x01120000, 0x2100ffff]
    for (const b of bits) assert.equal(targetToCompact(compactToTarget(b)), b, `0x${b.toString(16)}`)
  })

  test('encoding truncates any target to its 23-bit mantissa, never rounding up', () => {
    let t = 1n
    for (let i = 0; i < 256; i++) {
      for (const v of [t, t + 1n, (t * 3n) / 2n + 7n, t * 2n - 1n]) {
        if (v < 1n || v > MAX_UINT256) continue
        const back = compactToTarget(targetToCompact(v))
        assert.ok(back <= v, `0x${v.toString(16)}`)
        // 23 mantissa bits: 3 bytes, or 2 when the third would set the sign bit.
        const size = Math.ceil(v.toString(2).length / 8)
        let drop = BigInt(Math.max(0, 8 * (size - 3)))
        if (v >> drop >= 0x800000n) drop += 8n
        assert.equal(back, (v >> drop) << drop, `0x${v.toString(16)}`)
        assert.equal(targetToCompact(back), targetToCompact(v))
      }
      t <<= 1n
    }
  })

  test('targetToCompact rejects values outside [0, 2^256 - 1]', () => {
    throwsCode(() => targetToCompact(-1n), 'BAD_TARGET')
    throwsCode(() => targetToCompact(MAX_UINT256 + 1n), 'BAD_TARGET')
  })
})

describe('pow target: work', () => {
  test('2^256 / (target + 1)', () => {
    assert.equal(workFromTarget(MAX_UINT256), 1n)
    assert.equal(workFromTarget(MAX_UINT256 >> 1n), 2n)
    assert.equal(workFromTarget(1n), 1n << 255n)
    assert.equal(workFromTarget(0x7fffffn << 232n), 2n) // regtest 0x207fffff: about 2 hashes a block
    assert.equal(workFromBits(0x207fffff), 2n)
  })

  test('harder bits mean more work', () => {
    assert.ok(workFromBits(0x1c05a3f4) > workFromBits(0x1d00ffff), 'more work for a smaller target')
  })

  test('zero target or invalid bits are rejected, not counted as 0 work', () => {
    throwsCode(() => workFromTarget(0n), 'BAD_TARGET')
    throwsCode(() => workFromBits(0x04923456), 'BAD_BITS')
    throwsCode(() => workFromBits(0x01003456), 'BAD_BITS')
  })
})

describe('pow target: hashMeetsTarget reads the hash big-endian', () => {
  test('byte 0 is the most significant', () => {
    const h = new Uint8Array(32)
    h[31] = 1
    assert.equal(hashToBigInt(h), 1n)
    h[31] = 0
    h[0] = 1
    assert.equal(hashToBigInt(h), 1n << 248n)
  })

  test('hash <= target passes, hash > target fails (CheckProofOfWork_test_biger_hash_than_target)', () => {
    const target = BTC_POW_LIMIT
    assert.equal(hashMeetsTarget(bytes(hex256(target)), target), true)
    assert.equal(hashMeetsTarget(bytes(hex256(target - 1n)), target), true)
    assert.equal(hashMeetsTarget(bytes(hex256(target + 1n)), target), false)
    assert.equal(hashMeetsTarget(bytes(hex256(target * 2n)), target), false)
    assert.equal(hashMeetsTarget(new Uint8Array(32), 0n), true)
  })

  test("Bitcoin's genesis id, in its display order, meets 0x1d00ffff; its internal (reversed) bytes do not", () => {
    const display = bytes('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f')
    const target = compactToTarget(0x1d00ffff)
    assert.equal(hashMeetsTarget(display, target), true)
    assert.equal(hashMeetsTarget(display.slice().reverse(), target), false)
  })

  test('a hash must be 32 bytes and the target a uint256', () => {
    throwsCode(() => hashMeetsTarget(new Uint8Array(31), 1n), 'BAD_PARAMS', /32 bytes/)
    throwsCode(() => hashMeetsTarget(new Uint8Array(32), -1n), 'BAD_TARGET')
  })
})
