/**
 * A flat, journaled state for executing one block (or one eth_call) on top of a committed
 * root. ethereumjs's Merkle state manager updates the trie on every write, which caps
 * execution near 400 tx/s (DEPENDENCIES.md); here writes land in maps with an undo journal
 * for checkpoint/revert, and `commitToTrie` writes each changed account and slot into the
 * trie once per block, computing the state root once.
 */
import { OriginalStorageCache } from '@ethereumjs/statemanager'
import { RLP } from '@ethereumjs/rlp'
import { Account, Address, createAccountFromRLP, KECCAK256_NULL, KECCAK256_RLP, bytesToHex, equalsBytes, hexToBytes, unpadBytes } from '@ethereumjs/util'
import type { AccountFields, StateManagerInterface } from '@ethereumjs/common'
import type { WorldState } from './world.ts'
import type { BatchTrie, TrieUpdate } from './mpt-batch.ts'
import { keccak256 } from '../crypto/hash.ts'
import type { BaseReadCache, StateChanges } from './state-cache.ts'

type Hex = `0x${string}`

const CODE_KEY_PREFIX = '63' // utf8 'c'

function copyAccount(a: Account): Account {
  return new Account(a.nonce, a.balance, a.storageRoot, a.codeHash)
}

export class OverlayState implements StateManagerInterface {
  /** Overlay accounts; `null` = deleted in this overlay. */
  private readonly accounts = new Map<Hex, Account | null>()
  /** Overlay storage values (unpadded; empty = zero) per account. */
  private readonly storage = new Map<Hex, Map<Hex, Uint8Array>>()
  /** Accounts whose storage was wiped in this overlay: reads must not fall through. */
  private readonly cleared = new Set<Hex>()
  private readonly codes = new Map<Hex, Uint8Array>()
  /** Read cache of the base state (never written by execution). */
  private readonly baseAccounts = new Map<Hex, Account | undefined>()
  private readonly baseStorage = new Map<string, Uint8Array>()
  private readonly journal: Array<() => void> = []
  private readonly checkpoints: number[] = []
  private readonly trie: BatchTrie

  originalStorageCache: OriginalStorageCache

  /** `shared` is the node's flat cache of the head state, when the base is the head. */
  constructor(
    private readonly base: WorldState,
    private readonly shared?: BaseReadCache,
  ) {
    this.originalStorageCache = new OriginalStorageCache(this.getStorage.bind(this))
    this.trie = base.db.batchTrie()
  }

  async getAccount(address: Address): Promise<Account | undefined> {
    const key = address.toString() as Hex
    const own = this.accounts.get(key)
    if (own !== undefined) return own === null ? undefined : copyAccount(own)
    return this.readBaseAccount(key, address).then((a) => (a ? copyAccount(a) : undefined))
  }

  private async readBaseAccount(key: Hex, address: Address): Promise<Account | undefined> {
    if (this.baseAccounts.has(key)) return this.baseAccounts.get(key)
    // undefined from the cache is an answer (no such account), not a miss.
    const shared = this.shared ? this.shared.getAccount(key) : 'miss'
    const a = shared !== 'miss' ? shared : this.readTrieAccount(address)
    if (shared === 'miss') this.shared?.setAccount(key, a)
    this.baseAccounts.set(key, a)
    return a
  }

  /** Base-state reads go straight through the trie, synchronously (see mpt-batch.ts). */
  private readTrieAccount(address: Address): Account | undefined {
    const raw = this.trie.get(this.base.root, keccak256(address.bytes))
    return raw ? createAccountFromRLP(raw) : undefined
  }

  private readTrieSlot(storageRoot: Uint8Array, slot: Uint8Array): Uint8Array {
    const raw = this.trie.get(storageRoot, keccak256(slot))
    return raw ? (RLP.decode(raw) as Uint8Array) : new Uint8Array(0)
  }

  async putAccount(address: Address, account?: Account): Promise<void> {
    const key = address.toString() as Hex
    this.setAccount(key, account ? copyAccount(account) : null)
  }

  private setAccount(key: Hex, value: Account | null): void {
    const had = this.accounts.has(key)
    const prev = this.accounts.get(key)
    this.journal.push(() => (had ? this.accounts.set(key, prev!) : this.accounts.delete(key)))
    this.accounts.set(key, value)
  }

  /** Deleting an account deletes its storage too (as MerkleStateManager does). */
  async deleteAccount(address: Address): Promise<void> {
    this.setAccount(address.toString() as Hex, null)
    await this.clearStorage(address)
  }

  async modifyAccountFields(address: Address, fields: AccountFields): Promise<void> {
    const account = (await this.getAccount(address)) ?? new Account()
    account.nonce = fields.nonce ?? account.nonce
    account.balance = fields.balance ?? account.balance
    account.storageRoot = fields.storageRoot ?? account.storageRoot
    account.codeHash = fields.codeHash ?? account.codeHash
    await this.putAccount(address, account)
  }

  async putCode(address: Address, code: Uint8Array): Promise<void> {
    const codeHash = keccak256(code)
    const hashKey = bytesToHex(codeHash) as Hex
    if (!this.codes.has(hashKey)) {
      this.codes.set(hashKey, code)
      this.journal.push(() => this.codes.delete(hashKey))
    }
    await this.modifyAccountFields(address, { codeHash })
  }

