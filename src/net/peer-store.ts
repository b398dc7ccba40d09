/**
 * The peer store: peers this node completed the status handshake with, and addresses to dial
 * them at, kept in <datadir>/peers.json so a restarted node finds its network again even when
 * its bootnodes are down (Bitcoin Core's peers.dat, geth's node database). It is a cache:
 * - bounded: at most `maxPeers` entries; a new peer replaces the least recently seen one
 *   that is not connected, so a stream of fresh identities cannot push out live peers; with
 *   the eclipse countermeasures (peer-table.ts) at most `maxPerGroup` entries per address
 *   group, and peers this node dialed are never replaced by peers only met inbound;
 * - written atomically: a private temp file (0600), fsynced, then renamed over the old one;
 * - never trusted: a file that does not parse is ignored with a warning and replaced at the
 *   next save; every dial still goes through the gater (bans, allowlist) and Noise proves
 *   the peer id, so a stale or forged address reaches nobody else.
 * @module
 */
import './polyfill.ts'
import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { CatenaLibp2p } from './host.ts'
import { netGroup } from './netgroup.ts'
import { PeerTable, type TableEntry } from './peer-table.ts'

export const PEER_STORE_FILE = 'peers.json'
export const DEFAULT_MAX_STORED_PEERS = 64
export const MAX_STORED_ADDRS = 8
/** Longest address kept (a TCP multiaddr is far shorter; anything longer is junk). */
const MAX_ADDR_CHARS = 256
/** A file larger than this is not one we wrote. */
const MAX_FILE_BYTES = 1024 * 1024
const FORMAT_VERSION = 1
/** The multicodec of the /p2p/<peer id> component. */
const P2P_CODE = 421

export type StoredPeer = TableEntry

/** The address group of a stored peer: that of its first address with an IP (stored addresses are canonical multiaddr strings). */
export function storedPeerGroup(p: { addrs: readonly string[] }): string | undefined {
  for (const a of p.addrs) {
    const ip = /^\/ip[46]\/([^/]+)/.exec(a)?.[1]
    if (ip !== undefined) return netGroup(ip)
  }
  return undefined
}

export class PeerStoreError extends Error {
  override readonly name = 'PeerStoreError'
  readonly code = 'BAD_PEER_STORE'
}

/** Keeps the TCP addresses of a list (our only transport), without /p2p, deduplicated and capped. */
export function dialableAddrs(addrs: readonly Multiaddr[]): string[] {
  const out = new Set<string>()
  for (const a of addrs) {
    if (out.size >= MAX_STORED_ADDRS) break
    if (!a.getComponents().some((c) => c.name === 'tcp')) continue
    const s = a.decapsulateCode(P2P_CODE).toString()
    if (s.length <= MAX_ADDR_CHARS) out.add(s)
  }
  return [...out]
}

/** Parses the file's text; PeerStoreError for anything but the format this module writes. */
export function parsePeerStore(text: string, max = DEFAULT_MAX_STORED_PEERS): StoredPeer[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new PeerStoreError(`not JSON (${(err as Error).message})`)
  }
  const { version, peers } = (doc ?? {}) as { version?: unknown; peers?: unknown }
  if (version !== FORMAT_VERSION) throw new PeerStoreError(`unknown format version ${JSON.stringify(version)}`)
  if (!Array.isArray(peers)) throw new PeerStoreError('"peers" is not a list')
  const out = new Map<string, StoredPeer>()
  for (const [i, p] of peers.entries()) {
    const e = p as Partial<StoredPeer>
    if (typeof e?.peerId !== 'string' || !Array.isArray(e.addrs) || typeof e.lastSeen !== 'number' || !Number.isFinite(e.lastSeen)) {
      throw new PeerStoreError(`peer ${i} is not { peerId, addrs, lastSeen }`)
    }
    let peerId: string
    let addrs: string[]
    try {
      peerId = peerIdFromString(e.peerId).toString()
      addrs = dialableAddrs(e.addrs.map((a) => multiaddr(String(a))))
    } catch (err) {
      throw new PeerStoreError(`peer ${i}: ${(err as Error).message}`)
    }
    if (addrs.length > 0) out.set(peerId, { peerId, addrs, lastSeen: e.lastSeen, ...(e.dialed === true ? { dialed: true as const } : {}) })
  }
  return [...out.values()].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, max)
}

