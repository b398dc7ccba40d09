/**
 * The real-code cross-check of the race model: a race the model drew (who found each block,
 * and when, for timed races) is replayed through the lab's PoW network — two honest nodes and
 * the attacker's, each a real chain importing real blocks through the real BlockImporter — with
 * the DoubleSpender strategy and instant propagation (the model's assumption). The attack
 * succeeded on the real chains when every honest node's canonical chain holds the conflicting
 * tx and not the payment; that must be exactly the runs the model calls a success.
 * @module
 */
import { DoubleSpender, addressOfKey, doubleSpendTxs } from '../adversaries/pow-double-spender.ts'
import { PowNetwork, type BlockFinding } from '../sim/pow-network.ts'
import { labKeys, labPowSpec } from '../sim/pow-spec.ts'
import { ATTACKER, type RaceRun } from './double-spend-race.ts'

export interface ReplayOutcome {
  /** The model's verdict. */
  modelSuccess: boolean
  /** Every honest node's chain holds the conflicting tx and not the payment. */
  reversed: boolean
  /** Every honest node's chain holds the payment and not the conflicting tx. */
  paymentStands: boolean
  /** Deepest reorg an honest node made (blocks disconnected). */
  reorgDepth: number
  /** Honest blocks above the fork point when the attacker published (undefined: it never did). */
  confirmationsAtPublish?: number
  blocks: number
}

const HONEST_NODES = [0, 1] as const
const ATTACKER_NODE = 2

/**
 * Replays `run` (from raceOnce with the same q and z). `blockSeconds`: mean honest block
 * interval for untimed runs (their times are drawn here; the race does not depend on them).
 */
export async function replayDoubleSpend(o: { run: RaceRun; q: number; z: number; seed: number; deadlineSeconds?: number }): Promise<ReplayOutcome> {
  const spec = labPowSpec()
  const keys = labKeys(8)
  const txs = doubleSpendTxs(spec, keys[0]!, addressOfKey(keys[5]!), addressOfKey(keys[6]!), 10n ** 19n)
  const attacker = new DoubleSpender({ txs, confirmations: o.z, honestNodes: HONEST_NODES, ...(o.deadlineSeconds !== undefined ? { deadlineSeconds: o.deadlineSeconds } : {}) })
  const p = 1 - o.q
  const mean = (spec.blockTimeMs / 1000) * p
  let i = 0
  let last = 0
  const schedule = (prng: { next(): number; chance(p: number): boolean }): BlockFinding | undefined => {
    if (i >= o.run.finders.length) return undefined
    const who = o.run.finders[i]!
    let dt: number
    if (o.run.times) {
      dt = o.run.times[i]! - last
      last = o.run.times[i]!
    } else {
      dt = -Math.log(1 - prng.next()) * mean
    }
    i++
    // The model's "honest" is one of the two honest miners, half the honest hashrate each.
    return { miner: who === ATTACKER ? ATTACKER_NODE : prng.chance(0.5) ? 0 : 1, dt }
  }
  const net = await PowNetwork.create({
    seed: o.seed,
    spec,
    miners: [{ hashrate: p / 2 }, { hashrate: p / 2 }, { hashrate: o.q, strategy: attacker }],
    schedule,
    delay: () => 0,
  })
  await net.run()
  await net.settle()
  const has = (node: number, hash: Uint8Array) => net.nodes[node]!.hasCanonicalTx(hash)
  const payment = txs.payment.hash()
  const conflict = txs.conflict.hash()
  const reversed = HONEST_NODES.every((n) => !has(n, payment) && has(n, conflict))
  const paymentStands = HONEST_NODES.every((n) => has(n, payment) && !has(n, conflict))
  const honestReorgs = net.reorgs.filter((r) => r.node !== ATTACKER_NODE)
  return {
    modelSuccess: o.run.success,
    reversed,
    paymentStands,
    reorgDepth: Math.max(0, ...honestReorgs.map((r) => r.depth)),
    ...(attacker.publishedAt !== undefined ? { confirmationsAtPublish: attacker.honestBlocks } : {}),
    blocks: net.totalBlocks,
  }
}
