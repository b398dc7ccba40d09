/**
 * Block locators and the headersByLocator wire format: a locator names the head, the last ten
 * blocks one by one, then doubling steps, and genesis, in at most 64 hashes; the server's
 * answer starts after the first of them on its chain. Malformed requests and answers are
 * refused with a typed error before anything is used.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import { blockLocator, locate } from '../../../src/sync/locator.ts'
import { MAX_HEADERS, MAX_LOCATOR, WireError, decodeHeaderList, decodeHeaderRequest, encodeHeaderList, encodeHeaderRequest } from '../../../src/sync/wire.ts'
import { openTestChain, produceBlock } from '../../helpers/chain.ts'

describe('block locator', () => {
  test('head first, ten one by one, then doubling steps, genesis last; the first known hash is found', async () => {
    const t = await openTestChain()
    for (let i = 0; i < 300; i++) await produceBlock(t, [])
    const locator = blockLocator(t.chain)
    const heights = locator.map((h) => t.chain.getHeightOf(h)!)
    assert.deepEqual(heights.slice(0, 12), [300n, 299n, 298n, 297n, 296n, 295n, 294n, 293n, 292n, 291n, 289n, 285n])
    assert.equal(heights.at(-1), 0n)
    assert.ok(locator.length <= MAX_LOCATOR)
    for (let i = 1; i < heights.length; i++) assert.ok(heights[i]! < heights[i - 1]!)
    // An unknown hash first: the next known one decides.
    assert.equal(locate(t.chain, [new Uint8Array(32).fill(1), locator[5]!]), 295n)
    assert.equal(locate(t.chain, [new Uint8Array(32).fill(1)]), undefined)
    assert.deepEqual(blockLocator((await openTestChain()).chain).map(bytesToHex), [bytesToHex(t.chain.genesisHash)], 'at genesis: genesis only')
  })

  test('header requests and answers round-trip; malformed ones are refused', () => {
    const hash = new Uint8Array(32).fill(7)
    assert.deepEqual(decodeHeaderRequest(encodeHeaderRequest({ locator: [hash, hash], max: 1024 })), { locator: [hash, hash], max: 1024 })
    const refused = (bytes: Uint8Array, pattern: RegExp) => assert.throws(() => decodeHeaderRequest(bytes), (err) => err instanceof WireError && pattern.test(err.message))
    refused(RLP.encode([[], Uint8Array.of(1)]), /1\.\.64 hashes, got 0/)
    refused(RLP.encode([Array(MAX_LOCATOR + 1).fill(hash), Uint8Array.of(1)]), /got 65/)
    refused(RLP.encode([[new Uint8Array(31)], Uint8Array.of(1)]), /32-byte hashes/)
    refused(RLP.encode([[hash], new Uint8Array(0)]), /max must be 1\.\.1024, got 0/)
    refused(encodeHeaderRequest({ locator: [hash], max: MAX_HEADERS + 1 }), /got 1025/)
    refused(RLP.encode([[hash], Uint8Array.of(1, 2, 3, 4, 5)]), /RLP \[\[hash/)
    refused(Uint8Array.of(0xff), /not valid RLP/)
    const headers = [Uint8Array.of(1), Uint8Array.of(2)]
    assert.deepEqual(decodeHeaderList(encodeHeaderList(headers)), headers)
    assert.throws(() => decodeHeaderList(encodeHeaderList(headers), 1), /holds 2 headers, asked for at most 1/)
    assert.throws(() => decodeHeaderList(RLP.encode([[Uint8Array.of(1)]])), /encoded headers/)
  })
})
