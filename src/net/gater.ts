/**
 * The connection gater: libp2p asks it before every dial and at each step of every inbound
 * connection. It refuses banned peers, peers outside the allowlist of a permissioned chain
 * (in both directions: we neither dial them nor accept them), and connections past the
 * per-IP and per-peer limits. The peer id of an inbound connection is known only once the
 * Noise handshake proved it, so identity checks run at the "encrypted" step.
 * @module
 */
import './polyfill.ts'
import type { Connection, ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { PeerScores } from './peers.ts'

export interface GaterLimits {
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
  log: Logger
}

/** The IP address of a multiaddr, or undefined for addresses without one. */
export function ipOf(addr: Multiaddr): string | undefined {
  for (const c of addr.getComponents()) {
    if (c.name === 'ip4' || c.name === 'ip6') return c.value
  }
  return undefined
}

function peerIdOf(addr: Multiaddr): string | undefined {
  let id: string | undefined
  for (const c of addr.getComponents()) if (c.name === 'p2p') id = c.value
  return id
}

export function createConnectionGater(opts: GaterOptions): ConnectionGater {
  const { scores, allowlist, isAllowed, limits, connections, log } = opts

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

    denyInboundConnection: (maConn: MultiaddrConnection) => {
      const ip = ipOf(maConn.remoteAddr)
      if (ip === undefined) return false
      const open = connections().filter((c) => ipOf(c.remoteAddr) === ip).length
      if (open < limits.maxConnectionsPerIp) return false
      log.debug({ ip, open }, 'connection refused: too many connections from this IP')
      return true
    },

    // Dials to a bare address learn the peer id here, after the handshake.
    denyOutboundEncryptedConnection: (peerId: PeerId) => deny(peerId.toString(), 'outbound'),

    denyInboundEncryptedConnection: (peerId: PeerId) => {
      const id = peerId.toString()
      if (deny(id, 'inbound')) return true
      const open = connections().filter((c) => c.remotePeer.toString() === id).length
      if (open < limits.maxConnectionsPerPeer) return false
      log.debug({ peer: id, open }, 'connection refused: too many connections from this peer')
      return true
    },
  }
}
