/**
 * The PoW seal: header.seal = RLP [bits (4 bytes), nonce (8 bytes)]. The proof is
 * sha256d(sealHash || bits || nonce) <= target(bits), where sealHash = sha256d of the header
 * encoded with an empty seal (pow-hash.ts): the miner hashes 44 bytes per attempt, not the
 * ~600-byte header, and every header field is committed. The rules that check it are in
 * rules.ts.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, concatBytes, setLengthLeft } from '@ethereumjs/util'
import { encodeHeader, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import { sha256d } from '../../crypto/hash.ts'

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

