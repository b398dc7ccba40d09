/**
 * The binary Merkle tree behind Catena's tx and receipts roots: exactly the Merkle Tree Hash of
 * RFC 6962 (Certificate Transparency) section 2.1, with SHA-256.
 *
 *   MTH({})      = SHA-256("")
 *   MTH({d0})    = SHA-256(0x00 || d0)                       (leaf hash)
 *   MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  (node hash)
 *                  where k is the largest power of two smaller than n
 *
 * The 0x00 / 0x01 prefixes keep a leaf from ever being read as an inner node (no second
 * preimages), and the power-of-two split means an odd node is carried up rather than paired
 * with a copy of itself: unlike Bitcoin's tree, two different leaf lists cannot share a root
 * (barring SHA-256 collisions).
 * Inclusion proofs are RFC 6962 audit paths, checked with the algorithm of RFC 9162 2.1.3.2.
 * @module
 */
import { sha256 } from './hash.ts'

export type MerkleErrorCode = 'INVALID_LEAF' | 'INVALID_NODE' | 'INDEX_OUT_OF_RANGE'

export class MerkleError extends Error {
  readonly code: MerkleErrorCode
  constructor(code: MerkleErrorCode, message: string) {
    super(message)
    this.name = 'MerkleError'
    this.code = code
  }
}

/** An RFC 6962 audit path: sibling hashes from the leaf's level up to just below the root. */
export interface MerkleProof {
  index: number
  leafCount: number
  siblings: Uint8Array[]
}

/** The root of a tree with no leaves: SHA-256 of the empty string. Shared: do not mutate. */
export const EMPTY_MERKLE_ROOT: Uint8Array = sha256(new Uint8Array(0))

/** SHA-256(0x00 || data): the hash of one leaf. */
export function hashLeaf(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new MerkleError('INVALID_LEAF', 'a Merkle leaf must be a Uint8Array')
  const buf = new Uint8Array(data.length + 1)
  buf[0] = 0x00
  buf.set(data, 1)
  return sha256(buf)
}

// One scratch buffer for every node hash: sha256 reads it synchronously and keeps no reference.
const nodeScratch = new Uint8Array(65)
nodeScratch[0] = 0x01

/** SHA-256(0x01 || left || right): the hash of an inner node. */
export function hashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (!isHash(left) || !isHash(right)) throw new MerkleError('INVALID_NODE', 'Merkle node children must be 32-byte hashes')
  nodeScratch.set(left, 1)
  nodeScratch.set(right, 33)
  return sha256(nodeScratch)
}

function leafHashes(leaves: Uint8Array[]): Uint8Array[] {
  if (!Array.isArray(leaves)) throw new MerkleError('INVALID_LEAF', 'leaves must be an array of Uint8Array')
  return leaves.map((leaf, i) => {
    if (!(leaf instanceof Uint8Array)) throw new MerkleError('INVALID_LEAF', `leaf ${i} is not a Uint8Array`)
    return hashLeaf(leaf)
  })
}

/**
 * One level up: pairs (0,1), (2,3), ...; an odd last node moves up unchanged. Pairing bottom-up
 * this way builds the same tree as RFC 6962's top-down split at the largest power of two.
 */
function parentLevel(level: Uint8Array[]): Uint8Array[] {
  const up: Uint8Array[] = new Array(Math.ceil(level.length / 2))
  for (let i = 0; i + 1 < level.length; i += 2) up[i >> 1] = hashNode(level[i]!, level[i + 1]!)
  if (level.length % 2 === 1) up[up.length - 1] = level[level.length - 1]!
  return up
}

/** The root over already-hashed leaves (each from hashLeaf). O(n) hashes. */
export function merkleRootFromLeafHashes(hashes: Uint8Array[]): Uint8Array {
  if (!Array.isArray(hashes) || !hashes.every(isHash)) {
    throw new MerkleError('INVALID_NODE', 'leaf hashes must be an array of 32-byte hashes')
  }
  if (hashes.length === 0) return EMPTY_MERKLE_ROOT.slice() // a copy: callers may own and mutate roots
  let level = hashes
  while (level.length > 1) level = parentLevel(level)
  return level[0]!
}

/** The RFC 6962 Merkle Tree Hash of `leaves` (raw leaf data, hashed here). */
export function merkleRoot(leaves: Uint8Array[]): Uint8Array {
  return merkleRootFromLeafHashes(leafHashes(leaves))
}

/** The audit path proving `leaves[index]` is in the tree of `leaves`. */
export function merkleProof(leaves: Uint8Array[], index: number): MerkleProof {
  let level = leafHashes(leaves)
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new MerkleError(
      'INDEX_OUT_OF_RANGE',
      `leaf index ${String(index)} is not in [0, ${leaves.length}) for a tree of ${leaves.length} leaves`,
    )
  }
  const siblings: Uint8Array[] = []
  let i = index
  while (level.length > 1) {
    const sibling = i ^ 1
    // The last node of an odd level has no sibling here: it is carried up, not paired.
    if (sibling < level.length) siblings.push(level[sibling]!)
    level = parentLevel(level)
    i >>= 1
  }
  return { index, leafCount: leaves.length, siblings }
}

function isHash(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === 32
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * True when `proof` shows a leaf with hash `leafHash` at `proof.index` in the tree of
 * `proof.leafCount` leaves with root `root` (RFC 9162 2.1.3.2). Never throws: anything malformed
 * (wrong types, index out of range, too few or too many siblings) is simply false.
 */
export function verifyMerkleProofHash(root: Uint8Array, leafHash: Uint8Array, proof: MerkleProof): boolean {
  if (!isHash(root) || !isHash(leafHash) || typeof proof !== 'object' || proof === null) return false
  const { index, leafCount, siblings } = proof
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(leafCount)) return false
  if (index < 0 || leafCount < 1 || index >= leafCount || !Array.isArray(siblings)) return false
  // fn: the node's index on its level; sn: the index of the level's last node.
  let fn = index
  let sn = leafCount - 1
  let r = leafHash
  for (const p of siblings) {
    if (!isHash(p) || sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = hashNode(p, r)
      // Skip the levels where this node was the carried-up last node (no sibling there).
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = hashNode(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && equal(r, root)
}

/** True when `proof` shows raw leaf data `leaf` is in the tree with root `root`. Never throws. */
export function verifyMerkleProof(root: Uint8Array, leaf: Uint8Array, proof: MerkleProof): boolean {
  if (!(leaf instanceof Uint8Array)) return false
  return verifyMerkleProofHash(root, hashLeaf(leaf), proof)
}