  async getCode(address: Address): Promise<Uint8Array> {
    const account = await this.getAccount(address)
    if (!account || equalsBytes(account.codeHash, KECCAK256_NULL)) return new Uint8Array(0)
    const hashKey = bytesToHex(account.codeHash) as Hex
    const own = this.codes.get(hashKey) ?? this.shared?.getCode?.(hashKey)
    if (own) return own
    // Code is content-addressed: the base state reads it by hash through the account.
    return this.base.manager.getCode(address)
  }

  async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).length
  }

  async getStorage(address: Address, slot: Uint8Array): Promise<Uint8Array> {
    const key = address.toString() as Hex
    const slotKey = bytesToHex(slot) as Hex
    const own = this.storage.get(key)?.get(slotKey)
    if (own !== undefined) return own
    if (this.cleared.has(key)) return new Uint8Array(0)
    const cacheKey = key + slotKey
    const cached = this.baseStorage.get(cacheKey)
    if (cached !== undefined) return cached
    const shared = this.shared?.getStorage(key, slotKey) ?? 'miss'
    if (shared !== 'miss') {
      this.baseStorage.set(cacheKey, shared)
      return shared
    }
    const baseAccount = await this.readBaseAccount(key, address)
    const value = baseAccount ? this.readTrieSlot(baseAccount.storageRoot, slot) : new Uint8Array(0)
    this.baseStorage.set(cacheKey, value)
    this.shared?.setStorage(key, slotKey, value)
    return value
  }

  async putStorage(address: Address, slot: Uint8Array, value: Uint8Array): Promise<void> {
    const key = address.toString() as Hex
    const slotKey = bytesToHex(slot) as Hex
    let slots = this.storage.get(key)
    if (!slots) {
      slots = new Map()
      this.storage.set(key, slots)
    }
    const map = slots
    const had = map.has(slotKey)
    const prev = map.get(slotKey)
    this.journal.push(() => (had ? map.set(slotKey, prev!) : map.delete(slotKey)))
    map.set(slotKey, unpadBytes(value))
  }

  async clearStorage(address: Address): Promise<void> {
    const key = address.toString() as Hex
    const prevSlots = this.storage.get(key)
    const wasCleared = this.cleared.has(key)
    this.journal.push(() => {
      if (prevSlots) this.storage.set(key, prevSlots)
      else this.storage.delete(key)
      if (!wasCleared) this.cleared.delete(key)
    })
    this.storage.set(key, new Map())
    this.cleared.add(key)
  }

  async checkpoint(): Promise<void> {
    this.checkpoints.push(this.journal.length)
  }

  async commit(): Promise<void> {
    this.checkpoints.pop()
    // The outermost commit keeps its journal entries only while an outer checkpoint needs them.
    if (this.checkpoints.length === 0) this.journal.length = 0
  }

  async revert(): Promise<void> {
    const mark = this.checkpoints.pop() ?? 0
    while (this.journal.length > mark) this.journal.pop()!()
  }

  async flush(): Promise<void> {}

  /**
   * Writes every change into the trie of the base state and returns the new root; the trie
   * nodes sit in the base's TrieNodeDB buffer until the block's batch commits them.
   */
  async commitToTrie(): Promise<Uint8Array> {
    const db = this.base.db
    for (const [hashKey, code] of this.codes) {
      // ethereumjs keys code by 'c' + codeHash in the trie database (prefixCodeHashes).
      await db.put(CODE_KEY_PREFIX + hashKey.slice(2), code)
    }
    const trie = this.trie
    const updates: TrieUpdate[] = []
    const touched = new Set<Hex>([...this.accounts.keys(), ...this.storage.keys(), ...this.cleared])
    for (const key of touched) {
      const addressBytes = hexToBytes(key)
      const trieKey = keccak256(addressBytes)
      const own = this.accounts.get(key)
      if (own === null) {
        updates.push([trieKey, null])
        continue
      }
      // The base (pre-block) account has the storage root this block's slot writes start from.
      const current = await this.readBaseAccount(key, new Address(addressBytes))
      const next = own ?? current
      if (!next) continue // storage written under an account that no longer exists
      let storageRoot = this.cleared.has(key) ? KECCAK256_RLP : (current?.storageRoot ?? KECCAK256_RLP)
      const slots = this.storage.get(key)
      if (slots && slots.size > 0) {
        const slotUpdates: TrieUpdate[] = []
        // Storage values are stored RLP-encoded without leading zeros; zero deletes the slot.
        for (const [slot, value] of slots) slotUpdates.push([keccak256(hexToBytes(slot)), value.length === 0 ? null : RLP.encode(value)])
        storageRoot = trie.update(storageRoot, slotUpdates)
      }
      updates.push([trieKey, new Account(next.nonce, next.balance, storageRoot, next.codeHash).serialize()])
    }
    return trie.update(this.base.root, updates)
  }

  /** What this overlay changed, for advancing the head state cache after a commit. */
  changes(): StateChanges {
    return { accounts: this.accounts, storage: this.storage, cleared: this.cleared }
  }

  // Root-level functions belong to WorldState; the EVM never calls them during runTx.
  async getStateRoot(): Promise<Uint8Array> {
    return this.commitToTrie()
  }
  async setStateRoot(): Promise<void> {
    throw new Error('OverlayState is bound to one base root')
  }
  async hasStateRoot(root: Uint8Array): Promise<boolean> {
    return this.base.manager.hasStateRoot(root)
  }
  clearCaches(): void {}
  shallowCopy(): StateManagerInterface {
    throw new Error('OverlayState cannot be copied')
  }
}

