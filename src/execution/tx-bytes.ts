/**
 * The canonical encoding of a tx, computed once per tx object. ethereumjs re-encodes on every
 * `serialize()` call, and a block needs the bytes several times (size check, tx root, body,
 * block size); txs are frozen objects, so the cache is a WeakMap.
 */
import type { TypedTransaction } from '@ethereumjs/tx'

const encoded = new WeakMap<TypedTransaction, Uint8Array>()

export function txBytes(tx: TypedTransaction): Uint8Array {
  let bytes = encoded.get(tx)
  if (!bytes) {
    bytes = tx.serialize()
    encoded.set(tx, bytes)
  }
  return bytes
}

/** Records the bytes `tx` was decoded from, which are its canonical encoding (see withCachedSender). */
export function rememberTxBytes(tx: TypedTransaction, raw: Uint8Array): void {
  encoded.set(tx, raw)
}
