/**
 * The permissions in force on a permissioned chain, height by height. The permissions
 * contract (src/contracts/permissions.ts) is the source of truth; after every block the
 * executor reads its snapshot() and the chain keeps the snapshot whenever its version
 * changed, in the block's atomic batch. Permissions in force for block h are those after
 * block h-1, so every node decides the same way without re-running anything.
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToBytes, bytesToBigInt, bytesToHex } from '@ethereumjs/util'
import { decodeSnapshot, type PermissionsSnapshot } from '../contracts/index.ts'
import { keys, type BatchOp, type KeyValueStore } from '../storage/index.ts'

/** One snapshot with fast lookups. */
export class Permissions {
  private readonly admins: Set<string>
  private readonly accounts: Set<string>
  private readonly nodes: Set<string>

  constructor(readonly snapshot: PermissionsSnapshot) {
    this.admins = new Set(snapshot.admins.map((a) => bytesToHex(a)))
    this.accounts = new Set(snapshot.accounts.map((a) => bytesToHex(a)))
    this.nodes = new Set(snapshot.nodes)
  }

  get version(): bigint {
    return this.snapshot.version
  }

  /** Admins may always send; others when accounts are unrestricted or listed (as the contract's isAllowedAccount). */
  allowsAccount(address: Uint8Array): boolean {
    if (!this.snapshot.accountsRestricted) return true
    const key = bytesToHex(address)
    return this.admins.has(key) || this.accounts.has(key)
  }

  allowsNode(peerId: string): boolean {
    return !this.snapshot.nodesRestricted || this.nodes.has(peerId)
  }

  get nodesRestricted(): boolean {
    return this.snapshot.nodesRestricted
  }

  get validators(): PermissionsSnapshot['validators'] {
    return this.snapshot.validators
  }
}

interface Change {
  height: bigint
  permissions: Permissions
}

export class PermissionsHistory {
  /** By increasing height; the first is genesis. */
  private readonly changes: Change[] = []

  private constructor() {}

  /** Loads the recorded changes; an empty history when the chain has no permissions. */
  static load(store: KeyValueStore): PermissionsHistory {
    const history = new PermissionsHistory()
    const index = store.get(keys.meta('permissions'))
    if (!index) return history
    for (const h of RLP.decode(index) as Uint8Array[]) {
      const height = bytesToBigInt(h)
      const raw = store.get(keys.permissions(height))
      if (!raw) throw new Error(`the permissions snapshot of block ${height} is missing from the store`)
      history.changes.push({ height, permissions: new Permissions(decodeSnapshot(raw)) })
    }
    return history
  }

  get enabled(): boolean {
    return this.changes.length > 0
  }

  /** The permissions after block `height` (in force for block height + 1). */
  after(height: bigint): Permissions | undefined {
    return this.changeAt(height)?.permissions
  }

  /** The permissions in force for block `height` and the first block they were in force for. */
  inForce(height: bigint): { since: bigint; permissions: Permissions } | undefined {
    const c = this.changeAt(height - 1n)
    return c ? { since: c.height + 1n, permissions: c.permissions } : undefined
  }

  private changeAt(height: bigint): Change | undefined {
    let lo = 0
    let hi = this.changes.length - 1
    let found: Change | undefined
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const c = this.changes[mid]!
      if (c.height <= height) {
        found = c
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }

  /**
   * The store ops recording the snapshot read after block `height` (none when unchanged),
   * and the function that adopts it once those ops are committed.
   */
  record(height: bigint, returnData: Uint8Array): { ops: BatchOp[]; adopt: () => void } {
    const permissions = new Permissions(decodeSnapshot(returnData))
    const previous = this.after(height - 1n)
    if (previous && previous.version === permissions.version) return { ops: [], adopt: () => {} }
    const heights = [...this.changes.map((c) => c.height).filter((h) => h < height), height]
    return {
      ops: [
        { type: 'put', key: keys.permissions(height), value: returnData },
        { type: 'put', key: keys.meta('permissions'), value: RLP.encode(heights.map((h) => (h === 0n ? new Uint8Array(0) : bigIntToBytes(h)))) },
      ],
      adopt: () => {
        while (this.changes.length > 0 && this.changes[this.changes.length - 1]!.height >= height) this.changes.pop()
        this.changes.push({ height, permissions })
      },
    }
  }
}
