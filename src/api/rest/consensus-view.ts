/**
 * What the REST API needs to know about the consensus engine, in one place: who produces
 * blocks (validators with voting power, miners, or the single dev producer), which heights
 * count as final and safe, how deep a reorg may safely go, (BFT) the double-vote evidence
 * that committed blocks carry in their seals, which is what gets validators slashed, and (PoH)
 * the slots, entries and clock of a solana-like chain (poh-view.ts).
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { BlockHeader } from '../../chain/block.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'
import type { BftSeal } from '../../consensus/bft-engine/seal.ts'
import type { ValidatorSchedule } from '../../consensus/bft-engine/config.ts'
import type { EngineRpcMethod } from '../../consensus/types.ts'
import { finalityAt, finalityDepth, type BlockRules } from '../../chain/rules.ts'
import { pohView, type PohView } from './poh-view.ts'

export type ProducerKind = 'validators' | 'miners' | 'producer'

/** The parts of a consensus engine the REST API reads. */
export interface EngineLike {
  readonly type: string
  /** BFT: the validator set of each height. */
  readonly schedule?: Pick<ValidatorSchedule, 'at'>
  /** The engine's block rules: work per block, reorg depth and the finality rule. */
  readonly rules: Pick<BlockRules, 'blockWork' | 'maxReorgDepth' | 'finality'>
  /** The engine's JSON-RPC methods (PoH: the status and leader schedule the REST routes wrap). */
  rpcMethods?(): Record<string, EngineRpcMethod>
}

export interface EvidenceRecord {
  validator: Uint8Array
  height: bigint
  round: number
  voteType: string
}

export interface ConsensusView {
  kind: ProducerKind
  /** 'poa' / 'pos' for BFT chains, else the engine type. */
  flavour: string
  /** BFT: the validators (with voting power) for the block after `head`. */
  validators(head: bigint): Array<{ address: Uint8Array; power: bigint }> | undefined
  blockWork(header: BlockHeader): bigint | undefined
  /** The highest height that can no longer be reverted, for a chain whose head is `head`. */
  finalizedHeight(head: bigint): bigint
  /** The highest height the engine calls safe (the RPC "safe" tag; PoH: confirmed by votes). */
  safeHeight(head: bigint): bigint
  /** Reorgs deeper than this are flagged (the confirmations users wait for). */
  safeReorgDepth: number
  /** The deepest reorg the node accepts at all (null: the engine never reorganizes past finality). */
  reorgDepthLimit: number | null
  /** BFT: double-vote evidence carried by a committed header's seal. */
  evidenceOf(header: BlockHeader): EvidenceRecord[]
  /** PoH chains only: slots, entries, the engine's status and leader schedule. */
  poh?: PohView
}

/** Builds the view for a chain spec and its engine (loads the BFT seal codec only for BFT chains). */
export async function consensusView(spec: ChainSpec, engine: EngineLike): Promise<ConsensusView> {
  const type = spec.engine.type
  let decodeSeal: ((bytes: Uint8Array) => BftSeal) | undefined
  if (type === 'bft') decodeSeal = (await import('../../consensus/bft-engine/seal.ts')).decodeSeal
  const poh = spec.engine.type === 'poh' ? await pohView(spec.engine, engine) : undefined
  const rules = engine.rules
  // Reorgs deeper than the engine's finality depth are flagged (PoW: its confirmations).
  const safe = Math.max(1, Number(finalityDepth(rules)))
  return {
    kind: type === 'bft' || type === 'poh' ? 'validators' : type === 'pow' ? 'miners' : 'producer',
    flavour: spec.engine.type === 'bft' ? (spec.engine.staking ? 'pos' : 'poa') : type,
    validators(head) {
      if (spec.engine.type === 'poh') return spec.engine.validators.map((v) => ({ address: v.address, power: v.power }))
      if (type !== 'bft') return undefined
      if (engine.schedule) {
        try {
          return engine.schedule.at(head + 1n).toEntries().map((v) => ({ address: v.address, power: v.power }))
        } catch {
          // fall back to the spec's set
        }
      }
      return spec.engine.type === 'bft' ? spec.engine.validators.map((v) => ({ address: v.address, power: v.power })) : undefined
    },
    blockWork: (header) => (rules.blockWork ? rules.blockWork(header) : undefined),
    // One finality rule per engine: the same answer as the RPC's "finalized" tag.
    finalizedHeight: (head) => finalityAt(rules, head).finalized,
    safeHeight: (head) => finalityAt(rules, head).safe,
    safeReorgDepth: safe,
    reorgDepthLimit: rules.maxReorgDepth !== undefined && rules.maxReorgDepth > 0 ? rules.maxReorgDepth : null,
    evidenceOf(header) {
      if (!decodeSeal || header.height === 0n) return []
      try {
        return (decodeSeal(header.seal).evidence ?? []).map((ev) => ({
          validator: ev.voteA.validator,
          height: ev.voteA.height,
          round: ev.voteA.round,
          voteType: ev.voteA.type,
        }))
      } catch {
        return []
      }
    },
    ...(poh ? { poh } : {}),
  }
}

/** A stable key for one offence (validator, height, round, vote type). */
export function offenceId(e: EvidenceRecord): string {
  return `${bytesToHex(e.validator)}/${e.height}/${e.round}/${e.voteType}`
}
