/**
 * The PoW engine's rules, which every node checks (no running engine needed: import, sync):
 * the bits must be what the chain spec's retarget rule gives for the block's branch, the proof
 * must meet them (seal.ts), the time must be past the median of the last 11 blocks and not too
 * far ahead of the clock (time-rules.ts). Fork choice follows the most expected hashes; a
 * block's subsidy and fees mature after coinbaseMaturity blocks; a tie in work keeps the first
 * seen branch, or with `tieBreak: 'random'` flips a coin; finality is probabilistic:
 * a block with POW_CONFIRMATIONS blocks on top of it counts as final and safe.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { bytesToHex } from '@ethereumjs/util'
import type { BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { BlockExecutionInputs, BlockRules, BranchView, Finality, HeaderView } from '../../chain/rules.ts'
import type { PowEngineSpec } from '../../chain/spec/index.ts'
import { meetsTarget, powHash } from './pow-hash.ts'
import { nextBits, type AncestorInfo, type RetargetRule } from './retarget.ts'
import { decodePowSeal, sealHash, type HeaderSource, type SealChainId } from './seal.ts'
import { compactToTarget, workFromBits } from './target.ts'
import { MEDIAN_TIME_SPAN, maxFutureSeconds, medianTimePast } from './time-rules.ts'

/** Confirmations after which a PoW block counts as final (Bitcoin's customary six), capped by maxReorgDepth. */
export const POW_CONFIRMATIONS = 6

/** A uniform draw in [0, 1) from the OS's CSPRNG: an attacker cannot predict a node's tie-breaks. */
export const cryptoRandom = (): number => randomBytes(4).readUInt32BE(0) / 0x100000000

/** Ancestors this close to a block are found by walking its own branch; older ones by the canonical index. */
const BRANCH_WALK = 4096n

export class PowRules implements BlockRules {
  readonly maxFutureSeconds: bigint
  readonly maxReorgDepth: number
  private readonly rule: RetargetRule
  private readonly powLimit: bigint
  private readonly spacing: bigint

  constructor(
    readonly spec: PowEngineSpec,
    private readonly blockTimeMs: number,
    private readonly headers: HeaderSource,
    private readonly now: () => bigint = () => BigInt(Math.floor(Date.now() / 1000)),
    /** Chains with a chain-id fork: what each height's seal commits to (see sealHash). */
    readonly sealChainId?: SealChainId,
    /** The coin of `tieBreak: 'random'`, uniform in [0, 1): the OS's randomness; the lab injects its seeded PRNG. */
    private readonly random: () => number = cryptoRandom,
  ) {
    this.spacing = BigInt(Math.max(1, Math.round(blockTimeMs / 1000)))
    this.maxFutureSeconds = maxFutureSeconds(Number(this.spacing))
    this.maxReorgDepth = spec.maxReorgDepth
    this.powLimit = compactToTarget(spec.powLimitBits)
    this.rule = spec.retarget.kind === 'bitcoin' ? { kind: 'bitcoin', interval: spec.retarget.interval } : { kind: 'asert', halfLifeSeconds: spec.retarget.halfLifeSeconds, anchorHeight: 0 }
  }

  /** These rules reading headers from `view` (a peer's branch not stored yet, over the chain): headers-first sync. */
  withHeaders(view: HeaderView): PowRules {
    return new PowRules(this.spec, this.blockTimeMs, view, this.now, this.sealChainId, this.random)
  }

  /**
   * Equal work: 'random' switches to the new branch half the time (Eyal and Sirer's uniform
   * tie-breaking: a selfish pool that releases its block against an honest one wins the honest
   * hashrate's half, not all the nodes its block reaches first); 'first-seen' keeps the head.
   */
  switchOnTie(): boolean {
    return this.spec.tieBreak === 'random' && this.random() < 0.5
  }

  /** The bits the child of `parent` (stored, with hash `parentHash`) must carry. */
  expectedBits(parentHash: Uint8Array, parent: BlockHeader): number {
    const parentBits = parent.height === 0n ? this.spec.initialBits : decodePowSeal(parent.seal).bits
    return nextBits(this.rule, {
      parent: { height: parent.height, time: parent.timestamp, bits: parentBits },
      ancestor: (height) => this.ancestor(parentHash, parent, height),
      targetSpacing: this.spacing,
      powLimit: this.powLimit,
    })
  }

