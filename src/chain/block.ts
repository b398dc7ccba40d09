/**
 * Catena's block: its own header (not Ethereum's) carrying Ethereum typed transactions.
 * Block id = double SHA-256 of the RLP-encoded header, as Bitcoin does; the tx and receipts
 * roots are RFC 6962 binary SHA-256 Merkle roots so light clients get short proofs.
 */
import { RLP } from '@ethereumjs/rlp'
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { bigIntToUnpaddedBytes, bytesToBigInt } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import { sha256d } from '../crypto/hash.ts'
import { BlockError } from './errors.ts'
import { txBytes } from '../execution/tx-bytes.ts'
import { checkTxType } from '../execution/tx-policy.ts'
import { decodeOnce } from '../execution/tx-sender.ts'
import { commonAt, type Commons } from '../execution/common.ts'

export interface BlockHeader {
  parentHash: Uint8Array // 32
  height: bigint
  timestamp: bigint // seconds since the epoch
  txRoot: Uint8Array // 32
  stateRoot: Uint8Array // 32, Merkle Patricia root after this block
  receiptsRoot: Uint8Array // 32
  logsBloom: Uint8Array // 256
  gasLimit: bigint
  gasUsed: bigint
  baseFee: bigint
  producer: Uint8Array // 20: coinbase / proposer address
  extraData: Uint8Array // <= 32 bytes
  seal: Uint8Array // engine-defined: PoW nonce, proposer signature, ...
}

export interface Block {
  header: BlockHeader
  txs: TypedTransaction[]
}

export const MAX_EXTRA_DATA = 32

const HEADER_FIELDS = 13

export function encodeHeader(h: BlockHeader): Uint8Array {
  return RLP.encode([
    h.parentHash,
    bigIntToUnpaddedBytes(h.height),
    bigIntToUnpaddedBytes(h.timestamp),
    h.txRoot,
    h.stateRoot,
    h.receiptsRoot,
    h.logsBloom,
    bigIntToUnpaddedBytes(h.gasLimit),
    bigIntToUnpaddedBytes(h.gasUsed),
    bigIntToUnpaddedBytes(h.baseFee),
    h.producer,
    h.extraData,
    h.seal,
  ])
}

export function decodeHeader(bytes: Uint8Array): BlockHeader {
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new BlockError('MALFORMED', `header is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(decoded) || decoded.length !== HEADER_FIELDS || decoded.some((f) => !(f instanceof Uint8Array))) {
    throw new BlockError('MALFORMED', `header must be an RLP list of ${HEADER_FIELDS} byte strings`)
  }
  const f = decoded as Uint8Array[]
  const header: BlockHeader = {
    parentHash: f[0],
    height: qty(f[1], 'height'),
    timestamp: qty(f[2], 'timestamp'),
    txRoot: f[3],
    stateRoot: f[4],
    receiptsRoot: f[5],
    logsBloom: f[6],
    gasLimit: qty(f[7], 'gasLimit'),
    gasUsed: qty(f[8], 'gasUsed'),
    baseFee: qty(f[9], 'baseFee'),
    producer: f[10],
    extraData: f[11],
    seal: f[12],
  }
  checkHeaderShape(header)
  return header
}

function qty(b: Uint8Array, name: string): bigint {
  if (b.length > 32) throw new BlockError('MALFORMED', `header ${name} is longer than 32 bytes`)
  if (b.length > 0 && b[0] === 0) throw new BlockError('MALFORMED', `header ${name} has leading zero bytes`)
  return bytesToBigInt(b)
}

/** Field sizes every header must have, whatever the engine. */
export function checkHeaderShape(h: BlockHeader): void {
  const sized: Array<[keyof BlockHeader, number]> = [
    ['parentHash', 32], ['txRoot', 32], ['stateRoot', 32], ['receiptsRoot', 32], ['logsBloom', 256], ['producer', 20],
  ]
  for (const [name, len] of sized) {
    const v = h[name] as Uint8Array
    if (v.length !== len) throw new BlockError('MALFORMED', `header ${name} must be ${len} bytes, got ${v.length}`)
  }
  if (h.extraData.length > MAX_EXTRA_DATA) throw new BlockError('MALFORMED', `header extraData exceeds ${MAX_EXTRA_DATA} bytes`)
  if (h.gasUsed > h.gasLimit) throw new BlockError('GAS_USED_OVER_LIMIT', `gas used ${h.gasUsed} exceeds gas limit ${h.gasLimit}`)
}

/** Block id: double SHA-256 of the encoded header. */
export function blockHash(h: BlockHeader): Uint8Array {
  return sha256d(encodeHeader(h))
}

/** Body: the raw serialized txs, each as one RLP byte string. */
export function encodeBody(txs: TypedTransaction[]): Uint8Array {
  return RLP.encode(txs.map(txBytes))
}

export function decodeBody(bytes: Uint8Array, common: Common): TypedTransaction[] {
  return decodeTxs(rawTxList(bytes), common)
}

/** The serialized txs of a body, not yet decoded. */
function rawTxList(bytes: Uint8Array): Uint8Array[] {
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new BlockError('MALFORMED', `block body is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(decoded) || decoded.some((t) => !(t instanceof Uint8Array))) {
    throw new BlockError('MALFORMED', 'block body must be an RLP list of serialized transactions')
  }
  return decoded as Uint8Array[]
}

