/**
 * What a BFT simulation run is made of (network, partitions, crashes, byzantine behaviours,
 * timeouts) and how it reports a broken invariant.
 */
import type { TimeoutConfig } from '../../consensus/bft/index.ts'
import type { Behavior } from './bft-byzantine.ts'

export interface NetConfig {
  minDelayMs: number
  maxDelayMs: number
  /** Probability a message is lost. */
  loss: number
  /** Probability a message is delivered twice. */
  duplicate: number
}

export interface Partition {
  fromMs: number
  toMs: number
  /**
   * Two nodes reach each other only when some group holds both; nodes in no group reach
   * nobody. Groups may overlap: an adversary's nodes can sit in every group.
   */
  groups: number[][]
}

export interface Crash {
  node: number
  atMs: number
  /** Omit to stay down. */
  restartAtMs?: number
}

export interface SimConfig {
  seed: number
  powers: bigint[]
  byzantine?: Record<number, Behavior[]>
  net?: Partial<NetConfig>
  partitions?: Partition[]
  crashes?: Crash[]
  timeouts?: TimeoutConfig
  gossipMs?: number
  /** Negative control: a restarted node gets an empty WAL (what the WAL prevents then happens). */
  forgetfulWal?: boolean
  /** Record violations in `violations` and run on, instead of throwing the first (the lab counts them). */
  recordViolations?: boolean
  /** The chain id signatures commit to (default 4242; the lab's PoS check uses its chain's). */
  chainId?: bigint
  /** The honest groups the adversary's 'split-vote' nodes show two different blocks to. */
  splitSides?: [number[], number[]]
}

export type ViolationKind = 'safety' | 'double-sign' | 'certificate' | 'evidence' | 'lock-invariant'

export class SimViolation extends Error {
  constructor(
    readonly seed: number,
    readonly kind: ViolationKind,
    message: string,
    /** Simulated time and height of the violation (safety: the height with two blocks). */
    readonly atMs = 0,
    readonly height?: bigint,
  ) {
    super(`[seed ${seed}] ${kind}: ${message}`)
    this.name = 'SimViolation'
  }
}

export const SIM_TIMEOUTS: TimeoutConfig = {
  propose: { baseMs: 300, deltaMs: 150 },
  prevote: { baseMs: 150, deltaMs: 100 },
  precommit: { baseMs: 150, deltaMs: 100 },
  commitMs: 50,
}

export const DEFAULT_NET: NetConfig = { minDelayMs: 5, maxDelayMs: 60, loss: 0.05, duplicate: 0.05 }
export const DEFAULT_CHAIN_ID = 4242n
