/**
 * Security alerts, computed live from what the node sees: block production concentrated in
 * few hands (a miner or two near or above half the hashrate; a validator with a third of the
 * voting power, enough to halt a BFT chain), double votes (slashable evidence in committed
 * blocks), reorgs deeper than the confirmations users wait for, and bursts of rejected
 * transactions or banned peers. Each rule is a pure function from observations to alerts;
 * AlertBook only remembers since when a standing condition holds.
 * @module
 */
import { round, shareOf, topWeight } from './analytics.ts'
import type { ProducerKind } from './consensus-view.ts'
import type { ProducerStats } from './producers.ts'

export type AlertKind = 'concentration' | 'double-vote' | 'deep-reorg' | 'rejected-tx-burst' | 'peer-ban-burst'
export type Severity = 'warning' | 'critical'

export interface AlertJSON {
  id: string
  kind: AlertKind
  severity: Severity
  message: string
  /** Unix ms: when the event happened, or since when the condition holds. */
  at: number
  data: Record<string, unknown>
}

/** An alert before AlertBook stamps standing conditions with their start (events bring their own `at`). */
export type AlertCandidate = Omit<AlertJSON, 'at'> & { at?: number }

export interface AlertThresholds {
  /** PoW: one miner's share of blocks at which to warn, and above which it is critical. */
  minerWarnShare: number
  minerCriticalShare: number
  /** PoW: the top this-many miners together above half: a warning (with more miners than that). */
  coalitionSize: number
  /** PoW: fewer blocks in the window than this say nothing about hashrate. */
  minBlocks: number
  /** Rejected txs in `rejectedTxWindowMs` for a warning and for critical. */
  rejectedTxWarn: number
  rejectedTxCritical: number
  rejectedTxWindowMs: number
  /** Peer bans in `banWindowMs` for a warning and for critical. */
  banWarn: number
  banCritical: number
  banWindowMs: number
  /** How long past events (reorgs, double votes) stay alerts. */
  retentionMs: number
}

export const DEFAULT_THRESHOLDS: Readonly<AlertThresholds> = {
  minerWarnShare: 0.4,
  minerCriticalShare: 0.5,
  coalitionSize: 2,
  minBlocks: 10,
  rejectedTxWarn: 50,
  rejectedTxCritical: 250,
  rejectedTxWindowMs: 60_000,
  banWarn: 5,
  banCritical: 20,
  banWindowMs: 10 * 60_000,
  retentionMs: 60 * 60_000,
}

const pct = (x: number) => `${round(x * 100, 1)}%`

/** Concentration of block production (PoW) or voting power (BFT/PoS); none for a dev chain. */
export function concentrationAlerts(kind: ProducerKind, stats: ProducerStats, t: AlertThresholds = DEFAULT_THRESHOLDS): AlertCandidate[] {
  const { weights, total } = stats
  if (total <= 0n || kind === 'producer') return []
  const out: AlertCandidate[] = []
  if (kind === 'validators') {
    // More than a third of the power can stop any quorum: the chain halts if it stays away.
    for (const w of weights) {
      if (w.weight * 3n < total) continue
      const share = shareOf(w.weight, total)
      out.push({
        id: `concentration:${w.address.toLowerCase()}`,
        kind: 'concentration',
        severity: 'critical',
        message: `validator ${w.address} holds ${pct(share)} of the voting power (at least 1/3 can halt consensus)`,
        data: { addresses: [w.address], share: round(share, 6), power: w.weight.toString(), totalPower: total.toString(), threshold: 1 / 3 },
      })
    }
    return out
  }
  if (total < BigInt(t.minBlocks)) return []
  let singleCritical = false
  for (const w of weights) {
    const share = shareOf(w.weight, total)
    if (share < t.minerWarnShare) continue
    const critical = share > t.minerCriticalShare
    singleCritical ||= critical
    out.push({
      id: `concentration:${w.address.toLowerCase()}`,
      kind: 'concentration',
      severity: critical ? 'critical' : 'warning',
      message: `miner ${w.address} mined ${pct(share)} of the last ${total} blocks: ${critical ? 'a majority of the hashrate (51% attack possible)' : 'close to a majority of the hashrate'}`,
      data: { addresses: [w.address], share: round(share, 6), blocks: Number(w.weight), window: Number(total), threshold: critical ? t.minerCriticalShare : t.minerWarnShare },
    })
  }
  const k = t.coalitionSize
  if (!singleCritical && k >= 2 && weights.length > k) {
    const top = topWeight(weights.map((w) => w.weight), k)
    if (top * 2n > total) {
      const share = shareOf(top, total)
      const addresses = weights.slice(0, k).map((w) => w.address)
      out.push({
        id: `concentration:top${k}`,
        kind: 'concentration',
        severity: 'warning',
        message: `the top ${k} miners together mined ${pct(share)} of the last ${total} blocks: colluding, they hold a majority of the hashrate`,
        data: { addresses, share: round(share, 6), blocks: Number(top), window: Number(total), threshold: 0.5 },
      })
    }
  }
  return out
}

