/**
 * Wire formats of the sync protocols and block gossip: a block travels as its envelope
 * RLP [header, body, proof] (chain/block.ts encodeBlockEnvelope: the proof is what its engine
 * requires for import, e.g. a BFT commit certificate), a range request is RLP [from, count],
 * a range response an RLP list of envelopes; a header request is RLP [locator, max] and its
 * answer an RLP list of encoded headers. Every decode checks shape and bounds before anything
 * is used; a block's txs are decoded only after its header and proof checked.
 */
import { RLP } from '@ethereumjs/rlp'
import { blockHash, decodeBlockEnvelope, decodeHeader, encodeHeader, type BlockHeader, type RawBlock } from '../chain/block.ts'
import { bigIntToUnpaddedBytes, bytesToBigInt } from '@ethereumjs/util'

export const MAX_RANGE_BLOCKS = 128

export class WireError extends Error {
  readonly code = 'MALFORMED_MESSAGE'
}

export interface RangeRequest {
  from: bigint
  count: number
}

export function encodeRangeRequest(r: RangeRequest): Uint8Array {
  return RLP.encode([bigIntToUnpaddedBytes(r.from), bigIntToUnpaddedBytes(BigInt(r.count))])
}

/** A range request for at most `max` items (blocks: MAX_RANGE_BLOCKS; headersByRange: MAX_HEADERS). */
export function decodeRangeRequest(bytes: Uint8Array, max = MAX_RANGE_BLOCKS): RangeRequest {
  const parts = decodeList(bytes, 'range request')
  if (parts.length !== 2 || !parts.every((p) => p instanceof Uint8Array && p.length <= 8)) {
    throw new WireError('range request must be RLP [from, count] of 64-bit integers')
  }
  const count = Number(bytesToBigInt(parts[0 + 1] as Uint8Array))
  if (count < 1 || count > max) throw new WireError(`range count must be 1..${max}, got ${count}`)
  return { from: bytesToBigInt(parts[0] as Uint8Array), count }
}

/** Most hashes in one blocksByHash request. */
export const MAX_HASHES = 64

export function encodeHashList(hashes: Uint8Array[]): Uint8Array {
  return RLP.encode(hashes)
}

export function decodeHashList(bytes: Uint8Array): Uint8Array[] {
  const parts = decodeList(bytes, 'hash list')
  if (parts.length === 0 || parts.length > MAX_HASHES) throw new WireError(`a hash list holds 1..${MAX_HASHES} hashes, got ${parts.length}`)
  if (!parts.every((p) => p instanceof Uint8Array && p.length === 32)) throw new WireError('a hash list must be an RLP list of 32-byte hashes')
  return parts as Uint8Array[]
}

/** Most headers in one headersByLocator or headersByRange answer (about 600 KB). */
export const MAX_HEADERS = 1024
/** Most hashes in a block locator: ten dense, then doubling steps, cover any height. */
export const MAX_LOCATOR = 64

/**
 * A headersByLocator request (Bitcoin's getheaders): the asker's canonical hashes from its head
 * back to genesis (see locator.ts); the answer is up to `max` headers of the server's canonical
 * chain after the first of them it has on that chain.
 */
export interface HeaderRequest {
  locator: Uint8Array[]
  max: number
}

export function encodeHeaderRequest(r: HeaderRequest): Uint8Array {
  return RLP.encode([r.locator, bigIntToUnpaddedBytes(BigInt(r.max))])
}

export function decodeHeaderRequest(bytes: Uint8Array): HeaderRequest {
  const parts = decodeList(bytes, 'header request')
  const [locator, max] = parts
  if (parts.length !== 2 || !Array.isArray(locator) || !(max instanceof Uint8Array) || max.length > 4) {
    throw new WireError('header request must be RLP [[hash, ...], max]')
  }
  if (locator.length === 0 || locator.length > MAX_LOCATOR) throw new WireError(`a locator holds 1..${MAX_LOCATOR} hashes, got ${locator.length}`)
  if (!locator.every((h) => h instanceof Uint8Array && h.length === 32)) throw new WireError('a locator must be a list of 32-byte hashes')
  const n = Number(bytesToBigInt(max))
  if (n < 1 || n > MAX_HEADERS) throw new WireError(`header request max must be 1..${MAX_HEADERS}, got ${n}`)
  return { locator: locator as Uint8Array[], max: n }
}

/** A headersByLocator answer: encoded headers, oldest first, each its parent's child. */
export function encodeHeaderList(headers: Uint8Array[]): Uint8Array {
  return RLP.encode(headers)
}

