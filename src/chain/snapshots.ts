/**
 * System-contract snapshots by height: the permissions of a permissioned chain and the stakes
 * of a PoS chain. After a block, the executor reads a system contract's snapshot; the chain
 * keeps it only when it changed, in the block's atomic batch, with an index of the heights
 * (meta key) so opening the chain reloads the history in one pass. What is in force for
 * block h is the latest snapshot at or below h-1, so every node decides alike.
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToBytes, bytesToBigInt, equalsBytes } from '@ethereumjs/util'
import { keys, type BatchOp, type KeyValueStore } from '../storage/index.ts'

export type SnapshotKind = 'permissions' | 'staking'

interface Entry<T> {
  height: bigint
  raw: Uint8Array
  value: T
}

export class SnapshotHistory<T> {
  /** By increasing height; the first is genesis. */
  private readonly entries: Entry<T>[] = []

  private constructor(
    private readonly kind: SnapshotKind,
    private readonly decode: (raw: Uint8Array) => T,
  ) {}

  /** Loads the recorded snapshots; an empty history when the chain has none of this kind. */
  static load<T>(store: KeyValueStore, kind: SnapshotKind, decode: (raw: Uint8Array) => T): SnapshotHistory<T> {
    const history = new SnapshotHistory(kind, decode)
    const index = store.get(keys.meta(kind))
    if (!index) return history
    for (const h of RLP.decode(index) as Uint8Array[]) {
      const height = bytesToBigInt(h)
      const raw = store.get(keys.snapshot(kind, height))
      if (!raw) throw new Error(`the ${kind} snapshot of block ${height} is missing from the store`)
      history.entries.push({ height, raw, value: decode(raw) })
    }
    return history
  }

  get enabled(): boolean {
    return this.entries.length > 0
  }

  /** The snapshot after block `height` (in force for block height + 1). */
  after(height: bigint): T | undefined {
    return this.entryAt(height)?.value
  }

  /** The snapshot in force for block `height` and the first block it was in force for. */
  inForce(height: bigint): { since: bigint; value: T } | undefined {
    const e = this.entryAt(height - 1n)
    return e ? { since: e.height + 1n, value: e.value } : undefined
  }

  /**
   * The store ops recording the snapshot read after block `height` (none when unchanged), and
   * the function that adopts it once those ops are committed.
   */
  record(height: bigint, raw: Uint8Array): { ops: BatchOp[]; adopt: () => void } {
    const previous = this.entryAt(height - 1n)
    if (previous && equalsBytes(previous.raw, raw)) return { ops: [], adopt: () => {} }
    const value = this.decode(raw)
    const heights = [...this.entries.map((e) => e.height).filter((h) => h < height), height]
    return {
      ops: [
        { type: 'put', key: keys.snapshot(this.kind, height), value: raw },
        { type: 'put', key: keys.meta(this.kind), value: RLP.encode(heights.map((h) => (h === 0n ? new Uint8Array(0) : bigIntToBytes(h)))) },
      ],
      adopt: () => {
        while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.height >= height) this.entries.pop()
        this.entries.push({ height, raw, value })
      },
    }
  }

  private entryAt(height: bigint): Entry<T> | undefined {
    let lo = 0
    let hi = this.entries.length - 1
    let found: Entry<T> | undefined
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const e = this.entries[mid]!
      if (e.height <= height) {
        found = e
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }
}
