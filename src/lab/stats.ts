/**
 * The statistics lab reports need: binomial proportions with their 95% confidence interval
 * (Wilson score interval: good at small p and small n, where the normal approximation
 * breaks), and means with their standard error.
 * @module
 */

export const Z95 = 1.959963984540054

export interface Proportion {
  successes: number
  trials: number
  p: number
  low: number
  high: number
}

/** successes / trials with its Wilson score interval (95% by default; another z-score for other levels). */
export function proportion(successes: number, trials: number, z = Z95): Proportion {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || trials <= 0 || successes < 0 || successes > trials) {
    throw new Error(`proportion: need 0 <= successes <= trials and trials > 0 (got ${successes}/${trials})`)
  }
  const p = successes / trials
  const z2 = z * z
  const denom = 1 + z2 / trials
  const centre = (p + z2 / (2 * trials)) / denom
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denom
  // At 0 or all successes the bound is exactly 0 or 1 (rounding would leave a speck).
  const low = successes === 0 ? 0 : Math.max(0, centre - half)
  const high = successes === trials ? 1 : Math.min(1, centre + half)
  return { successes, trials, p, low, high }
}

export interface MeanEstimate {
  n: number
  mean: number
  /** Standard error of the mean. */
  se: number
  low: number
  high: number
}

export function meanEstimate(xs: readonly number[]): MeanEstimate {
  const n = xs.length
  if (n === 0) throw new Error('meanEstimate: no samples')
  const mean = xs.reduce((a, b) => a + b, 0) / n
  const variance = n > 1 ? xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1) : 0
  const se = Math.sqrt(variance / n)
  return { n, mean, se, low: mean - Z95 * se, high: mean + Z95 * se }
}

/** A number for a report: fixed digits, or exponent form for tiny values. */
export function fmt(x: number, digits = 4): string {
  if (x === 0) return '0'
  if (Math.abs(x) < 10 ** -digits) return x.toExponential(2)
  return x.toFixed(digits)
}
