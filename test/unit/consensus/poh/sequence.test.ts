import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bytesToHex } from '@ethereumjs/util'
import { checkEntry, MAX_ENTRY_TXS, MAX_NUM_HASHES, nextHash, PohError, tick, txEntry, txRootOf } from '../../../../src/consensus/poh/index.ts'
import { hashInPlace } from '../../../../src/consensus/poh/sequence.ts'
import { bytes32, refNext, rfc6962Root, sha } from './helpers.ts'

const ZERO = new Uint8Array(32)

describe('PoH sequence', () => {
  it('hashes 32 bytes with SHA-256 (FIPS 180-4 value of sha256 of 32 zero bytes)', () => {
    const h = new Uint8Array(32)
    hashInPlace(h, 1)
    assert.equal(bytesToHex(h), '0x66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925')
  })

  it('a tick of 3 hashes is sha256(sha256(sha256(h)))', () => {
    const h = bytes32(1)
    const t = tick(h, 3)
    assert.deepEqual(t.hash, sha(sha(sha(h))))
    assert.equal(t.numHashes, 3)
    assert.deepEqual(t.txHashes, [])
  })

  it('a tick of 1000 hashes matches the chain hashed one at a time', () => {
    const h = bytes32(2)
    assert.deepEqual(nextHash(h, 1000), refNext(h, 1000))
  })

  it('an entry with txs hashes numHashes - 1 times, then sha256(h || RFC 6962 root of the tx hashes)', () => {
    const h = bytes32(3)
    const txs = [bytes32(10), bytes32(11), bytes32(12)]
    // Written out: leaves sha256(0x00 || tx), root = node(node(l0, l1), l2) for three leaves.
    const leaf = (x: Uint8Array) => sha(Uint8Array.of(0), x)
    const node = (a: Uint8Array, b: Uint8Array) => sha(Uint8Array.of(1), a, b)
    const root = node(node(leaf(txs[0]!), leaf(txs[1]!)), leaf(txs[2]!))
    assert.deepEqual(txRootOf(txs), root)
    const e = txEntry(h, 4, txs)
    assert.deepEqual(e.hash, sha(sha(sha(sha(h))), root))
    assert.deepEqual(e.txHashes, txs)
  })

  it('an entry of one hash with txs is only the mix-in', () => {
    const h = bytes32(4)
    const txs = [bytes32(20)]
    assert.deepEqual(txEntry(h, 1, txs).hash, sha(h, sha(Uint8Array.of(0), txs[0]!)))
  })

  it('tx roots follow RFC 6962 for 1 to 9 leaves (no duplicated last leaf)', () => {
    for (let n = 1; n <= 9; n++) {
      const txs = Array.from({ length: n }, (_, i) => bytes32(100 + i))
      assert.deepEqual(txRootOf(txs), rfc6962Root(txs), `${n} leaves`)
    }
    // [a, b, c] and [a, b, c, c] differ, unlike Bitcoin's tree.
    const [a, b, c] = [bytes32(1), bytes32(2), bytes32(3)]
    assert.notDeepEqual(txRootOf([a, b, c]), txRootOf([a, b, c, c]))
  })

  it('does not change the previous hash it starts from', () => {
    const h = bytes32(5)
    const copy = Uint8Array.from(h)
    nextHash(h, 10, [bytes32(6)])
    assert.deepEqual(h, copy)
  })

  it('refuses bad arguments with BAD_ARGUMENT', () => {
    for (const n of [0, -1, 1.5, Number.NaN, MAX_NUM_HASHES + 1]) {
      assert.throws(() => nextHash(ZERO, n), (e: unknown) => e instanceof PohError && e.code === 'BAD_ARGUMENT', `numHashes ${n}`)
    }
    assert.throws(() => nextHash(new Uint8Array(31), 1), (e: unknown) => e instanceof PohError && e.code === 'BAD_ARGUMENT')
    assert.throws(() => nextHash(ZERO, 1, [new Uint8Array(33)]), (e: unknown) => e instanceof PohError && e.code === 'BAD_ARGUMENT')
    assert.throws(() => txEntry(ZERO, 1, []), (e: unknown) => e instanceof PohError && e.code === 'BAD_ARGUMENT')
  })

  describe('checkEntry', () => {
    const good = { numHashes: 5, hash: bytes32(1), txHashes: [bytes32(2)] }
    const bad = (entry: unknown, maxTxs?: number) =>
      assert.throws(
        () => checkEntry(entry as never, 7, maxTxs),
        (e: unknown) => e instanceof PohError && e.code === 'BAD_ENTRY' && e.index === 7,
      )

    it('accepts a well-formed entry and a tick of the largest numHashes', () => {
      checkEntry(good, 0)
      checkEntry({ numHashes: MAX_NUM_HASHES, hash: bytes32(1), txHashes: [] }, 0)
    })

    it('refuses each malformed field with BAD_ENTRY at the given index', () => {
      bad(null)
      bad({ ...good, numHashes: 0 })
      bad({ ...good, numHashes: 2.5 })
      bad({ ...good, numHashes: '5' })
      bad({ ...good, numHashes: MAX_NUM_HASHES + 1 })
      bad({ ...good, hash: new Uint8Array(31) })
      bad({ ...good, hash: 'ab'.repeat(32) })
      bad({ ...good, txHashes: 'nope' })
      bad({ ...good, txHashes: [new Uint8Array(32), new Uint8Array(31)] })
      bad({ ...good, txHashes: [bytes32(1), bytes32(2)] }, 1)
      bad({ ...good, txHashes: Array.from({ length: MAX_ENTRY_TXS + 1 }, () => ZERO) })
    })
  })
})
