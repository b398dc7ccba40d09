/**
 * The status message and the response envelope: round trips, and every malformed input
 * refused with a typed error carrying the sender's penalty.
 */
import '../../../src/net/polyfill.ts'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import {
  NetError,
  PENALTY,
  chainMismatch,
  decodeStatus,
  encodeStatus,
  type ChainStatus,
} from '../../../src/net/index.ts'
import { decodeErrorText, decodeResponse, encodeErrorText, encodeResponse, MAX_ERROR_TEXT_BYTES } from '../../../src/net/codec.ts'
import { decodePeers, encodePeers, MAX_ADDRS_PER_PEER, MAX_SHARED_PEERS } from '../../../src/net/discovery.ts'
import { multiaddr } from '@multiformats/multiaddr'

const status: ChainStatus = {
  chainId: 1337n,
  genesisHash: new Uint8Array(32).fill(7),
  headHeight: 123456n,
  headHash: new Uint8Array(32).fill(9),
}

function malformed(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof NetError)
    assert.equal(err.code, 'MALFORMED')
    assert.equal(err.penalty, PENALTY.malformed)
    assert.match(err.message, pattern)
    return true
  }
}

describe('status message', () => {
  test('round trips, including height 0 and a 256-bit chain id', () => {
    assert.deepEqual(decodeStatus(encodeStatus(status)), status)
    const edge = { ...status, headHeight: 0n, chainId: 2n ** 256n - 1n }
    assert.deepEqual(decodeStatus(encodeStatus(edge)), edge)
    // The RLP list [0x0539, genesis, 0x01e240, head]: canonical integers, no padding (73 bytes).
    assert.equal(
      Buffer.from(encodeStatus(status)).toString('hex'),
      `f849820539a0${'07'.repeat(32)}8301e240a0${'09'.repeat(32)}`,
    )
  })

  test('carries the total work of the head as a fifth field (a status without it claims none)', () => {
    const withWork = { ...status, totalWork: 2n ** 200n + 5n }
    assert.deepEqual(decodeStatus(encodeStatus(withWork)), withWork)
    assert.deepEqual(decodeStatus(encodeStatus({ ...status, totalWork: 0n })), { ...status, totalWork: 0n })
    assert.equal(decodeStatus(encodeStatus(status)).totalWork, undefined)
    const fields = [Uint8Array.of(0x05, 0x39), status.genesisHash, Uint8Array.of(1), status.headHash]
    assert.throws(() => decodeStatus(RLP.encode([...fields, new Uint8Array(33).fill(1)])), malformed(/total work is longer than 32 bytes/))
    assert.throws(() => decodeStatus(RLP.encode([...fields, Uint8Array.of(0, 1)])), malformed(/total work has a leading zero/))
    assert.throws(() => decodeStatus(RLP.encode([...fields, Uint8Array.of(1), Uint8Array.of(1)])), malformed(/list of 4 or 5 fields/))
  })

  test('malformed statuses are refused with the reason', () => {
    const fields = (over: Partial<Record<number, Uint8Array | Uint8Array[]>>) => {
      const base: Array<Uint8Array | Uint8Array[]> = [Uint8Array.of(0x05, 0x39), status.genesisHash, Uint8Array.of(1), status.headHash]
      for (const [i, v] of Object.entries(over)) base[Number(i)] = v!
      return RLP.encode(base)
    }
    assert.throws(() => decodeStatus(Uint8Array.of(0xff, 0x00)), malformed(/not RLP/))
    assert.throws(() => decodeStatus(new Uint8Array()), malformed(/malformed status/))
    assert.throws(() => decodeStatus(RLP.encode([Uint8Array.of(1)])), malformed(/list of 4 or 5 fields/))
    assert.throws(() => decodeStatus(RLP.encode(Uint8Array.of(1, 2))), malformed(/list of 4 or 5 fields/))
    assert.throws(() => decodeStatus(fields({ 0: Uint8Array.of(0, 1) })), malformed(/chain id has a leading zero/))
    assert.throws(() => decodeStatus(fields({ 0: new Uint8Array(33).fill(1) })), malformed(/chain id is longer than 32 bytes/))
    assert.throws(() => decodeStatus(fields({ 1: new Uint8Array(31) })), malformed(/genesis hash is not 32 bytes/))
    assert.throws(() => decodeStatus(fields({ 2: new Uint8Array(9).fill(1) })), malformed(/head height is longer than 8 bytes/))
    assert.throws(() => decodeStatus(fields({ 3: [new Uint8Array(32)] })), malformed(/head hash is not 32 bytes/))
    // Trailing bytes after the list.
    assert.throws(() => decodeStatus(Uint8Array.from([...encodeStatus(status), 0])), malformed(/not RLP/))
  })

  test('chain mismatch names what differs', () => {
    assert.equal(chainMismatch(status, { ...status, headHeight: 1n }), undefined)
    assert.equal(chainMismatch(status, { ...status, chainId: 1n }), 'chain id 1 (ours 1337)')
    assert.equal(
      chainMismatch(status, { ...status, genesisHash: new Uint8Array(32).fill(1) }),
      `genesis 0x${'01'.repeat(32)} (ours 0x${'07'.repeat(32)})`,
    )
  })

  test('across a chain-id fork, peers agree while both are before it and part once either passes it', () => {
    const FORK = 100n
    const forked = (h: bigint) => (h >= FORK ? 1342n : 1337n) // adopted the fork
    const unforked = () => 1337n
    const at = (height: bigint, chainId: bigint) => ({ ...status, headHeight: height, chainId })
    // Both well before the fork: compatible either way.
    assert.equal(chainMismatch(at(50n, 1337n), at(50n, 1337n), forked), undefined)
    assert.equal(chainMismatch(at(50n, 1337n), at(50n, 1337n), unforked), undefined)
    // The forked node passed the fork (it announces 1342): the old node refuses it...
    assert.match(chainMismatch(at(50n, 1337n), at(120n, 1342n), unforked)!, /chain id 1342 after height 120 \(our fork schedule says 1337 there\)/)
    // ...and the forked node refuses an old node that went past the fork height without it.
    assert.match(chainMismatch(at(120n, 1342n), at(120n, 1337n), forked)!, /chain id 1337 after height 120/)
    // A forked node still serves a forked node syncing from far behind, and the reverse.
    assert.equal(chainMismatch(at(120n, 1342n), at(0n, 1337n), forked), undefined)
    assert.equal(chainMismatch(at(0n, 1337n), at(120n, 1342n), forked), undefined)
  })
})

