/**
 * The storage key layout: every key Catena writes, in one place (like bcoin's layout.js).
 * One byte of prefix names the bucket; heights are 8-byte big-endian so they sort.
 *
 *   'M' + name                 meta: 'head' -> block hash of the canonical head,
 *                              'genesis' -> genesis hash, 'chainid' -> chain id at genesis
 *                              (the genesis header does not commit to it), 'schema' -> store
 *                              format version
 *   'h' + hash(32)             block header (RLP)
 *   'b' + hash(32)             block body: txs (RLP list of raw txs)
 *   'r' + hash(32)             receipts of the block (RLP list)
 *   'n' + height(8)            canonical block hash at height
 *   'H' + hash(32)             height of a stored block (8 bytes)
 *   't' + txHash(32)           tx location: blockHash(32) + index(4)
 *   'l' + height(8)            logs bloom of the canonical block at height (fast eth_getLogs)
 *   's' + trie db key          state: Merkle Patricia trie nodes (keyed by node hash) and
 *                              contract code ('c' + codeHash, ethereumjs's code key), one
 *                              namespace for the account trie and every storage trie
 *   'i' + hash(32)             total issuance after that block (u256, monetary cap accounting)
 *   'p' + height(8)            permissioned chains: the permissions contract's snapshot() return
 *                              data after the block at that height, written only at genesis and
 *                              when it changed; meta 'permissions' lists those heights (RLP)
 *   'k' + height(8)            PoS chains: the staking contract's snapshot() likewise; meta 'staking'
 *   'P' / 'K' + hash(32)       the permissions / stakes snapshot after a block that is off the
 *                              canonical chain (a side block, or one a reorg disconnected), when
 *                              it differs from its parent's: a later reorg back restores it
 *   'w' + hash(32)             total work of the chain ending at that block (u256): fork choice
 *                              picks the most. PoW: the sum of each block's expected hashes;
 *                              other engines: one per block (absent in old stores: the height)
 *   'f' + hash(32)             the proof its engine required to import the block (BFT: the commit
 *                              certificate that made it final), written in the block's batch;
 *                              absent for engines whose header carries everything (PoW, dev)
 *   'a' + address(20) + height(8) + txIndex(4)
 *                              address index: tx hash(32) of each canonical tx the address sent,
 *                              received or created (src/chain/address-index.ts), newest last;
 *                              written with the block, rewritten on reorgs (stores from before the
 *                              index: only blocks imported since)
 */
import { bigIntToBytes, concatBytes, setLengthLeft, utf8ToBytes } from '@ethereumjs/util'

const P = (c: string) => utf8ToBytes(c)
const META = P('M')
const HEADER = P('h')
const BODY = P('b')
const RECEIPTS = P('r')
const CANONICAL = P('n')
const HEIGHT = P('H')
const TX = P('t')
const BLOOM = P('l')
export const STATE_PREFIX = P('s')
const ISSUED = P('i')
const WORK = P('w')
const ADDRESS_TX = P('a')
const PROOF = P('f')
const SNAPSHOTS = { permissions: P('p'), staking: P('k') }
const BLOCK_SNAPSHOTS = { permissions: P('P'), staking: P('K') }

/** 2: blocks are stored with the proof their engine requires ('f' + hash). */
export const SCHEMA_VERSION = 2

export function heightKey(height: bigint): Uint8Array {
  return setLengthLeft(bigIntToBytes(height), 8)
}

export const keys = {
  meta: (name: 'head' | 'genesis' | 'schema' | 'chainid' | 'permissions' | 'staking') => concatBytes(META, utf8ToBytes(name)),
  header: (hash: Uint8Array) => concatBytes(HEADER, hash),
  body: (hash: Uint8Array) => concatBytes(BODY, hash),
  receipts: (hash: Uint8Array) => concatBytes(RECEIPTS, hash),
  canonical: (height: bigint) => concatBytes(CANONICAL, heightKey(height)),
  height: (hash: Uint8Array) => concatBytes(HEIGHT, hash),
  tx: (txHash: Uint8Array) => concatBytes(TX, txHash),
  bloom: (height: bigint) => concatBytes(BLOOM, heightKey(height)),
  stateNode: (nodeKey: Uint8Array) => concatBytes(STATE_PREFIX, nodeKey),
  issued: (hash: Uint8Array) => concatBytes(ISSUED, hash),
  work: (hash: Uint8Array) => concatBytes(WORK, hash),
  proof: (hash: Uint8Array) => concatBytes(PROOF, hash),
  snapshot: (kind: 'permissions' | 'staking', height: bigint) => concatBytes(SNAPSHOTS[kind], heightKey(height)),
  blockSnapshot: (kind: 'permissions' | 'staking', hash: Uint8Array) => concatBytes(BLOCK_SNAPSHOTS[kind], hash),
  /** Address index entry; `addressTxs(address)` alone is the prefix of all its entries. */
  addressTx: (address: Uint8Array, height: bigint, txIndex: number) => concatBytes(ADDRESS_TX, address, heightKey(height), u32(txIndex)),
  addressTxs: (address: Uint8Array) => concatBytes(ADDRESS_TX, address),
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n)
  return out
}
