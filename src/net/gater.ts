/**
 * The connection gater: libp2p asks it before every dial and at each step of every inbound
 * connection. It refuses banned peers, peers outside the allowlist of a permissioned chain
 * (in both directions: we neither dial them nor accept them), and connections past the
 * per-IP and per-peer limits. The peer id of an inbound connection is known only once the
 * Noise handshake proved it, so identity checks run at the "encrypted" step. Who may take an
 * inbound slot (per-IP and per-group caps, outbound-only slots, eviction when full) is decided
 * by conn-policy.ts, which the lab's eclipse experiment drives too.
 * @module
 */
import './polyfill.ts'
import type { Connection, ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { randomBytes } from 'node:crypto'
import { admitInbound, keyedGroupOrder, type AdmissionLimits, type ConnView, type GroupKey } from './conn-policy.ts'
import type { PeerScores } from './peers.ts'

export interface GaterLimits extends Partial<Omit<AdmissionLimits, 'maxConnectionsPerIp'>> {
  /** Open connections allowed per remote IP address. */
  maxConnectionsPerIp: number
  /** Open connections allowed per peer id (libp2p may keep two when both sides dial at once). */
  maxConnectionsPerPeer: number
}

export interface GaterOptions {
  scores: PeerScores
  /** Peer ids allowed to connect, or undefined for an open network. */
  allowlist: ReadonlySet<string> | undefined
  /** A live allowlist (a permissioned chain's on-chain node list), asked at every connection. */
  isAllowed?: (peerId: string) => boolean
  limits: GaterLimits
  /** The host's open connections (the gater is built before the host, hence a function). */
  connections: () => Connection[]
  /** The secret order of groups protected from eviction (default: a random key per process). */
  groupKey?: GroupKey
  log: Logger
}

/** The IP address of a multiaddr, or undefined for addresses without one. */
export function ipOf(addr: Multiaddr): string | undefined {
  for (const c of addr.getComponents()) {
    if (c.name === 'ip4' || c.name === 'ip6') return c.value
  }
  return undefined
}

/** A connection as conn-policy.ts sees it. */
export function connView(c: Connection): ConnView & { conn: Connection } {
  // (Test doubles of a connection may carry only a peer and an address.)
  return { conn: c, peerId: c.remotePeer.toString(), ip: ipOf(c.remoteAddr), direction: c.direction ?? 'inbound', openedAt: c.timeline?.open ?? 0 }
}

function peerIdOf(addr: Multiaddr): string | undefined {
  let id: string | undefined
  for (const c of addr.getComponents()) if (c.name === 'p2p') id = c.value
  return id
}

export function createConnectionGater(opts: GaterOptions): ConnectionGater {
  const { scores, allowlist, isAllowed, limits, connections, log } = opts
  const groupKey = opts.groupKey ?? keyedGroupOrder(randomBytes(32))
  // Without maxPeers the gater caps nothing but IPs and groups (libp2p's maxConnections applies).
  const admission: AdmissionLimits = {
    maxPeers: limits.maxPeers ?? Number.POSITIVE_INFINITY,
    outboundPeers: limits.outboundPeers ?? 0,
    maxConnectionsPerIp: limits.maxConnectionsPerIp,
    maxInboundPerGroup: limits.maxInboundPerGroup ?? 0,
    evictInbound: limits.evictInbound ?? false,
  }

  /** Why a peer may not be connected, or undefined when it may. */
  const refusal = (peerId: string): string | undefined => {
    const ban = scores.banEntry(peerId)
    if (ban !== undefined) return `banned until ${new Date(ban.until).toISOString()} (${ban.reason})`
    if (allowlist !== undefined && !allowlist.has(peerId)) return 'not in the allowlist'
    if (isAllowed !== undefined && !isAllowed(peerId)) return "not in the chain's node allowlist"
    return undefined
  }

  const deny = (peerId: string, direction: string): boolean => {
    const why = refusal(peerId)
    if (why !== undefined) log.debug({ peer: peerId, direction }, `connection refused: peer ${why}`)
    return why !== undefined
  }

  return {
    denyDialPeer: (peerId: PeerId) => deny(peerId.toString(), 'outbound'),

    denyDialMultiaddr: (addr: Multiaddr) => {
      const id = peerIdOf(addr)
      return id !== undefined && deny(id, 'outbound')
    },

    // The address checks run before the handshake (cheap, and no crypto for a refused address);
    // an eviction waits until the newcomer's identity passed the ban and allowlist checks, so a
    // banned or unlisted peer cannot push anyone out.
    denyInboundConnection: (maConn: MultiaddrConnection) => {
      const ip = ipOf(maConn.remoteAddr)
      const verdict = admitInbound(connections().map(connView), ip, admission, groupKey)
      if (verdict.accept) return false
      log.debug({ ip }, `connection refused: ${verdict.reason}`)
      return true
    },

    // Dials to a bare address learn the peer id here, after the handshake.
    denyOutboundEncryptedConnection: (peerId: PeerId) => deny(peerId.toString(), 'outbound'),

    denyInboundEncryptedConnection: (peerId: PeerId, maConn: MultiaddrConnection) => {
      const id = peerId.toString()
      if (deny(id, 'inbound')) return true
      const open = connections()
      const fromPeer = open.filter((c) => c.remotePeer.toString() === id).length
      if (fromPeer >= limits.maxConnectionsPerPeer) {
        log.debug({ peer: id, open: fromPeer }, 'connection refused: too many connections from this peer')
        return true
      }
      // The slots may have filled during the handshake: decide again, now evicting if need be.
      const ip = maConn === undefined ? undefined : ipOf(maConn.remoteAddr)
      const verdict = admitInbound(open.map(connView), ip, admission, groupKey)
      if (!verdict.accept) {
        log.debug({ peer: id, ip }, `connection refused: ${verdict.reason}`)
        return true
      }
      if (verdict.evict !== undefined) {
        const { conn } = verdict.evict
        log.debug({ peer: id, evicted: verdict.evict.peerId, evictedAddr: conn.remoteAddr.toString() }, 'inbound slots full: evicting an inbound peer for a newcomer')
        void conn.close().catch((err: Error) => conn.abort(err))
      }
      return false
    },
  }
}
