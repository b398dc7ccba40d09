/**
 * Batched Merkle Patricia trie updates: apply all of a block's changes to a trie in memory,
 * then encode and hash each changed node once.
 *
 * Why not ethereumjs's trie for this: its `put` walks from the root asynchronously and
 * re-encodes and re-hashes the whole path on every key, which made the state root the
 * largest cost of a block (about a third of block production). Here reads are synchronous
 * (trie nodes come from the node buffer, the node cache or LevelDB's getSync), unchanged
 * subtrees stay as hash references, and hashing happens once per changed node at the end,
 * like geth's trie.Hash/Commit.
 *
 * The node encoding is the Yellow Paper's (appendix D) and ethereumjs's: leaf
 * [hp(path, leaf), value], extension [hp(path), child], branch [c0..c15, value]; a child whose
 * RLP is under 32 bytes is embedded raw, otherwise referenced by keccak-256 and stored under
 * that hash; the root is always hashed and stored. ethereumjs's trie reads, proves and
 * verifies what this writes (test/unit/state/mpt-batch.test.ts cross-checks random batches).
 *
 * Nodes are immutable: an update builds new nodes along the changed paths and shares the
 * rest, so decoded nodes can be cached by hash and shared between tries and blocks.
 */
import { RLP, type NestedUint8Array } from '@ethereumjs/rlp'
import { KECCAK256_RLP, bytesToHex, equalsBytes } from '@ethereumjs/util'
import { keccak256 } from '../crypto/hash.ts'
import { evictOldest } from './evict.ts'
import { encodeBranchNode, encodeExtensionNode, encodeLeafNode } from './node-rlp.ts'

/** Where trie nodes are read from and written to, keyed by their keccak-256 hash. */
export interface TrieNodeStore {
  getNode(hash: Uint8Array): Uint8Array | undefined
  putNode(hash: Uint8Array, encoded: Uint8Array): void
}

export const EMPTY_TRIE_ROOT: Uint8Array = KECCAK256_RLP

/** A trie node, or a reference to one stored under its hash and not loaded yet. */
type Node = HashNode | LeafNode | ExtensionNode | BranchNode
/**
 * How a parent refers to a node: its 32-byte hash, or its RLP when that is under 32 bytes
 * (embedded in the parent as it is). The lengths tell the two apart.
 */
type Ref = Uint8Array

interface HashNode {
  readonly kind: 'hash'
  readonly hash: Uint8Array
}
interface LeafNode {
  readonly kind: 'leaf'
  readonly path: Uint8Array // nibbles
  readonly value: Uint8Array
  ref?: Ref
}
interface ExtensionNode {
  readonly kind: 'ext'
  readonly path: Uint8Array // nibbles, never empty
  readonly child: Node
  ref?: Ref
}
interface BranchNode {
  readonly kind: 'branch'
  readonly children: ReadonlyArray<Node | null> // 16
  readonly value: Uint8Array | null
  ref?: Ref
}

export class TrieError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TrieError'
  }
}

/** One change: set `key` (the trie key, already hashed by the caller) to `value`, or delete it (null). */
export type TrieUpdate = readonly [key: Uint8Array, value: Uint8Array | null]

/**
 * Decoded nodes by hash, per node store owner. Content-addressed and immutable, so one cache
 * is right for every root; bounded, oldest first out.
 */
export class DecodedNodeCache {
  private readonly nodes = new Map<string, Node>()
  constructor(private readonly limit = 200_000) {}
  get(key: string): Node | undefined {
    return this.nodes.get(key)
  }
  set(key: string, node: Node): void {
    this.nodes.set(key, node)
    evictOldest(this.nodes, this.limit)
  }
}

export class BatchTrie {
  constructor(
    private readonly store: TrieNodeStore,
    private readonly cache: DecodedNodeCache = new DecodedNodeCache(),
  ) {}

  /** Applies `updates` in order to the trie at `root`; writes the new nodes to the store and returns the new root. */
  update(root: Uint8Array, updates: Iterable<TrieUpdate>): Uint8Array {
    let node: Node | null = equalsBytes(root, EMPTY_TRIE_ROOT) ? null : { kind: 'hash', hash: root }
    for (const [key, value] of updates) {
      const path = toNibbles(key)
      node = value === null || value.length === 0 ? this.remove(node, path, 0) : this.insert(node, path, 0, value)
    }
    if (node === null) return EMPTY_TRIE_ROOT
    // The root is hashed and stored whatever its size (its ref stays embedded: nodes are shared).
    const ref = this.ref(node)
    if (ref.length === 32) return ref
    const hash = keccak256(ref)
    this.store.putNode(hash, ref)
    return hash
  }

