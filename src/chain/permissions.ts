/**
 * The permissions of a permissioned chain: the permissions contract's snapshot()
 * (src/contracts/permissions.ts) with fast lookups. The chain keeps them by height in a
 * SnapshotHistory (snapshots.ts): what is in force for block h is the snapshot after h-1.
 */
import { bytesToHex } from '@ethereumjs/util'
import { decodeSnapshot, type PermissionsSnapshot } from '../contracts/index.ts'
import type { KeyValueStore } from '../storage/index.ts'
import { SnapshotHistory } from './snapshots.ts'

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

/** The permissions history of a permissioned chain (empty on an open chain). */
export function loadPermissionsHistory(store: KeyValueStore): SnapshotHistory<Permissions> {
  return SnapshotHistory.load(store, 'permissions', (raw) => new Permissions(decodeSnapshot(raw)))
}
