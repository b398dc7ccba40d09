/**
 * The key-value interface every Catena store implements. Reads are synchronous because
 * LevelDB's async get costs a thread round trip per key (see DEPENDENCIES.md); writes go
 * through atomic batches only, so a block import is all-or-nothing.
 */
export type BatchOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array }

export interface KeyValueStore {
  get(key: Uint8Array): Uint8Array | undefined
  /**
   * Applies every op or none of them. Once the promise resolves the batch survives a killed
   * process; with `sync` (or a store opened with syncWrites) it survives a power cut too.
   */
  batch(ops: BatchOp[], opts?: { sync?: boolean }): Promise<void>
  /** Keys in [gte, lt) in order; used for range scans (e.g. tx index by prefix). */
  entries(range: { gte: Uint8Array; lt: Uint8Array; limit?: number; reverse?: boolean }): AsyncIterable<[Uint8Array, Uint8Array]>
  close(): Promise<void>
}
