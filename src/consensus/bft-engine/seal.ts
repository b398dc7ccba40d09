/**
 * The BFT seal: block h's header.seal = RLP [round, certificate of block h-1] (an empty
 * certificate for h = 1). The round is the one the block was proposed in, so its producer
 * must be that round's proposer; the certificate proves the parent final. The certificate
 * of the newest block travels separately (it becomes the seal of the next block).
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { blockHash, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { HeaderVerifier } from '../../chain/import.ts'
import { decodeCertificate, encodeCertificate, verifyCertificate, type CommitCertificate } from '../bft/index.ts'
import type { ValidatorSchedule } from './config.ts'

export interface BftSeal {
  round: number
  /** Certificate of the parent block; null for block 1. */
  parentCertificate: CommitCertificate | null
}

export function encodeSeal(seal: BftSeal): Uint8Array {
  const round = seal.round === 0 ? new Uint8Array(0) : uint(seal.round)
  return RLP.encode([round, seal.parentCertificate ? encodeCertificate(seal.parentCertificate) : new Uint8Array(0)])
}

/** Shape only; throws BlockError('BAD_SEAL'). */
export function decodeSeal(bytes: Uint8Array): BftSeal {
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch (err) {
    throw new BlockError('BAD_SEAL', `bft seal is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(d) || d.length !== 2 || !(d[0] instanceof Uint8Array) || !(d[1] instanceof Uint8Array)) {
    throw new BlockError('BAD_SEAL', 'bft seal must be RLP [round, certificate]')
  }
  const [r, c] = d as [Uint8Array, Uint8Array]
  if (r.length > 4 || (r.length > 0 && r[0] === 0)) throw new BlockError('BAD_SEAL', 'bft seal round is not a canonical 32-bit integer')
  const round = r.reduce((n, b) => n * 256 + b, 0)
  if (c.length === 0) return { round, parentCertificate: null }
  try {
    return { round, parentCertificate: decodeCertificate(c) }
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
  ) {}

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
