/**
 * The address index: for every address, the canonical txs it sent, received or created, so
 * "the txs of an account" is one range scan instead of a walk over the chain (like the
 * address index of Bitcoin Core's -addressindex forks or Blockscout's).
 *
 * Keys are 'a' + address + height + tx index (storage/layout.ts) with the tx hash as value; a
 * reverse scan of an address's prefix yields its txs newest first, and a (height, index)
 * position is a natural pagination cursor. Entries are written in the same batch that makes
 * a block canonical and deleted in the batch that disconnects it, so the index always matches
 * the canonical chain. A store written before the index existed is indexed from the first
 * block it imports after the upgrade on.
 * @module
 */
import { Address, bigIntToUnpaddedBytes, bytesToBigInt, concatBytes, equalsBytes, generateAddress } from '@ethereumjs/util'
import type { TypedTransaction } from '@ethereumjs/tx'
import { keys, type BatchOp, type KeyValueStore } from '../storage/index.ts'
import type { Block } from './block.ts'

/** One indexed tx of an address. */
export interface AddressTxRef {
  height: bigint
  index: number
  txHash: Uint8Array
}

/** A position in an address's history: results start strictly before it (older). */
export interface AddressTxPosition {
  height: bigint
  index: number
}

/** Largest page one query returns. */
export const MAX_ADDRESS_TXS = 1000

/** Who a tx involves: its sender, its recipient, or the contract it creates; each once. */
export function addressesOfTx(tx: TypedTransaction): Uint8Array[] {
  const from = tx.getSenderAddress().bytes
  const to = tx.to ? tx.to.bytes : generateAddress(from, bigIntToUnpaddedBytes(tx.nonce))
  return equalsBytes(from, to) ? [from] : [from, to]
}

/** The index entries of a block's txs: 'put' when it becomes canonical, 'del' when it leaves. */
export function addressIndexOps(block: Block, type: 'put' | 'del'): BatchOp[] {
  const ops: BatchOp[] = []
  const height = block.header.height
  block.txs.forEach((tx, index) => {
    const hash = tx.hash()
    for (const address of addressesOfTx(tx)) {
      const key = keys.addressTx(address, height, index)
      ops.push(type === 'put' ? { type, key, value: hash } : { type, key })
    }
  })
  return ops
}

/**
 * The canonical txs involving `address`, newest first, at most `limit` (capped at
 * MAX_ADDRESS_TXS), starting strictly before `before` when given.
 */
export async function addressTxs(
  store: KeyValueStore,
  address: Uint8Array | Address,
  opts: { limit: number; before?: AddressTxPosition },
): Promise<AddressTxRef[]> {
  const addr = address instanceof Address ? address.bytes : address
  if (addr.length !== 20) throw new RangeError(`an address is 20 bytes, got ${addr.length}`)
  const limit = Math.max(0, Math.min(opts.limit, MAX_ADDRESS_TXS))
  if (limit === 0) return []
  const prefix = keys.addressTxs(addr)
  // Every entry key is the prefix plus 12 bytes; 13 bytes of 0xff sort after all of them.
  const lt = opts.before ? keys.addressTx(addr, opts.before.height, opts.before.index) : concatBytes(prefix, new Uint8Array(13).fill(0xff))
  const out: AddressTxRef[] = []
  for await (const [key, value] of store.entries({ gte: prefix, lt, reverse: true, limit })) {
    const suffix = key.subarray(prefix.length)
    if (suffix.length !== 12) continue
    out.push({
      height: bytesToBigInt(suffix.subarray(0, 8)),
      index: new DataView(suffix.buffer, suffix.byteOffset + 8, 4).getUint32(0),
      txHash: value,
    })
  }
  return out
}
