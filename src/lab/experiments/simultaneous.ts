/**
 * Simultaneous confidence intervals for a family of proportions: "every point inside its
 * interval" is one claim about k points, and k separate 95% intervals all cover with
 * probability about 0.95^k (36% for k = 20) even when the simulation is exact. Bonferroni's
 * correction (each interval at level 1 - 0.05/k) makes the joint claim hold with at least 95%.
 * @module
 */
import { proportion, type Proportion } from '../stats.ts'

/** The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`)
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239]
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
  const low = 0.02425
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  }
  if (p > 1 - low) return -normalQuantile(1 - p)
  const q = p - 0.5
  const r = q * q
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
}

/** The Wilson score interval with a given z-score (1.96: 95%). */
export function wilson(successes: number, trials: number, z: number): Proportion {
  return proportion(successes, trials, z)
}

/** The z-score of two-sided intervals that hold jointly at `level` over `k` points (Bonferroni). */
export function bonferroniZ(k: number, level = 0.95): number {
  return normalQuantile(1 - (1 - level) / (2 * Math.max(1, k)))
}
