/**
 * The bounded table behind the peer store (peer-store.ts keeps it on disk): which peer an
 * insert replaces and in which order remembered peers are dialed. Pure, so the lab's eclipse
 * experiment drives the same rules the node runs. Against an attacker that connects with many
 * identities to fill the table with its own addresses (Heilman et al. 2015, Bitcoin's
 * new/tried tables and their buckets), two rules, each optional:
 * - `maxPerGroup`: at most so many entries per address group (netgroup.ts); a newcomer in a
 *   full group replaces the least recently seen idle entry of its own group;
 * - `protectDialed`: peers this node dialed successfully (Bitcoin's "tried") are never
 *   replaced by peers only met inbound, and are dialed first after a restart.
 * Without them the table is Catena's first peer store: a newcomer replaces the least recently
 * seen idle entry (or the least recently seen one), and dials go most recently seen first.
 * @module
 */

export interface TableEntry {
  peerId: string
  /** Dialable addresses, without the /p2p/<peer id> part. */
  addrs: string[]
  /** Unix ms of the last completed handshake. */
  lastSeen: number
  /** Set once this node dialed the peer and completed a handshake (Bitcoin's "tried" table). */
  dialed?: true
}

export interface PeerTableOptions {
  max: number
  /** Entries per address group; 0: no limit. */
  maxPerGroup: number
  protectDialed: boolean
  /** The address group of an entry (undefined: no group, not limited). */
  groupOf(entry: TableEntry): string | undefined
  /** Whether the peer is connected now (connected entries are replaced last). */
  isConnected(peerId: string): boolean
}

export class PeerTable {
  private readonly peers = new Map<string, TableEntry>()
  /** Each entry's group, computed once per insert. */
  private readonly groups = new Map<string, string | undefined>()

  constructor(private readonly opts: PeerTableOptions, loaded: readonly TableEntry[] = []) {
    for (const p of loaded) this.set(p)
  }

  private set(p: TableEntry): void {
    this.peers.set(p.peerId, p)
    this.groups.set(p.peerId, this.opts.maxPerGroup > 0 ? this.opts.groupOf(p) : undefined)
  }

  get size(): number {
    return this.peers.size
  }

  get(peerId: string): TableEntry | undefined {
    return this.peers.get(peerId)
  }

  /** Entries, most recently seen first. */
  list(): TableEntry[] {
    return [...this.peers.values()].sort((a, b) => b.lastSeen - a.lastSeen)
  }

  /** The order in which remembered peers are dialed: dialed ones first when protected, then by recency. */
  dialOrder(): TableEntry[] {
    const all = this.list()
    return this.opts.protectDialed ? [...all.filter((p) => p.dialed), ...all.filter((p) => !p.dialed)] : all
  }

  /** Records a peer; returns false when the table keeps what it has instead (the newcomer is dropped). */
  insert(entry: TableEntry): boolean {
    const old = this.peers.get(entry.peerId)
    if (old !== undefined) {
      this.set({ ...entry, ...(old.dialed || entry.dialed ? { dialed: true } : {}) })
      return true
    }
    const victim = this.victimFor(entry)
    if (victim === null) return false
    if (victim !== undefined) this.remove(victim.peerId)
    this.set(entry)
    return true
  }

  remove(peerId: string): boolean {
    this.groups.delete(peerId)
    return this.peers.delete(peerId)
  }

  /** The entry a newcomer replaces: undefined when there is room, null when the newcomer is refused. */
  private victimFor(entry: TableEntry): TableEntry | undefined | null {
    const { max, maxPerGroup, protectDialed, groupOf, isConnected } = this.opts
    const group = maxPerGroup > 0 ? groupOf(entry) : undefined
    const sameGroup = group === undefined ? [] : [...this.peers.values()].filter((p) => this.groups.get(p.peerId) === group)
    const full = group !== undefined && sameGroup.length >= maxPerGroup
    if (!full && this.peers.size < max) return undefined
    const pool = full ? sameGroup : [...this.peers.values()]
    const idle = (p: TableEntry) => !isConnected(p.peerId)
    // In order: who may make room. Inbound-only entries go before dialed ones, which only a dialed newcomer may push out.
    const tiers: ((p: TableEntry) => boolean)[] = !protectDialed
      ? [idle, () => true]
      : [(p) => !p.dialed && idle(p), ...(entry.dialed ? [idle] : []), (p) => !p.dialed, ...(entry.dialed ? [() => true] : [])]
    for (const ok of tiers) {
      const victim = leastRecentlySeen(pool, ok)
      if (victim !== undefined) return victim
    }
    return null
  }
}

/** The least recently seen entry that passes `ok` (ties: the later inserted, as the first peer store chose). */
function leastRecentlySeen(pool: readonly TableEntry[], ok: (p: TableEntry) => boolean): TableEntry | undefined {
  let best: TableEntry | undefined
  for (const p of pool) if (ok(p) && (best === undefined || p.lastSeen <= best.lastSeen)) best = p
  return best
}
