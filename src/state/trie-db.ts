/**
 * The database under ethereumjs's Merkle Patricia trie. Reads go to a write buffer first,
 * then to the store; writes only fill the buffer. The block importer drains the buffer
 * into the same atomic batch as the block, so state and chain can never disagree.
 * Nodes are never deleted: Catena keeps every historical state (archive), which is what
 * eth_getBalance / eth_getProof at old blocks need.
 */
import { hexToBytes, type BatchDBOp, type DB } from '@ethereumjs/util'
import { keys, type BatchOp, type KeyValueStore } from '../storage/index.ts'

export class TrieNodeDB implements DB<string, string | Uint8Array> {
  private readonly pending = new Map<string, Uint8Array>()

  constructor(private readonly store: KeyValueStore) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.pending.get(key) ?? this.store.get(keys.stateNode(hexToBytes(`0x${key}`)))
  }

  async put(key: string, value: string | Uint8Array): Promise<void> {
    this.pending.set(key, asBytes(value))
  }

  async del(_key: string): Promise<void> {
    // Archive semantics: old roots stay readable. (The trie only deletes when pruning is on.)
  }

  async batch(ops: BatchDBOp<string, string | Uint8Array>[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') this.pending.set(op.key, asBytes(op.value))
  }

  shallowCopy(): DB<string, string | Uint8Array> {
    return this
  }

  async open(): Promise<void> {}

  /** The buffered writes as store ops; the caller commits them atomically with the block. */
  takeOps(): BatchOp[] {
    const ops: BatchOp[] = []
    for (const [k, v] of this.pending) ops.push({ type: 'put', key: keys.stateNode(hexToBytes(`0x${k}`)), value: v })
    return ops
  }

  get pendingCount(): number {
    return this.pending.size
  }
}

function asBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? hexToBytes(value.startsWith('0x') ? (value as `0x${string}`) : `0x${value}`) : value
}
