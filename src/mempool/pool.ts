/**
 * The pool of transactions waiting for a block, in the spirit of geth's txpool: every tx is
 * validated on entry, held per sender in nonce order (pending when its nonce is next in line,
 * queued behind a gap), replaced only for a price bump, and evicted cheapest-first when full.
 * Nothing stays that can never run: a tx that leaves without its nonce being used takes its
 * sender's later nonces with it, and queued txs expire when their sender makes no progress for a
 * lifetime (3 h, as geth). Queued txs are also the first to go when pending ones need room.
 *
 * Costs: add() is one signature recovery plus O(log n) (two indexed heaps: queued txs by
 * price, and senders by the price of their last pending tx, which is what eviction needs).
 * Stateful steps run one at a time behind a promise chain, so a slow account lookup never lets
 * two adds or a new head interleave their checks and writes.
 * @module
 */
import { EventEmitter } from 'node:events'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import type { Address } from '@ethereumjs/util'
import { decodeTx } from './decode.ts'
import { evictionOrder, feeCapOf, isReplacementPriced, tipCapOf } from './entry.ts'
import type { Entry, PoolEntry } from './entry.ts'
import { MempoolError, insufficientFunds } from './errors.ts'
import { IndexedHeap } from './heap.ts'
import { ExecutableTxs } from './ordering.ts'
import { SenderQueue } from './sender-queue.ts'
import type { StatusChanges } from './sender-queue.ts'
import type {
  AccountState,
  AddResult,
  MempoolEvents,
  MempoolOptions,
  PoolContent,
  PoolLimits,
  RemovalReason,
} from './types.ts'
import { checkEnvelope, checkGasAndPrice, checkSize, checkType, envelopeOf } from './validate.ts'

/** How often the pool looks for expired queued txs, at most. */
const EXPIRY_SWEEP_MS = 60_000

export class Mempool extends EventEmitter<MempoolEvents> {
  readonly maxPerSender: number
  readonly maxTotal: number
  readonly priceBumpPercent: number
  readonly queuedLifetimeMs: number

  private readonly byHash = new Map<string, Entry>()
  private readonly senders = new Map<string, SenderQueue>()
  /** Every queued tx, cheapest first: the first to go when the pool is full. */
  private readonly queued = new IndexedHeap<Entry>(evictionOrder)
  /** Senders with pending txs, by their last pending tx, cheapest first: the next to go. */
  private readonly tails = new IndexedHeap<SenderQueue>((a, b) =>
    evictionOrder(a.pendingTail() as Entry, b.pendingTail() as Entry),
  )
  private seq = 0
  /** Promotions made during a change, announced once the pool is consistent again. */
  private promotions: Entry[] = []
  private lock: Promise<unknown> = Promise.resolve()
  private readonly now: () => number
  private readonly sweep: NodeJS.Timeout

  constructor(private readonly opts: MempoolOptions) {
    super()
    this.maxPerSender = opts.maxPerSender ?? 64
    this.maxTotal = opts.maxTotal ?? 8192
    this.priceBumpPercent = opts.priceBumpPercent ?? 10
    this.queuedLifetimeMs = opts.queuedLifetimeMs ?? 3 * 3_600_000
    this.now = opts.now ?? Date.now
    if (this.maxPerSender < 1 || this.maxTotal < 1 || this.priceBumpPercent < 0 || !(this.queuedLifetimeMs > 0)) {
      throw new RangeError('mempool limits must be positive')
    }
    // Unref'd: a pool alone never keeps the process alive.
    this.sweep = setInterval(() => this.expireQueued(), Math.max(1_000, Math.min(this.queuedLifetimeMs, EXPIRY_SWEEP_MS)))
    this.sweep.unref()
  }

  /** Stops the expiry timer. */
  close(): void {
    clearInterval(this.sweep)
  }

  get size(): number {
    return this.byHash.size
  }

  get queuedCount(): number {
    return this.queued.size
  }

  get pendingCount(): number {
    return this.byHash.size - this.queued.size
  }

  get(hash: Uint8Array | string): PoolEntry | undefined {
    return this.byHash.get(typeof hash === 'string' ? hash.toLowerCase() : bytesToHex(hash))
  }

  has(hash: Uint8Array | string): boolean {
    return this.get(hash) !== undefined
  }

