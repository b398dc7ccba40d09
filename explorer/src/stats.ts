/**
 * Small statistics over block series, shared by pages and the JSON-RPC fallback. The genesis
 * block is left out: its timestamp is a constant of the chain spec, so the gap to block 1 says
 * nothing about block times.
 */

interface Timed {
  height?: number
  timestamp: number
  txCount?: number
}

const afterGenesis = <T extends Timed>(blocks: T[]): T[] =>
  blocks.filter((b) => b.height !== 0).sort((a, b) => a.timestamp - b.timestamp)

/** The fewest producers whose shares together exceed one half (0 when there are none). */
export function nakamotoCoefficient(shares: number[]): number {
  const sorted = [...shares].sort((a, b) => b - a)
  const total = sorted.reduce((s, x) => s + x, 0)
  if (total <= 0) return 0
  let sum = 0
  for (let i = 0; i < sorted.length; i++) {
    sum += sorted[i]!
    if (sum > total / 2) return i + 1
  }
  return sorted.length
}

/** Transactions per second: txs after the oldest block over the time span (null: no span). */
export function txPerSecond(blocks: Timed[]): number | null {
  const sorted = afterGenesis(blocks)
  if (sorted.length < 2) return null
  const span = sorted[sorted.length - 1]!.timestamp - sorted[0]!.timestamp
  if (span <= 0) return null
  return sorted.slice(1).reduce((s, b) => s + (b.txCount ?? 0), 0) / span
}

/** Mean seconds between consecutive blocks (null: fewer than two). */
export function averageBlockTime(blocks: Timed[]): number | null {
  const sorted = afterGenesis(blocks)
  if (sorted.length < 2) return null
  return (sorted[sorted.length - 1]!.timestamp - sorted[0]!.timestamp) / (sorted.length - 1)
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above `v` (so axis labels are round numbers). */
export function niceCeil(v: number, min = 0): number {
  if (!(v > min)) return min + 1
  const range = v - min
  const power = 10 ** Math.floor(Math.log10(range))
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= range)! * power
  return min + step
}