export interface ReorgRecord {
  /** Unix ms when the node switched branches. */
  at: number
  forkHeight: number
  /** Blocks that left the canonical chain. */
  depth: number
  oldHead: string
  newHead: string
}

/** Reorgs within the retention period deeper than half the safe depth (warning) or than it (critical). */
export function reorgAlerts(reorgs: readonly ReorgRecord[], safeDepth: number, now: number, t: AlertThresholds = DEFAULT_THRESHOLDS): AlertCandidate[] {
  const warnAbove = Math.floor(safeDepth / 2)
  return reorgs
    .filter((r) => r.at > now - t.retentionMs && r.depth > warnAbove)
    .map((r) => ({
      id: `deep-reorg:${r.newHead}`,
      kind: 'deep-reorg' as const,
      severity: r.depth > safeDepth ? ('critical' as const) : ('warning' as const),
      message: `the chain reorganized ${r.depth} blocks deep at height ${r.forkHeight} (${r.depth > safeDepth ? 'deeper than' : 'close to'} the safe depth of ${safeDepth} confirmations)`,
      at: r.at,
      data: { ...r, safeDepth },
    }))
}

export interface DoubleVoteRecord {
  /** Unix ms: the timestamp of the block that carried the evidence. */
  at: number
  validator: string
  height: number
  round: number
  voteType: string
  /** Height of the block that included the evidence. */
  includedIn: number
}

export function doubleVoteAlerts(records: readonly DoubleVoteRecord[], now: number, t: AlertThresholds = DEFAULT_THRESHOLDS): AlertCandidate[] {
  return records
    .filter((r) => r.at > now - t.retentionMs)
    .map((r) => ({
      id: `double-vote:${r.validator.toLowerCase()}/${r.height}/${r.round}/${r.voteType}`,
      kind: 'double-vote' as const,
      severity: 'critical' as const,
      message: `validator ${r.validator} signed two different ${r.voteType}s at height ${r.height} round ${r.round} (evidence included in block ${r.includedIn}; slashed)`,
      at: r.at,
      data: { ...r },
    }))
}

/** A burst of events in a sliding window: warning at `warn`, critical at `critical`. */
export function burstAlert(
  kind: 'rejected-tx-burst' | 'peer-ban-burst',
  count: number,
  windowMs: number,
  warn: number,
  critical: number,
  data: Record<string, unknown> = {},
): AlertCandidate | undefined {
  if (warn <= 0 || count < warn) return undefined
  const what = kind === 'rejected-tx-burst' ? 'transactions rejected' : 'peers banned'
  return {
    id: kind,
    kind,
    severity: count >= critical ? 'critical' : 'warning',
    message: `${count} ${what} in the last ${Math.round(windowMs / 1000)} s (threshold ${count >= critical ? critical : warn})`,
    data: { count, windowMs, ...data },
  }
}

/**
 * Stamps standing conditions (concentration, bursts) with the time they were first seen and
 * keeps that time while the condition holds, so `at` says since when; a condition that clears
 * and returns starts afresh. Alerts that bring their own `at` (events) keep it.
 */
export class AlertBook {
  private readonly since = new Map<string, number>()

  resolve(candidates: readonly AlertCandidate[], now: number): AlertJSON[] {
    const live = new Set<string>()
    const out = candidates.map((c) => {
      live.add(c.id)
      const at = c.at ?? this.since.get(c.id) ?? now
      if (c.at === undefined && !this.since.has(c.id)) this.since.set(c.id, at)
      return { ...c, at }
    })
    for (const id of this.since.keys()) if (!live.has(id)) this.since.delete(id)
    // Critical first, then newest first.
    return out.sort((a, b) => (a.severity === b.severity ? b.at - a.at : a.severity === 'critical' ? -1 : 1))
  }
}