  /** Validates and admits a raw signed tx (eth_sendRawTransaction, gossip). */
  async add(raw: Uint8Array): Promise<AddResult> {
    try {
      const limits = this.opts.limits()
      const tx = decodeTx(raw, { common: this.opts.common, chainId: this.opts.chainId, maxTxBytes: limits.maxTxBytes })
      return await this.admit(tx, raw, limits)
    } catch (err) {
      if (err instanceof MempoolError) this.emit('rejected', err.code)
      throw err
    }
  }

  /** Admits an already decoded tx (e.g. from a block that left the canonical chain). */
  async addTx(tx: TypedTransaction): Promise<AddResult> {
    const limits = this.opts.limits()
    checkType(tx.type)
    const raw = tx.serialize()
    checkSize(raw.length, limits.maxTxBytes)
    checkEnvelope(envelopeOf(tx), this.opts.chainId)
    return this.admit(tx, raw, limits)
  }

  /**
   * Pending txs for a block at `baseFee`, best effective tip first, each sender in nonce order.
   * Call `skipSender` on the result when one of a sender's txs fails.
   */
  executable(baseFee: bigint = this.opts.limits().baseFee): ExecutableTxs {
    const lists: Entry[][] = []
    for (const q of this.senders.values()) if (q.pendingCount > 0) lists.push(q.pending())
    return new ExecutableTxs(lists, baseFee)
  }

  /**
   * After a new head: drops the txs it included, then rechecks every sender they came from
   * (plus `touched`, e.g. senders of included txs this pool never saw) against the new state:
   * stale nonces and txs the balance no longer covers go, queued txs whose gap closed move up.
   */
  onNewHead(includedTxHashes: Uint8Array[], touched: Address[] = []): Promise<void> {
    return this.serial(async () => {
      const included = new Set<Entry>()
      const addresses = new Map<string, Address>()
      for (const h of includedTxHashes) {
        const e = this.byHash.get(bytesToHex(h))
        if (e === undefined) continue
        included.add(e)
        addresses.set(e.senderHex, e.sender)
      }
      for (const a of touched) if (this.senders.has(a.toString())) addresses.set(a.toString(), a)
      await this.resync([...addresses.values()], included)
    })
  }

  /** Rechecks the given senders (all when omitted) against the current state, e.g. after a reorg. */
  revalidate(senders?: Address[]): Promise<void> {
    return this.serial(() => this.resync(senders ?? [...this.senders.values()].map((q) => q.address), new Set()))
  }

  /** The nonce a sender's next tx should use: account nonce plus its contiguous pool txs. */
  async nextNonce(sender: Address): Promise<bigint> {
    const { nonce } = await this.opts.getAccount(sender)
    return this.senders.get(sender.toString())?.contiguousFrom(nonce) ?? nonce
  }

  /**
   * Removes one tx, and its sender's later nonces, which cannot run without it. Queued behind
   * the adds and new heads already asked for: a block builder that read the pool before the
   * last head reached it may report txs that head included, and those must not take the
   * sender's later nonces with them (by then they are gone as included, and this does nothing).
   */
  remove(hash: Uint8Array | string): Promise<boolean> {
    return this.serial(async () => {
      const e = this.get(hash) as Entry | undefined
      if (e === undefined) return false
      this.drop(e, 'removed')
      return true
    })
  }

  /**
   * Drops the queued txs of senders that made no progress for the queued lifetime (run every
   * minute; callable by hand). Returns how many went.
   */
  expireQueued(): number {
    const cutoff = this.now() - this.queuedLifetimeMs
    const expired: Entry[] = []
    for (const q of [...this.senders.values()]) {
      if (q.beat === undefined || q.beat >= cutoff) continue
      this.mutate(q, () => {
        for (const e of q.entries.slice(q.pendingCount)) {
          this.detach(q, e)
          expired.push(e)
        }
      })
    }
    for (const e of expired) this.emit('removed', e, 'expired')
    return expired.length
  }

  /** All txs by sender and nonce, as txpool_content reports them. */
  content(): PoolContent {
    const out: PoolContent = { pending: {}, queued: {} }
    for (const [key, q] of this.senders) {
      for (const e of q.entries) ((out[e.status][key] ??= {})[e.nonce.toString()] = e)
    }
    return out
  }

  /** Every tx, in no particular order. */
  entries(): IterableIterator<PoolEntry> {
    return this.byHash.values()
  }

