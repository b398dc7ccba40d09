/**
 * PoH votes on the wire: signing, canonical encoding, verification against a stake set, and
 * hostile votes (malformed bytes, impossible towers, bad signatures, unknown voters, slots
 * far in the future) refused with typed errors, cheapest check first.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { Tower } from '../../../../src/consensus/poh/tower.ts'
import {
  MAX_VOTE_BYTES,
  decodePohVote,
  encodePohVote,
  signPohVote,
  verifyPohVote,
  voteDigest,
} from '../../../../src/consensus/poh/vote-messages.ts'
import type { PohVote, SignedPohVote } from '../../../../src/consensus/poh/votes.ts'
import { verifySlotBlockSignature } from '../../../../src/consensus/poh/duplicate-block.ts'
import { VoteError, DuplicateBlockError } from '../../../../src/consensus/poh/voting-errors.ts'
import { CHAIN_ID, addressOf, hash, hex, keys, stakeSet, throwsCode } from './voting-fixtures.ts'

const ks = keys(3, 'vote messages')
const [alice, bob, mallory] = ks.map(addressOf)
const stakes = stakeSet([[alice, 60n], [bob, 40n]])
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

function towerVote(key: Uint8Array, slots: Array<number | bigint>): PohVote {
  const t = Tower.create(addressOf(key), 0n)
  for (const s of slots) t.recordVote(BigInt(s), hash(`block ${s}`), (x) => x < BigInt(s), 1_700_000_000n)
  return t.lastVoteMessage()!
}

function signed(key = ks[0], slots: Array<number | bigint> = [1, 2, 3, 5]): SignedPohVote {
  return signPohVote(towerVote(key, slots), key, CHAIN_ID)
}

const u = (n: bigint | number) => (BigInt(n) === 0n ? new Uint8Array() : Uint8Array.from(Buffer.from(BigInt(n).toString(16).padStart(2 * Math.ceil(BigInt(n).toString(16).length / 2), '0'), 'hex')))

/** Wire fields of a vote, to corrupt one at a time. */
function fields(v: SignedPohVote): unknown[] {
  return [v.voter, u(v.slot), v.hash, v.lockouts.map((l) => [u(l.slot), u(l.confirmationCount)]), v.root === null ? [] : [u(v.root)], u(v.timestamp), v.signature]
}

