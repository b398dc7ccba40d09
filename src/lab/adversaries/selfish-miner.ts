/**
 * The selfish miner of Eyal and Sirer 2014 ("Majority is not Enough", Algorithm 1) as a miner
 * strategy of the simulated PoW network (lab/sim/pow-network.ts): a pool that keeps the blocks
 * it finds private and releases them to waste the honest miners' work. Its node is a real
 * Catena chain; what it releases goes to honest nodes whose real importer chooses the branch.
 *
 *   on pool block:   Δprev = private − public; keep it private; if Δprev = 0 and the private
 *                    branch is 2 long (a tie we just broke): publish it all
 *   on others' block (a new public height): Δprev = private − public;
 *                    Δprev = 0: adopt the public chain; 1: publish our block (a tie, state 0');
 *                    2: publish it all (we win by one); > 2: publish the first unpublished block
 *
 * Which branch honest miners take in a tie is theirs (first seen, or a coin with
 * `tieBreak: 'random'`): the pool only chooses when its blocks reach whom (`publishDelay`).
 * @module
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { MinerContext, MinerStrategy } from '../sim/pow-network.ts'

export interface SelfishMinerOptions {
  /**
   * Seconds until node `to` gets a block the pool releases (the pool's place in the network):
   * nodes that get it before a competing honest block mine on it under first-seen, which is
   * how Eyal and Sirer's γ comes about. Default: the network's delay.
   */
  publishDelay?: (to: number) => number
}

/** What the pool did, for reports and checks. */
export interface SelfishMinerStats {
  /** Ties the pool made (state 0'). */
  ties: number
  /** Times it published its whole private branch and won. */
  overrides: number
  /** Honest blocks that ended the pool's branch (it adopted the public chain). */
  adopted: number
  /** Ties ended by an honest block: on the pool's block (the realised γ's numerator) or on the honest one. */
  tieHonestOnPool: number
  tieHonestOnHonest: number
}

export class SelfishMiner implements MinerStrategy {
  /** The pool's blocks since the fork from the public chain, oldest first. */
  private privateBranch: Uint8Array[] = []
  /** How many of them are published. */
  private published = 0
  /** Height of the longest public chain the pool knows (its own published blocks included). */
  private publicHeight = 0n
  readonly stats: SelfishMinerStats = { ties: 0, overrides: 0, adopted: 0, tieHonestOnPool: 0, tieHonestOnHonest: 0 }
  /** Set by a handler: the context to publish through when a run is finished (publishAll). */
  private ctx?: MinerContext

  constructor(private readonly opts: SelfishMinerOptions = {}) {}

  /** Private tip height minus public height: the paper's state (0 in state 0' too). */
  get lead(): number {
    return Number(this.privateHeight - this.publicHeight)
  }

  /** The private branch's length (1 in state 0': the published block that ties). */
  get branchLength(): number {
    return this.privateBranch.length
  }

  /** State 0': the pool's one block published against an honest block of the same height. */
  get inTie(): boolean {
    return this.inTieAt(this.lead)
  }

  private inTieAt(lead: number): boolean {
    return this.privateBranch.length === 1 && this.published === 1 && lead === 0
  }

  miningParent(ctx: MinerContext): Uint8Array {
    this.ctx = ctx
    return this.privateBranch.at(-1) ?? ctx.node.head.hash
  }

  onMined(ctx: MinerContext, hash: Uint8Array): void {
    this.ctx = ctx
    const deltaPrev = this.lead
    this.privateBranch.push(hash)
    if (deltaPrev === 0 && this.privateBranch.length === 2) {
      // We broke our own tie: two blocks against one.
      this.stats.overrides++
      this.publishAll()
    }
  }

  async onReceived(ctx: MinerContext, hash: Uint8Array): Promise<void> {
    this.ctx = ctx
    await ctx.accept(hash) // our node keeps it if its branch could win (the importer's side-branch policy)
    const height = ctx.info(hash).height
    if (height <= this.publicHeight) return // not a new public height: nothing for the strategy
    const deltaPrev = this.lead
    this.publicHeight = height
    if (this.inTieAt(deltaPrev)) {
      const onPool = equalsBytes(ctx.info(hash).block.header.parentHash, this.privateBranch[0]!)
      if (onPool) this.stats.tieHonestOnPool++
      else this.stats.tieHonestOnHonest++
    }
    if (this.privateBranch.length === 0 || deltaPrev <= 0) {
      // They win (or we had nothing): mine on the public chain, which our node follows.
      if (this.privateBranch.length > 0) this.stats.adopted++
      this.reset()
    } else if (deltaPrev === 1) {
      // Same length now: publish our block and try our luck (state 0').
      this.stats.ties++
      this.publishNext()
    } else if (deltaPrev === 2) {
      // One ahead after their block: publish everything, the longer branch wins.
      this.stats.overrides++
      this.publishAll()
    } else {
      this.publishNext()
    }
  }

  /** The end of a run: a lead of two or more is published now and wins (the model's end rule). */
  publishAll(): void {
    if (this.privateBranch.length === 0) return
    this.publish(this.privateBranch.at(-1)!)
    this.publicHeight = this.privateHeight
    this.reset()
  }

  private get privateHeight(): bigint {
    const tip = this.privateBranch.at(-1)
    return tip && this.ctx ? this.ctx.info(tip).height : this.publicHeight
  }

  private publishNext(): void {
    const next = this.privateBranch[this.published]
    if (!next) throw new Error(`selfish miner: no unpublished block to release (branch ${this.privateBranch.map(bytesToHex).join(',')})`)
    this.published++
    this.publish(next)
  }

  /** Receivers fetch the ancestors they lack, so publishing a tip publishes its branch. */
  private publish(hash: Uint8Array): void {
    this.ctx!.publish(hash, this.opts.publishDelay ? { delay: this.opts.publishDelay } : {})
  }

  private reset(): void {
    this.privateBranch = []
    this.published = 0
  }
}
