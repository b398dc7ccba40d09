/**
 * System-contract snapshots by height: the permissions of a permissioned chain and the stakes
 * of a PoS chain. After a block, the executor reads a system contract's snapshot; the chain
 * keeps it only when it changed, in the block's atomic batch, with an index of the heights
 * (meta key) so opening the chain reloads the history in one pass. What is in force for
 * block h is the latest snapshot at or below h-1, so every node decides alike.
 *
 * The history by height describes the canonical chain only. Blocks off it keep their snapshot
 * by hash when it differs from their parent's (side blocks when stored, canonical ones when a
 * reorg disconnects them), and a reorg rewrites the heights above the fork point from the new
 * branch's blocks, in the reorg's own batch: after any branch switch the stakes in force are
 * the new branch's, as on a node that only ever saw that branch.
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToBytes, bytesToBigInt, equalsBytes } from '@ethereumjs/util'
import { keys, type BatchOp, type KeyValueStore } from '../storage/index.ts'

export type SnapshotKind = 'permissions' | 'staking'

/** The stored chain as a side branch's snapshot lookup walks it. */
export interface BranchStore {
  isCanonical(hash: Uint8Array): boolean
  heightOf(hash: Uint8Array): bigint | undefined
  parentHash(hash: Uint8Array): Uint8Array | undefined
  get(key: Uint8Array): Uint8Array | undefined
}

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

  /**
   * The store ops that keep a side block's snapshot (by hash), when it differs from the one in
   * force after its parent: none when unchanged.
   */
  sideOps(hash: Uint8Array, raw: Uint8Array, parentHash: Uint8Array, chain: BranchStore): BatchOp[] {
    const parentRaw = this.rawAfterBlock(parentHash, chain)
    if (parentRaw && equalsBytes(parentRaw, raw)) return []
    return [{ type: 'put', key: keys.blockSnapshot(this.kind, hash), value: raw }]
  }

  /**
   * The raw snapshot in force after stored block `hash` on its own branch: the history for
   * canonical blocks, else the nearest by-hash record walking back to the branch's fork point
   * (side branches are bounded by the importer's maxReorgDepth).
   */
  private rawAfterBlock(hash: Uint8Array, chain: BranchStore): Uint8Array | undefined {
    for (let at: Uint8Array | undefined = hash; at !== undefined; at = chain.parentHash(at)) {
      if (chain.isCanonical(at)) return this.rawAfter(chain.heightOf(at)!)
      const raw = chain.get(keys.blockSnapshot(this.kind, at))
      if (raw) return raw
    }
    return undefined
  }

  /** The raw snapshot after the canonical block at `height`. */
  rawAfter(height: bigint): Uint8Array | undefined {
    return this.entryAt(height)?.raw
  }

  /**
   * A branch switch at `forkHeight`: the canonical snapshots above it move to their blocks'
   * by-hash records (`disconnectedHash(height)` names the block leaving at a height), and the
   * connected blocks' by-hash records become the heights above it. The ops go into the reorg's
   * batch; adopt() once it is committed.
   */
  reorgOps(forkHeight: bigint, disconnectedHash: (height: bigint) => Uint8Array | undefined, connected: ReadonlyArray<{ hash: Uint8Array; height: bigint }>, get: (key: Uint8Array) => Uint8Array | undefined): { ops: BatchOp[]; adopt: () => void } {
    const kept = this.entries.filter((e) => e.height <= forkHeight)
    const leaving = this.entries.filter((e) => e.height > forkHeight)
    const ops: BatchOp[] = []
    for (const e of leaving) {
      const hash = disconnectedHash(e.height)
      if (hash) ops.push({ type: 'put', key: keys.blockSnapshot(this.kind, hash), value: e.raw })
      ops.push({ type: 'del', key: keys.snapshot(this.kind, e.height) })
    }
    const next = [...kept]
    for (const b of connected) {
      const raw = get(keys.blockSnapshot(this.kind, b.hash))
      if (!raw) continue
      const last = next[next.length - 1]
      if (last && equalsBytes(last.raw, raw)) continue
      next.push({ height: b.height, raw, value: this.decode(raw) })
      ops.push({ type: 'put', key: keys.snapshot(this.kind, b.height), value: raw })
    }
    if (leaving.length === 0 && next.length === kept.length) return { ops: [], adopt: () => {} }
    ops.push({ type: 'put', key: keys.meta(this.kind), value: RLP.encode(next.map((e) => (e.height === 0n ? new Uint8Array(0) : bigIntToBytes(e.height)))) })
    return {
      ops,
      adopt: () => {
        this.entries.length = 0
        this.entries.push(...next)
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
