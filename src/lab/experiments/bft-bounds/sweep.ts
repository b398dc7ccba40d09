/**
 * The sweep: for each n and f = 0..n, `runs` seeded attack runs and `runs` seeded crash runs,
 * summed per cell; then, for each n and each 1 <= f < n/3, the first attack run's evidence
 * applied on a real PoS chain.
 * @module
 */
import { loadChainSpec } from '../../../chain/spec/index.ts'
import { loadArtifact } from '../../../contracts/index.ts'
import { progressCounter } from '../../progress.ts'
import { attackCanFork, liveUnderCrash, quorum, tolerated } from './quorum.ts'
import { attackRun, crashRun, type AttackOutcome, type CrashOutcome } from './runs.ts'
import { slashOnPosChain, type SlashingOutcome } from './slashing.ts'

export interface Cell {
  n: number
  f: number
  quorum: number
  /** f < n/3. */
  belowThird: boolean
  /** What quorum intersection predicts: the attack can fork (f >= 2q - n, two honest nodes). */
  canFork: boolean
  /** What quorum arithmetic predicts for f crashed: n - f >= q. */
  liveByQuorum: boolean
  attack: {
    runs: number
    violations: number
    violationsInPartition: number
    conflictingHeights: number
    liveAfterHeal: number
    /** Runs whose evidence named exactly the byzantine validators. */
    evidenceExact: number
    /** Runs where evidence named an honest validator (never expected). */
    honestAccused: number
    otherViolations: string[]
    firstViolationMs: number[]
  }
  crash: { runs: number; live: number; minHeights: number[] }
}

export interface SweepResult {
  cells: Cell[]
  slashing: SlashingOutcome[]
}

export interface SweepOptions {
  sizes: number[]
  runs: number
  seed: number
  progress: (line: string) => void
  /** Which f to run per n (default 0..n). */
  fs?: (n: number) => number[]
  /** Apply evidence on the PoS chain (default true). */
  slashing?: boolean
}

/** A distinct seed per (n, f, run) from the experiment's seed. */
export function runSeed(seed: number, n: number, f: number, r: number): number {
  return (Math.imul(seed, 1_000_003) + n * 7_919 + f * 104_729 + r * 15_485_863) >>> 0
}

function emptyCell(n: number, f: number): Cell {
  return {
    n,
    f,
    quorum: quorum(n),
    belowThird: 3 * f < n,
    canFork: attackCanFork(n, f),
    liveByQuorum: liveUnderCrash(n, f),
    attack: { runs: 0, violations: 0, violationsInPartition: 0, conflictingHeights: 0, liveAfterHeal: 0, evidenceExact: 0, honestAccused: 0, otherViolations: [], firstViolationMs: [] },
    crash: { runs: 0, live: 0, minHeights: [] },
  }
}

function addAttack(cell: Cell, o: AttackOutcome): void {
  const a = cell.attack
  a.runs++
  if (o.violation) a.violations++
  if (o.violationInPartition) a.violationsInPartition++
  a.conflictingHeights += o.conflictingHeights
  if (o.liveAfterHeal) a.liveAfterHeal++
  if (o.accused.length === o.byzantine.length && o.accused.every((i, k) => i === o.byzantine[k])) a.evidenceExact++
  if (o.accused.some((i) => !o.byzantine.includes(i))) a.honestAccused++
  a.otherViolations.push(...o.otherViolations.map((m) => `seed ${o.seed}: ${m}`))
  if (o.firstViolationMs !== null) a.firstViolationMs.push(o.firstViolationMs)
}

function addCrash(cell: Cell, o: CrashOutcome): void {
  cell.crash.runs++
  if (o.live) cell.crash.live++
  cell.crash.minHeights.push(o.minHeights)
}

export async function sweep(o: SweepOptions): Promise<SweepResult> {
  const chainId = loadChainSpec('ethereum-like').chainId
  // The PoS chain deploys the compiled staking contract: say it is missing before minutes of runs, not after.
  if (o.slashing !== false) loadArtifact('Staking')
  const fsOf = o.fs ?? ((n: number) => Array.from({ length: n + 1 }, (_, f) => f))
  const plan = o.sizes.flatMap((n) => fsOf(n).map((f) => ({ n, f })))
  const counter = progressCounter('bft-bounds runs', plan.length * o.runs * 2, o.progress)
  const cells: Cell[] = []
  const slashRuns: Array<{ n: number; f: number; run: AttackOutcome }> = []
  for (const { n, f } of plan) {
    const cell = emptyCell(n, f)
    for (let r = 0; r < o.runs; r++) {
      const seed = runSeed(o.seed, n, f, r)
      // No honest validator at all: nothing to attack or to keep live.
      if (f < n) {
        const run = attackRun(n, f, seed, chainId)
        addAttack(cell, run)
        if (r === 0 && f >= 1 && f <= tolerated(n)) slashRuns.push({ n, f, run })
      }
      counter.tick()
      addCrash(cell, crashRun(n, f, seed))
      counter.tick()
    }
    cells.push(cell)
  }
  counter.done()
  const slashing: SlashingOutcome[] = []
  if (o.slashing !== false) {
    const done = progressCounter('bft-bounds PoS slashing', slashRuns.length, o.progress)
    for (const s of slashRuns) {
      slashing.push(await slashOnPosChain(s.n, s.f, s.run))
      done.tick()
    }
    done.done()
  }
  return { cells, slashing }
}