describe('response envelope', () => {
  test('status byte then payload', () => {
    const frame = encodeResponse('ok', Uint8Array.of(1, 2))
    assert.deepEqual(frame, Uint8Array.of(0, 1, 2))
    assert.deepEqual(decodeResponse(frame, 'x'), { status: 'ok', payload: Uint8Array.of(1, 2) })
    assert.equal(decodeResponse(encodeResponse('resourceUnavailable', new Uint8Array()), 'x').status, 'resourceUnavailable')
    assert.throws(() => decodeResponse(new Uint8Array(), 'blocks response'), malformed(/blocks response: an empty response/))
    assert.throws(() => decodeResponse(Uint8Array.of(9), 'x'), malformed(/unknown response status 9/))
  })

  test('error texts are short and printable', () => {
    assert.equal(encodeErrorText('x'.repeat(1000)).length, MAX_ERROR_TEXT_BYTES)
    assert.equal(decodeErrorText(new TextEncoder().encode('bad\nrange\u0007')), 'bad range')
    assert.equal(decodeErrorText(Uint8Array.of(0xff, 0x41)), '\ufffdA')
  })
})

describe('peers answer (peer exchange)', () => {
  const id = '12D3KooWDDMcX9EB6v4x2Jb1KQhqq7JNMHwgpoAAEWk3zB3LSjdc'
  const addr = multiaddr('/ip4/10.1.2.3/tcp/30333')

  test('round trips', () => {
    const decoded = decodePeers(encodePeers([{ peerId: id, addrs: [addr] }]))
    assert.equal(decoded.length, 1)
    assert.equal(decoded[0]!.peerId, id)
    assert.equal(decoded[0]!.addrs[0]!.toString(), '/ip4/10.1.2.3/tcp/30333')
    assert.deepEqual(decodePeers(encodePeers([])), [])
  })

  test('malformed answers are refused with the penalty', () => {
    const utf8 = (x: string) => new TextEncoder().encode(x)
    assert.throws(() => decodePeers(Uint8Array.of(0xff)), malformed(/peers answer: not RLP/))
    assert.throws(() => decodePeers(RLP.encode(utf8('x'))), malformed(/at most 16 peers/))
    assert.throws(
      () => decodePeers(RLP.encode(Array.from({ length: MAX_SHARED_PEERS + 1 }, () => [utf8(id), [addr.bytes]]))),
      malformed(/at most 16 peers/),
    )
    assert.throws(() => decodePeers(RLP.encode([[utf8(id)]])), malformed(/\[peer id, \[addresses\]\]/))
    assert.throws(() => decodePeers(RLP.encode([[utf8('not-a-peer'), [addr.bytes]]])), malformed(/peers answer/))
    assert.throws(() => decodePeers(RLP.encode([[utf8(id), [Uint8Array.of(0xff, 0xff)]]])), malformed(/peers answer/))
    assert.throws(
      () => decodePeers(RLP.encode([[utf8(id), Array.from({ length: MAX_ADDRS_PER_PEER + 1 }, () => addr.bytes)]])),
      malformed(/more than 8 addresses/),
    )
  })
})
