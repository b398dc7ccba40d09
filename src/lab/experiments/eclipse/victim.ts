/**
 * The eclipse victim: a node whose every peer-management decision is made by Catena's own code
 * on a virtual clock, over simulated connections instead of sockets:
 * - who may take an inbound slot, and whom to evict: conn-policy.ts admitInbound (the gater);
 * - what the peer store keeps and in which order it is redialed: peer-table.ts with the peer
 *   store's group function (peer-store.ts);
 * - how many peers to dial and which: dial-policy.ts dialsWanted/chooseDials (dialer.ts and
 *   discovery.ts), the dialer's backoff, bootnodes every interval, anchors first at a start;
 * - bans: peers.ts PeerScores, consulted at every connection as the gater does.
 * libp2p's own part is its cap of maxPeers + CONNECTION_HEADROOM connections and its pruner
 * (inbound before outbound, newest first: connection-pruner.js with equal tags and streams).
 * @module
 */
import {
  admitInbound,
  chooseAnchors,
  chooseDials,
  CONNECTION_HEADROOM,
  countGroups,
  dialsWanted,
  knownPeerBackoffMs,
  netGroup,
  PeerScores,
  PeerTable,
  storedPeerGroup,
  type AdmissionLimits,
  type GroupKey,
  type NetworkLimits,
} from '../../../net/index.ts'
import type { Remote, World } from './world.ts'

export interface SimConn {
  remote: Remote
  peerId: string
  ip: string
  direction: 'inbound' | 'outbound'
  openedAt: number
}

/** The peer store's default size (peer-store.ts DEFAULT_MAX_STORED_PEERS). */
const STORE_SIZE = 64
/** Peer-exchange requests one tick may chain (each new peer asks the next: discovery.ts). */
const MAX_ASKS_PER_TICK = 20

export class Victim {
  conns: SimConn[] = []
  readonly table: PeerTable
  scores: PeerScores
  private backoff = new Map<string, { fails: number; next: number }>()
  private nextAsk = 0
  private pendingAsk: Remote | undefined
  private askQueued = false
  private readonly admission: AdmissionLimits
  private readonly remotes = new Map<string, Remote>()
  /** Connections opened within one tick still open one after the other (eviction picks the youngest). */
  private lastOpened = -1
  up = true

  constructor(
    private readonly limits: NetworkLimits,
    private readonly world: World,
    private readonly clock: { now: number },
    private readonly groupKey: GroupKey,
    private readonly bootnode: Remote,
  ) {
    this.admission = limits
    this.table = new PeerTable({
      max: STORE_SIZE,
      maxPerGroup: limits.maxStoredPerGroup,
      protectDialed: limits.preferDialedPeers,
      groupOf: storedPeerGroup,
      isConnected: (peer) => this.connected(peer),
    })
    this.scores = this.newScores()
  }

  private newScores(): PeerScores {
    const l = this.limits
    return new PeerScores({ banThreshold: l.banThreshold, banMs: l.banMs, decayPerMinute: l.scoreDecayPerMinute }, () => this.clock.now)
  }

  connected(peerId: string): boolean {
    return this.conns.some((c) => c.peerId === peerId)
  }

  /** An inbound connection attempt; true when it was accepted. */
  inbound(r: Remote): boolean {
    if (!this.up || this.connected(r.id)) return false
    // libp2p refuses past its own cap before asking the gater.
    if (this.conns.length >= this.limits.maxPeers + CONNECTION_HEADROOM) return false
    const verdict = admitInbound(this.conns, r.ip, this.admission, this.groupKey)
    if (!verdict.accept) return false
    if (this.scores.isBanned(r.id)) return false
    if (verdict.evict !== undefined) this.close(verdict.evict.peerId)
    this.open(r, 'inbound')
    return true
  }

  /** The victim dials a peer; true when connected. */
  dial(r: Remote): boolean {
    if (!this.up || this.connected(r.id) || this.scores.isBanned(r.id)) return false
    if (!this.world.acceptsDial(r)) return false
    this.open(r, 'outbound')
    return true
  }

  close(peerId: string): void {
    this.conns = this.conns.filter((c) => c.peerId !== peerId)
  }

  /** Peers that went offline drop their connections. */
  dropOffline(gone: readonly Remote[]): void {
    if (gone.length === 0) return
    const ids = new Set(gone.map((r) => r.id))
    this.conns = this.conns.filter((c) => !ids.has(c.peerId))
  }

  /** A peer sent invalid data worth `points`: scored, and banned and dropped at the threshold (network.ts penalize). */
  penalize(peerId: string, points: number): void {
    const outcome = this.scores.penalize(peerId, points, 'invalid data')
    if (outcome.ban === undefined) return
    this.table.remove(peerId)
    this.close(peerId)
  }

