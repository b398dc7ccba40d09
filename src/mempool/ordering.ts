/**
 * The order a block producer takes pending txs in: highest effective tip first across senders,
 * each sender's txs strictly in nonce order. A heap holds one cursor per sender keyed by the
 * tip of that sender's next tx, as geth's TransactionsByPriceAndNonce does, so taking t txs
 * costs O(t log s) for s senders.
 * @module
 */
import type { Address } from '@ethereumjs/util'
import { effectiveTip } from './entry.ts'
import type { Entry, PoolEntry } from './entry.ts'
import { IndexedHeap } from './heap.ts'

interface Cursor {
  readonly txs: readonly Entry[]
  i: number
  tip: bigint
}

/** Higher tip first; equal tips go to the tx the pool saw first. */
function byTip(a: Cursor, b: Cursor): number {
  if (a.tip !== b.tip) return a.tip > b.tip ? -1 : 1
  return (a.txs[a.i] as Entry).seq - (b.txs[b.i] as Entry).seq
}

/**
 * A one-pass iterator over pending txs at `baseFee`. It works on a snapshot taken when it was
 * made, so the pool may change while a block is being built. A sender drops out at its first
 * tx that cannot pay the base fee (its later nonces could not run either).
 */
export class ExecutableTxs implements Iterable<PoolEntry> {
  private readonly heap = new IndexedHeap<Cursor>(byTip)
  private readonly skipped = new Set<string>()

  constructor(
    senders: Iterable<readonly Entry[]>,
    private readonly baseFee: bigint,
  ) {
    for (const txs of senders) {
      const first = txs[0]
      if (first === undefined) continue
      const tip = effectiveTip(first, baseFee)
      if (tip >= 0n) this.heap.push({ txs, i: 0, tip })
    }
  }

  /**
   * Drops the rest of `sender`'s txs: call it when one of them failed in the block being built,
   * since its later nonces cannot run without it.
   */
  skipSender(sender: Address | string): void {
    this.skipped.add(typeof sender === 'string' ? sender.toLowerCase() : sender.toString())
  }

  *[Symbol.iterator](): Iterator<PoolEntry> {
    for (let top = this.heap.peek(); top !== undefined; top = this.heap.peek()) {
      const e = top.txs[top.i] as Entry
      if (this.skipped.has(e.senderHex)) {
        this.heap.remove(top)
        continue
      }
      yield e
      if (this.skipped.has(e.senderHex)) continue // removed on the next turn
      const next = top.txs[++top.i]
      const tip = next === undefined ? -1n : effectiveTip(next, this.baseFee)
      if (tip < 0n) {
        this.heap.remove(top)
      } else {
        top.tip = tip
        this.heap.update(top)
      }
    }
  }
}