  private async admit(tx: TypedTransaction, raw: Uint8Array, limits: PoolLimits): Promise<AddResult> {
    const hash = tx.hash()
    const hashHex = bytesToHex(hash)
    if (this.byHash.has(hashHex)) throw new MempoolError('ALREADY_KNOWN', 'already known')
    const feeCap = feeCapOf(tx)
    checkGasAndPrice(tx, feeCap, limits)
    let sender: Address
    try {
      sender = tx.getSenderAddress()
    } catch {
      throw new MempoolError('INVALID_SENDER', 'invalid sender')
    }
    if (this.opts.isSenderAllowed !== undefined && !this.opts.isSenderAllowed(sender)) {
      throw new MempoolError('SENDER_NOT_ALLOWED', `sender account not authorized to send transactions: ${sender}`)
    }
    const entry: Entry = {
      tx,
      hash,
      hashHex,
      sender,
      senderHex: sender.toString(),
      raw,
      size: raw.length,
      nonce: tx.nonce,
      gasLimit: tx.gasLimit,
      feeCap,
      tipCap: tipCapOf(tx),
      cost: tx.gasLimit * feeCap + tx.value,
      addedAt: Date.now(),
      status: 'queued',
      seq: ++this.seq,
    }
    return this.serial(async () => {
      const account = await this.opts.getAccount(sender)
      return this.insert(entry, account, limits)
    })
  }

  /** The stateful checks and the write, in one synchronous step. Throws before changing anything. */
  private insert(e: Entry, account: AccountState, limits: PoolLimits): AddResult {
    if (this.byHash.has(e.hashHex)) throw new MempoolError('ALREADY_KNOWN', 'already known')
    const stored = this.senders.get(e.senderHex)
    // The head moved and nobody told us yet: catch this sender up first.
    if (stored !== undefined && stored.baseNonce !== account.nonce) {
      this.recheck(stored, account, limits.blockGasLimit, new Set())
    }
    const q = this.senders.get(e.senderHex)
    const next = account.nonce
    if (e.nonce < next) {
      throw new MempoolError('NONCE_TOO_LOW', `nonce too low: next nonce ${next}, tx nonce ${e.nonce}`)
    }
    if (e.nonce - next > BigInt(this.maxPerSender)) {
      throw new MempoolError(
        'NONCE_TOO_HIGH',
        `nonce too high: next nonce ${next}, tx nonce ${e.nonce}, at most ${this.maxPerSender} ahead`,
      )
    }
    const { balance } = account
    if (e.cost > balance) throw insufficientFunds(balance, e.cost)

    const old = q?.get(e.nonce)
    let ownVictim: Entry | undefined
    if (old !== undefined) {
      if (!isReplacementPriced(old, e, this.priceBumpPercent)) {
        throw new MempoolError('REPLACEMENT_UNDERPRICED', 'replacement transaction underpriced')
      }
    } else if (q !== undefined && q.size >= this.maxPerSender) {
      const last = q.last as Entry
      if (e.nonce > last.nonce) {
        throw new MempoolError('ACCOUNT_LIMIT', `account limit exceeded: ${q.size} txs, limit ${this.maxPerSender}`)
      }
      // A tx that fills a gap is worth more than the sender's farthest-out queued tx.
      ownVictim = last
    }
    const spent = (q?.totalCost ?? 0n) - (old?.cost ?? 0n) - (ownVictim?.cost ?? 0n)
    if (spent + e.cost > balance) throw insufficientFunds(balance, e.cost, spent)
    const willBePending = e.nonce === (q?.pendingEnd ?? next)
    // A replacement or a swap for the sender's own farthest tx takes no new slot.
    const victim = old === undefined && ownVictim === undefined ? this.pickVictim(e, willBePending) : undefined

    // Every check passed: from here on nothing throws.
    if (victim !== undefined) this.drop(victim, 'evicted')
    if (ownVictim !== undefined) this.drop(ownVictim, 'evicted')
    const queue = this.senders.get(e.senderHex) ?? new SenderQueue(e.sender, e.senderHex, next)
    this.senders.set(e.senderHex, queue)
    this.mutate(queue, (q) => {
      if (old !== undefined) {
        this.detachHash(old)
        q.replace(old, e)
        if (e.status === 'queued') this.queued.push(e)
      } else {
        q.insert(e)
        this.apply(q, q.restatus(), e)
        if (e.status === 'queued') this.queued.push(e)
      }
      this.byHash.set(e.hashHex, e)
    })
    if (old !== undefined) this.emit('removed', old, 'replaced')
    this.emit('added', e)
    this.announcePromotions()
    const result: AddResult = { hash: e.hash, status: e.status }
    if (old !== undefined) result.replaced = old.hash
    return result
  }

