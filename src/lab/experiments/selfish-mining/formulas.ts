/**
 * Eyal and Sirer 2014, "Majority is not Enough: Bitcoin Mining is Vulnerable" (FC 2014, §4):
 * the selfish pool's relative revenue (its share of the blocks in the final chain) from the
 * stationary distribution of the private-lead Markov chain, and the pool size above which
 * selfish mining pays more than honest mining (revenue above α).
 * @module
 */

/** The pool's relative revenue: pool hashrate share `alpha`, `gamma` the share of honest miners that mine on the pool's branch in a tie (state 0'). */
export function selfishRevenue(alpha: number, gamma: number): number {
  checkShares(alpha, gamma)
  const a = alpha
  const num = a * (1 - a) ** 2 * (4 * a + gamma * (1 - 2 * a)) - a ** 3
  const den = 1 - a * (1 + (2 - a) * a)
  return num / den
}

/** The smallest pool share for which selfish mining earns more than honest mining: (1 − γ)/(3 − 2γ). */
export function profitThreshold(gamma: number): number {
  checkShares(0, gamma)
  return (1 - gamma) / (3 - 2 * gamma)
}

/** Uniform random tie-breaking (the paper's countermeasure): each honest miner picks either branch of a tie with probability 1/2. */
export const RANDOM_TIE_GAMMA = 0.5

function checkShares(alpha: number, gamma: number): void {
  if (!(alpha >= 0 && alpha <= 0.5)) throw new RangeError(`alpha must be in [0, 0.5] (got ${alpha}): above one half the pool owns the chain and the formula does not apply`)
  if (!(gamma >= 0 && gamma <= 1)) throw new RangeError(`gamma must be in [0, 1] (got ${gamma})`)
}
