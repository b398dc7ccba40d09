/**
 * The status handshake message: what chain a node follows and where its head is. Both sides
 * send theirs on every new connection; a peer on another chain (chain id or genesis differs)
 * is dropped. The chain id is the one in force after the sender's head (see chainMismatch).
 * Encoded as the RLP list [chainId, genesisHash, headHeight, headHash, totalWork] with
 * canonical integers (no leading zero bytes) and 32-byte hashes. The total work of the head's
 * chain (as the eth protocol's status carries the total difficulty) is a claim sync checks
 * against the headers the peer then serves; a status without it (4 fields) claims none.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToHex, equalsBytes } from '@ethereumjs/util'
import { NetError, PENALTY } from './errors.ts'

export interface ChainStatus {
  chainId: bigint
  genesisHash: Uint8Array
  headHeight: bigint
  headHash: Uint8Array
  /** Total work of the chain ending at the head (fork choice: PoW expected hashes, else one a block). A claim, checked by sync. */
  totalWork?: bigint
}

const HASH_BYTES = 32
const MAX_CHAIN_ID_BYTES = 32
const MAX_HEIGHT_BYTES = 8
const MAX_WORK_BYTES = 32

export function encodeStatus(s: ChainStatus): Uint8Array {
  const fields = [bigIntToUnpaddedBytes(s.chainId), s.genesisHash, bigIntToUnpaddedBytes(s.headHeight), s.headHash]
  return RLP.encode(s.totalWork === undefined ? fields : [...fields, bigIntToUnpaddedBytes(s.totalWork)])
}

function malformed(detail: string): NetError {
  return new NetError('MALFORMED', `malformed status: ${detail}`, PENALTY.malformed)
}

function decodeUint(bytes: Uint8Array | unknown, maxBytes: number, field: string): bigint {
  if (!(bytes instanceof Uint8Array)) throw malformed(`${field} is not a byte string`)
  if (bytes.length > maxBytes) throw malformed(`${field} is longer than ${maxBytes} bytes`)
  if (bytes.length > 0 && bytes[0] === 0) throw malformed(`${field} has a leading zero byte`)
  return bytesToBigInt(bytes)
}

function decodeHash(bytes: Uint8Array | unknown, field: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== HASH_BYTES) throw malformed(`${field} is not ${HASH_BYTES} bytes`)
  return new Uint8Array(bytes) // a copy: the frame it came in is not kept alive
}

/** Decodes a peer's status; throws NetError MALFORMED (with its penalty) for anything else. */
export function decodeStatus(bytes: Uint8Array): ChainStatus {
  let fields: unknown
  try {
    fields = RLP.decode(bytes)
  } catch (err) {
    throw malformed(`not RLP (${(err as Error).message})`)
  }
  if (!Array.isArray(fields) || (fields.length !== 4 && fields.length !== 5)) throw malformed('expected a list of 4 or 5 fields')
  return {
    chainId: decodeUint(fields[0], MAX_CHAIN_ID_BYTES, 'chain id'),
    genesisHash: decodeHash(fields[1], 'genesis hash'),
    headHeight: decodeUint(fields[2], MAX_HEIGHT_BYTES, 'head height'),
    headHash: decodeHash(fields[3], 'head hash'),
    ...(fields.length === 5 ? { totalWork: decodeUint(fields[4], MAX_WORK_BYTES, 'total work') } : {}),
  }
}

/**
 * Why a peer with status `theirs` cannot serve our chain, or undefined when it can.
 *
 * A status's chain id is the one in force for the block after its head, so a hard fork that
 * changes the chain id (replay protection) also parts the network: `chainIdAt` (our fork
 * schedule) says which id we expect from a peer at its height. A node that did not adopt the
 * fork and one that did stop talking once either of them passes the fork height, while a
 * syncing node far behind still gets served.
 */
export function chainMismatch(ours: ChainStatus, theirs: ChainStatus, chainIdAt?: (height: bigint) => bigint): string | undefined {
  const expected = chainIdAt ? chainIdAt(theirs.headHeight + 1n) : ours.chainId
  if (theirs.chainId !== expected) {
    return chainIdAt
      ? `chain id ${theirs.chainId} after height ${theirs.headHeight} (our fork schedule says ${expected} there)`
      : `chain id ${theirs.chainId} (ours ${ours.chainId})`
  }
  if (!equalsBytes(theirs.genesisHash, ours.genesisHash)) {
    return `genesis ${bytesToHex(theirs.genesisHash)} (ours ${bytesToHex(ours.genesisHash)})`
  }
  return undefined
}
