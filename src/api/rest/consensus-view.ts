/**
 * What the REST API needs to know about the consensus engine, in one place: who produces
 * blocks (validators with voting power, miners, or the single dev producer), which height
 * counts as final, how deep a reorg may safely go, and (BFT) the double-vote evidence that
 * committed blocks carry in their seals, which is what gets validators slashed.
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { BlockHeader } from '../../chain/block.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'
import type { BftSeal } from '../../consensus/bft-engine/seal.ts'
import type { ValidatorSchedule } from '../../consensus/bft-engine/config.ts'

export type ProducerKind = 'validators' | 'miners' | 'producer'

/** Confirmations after which a PoW block is treated as final here (Bitcoin's customary 6). */
export const POW_SAFE_CONFIRMATIONS = 6

/** The parts of a consensus engine the REST API reads (all optional but the type). */
export interface EngineLike {
  readonly type: string
  /** BFT: the validator set of each height. */
  readonly schedule?: Pick<ValidatorSchedule, 'at'>
  /** PoW: the expected hashes behind a header. */
  blockWork?(header: BlockHeader): bigint
  /** PoW: the deepest branch switch the node accepts. */
  readonly maxReorgDepth?: number
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
  /** Reorgs deeper than this are flagged (the confirmations users wait for). */
  safeReorgDepth: number
  /** The deepest reorg the node accepts at all (null: the engine never reorganizes past finality). */
  reorgDepthLimit: number | null
  /** BFT: double-vote evidence carried by a committed header's seal. */
  evidenceOf(header: BlockHeader): EvidenceRecord[]
}

/** Builds the view for a chain spec and its engine (loads the BFT seal codec only for BFT chains). */
export async function consensusView(spec: ChainSpec, engine: EngineLike): Promise<ConsensusView> {
  const type = spec.engine.type
  let decodeSeal: ((bytes: Uint8Array) => BftSeal) | undefined
  if (type === 'bft') decodeSeal = (await import('../../consensus/bft-engine/seal.ts')).decodeSeal
  const powLimit = spec.engine.type === 'pow' ? spec.engine.maxReorgDepth : undefined
  const safe = powLimit !== undefined ? Math.max(1, Math.min(POW_SAFE_CONFIRMATIONS, powLimit)) : POW_SAFE_CONFIRMATIONS
  return {
    kind: type === 'bft' ? 'validators' : type === 'pow' ? 'miners' : 'producer',
    flavour: spec.engine.type === 'bft' ? (spec.engine.staking ? 'pos' : 'poa') : type,
    validators(head) {
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
    blockWork: (header) => (engine.blockWork ? engine.blockWork(header) : undefined),
    // BFT blocks are final once committed; dev has a single producer; PoW is final by depth.
    finalizedHeight: (head) => (type === 'pow' ? (head > BigInt(safe) ? head - BigInt(safe) : 0n) : head),
    safeReorgDepth: safe,
    reorgDepthLimit: type === 'pow' ? (engine.maxReorgDepth ?? powLimit ?? null) : null,
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
  }
}

/** A stable key for one offence (validator, height, round, vote type). */
export function offenceId(e: EvidenceRecord): string {
  return `${bytesToHex(e.validator)}/${e.height}/${e.round}/${e.voteType}`
}