  /**
   * The tx to evict so `e` fits, or undefined when there is room. In a full pool: another
   * sender's cheapest queued tx, else the cheapest last-pending tx of another sender (removing a
   * sender's last pending tx opens no gap). `e` must outrank it (pending beats queued, then
   * price), or `e` itself is the cheapest and is refused.
   */
  private pickVictim(e: Entry, willBePending: boolean): Entry | undefined {
    if (this.size < this.maxTotal) return undefined
    const own = e.senderHex
    const victim =
      this.queued.findMin((x) => x.senderHex === own) ?? this.tails.findMin((q) => q.key === own)?.pendingTail()
    const victimPending = victim?.status === 'pending'
    const outranks =
      victim !== undefined &&
      (willBePending !== victimPending ? willBePending : evictionOrder(victim, e) < 0)
    if (!outranks) throw new MempoolError('POOL_FULL', 'txpool is full')
    return victim
  }

  /** Takes `e` out for `reason`, with its sender's later nonces ('orphaned'): they cannot run without it. */
  private drop(e: Entry, reason: RemovalReason): void {
    let orphans: Entry[] = []
    this.mutate(this.senders.get(e.senderHex) as SenderQueue, (q) => {
      orphans = q.after(e.nonce)
      for (const x of [e, ...orphans]) this.detach(q, x)
      this.apply(q, q.restatus())
    })
    this.emit('removed', e, reason)
    for (const o of orphans) this.emit('removed', o, 'orphaned')
    this.announcePromotions()
  }

  /** Fetches the senders' accounts, then drops and re-sorts their txs in one synchronous step. */
  private async resync(addresses: Address[], included: Set<Entry>): Promise<void> {
    const accounts = await Promise.all(addresses.map((a) => this.opts.getAccount(a)))
    const { blockGasLimit } = this.opts.limits()
    addresses.forEach((a, i) => {
      const q = this.senders.get(a.toString())
      if (q !== undefined) this.recheck(q, accounts[i] as AccountState, blockGasLimit, included)
    })
  }

  private recheck(q: SenderQueue, account: AccountState, blockGasLimit: bigint, included: Set<Entry>): void {
    const dropped: Array<[Entry, RemovalReason]> = []
    this.mutate(q, () => {
      // Once a tx goes unused (unaffordable, over the gas limit), the later nonces cannot run.
      let gap = false
      for (const e of [...q.entries]) {
        const reason: RemovalReason | undefined = included.has(e)
          ? 'included'
          : e.nonce < account.nonce
            ? 'stale'
            : gap
              ? 'orphaned'
              : e.cost > account.balance
                ? 'unaffordable'
                : e.gasLimit > blockGasLimit
                  ? 'gas-limit'
                  : undefined
        if (reason === undefined) continue
        if (reason === 'unaffordable' || reason === 'gas-limit') gap = true
        this.detach(q, e)
        dropped.push([e, reason])
      }
      q.baseNonce = account.nonce
      this.apply(q, q.restatus())
    })
    for (const [e, reason] of dropped) this.emit('removed', e, reason)
    this.announcePromotions()
  }

  /**
   * Runs a change to one sender with it out of the tails heap (its key may change midway), then
   * puts it back, or forgets the sender once it holds nothing.
   */
  private mutate(q: SenderQueue, change: (q: SenderQueue) => void): void {
    this.tails.remove(q)
    change(q)
    // The lifetime of queued txs runs from the sender's last progress, or from its queue's start.
    if (q.queuedCount === 0) q.beat = undefined
    else q.beat ??= this.now()
    if (q.size === 0) this.senders.delete(q.key)
    else if (q.pendingCount > 0) this.tails.push(q)
  }

  private detach(q: SenderQueue, e: Entry): void {
    q.detach(e)
    this.detachHash(e)
  }

  private detachHash(e: Entry): void {
    this.byHash.delete(e.hashHex)
    this.queued.remove(e)
  }

  /** Moves entries between the queued heap and pending after a restatus; `fresh` is the tx being added. */
  private apply(q: SenderQueue, changes: StatusChanges, fresh?: Entry): void {
    // A tx became pending: the sender made progress.
    if (changes.promoted.length > 0) q.beat = this.now()
    for (const e of changes.promoted) {
      this.queued.remove(e)
      if (e !== fresh) this.promotions.push(e)
    }
    for (const e of changes.demoted) this.queued.push(e)
  }

  private announcePromotions(): void {
    const promoted = this.promotions
    this.promotions = []
    for (const e of promoted) if (e.status === 'pending' && this.byHash.get(e.hashHex) === e) this.emit('promoted', e)
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn)
    this.lock = run.catch(() => undefined)
    return run
  }
}

