import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compileLogFilter, matchesLogFilter, parseData, parseLogFilter } from '../../../src/api/rpc/index.ts'

const A = '0x' + 'aa'.repeat(20)
const B = '0x' + 'bb'.repeat(20)
const t = (n: number) => '0x' + n.toString(16).padStart(2, '0').repeat(32)
const log = (address: string, ...topics: string[]) => ({ address, topics })

describe('matchesLogFilter', () => {
  test('empty filter matches every log, with or without topics', () => {
    assert.ok(matchesLogFilter(log(A), {}))
    assert.ok(matchesLogFilter(log(B, t(1), t(2)), { addresses: [], topics: [] }))
  })

  test('address: any of the listed, case-insensitive, bytes or hex', () => {
    assert.ok(matchesLogFilter(log(A, t(1)), { addresses: [A] }))
    assert.ok(matchesLogFilter(log(A.toUpperCase().replace('0X', '0x')), { addresses: [B, A] }))
    assert.ok(matchesLogFilter(log(A), { addresses: [parseData(A, 'a')] }))
    assert.ok(matchesLogFilter({ address: parseData(A, 'a'), topics: [] }, { addresses: [A] }))
    assert.ok(!matchesLogFilter(log(A), { addresses: [B] }))
  })

  test('topics are position-wise; null is a wildcard; a list is an OR', () => {
    const l = log(A, t(1), t(2), t(3))
    assert.ok(matchesLogFilter(l, { topics: [[t(1)]] }))
    assert.ok(!matchesLogFilter(l, { topics: [[t(2)]] }), 'topic in the wrong position')
    assert.ok(matchesLogFilter(l, { topics: [null, [t(2)]] }))
    assert.ok(matchesLogFilter(l, { topics: [[t(9), t(1)], null, [t(3), t(8)]] }))
    assert.ok(!matchesLogFilter(l, { topics: [[t(9), t(1)], null, [t(4), t(8)]] }))
    assert.ok(matchesLogFilter(l, { topics: [[], [], []] }), 'empty list = wildcard')
    assert.ok(matchesLogFilter(l, { topics: [null, null, null] }))
  })

  test('more filter positions than log topics never match (geth), even wildcards', () => {
    assert.ok(!matchesLogFilter(log(A, t(1)), { topics: [[t(1)], [t(2)]] }))
    assert.ok(!matchesLogFilter(log(A, t(1)), { topics: [null, null] }))
    assert.ok(!matchesLogFilter(log(A), { topics: [null] }))
  })

  test('address and topics must both hold', () => {
    const l = log(A, t(1))
    assert.ok(matchesLogFilter(l, { addresses: [A], topics: [[t(1)]] }))
    assert.ok(!matchesLogFilter(l, { addresses: [B], topics: [[t(1)]] }))
    assert.ok(!matchesLogFilter(l, { addresses: [A], topics: [[t(2)]] }))
  })

  test('compiled filters and parsed eth_getLogs filters give the same answers', () => {
    const raw = { address: [A], topics: [[t(1), t(5)], null, t(3)] }
    const parsed = parseLogFilter(raw)
    const compiled = compileLogFilter(parsed)
    const logs = [log(A, t(1), t(2), t(3)), log(A, t(5), t(9), t(3), t(4)), log(A, t(1), t(2)), log(B, t(1), t(2), t(3)), log(A, t(2), t(2), t(3))]
    const want = [true, true, false, false, false]
    assert.deepEqual(logs.map((l) => matchesLogFilter(l, parsed)), want)
    assert.deepEqual(logs.map((l) => matchesLogFilter(l, compiled)), want)
  })
})
