/**
 * A flat in-memory cache of the newest committed state (accounts and storage slots), in
 * the spirit of geth's snapshot layer: reads at the head root skip the Merkle Patricia trie
 * walk, which is most of the cost of executing a simple transfer. It follows the head: after
 * each block commits it applies that block's changes. A view is bound to one root; once the
 * cache has moved on, an old view reads and writes nothing.
 */
import { Account, bytesToHex } from '@ethereumjs/util'

type Hex = `0x${string}`

export interface StateChanges {
  accounts: ReadonlyMap<Hex, Account | null>
  storage: ReadonlyMap<Hex, ReadonlyMap<Hex, Uint8Array>>
  cleared: ReadonlySet<Hex>
}

/** What an overlay sees of the cache: valid only while the cache is at the overlay's root. */
export interface BaseReadCache {
  getAccount(address: Hex): Account | undefined | 'miss'
  setAccount(address: Hex, account: Account | undefined): void
  getStorage(address: Hex, slot: Hex): Uint8Array | 'miss'
  setStorage(address: Hex, slot: Hex, value: Uint8Array): void
  /** Code by hash, when this cache holds it (a parallel-execution worker is shipped the code it may run). */
  getCode?(codeHash: Hex): Uint8Array | undefined
}

const MAX_ENTRIES = 200_000

export class StateCache {
  private root?: Hex
  private generation = 0
  private readonly accounts = new Map<Hex, Account | undefined>()
  private readonly storage = new Map<Hex, Map<Hex, Uint8Array>>()
  private entries = 0

  /** A view for reads at `root`, or undefined when the cache holds another root. */
  view(root: Uint8Array): BaseReadCache | undefined {
    if (this.root !== bytesToHex(root)) return undefined
    const gen = this.generation
    const live = () => gen === this.generation
    return {
      getAccount: (a) => (live() && this.accounts.has(a) ? copy(this.accounts.get(a)) : 'miss'),
      setAccount: (a, account) => {
        if (!live()) return
        this.accounts.set(a, copy(account))
        this.grow()
      },
      getStorage: (a, slot) => (live() ? (this.storage.get(a)?.get(slot) ?? 'miss') : 'miss'),
      setStorage: (a, slot, value) => {
        if (!live()) return
        let slots = this.storage.get(a)
        if (!slots) this.storage.set(a, (slots = new Map()))
        slots.set(slot, value)
        this.grow()
      },
    }
  }

  /** Moves the cache from `parentRoot` to `root` by applying a committed block's changes. */
  advance(parentRoot: Uint8Array, root: Uint8Array, changes: StateChanges): void {
    this.generation++
    if (this.root !== bytesToHex(parentRoot)) {
      this.reset(root)
      return
    }
    for (const a of changes.cleared) {
      this.storage.delete(a)
      this.accounts.delete(a)
    }
    for (const [a, slots] of changes.storage) {
      let cached = this.storage.get(a)
      if (!cached) this.storage.set(a, (cached = new Map()))
      for (const [slot, value] of slots) cached.set(slot, value)
      this.entries += slots.size
    }
    for (const [a, account] of changes.accounts) {
      // An account whose storage changed has a new storage root that only the trie knows.
      if (changes.storage.has(a) || changes.cleared.has(a)) this.accounts.delete(a)
      else this.accounts.set(a, account === null ? undefined : copy(account))
    }
    this.entries += changes.accounts.size
    this.root = bytesToHex(root)
    this.grow()
  }

  /** Forgets everything and starts over at `root` (after a reorg or an unknown transition). */
  reset(root: Uint8Array): void {
    this.generation++
    this.accounts.clear()
    this.storage.clear()
    this.entries = 0
    this.root = bytesToHex(root)
  }

  private grow(): void {
    if (++this.entries > MAX_ENTRIES && this.root) this.reset(hexBytes(this.root))
  }
}

function copy(a: Account | undefined): Account | undefined {
  return a ? new Account(a.nonce, a.balance, a.storageRoot, a.codeHash) : undefined
}

function hexBytes(h: Hex): Uint8Array {
  return Uint8Array.from(Buffer.from(h.slice(2), 'hex'))
}