  /** The value at `key` in the trie at `root`, or undefined. */
  get(root: Uint8Array, key: Uint8Array): Uint8Array | undefined {
    if (equalsBytes(root, EMPTY_TRIE_ROOT)) return undefined
    const path = toNibbles(key)
    let node: Node = { kind: 'hash', hash: root }
    let at = 0
    for (;;) {
      node = this.resolve(node)
      if (node.kind === 'leaf') return matchesAt(path, at, node.path) && at + node.path.length === path.length ? node.value : undefined
      if (node.kind === 'ext') {
        if (!matchesAt(path, at, node.path)) return undefined
        at += node.path.length
        node = node.child
        continue
      }
      if (at === path.length) return node.value ?? undefined
      const child = node.children[path[at]!]
      if (!child) return undefined
      node = child
      at++
    }
  }

  private insert(node: Node | null, path: Uint8Array, at: number, value: Uint8Array): Node {
    if (node === null) return leaf(path.subarray(at), value)
    node = this.resolve(node)
    switch (node.kind) {
      case 'leaf': {
        const rest = path.subarray(at)
        const common = commonPrefix(node.path, rest)
        if (common === node.path.length && common === rest.length) {
          return equalsBytes(node.value, value) ? node : leaf(node.path, value)
        }
        const children: Array<Node | null> = new Array(16).fill(null)
        let branchValue: Uint8Array | null = null
        if (common === node.path.length) branchValue = node.value
        else children[node.path[common]!] = leaf(node.path.subarray(common + 1), node.value)
        if (common === rest.length) branchValue = value
        else children[rest[common]!] = leaf(rest.subarray(common + 1), value)
        return withPrefix(rest.subarray(0, common), branch(children, branchValue))
      }
      case 'ext': {
        const rest = path.subarray(at)
        const common = commonPrefix(node.path, rest)
        if (common === node.path.length) {
          const child = this.insert(node.child, path, at + common, value)
          return child === node.child ? node : ext(node.path, child)
        }
        const children: Array<Node | null> = new Array(16).fill(null)
        let branchValue: Uint8Array | null = null
        children[node.path[common]!] = common + 1 === node.path.length ? node.child : ext(node.path.subarray(common + 1), node.child)
        if (common === rest.length) branchValue = value
        else children[rest[common]!] = leaf(rest.subarray(common + 1), value)
        return withPrefix(rest.subarray(0, common), branch(children, branchValue))
      }
      case 'branch': {
        if (at === path.length) {
          return node.value && equalsBytes(node.value, value) ? node : branch(node.children, value)
        }
        const i = path[at]!
        const old = node.children[i] ?? null
        const child = this.insert(old, path, at + 1, value)
        if (child === old) return node
        const children = node.children.slice()
        children[i] = child
        return branch(children, node.value)
      }
    }
  }

  /** Removes `path` below `node`; returns `node` itself when the key was not there. */
  private remove(node: Node | null, path: Uint8Array, at: number): Node | null {
    if (node === null) return null
    node = this.resolve(node)
    switch (node.kind) {
      case 'leaf':
        return at + node.path.length === path.length && matchesAt(path, at, node.path) ? null : node
      case 'ext': {
        if (!matchesAt(path, at, node.path)) return node
        const child = this.remove(node.child, path, at + node.path.length)
        if (child === node.child) return node
        if (child === null) return null
        return withPrefix(node.path, this.resolve(child))
      }
      case 'branch': {
        let children = node.children
        let value = node.value
        if (at === path.length) {
          if (value === null) return node
          value = null
        } else {
          const i = path[at]!
          const old = node.children[i] ?? null
          const child = this.remove(old, path, at + 1)
          if (child === old) return node
          const copy = node.children.slice()
          copy[i] = child
          children = copy
        }
        return this.collapse(children, value)
      }
    }
  }

  /** A branch that lost an entry: keep it if it still has two, else fold it into its last one. */
  private collapse(children: ReadonlyArray<Node | null>, value: Uint8Array | null): Node | null {
    let count = value === null ? 0 : 1
    let only = -1
    for (let i = 0; i < 16; i++) {
      if (children[i]) {
        count++
        only = i
      }
    }
    if (count >= 2) return branch(children, value)
    if (count === 0) return null
    if (only === -1) return leaf(new Uint8Array(0), value!)
    return withPrefix(Uint8Array.of(only), this.resolve(children[only]!))
  }

  private resolve(node: Node): Exclude<Node, HashNode> {
    if (node.kind !== 'hash') return node
    const key = nodeKey(node.hash)
    const cached = this.cache.get(key)
    if (cached) return cached as Exclude<Node, HashNode>
    const encoded = this.store.getNode(node.hash)
    if (!encoded) throw new TrieError(`trie node ${bytesToHex(node.hash)} is missing from the database`)
    const decoded = decodeNode(RLP.decode(encoded), node.hash)
    if (decoded.kind === 'hash') throw new TrieError(`trie node ${bytesToHex(node.hash)} is not a node`)
    this.cache.set(key, decoded)
    return decoded
  }

  /** How a parent refers to `node`: by hash (stored now) or embedded when its RLP is short. */
  private ref(node: Node): Ref {
    if (node.kind === 'hash') return node.hash
    if (node.ref !== undefined) return node.ref
    const encoded = this.encode(node)
    if (encoded.length < 32) return (node.ref = encoded)
    const hash = keccak256(encoded)
    this.store.putNode(hash, encoded)
    node.ref = hash
    this.cache.set(nodeKey(hash), node)
    return hash
  }

