/**
 * One sender's txs in nonce order. The prefix whose nonces run contiguously from the account
 * nonce is pending (executable now, in order); everything after the first gap is queued.
 * A sender holds at most a few dozen txs (the per-sender limit), so a sorted array beats a
 * tree here.
 * @module
 */
import type { Address } from '@ethereumjs/util'
import type { Entry } from './entry.ts'

export interface StatusChanges {
  promoted: Entry[] // queued -> pending
  demoted: Entry[] // pending -> queued
}

export class SenderQueue {
  private readonly list: Entry[] = []
  /** Length of the contiguous prefix, i.e. how many entries are pending. */
  private pendingLen = 0
  /** Sum of `cost` over all entries: what the sender must afford at once. */
  totalCost = 0n
  /**
   * While the sender has queued txs: when it last made progress (a tx became pending) or, if
   * later, when its queue started. Its queued txs expire a lifetime after it (geth's heartbeat).
   */
  beat: number | undefined

  constructor(
    readonly address: Address,
    readonly key: string,
    /** The account nonce (at the head the pool last saw) that statuses are measured from. */
    public baseNonce: bigint,
  ) {}

  get size(): number {
    return this.list.length
  }

  get pendingCount(): number {
    return this.pendingLen
  }

  get queuedCount(): number {
    return this.list.length - this.pendingLen
  }

  /** Entries with a nonce above `nonce`: what cannot run once `nonce` is gone. */
  after(nonce: bigint): Entry[] {
    return this.list.filter((e) => e.nonce > nonce)
  }

  /** The nonce a new tx needs to extend the pending run. */
  get pendingEnd(): bigint {
    return this.baseNonce + BigInt(this.pendingLen)
  }

  get entries(): readonly Entry[] {
    return this.list
  }

  get last(): Entry | undefined {
    return this.list[this.list.length - 1]
  }

  /** The highest-nonce pending tx: the one that can go without opening a gap. */
  pendingTail(): Entry | undefined {
    return this.pendingLen > 0 ? this.list[this.pendingLen - 1] : undefined
  }

  pending(): Entry[] {
    return this.list.slice(0, this.pendingLen)
  }

  get(nonce: bigint): Entry | undefined {
    const i = this.search(nonce)
    const e = this.list[i]
    return e !== undefined && e.nonce === nonce ? e : undefined
  }

  /** First nonce at or after `nonce` that has no tx here. */
  contiguousFrom(nonce: bigint): bigint {
    let i = this.search(nonce)
    while (i < this.list.length && (this.list[i] as Entry).nonce === nonce) {
      nonce++
      i++
    }
    return nonce
  }

  /** Adds an entry whose nonce is not present yet. Call `restatus` afterwards. */
  insert(e: Entry): void {
    const i = this.search(e.nonce)
    if (this.list[i]?.nonce === e.nonce) throw new Error(`nonce ${e.nonce} already present`)
    this.list.splice(i, 0, e)
    this.totalCost += e.cost
  }

  /** Puts `next` in `old`'s slot (same nonce); it inherits the status. */
  replace(old: Entry, next: Entry): void {
    const i = this.search(old.nonce)
    if (this.list[i] !== old) throw new Error('entry not in queue')
    next.status = old.status
    this.list[i] = next
    this.totalCost += next.cost - old.cost
  }

  /** Takes an entry out without touching statuses. Call `restatus` afterwards. */
  detach(e: Entry): boolean {
    const i = this.search(e.nonce)
    if (this.list[i] !== e) return false
    this.list.splice(i, 1)
    this.totalCost -= e.cost
    if (i < this.pendingLen) this.pendingLen = i // the run now ends at the hole
    return true
  }

  /** Recomputes pending/queued from `baseNonce` and reports what moved. */
  restatus(): StatusChanges {
    const changes: StatusChanges = { promoted: [], demoted: [] }
    let run = 0
    while (run < this.list.length && (this.list[run] as Entry).nonce === this.baseNonce + BigInt(run)) run++
    for (let i = 0; i < this.list.length; i++) {
      const e = this.list[i] as Entry
      const want = i < run ? 'pending' : 'queued'
      if (e.status === want) continue
      e.status = want
      ;(want === 'pending' ? changes.promoted : changes.demoted).push(e)
    }
    this.pendingLen = run
    return changes
  }

  /** Index of the first entry with nonce >= `nonce`. */
  private search(nonce: bigint): number {
    let lo = 0
    let hi = this.list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((this.list[mid] as Entry).nonce < nonce) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
