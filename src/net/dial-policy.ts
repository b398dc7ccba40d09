/**
 * Whom the node dials: how many more peers it wants, and which remembered or shared peers it
 * picks. Pure, so the lab's eclipse experiment runs the same choices the dialer and the peer
 * exchange make. Two eclipse countermeasures live here (Heilman et al. 2015):
 * - outbound-only slots: the node keeps dialing until `outboundPeers` of its connections are
 *   ones it dialed, however many inbound peers it has (before, inbound peers counted toward
 *   the target, so an attacker filling the inbound side stopped every dial);
 * - outbound diversity: at most `maxOutboundPerGroup` dialed peers per address group
 *   (Bitcoin Core dials one peer per netgroup), so an attacker needs as many groups as the
 *   node has outbound slots.
 * @module
 */

/** A peer the node could dial. */
export interface DialCandidate {
  peerId: string
  addrs: readonly string[]
}

export interface WantedInput {
  /** Peers to reach in all (peer exchange stops there). */
  targetPeers: number
  /** Connections the node itself must have dialed; 0: no outbound-only slots. */
  outboundPeers: number
  /** Distinct peers connected now, and how many of them we dialed. */
  connected: number
  outbound: number
}

/** How many more peers to dial: to the target overall, and to the outbound-only slots. */
export function dialsWanted(w: WantedInput): number {
  return Math.max(w.targetPeers - w.connected, w.outboundPeers - w.outbound)
}

export interface ChooseContext {
  /** Candidates never dialed now: self, bootnodes, banned, backing off, connected or being dialed. */
  skip(peerId: string): boolean
  groupOf(c: DialCandidate): string | undefined
  /** Outbound connections (and dials under way) per address group. */
  outboundGroups: ReadonlyMap<string, number>
  /** Dialed peers per group; 0: no limit. */
  maxOutboundPerGroup: number
}

/** Up to `budget` candidates in their given order, skipping those the context rules out. */
export function chooseDials<C extends DialCandidate>(candidates: readonly C[], budget: number, ctx: ChooseContext): C[] {
  const out: C[] = []
  const groups = new Map(ctx.outboundGroups)
  for (const c of candidates) {
    if (out.length >= budget) break
    if (ctx.skip(c.peerId)) continue
    const group = ctx.maxOutboundPerGroup > 0 ? ctx.groupOf(c) : undefined
    if (group !== undefined) {
      const n = groups.get(group) ?? 0
      if (n >= ctx.maxOutboundPerGroup) continue
      groups.set(group, n + 1)
    }
    out.push(c)
  }
  return out
}

/** Counts per group of a list of group names (undefined: no group). */
export function countGroups(groups: Iterable<string | undefined>): Map<string, number> {
  const m = new Map<string, number>()
  for (const g of groups) if (g !== undefined) m.set(g, (m.get(g) ?? 0) + 1)
  return m
}