describe('poh vote messages', () => {
  test('sign, encode, decode, verify: the voter and its stake; deterministic and canonical', () => {
    const v = signed()
    const bytes = encodePohVote(v)
    assert.equal(hex(bytes), hex(encodePohVote(signed())), 'RFC 6979: the same vote, the same bytes')
    const back = decodePohVote(bytes)
    assert.equal(hex(encodePohVote(back)), hex(bytes))
    assert.deepEqual(back.lockouts, v.lockouts)
    assert.equal(back.root, 0n)
    const check = verifyPohVote(back, { chainId: CHAIN_ID, stakes, maxSlot: 10n, minSlot: 0n })
    assert.deepEqual([hex(check.voter), check.stake], [hex(alice), 60n])
    assert.ok(bytes.length < MAX_VOTE_BYTES)
  })

  test('the largest vote (32 lockouts at 8-byte slots) fits the size bound', () => {
    const v = signed(ks[0], Array.from({ length: 40 }, (_, i) => (1n << 62n) + BigInt(i)))
    assert.equal(v.lockouts.length, 32)
    assert.equal(v.root, (1n << 62n) + 7n)
    const bytes = encodePohVote(v)
    assert.ok(bytes.length < MAX_VOTE_BYTES, `${bytes.length} bytes`)
    verifyPohVote(decodePohVote(bytes), { chainId: CHAIN_ID, stakes })
  })

  test('signatures: another chain, a changed field, another signer, a high-s twin are BAD_SIGNATURE', () => {
    const v = signed()
    throwsCode(() => verifyPohVote(v, { chainId: CHAIN_ID + 1n, stakes }), VoteError, 'BAD_SIGNATURE')
    throwsCode(() => verifyPohVote({ ...v, hash: hash('another block') }, { chainId: CHAIN_ID, stakes }), VoteError, 'BAD_SIGNATURE')
    throwsCode(() => verifyPohVote({ ...v, timestamp: v.timestamp + 1n }, { chainId: CHAIN_ID, stakes }), VoteError, 'BAD_SIGNATURE')
    const byBob = signPohVote(towerVote(ks[0], [1, 2, 3, 5]), ks[1], CHAIN_ID) // claims alice, signed by bob
    throwsCode(() => verifyPohVote(byBob, { chainId: CHAIN_ID, stakes }), VoteError, 'BAD_SIGNATURE')
    const s = BigInt('0x' + hex(v.signature.subarray(32, 64)))
    const twin = Uint8Array.from(v.signature)
    twin.set(Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex'), 32)
    twin[64] ^= 1
    throwsCode(() => verifyPohVote({ ...v, signature: twin }, { chainId: CHAIN_ID, stakes }), VoteError, 'BAD_SIGNATURE')
    const junk = Uint8Array.from(v.signature)
    junk.fill(0xff, 0, 32) // r beyond the group order: nothing recovers
    throwsCode(() => verifyPohVote({ ...v, signature: junk }, { chainId: CHAIN_ID, stakes }), VoteError, 'BAD_SIGNATURE')
  })

  test('a vote signature is not a block signature (domain separation)', () => {
    const v = signed()
    const asBlock = { leader: v.voter, slot: v.slot, blockHash: v.hash, signature: v.signature }
    throwsCode(() => verifySlotBlockSignature(asBlock, CHAIN_ID), DuplicateBlockError, 'BAD_SIGNATURE')
  })

  test('unknown voters, far-future and stale slots are refused before the signature is checked', () => {
    const v = signPohVote(towerVote(ks[2], [1, 2]), ks[2], CHAIN_ID)
    throwsCode(() => verifyPohVote(v, { chainId: CHAIN_ID, stakes }), VoteError, 'UNKNOWN_VOTER')
    const forged = { ...signed(), signature: new Uint8Array(65) } // would fail recovery
    throwsCode(() => verifyPohVote({ ...forged, voter: mallory }, { chainId: CHAIN_ID, stakes }), VoteError, 'UNKNOWN_VOTER')
    throwsCode(() => verifyPohVote(forged, { chainId: CHAIN_ID, stakes, maxSlot: 4n }), VoteError, 'FUTURE_SLOT')
    throwsCode(() => verifyPohVote(forged, { chainId: CHAIN_ID, stakes, minSlot: 5n }), VoteError, 'STALE_SLOT')
    const far = signed(ks[0], [1, 1_000_000_000])
    throwsCode(() => verifyPohVote(far, { chainId: CHAIN_ID, stakes, maxSlot: 1000n }), VoteError, 'FUTURE_SLOT')
    assert.equal(new VoteError('FUTURE_SLOT', 'x').penalty, 0, 'a peer slightly ahead is not punished')
    assert.ok(new VoteError('BAD_SIGNATURE', 'x').penalty > 0)
  })

  test('malformed bytes: not RLP, wrong shape, non-canonical integers, wrong lengths, oversize', () => {
    const v = signed()
    const enc = (f: unknown[]) => RLP.encode(f as never)
    const bad: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array()],
      ['not RLP', Uint8Array.of(0xf8, 0xff)],
      ['a byte string', RLP.encode(new Uint8Array(8))],
      ['six fields', enc(fields(v).slice(0, 6))],
      ['eight fields', enc([...fields(v), new Uint8Array()])],
      ['short voter', enc(fields(v).map((f, i) => (i === 0 ? new Uint8Array(19) : f)))],
      ['slot with a leading zero', enc(fields(v).map((f, i) => (i === 1 ? Uint8Array.of(0, 5) : f)))],
      ['9-byte slot', enc(fields(v).map((f, i) => (i === 1 ? new Uint8Array(9).fill(1) : f)))],
      ['short hash', enc(fields(v).map((f, i) => (i === 2 ? new Uint8Array(31) : f)))],
      ['lockouts not a list', enc(fields(v).map((f, i) => (i === 3 ? new Uint8Array(1) : f)))],
      ['lockout of 3 items', enc(fields(v).map((f, i) => (i === 3 ? [[u(5), u(1), u(1)]] : f)))],
      ['33 lockouts', enc(fields(v).map((f, i) => (i === 3 ? Array.from({ length: 33 }, (_, j) => [u(j + 1), u(1)]) : f)))],
      ['root of two', enc(fields(v).map((f, i) => (i === 4 ? [u(0), u(0)] : f)))],
      ['root a string', enc(fields(v).map((f, i) => (i === 4 ? u(0) : f)))],
      ['64-byte signature', enc(fields(v).map((f, i) => (i === 6 ? new Uint8Array(64) : f)))],
      ['oversize', new Uint8Array(MAX_VOTE_BYTES + 1)],
    ]
    for (const [what, bytes] of bad) {
      assert.throws(() => decodePohVote(bytes), (err: unknown) => {
        assert.ok(err instanceof VoteError, `${what}: ${String(err)}`)
        assert.equal(err.code, 'MALFORMED', `${what}: ${err.message}`)
        assert.ok(err.penalty > 0)
        return true
      })
    }
    throwsCode(() => decodePohVote('junk' as never), VoteError, 'MALFORMED')
  })

  test('impossible towers are BAD_TOWER (Solana vote-program rules)', () => {
    const v = signed()
    const withTower = (lockouts: Array<[number, number]>, root: unknown[] = [], slot = v.slot) =>
      RLP.encode(fields({ ...v, slot }).map((f, i) => (i === 3 ? lockouts.map(([s, c]) => [u(s), u(c)]) : i === 4 ? root : f)) as never)
    const cases: Array<[string, Uint8Array]> = [
      ['no lockouts', withTower([])],
      ['zero confirmations', withTower([[3, 2], [5, 0]])],
      ['33 confirmations', withTower([[3, 33], [5, 1]])],
      ['slots not increasing', withTower([[5, 2], [3, 1]], [], 3n)],
      ['confirmations not decreasing', withTower([[3, 1], [5, 1]])],
      ['an expired vote under a later one', withTower([[0, 2], [5, 1]])], // 0 was locked until 4 only
      ['top vote with two confirmations', withTower([[3, 3], [5, 2]])],
      ['root not below the lockouts', withTower([[3, 2], [5, 1]], [u(3)])],
      ['voted slot not the top', withTower([[3, 2], [4, 1]])],
    ]
    for (const [what, bytes] of cases) {
      assert.throws(() => decodePohVote(bytes), (err: unknown) => {
        assert.ok(err instanceof VoteError, `${what}: ${String(err)}`)
        assert.equal(err.code, 'BAD_TOWER', `${what}: ${err.message}`)
        return true
      })
    }
    // The same rules hold when signing: a node never signs an impossible tower.
    throwsCode(() => signPohVote({ ...towerVote(ks[0], [1, 2]), lockouts: [] }, ks[0], CHAIN_ID), VoteError, 'BAD_TOWER')
  })

  test('the digest commits to every field', () => {
    const v = towerVote(ks[0], [1, 2, 3])
    const base = hex(voteDigest(v, CHAIN_ID))
    const variants: PohVote[] = [
      { ...v, voter: bob },
      { ...v, slot: v.slot + 1n, lockouts: v.lockouts.map((l, i, a) => (i === a.length - 1 ? { ...l, slot: l.slot + 1n } : l)) },
      { ...v, hash: hash('x') },
      { ...v, lockouts: v.lockouts.map((l, i) => (i === 0 ? { ...l, confirmationCount: l.confirmationCount + 1 } : l)) },
      { ...v, root: null },
      { ...v, timestamp: v.timestamp + 1n },
    ]
    for (const w of variants) assert.notEqual(hex(voteDigest(w, CHAIN_ID)), base)
  })
})
