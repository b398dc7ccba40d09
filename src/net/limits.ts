/**
 * Network limits and timings, with their defaults, and the check of a caller's overrides
 * (a bad value is a BAD_CONFIG error naming the option, never a silent fallback).
 * @module
 */
import { NetError } from './errors.ts'
import type { GaterLimits } from './gater.ts'
import {
  DEFAULT_REQRESP_LIMITS,
  DEFAULT_TOPIC_LIMITS,
  GOSSIP_TOPICS,
  REQRESP_PROTOCOLS,
  type GossipTopic,
  type ReqRespLimits,
  type ReqRespProtocol,
} from './protocols.ts'

export interface NetworkLimits extends Required<GaterLimits> {
  /** Connections kept: inbound ones are refused (or evict one, see evictInbound) past it; libp2p prunes a few above. */
  maxPeers: number
  /** Peers to reach through peer exchange; 0 turns the exchange off (bootnodes only). */
  targetPeers: number
  /**
   * Outbound-only slots: the node keeps dialing until this many of its peers are ones it
   * dialed, and inbound peers may take only maxPeers - outboundPeers slots (eclipse
   * countermeasure; 0 turns it off). Default 10, at most half of maxPeers when only maxPeers is set.
   */
  outboundPeers: number
  /** Inbound connections per address group (IPv4 /16, IPv6 /32; routable addresses only); 0: no limit. The three group limits are off on permissioned networks (an allowlist). */
  maxInboundPerGroup: number
  /** Peers dialed (remembered or learned by exchange) per address group; 0: no limit. Bootnodes and anchors are exempt. */
  maxOutboundPerGroup: number
  /** Entries of the peer store per address group; 0: no limit. */
  maxStoredPerGroup: number
  /** Peers we dialed are never replaced in the peer store by inbound-only ones, and are redialed first. */
  preferDialedPeers: boolean
  /** With the inbound slots full, evict an unprotected inbound peer for a newcomer (Bitcoin Core's rule) instead of refusing it. */
  evictInbound: boolean
  /** Outbound peers written at shutdown (anchors.json) and dialed first at the next start; 0: none. */
  anchorPeers: number
  /** New inbound connections accepted per second from one IP. */
  inboundConnectionsPerSecond: number
  /** Penalty points at which a peer is banned. */
  banThreshold: number
  /** How long a ban earned by points lasts, in ms. */
  banMs: number
  /** Penalty points forgiven per minute. */
  scoreDecayPerMinute: number
  /** How long a peer found on another chain stays refused, in ms. */
  wrongChainBanMs: number
  /** Time for the status exchange of a new connection, in ms. */
  statusTimeoutMs: number
  /** Interval of status refreshes with connected peers, in ms; 0 turns them off. */
  statusRefreshMs: number
  /** Default request timeout, and the time a requester has to deliver its request, in ms. */
  requestTimeoutMs: number
  /** Interval between redials of unconnected bootnodes, in ms; 0 dials them once. */
  redialMs: number
  dialTimeoutMs: number
  reqresp: Record<ReqRespProtocol, ReqRespLimits>
  topics: Record<GossipTopic, number>
}

/** Overrides accepted by createNetwork: any field, and per-protocol limits field by field. */
export type NetworkLimitsInput = Partial<Omit<NetworkLimits, 'reqresp' | 'topics'>> & {
  reqresp?: Partial<Record<ReqRespProtocol, Partial<ReqRespLimits>>>
  topics?: Partial<Record<GossipTopic, number>>
}

export const DEFAULT_LIMITS: Readonly<Omit<NetworkLimits, 'reqresp' | 'topics'>> = {
  maxPeers: 50,
  targetPeers: 25,
  outboundPeers: 10,
  maxInboundPerGroup: 4,
  maxOutboundPerGroup: 1,
  maxStoredPerGroup: 4,
  preferDialedPeers: true,
  evictInbound: true,
  anchorPeers: 2,
  maxConnectionsPerPeer: 2,
  maxConnectionsPerIp: 16,
  inboundConnectionsPerSecond: 5,
  banThreshold: 100,
  banMs: 60 * 60_000,
  scoreDecayPerMinute: 10,
  wrongChainBanMs: 10 * 60_000,
  statusTimeoutMs: 5_000,
  statusRefreshMs: 30_000,
  requestTimeoutMs: 10_000,
  redialMs: 5_000,
  dialTimeoutMs: 5_000,
}

