/** LevelDB on disk through classic-level: Catena's default store. */
import { ClassicLevel } from 'classic-level'
import type { BatchOp, KeyValueStore } from './kv.ts'

export class LevelStore implements KeyValueStore {
  private constructor(private readonly db: ClassicLevel<Uint8Array, Uint8Array>) {}

  static async open(path: string): Promise<LevelStore> {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (err) {
      const cause = (err as { cause?: Error }).cause
      throw new Error(`cannot open database at ${path}: ${cause?.message ?? (err as Error).message}`)
    }
    return new LevelStore(db)
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.db.getSync(key)
  }

  async batch(ops: BatchOp[]): Promise<void> {
    if (ops.length === 0) return
    // sync: true makes the write durable before we report the block as imported.
    await this.db.batch(ops as never, { sync: true })
  }

  async *entries(range: { gte: Uint8Array; lt: Uint8Array; limit?: number; reverse?: boolean }): AsyncIterable<[Uint8Array, Uint8Array]> {
    for await (const entry of this.db.iterator({ gte: range.gte, lt: range.lt, limit: range.limit ?? -1, reverse: range.reverse ?? false })) {
      yield entry
    }
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}
