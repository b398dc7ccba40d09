/**
 * Leader signatures on slot blocks, and evidence of a leader that signed two different blocks
 * for one slot (Solana's duplicate-block proof, here over signatures instead of shreds).
 *
 * A leader signs each block it produces: keccak-256 of RLP([tag, chainId, leader, slot,
 * blockHash]), secp256k1, 65 bytes low-s, in the style of the BFT messages. `blockHash` is
 * what the engine makes its leaders sign for a block (the hash of the header without its
 * seal, as PoW's sealHash, so the signature can live in the seal); two different blocks of
 * one slot have two different hashes.
 *
 * Evidence = the two signed (slot, blockHash) of one leader, in canonical order (lower hash
 * first), so one offence has one encoding. It is checked with a pure function against the
 * leader schedule (the signer must be the scheduled leader of the slot: a signature by
 * anyone else proves nothing, its blocks are invalid anyway) and an evidence window. The
 * engine includes it in a block and slashes through the staking contract as the PoS BFT
 * chain does (bft-engine/rules.ts blockEffects): a call from SYSTEM_ADDRESS to
 * `slash(leader, slot, 0)` (`duplicateBlockSlashCall`). The contract slashes one
 * (validator, height, round) once; a PoH chain has no BFT rounds, so round 0 with the slot
 * as height names the offence.
 *
 * Wire form: RLP([leader, slot, hashA, signatureA, hashB, signatureB]).
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { keccak256, sha256 } from '../../crypto/hash.ts'
import { signDigest } from '../../crypto/secp256k1.ts'
import { encodeSlash } from '../../contracts/index.ts'
import { MessageError, recoverSigner } from '../bft/index.ts'
import { DuplicateBlockError } from './voting-errors.ts'
import {
  ADDRESS_LENGTH,
  HASH_LENGTH,
  SIGNATURE_LENGTH,
  bytesField,
  compareBytes,
  equalBytes,
  isBytes,
  isSlot,
  listOf,
  rlpDecode,
  toKey,
  uintBytes,
  uintField,
} from './vote-codec.ts'

const BLOCK_TAG = new TextEncoder().encode('catena/poh/block/v1')
/** The `round` argument of the staking contract's slash for a duplicate block. */
export const DUPLICATE_BLOCK_ROUND = 0n
export const MAX_EVIDENCE_BYTES = 512

export interface SlotBlock {
  leader: Uint8Array
  slot: bigint
  blockHash: Uint8Array
}

export interface SignedSlotBlock extends SlotBlock {
  signature: Uint8Array
}

export interface DuplicateBlockEvidence {
  /** The lower block hash. */
  a: SignedSlotBlock
  b: SignedSlotBlock
}

export interface DuplicateBlockCheckOptions {
  chainId: bigint
  /** The scheduled leader of a slot, or undefined if the verifier has no schedule for it. */
  leaderAt: (slot: bigint) => Uint8Array | undefined
  /** The verifier's current slot: evidence for a later slot is refused (FUTURE). */
  currentSlot?: bigint
  /** Evidence older than currentSlot - maxAgeSlots is refused (EXPIRED). */
  maxAgeSlots?: bigint
}

export function slotBlockSignBytes(b: SlotBlock, chainId: bigint): Uint8Array {
  return RLP.encode([BLOCK_TAG, uintBytes(chainId), b.leader, uintBytes(b.slot), b.blockHash])
}

export function slotBlockDigest(b: SlotBlock, chainId: bigint): Uint8Array {
  return keccak256(slotBlockSignBytes(b, chainId))
}

