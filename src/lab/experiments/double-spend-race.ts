/**
 * The fast race model of the double spend: blocks as PRNG draws, each the attacker's with
 * chance q (mining is memoryless, so which miner finds the next block is independent of the
 * past and the time it takes does not matter to an unbounded race).
 *
 * The success rule is Rosenfeld's (2014, §5): the attacker first pre-mines one block with the
 * conflicting tx on the current tip (an honest block found first moves the tip, and he starts
 * over), then sends the payment. The honest network puts the payment in its next block; the
 * merchant waits until the honest branch has z blocks after the fork (the payment's block is
 * the first: z confirmations). The attacker publishes as soon as the honest branch has at least
 * z blocks and his branch is strictly longer (more work: every block carries the same bits, and
 * a tie would go to the branch the honest nodes saw first). Counting his pre-mined block, that
 * is "catching up" in Nakamoto's and Rosenfeld's formulas. He stops when he is so far behind
 * that his chance to ever get ahead, (q/p)^(deficit+1), is below 1e-9 (giveUpDeficit).
 * @module
 */
import type { Prng } from '../sim/prng.ts'
import { giveUpDeficit } from './double-spend-formulas.ts'

export const ATTACKER = 1
export const HONEST = 0

export interface RaceRun {
  success: boolean
  /** Every block found, in order, from the start of the pre-mining: ATTACKER or HONEST. */
  finders: number[]
  /** Seconds from the start of pre-mining to each block (timed races only). */
  times?: number[]
}

/**
 * One race for one z, with the blocks it drew (to replay through the real chains). With
 * `timed`, block times are drawn too (exponential, honest blocks `blockSeconds` apart on
 * average, the attacker's k = q/p times as often) and the attack fails unless it succeeds
 * within `timed.windowSeconds` of the start of pre-mining.
 */
export function raceOnce(prng: Prng, q: number, z: number, timed?: { blockSeconds: number; windowSeconds: number }): RaceRun {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be in [0, 1], got ${q}`)
  const finders: number[] = []
  const times: number[] = []
  const cutoff = giveUpDeficit(q)
  // Mean seconds between blocks of attacker and honest together: T / (1 + q/p) = T·p.
  const mean = timed ? timed.blockSeconds * (1 - q) : 0
  let t = 0
  const draw = (): number | undefined => {
    if (timed) {
      t += -Math.log(1 - prng.next()) * mean
      if (t > timed.windowSeconds) return undefined
    }
    const who = prng.next() < q ? ATTACKER : HONEST
    finders.push(who)
    if (timed) times.push(t)
    return who
  }
  const done = (success: boolean): RaceRun => ({ success, finders, ...(timed ? { times } : {}) })
  // Pre-mining: until the attacker finds a block on the current tip.
  for (;;) {
    const who = draw()
    if (who === undefined) return done(false)
    if (who === ATTACKER) break
  }
  let a = 1
  let h = 0
  for (;;) {
    if (h >= z && a > h) return done(true)
    if (h - a >= cutoff) return done(false)
    const who = draw()
    if (who === undefined) return done(false)
    if (who === ATTACKER) a++
    else h++
  }
}

/**
 * One race path serving every z at once (common random numbers): success for z means the
 * honest branch had at least z blocks at some moment when the attacker's was longer. The
 * events are nested (a success at z + 1 is one at z), so one path answers all of `zs`; it is
 * drawn exactly as raceOnce draws it, so for each z the outcome is raceOnce's.
 * Returns the largest z that succeeded (-1: none).
 */
export function racePath(prng: Prng, q: number, maxZ: number): number {
  const cutoff = giveUpDeficit(q)
  while (!(prng.next() < q)) {
    // honest blocks during pre-mining only move the tip
  }
  let a = 1
  let h = 0
  let best = -1
  for (;;) {
    if (a > h && h > best) {
      best = h
      if (best >= maxZ) return best
    }
    if (h - a >= cutoff) return best
    if (prng.next() < q) a++
    else h++
  }
}