  /** The node's RLP (children referenced first, so changed subtrees are stored bottom-up). */
  private encode(node: Exclude<Node, HashNode>): Uint8Array {
    switch (node.kind) {
      case 'leaf':
        return encodeLeafNode(hexPrefix(node.path, true), node.value)
      case 'ext':
        return encodeExtensionNode(hexPrefix(node.path, false), this.ref(node.child))
      case 'branch': {
        const refs: Array<Uint8Array | null> = new Array(16)
        for (let i = 0; i < 16; i++) {
          const c = node.children[i]
          refs[i] = c ? this.ref(c) : null
        }
        return encodeBranchNode(refs, node.value ?? EMPTY)
      }
    }
  }
}

const EMPTY = new Uint8Array(0)

/**
 * The in-memory key of a trie node: its hash as a 32-character latin1 string (cheaper to make
 * and to hash in a Map than hex, and as unique). TrieNodeDB keys its buffers the same way.
 */
export function nodeKey(hash: Uint8Array): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1')
}

function leaf(path: Uint8Array, value: Uint8Array): LeafNode {
  return { kind: 'leaf', path, value }
}
function ext(path: Uint8Array, child: Node): ExtensionNode {
  return { kind: 'ext', path, child }
}
function branch(children: ReadonlyArray<Node | null>, value: Uint8Array | null): BranchNode {
  return { kind: 'branch', children, value }
}

/** `prefix` + `node`: merges into a leaf's or extension's path, or puts an extension above a branch. */
function withPrefix(prefix: Uint8Array, node: Node): Node {
  if (prefix.length === 0) return node
  if (node.kind === 'leaf') return leaf(concat(prefix, node.path), node.value)
  if (node.kind === 'ext') return ext(concat(prefix, node.path), node.child)
  return ext(prefix, node)
}

function decodeNode(raw: Uint8Array | NestedUint8Array, hash?: Uint8Array): Node {
  if (raw instanceof Uint8Array) {
    if (raw.length === 32) return { kind: 'hash', hash: raw }
    throw new TrieError(`bad trie node reference of ${raw.length} bytes`)
  }
  // A node read from the store is referenced by its hash; one embedded in its parent by its RLP.
  const ref: Ref = hash ?? RLP.encode(raw)
  if (raw.length === 17) {
    const children: Array<Node | null> = new Array(16)
    for (let i = 0; i < 16; i++) {
      const c = raw[i]!
      children[i] = c instanceof Uint8Array && c.length === 0 ? null : decodeNode(c)
    }
    const v = raw[16]
    if (!(v instanceof Uint8Array)) throw new TrieError('bad branch node value')
    return { kind: 'branch', children, value: v.length === 0 ? null : v, ref }
  }
  if (raw.length === 2) {
    const [encodedPath, second] = raw
    if (!(encodedPath instanceof Uint8Array) || encodedPath.length === 0) throw new TrieError('bad trie node path')
    const flag = encodedPath[0]! >> 4
    if (flag > 3) throw new TrieError(`bad hex-prefix flag ${flag}`)
    const nibbles = toNibbles(encodedPath)
    const path = nibbles.subarray(flag & 1 ? 1 : 2)
    if (flag >= 2) {
      if (!(second instanceof Uint8Array)) throw new TrieError('bad leaf value')
      return { kind: 'leaf', path, value: second, ref }
    }
    if (path.length === 0) throw new TrieError('extension node with an empty path')
    return { kind: 'ext', path, child: decodeNode(second!), ref }
  }
  throw new TrieError(`bad trie node with ${raw.length} items`)
}

function toNibbles(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length * 2)
  for (let i = 0; i < key.length; i++) {
    out[2 * i] = key[i]! >> 4
    out[2 * i + 1] = key[i]! & 15
  }
  return out
}

/** Hex-prefix encoding (Yellow Paper appendix C): a flag nibble for leaf/extension and odd length. */
function hexPrefix(nibbles: Uint8Array, isLeaf: boolean): Uint8Array {
  const odd = nibbles.length & 1
  const out = new Uint8Array((nibbles.length >> 1) + 1)
  const flag = (isLeaf ? 2 : 0) + odd
  let i = 0
  if (odd) {
    out[0] = (flag << 4) | nibbles[0]!
    i = 1
  } else {
    out[0] = flag << 4
  }
  for (let o = 1; i < nibbles.length; i += 2, o++) out[o] = (nibbles[i]! << 4) | nibbles[i + 1]!
  return out
}

function commonPrefix(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a[i] === b[i]) i++
  return i
}

function matchesAt(path: Uint8Array, at: number, part: Uint8Array): boolean {
  if (at + part.length > path.length) return false
  for (let i = 0; i < part.length; i++) if (path[at + i] !== part[i]) return false
  return true
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