function checkSlotBlock(b: SlotBlock, what: string): void {
  if (!b || typeof b !== 'object') throw new DuplicateBlockError('MALFORMED', `${what} must be an object`)
  if (!isBytes(b.leader, ADDRESS_LENGTH)) throw new DuplicateBlockError('MALFORMED', `${what} leader must be ${ADDRESS_LENGTH} bytes`)
  if (!isSlot(b.slot)) throw new DuplicateBlockError('MALFORMED', `${what} slot must be a bigint in [0, 2^63-1]`)
  if (!isBytes(b.blockHash, HASH_LENGTH)) throw new DuplicateBlockError('MALFORMED', `${what} block hash must be ${HASH_LENGTH} bytes`)
  const sig = (b as Partial<SignedSlotBlock>).signature
  if (sig !== undefined && !isBytes(sig, SIGNATURE_LENGTH)) throw new DuplicateBlockError('MALFORMED', `${what} signature must be ${SIGNATURE_LENGTH} bytes`)
}

/** The leader's signature on its block for a slot (deterministic, RFC 6979). */
export function signSlotBlock(b: SlotBlock, privateKey: Uint8Array, chainId: bigint): SignedSlotBlock {
  checkSlotBlock(b, 'block')
  const sig = signDigest(slotBlockDigest(b, chainId), privateKey)
  const signature = new Uint8Array(SIGNATURE_LENGTH)
  signature.set(sig.r, 0)
  signature.set(sig.s, 32)
  signature[64] = sig.recovery
  return { leader: Uint8Array.from(b.leader), slot: b.slot, blockHash: Uint8Array.from(b.blockHash), signature }
}

/** Checks that `b.signature` is `b.leader`'s on this chain; DuplicateBlockError('BAD_SIGNATURE') otherwise. */
export function verifySlotBlockSignature(b: SignedSlotBlock, chainId: bigint): void {
  checkSlotBlock(b, 'block')
  if (!isBytes(b.signature, SIGNATURE_LENGTH)) throw new DuplicateBlockError('MALFORMED', 'block is not signed')
  let signer: Uint8Array
  try {
    signer = recoverSigner(slotBlockDigest(b, chainId), b.signature)
  } catch (err) {
    throw new DuplicateBlockError(err instanceof MessageError && err.code === 'MALFORMED' ? 'MALFORMED' : 'BAD_SIGNATURE', `block signature: ${(err as Error).message}`)
  }
  if (!equalBytes(signer, b.leader)) {
    throw new DuplicateBlockError('BAD_SIGNATURE', `block of slot ${b.slot} claims leader 0x${toKey(b.leader)} but is signed by 0x${toKey(signer)} (or for another chain)`)
  }
}

function checkPair(x: SignedSlotBlock, y: SignedSlotBlock): void {
  checkSlotBlock(x, 'evidence block')
  checkSlotBlock(y, 'evidence block')
  if (!x.signature || !y.signature) throw new DuplicateBlockError('MALFORMED', 'evidence blocks must be signed')
  if (x.slot !== y.slot || !equalBytes(x.leader, y.leader)) throw new DuplicateBlockError('DO_NOT_MATCH', 'the blocks differ in slot or leader: not one offence')
  if (equalBytes(x.blockHash, y.blockHash)) throw new DuplicateBlockError('NOT_CONFLICTING', 'both signatures are for the same block')
}

/** True when `x` and `y` are two different blocks one leader signed for one slot. */
export function isDuplicateBlock(x: SlotBlock, y: SlotBlock): boolean {
  return x.slot === y.slot && equalBytes(x.leader, y.leader) && !equalBytes(x.blockHash, y.blockHash)
}

/** Evidence from two conflicting signed blocks, in canonical order (signatures not checked here). */
export function duplicateBlockEvidence(x: SignedSlotBlock, y: SignedSlotBlock): DuplicateBlockEvidence {
  checkPair(x, y)
  return compareBytes(x.blockHash, y.blockHash) < 0 ? { a: x, b: y } : { a: y, b: x }
}

/**
 * Checks that `ev` proves the scheduled leader of a slot signed two blocks for it. Pure.
 * Cheapest first: shape, pairing and order, window, schedule, then both signatures.
 */
