import { test } from 'node:test'
import assert from 'node:assert/strict'
import { evictOldest } from '../../../src/state/evict.ts'

test('evictOldest keeps a map within its limit, dropping the oldest tenth at once', () => {
  const m = new Map<number, number>()
  for (let i = 0; i < 100; i++) m.set(i, i)
  evictOldest(m, 100)
  assert.equal(m.size, 100, 'at the limit: nothing to do')
  m.set(100, 100)
  evictOldest(m, 100)
  assert.equal(m.size, 90)
  assert.equal(m.has(10), false)
  assert.equal(m.has(11), true, 'the oldest entries went first')
  assert.equal(m.has(100), true)
})
