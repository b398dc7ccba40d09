/** An in-memory store with the same semantics as LevelStore; only for fast unit tests. */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { BatchOp, KeyValueStore } from './kv.ts'

export class MemoryStore implements KeyValueStore {
  private readonly map = new Map<string, Uint8Array>()

  get(key: Uint8Array): Uint8Array | undefined {
    return this.map.get(bytesToHex(key))
  }

  async batch(ops: BatchOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') this.map.set(bytesToHex(op.key), op.value)
      else this.map.delete(bytesToHex(op.key))
    }
  }

  async *entries(range: { gte: Uint8Array; lt: Uint8Array; limit?: number; reverse?: boolean }): AsyncIterable<[Uint8Array, Uint8Array]> {
    const lo = bytesToHex(range.gte)
    const hi = bytesToHex(range.lt)
    // Hex strings of equal-prefix keys sort like the bytes when lengths match; compare bytes to be exact.
    const keys = [...this.map.keys()].filter((k) => compareHex(k, lo) >= 0 && compareHex(k, hi) < 0).sort(compareHex)
    if (range.reverse) keys.reverse()
    const limited = range.limit !== undefined && range.limit >= 0 ? keys.slice(0, range.limit) : keys
    for (const k of limited) yield [hexToBytes(k as `0x${string}`), this.map.get(k)!]
  }

  async close(): Promise<void> {}

  get size(): number {
    return this.map.size
  }
}

function compareHex(a: string, b: string): number {
  // Lexicographic byte order == lexicographic order of lowercase hex digits, shorter prefix first.
  return a < b ? -1 : a > b ? 1 : 0
}
