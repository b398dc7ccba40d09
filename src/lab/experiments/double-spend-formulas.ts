/**
 * Closed forms for the hashrate double spend: an attacker with share q of the hashrate (the
 * honest network p = 1 - q) against a merchant who waits z confirmations.
 *
 * - Nakamoto, "Bitcoin: A Peer-to-Peer Electronic Cash System" (2008), §11: the attacker's
 *   progress while the honest network finds z blocks is taken as Poisson with mean z·q/p (as if
 *   those blocks took exactly their expected time), then the gambler's-ruin chance of catching
 *   up from z - k behind, (q/p)^(z-k).
 * - Rosenfeld, "Analysis of hashrate-based double spending" (2014), eq. (1): the attacker's
 *   progress is the number of his successes before the honest network's z-th, negative binomial
 *   C(k+z-1, k) p^z q^k; with one block pre-mined, he wins once he is ahead, so
 *   P = 1 - Σ_{k=0..z} C(k+z-1, k) (p^z q^k - q^z p^k) for q < p (and 1 for q >= p).
 * @module
 */

/** Nakamoto's AttackerSuccessProbability (the whitepaper's C code, line for line). */
export function nakamotoProbability(q: number, z: number): number {
  checkArgs(q, z)
  const p = 1 - q
  if (q >= p) return 1
  const lambda = z * (q / p)
  let sum = 1
  for (let k = 0; k <= z; k++) {
    let poisson = Math.exp(-lambda)
    for (let i = 1; i <= k; i++) poisson *= lambda / i
    sum -= poisson * (1 - Math.pow(q / p, z - k))
  }
  return sum
}

/**
 * Rosenfeld's exact probability. Computed as the sum eq. (1) is the closed form of, over the
 * attacker's blocks m before the honest network's z-th (negative binomial), with his pre-mined
 * block: m >= z he is already ahead; m < z he must gain z - m, chance (q/p)^(z-m). All terms are
 * positive (no 1 - Σ cancellation at tiny P), in log space so z in the hundreds does not overflow.
 */
export function rosenfeldProbability(q: number, z: number): number {
  checkArgs(q, z)
  const p = 1 - q
  if (q >= p || z === 0) return 1
  if (q === 0) return 0
  const lp = Math.log(p)
  const lq = Math.log(q)
  let logC = 0 // log C(m+z-1, m)
  let sum = 0
  for (let m = 0; ; m++) {
    if (m > 0) logC += Math.log((m + z - 1) / m)
    const nb = logC + z * lp + m * lq
    if (m < z) {
      sum += Math.exp(nb + (z - m) * (lq - lp))
      continue
    }
    const term = Math.exp(nb)
    sum += term
    // Past the mode the terms fall geometrically (ratio -> q): stop when they no longer count.
    if (m > z + 10 && term < sum * 1e-17) break
  }
  return Math.min(1, sum)
}

/** The chance of ever gaining `blocks` net blocks on a race where each block is the attacker's with chance q (gambler's ruin). */
export function catchUpProbability(q: number, blocks: number): number {
  const p = 1 - q
  if (blocks <= 0 || q >= p) return 1
  return Math.pow(q / p, blocks)
}

/** The smallest z with P(q, z) < threshold (the whitepaper's "solving for P less than 0.1%"). */
export function confirmationsFor(probability: (q: number, z: number) => number, q: number, threshold = 0.001, maxZ = 10_000): number {
  for (let z = 0; z <= maxZ; z++) if (probability(q, z) < threshold) return z
  throw new Error(`no z up to ${maxZ} brings P below ${threshold} at q = ${q}`)
}

/**
 * The deficit at which the race model stops an attacker who is behind: from d blocks behind
 * he wins with chance (q/p)^(d+1) (he must gain d+1 to be ahead), so past the first d where
 * that is below `negligible` the rest of his race adds less than `negligible` to any estimate.
 */
export function giveUpDeficit(q: number, negligible = 1e-9): number {
  const p = 1 - q
  if (q >= p) return Infinity
  let d = 0
  while (catchUpProbability(q, d + 1) >= negligible) d++
  return d
}

function checkArgs(q: number, z: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be in [0, 1], got ${q}`)
  if (!Number.isInteger(z) || z < 0) throw new RangeError(`z must be a whole number >= 0, got ${z}`)
}
