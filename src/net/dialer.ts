/**
 * Keeps this node connected to its bootnodes: dials each one at start and again on an
 * interval while it is not connected (a bootnode that restarts, or a partition that heals,
 * is picked up without operator action). Banned bootnodes are left alone until the ban ends.
 *
 * Peers remembered from earlier runs (the peer store) are dialed too, most recently seen
 * first, while the node has fewer peers than it wants: so a network whose bootnodes are all
 * down still comes back together. A remembered peer that does not answer is retried with a
 * growing delay, not every interval. Anchors (anchors.ts: the outbound peers held at the last
 * shutdown) are dialed once, first. Which remembered peers are dialed is dial-policy.ts's choice.
 * @module
 */
import './polyfill.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { chooseDials } from './dial-policy.ts'
import { NetError } from './errors.ts'
import { parseMultiaddrs, type CatenaLibp2p } from './host.ts'

export interface Bootnode {
  addr: Multiaddr
  /** The /p2p/<id> part, when the address has one (recommended: the dial then proves the identity). */
  peerId?: string
}

export function parseBootnodes(list: readonly string[]): Bootnode[] {
  return parseMultiaddrs(list, 'bootnodes').map((addr) => {
    const id = addr.getComponents().find((c) => c.name === 'p2p')?.value
    if (id === undefined) return { addr }
    try {
      peerIdFromString(id)
    } catch {
      throw new NetError('BAD_CONFIG', `bootnodes: "${addr.toString()}" has an invalid peer id`)
    }
    return { addr, peerId: id }
  })
}

/** A peer remembered from an earlier connection (see peer-store.ts). */
export interface KnownPeer {
  peerId: string
  /** Addresses without the /p2p part. */
  addrs: string[]
}

/** The longest wait between two dials of a remembered peer that does not answer. */
export const MAX_KNOWN_PEER_BACKOFF_MS = 5 * 60_000

/** The wait before redialing a remembered peer after `fails` failed dials in a row. */
export function knownPeerBackoffMs(fails: number, intervalMs: number): number {
  return Math.min(Math.max(intervalMs, 1000) * 2 ** (fails - 1), MAX_KNOWN_PEER_BACKOFF_MS)
}

export interface DialerOptions {
  libp2p: CatenaLibp2p
  bootnodes: Bootnode[]
  /** Remembered peers, best first; dialed while `wanted()` is above zero. */
  known?(): readonly KnownPeer[]
  /** How many more peers this node wants (0 or less: dial no remembered peer). */
  wanted?(): number
  isBanned(peer: string): boolean
  /** Peers dialed once at start, before any other (see anchors.ts). */
  anchors?: readonly KnownPeer[]
  /** The address group of a peer (dial-policy.ts), and our outbound connections per group. */
  groupOf?(p: { addrs: readonly string[] }): string | undefined
  outboundGroups?(): ReadonlyMap<string, number>
  /** Dialed peers per address group; 0 or absent: no limit. */
  maxOutboundPerGroup?: number
  intervalMs: number
  dialTimeoutMs: number
  log: Logger
}

export class Dialer {
  private timer: NodeJS.Timeout | undefined
  private readonly dialing = new Set<string>()
  /** Bootnodes whose last dial failed (warned once, then quiet until they come back). */
  private readonly failing = new Set<string>()
  /** Remembered peers whose dials failed: how often in a row, and when to try again. */
  private readonly backoff = new Map<string, { fails: number; next: number }>()

  constructor(private readonly opts: DialerOptions) {}

  start(): void {
    this.dialAnchors()
    this.tick()
    if (this.opts.intervalMs > 0 && (this.opts.bootnodes.length > 0 || this.opts.known !== undefined)) {
      this.timer = setInterval(() => this.tick(), this.opts.intervalMs)
      this.timer.unref()
    }
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Dials an address; resolves with the remote peer id once connected. */
  async dial(addr: Multiaddr): Promise<string> {
    const conn = await this.opts.libp2p.dial(addr, { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) })
    return conn.remotePeer.toString()
  }

  private tick(): void {
    const { libp2p } = this.opts
    const self = libp2p.peerId.toString()
    for (const b of this.opts.bootnodes) {
      const key = b.addr.toString()
      if (b.peerId === self || this.dialing.has(key)) continue
      if (b.peerId !== undefined && (this.opts.isBanned(b.peerId) || libp2p.getConnections(peerIdFromString(b.peerId)).length > 0)) continue
      if (b.peerId === undefined && libp2p.getConnections().some((c) => c.remoteAddr.equals(b.addr))) continue
      this.dialing.add(key)
      this.dial(b.addr)
        .then((peer) => {
          if (this.failing.delete(key)) this.opts.log.info({ bootnode: key, peer }, 'bootnode reachable again')
        })
        .catch((err: Error) => {
          const first = !this.failing.has(key)
          this.failing.add(key)
          this.opts.log[first ? 'warn' : 'debug']({ bootnode: key, reason: err.message }, `cannot reach bootnode ${key}: ${err.message}`)
        })
        .finally(() => this.dialing.delete(key))
    }
    this.dialKnown()
  }

  private dialAnchors(): void {
    const { libp2p, anchors = [] } = this.opts
    const self = libp2p.peerId.toString()
    for (const p of anchors) {
      if (p.peerId === self || this.opts.isBanned(p.peerId) || this.dialing.has(p.peerId)) continue
      this.dialing.add(p.peerId)
      libp2p
        .dial(p.addrs.map((a) => multiaddr(a).encapsulate(`/p2p/${p.peerId}`)), { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) })
        .then(() => this.opts.log.info({ peer: p.peerId }, 'reconnected to an anchor peer'))
        .catch((err: Error) => this.opts.log.debug({ peer: p.peerId, reason: err.message }, 'cannot reach an anchor peer'))
        .finally(() => this.dialing.delete(p.peerId))
    }
  }

  private dialKnown(): void {
    const { libp2p, known, wanted } = this.opts
    if (known === undefined || wanted === undefined) return
    const budget = wanted() - this.dialing.size
    if (budget <= 0) return
    const self = libp2p.peerId.toString()
    const boot = new Set(this.opts.bootnodes.map((b) => b.peerId))
    const now = Date.now()
    const picks = chooseDials(known(), budget, {
      skip: (peer) =>
        peer === self ||
        boot.has(peer) ||
        this.dialing.has(peer) ||
        this.opts.isBanned(peer) ||
        (this.backoff.get(peer)?.next ?? 0) > now ||
        libp2p.getConnections(peerIdFromString(peer)).length > 0,
      groupOf: (p) => this.opts.groupOf?.(p),
      outboundGroups: this.opts.outboundGroups?.() ?? new Map(),
      maxOutboundPerGroup: this.opts.maxOutboundPerGroup ?? 0,
    })
    for (const p of picks) {
      this.dialing.add(p.peerId)
      libp2p
        .dial(p.addrs.map((a) => multiaddr(a).encapsulate(`/p2p/${p.peerId}`)), { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) })
        .then(() => {
          this.backoff.delete(p.peerId)
          this.opts.log.debug({ peer: p.peerId }, 'reconnected to a remembered peer')
        })
        .catch((err: Error) => {
          const fails = (this.backoff.get(p.peerId)?.fails ?? 0) + 1
          const wait = knownPeerBackoffMs(fails, this.opts.intervalMs)
          this.backoff.set(p.peerId, { fails, next: Date.now() + wait })
          this.opts.log.debug({ peer: p.peerId, reason: err.message, retryInMs: wait }, 'cannot reach a remembered peer')
        })
        .finally(() => this.dialing.delete(p.peerId))
    }
  }
}
