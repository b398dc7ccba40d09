/**
 * The PoH seal: what a solana-like block carries besides Catena's usual header, committed to by
 * the block hash:
 *
 *   seal    = RLP [slot, parentSlot, pohStart, pohEnd, entries, votes, evidence, signature]
 *   entries = [[numHashes, hash, txCount], ...]
 *
 * An entry's tx hashes are not repeated: they are the next `txCount` txs of the body, in order,
 * so the body stays Catena's list of txs and a slot's PoH is checkable from the block alone
 * (`pohEntriesOf`). `votes` are signed votes the leader saw (vote-messages.ts), so the votes that
 * confirm a block travel with the chain; `evidence` names leaders that signed two blocks for one
 * slot (duplicate-block.ts). The leader signs the block with the signature field empty
 * (`signingHash`), so the signature commits to everything else, PoH included.
 *
 * Decoding checks shape and bounds only (cheap); rules.ts checks meaning.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import { blockHash, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { PohEntry } from '../poh/index.ts'
import { MAX_NUM_HASHES } from '../poh/index.ts'

export interface SealEntry {
  numHashes: number
  hash: Uint8Array
  txCount: number
}

export interface PohSeal {
  slot: bigint
  parentSlot: bigint
  pohStart: Uint8Array
  pohEnd: Uint8Array
  entries: SealEntry[]
  /** Encoded signed votes (vote-messages.ts encodePohVote). */
  votes: Uint8Array[]
  /** Encoded duplicate-block evidence (duplicate-block.ts encodeDuplicateBlock). */
  evidence: Uint8Array[]
  /** The leader's 65-byte signature over `signingHash`; empty while the block is being built. */
  signature: Uint8Array
}

/** Bounds of a seal, checked while decoding, before anything is hashed or verified. */
export const MAX_SEAL_ENTRIES = 1 << 18
export const MAX_SEAL_VOTES = 256
export const MAX_SEAL_EVIDENCE = 16
const MAX_VOTE_BYTES = 1024
const MAX_EVIDENCE_BYTES = 512
const MAX_SLOT = (1n << 63n) - 1n

const bad = (why: string): never => {
  throw new BlockError('BAD_SEAL', `poh seal: ${why}`)
}

export function encodePohSeal(seal: PohSeal): Uint8Array {
  return RLP.encode([
    uint(seal.slot),
    uint(seal.parentSlot),
    seal.pohStart,
    seal.pohEnd,
    seal.entries.map((e) => [uint(BigInt(e.numHashes)), e.hash, uint(BigInt(e.txCount))]),
    seal.votes,
    seal.evidence,
    seal.signature,
  ])
}

