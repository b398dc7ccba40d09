import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RLP } from '@ethereumjs/rlp'
import { concatBytes } from '@ethereumjs/util'
import { decodePohEntries, encodePohEntries, MAX_NUM_HASHES, PohError, type PohEntry, type PohErrorCode } from '../../../../src/consensus/poh/index.ts'
import { buildChain, bytes32, slotSteps } from './helpers.ts'

function rejects(fn: () => unknown, code: PohErrorCode, index?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PohError, `expected a PohError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    if (index !== undefined) assert.equal(e.index, index)
    return true
  })
}

const H = bytes32(9)

describe('PoH entry encoding', () => {
  it('encodes [[numHashes, hash, [txHash...]]] as canonical RLP, byte for byte', () => {
    // One tick of 1 hash: outer list (0xe4, 36 bytes) of entry list (0xe3, 35 bytes):
    // 0x01, 0xa0 + 32-byte hash, 0xc0 (empty tx list).
    const bytes = encodePohEntries([{ numHashes: 1, hash: H, txHashes: [] }])
    assert.deepEqual(bytes, concatBytes(Uint8Array.of(0xe4, 0xe3, 0x01, 0xa0), H, Uint8Array.of(0xc0)))
  })

  it('round-trips a slot of ticks and tx entries, and numHashes at the byte boundaries', () => {
    const entries = buildChain(bytes32(1), slotSteps(12, 50, 3))
    assert.deepEqual(decodePohEntries(encodePohEntries(entries)), entries)
    for (const n of [1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 24, MAX_NUM_HASHES]) {
      const e: PohEntry[] = [{ numHashes: n, hash: H, txHashes: [bytes32(2), bytes32(3)] }]
      assert.deepEqual(decodePohEntries(encodePohEntries(e)), e, `numHashes ${n}`)
    }
    assert.deepEqual(decodePohEntries(encodePohEntries([])), [])
  })

  it('decoded entries own their bytes', () => {
    const bytes = encodePohEntries([{ numHashes: 3, hash: H, txHashes: [bytes32(4)] }])
    const [e] = decodePohEntries(bytes)
    bytes.fill(0)
    assert.deepEqual(e!.hash, H)
    assert.deepEqual(e!.txHashes[0], bytes32(4))
  })

  it('refuses to encode a malformed entry (BAD_ENTRY at its index)', () => {
    rejects(() => encodePohEntries([{ numHashes: 1, hash: H, txHashes: [] }, { numHashes: 0, hash: H, txHashes: [] }]), 'BAD_ENTRY', 1)
  })

  describe('refuses non-canonical or malformed encodings', () => {
    const entry = (n: Uint8Array, h: Uint8Array = H, txs: Uint8Array[] = []) => [n, h, txs]
    const cases: [string, Uint8Array, PohErrorCode, number?][] = [
      ['not RLP', Uint8Array.of(0xff, 0x00), 'BAD_ENCODING'],
      ['trailing bytes', concatBytes(RLP.encode([entry(Uint8Array.of(1))]), Uint8Array.of(0)), 'BAD_ENCODING'],
      ['a byte string, not a list', RLP.encode(Uint8Array.of(1, 2)), 'BAD_ENCODING'],
      ['numHashes with a leading zero', RLP.encode([entry(Uint8Array.of(1)), entry(Uint8Array.of(0, 5))]), 'BAD_ENCODING', 1],
      ['numHashes zero (empty)', RLP.encode([entry(new Uint8Array(0))]), 'BAD_ENCODING', 0],
      ['numHashes of 5 bytes', RLP.encode([entry(Uint8Array.of(1, 0, 0, 0, 0))]), 'BAD_ENCODING', 0],
      ['a 31-byte hash', RLP.encode([entry(Uint8Array.of(1), new Uint8Array(31))]), 'BAD_ENCODING', 0],
      ['a 33-byte tx hash', RLP.encode([entry(Uint8Array.of(1), H, [new Uint8Array(33)])]), 'BAD_ENCODING', 0],
      ['a tx hash that is a list', RLP.encode([[Uint8Array.of(1), H, [[H]]]]), 'BAD_ENCODING', 0],
      ['an entry of 2 fields', RLP.encode([[Uint8Array.of(1), H]]), 'BAD_ENCODING', 0],
      ['an entry of 4 fields', RLP.encode([[Uint8Array.of(1), H, [], Uint8Array.of(0)]]), 'BAD_ENCODING', 0],
      ['txs that are a byte string', RLP.encode([[Uint8Array.of(1), H, H]]), 'BAD_ENCODING', 0],
      // numHashes 5 written 0x81 0x05 instead of 0x05 (inner list 36 bytes: 0xe4; outer 37: 0xe5).
      ['a single byte with a needless prefix', concatBytes(Uint8Array.of(0xe5, 0xe4, 0x81, 0x05, 0xa0), H, Uint8Array.of(0xc0)), 'BAD_ENCODING'],
    ]
    for (const [name, bytes, code, index] of cases) it(name, () => rejects(() => decodePohEntries(bytes), code, index))
  })

  it('checks the byte length before decoding, then the counts before copying anything', () => {
    const entries = buildChain(bytes32(1), [{ numHashes: 2, txs: 3 }, { numHashes: 2 }, { numHashes: 2, txs: 2 }])
    const bytes = encodePohEntries(entries)
    rejects(() => decodePohEntries(bytes, { maxBytes: bytes.length - 1 }), 'TOO_LARGE')
    // Garbage over the byte limit is refused by its length alone, not as bad RLP.
    rejects(() => decodePohEntries(new Uint8Array(100).fill(0xff), { maxBytes: 99 }), 'TOO_LARGE')
    rejects(() => decodePohEntries(bytes, { maxEntries: 2 }), 'TOO_MANY_ENTRIES')
    rejects(() => decodePohEntries(bytes, { maxTxs: 4 }), 'TOO_MANY_TXS')
    rejects(() => decodePohEntries(bytes, { maxTxsPerEntry: 2 }), 'TOO_MANY_TXS', 0)
    assert.equal(decodePohEntries(bytes, { maxBytes: bytes.length, maxEntries: 3, maxTxs: 5, maxTxsPerEntry: 3 }).length, 3)
  })
})
