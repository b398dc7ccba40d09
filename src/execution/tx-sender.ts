/**
 * A tx's sender address, computed once per tx object, and once per tx across objects.
 *
 * ethereumjs caches the recovered public key on a frozen tx but re-derives the address (a
 * pure-JS keccak of the key) on every `getSenderAddress()` call, and a tx's sender is asked for
 * many times on its way through Catena (mempool admission and re-checks, block building, the
 * VM, receipts, RPC answers). `withCachedSender` takes a tx built with `freeze: false`, gives it
 * a memoized `getSenderAddress` (address from the native keccak) and freezes it, which also
 * turns on ethereumjs's own public-key cache.
 *
 * The same tx also arrives as several objects: a validator admits it to its mempool from
 * gossip, then decodes it again from the body of a block another validator proposed. Signature
 * recovery (~70 µs native) is the largest per-tx cost there, so when the serialized bytes are
 * given, the recovered key is remembered under their hash (`RECOVERED`, bounded). Equal hashes
 * mean equal bytes, hence the same signature, chain id and signer; the chain id of the Common is
 * compared too, since a legacy tx's signing hash depends on it.
 * @module
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import { keccak256 } from '../crypto/hash.ts'
import { rememberTxBytes } from './tx-bytes.ts'

interface Recovered {
  chainId: bigint
  publicKey: Uint8Array
  address: Address
}

/** About 30 MB at most: room for every tx of several full blocks plus a full mempool. */
const RECOVERED_MAX = 100_000
const RECOVERED = new Map<string, Recovered>()

/**
 * Memoizes `tx.getSenderAddress()` and freezes `tx`. With `raw` (the exact bytes `tx` was
 * decoded from), also sets the tx's hash and canonical bytes from them and reuses a signer
 * already recovered for the same bytes.
 */
export function withCachedSender<T extends TypedTransaction>(tx: T, raw?: Uint8Array, rawHash?: Uint8Array): T {
  if (Object.isFrozen(tx)) return tx // too late to add the cache; ethereumjs's own path still works
  let sender: Address | undefined
  let key: string | undefined
  if (raw) {
    // ethereumjs's decoders accept canonical encodings only (strict RLP, no leading zeros), so
    // `raw` is what tx.serialize() would produce, and the tx hash is its keccak.
    const hash = rawHash ?? keccak256(raw)
    tx.cache.hash = hash
    rememberTxBytes(tx, raw)
    key = Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1')
    const known = RECOVERED.get(key)
    if (known && known.chainId === tx.common.chainId()) {
      tx.cache.senderPubKey = known.publicKey
      sender = known.address
    }
  }
  Object.defineProperty(tx, 'getSenderAddress', {
    value: (): Address => {
      if (sender) return sender
      const publicKey = tx.getSenderPublicKey()
      sender = new Address(keccak256(publicKey).subarray(12))
      if (key !== undefined) remember(key, { chainId: tx.common.chainId(), publicKey, address: sender })
      return sender
    },
  })
  return Object.freeze(tx)
}

/**
 * A sender recovered elsewhere (a call thread, see sender-recovery.ts) from the tx whose bytes
 * hash to `txHash`, under `chainId`'s rules: the next decode of those bytes reuses it.
 */
export function rememberRecovered(txHash: Uint8Array, chainId: bigint, publicKey: Uint8Array, address: Uint8Array): void {
  remember(Buffer.from(txHash.buffer, txHash.byteOffset, txHash.byteLength).toString('latin1'), { chainId, publicKey, address: new Address(address) })
}

function remember(key: string, recovered: Recovered): void {
  RECOVERED.set(key, recovered)
  // A Map iterates in insertion order: drop the oldest.
  if (RECOVERED.size > RECOVERED_MAX) RECOVERED.delete(RECOVERED.keys().next().value!)
}

/**
 * Txs decoded from their bytes once per node: a validator decodes a tx when it is admitted to
 * its mempool and again from the body of a proposed block; the second time it gets the same
 * (frozen, immutable) object back by the hash of its bytes. Held weakly: a tx leaves this map's
 * reach when nothing else holds it (it left the pool, the block was imported).
 */
const DECODED_MAX = 200_000
const DECODED = new Map<string, WeakRef<TypedTransaction>>()

/** `build()` decodes `raw` (throwing for bad bytes); a tx decoded from the same bytes for the same chain id is reused. */
export function decodeOnce<T extends TypedTransaction>(raw: Uint8Array, chainId: bigint, build: () => T): T {
  const hash = keccak256(raw)
  const key = Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1')
  const known = DECODED.get(key)?.deref()
  if (known && known.common.chainId() === chainId) return known as T
  const tx = withCachedSender(build(), raw, hash)
  DECODED.set(key, new WeakRef(tx))
  if (DECODED.size > DECODED_MAX) DECODED.delete(DECODED.keys().next().value!)
  return tx
}