export function verifyDuplicateBlock(ev: DuplicateBlockEvidence, opts: DuplicateBlockCheckOptions): { leader: Uint8Array; slot: bigint } {
  if (!ev || typeof ev !== 'object') throw new DuplicateBlockError('MALFORMED', 'evidence must be an object')
  const { a, b } = ev
  checkPair(a, b)
  if (compareBytes(a.blockHash, b.blockHash) >= 0) throw new DuplicateBlockError('NOT_CANONICAL', 'block a must have the lower hash')
  if (opts.currentSlot !== undefined) {
    if (a.slot > opts.currentSlot) throw new DuplicateBlockError('FUTURE', `evidence for slot ${a.slot} is beyond the current slot ${opts.currentSlot}`)
    if (opts.maxAgeSlots !== undefined && a.slot + opts.maxAgeSlots < opts.currentSlot) {
      throw new DuplicateBlockError('EXPIRED', `evidence for slot ${a.slot} is older than ${opts.maxAgeSlots} slots`)
    }
  }
  const leader = opts.leaderAt(a.slot)
  if (!leader) throw new DuplicateBlockError('UNKNOWN_SLOT', `no leader schedule known for slot ${a.slot}`)
  if (!equalBytes(leader, a.leader)) throw new DuplicateBlockError('NOT_LEADER', `0x${toKey(a.leader)} is not the leader of slot ${a.slot} (0x${toKey(leader)} is)`)
  verifySlotBlockSignature(a, opts.chainId)
  verifySlotBlockSignature(b, opts.chainId)
  return { leader: Uint8Array.from(a.leader), slot: a.slot }
}

export function encodeDuplicateBlock(ev: DuplicateBlockEvidence): Uint8Array {
  return RLP.encode([ev.a.leader, uintBytes(ev.a.slot), ev.a.blockHash, ev.a.signature, ev.b.blockHash, ev.b.signature])
}

/** Decodes (shape and pairing only: check signatures and the leader with verifyDuplicateBlock). */
export function decodeDuplicateBlock(bytes: Uint8Array): DuplicateBlockEvidence {
  const malformed = (why: string): never => {
    throw new DuplicateBlockError('MALFORMED', `evidence ${why}`)
  }
  if (!(bytes instanceof Uint8Array)) malformed('must be bytes')
  if (bytes.length > MAX_EVIDENCE_BYTES) malformed(`is ${bytes.length} bytes, more than ${MAX_EVIDENCE_BYTES}`)
  const f = listOf(rlpDecode(bytes, malformed), 6, malformed)
  const leader = bytesField(f[0], 'leader', malformed, ADDRESS_LENGTH)
  const slot = uintField(f[1], 'slot', 8, malformed)
  const a = { leader, slot, blockHash: bytesField(f[2], 'hash a', malformed, HASH_LENGTH), signature: bytesField(f[3], 'signature a', malformed, SIGNATURE_LENGTH) }
  const b = { leader: Uint8Array.from(leader), slot, blockHash: bytesField(f[4], 'hash b', malformed, HASH_LENGTH), signature: bytesField(f[5], 'signature b', malformed, SIGNATURE_LENGTH) }
  checkPair(a, b)
  if (compareBytes(a.blockHash, b.blockHash) >= 0) throw new DuplicateBlockError('NOT_CANONICAL', 'block a must have the lower hash')
  return { a, b }
}

/** sha256 of the encoding: identifies this piece of evidence. */
export function duplicateBlockHash(ev: DuplicateBlockEvidence): Uint8Array {
  return sha256(encodeDuplicateBlock(ev))
}

/** The offence (leader/slot): what is slashed once; dedupe evidence on it, not on its hash. */
export function duplicateBlockOffence(ev: DuplicateBlockEvidence): string {
  return `${toKey(ev.a.leader)}/${ev.a.slot}`
}

/** The staking contract call that punishes the offence (from SYSTEM_ADDRESS to STAKING_ADDRESS). */
export function duplicateBlockSlashCall(ev: DuplicateBlockEvidence): Uint8Array {
  return encodeSlash(ev.a.leader, ev.a.slot, DUPLICATE_BLOCK_ROUND)
}
