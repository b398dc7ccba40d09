/**
 * The BFT seal: block h's header.seal = RLP [round, certificate of block h-1] (an empty
 * certificate for h = 1). The round is the one the block was proposed in, so its producer
 * must be that round's proposer; the certificate proves the parent final. The certificate
 * of the newest block travels separately (it becomes the seal of the next block).
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { blockHash, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { BlockExecutionInputs, HeaderVerifier } from '../../chain/import.ts'
import { SYSTEM_ADDRESS, STAKING_ADDRESS, encodeSlash } from '../../contracts/index.ts'
import { decodeCertificate, decodeEvidence, encodeCertificate, encodeEvidence, offenceKey, verifyCertificate, verifyEvidence, type CommitCertificate, type DuplicateVoteEvidence } from '../bft/index.ts'
import type { ValidatorSchedule } from './config.ts'

export interface BftSeal {
  round: number
  /** Certificate of the parent block; null for block 1. */
  parentCertificate: CommitCertificate | null
  /** PoS: evidence of double votes this block punishes (each offence once, at most MAX_EVIDENCE_PER_BLOCK). */
  evidence?: DuplicateVoteEvidence[]
}

export const MAX_EVIDENCE_PER_BLOCK = 16
/** Evidence older than this many blocks is refused (the offender may have left already). */
export const MAX_EVIDENCE_AGE = 100_000n

/** What the staking contract punishes once: validator/height/round (a prevote and a precommit double vote are one offence). */
export function slashableOffence(ev: DuplicateVoteEvidence): string {
  return offenceKey(ev).split('/').slice(0, 3).join('/')
}

export function encodeSeal(seal: BftSeal): Uint8Array {
  const round = seal.round === 0 ? new Uint8Array(0) : uint(seal.round)
  const cert = seal.parentCertificate ? encodeCertificate(seal.parentCertificate) : new Uint8Array(0)
  // The evidence list is a third item only when there is some: seals without it keep their old encoding.
  return RLP.encode(seal.evidence?.length ? [round, cert, seal.evidence.map(encodeEvidence)] : [round, cert])
}

/** Shape only; throws BlockError('BAD_SEAL'). */
export function decodeSeal(bytes: Uint8Array): BftSeal {
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch (err) {
    throw new BlockError('BAD_SEAL', `bft seal is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(d) || (d.length !== 2 && d.length !== 3) || !(d[0] instanceof Uint8Array) || !(d[1] instanceof Uint8Array)) {
    throw new BlockError('BAD_SEAL', 'bft seal must be RLP [round, certificate] or [round, certificate, evidence list]')
  }
  const [r, c] = d as [Uint8Array, Uint8Array]
  let evidence: DuplicateVoteEvidence[] | undefined
  if (d.length === 3) {
    const list = d[2]
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_EVIDENCE_PER_BLOCK || list.some((e) => !(e instanceof Uint8Array))) {
      throw new BlockError('BAD_SEAL', `bft seal evidence must be a list of 1 to ${MAX_EVIDENCE_PER_BLOCK} items`)
    }
    try {
      evidence = (list as Uint8Array[]).map(decodeEvidence)
    } catch (err) {
      throw new BlockError('BAD_SEAL', `bft seal evidence: ${(err as Error).message}`)
    }
  }
  if (r.length > 4 || (r.length > 0 && r[0] === 0)) throw new BlockError('BAD_SEAL', 'bft seal round is not a canonical 32-bit integer')
  const round = r.reduce((n, b) => n * 256 + b, 0)
  const extra = evidence ? { evidence } : {}
  if (c.length === 0) return { round, parentCertificate: null, ...extra }
  try {
    return { round, parentCertificate: decodeCertificate(c), ...extra }
  } catch (err) {
    throw new BlockError('BAD_SEAL', `bft seal certificate: ${(err as Error).message}`)
  }
}

function uint(n: number): Uint8Array {
  const out: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256)
  return Uint8Array.from(out)
}

/** The engine's header rules, usable without a running engine (import, sync, light clients). */
export class BftSealVerifier implements HeaderVerifier {
  /** Proposers set the time from their clock; allow modest skew. */
  readonly maxFutureSeconds = 15n

  constructor(
    readonly chainId: bigint,
    readonly schedule: ValidatorSchedule,
    /** PoS: the proposer's share of the block reward; evidence in seals is allowed only then. */
    readonly staking?: { proposerRewardBasisPoints: number },
  ) {}

  /**
   * PoS: what executing this block involves besides its txs: slashing each offender named by
   * the seal's evidence (a call from SYSTEM_ADDRESS into the staking contract), and sharing the
   * block reward with the voters of the parent's certificate, by power.
   */
  executionInputs(header: Pick<BlockHeader, 'height' | 'seal'>): BlockExecutionInputs {
    if (!this.staking) return {}
    const seal = decodeSeal(header.seal)
    const system = hexToBytes(SYSTEM_ADDRESS)
    const staking = hexToBytes(STAKING_ADDRESS)
    const systemCalls = (seal.evidence ?? []).map((ev) => ({ caller: system, address: staking, data: encodeSlash(ev.voteA.validator, ev.voteA.height, ev.voteA.round) }))
    const cert = seal.parentCertificate
    const set = cert && header.height > 1n ? this.schedule.at(header.height - 1n) : undefined
    const voters = cert && set ? cert.signatures.map((s) => ({ address: s.validator, weight: set.get(s.validator)?.power ?? 0n })) : []
    return { systemCalls, rewardSplit: { proposerBasisPoints: this.staking.proposerRewardBasisPoints, voters } }
  }

  /** Evidence in a seal: PoS only, each piece valid for its height's validators, each offence once. */
  private verifyEvidenceList(evidence: DuplicateVoteEvidence[] | undefined, height: bigint): void {
    if (!evidence) return
    if (!this.staking) throw new BlockError('BAD_SEAL', 'evidence in a seal needs a PoS chain (engine.staking)')
    const seen = new Set<string>()
    for (const ev of evidence) {
      const key = offenceKey(ev)
      const offence = slashableOffence(ev)
      if (seen.has(offence)) throw new BlockError('BAD_SEAL', `evidence for offence ${offence} appears twice`)
      seen.add(offence)
      try {
        verifyEvidence(ev, this.schedule.at(ev.voteA.height), this.chainId, { currentHeight: height, maxAgeHeights: MAX_EVIDENCE_AGE })
      } catch (err) {
        throw new BlockError('BAD_SEAL', `evidence ${key}: ${(err as Error).message}`)
      }
    }
  }

  verifyHeader(header: BlockHeader, parent: BlockHeader): void {
    const seal = decodeSeal(header.seal)
    this.verifyEvidenceList(seal.evidence, header.height)
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
      return
    }
    if (seal.parentCertificate === null) throw new BlockError('BAD_SEAL', `block ${header.height} carries no certificate for its parent`)
    try {
      verifyCertificate(seal.parentCertificate, blockHash(parent), parent.height, this.schedule.at(parent.height), this.chainId)
    } catch (err) {
      throw new BlockError('BAD_SEAL', `certificate of parent block ${parent.height}: ${(err as Error).message}`)
    }
  }
}
