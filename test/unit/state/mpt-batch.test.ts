import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MerklePatriciaTrie, createMPTFromProof, createMerkleProof, verifyMPTWithMerkleProof } from '@ethereumjs/mpt'
import { bytesToHex, hexToBytes, type DB, type BatchDBOp } from '@ethereumjs/util'
import { BatchTrie, EMPTY_TRIE_ROOT, TrieError, type TrieNodeStore, type TrieUpdate } from '../../../src/state/mpt-batch.ts'

function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** One map of nodes that BatchTrie writes to and ethereumjs's trie reads from (as TrieNodeDB does). */
class SharedNodes implements TrieNodeStore, DB<string, Uint8Array> {
  readonly nodes = new Map<string, Uint8Array>()
  getNode(hash: Uint8Array) {
    return this.nodes.get(bytesToHex(hash).slice(2))
  }
  putNode(hash: Uint8Array, encoded: Uint8Array) {
    this.nodes.set(bytesToHex(hash).slice(2), encoded)
  }
  async get(key: string) {
    return this.nodes.get(key)
  }
  async put(key: string, value: Uint8Array) {
    this.nodes.set(key, value)
  }
  async del() {}
  async batch(ops: BatchDBOp<string, Uint8Array>[]) {
    for (const op of ops) if (op.type === 'put') this.nodes.set(op.key, op.value)
  }
  shallowCopy() {
    return this
  }
  async open() {}
}

function randomBytes(random: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256))
}

/**
 * Random batches of inserts, updates and deletes applied by BatchTrie and by ethereumjs's trie
 * (key by key): the roots must match after every batch. `keyBytes` small and `keySpace` small
 * give deep, dense tries with embedded (<32-byte) nodes and frequent branch collapses.
 */
async function crossCheck(seed: number, keyBytes: number, keySpace: number, batches: number, batchSize: number, maxValue: number) {
  const random = rng(seed)
  const keys = Array.from({ length: keySpace }, () => randomBytes(random, keyBytes))
  const shared = new SharedNodes()
  const ours = new BatchTrie(shared)
  const reference = new MerklePatriciaTrie() // its own in-memory db
  let root = EMPTY_TRIE_ROOT
  const model = new Map<string, Uint8Array>()
  for (let b = 0; b < batches; b++) {
    const updates: TrieUpdate[] = []
    for (let i = 0; i < batchSize; i++) {
      const key = keys[Math.floor(random() * keys.length)]!
      const del = random() < 0.35
      const value = del ? null : randomBytes(random, 1 + Math.floor(random() * maxValue))
      updates.push([key, value])
    }
    root = ours.update(root, updates)
    for (const [key, value] of updates) {
      if (value === null) {
        await reference.del(key)
        model.delete(bytesToHex(key))
      } else {
        await reference.put(key, value)
        model.set(bytesToHex(key), value)
      }
    }
    assert.equal(bytesToHex(root), bytesToHex(reference.root()), `root after batch ${b} (seed ${seed})`)
  }
  // Every key reads back through both BatchTrie.get and ethereumjs's trie over our nodes.
  const overOurs = new MerklePatriciaTrie({ db: shared, root, useRootPersistence: false })
  for (const key of keys) {
    const expected = model.get(bytesToHex(key))
    assert.deepEqual(ours.get(root, key), expected)
    assert.deepEqual((await overOurs.get(key)) ?? undefined, expected)
  }
  return { root, shared, keys, model }
}

describe('BatchTrie', () => {
  test('matches ethereumjs roots on random batches with 32-byte keys (the state trie shape)', async () => {
    for (const seed of [1, 2, 3]) await crossCheck(seed, 32, 300, 40, 25, 80)
  })

  test('matches on dense short keys: embedded nodes, extensions and branch collapses', async () => {
    for (const seed of [4, 5, 6, 7, 8]) await crossCheck(seed, 2, 60, 60, 12, 3)
    await crossCheck(9, 1, 40, 80, 6, 2)
  })

  test('deleting every key returns the empty root', async () => {
    const random = rng(10)
    const shared = new SharedNodes()
    const trie = new BatchTrie(shared)
    const keys = Array.from({ length: 200 }, () => randomBytes(random, 32))
    const root = trie.update(EMPTY_TRIE_ROOT, keys.map((k) => [k, Uint8Array.of(1, 2, 3)] as const))
    assert.notEqual(bytesToHex(root), bytesToHex(EMPTY_TRIE_ROOT))
    assert.deepEqual(trie.update(root, keys.map((k) => [k, null] as const)), EMPTY_TRIE_ROOT)
  })

  test('an update that changes nothing keeps the root and writes no node', async () => {
    const random = rng(11)
    const shared = new SharedNodes()
    const trie = new BatchTrie(shared)
    const pairs = Array.from({ length: 50 }, () => [randomBytes(random, 32), randomBytes(random, 40)] as const)
    const root = trie.update(EMPTY_TRIE_ROOT, pairs)
    const written = shared.nodes.size
    // A fresh BatchTrie (no decoded nodes) re-applying the same values and deleting absent keys.
    const again = new BatchTrie(shared).update(root, [...pairs, [randomBytes(random, 32), null]])
    assert.deepEqual(again, root)
    assert.equal(shared.nodes.size, written)
  })

  test('proofs made by ethereumjs over BatchTrie nodes verify against the root', async () => {
    const { root, shared, keys, model } = await crossCheck(12, 32, 120, 10, 30, 60)
    const trie = new MerklePatriciaTrie({ db: shared, root, useRootPersistence: false })
    for (const key of keys.slice(0, 30)) {
      const proof = await createMerkleProof(trie, key)
      const value = await verifyMPTWithMerkleProof(trie, root, key, proof)
      assert.deepEqual(value ?? undefined, model.get(bytesToHex(key)))
      const fromProof = await createMPTFromProof(proof)
      assert.deepEqual(bytesToHex(fromProof.root()), bytesToHex(root))
    }
  })

  test('a missing node is a clear TrieError, not a wrong root', () => {
    const trie = new BatchTrie(new SharedNodes())
    const unknown = hexToBytes(`0x${'ab'.repeat(32)}`)
    assert.throws(() => trie.update(unknown, [[new Uint8Array(32), Uint8Array.of(1)]]), (err: unknown) => {
      return err instanceof TrieError && /trie node 0xabab.* is missing/.test(err.message)
    })
    assert.throws(() => trie.get(unknown, new Uint8Array(32)), TrieError)
  })

  test('a corrupt node is rejected', () => {
    const shared = new SharedNodes()
    const hash = hexToBytes(`0x${'cd'.repeat(32)}`)
    shared.putNode(hash, Uint8Array.of(0xc3, 0x01, 0x02, 0x03)) // a 3-item list is no node
    assert.throws(() => new BatchTrie(shared).get(hash, new Uint8Array(32)), /bad trie node with 3 items/)
  })
})