/** The encoded headers of an answer (each decoded by the caller with decodeHeader). */
export function decodeHeaderList(bytes: Uint8Array, max = MAX_HEADERS): Uint8Array[] {
  const parts = decodeList(bytes, 'header list')
  if (parts.length > max) throw new WireError(`header list holds ${parts.length} headers, asked for at most ${max}`)
  if (!parts.every((p) => p instanceof Uint8Array)) throw new WireError('a header list must be an RLP list of encoded headers')
  return parts as Uint8Array[]
}

/** A range response: each element is one encodeBlockEnvelope() output, carried as a byte string. */
export function encodeBlockList(blocks: Uint8Array[]): Uint8Array {
  return RLP.encode(blocks)
}

/** The encoded blocks of a range response (each decoded by the caller with decodeBlockEnvelope). */
export function decodeBlockList(bytes: Uint8Array): Uint8Array[] {
  const parts = decodeList(bytes, 'block list')
  if (parts.length > MAX_RANGE_BLOCKS) throw new WireError(`block list holds ${parts.length} blocks, limit ${MAX_RANGE_BLOCKS}`)
  if (!parts.every((p) => p instanceof Uint8Array)) throw new WireError('a block list must be an RLP list of encoded blocks')
  return parts as Uint8Array[]
}

/**
 * Most txs in one gossiped batch. Each costs the receiver a decode and usually a signature
 * recovery, so a batch is bounded by count as well as by the topic's byte limit; a bigger one
 * is refused whole before any tx in it is looked at.
 */
export const MAX_TX_BATCH = 1024
/** Bytes of txs a node puts in one batch it sends (half the tx topic's limit: room for framing). */
export const MAX_TX_BATCH_BYTES = 512 * 1024

/**
 * Txs travel in batches: RLP [attempt, [raw tx, ...]]. `attempt` makes a re-sent batch a new
 * gossip message: gossipsub remembers every message it published, even one it could not
 * deliver, and would refuse the same bytes again. Receivers ignore it.
 */
export function encodeTxBatch(raws: Uint8Array[], attempt = 0): Uint8Array {
  if (raws.length > MAX_TX_BATCH) throw new RangeError(`a tx batch holds at most ${MAX_TX_BATCH} txs, got ${raws.length}`)
  return RLP.encode([bigIntToUnpaddedBytes(BigInt(attempt)), raws])
}

export function decodeTxBatch(bytes: Uint8Array, maxTxs = MAX_TX_BATCH): Uint8Array[] {
  return decodeTxForward(bytes, maxTxs).raws
}

/**
 * A batch sent to a leader by request/response (txForward) is the same RLP [n, [raw tx, ...]],
 * where n counts the forwards the txs already made (0 from the node that took them over RPC):
 * receivers stop forwarding at a bound. Checked exactly as a gossiped batch.
 */
export function decodeTxForward(bytes: Uint8Array, maxTxs = MAX_TX_BATCH): { hops: number; raws: Uint8Array[] } {
  const parts = decodeList(bytes, 'tx batch')
  const [attempt, list] = parts
  if (parts.length !== 2 || !(attempt instanceof Uint8Array) || attempt.length > 4 || !Array.isArray(list)) {
    throw new WireError('tx batch must be RLP [attempt, [raw tx, ...]]')
  }
  if (list.length > maxTxs) throw new WireError(`tx batch holds ${list.length} txs, limit ${maxTxs}`)
  if (!list.every((p) => p instanceof Uint8Array)) throw new WireError('tx batch txs must be byte strings')
  return { hops: Number(bytesToBigInt(attempt)), raws: list as Uint8Array[] }
}

type Nested = Uint8Array | Nested[]

function decodeList(bytes: Uint8Array, what: string): Nested[] {
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new WireError(`${what} is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(decoded)) throw new WireError(`${what} must be an RLP list`)
  return decoded as Nested[]
}

/**
 * A block too large for a gossip frame (GOSSIP_INLINE_BYTES) is announced, not sent:
 * RLP [header, proof]. A node that does not have it asks the sender for its status and
 * catches up by request/response, whose frames follow the chain spec's block size.
 */
export function encodeBlockAnnouncement(header: BlockHeader, proof: Uint8Array = new Uint8Array(0)): Uint8Array {
  return RLP.encode([encodeHeader(header), proof])
}

/** What the blocks topic carries: a whole block (RLP [header, body, proof]) or an announcement (RLP [header, proof]). */
export function decodeBlockGossip(bytes: Uint8Array): { kind: 'block'; raw: RawBlock } | { kind: 'announcement'; header: BlockHeader; hash: Uint8Array } {
  const parts = decodeList(bytes, 'block gossip')
  if (parts.length === 2 && parts.every((p) => p instanceof Uint8Array)) {
    const header = decodeHeader(parts[0] as Uint8Array)
    return { kind: 'announcement', header, hash: blockHash(header) }
  }
  return { kind: 'block', raw: decodeBlockEnvelope(bytes) }
}
