/**
 * The BFT seal: block h's header.seal = RLP [round, certificate of block h-1] (an empty
 * certificate for h = 1), plus PoS evidence. The round is the one the block was built in, so
 * its producer must be that round's proposer; the certificate proves the parent final. A
 * block's own certificate travels and is stored beside it (its import proof: rules.ts).
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { BlockError } from '../../chain/errors.ts'
import { decodeCertificate, decodeEvidence, encodeCertificate, encodeEvidence, offenceKey, type CommitCertificate, type DuplicateVoteEvidence } from '../bft/index.ts'

export interface BftSeal {
  round: number
  /** Certificate of the parent block; null for block 1. */
  parentCertificate: CommitCertificate | null
  /** PoS: evidence of double votes this block punishes (each offence once, at most MAX_EVIDENCE_PER_BLOCK). */
  evidence?: DuplicateVoteEvidence[]
}

export const MAX_EVIDENCE_PER_BLOCK = 16
/** Evidence older than this many blocks is refused on PoA chains; PoS: the unbonding period (rules.ts). */
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
