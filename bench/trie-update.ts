/**
 * State-trie update cost: BatchTrie applying blocks of account-like updates (32-byte hashed
 * keys, ~70-byte values) to a growing trie held in memory, as a block import does.
 *
 *   node --import tsx bench/trie-update.ts [--accounts 20000] [--blocks 3000] [--per-block 11]
 *
 * Prints one JSON line: µs per block and per key update (after a warm-up of a tenth of the blocks).
 */
import { parseArgs } from 'node:util'
import { keccak256 } from '../src/crypto/hash.ts'
import { BatchTrie, EMPTY_TRIE_ROOT, type TrieNodeStore, type TrieUpdate } from '../src/state/mpt-batch.ts'

const { values } = parseArgs({ options: { accounts: { type: 'string', default: '20000' }, blocks: { type: 'string', default: '3000' }, 'per-block': { type: 'string', default: '11' } } })
const accounts = Number(values.accounts)
const blocks = Number(values.blocks)
const perBlock = Number(values['per-block'])
if (![accounts, blocks, perBlock].every((n) => Number.isInteger(n) && n > 0)) throw new Error('--accounts, --blocks and --per-block take positive integers')

class Nodes implements TrieNodeStore {
  readonly map = new Map<string, Uint8Array>()
  getNode(hash: Uint8Array) {
    return this.map.get(Buffer.from(hash).toString('latin1'))
  }
  putNode(hash: Uint8Array, encoded: Uint8Array) {
    this.map.set(Buffer.from(hash).toString('latin1'), encoded)
  }
}

const keys = Array.from({ length: accounts }, (_, i) => keccak256(Buffer.from(`account-${i}`)))
const value = (i: number, b: number) => {
  const v = new Uint8Array(70)
  v[0] = 0xf8
  v[1] = 68
  new DataView(v.buffer).setUint32(4, i ^ b)
  return v
}
const trie = new BatchTrie(new Nodes())
let root = EMPTY_TRIE_ROOT
let state = 1
const next = () => (state = (state * 1664525 + 1013904223) >>> 0)
const warm = Math.ceil(blocks / 10)
let t0 = 0
for (let b = 0; b < warm + blocks; b++) {
  if (b === warm) t0 = performance.now()
  const updates: TrieUpdate[] = []
  for (let u = 0; u < perBlock; u++) {
    const i = next() % accounts
    updates.push([keys[i]!, value(i, b)])
  }
  root = trie.update(root, updates)
}
const ms = performance.now() - t0
console.log(JSON.stringify({ bench: 'trie-update', accounts, blocks, perBlock, usPerBlock: +((ms * 1000) / blocks).toFixed(1), usPerUpdate: +((ms * 1000) / (blocks * perBlock)).toFixed(2), root: Buffer.from(root).toString('hex') }))