/** Options that are switches rather than numbers. */
const BOOLEAN_LIMITS = new Set(['preferDialedPeers', 'evictInbound'])
/** Options where 0 turns something off. */
const ZERO_ALLOWED = new Set(['statusRefreshMs', 'redialMs', 'scoreDecayPerMinute', 'targetPeers', 'outboundPeers', 'maxInboundPerGroup', 'maxOutboundPerGroup', 'maxStoredPerGroup', 'anchorPeers'])

/** The eclipse countermeasures all off: Catena's peer management before them (the lab's baseline). */
export const LEGACY_PEER_LIMITS: Readonly<NetworkLimitsInput> = {
  outboundPeers: 0,
  maxInboundPerGroup: 0,
  maxOutboundPerGroup: 0,
  maxStoredPerGroup: 0,
  preferDialedPeers: false,
  evictInbound: false,
  anchorPeers: 0,
}

function check(value: unknown, option: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new NetError('BAD_CONFIG', `limits.${option} must be a number >= ${min}, got ${String(value)}`)
  }
  return value
}

export function resolveLimits(input: NetworkLimitsInput = {}): NetworkLimits {
  const { reqresp = {}, topics = {}, ...flat } = input
  const out = { ...DEFAULT_LIMITS } as NetworkLimits
  for (const [key, value] of Object.entries(flat)) {
    if (!(key in DEFAULT_LIMITS)) throw new NetError('BAD_CONFIG', `limits.${key} is not a network limit`)
    if (value === undefined) continue
    if (BOOLEAN_LIMITS.has(key)) {
      if (typeof value !== 'boolean') throw new NetError('BAD_CONFIG', `limits.${key} must be true or false, got ${String(value)}`)
      ;(out as unknown as Record<string, boolean>)[key] = value
      continue
    }
    ;(out as unknown as Record<string, number>)[key] = check(value, key, ZERO_ALLOWED.has(key) ? 0 : 1)
  }
  if (flat.outboundPeers === undefined) out.outboundPeers = Math.min(DEFAULT_LIMITS.outboundPeers, Math.floor(out.maxPeers / 2))
  if (out.outboundPeers >= out.maxPeers) {
    throw new NetError('BAD_CONFIG', `limits.outboundPeers must be below limits.maxPeers (${out.maxPeers}), got ${out.outboundPeers}: inbound peers need a slot`)
  }
  for (const key of ['outboundPeers', 'maxInboundPerGroup', 'maxOutboundPerGroup', 'maxStoredPerGroup', 'anchorPeers'] as const) {
    if (!Number.isInteger(out[key])) throw new NetError('BAD_CONFIG', `limits.${key} must be a whole number, got ${out[key]}`)
  }
  out.reqresp = {} as NetworkLimits['reqresp']
  for (const name of REQRESP_PROTOCOLS) {
    const o = reqresp[name] ?? {}
    out.reqresp[name] = {
      maxRequestBytes: check(o.maxRequestBytes ?? DEFAULT_REQRESP_LIMITS[name].maxRequestBytes, `reqresp.${name}.maxRequestBytes`, 1),
      maxResponseBytes: check(o.maxResponseBytes ?? DEFAULT_REQRESP_LIMITS[name].maxResponseBytes, `reqresp.${name}.maxResponseBytes`, 1),
    }
  }
  for (const name of Object.keys(reqresp)) {
    if (!(REQRESP_PROTOCOLS as readonly string[]).includes(name)) throw new NetError('BAD_CONFIG', `limits.reqresp.${name} is not a protocol`)
  }
  out.topics = {} as NetworkLimits['topics']
  for (const name of GOSSIP_TOPICS) out.topics[name] = check(topics[name] ?? DEFAULT_TOPIC_LIMITS[name], `topics.${name}`, 1)
  for (const name of Object.keys(topics)) {
    if (!(GOSSIP_TOPICS as readonly string[]).includes(name)) throw new NetError('BAD_CONFIG', `limits.topics.${name} is not a topic`)
  }
  return out
}