/** Shape and bounds only; throws BlockError('BAD_SEAL'). */
export function decodePohSeal(bytes: Uint8Array): PohSeal {
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch (err) {
    return bad(`not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(d) || d.length !== 8) return bad('must be RLP [slot, parentSlot, pohStart, pohEnd, entries, votes, evidence, signature]')
  const [slotB, parentB, start, end, entriesL, votesL, evidenceL, signature] = d as unknown[]
  const slot = readUint(slotB, 8, 'slot')
  const parentSlot = readUint(parentB, 8, 'parentSlot')
  if (slot > MAX_SLOT || parentSlot > MAX_SLOT) bad('slot out of range')
  const pohStart = bytes32(start, 'pohStart')
  const pohEnd = bytes32(end, 'pohEnd')
  if (!Array.isArray(entriesL)) return bad('entries must be a list')
  // Empty only in the preset seal a leader builds with (rules.ts wants the slot's ticks).
  if (entriesL.length > MAX_SEAL_ENTRIES) bad(`at most ${MAX_SEAL_ENTRIES} entries (got ${entriesL.length})`)
  const entries = entriesL.map((e: unknown, i: number) => {
    if (!Array.isArray(e) || e.length !== 3) return bad(`entry ${i} must be [numHashes, hash, txCount]`)
    const numHashes = Number(readUint(e[0], 4, `entry ${i} numHashes`))
    if (numHashes < 1 || numHashes > MAX_NUM_HASHES) bad(`entry ${i} numHashes must be at least 1`)
    return { numHashes, hash: bytes32(e[1], `entry ${i} hash`), txCount: Number(readUint(e[2], 2, `entry ${i} txCount`)) }
  })
  const votes = byteList(votesL, MAX_SEAL_VOTES, MAX_VOTE_BYTES, 'votes')
  const evidence = byteList(evidenceL, MAX_SEAL_EVIDENCE, MAX_EVIDENCE_BYTES, 'evidence')
  if (!(signature instanceof Uint8Array) || (signature.length !== 0 && signature.length !== 65)) bad('signature must be 65 bytes (or empty while building)')
  return { slot, parentSlot, pohStart, pohEnd, entries, votes, evidence, signature: signature as Uint8Array }
}

/** The slot of a PoH block header (BAD_SEAL when the seal is malformed). */
export function slotOf(header: Pick<BlockHeader, 'seal'>): bigint {
  return decodePohSeal(header.seal).slot
}

/** What the leader signs: the hash of the header whose seal has an empty signature. */
export function signingHash(header: BlockHeader, seal: PohSeal = decodePohSeal(header.seal)): Uint8Array {
  return blockHash({ ...header, seal: encodePohSeal({ ...seal, signature: new Uint8Array(0) }) })
}

/**
 * The slot's PoH entries with their tx hashes: each entry takes the next txCount of the body's
 * txs, in order. BAD_SEAL when the counts do not add up to the body.
 */
export function pohEntriesOf(seal: Pick<PohSeal, 'entries'>, txHashes: readonly Uint8Array[]): PohEntry[] {
  let next = 0
  const out = seal.entries.map((e) => {
    const hashes = txHashes.slice(next, next + e.txCount)
    next += e.txCount
    return { numHashes: e.numHashes, hash: e.hash, txHashes: hashes }
  })
  if (next !== txHashes.length) bad(`its entries hold ${next} txs but the body has ${txHashes.length}`)
  return out
}

/** The seal entries of PoH entries (tx hashes become counts). */
export function sealEntriesOf(entries: readonly PohEntry[]): SealEntry[] {
  return entries.map((e) => ({ numHashes: e.numHashes, hash: e.hash, txCount: e.txHashes.length }))
}

/** The JSON form of a block's PoH (RPC catena_getBlockPoh, REST /v1/blocks/{id}/poh); null for genesis. */
export function pohJSON(block: { header: BlockHeader; txs: ReadonlyArray<{ hash(): Uint8Array }> }) {
  if (block.header.height === 0n) return null
  const seal = decodePohSeal(block.header.seal)
  const entries = pohEntriesOf(seal, block.txs.map((tx) => tx.hash()))
  return {
    slot: Number(seal.slot),
    parentSlot: Number(seal.parentSlot),
    leader: bytesToHex(block.header.producer),
    startHash: bytesToHex(seal.pohStart),
    endHash: bytesToHex(seal.pohEnd),
    entries: entries.map((e) => ({ numHashes: e.numHashes, hash: bytesToHex(e.hash), txHashes: e.txHashes.map((h) => bytesToHex(h)) })),
    votes: seal.votes.length,
    evidence: seal.evidence.length,
  }
}

function uint(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array(0)
  const hex = n.toString(16)
  return Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'))
}

function readUint(x: unknown, maxBytes: number, what: string): bigint {
  if (!(x instanceof Uint8Array)) return bad(`${what} must be bytes`)
  if (x.length > maxBytes) bad(`${what} is longer than ${maxBytes} bytes`)
  if (x.length > 0 && x[0] === 0) bad(`${what} has a leading zero byte`)
  let v = 0n
  for (const b of x) v = (v << 8n) | BigInt(b)
  return v
}

function bytes32(x: unknown, what: string): Uint8Array {
  if (!(x instanceof Uint8Array) || x.length !== 32) return bad(`${what} must be 32 bytes`)
  return x
}

function byteList(x: unknown, max: number, maxBytes: number, what: string): Uint8Array[] {
  if (!Array.isArray(x)) return bad(`${what} must be a list`)
  if (x.length > max) bad(`at most ${max} ${what} (got ${x.length})`)
  return x.map((item: unknown, i: number) => {
    if (!(item instanceof Uint8Array) || item.length === 0 || item.length > maxBytes) return bad(`${what} ${i} must be 1 to ${maxBytes} bytes`)
    return item
  })
}
