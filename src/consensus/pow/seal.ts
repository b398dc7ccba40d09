/**
 * The PoW seal and the header rules every node checks (no running engine needed: import,
 * sync). header.seal = RLP [bits (4 bytes), nonce (8 bytes)]. The proof is
 * sha256d(sealHash || bits || nonce) <= target(bits), where sealHash = sha256d of the header
 * encoded with an empty seal (pow-hash.ts): the miner hashes 44 bytes per attempt, not the
 * ~600-byte header, and every header field is committed. The bits must be what the chain
 * spec's retarget rule gives for the block's branch; the time must be past the median of the
 * last 11 blocks and not too far ahead of the clock (time-rules.ts).
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToHex, concatBytes, setLengthLeft } from '@ethereumjs/util'
import { encodeHeader, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { HeaderVerifier } from '../../chain/import.ts'
import type { PowEngineSpec } from '../../chain/spec/index.ts'
import { sha256d } from '../../crypto/hash.ts'
import { meetsTarget, powHash } from './pow-hash.ts'
import { nextBits, type AncestorInfo, type RetargetRule } from './retarget.ts'
import { compactToTarget, workFromBits } from './target.ts'
import { MEDIAN_TIME_SPAN, maxFutureSeconds, medianTimePast } from './time-rules.ts'

export interface PowSeal {
  bits: number
  nonce: bigint
}

export function encodePowSeal(seal: PowSeal): Uint8Array {
  const bits = new Uint8Array(4)
  new DataView(bits.buffer).setUint32(0, seal.bits)
  const nonce = new Uint8Array(8)
  new DataView(nonce.buffer).setBigUint64(0, seal.nonce)
  return RLP.encode([bits, nonce])
}

/** Shape only; throws BlockError('BAD_SEAL'). */
export function decodePowSeal(bytes: Uint8Array): PowSeal {
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch (err) {
    throw new BlockError('BAD_SEAL', `pow seal is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(d) || d.length !== 2 || !(d[0] instanceof Uint8Array) || d[0].length !== 4 || !(d[1] instanceof Uint8Array) || d[1].length !== 8) {
    throw new BlockError('BAD_SEAL', 'pow seal must be RLP [bits (4 bytes), nonce (8 bytes)]')
  }
  const [b, n] = d as [Uint8Array, Uint8Array]
  return { bits: new DataView(b.buffer, b.byteOffset, 4).getUint32(0), nonce: new DataView(n.buffer, n.byteOffset, 8).getBigUint64(0) }
}

/**
 * What the proof commits to: the header with an empty seal, and, on the far side of a hard
 * fork that changed the chain id, that chain id. The header itself carries no chain id, so
 * without it an empty block mined by a node that did not adopt the fork would be valid on
 * both sides and the two chains could merge again; with it, every block after the fork
 * belongs to one side only (as every post-fork BCH block descends from a >1 MB one).
 */
export function sealHash(header: BlockHeader, forkChainId?: bigint): Uint8Array {
  const encoded = encodeHeader({ ...header, seal: new Uint8Array(0) })
  if (forkChainId === undefined) return sha256d(encoded)
  return sha256d(concatBytes(encoded, setLengthLeft(bigIntToUnpaddedBytes(forkChainId), 32)))
}

/** The chain id a block at `height` commits to in its seal, or undefined before any chain-id fork. */
export type SealChainId = (height: bigint) => bigint | undefined

/** Headers by hash and the canonical chain by height (Chain provides both). */
export interface HeaderSource {
  getHeader(hash: Uint8Array): BlockHeader | undefined
  getHashAt(height: bigint): Uint8Array | undefined
}

/** Ancestors this close to a block are found by walking its own branch; older ones by the canonical index. */
const BRANCH_WALK = 4096n

export class PowSealVerifier implements HeaderVerifier {
  readonly maxFutureSeconds: bigint
  readonly maxReorgDepth: number
  private readonly rule: RetargetRule
  private readonly powLimit: bigint
  private readonly spacing: bigint

  constructor(
    readonly spec: PowEngineSpec,
    blockTimeMs: number,
    private readonly headers: HeaderSource,
    private readonly now: () => bigint = () => BigInt(Math.floor(Date.now() / 1000)),
    /** Chains with a chain-id fork: what each height's seal commits to (see sealHash). */
    readonly sealChainId?: SealChainId,
  ) {
    this.spacing = BigInt(Math.max(1, Math.round(blockTimeMs / 1000)))
    this.maxFutureSeconds = maxFutureSeconds(Number(this.spacing))
    this.maxReorgDepth = spec.maxReorgDepth
    this.powLimit = compactToTarget(spec.powLimitBits)
    this.rule = spec.retarget.kind === 'bitcoin' ? { kind: 'bitcoin', interval: spec.retarget.interval } : { kind: 'asert', halfLifeSeconds: spec.retarget.halfLifeSeconds, anchorHeight: 0 }
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

  /** Expected hashes to find this block: 2^256 / (target + 1). */
  blockWork(header: BlockHeader): bigint {
    return header.height === 0n ? 0n : workFromBits(decodePowSeal(header.seal).bits)
  }

  private ancestor(parentHash: Uint8Array, parent: BlockHeader, height: bigint): AncestorInfo {
    if (height > parent.height) throw new Error(`no ancestor at height ${height} above the parent ${parent.height}`)
    let header: BlockHeader | undefined
    if (parent.height - height <= BRANCH_WALK) {
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
