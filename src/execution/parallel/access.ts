/**
 * What a tx may touch under parallel execution (Sealevel-style, issue 13 item 4), read from the
 * tx alone: its sender, its recipient or the contract it creates, and its EIP-2930 access list.
 *
 * State is locked in two kinds of items: an account's *header* (nonce, balance, code, whether it
 * exists, and with it the right to create or wipe its storage) and single *storage slots*.
 *
 * | item | declared by | mode |
 * |---|---|---|
 * | sender's header | always | write |
 * | recipient's header | a call with value > 0 | write |
 * | recipient's header | a call with value 0 | read |
 * | created contract's header | a creation tx (address from sender and nonce) | write |
 * | header of an access-list address | an entry with NO storage keys | write |
 * | header of an access-list address | only entries with storage keys | read |
 * | storage slot | a storage key in the access list | read and write |
 * | precompiles' headers | every tx, implicitly | read |
 *
 * A zero-value call cannot change its recipient unless the contract moves its own ether or
 * deploys, so it only reads it and calls into one contract run side by side; a contract that
 * does change must be listed with no keys (the same address may also appear with its keys).
 * EIP-2930 has no read/write flag, which is why an entry without keys is what says "write".
 *
 * Two txs conflict when one writes an item the other reads or writes; a header written also
 * conflicts with any slot of that account (creation and self-destruct wipe storage). A tx that
 * declares the block's coinbase, or writes a precompile's header, runs alone (`exclusive`): every
 * tx pays the coinbase its tip and may read precompiles (see the parallel executor for tips).
 * Declaring the coinbase at all lets a tx write it, since that tx pays it directly.
 *
 * A tx that touches anything else fails: UndeclaredAccessError, the same in every schedule,
 * because everything it read before that point was declared, so had the in-order value.
 * @module
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import { bigIntToBytes, bytesToHex, generateAddress } from '@ethereumjs/util'

/** 0x-prefixed lowercase hex: 20 bytes for addresses, 32 for storage slots. */
export type Hex = `0x${string}`

export interface TxAccess {
  /** Headers the tx may change. */
  writes: Set<Hex>
  /** Headers it may only read (none of `writes`). */
  reads: Set<Hex>
  /** Storage slots it may read and write, by account. */
  slots: Map<Hex, Set<Hex>>
  /** Runs in a batch of its own (declares the coinbase, or writes a precompile's header). */
  exclusive: boolean
}

export function hexOf(bytes: Uint8Array): Hex {
  return bytesToHex(bytes) as Hex
}

/** The address a creation tx deploys to. */
export function createdAddress(sender: Uint8Array, nonce: bigint): Uint8Array {
  return generateAddress(sender, nonce === 0n ? new Uint8Array(0) : bigIntToBytes(nonce))
}

/**
 * A tx's declared access. `coinbase` is the address the EVM pays tips to in this block;
 * `precompiles` the active precompile addresses.
 */
export function declaredAccess(tx: TypedTransaction, sender: Uint8Array, coinbase: Hex, precompiles: ReadonlySet<Hex>): TxAccess {
  const writes = new Set<Hex>([hexOf(sender)])
  const reads = new Set<Hex>()
  const slots = new Map<Hex, Set<Hex>>()
  if (tx.to === undefined) writes.add(hexOf(createdAddress(sender, tx.nonce)))
  else if (tx.value > 0n) writes.add(hexOf(tx.to.bytes))
  else reads.add(hexOf(tx.to.bytes))
  if ('accessList' in tx) {
    for (const [address, keys] of tx.accessList) {
      const a = hexOf(address)
      if (keys.length === 0) {
        writes.add(a)
        continue
      }
      reads.add(a)
      let set = slots.get(a)
      if (!set) slots.set(a, (set = new Set()))
      for (const k of keys) set.add(hexOf(k))
    }
  }
  // A tx that declares the coinbase also pays it its tip: it may write it.
  const exclusive = reads.has(coinbase) || writes.has(coinbase) || [...writes].some((a) => precompiles.has(a))
  if (reads.has(coinbase)) writes.add(coinbase)
  for (const a of writes) reads.delete(a)
  return { writes, reads, slots, exclusive }
}

/** Every header the tx declares (read or write). */
export function declaredHeaders(access: TxAccess): Iterable<Hex> {
  return [...access.writes, ...access.reads]
}
