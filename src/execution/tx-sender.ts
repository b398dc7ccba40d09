/**
 * A tx's sender address, computed once per tx object. ethereumjs caches the recovered public
 * key on a frozen tx but re-derives the address (a pure-JS keccak of the key) on every
 * `getSenderAddress()` call, and a tx's sender is asked for many times on its way through
 * Catena (mempool admission and re-checks, block building, the VM, receipts, RPC answers).
 *
 * `withCachedSender` takes a tx built with `freeze: false`, gives it a memoized
 * `getSenderAddress` (address from the native keccak) and freezes it, which also turns on
 * ethereumjs's own public-key cache. Txs not built this way still work: they just pay more.
 * @module
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import { keccak256 } from '../crypto/hash.ts'

export function withCachedSender<T extends TypedTransaction>(tx: T): T {
  if (Object.isFrozen(tx)) return tx // too late to add the cache; ethereumjs's own path still works
  let sender: Address | undefined
  Object.defineProperty(tx, 'getSenderAddress', {
    value: (): Address => (sender ??= new Address(keccak256(tx.getSenderPublicKey()).subarray(12))),
  })
  return Object.freeze(tx)
}