/** Decodes raw txs (each checked for an allowed type first); throws BlockError BAD_TX naming the first that fails. */
export function decodeTxs(raws: Uint8Array[], common: Common): TypedTransaction[] {
  return raws.map((raw, i) => {
    try {
      // The type byte first (EIP-2718: a first byte below 0x7f is a type; a legacy tx is an RLP list).
      if (raw.length > 0 && raw[0]! < 0x7f) checkTxType(raw[0]!)
      return decodeOnce(raw, common.chainId(), () => createTxFromRLP(raw, { common, freeze: false }))
    } catch (err) {
      throw new BlockError('BAD_TX', `tx ${i} does not decode: ${(err as Error).message}`)
    }
  })
}

/**
 * A block as it travels between nodes (block gossip, range and hash sync, BFT proposals):
 * RLP [header, body, proof], where proof is what its engine requires for import (a BFT commit
 * certificate; empty for engines whose header carries everything, and for a proposal, which
 * is not decided yet). The one block decoder on the consensus path is decodeBlockEnvelope:
 * it decodes the header only, so a block's header and proof are checked before its txs.
 */
export function encodeBlockEnvelope(block: Block, proof: Uint8Array = new Uint8Array(0)): Uint8Array {
  return RLP.encode([encodeHeader(block.header), encodeBody(block.txs), proof])
}

/**
 * A block from a peer with only its header decoded: the header, seal and proof are checked
 * before a single tx is decoded (cheap checks first). `bodyBytes` is the RLP body.
 */
export interface RawBlock {
  header: BlockHeader
  hash: Uint8Array
  /** Bytes of header + body on the wire: what maxBlockBytes limits, known without decoding the txs. */
  size: number
  bodyBytes: Uint8Array
  proof: Uint8Array
}

export function decodeBlockEnvelope(bytes: Uint8Array): RawBlock {
  let parts: unknown
  try {
    parts = RLP.decode(bytes)
  } catch (err) {
    throw new BlockError('MALFORMED', `block is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(parts) || parts.length !== 3 || !parts.every((p) => p instanceof Uint8Array)) {
    throw new BlockError('MALFORMED', 'block must be RLP [header, body, proof]')
  }
  const [headerBytes, bodyBytes, proof] = parts as [Uint8Array, Uint8Array, Uint8Array]
  const header = decodeHeader(headerBytes)
  return { header, hash: blockHash(header), size: headerBytes.length + bodyBytes.length, bodyBytes, proof }
}

/**
 * The txs of a raw block, decoded with the Common of its height (its chain id: see
 * CommonSchedule). `check` sees the serialized txs before any is decoded (a tx root check).
 */
export function decodeRawBody(raw: RawBlock, commons: Commons, check?: (rawTxs: Uint8Array[]) => void): Block {
  const raws = rawTxList(raw.bodyBytes)
  check?.(raws)
  return { header: raw.header, txs: decodeTxs(raws, commonAt(commons, raw.header.height)) }
}

/** A decoded block as a raw one (blocks built or proposed locally take the same import path). */
export function toRawBlock(block: Block, proof: Uint8Array = new Uint8Array(0)): RawBlock & { block: Block } {
  const bodyBytes = encodeBody(block.txs)
  return { header: block.header, hash: blockHash(block.header), size: encodeHeader(block.header).length + bodyBytes.length, bodyBytes, proof, block }
}

/** Size of the block on the wire: header + body, what maxBlockBytes limits. */
export function blockSize(block: Block): number {
  return encodeHeader(block.header).length + encodeBody(block.txs).length
}
