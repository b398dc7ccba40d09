/**
 * A binary min-heap that knows where each item sits, so any item can be removed or re-keyed in
 * O(log n) (the pool evicts and re-prices arbitrary txs, not only the minimum).
 * @module
 */

export class IndexedHeap<T> {
  private readonly items: T[] = []
  private readonly index = new Map<T, number>()

  /** `less(a, b)` < 0 when `a` comes out first. */
  constructor(private readonly less: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length
  }

  has(item: T): boolean {
    return this.index.has(item)
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    if (this.index.has(item)) throw new Error('item already in heap')
    this.items.push(item)
    this.index.set(item, this.items.length - 1)
    this.up(this.items.length - 1)
  }

  pop(): T | undefined {
    const top = this.items[0]
    if (top !== undefined) this.remove(top)
    return top
  }

  /** Removes `item` if present; returns whether it was. */
  remove(item: T): boolean {
    const i = this.index.get(item)
    if (i === undefined) return false
    this.index.delete(item)
    const last = this.items.pop() as T
    if (i < this.items.length) {
      this.items[i] = last
      this.index.set(last, i)
      this.down(i)
      this.up(this.index.get(last) as number)
    }
    return true
  }

  /** Restores order after `item`'s key changed. */
  update(item: T): void {
    const i = this.index.get(item)
    if (i === undefined) return
    this.down(i)
    this.up(this.index.get(item) as number)
  }

  /**
   * The smallest item not rejected by `skip`, without changing the heap: a best-first walk
   * down the tree that only descends below skipped items, so it costs O(s log s) for s skips.
   */
  findMin(skip: (item: T) => boolean): T | undefined {
    const frontier = new IndexedHeap<number>((a, b) => this.less(this.items[a] as T, this.items[b] as T))
    if (this.items.length > 0) frontier.push(0)
    for (let i = frontier.pop(); i !== undefined; i = frontier.pop()) {
      const item = this.items[i] as T
      if (!skip(item)) return item
      for (const c of [2 * i + 1, 2 * i + 2]) if (c < this.items.length) frontier.push(c)
    }
    return undefined
  }

  *[Symbol.iterator](): IterableIterator<T> {
    yield* this.items
  }

  private up(i: number): void {
    const items = this.items
    const item = items[i] as T
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = items[p] as T
      if (this.less(item, parent) >= 0) break
      items[i] = parent
      this.index.set(parent, i)
      i = p
    }
    items[i] = item
    this.index.set(item, i)
  }

  private down(i: number): void {
    const items = this.items
    const n = items.length
    const item = items[i] as T
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.less(items[r] as T, items[l] as T) < 0 ? r : l
      const child = items[c] as T
      if (this.less(child, item) >= 0) break
      items[i] = child
      this.index.set(child, i)
      i = c
    }
    items[i] = item
    this.index.set(item, i)
  }
}