  verifyHeader(header: BlockHeader, parent: BlockHeader): void {
    const seal = decodePowSeal(header.seal)
    const expected = this.expectedBits(header.parentHash, parent)
    if (seal.bits !== expected) {
      throw new BlockError('BAD_SEAL', `block ${header.height} has bits 0x${seal.bits.toString(16)} but the retarget rule requires 0x${expected.toString(16)}`)
    }
    const target = compactToTarget(seal.bits)
    if (!meetsTarget(powHash(sealHash(header, this.sealChainId?.(header.height)), seal.bits, seal.nonce), target)) {
      throw new BlockError('BAD_SEAL', `block ${header.height} does not meet its proof-of-work target (bits 0x${seal.bits.toString(16)})`)
    }
    const mtp = this.medianTimePastAfter(header.parentHash, parent)
    if (header.timestamp <= mtp) throw new BlockError('TIME_TOO_OLD', `block ${header.height} time ${header.timestamp} is not after the median time of the last blocks (${mtp})`)
    if (header.timestamp > this.now() + this.maxFutureSeconds) {
      throw new BlockError('TIME_TOO_NEW', `block ${header.height} time ${header.timestamp} is more than ${this.maxFutureSeconds}s ahead of this node's clock`)
    }
  }

  /** The median time of the last 11 blocks up to `parent`: a child's time must be later. */
  medianTimePastAfter(_parentHash: Uint8Array, parent: BlockHeader): bigint {
    const times: bigint[] = []
    let cursor: BlockHeader | undefined = parent
    while (cursor && times.length < MEDIAN_TIME_SPAN) {
      times.push(cursor.timestamp)
      if (cursor.height === 0n) break
      cursor = this.headers.getHeader(cursor.parentHash)
    }
    return medianTimePast(times)
  }

  /**
   * Block h pays the subsidy and the escrowed earnings of block h - coinbaseMaturity (on its
   * own branch) to that block's producer; until then they wait in escrow (executor.ts).
   */
  blockEffects(branch: BranchView): BlockExecutionInputs {
    if (this.spec.coinbaseMaturity === 0) return {}
    const maturing = branch.height - BigInt(this.spec.coinbaseMaturity)
    if (maturing < 1n) return { maturedReward: null }
    const hash = branch.ancestorHash(maturing)
    const header = branch.header(hash)!
    const amount = branch.issued(hash) - branch.issued(header.parentHash)
    return { maturedReward: { to: header.producer, amount, height: maturing } }
  }

  /** Probabilistic finality: the block POW_CONFIRMATIONS deep (never deeper than a reorg this node accepts). */
  finality(head: bigint): Finality {
    const depth = BigInt(Math.min(POW_CONFIRMATIONS, this.maxReorgDepth))
    const final = head > depth ? head - depth : 0n
    return { finalized: final, safe: final }
  }

  /** Expected hashes to find this block: 2^256 / (target + 1). */
  blockWork(header: BlockHeader): bigint {
    return header.height === 0n ? 0n : workFromBits(decodePowSeal(header.seal).bits)
  }

  private ancestor(parentHash: Uint8Array, parent: BlockHeader, height: bigint): AncestorInfo {
    if (height > parent.height) throw new Error(`no ancestor at height ${height} above the parent ${parent.height}`)
    let header: BlockHeader | undefined
    // Genesis (ASERT's anchor) is every branch's: no walk back to it for every block.
    if (height > 0n && parent.height - height <= BRANCH_WALK) {
      header = parent
      let hash = parentHash
      while (header && header.height > height) {
        hash = header.parentHash
        header = this.headers.getHeader(hash)
      }
    } else {
      const hash = this.headers.getHashAt(height)
      header = hash && this.headers.getHeader(hash)
    }
    if (!header) throw new BlockError('UNKNOWN_PARENT', `ancestor at height ${height} of ${bytesToHex(parentHash)} is not stored`)
    return { time: header.timestamp, bits: header.height === 0n ? this.spec.initialBits : decodePowSeal(header.seal).bits }
  }
}
