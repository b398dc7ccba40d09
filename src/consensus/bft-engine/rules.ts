/**
 * The BFT engine's block rules, which every node applies (import, sync, light clients), with
 * or without a running engine:
 * - proof: a block is imported only with its own commit certificate, precommits of more than
 *   2/3 of the voting power of its height for its hash (CometBFT applies a block only with a
 *   commit for it). Without it anyone who saw the parent's precommits could forge the next
 *   block and stall every node that took it: BFT never reorganizes.
 * - seal: the producer is the proposer of the seal's round (no later than the certificate's
 *   round, so a crafted round cannot cost proposer-selection time); the seal certifies the
 *   parent; PoS evidence in it is valid, each offence once, while the offender's stake is still
 *   bonded.
 * - effects (PoS): slash each offender named by the evidence, share the reward with the
 *   parent's voters, re-read the stakes at epoch boundaries and after a slash.
 * - finality: every imported block is final; nothing reorganizes (maxReorgDepth 0).
 * @module
 */
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { blockHash, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { BlockExecutionInputs, BlockRules, BranchView, Finality } from '../../chain/rules.ts'
import type { StakingSpec } from '../../chain/spec/index.ts'
import { SYSTEM_ADDRESS, STAKE_SNAPSHOT_CALLDATA, STAKING_ADDRESS, encodeSlash } from '../../contracts/index.ts'
import { decodeCertificate, offenceKey, verifyCertificate, verifyEvidence, type CommitCertificate, type DuplicateVoteEvidence } from '../bft/index.ts'
import type { ValidatorSchedule } from './config.ts'
import { MAX_EVIDENCE_AGE, decodeSeal, slashableOffence } from './seal.ts'

/** What the rules need of a PoS chain's staking parameters. */
export type BftStaking = Pick<StakingSpec, 'proposerRewardBasisPoints' | 'epochLength' | 'unbondingBlocks'>

export class BftRules implements BlockRules {
  /** Proposers set the time from their clock; allow modest skew. */
  readonly maxFutureSeconds = 15n
  /** A committed block is final: import keeps no other branch. */
  readonly maxReorgDepth = 0
  /**
   * Evidence older than this is refused. PoS: only while the stake it would slash is surely
   * still bonded: a validator that unstakes keeps voting until the next epoch boundary, and its
   * stake can be withdrawn unbondingBlocks after the unstake, so an offence is slashable for
   * unbondingBlocks - epochLength blocks (CometBFT ties its evidence age to the unbonding
   * period the same way).
   */
  readonly maxEvidenceAge: bigint

  constructor(
    readonly chainId: bigint,
    readonly schedule: ValidatorSchedule,
    /** PoS chains: evidence in seals, slashing, reward split and stake reads happen only then. */
    readonly staking?: BftStaking,
  ) {
    this.maxEvidenceAge = staking ? BigInt(Math.max(1, staking.unbondingBlocks - staking.epochLength)) : MAX_EVIDENCE_AGE
  }

  /** The commit certificate of the block itself: checked before its seal and body. */
  verifyProof(header: BlockHeader, hash: Uint8Array, proof: Uint8Array | undefined): void {
    if (!proof) throw new BlockError('MISSING_PROOF', `block ${header.height} came without its commit certificate: a BFT block is imported only with the precommits that made it final`)
    const cert = this.certificateOf(header, hash, proof)
    // Cheap before the seal's proposer lookup (O(round)): the block was built no later than it was decided.
    const round = decodeSeal(header.seal).round
    if (round > cert.round) throw new BlockError('BAD_SEAL', `block ${header.height} claims round ${round}, after the round ${cert.round} that decided it`)
  }

  /** Decodes and verifies a block's certificate; BlockError('BAD_PROOF') otherwise. */
  certificateOf(header: BlockHeader, hash: Uint8Array, proof: Uint8Array): CommitCertificate {
    try {
      const cert = decodeCertificate(proof)
      verifyCertificate(cert, hash, header.height, this.schedule.at(header.height), this.chainId)
      return cert
    } catch (err) {
      throw new BlockError('BAD_PROOF', `commit certificate of block ${header.height}: ${(err as Error).message}`)
    }
  }

  verifyHeader(header: BlockHeader, parent: BlockHeader): void {
    const seal = decodeSeal(header.seal)
    const set = this.schedule.at(header.height)
    let proposer
    try {
      proposer = set.proposer(seal.round)
    } catch (err) {
      throw new BlockError('BAD_SEAL', `bft seal round ${seal.round}: ${(err as Error).message}`)
    }
    if (!equalsBytes(proposer.address, header.producer)) {
      throw new BlockError(
        'BAD_SEAL',
        `block ${header.height} round ${seal.round} must be produced by its proposer ${bytesToHex(proposer.address)}, not ${bytesToHex(header.producer)}`,
      )
    }
    if (header.height === 1n) {
      if (seal.parentCertificate !== null) throw new BlockError('BAD_SEAL', 'block 1 must carry an empty certificate: genesis needs none')
    } else {
      if (seal.parentCertificate === null) throw new BlockError('BAD_SEAL', `block ${header.height} carries no certificate for its parent`)
      try {
        verifyCertificate(seal.parentCertificate, blockHash(parent), parent.height, this.schedule.at(parent.height), this.chainId)
      } catch (err) {
        throw new BlockError('BAD_SEAL', `certificate of parent block ${parent.height}: ${(err as Error).message}`)
      }
    }
    this.verifyEvidenceList(seal.evidence, header.height)
  }

  /**
   * PoS: what executing this block involves besides its txs: slashing each offender named by
   * the seal's evidence (a call from SYSTEM_ADDRESS into the staking contract), sharing the
   * block reward with the voters of the parent's certificate, by power, and reading the stakes
   * at epoch boundaries and after a slash (a jailed validator leaves the set at once).
   */
  blockEffects(branch: Pick<BranchView, 'height' | 'seal'>): BlockExecutionInputs {
    if (!this.staking) return {}
    const seal = decodeSeal(branch.seal)
    const system = hexToBytes(SYSTEM_ADDRESS)
    const staking = hexToBytes(STAKING_ADDRESS)
    const systemCalls = (seal.evidence ?? []).map((ev) => ({ caller: system, address: staking, data: encodeSlash(ev.voteA.validator, ev.voteA.height, ev.voteA.round) }))
    const cert = seal.parentCertificate
    const set = cert && branch.height > 1n ? this.schedule.at(branch.height - 1n) : undefined
    const voters = cert && set ? cert.signatures.map((s) => ({ address: s.validator, weight: set.get(s.validator)?.power ?? 0n })) : []
    const readStakes = branch.height % BigInt(this.staking.epochLength) === 0n || systemCalls.length > 0
    return {
      systemCalls,
      rewardSplit: { proposerBasisPoints: this.staking.proposerRewardBasisPoints, voters },
      ...(readStakes ? { systemReads: { stakes: { address: staking, data: STAKE_SNAPSHOT_CALLDATA } } } : {}),
    }
  }

  /** Every imported block came with its certificate: the head is final. */
  finality(head: bigint): Finality {
    return { finalized: head, safe: head }
  }

  /** Evidence a peer or a seal carries: valid for its height's validators, not older than maxEvidenceAge. */
  verifyEvidence(ev: DuplicateVoteEvidence, currentHeight: bigint): void {
    verifyEvidence(ev, this.schedule.at(ev.voteA.height), this.chainId, { currentHeight, maxAgeHeights: this.maxEvidenceAge })
  }

  /** Evidence in a seal: PoS only, each piece valid, each offence once. */
  private verifyEvidenceList(evidence: DuplicateVoteEvidence[] | undefined, height: bigint): void {
    if (!evidence) return
    if (!this.staking) throw new BlockError('BAD_SEAL', 'evidence in a seal needs a PoS chain (engine.staking)')
    const seen = new Set<string>()
    for (const ev of evidence) {
      const offence = slashableOffence(ev)
      if (seen.has(offence)) throw new BlockError('BAD_SEAL', `evidence for offence ${offence} appears twice`)
      seen.add(offence)
      try {
        this.verifyEvidence(ev, height)
      } catch (err) {
        throw new BlockError('BAD_SEAL', `evidence ${offenceKey(ev)}: ${(err as Error).message}`)
      }
    }
  }
}
