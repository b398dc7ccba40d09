/**
 * The PoS half of the experiment: the evidence honest validators collected in an attack run
 * is put in a block's seal on a real PoS chain (PosChain: the ethereum-like preset with the
 * run's validators bonded), imported with the honest validators' commit certificate, and the
 * staking contract is read back: each equivocator lost slashBasisPoints of its stake, is
 * jailed and left the validator set; the honest ones kept everything; the chain goes on
 * finalizing with the honest validators alone.
 * @module
 */
import { offenceKey, type DuplicateVoteEvidence } from '../../../consensus/bft/index.ts'
import { POS_STAKE, PosChain } from '../../sim/pos-chain.ts'
import type { AttackOutcome } from './runs.ts'

export interface SlashingOutcome {
  n: number
  f: number
  seed: number
  /** Offences reported by honest nodes, and the validators they name. */
  offences: number
  named: number[]
  /** One piece of evidence per offender (the earliest), carried by one block. */
  evidenceInBlock: number
  blockHeight: string
  /** Per validator after that block. */
  standing: Array<{ index: number; byzantine: boolean; stake: string; jailed: boolean; active: boolean }>
  /** Offenders lost exactly slashBasisPoints of their stake, are jailed and out of the set; honest untouched. */
  slashedExactly: boolean
  /** A further block certified by the honest validators alone was imported. */
  chainContinued: boolean
}

/** The earliest piece of evidence for each offender. */
function onePerOffender(evidence: readonly DuplicateVoteEvidence[]): DuplicateVoteEvidence[] {
  const byValidator = new Map<string, DuplicateVoteEvidence>()
  const sorted = [...evidence].sort((a, b) => (a.voteA.height === b.voteA.height ? a.voteA.round - b.voteA.round : a.voteA.height < b.voteA.height ? -1 : 1))
  for (const ev of sorted) {
    const who = offenceKey(ev).split('/')[0]!
    if (!byValidator.has(who)) byValidator.set(who, ev)
  }
  return [...byValidator.values()]
}

export async function slashOnPosChain(n: number, f: number, run: AttackOutcome): Promise<SlashingOutcome> {
  const pos = await PosChain.open(run.keys)
  if (pos.spec.engine.type !== 'bft' || !pos.spec.engine.staking) throw new Error('the PoS preset has no staking')
  const slashBps = BigInt(pos.spec.engine.staking.slashBasisPoints)
  const byz = new Set(run.byzantine)
  const honestKeys = run.keys.filter((_, i) => !byz.has(i))
  const evidence = onePerOffender(run.evidence)
  const top = evidence.reduce((m, ev) => (ev.voteA.height > m ? ev.voteA.height : m), 1n)
  // The chain must have reached the offences' heights: evidence from the future is refused.
  while (pos.height + 1n < top) await pos.extend(honestKeys)
  await pos.extend(honestKeys, evidence)
  const blockHeight = pos.height
  const standing = await Promise.all(run.keys.map(async (k, index) => ({ index, byzantine: byz.has(index), ...(await pos.standing(k)) })))
  const slashed = POS_STAKE - (POS_STAKE * slashBps) / 10_000n
  const slashedExactly = standing.every((s) => (s.byzantine ? s.stake === slashed && s.jailed && !s.active : s.stake === POS_STAKE && !s.jailed && s.active))
  let chainContinued = true
  try {
    await pos.extend(honestKeys)
  } catch {
    chainContinued = false
  }
  return {
    n,
    f,
    seed: run.seed,
    offences: run.offences,
    named: run.accused,
    evidenceInBlock: evidence.length,
    blockHeight: blockHeight.toString(),
    standing: standing.map((s) => ({ index: s.index, byzantine: s.byzantine, stake: s.stake.toString(), jailed: s.jailed, active: s.active })),
    slashedExactly,
    chainContinued,
  }
}
