/**
 * The arithmetic behind /v1/producers, /v1/analytics and /v1/alerts, as pure functions:
 * shares of blocks or power, the Nakamoto coefficient, block-series statistics, and a
 * bounded sliding window for bursts. Weights are bigints (stake and work exceed 2^53), so
 * thresholds are compared exactly; shares for display are floats.
 * @module
 */

/** `part / total` as a float in [0, 1]; 0 when the total is 0. */
export function shareOf(part: bigint, total: bigint): number {
  if (total <= 0n || part <= 0n) return 0
  // Scale in bigint first so huge stakes keep their precision.
  return Number((part * 1_000_000_000_000n) / total) / 1_000_000_000_000
}

export function sum(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n)
}

/**
 * The Nakamoto coefficient: the fewest participants whose weights together exceed
 * `num/den` of the total (by default more than half). 0 when there is no weight at all.
 */
export function nakamotoCoefficient(weights: readonly bigint[], num = 1n, den = 2n): number {
  const total = sum(weights)
  if (total <= 0n) return 0
  const sorted = weights.filter((w) => w > 0n).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
  let acc = 0n
  for (let i = 0; i < sorted.length; i++) {
    acc += sorted[i]!
    if (acc * den > total * num) return i + 1
  }
  return sorted.length
}

/** The combined weight of the `size` heaviest participants. */
export function topWeight(weights: readonly bigint[], size: number): bigint {
  return sum([...weights].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)).slice(0, Math.max(0, size)))
}

/** How many times each key occurs, in first-seen order. */
export function countBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>()
  for (const item of items) {
    const k = key(item)
    out.set(k, (out.get(k) ?? 0) + 1)
  }
  return out
}

/** One block of a series, as the statistics need it. */
export interface BlockPoint {
  /** Unix seconds. */
  timestamp: number
  txCount: number
  gasUsed: bigint
}

export interface SeriesStats {
  /** Txs per second over the time the blocks span (0 when they span no time). */
  txPerSecond: number
  /** Mean seconds between consecutive blocks, or null with fewer than two timestamps. */
  avgBlockTime: number | null
  /** Mean gas used per block (0 for no blocks). */
  avgGasUsed: bigint
}

/**
 * Statistics of consecutive blocks, oldest first. `parentTimestamp` is the timestamp of the
 * block before the first (null at genesis): with it, each block's interval counts.
 */
export function seriesStats(points: readonly BlockPoint[], parentTimestamp: number | null): SeriesStats {
  if (points.length === 0) return { txPerSecond: 0, avgBlockTime: null, avgGasUsed: 0n }
  const start = parentTimestamp ?? points[0]!.timestamp
  const intervals = parentTimestamp === null ? points.length - 1 : points.length
  const span = points[points.length - 1]!.timestamp - start
  // The first block's txs count only when its interval does.
  const txs = points.reduce((n, p, i) => n + (parentTimestamp === null && i === 0 ? 0 : p.txCount), 0)
  return {
    txPerSecond: span > 0 ? round(txs / span, 6) : 0,
    avgBlockTime: intervals > 0 ? round(span / intervals, 6) : null,
    avgGasUsed: sum(points.map((p) => p.gasUsed)) / BigInt(points.length),
  }
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/**
 * Events within the last `windowMs` (e.g. rejected txs, peer bans), with an optional tag per
 * event (the rejection code). Holds at most `maxEvents`: past that the oldest are dropped,
 * so a flood cannot grow memory, and the count saturates at `maxEvents`.
 */
export class SlidingWindow {
  private readonly events: Array<{ at: number; tag: string }> = []

  constructor(
    readonly windowMs: number,
    readonly maxEvents = 10_000,
  ) {
    if (!(windowMs > 0) || !(maxEvents > 0)) throw new RangeError('a sliding window needs a positive length and capacity')
  }

  record(at: number, tag = ''): void {
    this.events.push({ at, tag })
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents)
  }

  /** Events in (now - windowMs, now]. */
  count(now: number): number {
    this.prune(now)
    return this.events.length
  }

  /** Events in the window by tag. */
  byTag(now: number): Record<string, number> {
    this.prune(now)
    const out: Record<string, number> = {}
    for (const e of this.events) out[e.tag] = (out[e.tag] ?? 0) + 1
    return out
  }

  /** Unix ms of the oldest event still in the window. */
  oldest(now: number): number | undefined {
    this.prune(now)
    return this.events[0]?.at
  }

  private prune(now: number): void {
    let drop = 0
    while (drop < this.events.length && this.events[drop]!.at <= now - this.windowMs) drop++
    if (drop > 0) this.events.splice(0, drop)
  }
}

/** A bounded list that keeps the newest `capacity` items. */
export class Ring<T> {
  private readonly items: T[] = []
  constructor(readonly capacity: number) {}

  push(item: T): void {
    this.items.push(item)
    if (this.items.length > this.capacity) this.items.shift()
  }

  /** Oldest first. */
  toArray(): T[] {
    return [...this.items]
  }

  get size(): number {
    return this.items.length
  }
}
