/**
 * REST pagination cursors: opaque base64url tokens that round-trip a list position, tied to
 * the list they came from; anything else (junk, another list's cursor, a tampered or
 * non-canonical token, out-of-range numbers) is a 400 BAD_REQUEST.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { cursorInt, decodeCursor, decodeHeight, decodePosition, encodeCursor, encodePosition } from '../../../src/api/rest/cursor.ts'
import { RestError } from '../../../src/api/rest/errors.ts'

const isBadRequest = (err: unknown) => err instanceof RestError && err.code === 'BAD_REQUEST' && err.statusCode === 400 && /invalid cursor/.test(err.message)

describe('REST cursors', () => {
  test('positions and heights round-trip and the token is url-safe', () => {
    const c = encodePosition('txs', { height: 123_456_789n, index: 7 })
    assert.match(c, /^[A-Za-z0-9_-]+$/)
    assert.deepEqual(decodePosition('txs', c), { height: 123_456_789, index: 7 })
    assert.equal(decodeHeight('blocks', encodeCursor('blocks', [0])), 0)
    assert.equal(decodeHeight('blocks', encodeCursor('blocks', [Number.MAX_SAFE_INTEGER])), Number.MAX_SAFE_INTEGER)
    assert.deepEqual(decodeCursor('mempool', encodeCursor('mempool', [1700000000000, 'ab'.repeat(32)]), 2), ['1700000000000', 'ab'.repeat(32)])
  })

  test('absent cursors mean the first page', () => {
    assert.equal(decodePosition('txs', undefined), undefined)
    assert.equal(decodeHeight('blocks', undefined), undefined)
  })

  test('a cursor of another list is refused', () => {
    const blocks = encodeCursor('blocks', [5])
    assert.throws(() => decodeHeight('account-txs', blocks), isBadRequest)
    assert.throws(() => decodePosition('txs', encodePosition('account-txs', { height: 1, index: 0 })), isBadRequest)
  })

  test('junk, tampering and wrong arity are refused', () => {
    for (const bad of ['', 'zzz', '!!!', 'a'.repeat(300), Buffer.from('blocks:1:2').toString('base64url'), Buffer.from('blocks:-1').toString('base64url'), Buffer.from('blocks:1.5').toString('base64url'), Buffer.from('blocks:01').toString('base64url'), Buffer.from('blocks:99999999999999999').toString('base64url')]) {
      assert.throws(() => decodeHeight('blocks', bad), isBadRequest, `cursor ${JSON.stringify(bad)}`)
    }
    // Padding or stray characters that base64url decoding would silently ignore.
    const good = encodeCursor('blocks', [42])
    assert.throws(() => decodeHeight('blocks', `${good}=`), isBadRequest)
    assert.throws(() => decodeHeight('blocks', `${good.slice(0, -1)}-`), isBadRequest)
    assert.throws(() => cursorInt('1e3', good), isBadRequest)
  })
})
