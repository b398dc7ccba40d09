import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { keccak256, sha256, sha256d } from '../../../src/crypto/index.ts'

const utf8 = (s: string) => new TextEncoder().encode(s)

test('sha256: FIPS 180-4 example vectors', () => {
  assert.equal(bytesToHex(sha256(utf8(''))), '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  assert.equal(bytesToHex(sha256(utf8('abc'))), '0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  assert.equal(
    bytesToHex(sha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))),
    '0x248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  )
})

test('sha256: agrees with @noble/hashes and returns a plain Uint8Array', () => {
  for (const len of [0, 1, 55, 56, 63, 64, 65, 80, 1000]) {
    const data = new Uint8Array(randomBytes(len))
    const h = sha256(data)
    assert.equal(Object.getPrototypeOf(h), Uint8Array.prototype)
    assert.deepEqual(h, nobleSha256(data))
  }
  // Input views at an offset are hashed over the view only.
  const big = new Uint8Array(randomBytes(100))
  assert.deepEqual(sha256(big.subarray(10, 90)), nobleSha256(big.slice(10, 90)))
})

test('sha256d: the Bitcoin genesis block header hashes to the genesis block id', () => {
  const header = hexToBytes(
    '0x0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c',
  )
  const id = sha256d(header).reverse() // Bitcoin displays hashes byte-reversed
  assert.equal(bytesToHex(id), '0x000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f')
  assert.deepEqual(sha256d(utf8('x')), nobleSha256(nobleSha256(utf8('x'))))
  assert.equal(Object.getPrototypeOf(sha256d(header)), Uint8Array.prototype)
})

test('keccak256: Ethereum vectors (not NIST SHA3-256)', () => {
  assert.equal(bytesToHex(keccak256(utf8(''))), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
  assert.equal(bytesToHex(keccak256(utf8('abc'))), '0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45')
  // The ERC-20 Transfer event topic.
  assert.equal(
    bytesToHex(keccak256(utf8('Transfer(address,address,uint256)'))),
    '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef',
  )
})

test('keccak256 (native sponge when it loads) equals noble on random inputs of every size class', async () => {
  const { keccak256, KECCAK_BACKEND } = await import('../../../src/crypto/hash.ts')
  const { keccak_256 } = await import('@noble/hashes/sha3.js')
  assert.ok(KECCAK_BACKEND === 'native' || KECCAK_BACKEND === 'noble')
  for (const size of [0, 1, 31, 32, 135, 136, 137, 271, 272, 532, 4096]) {
    for (let i = 0; i < 5; i++) {
      const data = Uint8Array.from({ length: size }, () => Math.floor(Math.random() * 256))
      assert.deepEqual(keccak256(data), keccak_256(data), `size ${size}`)
    }
  }
})
