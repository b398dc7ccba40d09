/**
 * The indexed heap behind eviction and ordering, against a sorted-array model.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { IndexedHeap } from '../../../src/mempool/heap.ts'
import { prng } from './helpers.ts'

interface Item {
  key: number
  id: number
}

const order = (a: Item, b: Item) => a.key - b.key || a.id - b.id

describe('IndexedHeap', () => {
  test('push, pop, remove and update against a model', () => {
    const rand = prng(7)
    const heap = new IndexedHeap<Item>(order)
    const model: Item[] = []
    for (let step = 0; step < 5000; step++) {
      const r = rand()
      if (r < 0.45 || model.length === 0) {
        const item = { key: Math.floor(rand() * 100), id: step }
        heap.push(item)
        model.push(item)
      } else if (r < 0.65) {
        model.sort(order)
        assert.equal(heap.pop(), model.shift())
      } else if (r < 0.85) {
        const item = model.splice(Math.floor(rand() * model.length), 1)[0] as Item
        assert.equal(heap.remove(item), true)
        assert.equal(heap.remove(item), false)
      } else {
        const item = model[Math.floor(rand() * model.length)] as Item
        item.key = Math.floor(rand() * 100)
        heap.update(item)
      }
      assert.equal(heap.size, model.length)
      model.sort(order)
      assert.equal(heap.peek(), model[0])
    }
  })

  test('findMin skips items without changing the heap', () => {
    const rand = prng(11)
    const heap = new IndexedHeap<Item>(order)
    const items = Array.from({ length: 300 }, (_, id) => ({ key: Math.floor(rand() * 50), id }))
    for (const item of items) heap.push(item)
    const sorted = [...items].sort(order)
    for (const mod of [2, 3, 7]) {
      const skip = (x: Item) => x.id % mod !== 0
      assert.equal(heap.findMin(skip), sorted.find((x) => !skip(x)))
    }
    assert.equal(heap.findMin(() => true), undefined)
    // Still a heap with every item.
    const drained: Item[] = []
    for (let x = heap.pop(); x !== undefined; x = heap.pop()) drained.push(x)
    assert.deepEqual(drained, sorted)
  })

  test('refuses the same item twice', () => {
    const heap = new IndexedHeap<Item>(order)
    const item = { key: 1, id: 1 }
    heap.push(item)
    assert.throws(() => heap.push(item), /already in heap/)
  })
})
