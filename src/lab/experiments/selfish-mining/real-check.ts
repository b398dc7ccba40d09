/**
 * The real-code cross-check: the selfish pool (adversaries/selfish-miner.ts) against honest
 * miners on a simulated PoW network whose nodes are real Catena chains (lab/sim/pow-network.ts:
 * real blocks with real proofs of work, the real BlockImporter choosing the branch). γ is not a
 * parameter there: it comes from delivery order. The pool hears an honest block first and
 * releases its own at once; the honest nodes in the set S get the pool's block before the honest
 * one and, keeping the first seen, mine on the pool's branch. The finder of the honest block
 * always has its own first, so with n equal honest nodes and S = all of them γ = 1 − 1/n.
 *
 * The same schedule (who finds each block) drives the real network and the model: with
 * first-seen tie-breaking the model must reproduce the real chain block for block; with random
 * tie-breaking (the countermeasure, each node's coin from the seeded PRNG) the coins are the
 * nodes', so the mean real revenue is checked against the model's 99% range for the mean of as
 * many races of that length (the first-seen rows too).
 * @module
 */
import type { TieBreak } from '../../../chain/spec/index.ts'
import { SelfishMiner, type SelfishMinerStats } from '../../adversaries/selfish-miner.ts'
import { PowNetwork, replaySchedule, type MinerConfig } from '../../sim/pow-network.ts'
import { labPowSpec } from '../../sim/pow-spec.ts'
import { Prng } from '../../sim/prng.ts'
import { meanEstimate, type MeanEstimate } from '../../stats.ts'
import { randomSchedule, revenue, runRace, SelfishRace, type Finder, type Schedule, type Tally } from './model.ts'

export interface RealCase {
  alpha: number
  /** The honest nodes that get the pool's released block first: 'none' (γ = 0) or 'all' (γ = 1 − 1/n). */
  poolFirst: 'none' | 'all'
  tieBreak: TieBreak
  /** Blocks found before the race is played out. */
  blocks: number
  honestNodes: number
}

/** One race on the real network. */
export interface RealRace {
  /** The final canonical chain (every honest node's, all equal). */
  pool: number
  honest: number
  found: number
  revenue: number
  /** Branch switches of honest nodes, and the deepest of any node. */
  reorgs: number
  deepestReorg: number
  /** The model on the same schedule (first-seen only: random tie-breaks are the nodes' coins). */
  replay?: Tally
  /** The model's tally equals the real chain's. */
  exact?: boolean
  stats: SelfishMinerStats
}

export interface RealResult {
  case: RealCase
  /** The γ the delivery order and tie-break give: what the model runs with. */
  gamma: number
  races: RealRace[]
  /** Mean revenue over the races, with its 95% interval. */
  revenue: MeanEstimate
  /** γ as it happened: the share of ties ended by an honest block in which that block extended the pool's. */
  realisedGamma: number | undefined
  /** The model at this α and γ, races of the same length: where the mean of this many races lands (99%). */
  model: { mean: number; low: number; high: number; races: number }
  /** Every first-seen race replayed exactly, and the real mean within the model's range. */
  agrees: boolean
}

/** The pool is miner 0; honest miners 1..n share 1 − α equally. */
const POOL = 0
/**
 * Propagation is negligible against the block interval, as in the paper's model (no two honest
 * blocks race): blocks come every 600 s on average; honest nodes hear each other after 2 µs, the
 * pool hears them after 0.5 µs and reaches the nodes it favours 0.5 µs later (before the honest
 * block does), the others after 10 µs. Only the order of arrival matters, and that is γ.
 */
export const MEAN_BLOCK_SECONDS = 600
const HONEST_DELAY = 2e-6
const TO_POOL_DELAY = 5e-7
const FAST = 5e-7
const SLOW = 1e-5

export function effectiveGamma(c: Pick<RealCase, 'poolFirst' | 'tieBreak' | 'honestNodes'>): number {
  if (c.tieBreak === 'random') return 0.5
  return c.poolFirst === 'all' ? 1 - 1 / c.honestNodes : 0
}

/** Who finds each block: the pool with probability α, else an honest miner drawn uniformly. */
export function drawFinders(alpha: number, honestNodes: number, count: number, prng: Prng): number[] {
  return Array.from({ length: count }, () => (prng.chance(alpha) ? POOL : 1 + Math.floor(prng.next() * honestNodes)))
}

/**
 * The model fed the real schedule: in a tie the honest finder j mines on the pool's branch when
 * it got the pool's block first: j is in S and did not find the competing honest block itself.
 */
export function replayToModel(finders: readonly number[], poolFirst: RealCase['poolFirst']): Schedule {
  let i = 0
  let current = -1
  let previousHonest = -1
  return {
    next(): Finder {
      if (i >= finders.length) throw new Error('the schedule ran out of blocks')
      if (current > POOL) previousHonest = current
      current = finders[i++]!
      return current === POOL ? 'pool' : 'honest'
    },
    onPoolBranch: () => poolFirst === 'all' && current !== previousHonest,
  }
}

