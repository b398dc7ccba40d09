/**
 * Who may take an inbound slot: the decision the connection gater makes for every inbound
 * connection, as a pure function of the open connections, so the node and the lab's eclipse
 * experiment (src/lab/experiments/eclipse) run the same code. An attacker with many addresses (a Sybil) can
 * open connections faster than honest peers; these rules keep it from holding every slot
 * (Heilman et al. 2015, "Eclipse Attacks on Bitcoin's Peer-to-Peer Network"):
 * - per IP and per address group (netgroup.ts) caps on inbound connections;
 * - outbound-only slots: inbound connections never take the last `outboundPeers` slots, which
 *   only the node's own dials fill (Bitcoin Core's 8 full-relay + 2 block-relay outbound);
 * - eviction instead of refusal when the inbound slots are full (Bitcoin Core's
 *   SelectNodeToEvict): a newcomer replaces an unprotected inbound peer, so an attacker that
 *   got there first does not keep every slot; peers in a few groups chosen by a secret key
 *   and the longest-connected half are protected, and the victim comes from the group with
 *   the most connections (the youngest of it).
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { netGroup } from './netgroup.ts'

/** What the policy needs to know of an open connection. */
export interface ConnView {
  peerId: string
  /** The remote IP, when the address has one. */
  ip: string | undefined
  direction: 'inbound' | 'outbound'
  /** When it opened (ms, any clock the caller uses consistently). */
  openedAt: number
}

export interface AdmissionLimits {
  /** Connections kept (inbound and outbound together). */
  maxPeers: number
  /** Slots only this node's own dials may take; inbound connections are capped at maxPeers - outboundPeers. */
  outboundPeers: number
  maxConnectionsPerIp: number
  /** Inbound connections per address group (routable addresses only); 0: no limit. */
  maxInboundPerGroup: number
  /** With the inbound slots full, evict an unprotected inbound peer for the newcomer instead of refusing it. */
  evictInbound: boolean
}

/** Limits that reproduce Catena before the eclipse countermeasures (shared slots, refuse when full). */
export function legacyAdmission(maxPeers: number, maxConnectionsPerIp: number): AdmissionLimits {
  return { maxPeers, outboundPeers: 0, maxConnectionsPerIp, maxInboundPerGroup: 0, evictInbound: false }
}

export type InboundVerdict<C extends ConnView> = { accept: true; evict?: C } | { accept: false; reason: string }

/** Peers protected from eviction by their keyed group, and the share protected by uptime (Bitcoin Core's 4 and 1/2). */
export const EVICTION_PROTECT_BY_GROUP = 4

/** A secret-keyed order of groups, so an attacker cannot tell which groups are protected from eviction. */
export type GroupKey = (group: string) => number

export function keyedGroupOrder(secret: Uint8Array): GroupKey {
  const cache = new Map<string, number>()
  return (group) => {
    let v = cache.get(group)
    if (v === undefined) {
      const h = sha256(new Uint8Array([...secret, ...new TextEncoder().encode(group)]))
      v = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0
      if (cache.size < 4096) cache.set(group, v)
    }
    return v
  }
}

/** Local and private addresses share one eviction group (Bitcoin Core's NET_LOCAL group). */
function evictionGroup(c: ConnView): string {
  return (c.ip === undefined ? undefined : netGroup(c.ip)) ?? 'local'
}

/** Decides an inbound connection from `ip` given the open connections. */
export function admitInbound<C extends ConnView>(conns: readonly C[], ip: string | undefined, limits: AdmissionLimits, groupKey: GroupKey): InboundVerdict<C> {
  const group = ip === undefined || limits.maxInboundPerGroup <= 0 ? undefined : netGroup(ip)
  let fromIp = 0
  let fromGroup = 0
  let inbound = 0
  for (const c of conns) {
    if (ip !== undefined && c.ip === ip) fromIp++
    if (c.direction !== 'inbound') continue
    inbound++
    if (group !== undefined && c.ip !== undefined && netGroup(c.ip) === group) fromGroup++
  }
  if (fromIp >= limits.maxConnectionsPerIp) return { accept: false, reason: 'too many connections from this IP' }
  if (group !== undefined && fromGroup >= limits.maxInboundPerGroup) return { accept: false, reason: `too many inbound connections from ${group}` }
  if (inbound < limits.maxPeers - limits.outboundPeers && conns.length < limits.maxPeers) return { accept: true }
  if (!limits.evictInbound) return { accept: false, reason: 'no free inbound slot' }
  const evict = selectEviction(conns.filter((c) => c.direction === 'inbound'), groupKey)
  return evict === undefined ? { accept: false, reason: 'no free inbound slot and every inbound peer is protected' } : { accept: true, evict }
}

/**
 * The inbound peer to evict for a newcomer, or undefined when all are protected (Bitcoin Core's
 * SelectNodeToEvict without the ping, tx and block protections: Catena does not track them).
 */
export function selectEviction<C extends ConnView>(inbound: readonly C[], groupKey: GroupKey): C | undefined {
  let candidates = inbound.map((c) => ({ c, group: evictionGroup(c) }))
  // Protect a few peers by a secret-keyed group order, then the longest-connected half.
  candidates.sort((a, b) => groupKey(a.group) - groupKey(b.group) || a.c.openedAt - b.c.openedAt)
  candidates = candidates.slice(0, Math.max(0, candidates.length - EVICTION_PROTECT_BY_GROUP))
  candidates.sort((a, b) => b.c.openedAt - a.c.openedAt)
  candidates = candidates.slice(0, candidates.length - Math.floor(candidates.length / 2))
  if (candidates.length === 0) return undefined
  // The group with the most connections loses its youngest (ties: the group with the youngest).
  const byGroup = new Map<string, { count: number; youngest: C }>()
  for (const { c, group } of candidates) {
    const g = byGroup.get(group)
    if (g === undefined) byGroup.set(group, { count: 1, youngest: c })
    else {
      g.count++
      if (c.openedAt > g.youngest.openedAt) g.youngest = c
    }
  }
  let best: { count: number; youngest: C } | undefined
  for (const g of byGroup.values()) {
    if (best === undefined || g.count > best.count || (g.count === best.count && g.youngest.openedAt > best.youngest.openedAt)) best = g
  }
  return best?.youngest
}