  private open(r: Remote, direction: 'inbound' | 'outbound'): void {
    this.remotes.set(r.id, r)
    this.lastOpened = Math.max(this.clock.now, this.lastOpened + 0.001)
    this.conns.push({ remote: r, peerId: r.id, ip: r.ip, direction, openedAt: this.lastOpened })
    this.prune()
    // The status handshake completes: the peer store records it, and it is asked for peers.
    this.table.insert({ peerId: r.id, addrs: [r.addr], lastSeen: this.clock.now, ...(direction === 'outbound' ? { dialed: true as const } : {}) })
    this.discover(r)
  }

  /** libp2p's pruner past its cap: inbound before outbound, newest first. */
  private prune(): void {
    const excess = this.conns.length - (this.limits.maxPeers + CONNECTION_HEADROOM)
    if (excess <= 0) return
    const order = [...this.conns].sort((a, b) => (a.direction === b.direction ? b.openedAt - a.openedAt : a.direction === 'inbound' ? -1 : 1))
    for (const c of order.slice(0, excess)) this.close(c.peerId)
  }

  private outboundGroups(): Map<string, number> {
    return countGroups(this.conns.filter((c) => c.direction === 'outbound').map((c) => netGroup(c.ip)))
  }

  private wanted(): number {
    const outbound = this.conns.filter((c) => c.direction === 'outbound').length
    return dialsWanted({ targetPeers: this.limits.targetPeers, outboundPeers: this.limits.outboundPeers, connected: this.conns.length, outbound })
  }

  /** discovery.ts discover(): one request at a time, from the new peer or the next ready one. */
  private discover(from?: Remote): void {
    if (this.limits.targetPeers === 0 || this.askQueued || this.deficit() <= 0) return
    const ready = this.conns
    const peer = from ?? ready[this.nextAsk++ % Math.max(1, ready.length)]?.remote
    if (peer === undefined) return
    this.pendingAsk = peer
    this.askQueued = true
  }

  private deficit(): number {
    return this.limits.targetPeers - this.conns.length
  }

  /** Runs the queued peer-exchange requests (each answer's dials may queue the next). */
  private runAsks(): void {
    for (let i = 0; i < MAX_ASKS_PER_TICK && this.pendingAsk !== undefined; i++) {
      const from = this.pendingAsk
      this.pendingAsk = undefined
      if (!this.connected(from.id)) {
        this.askQueued = false
        continue
      }
      const shared = this.world.answer(from).map((r) => ({ peerId: r.id, addrs: [r.addr], remote: r }))
      const picks = chooseDials(shared, this.deficit(), {
        skip: (peer) => this.connected(peer) || this.scores.isBanned(peer),
        groupOf: storedPeerGroup,
        outboundGroups: this.outboundGroups(),
        maxOutboundPerGroup: this.limits.maxOutboundPerGroup,
      })
      // The request is done before its dials complete: their handshakes may ask again.
      this.askQueued = false
      for (const p of picks) this.dial(p.remote)
    }
    this.askQueued = false
    this.pendingAsk = undefined
  }

  /** The dialer's interval tick, then the discovery timer's (network.ts start()). */
  tick(): void {
    if (!this.up) return
    if (!this.connected(this.bootnode.id)) this.dial(this.bootnode)
    this.dialKnown()
    this.discover()
    this.runAsks()
  }

  private dialKnown(): void {
    const budget = this.wanted()
    if (budget <= 0) return
    const now = this.clock.now
    const picks = chooseDials(this.table.dialOrder(), budget, {
      skip: (peer) => peer === this.bootnode.id || this.scores.isBanned(peer) || (this.backoff.get(peer)?.next ?? 0) > now || this.connected(peer),
      groupOf: storedPeerGroup,
      outboundGroups: this.outboundGroups(),
      maxOutboundPerGroup: this.limits.maxOutboundPerGroup,
    })
    for (const p of picks) {
      const r = this.remotes.get(p.peerId)
      if (r !== undefined && this.dial(r)) {
        this.backoff.delete(p.peerId)
      } else {
        const fails = (this.backoff.get(p.peerId)?.fails ?? 0) + 1
        this.backoff.set(p.peerId, { fails, next: now + knownPeerBackoffMs(fails, this.limits.redialMs) })
      }
    }
    this.runAsks()
  }

  /** Shutdown: the anchors are chosen (anchors.ts) and every connection drops; state in memory is lost. */
  stop(): Remote[] {
    const anchors = chooseAnchors(this.conns, this.limits.anchorPeers).map((c) => c.remote)
    this.conns = []
    this.up = false
    return anchors
  }

  /** Start: a new process (bans and backoffs forgotten, the peer store kept) listens at once... */
  listen(): void {
    this.up = true
    this.scores = this.newScores()
    this.backoff = new Map()
    this.nextAsk = 0
  }

  /** ...and its dialer starts: anchors first (dialer.ts start()). */
  startDialing(anchors: readonly Remote[]): void {
    for (const a of anchors) this.dial(a)
    this.tick()
  }

  attackerShare(): number {
    return this.conns.length === 0 ? 0 : this.conns.filter((c) => c.remote.attacker).length / this.conns.length
  }

  eclipsed(): boolean {
    return this.conns.length > 0 && this.conns.every((c) => c.remote.attacker)
  }
}
