/**
 * What the eclipse experiment compares: Catena's peer management before the countermeasures,
 * each countermeasure alone on top of it, all of them (the node's defaults now), and all but
 * one; against two attackers of Heilman et al. 2015 with the same number of addresses.
 * @module
 */
import { DEFAULT_LIMITS, LEGACY_PEER_LIMITS, resolveLimits, type NetworkLimits, type NetworkLimitsInput } from '../../../net/index.ts'
import type { AttackerSpec } from './world.ts'

export interface Countermeasure {
  key: string
  label: string
  /** The options that turn it on (the node's defaults). */
  on: NetworkLimitsInput
}

const pick = <K extends keyof typeof DEFAULT_LIMITS>(...keys: K[]): NetworkLimitsInput =>
  Object.fromEntries(keys.map((k) => [k, DEFAULT_LIMITS[k]])) as NetworkLimitsInput

export const COUNTERMEASURES: readonly Countermeasure[] = [
  { key: 'groups', label: 'address-group limits', on: pick('maxInboundPerGroup', 'maxOutboundPerGroup', 'maxStoredPerGroup') },
  { key: 'outbound', label: 'outbound-only slots', on: pick('outboundPeers') },
  { key: 'anchors', label: 'anchor peers', on: pick('anchorPeers') },
  { key: 'evict', label: 'inbound eviction', on: pick('evictInbound') },
  { key: 'dialed', label: 'dialed peers first in the store', on: pick('preferDialedPeers') },
]

export interface Config {
  key: string
  label: string
  limits: NetworkLimits
  /** Mean time until an attacker connection sends invalid data (peer scoring then bans it). */
  misbehaveMeanMs?: number
}

/** Options of a countermeasure set back to their values before it existed. */
function off(c: Countermeasure): NetworkLimitsInput {
  return Object.fromEntries(Object.keys(c.on).map((k) => [k, (LEGACY_PEER_LIMITS as Record<string, unknown>)[k]])) as NetworkLimitsInput
}

export function configs(): Config[] {
  const out: Config[] = [
    { key: 'before', label: 'before (peer scoring on)', limits: resolveLimits(LEGACY_PEER_LIMITS) },
    { key: 'before-banned', label: 'before, attacker misbehaves (banned)', limits: resolveLimits(LEGACY_PEER_LIMITS), misbehaveMeanMs: 30 * 60_000 },
  ]
  for (const c of COUNTERMEASURES) out.push({ key: `+${c.key}`, label: `before + ${c.label}`, limits: resolveLimits({ ...LEGACY_PEER_LIMITS, ...c.on }) })
  out.push({ key: 'all', label: 'all (the new defaults)', limits: resolveLimits() })
  for (const c of COUNTERMEASURES) out.push({ key: `-${c.key}`, label: `all but ${c.label}`, limits: resolveLimits(off(c)) })
  return out
}

/** Both hold 2,048 addresses: a botnet's are spread over as many /16s, a hosting provider's over 8. */
export const ATTACKERS: readonly AttackerSpec[] = [
  { name: 'botnet', groups: 2048, ipsPerGroup: 1 },
  { name: 'infrastructure', groups: 8, ipsPerGroup: 256 },
]