/** The peers stored in a datadir ([] without a file); PeerStoreError when it does not parse. */
export async function readPeerStore(datadir: string, max = DEFAULT_MAX_STORED_PEERS): Promise<StoredPeer[]> {
  const path = join(datadir, PEER_STORE_FILE)
  const size = await stat(path).then((s) => s.size, (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)))
  if (size === undefined) return []
  if (size > MAX_FILE_BYTES) throw new PeerStoreError(`${size} bytes, more than a peer store holds`)
  return parsePeerStore(await readFile(path, 'utf8'), max)
}

export interface PeerStoreOptions {
  datadir: string
  libp2p: CatenaLibp2p
  /** Entries kept (default 64). */
  maxPeers?: number
  /** Entries per address group (default 0: no limit; see peer-table.ts). */
  maxPerGroup?: number
  /** Peers this node dialed are not replaced by inbound-only ones and are dialed first (default false). */
  protectDialed?: boolean
  /** Changes within this window are written together (default 1000 ms). */
  saveDelayMs?: number
  log: Logger
}

export class PeerStore {
  private readonly table: PeerTable
  private readonly path: string
  private timer: NodeJS.Timeout | undefined
  private saving: Promise<void> = Promise.resolve()
  private dirty = false

  private constructor(private readonly opts: PeerStoreOptions, loaded: StoredPeer[]) {
    this.path = join(opts.datadir, PEER_STORE_FILE)
    this.table = new PeerTable(
      {
        max: opts.maxPeers ?? DEFAULT_MAX_STORED_PEERS,
        maxPerGroup: opts.maxPerGroup ?? 0,
        protectDialed: opts.protectDialed ?? false,
        groupOf: storedPeerGroup,
        isConnected: (peer) => opts.libp2p.getConnections(peerIdFromString(peer)).length > 0,
      },
      loaded,
    )
  }

  /** Loads <datadir>/peers.json; a missing file is an empty store, a corrupt one is ignored with a warning. */
  static async load(opts: PeerStoreOptions): Promise<PeerStore> {
    let loaded: StoredPeer[] = []
    try {
      loaded = await readPeerStore(opts.datadir, opts.maxPeers)
    } catch (err) {
      const path = join(opts.datadir, PEER_STORE_FILE)
      opts.log.warn({ path, reason: (err as Error).message }, `ignoring the peer store ${path}: ${(err as Error).message}; it is rewritten from the peers met from now on`)
    }
    if (loaded.length > 0) opts.log.info({ peers: loaded.length }, 'loaded known peers')
    return new PeerStore(opts, loaded)
  }

  /** Stored peers, most recently seen first. */
  list(): StoredPeer[] {
    return this.table.list()
  }

  /** Stored peers in the order to dial them after a restart (see peer-table.ts). */
  dialOrder(): StoredPeer[] {
    return this.table.dialOrder()
  }

  /**
   * Records a peer that just completed the handshake (or whose identify arrived after it):
   * the address we dialed it at, when we did, and the listen addresses it announced.
   */
  async seen(peer: string): Promise<void> {
    const { libp2p } = this.opts
    const id = peerIdFromString(peer)
    const dialed = libp2p.getConnections(id).filter((c) => c.direction === 'outbound').map((c) => c.remoteAddr)
    const known = await libp2p.peerStore.get(id).catch(() => undefined)
    const certified = known?.addresses.filter((a) => a.isCertified) ?? []
    const announced = (certified.length > 0 ? certified : (known?.addresses ?? [])).map((a) => a.multiaddr)
    const addrs = dialableAddrs([...dialed, ...announced])
    if (addrs.length === 0) return
    if (this.table.insert({ peerId: peer, addrs, lastSeen: Date.now(), ...(dialed.length > 0 ? { dialed: true as const } : {}) })) this.changed()
  }

  /** Drops a peer (it was banned): it is not dialed again after a restart. */
  forget(peer: string): void {
    if (this.table.remove(peer)) this.changed()
  }

  /** Waits until every change made so far is on disk. */
  async flush(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.dirty) this.save()
    await this.saving
  }

  private changed(): void {
    this.dirty = true
    if (this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.save()
    }, this.opts.saveDelayMs ?? 1000)
    this.timer.unref()
  }

  /** Queues one write of the current contents (writes never overlap). */
  private save(): void {
    this.dirty = false
    const text = JSON.stringify({ version: FORMAT_VERSION, peers: this.list() }, null, 1) + '\n'
    this.saving = this.saving
      .then(() => writeAtomically(this.path, text))
      .catch((err: Error) => this.opts.log.warn({ path: this.path, reason: err.message }, `cannot save the peer store: ${err.message}`))
  }
}

export async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  try {
    const fh = await open(tmp, 'w', 0o600)
    try {
      await fh.writeFile(text)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
