/**
 * The database under ethereumjs's Merkle Patricia trie. Reads go to a write buffer first,
 * then to the store; writes only fill the buffer. The block importer drains the buffer
 * into the same atomic batch as the block, so state and chain can never disagree.
 * Nodes are never deleted: Catena keeps every historical state (archive), which is what
 * eth_getBalance / eth_getProof at old blocks need.
 */
import { hexToBytes, type BatchDBOp, type DB } from '@ethereumjs/util'
import { keys, type BatchOp, type KeyValueStore } from '../storage/index.ts'
import { BatchTrie, DecodedNodeCache, nodeKey, type TrieNodeStore } from './mpt-batch.ts'
import { evictOldest } from './evict.ts'

/**
 * Trie nodes are content-addressed (keyed by their hash), so a node read once never changes:
 * one cache per store serves every state root. It keeps the upper levels of the tries in
 * memory, which every account update walks through.
 */
const NODE_CACHE_ENTRIES = 100_000
const nodeCaches = new WeakMap<KeyValueStore, Map<string, Uint8Array>>()
/** Decoded nodes for BatchTrie, shared the same way (they are immutable). */
const decodedCaches = new WeakMap<KeyValueStore, DecodedNodeCache>()

function nodeCacheFor(store: KeyValueStore): Map<string, Uint8Array> {
  let cache = nodeCaches.get(store)
  if (!cache) nodeCaches.set(store, (cache = new Map()))
  return cache
}

export class TrieNodeDB implements DB<string, string | Uint8Array>, TrieNodeStore {
  private readonly pending = new Map<string, Uint8Array>()
  private readonly cache: Map<string, Uint8Array>

  constructor(private readonly store: KeyValueStore) {
    this.cache = nodeCacheFor(store)
  }

  /** ethereumjs's trie asks by unprefixed hex. */
  async get(hexKey: string): Promise<Uint8Array | undefined> {
    return this.getNode(unhex(hexKey))
  }

  getNode(hash: Uint8Array): Uint8Array | undefined {
    const key = nodeKey(hash)
    const hit = this.pending.get(key) ?? this.cache.get(key)
    if (hit) return hit
    const value = this.store.get(keys.stateNode(hash))
    if (value) this.remember(key, value)
    return value
  }

  putNode(hash: Uint8Array, encoded: Uint8Array): void {
    this.pending.set(nodeKey(hash), encoded)
  }

  /** A batch updater over this database (see mpt-batch.ts), sharing the store's decoded-node cache. */
  batchTrie(): BatchTrie {
    let decoded = decodedCaches.get(this.store)
    if (!decoded) decodedCaches.set(this.store, (decoded = new DecodedNodeCache()))
    return new BatchTrie(this, decoded)
  }

  private remember(key: string, value: Uint8Array): void {
    this.cache.set(key, value)
    // Oldest out first: the hot upper nodes are re-added as soon as they are read.
    evictOldest(this.cache, NODE_CACHE_ENTRIES)
  }

  async put(hexKey: string, value: string | Uint8Array): Promise<void> {
    this.pending.set(nodeKey(unhex(hexKey)), asBytes(value))
  }

  async del(_key: string): Promise<void> {
    // Archive semantics: old roots stay readable. (The trie only deletes when pruning is on.)
  }

  async batch(ops: BatchDBOp<string, string | Uint8Array>[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') this.pending.set(nodeKey(unhex(op.key)), asBytes(op.value))
  }

  shallowCopy(): DB<string, string | Uint8Array> {
    return this
  }

  async open(): Promise<void> {}

  /**
   * The buffered writes as store ops; the caller commits them atomically with the block.
   * The new nodes do not enter this node cache: BatchTrie, which wrote them, keeps them decoded
   * in its own cache, and other readers (proofs) find them in the store.
   */
  takeOps(): BatchOp[] {
    const ops: BatchOp[] = []
    for (const [k, v] of this.pending) ops.push({ type: 'put', key: keys.stateNode(Buffer.from(k, 'latin1')), value: v })
    return ops
  }

  get pendingCount(): number {
    return this.pending.size
  }
}

/**
 * ethereumjs's node keys (unprefixed hex) to bytes. Its hexToBytes re-validates every string
 * with a regex, which showed up in block execution profiles; these keys need no validation.
 */
function unhex(key: string): Uint8Array {
  const b = Buffer.from(key, 'hex')
  return new Uint8Array(b.buffer, b.byteOffset, b.length)
}

function asBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? hexToBytes(value.startsWith('0x') ? (value as `0x${string}`) : `0x${value}`) : value
}
