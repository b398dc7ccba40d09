import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { BITS_OFFSET, NONCE_OFFSET, POW_PREIMAGE_BYTES, SEAL_HASH_OFFSET, meetsTarget, powHash, powPreimage } from '../../../../src/consensus/pow/pow-hash.ts'

const SEAL = Uint8Array.from({ length: 32 }, (_, i) => i)
const MAX = (1n << 256n) - 1n

/** The same proof built by hand with node:crypto's streaming API, to check pow-hash.ts against. */
function referencePowHash(sealHash: Uint8Array, bits: number, nonce: bigint): Buffer {
  const fields = Buffer.alloc(12)
  fields.writeUInt32BE(bits, 0)
  fields.writeBigUInt64BE(nonce, 4)
  const once = createHash('sha256').update(sealHash).update(fields).digest()
  return createHash('sha256').update(once).digest()
}

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`)
}

function toBytes32(n: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'))
}

describe('powPreimage', () => {
  it('is sealHash || bits (uint32 BE) || nonce (uint64 BE), 44 bytes', () => {
    const pre = powPreimage(SEAL, 0x1d00ffff, 0x0102030405060708n)
    assert.equal(POW_PREIMAGE_BYTES, 44)
    assert.equal(pre.length, POW_PREIMAGE_BYTES)
    assert.deepEqual([SEAL_HASH_OFFSET, BITS_OFFSET, NONCE_OFFSET], [0, 32, 36])
    assert.deepEqual(pre.subarray(0, 32), SEAL)
    assert.deepEqual([...pre.subarray(32, 36)], [0x1d, 0x00, 0xff, 0xff])
    assert.deepEqual([...pre.subarray(36, 44)], [1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('covers the full uint32 bits and uint64 nonce ranges', () => {
    const pre = powPreimage(SEAL, 0xffffffff, (1n << 64n) - 1n)
    assert.deepEqual([...pre.subarray(32)], Array(12).fill(0xff))
    const zero = powPreimage(new Uint8Array(32), 0, 0n)
    assert.deepEqual(zero, new Uint8Array(44))
  })

  it('rejects a malformed sealHash, bits or nonce', () => {
    assert.throws(() => powPreimage(new Uint8Array(31), 0, 0n), { name: 'RangeError', message: /sealHash must be 32 bytes, got 31/ })
    assert.throws(() => powPreimage(SEAL, -1, 0n), { name: 'RangeError', message: /bits must be a uint32/ })
    assert.throws(() => powPreimage(SEAL, 2 ** 32, 0n), { name: 'RangeError', message: /bits must be a uint32/ })
    assert.throws(() => powPreimage(SEAL, 1.5, 0n), { name: 'RangeError', message: /bits must be a uint32/ })
    assert.throws(() => powPreimage(SEAL, 0, -1n), { name: 'RangeError', message: /nonce must be a uint64/ })
    assert.throws(() => powPreimage(SEAL, 0, 1n << 64n), { name: 'RangeError', message: /nonce must be a uint64/ })
  })
})

describe('powHash', () => {
  it('matches double SHA-256 of the preimage computed independently', () => {
    for (const [bits, nonce] of [[0x1d00ffff, 0x0102030405060708n], [0, 0n], [0x207fffff, (1n << 64n) - 1n], [0x1a2b3c4d, 123456789n]] as const) {
      assert.deepEqual(Buffer.from(powHash(SEAL, bits, nonce)), referencePowHash(SEAL, bits, nonce))
    }
  })

  it('matches fixed known answers (computed with Python hashlib)', () => {
    assert.equal(Buffer.from(powHash(SEAL, 0x1d00ffff, 0x0102030405060708n)).toString('hex'), '77c68a8f2e509e9b2bca163187f1f0e1afa195172603549dabf30ee32d8e883c')
    assert.equal(Buffer.from(powHash(new Uint8Array(32), 0, 0n)).toString('hex'), 'df7a41f88d8cdadda9fb00d7ad8b3d90303f68e401b26256c1ee34562253f0e0')
  })

  it('commits to every field: changing sealHash, bits or nonce changes the hash', () => {
    const base = Buffer.from(powHash(SEAL, 1, 1n)).toString('hex')
    const otherSeal = Uint8Array.from(SEAL)
    otherSeal[31] ^= 1
    for (const h of [powHash(otherSeal, 1, 1n), powHash(SEAL, 2, 1n), powHash(SEAL, 1, 2n)]) {
      assert.notEqual(Buffer.from(h).toString('hex'), base)
    }
  })
})

describe('meetsTarget', () => {
  const hash = powHash(SEAL, 0x1d00ffff, 42n)
  const value = toBigInt(hash)

  it('passes when the hash equals the target and fails at target - 1', () => {
    assert.equal(meetsTarget(hash, value), true)
    assert.equal(meetsTarget(hash, value - 1n), false)
    assert.equal(meetsTarget(hash, value + 1n), true)
  })

  it('reads the hash as a big-endian 256-bit number', () => {
    const high = toBytes32(1n << 255n) // first byte 0x80
    const low = toBytes32(0xffn) // last byte 0xff
    assert.equal(meetsTarget(low, 0x100n), true)
    assert.equal(meetsTarget(high, 0x100n), false)
    assert.equal(meetsTarget(high, 1n << 255n), true)
    assert.equal(meetsTarget(new Uint8Array(32), 0n), true)
    assert.equal(meetsTarget(toBytes32(MAX), MAX), true)
    assert.equal(meetsTarget(toBytes32(MAX), MAX - 1n), false)
  })

  it('rejects a hash that is not 32 bytes and a negative target', () => {
    assert.throws(() => meetsTarget(new Uint8Array(31), 1n), { name: 'RangeError', message: /32 bytes, got 31/ })
    assert.throws(() => meetsTarget(hash, -1n), { name: 'RangeError', message: /non-negative/ })
  })
})

it('after a chain-id fork the seal commits to the chain id: one header, different proofs per side', async () => {
  const { sealHash } = await import('../../../../src/consensus/pow/seal.ts')
  const header = {
    parentHash: new Uint8Array(32).fill(1), height: 5n, timestamp: 1000n, txRoot: new Uint8Array(32), stateRoot: new Uint8Array(32).fill(2),
    receiptsRoot: new Uint8Array(32), logsBloom: new Uint8Array(256), gasLimit: 30_000_000n, gasUsed: 0n, baseFee: 0n,
    producer: new Uint8Array(20), extraData: new Uint8Array(0), seal: new Uint8Array([1, 2, 3]),
  }
  const plain = sealHash(header)
  assert.deepEqual(sealHash({ ...header, seal: new Uint8Array(0) }), plain, 'the seal itself is not committed to')
  assert.notDeepEqual(sealHash(header, 1342n), plain)
  assert.notDeepEqual(sealHash(header, 1342n), sealHash(header, 1343n))
  assert.deepEqual(sealHash(header, 1342n), sealHash(header, 1342n))
})