/**
 * The model's distribution of the mean revenue of `n` races of `blocks` blocks (from `races`
 * model races): its mean and central 99% (normal, from the races' spread), where the real mean
 * should land.
 */
export function modelRange(alpha: number, gamma: number, blocks: number, n: number, races: number, seed: number): RealResult['model'] {
  const prng = new Prng(seed)
  const xs: number[] = []
  for (let r = 0; r < races; r++) xs.push(revenue(runRace(randomSchedule(alpha, gamma, prng), blocks)))
  const m = meanEstimate(xs)
  const sd = m.se * Math.sqrt(races)
  const half = (Z99 * sd) / Math.sqrt(n)
  return { mean: m.mean, low: m.mean - half, high: m.mean + half, races }
}

const Z99 = 2.5758293035489

/** `races` races of case `c`, each with its own schedule, checked against the model. */
export async function runRealCase(c: RealCase, races: number, seed: number, onBlock?: () => void): Promise<RealResult> {
  const prng = new Prng(seed)
  const out: RealRace[] = []
  for (let r = 0; r < races; r++) out.push(await runRealRace(c, prng.nextU32(), onBlock))
  const gamma = effectiveGamma(c)
  const model = modelRange(c.alpha, gamma, c.blocks, races, 2000, prng.nextU32())
  const rev = meanEstimate(out.map((x) => x.revenue))
  const onPool = out.reduce((a, x) => a + x.stats.tieHonestOnPool, 0)
  const ended = onPool + out.reduce((a, x) => a + x.stats.tieHonestOnHonest, 0)
  const agrees = out.every((x) => x.exact !== false) && rev.mean >= model.low && rev.mean <= model.high
  return { case: c, gamma, races: out, revenue: rev, realisedGamma: ended > 0 ? onPool / ended : undefined, model, agrees }
}

/** One race through the real network (a fresh network of real chains), played out to a settled state. */
export async function runRealRace(c: RealCase, seed: number, onBlock?: () => void): Promise<RealRace> {
  const prng = new Prng(seed)
  // Enough finders for the run and for playing the race out afterwards.
  const finders = drawFinders(c.alpha, c.honestNodes, c.blocks + 1000, prng)
  const selfish = new SelfishMiner({ publishDelay: () => (c.poolFirst === 'all' ? FAST : SLOW) })
  const base = labPowSpec()
  if (base.engine.type !== 'pow') throw new Error('the lab PoW spec is not pow')
  const spec = { ...base, engine: { ...base.engine, tieBreak: c.tieBreak } }
  const miners: MinerConfig[] = [
    { hashrate: c.alpha, strategy: selfish, name: 'selfish pool' },
    ...Array.from({ length: c.honestNodes }, (_, k) => ({ hashrate: (1 - c.alpha) / c.honestNodes, name: `honest ${k + 1}` })),
  ]
  const net = await PowNetwork.create({
    seed: prng.nextU32(),
    spec,
    miners,
    schedule: replaySchedule(finders, MEAN_BLOCK_SECONDS),
    delay: (_from, to) => (to === POOL ? TO_POOL_DELAY : HONEST_DELAY),
  })
  for (let i = 0; i < c.blocks; i++) {
    await net.run({ blocks: 1 })
    onBlock?.()
  }
  // Play the race out as the model does: a lead of two or more is published and wins.
  while (selfish.branchLength > 0) {
    if (!selfish.inTie && selfish.lead >= 2) {
      selfish.publishAll()
      break
    }
    await net.run({ blocks: 1 })
  }
  await net.settle()
  const chains = net.nodes.slice(1).map((_, k) => net.canonical(k + 1))
  const heads = new Set(chains.map((ch) => (ch.length ? Buffer.from(ch.at(-1)!.hash).toString('hex') : 'genesis')))
  if (heads.size !== 1) throw new Error(`the honest nodes ended on ${heads.size} different heads`)
  const canonical = chains[0]!
  const pool = canonical.filter((b) => b.miner === POOL).length
  const race: RealRace = {
    pool,
    honest: canonical.length - pool,
    found: net.totalBlocks,
    revenue: canonical.length ? pool / canonical.length : 0,
    reorgs: net.reorgs.filter((r) => r.node !== POOL).length,
    deepestReorg: Math.max(0, ...net.reorgs.map((r) => r.depth)),
    stats: { ...selfish.stats },
  }
  if (c.tieBreak === 'first-seen') {
    const schedule = replayToModel(finders, c.poolFirst)
    const model = new SelfishRace()
    for (let i = 0; i < c.blocks; i++) model.step(schedule.next(), schedule)
    race.replay = model.finish(schedule)
    race.exact = race.replay.pool === race.pool && race.replay.honest === race.honest && race.replay.found === race.found
  }
  return race
}
