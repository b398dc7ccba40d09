/**
 * Peer scoring and the ban list, by peer id (bcoin's ban score). A peer earns penalty points
 * for bad data; points decay linearly over time so honest peers that slip once recover; at the
 * threshold the peer is banned for a period. The connection gater consults the ban list on
 * every dial and every inbound connection, so a banned peer cannot come back until its ban
 * expires. Bans live in memory: a restart forgives everyone, as in geth.
 * @module
 */

export interface ScoreConfig {
  /** Penalty points at which a peer is banned. */
  banThreshold: number
  /** How long a ban earned by points lasts, in ms. */
  banMs: number
  /** Points forgiven per minute of good behaviour. */
  decayPerMinute: number
}

export const DEFAULT_SCORE_CONFIG: Readonly<ScoreConfig> = {
  banThreshold: 100,
  banMs: 60 * 60_000,
  decayPerMinute: 10,
}

export interface BanEntry {
  peerId: string
  reason: string
  /** Unix ms when the ban ends. */
  until: number
}

export interface PenaltyOutcome {
  /** Points after this penalty. */
  points: number
  /** Set when this penalty crossed the threshold and banned the peer. */
  ban?: BanEntry
}

interface ScoreEntry {
  points: number
  updatedAt: number
}

export class PeerScores {
  private readonly scores = new Map<string, ScoreEntry>()
  private readonly banned = new Map<string, BanEntry>()

  constructor(
    readonly config: ScoreConfig = DEFAULT_SCORE_CONFIG,
    private readonly now: () => number = Date.now,
  ) {}

  /** Current penalty points of a peer, decay applied (0 for peers never penalized). */
  points(peerId: string): number {
    const entry = this.scores.get(peerId)
    if (entry === undefined) return 0
    const decayed = entry.points - ((this.now() - entry.updatedAt) / 60_000) * this.config.decayPerMinute
    if (decayed <= 0) {
      this.scores.delete(peerId)
      return 0
    }
    return decayed
  }

  /** Adds penalty points; bans the peer for `banMs` when they reach the threshold. */
  penalize(peerId: string, points: number, reason: string): PenaltyOutcome {
    const total = this.points(peerId) + Math.max(0, points)
    this.scores.set(peerId, { points: total, updatedAt: this.now() })
    if (total >= this.config.banThreshold && this.banEntry(peerId) === undefined) {
      return { points: total, ban: this.ban(peerId, this.config.banMs, `score ${Math.round(total)}: ${reason}`) }
    }
    return { points: total }
  }

  /** Bans a peer for `ms` (an existing longer ban is kept). */
  ban(peerId: string, ms: number, reason: string): BanEntry {
    const until = this.now() + Math.max(0, ms)
    const existing = this.banEntry(peerId)
    if (existing !== undefined && existing.until >= until) return existing
    const entry: BanEntry = { peerId, reason, until }
    this.banned.set(peerId, entry)
    return entry
  }

  /** Lifts a ban and forgives the points. */
  unban(peerId: string): boolean {
    this.scores.delete(peerId)
    return this.banned.delete(peerId)
  }

  /** The peer's ban if it is still in force. Expired bans are dropped with their points. */
  banEntry(peerId: string): BanEntry | undefined {
    const entry = this.banned.get(peerId)
    if (entry === undefined) return undefined
    if (entry.until > this.now()) return entry
    this.banned.delete(peerId)
    this.scores.delete(peerId)
    return undefined
  }

  isBanned(peerId: string): boolean {
    return this.banEntry(peerId) !== undefined
  }

  /** Bans in force. */
  bans(): BanEntry[] {
    return [...this.banned.keys()].map((id) => this.banEntry(id)).filter((b): b is BanEntry => b !== undefined)
  }
}
