/**
 * One seeded run of each kind on the in-process BFT cluster (real BftDriver state machines,
 * real secp256k1 signatures, a lossy simulated network):
 * - attack: f validators run the 'split-vote' adversary while the network is partitioned the
 *   way it chooses (honest validators in two halves, the byzantine ones in both) for
 *   PARTITION_MS; then the partition heals (GST) and the attack goes on. Violations are
 *   recorded, not thrown; liveness is judged after the heal; evidence is what honest nodes
 *   reported and verified.
 * - crash: f validators withhold every message from the start (crashed for good).
 * @module
 */
import type { DuplicateVoteEvidence } from '../../../consensus/bft/index.ts'
import { Simulation, type Behavior, type SimNode } from '../../sim/bft-cluster.ts'
import { Prng } from '../../sim/prng.ts'
import { attackSplit } from './quorum.ts'

export const NET = { minDelayMs: 5, maxDelayMs: 80, loss: 0.05, duplicate: 0.05 }
/** How long the adversary holds its partition. */
export const PARTITION_MS = 3_000
/** Liveness: every honest, running node commits this many new heights... */
export const LIVE_HEIGHTS = 5
/** ...within this much simulated time (after the heal, or from the start for crashes). */
export const LIVE_WINDOW_MS = 10_000

export interface AttackOutcome {
  seed: number
  byzantine: number[]
  sides: [number[], number[]]
  /** Two honest nodes committed different blocks at some height. */
  violation: boolean
  /** ...while the partition held. */
  violationInPartition: boolean
  conflictingHeights: number
  firstViolationMs: number | null
  /** Violations other than safety (double sign, bad certificate, lock invariant, bad evidence): bugs, never expected. */
  otherViolations: string[]
  /** Every honest node committed LIVE_HEIGHTS new heights within LIVE_WINDOW_MS of the heal. */
  liveAfterHeal: boolean
  /** Validators (indices) named by the evidence honest nodes reported. */
  accused: number[]
  offences: number
  /** The first piece of evidence per offence (for the PoS chain). */
  evidence: DuplicateVoteEvidence[]
  keys: Uint8Array[]
}

export interface CrashOutcome {
  seed: number
  crashed: number[]
  live: boolean
  /** Fewest heights any running node committed in the window. */
  minHeights: number
}

function equalPowers(n: number): bigint[] {
  return Array.from({ length: n }, () => 10n)
}

/** The f nodes the adversary controls (or crashes) in this run, drawn from its seed. */
function pick(n: number, f: number, seed: number): { bad: number[]; good: number[] } {
  const order = new Prng(seed ^ 0x0b1f7).shuffle(Array.from({ length: n }, (_, i) => i))
  return { bad: order.slice(0, f).sort((a, b) => a - b), good: order.slice(f) }
}

const addressHex = (node: SimNode) => Buffer.from(node.address).toString('hex')

export function attackRun(n: number, f: number, seed: number, chainId: bigint): AttackOutcome {
  const { bad, good } = pick(n, f, seed)
  const { sides, groups } = attackSplit(good, bad)
  const sim = new Simulation({
    seed,
    chainId,
    powers: equalPowers(n),
    net: NET,
    recordViolations: true,
    splitSides: sides,
    byzantine: Object.fromEntries(bad.map((i): [number, Behavior[]] => [i, ['split-vote']])),
    partitions: [{ fromMs: 0, toMs: PARTITION_MS, groups }],
  })
  sim.run(PARTITION_MS)
  const inPartition = sim.violations.some((v) => v.kind === 'safety')
  const honest = sim.honestNodes()
  const atHeal = new Map(honest.map((h) => [h.index, h.commits.size]))
  const byAddress = new Map(sim.nodes.map((node) => [addressHex(node), node.index]))
  const accused = () => new Set([...sim.evidence.keys()].map((k) => byAddress.get(k.split('/')[0]!) ?? -1))
  let caughtAll = f === 0
  let seenOffences = -1
  const live = () => honest.every((h) => h.commits.size - atHeal.get(h.index)! >= LIVE_HEIGHTS)
  // Run on until liveness is shown and every byzantine validator is caught (or the window ends).
  sim.run(PARTITION_MS + LIVE_WINDOW_MS, () => {
    if (!caughtAll && sim.evidence.size !== seenOffences) {
      seenOffences = sim.evidence.size
      const named = accused()
      caughtAll = bad.every((i) => named.has(i))
    }
    return caughtAll && live()
  })
  const safety = sim.violations.filter((v) => v.kind === 'safety')
  return {
    seed,
    byzantine: bad,
    sides,
    violation: safety.length > 0,
    violationInPartition: inPartition,
    conflictingHeights: new Set(safety.map((v) => v.height)).size,
    firstViolationMs: safety[0]?.atMs ?? null,
    otherViolations: sim.violations.filter((v) => v.kind !== 'safety').map((v) => v.message),
    liveAfterHeal: honest.length > 0 && live(),
    accused: [...accused()].sort((a, b) => a - b),
    offences: sim.evidence.size,
    evidence: [...sim.evidencePieces.values()],
    keys: sim.nodes.map((node) => node.key),
  }
}

export function crashRun(n: number, f: number, seed: number): CrashOutcome {
  const { bad } = pick(n, f, seed)
  if (f >= n) return { seed, crashed: bad, live: false, minHeights: 0 }
  const sim = new Simulation({
    seed,
    powers: equalPowers(n),
    net: NET,
    // Withholding cannot fork: any violation here is a bug and throws.
    byzantine: Object.fromEntries(bad.map((i): [number, Behavior[]] => [i, ['silent']])),
  })
  const running = sim.honestNodes()
  const least = () => Math.min(...running.map((h) => h.commits.size))
  sim.run(LIVE_WINDOW_MS, () => least() >= LIVE_HEIGHTS)
  return { seed, crashed: bad, live: least() >= LIVE_HEIGHTS, minHeights: least() }
}
