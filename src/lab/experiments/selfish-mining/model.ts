/**
 * The fast event model of selfish mining: Eyal and Sirer's Algorithm 1 played block by block.
 * Each step one block is found, by the pool (probability α) or by an honest miner; the state
 * is the pool's private branch against the public one since their fork point. In a tie (state
 * 0': the pool has matched an honest block) the next honest block extends the pool's branch
 * with probability γ. Blocks are credited when their race settles, exactly as they end up in
 * the final chain, so the model and a real network can be compared block for block.
 * @module
 */
import type { Prng } from '../../sim/prng.ts'

export type Finder = 'pool' | 'honest'

/** What drives a race: who finds each block, and which branch an honest block in a tie extends. */
export interface Schedule {
  next(): Finder
  /** Asked only in state 0' when an honest miner found the block: does it extend the pool's branch? */
  onPoolBranch(): boolean
}

/** The paper's model: the pool finds each block with probability α; in a tie a share γ of honest hashrate mines on the pool's branch. */
export function randomSchedule(alpha: number, gamma: number, prng: Prng): Schedule {
  return { next: () => (prng.chance(alpha) ? 'pool' : 'honest'), onPoolBranch: () => prng.chance(gamma) }
}

export interface Tally {
  /** Blocks of the final chain mined by the pool / by honest miners. */
  pool: number
  honest: number
  /** Blocks found but left off the final chain. */
  orphanedPool: number
  orphanedHonest: number
  /** Ties (state 0') entered, and those the pool's block won. */
  ties: number
  tiesWon: number
  /** Blocks found (pool + honest + orphaned). */
  found: number
}

/** The pool's state against the public chain, and what it does with each block (Algorithm 1). */
export class SelfishRace {
  /** Pool blocks since the fork point (published or not). */
  private priv = 0
  /** Honest blocks on the public branch since the fork point. */
  private pub = 0
  /** State 0': the pool published its one block against an honest one of the same height. */
  private tie = false
  readonly tally: Tally = { pool: 0, honest: 0, orphanedPool: 0, orphanedHonest: 0, ties: 0, tiesWon: 0, found: 0 }

  /** The private lead (the paper's state; 0 in state 0'). */
  get lead(): number {
    return this.priv - this.pub
  }

  get inTie(): boolean {
    return this.tie
  }

  /** One block found: the pool's strategy and the honest miners' fork choice. */
  step(finder: Finder, schedule: Pick<Schedule, 'onPoolBranch'>): void {
    this.tally.found++
    if (finder === 'pool') return this.poolFound()
    if (this.tie) {
      // 0' -> 0: the honest block settles the tie for the branch it extends.
      if (schedule.onPoolBranch()) {
        this.tally.tiesWon++
        this.settle({ pool: 1, honest: 1, orphanedHonest: 1 })
      } else this.settle({ honest: 2, orphanedPool: 1 })
      return
    }
    const lead = this.lead
    this.pub++
    if (lead === 0) this.settle({ honest: 1 })
    else if (lead === 1) {
      // The pool publishes its block: same length, the network splits (state 0').
      this.tie = true
      this.tally.ties++
    } else if (lead === 2) this.settle({ pool: this.priv, orphanedHonest: this.pub }) // publish all: the longer branch wins
    // lead > 2: the pool publishes its first unpublished block and keeps mining in private.
  }

  private poolFound(): void {
    this.priv++
    if (this.tie) {
      // 0' -> 0: the pool publishes and its branch is two blocks to one.
      this.tally.tiesWon++
      this.settle({ pool: 2, orphanedHonest: 1 })
    }
  }

  /**
   * After the last counted block: the race is played out until it settles without waiting on
   * chance where possible (a lead of 2 or more is published and wins at once), so runs end clean.
   */
  finish(schedule: Schedule): Tally {
    while (this.tie || this.priv > 0) {
      if (!this.tie && this.lead >= 2) {
        this.settle({ pool: this.priv, orphanedHonest: this.pub })
        break
      }
      this.step(schedule.next(), schedule)
    }
    return this.tally
  }

  private settle(t: Partial<Pick<Tally, 'pool' | 'honest' | 'orphanedPool' | 'orphanedHonest'>>): void {
    this.tally.pool += t.pool ?? 0
    this.tally.honest += t.honest ?? 0
    this.tally.orphanedPool += t.orphanedPool ?? 0
    this.tally.orphanedHonest += t.orphanedHonest ?? 0
    this.priv = 0
    this.pub = 0
    this.tie = false
  }
}

/** The pool's share of the final chain. */
export function revenue(t: Pick<Tally, 'pool' | 'honest'>): number {
  const total = t.pool + t.honest
  return total === 0 ? 0 : t.pool / total
}

/** One race of `blocks` found blocks (then played out to a settled state). */
export function runRace(schedule: Schedule, blocks: number): Tally {
  const race = new SelfishRace()
  for (let i = 0; i < blocks; i++) race.step(schedule.next(), schedule)
  return race.finish(schedule)
}
