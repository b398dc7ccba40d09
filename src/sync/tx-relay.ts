/**
 * Transaction gossip: txs that enter the mempool from this node's RPC are announced in
 * batches (one gossip message per event-loop turn, not one per tx); txs from peers go through
 * the same mempool checks as RPC ones.
 *
 * A peer's batch is checked cheapest first and every step is bounded: the batch's size (at
 * most MAX_TX_BATCH txs, or rejected whole), then per tx its hash against what we already know
 * (no decoding), then the mempool's stateless checks (type, chain id, signature values, gas and
 * price) before the one signature recovery and the account lookup. The sender pays for what it
 * wastes: a tx that can never be valid rejects the batch (gossip penalty) and ends the work on
 * it; useless txs (stale nonce, underpriced, already known, unfunded) are free only up to an
 * allowance per batch and per peer (honest relays race with blocks; a known tx, caught by its
 * hash alone, counts a sixteenth), past which the batch is
 * dropped unfinished and the peer penalized. Batches are checked one at a time, in the order
 * they came (a sender's nonces stay in order across batches, and concurrent batches cannot
 * multiply the work), in chunks with a yield between them, so one peer's flood cannot hold up
 * RPC, consensus or block import for its whole length; a peer with too many batches waiting
 * has the next ones dropped unread.
 *
 * On engines that know the coming leaders (PoH: `forward`), txs are not flooded: the ones taken
 * over RPC go to the leaders' peers by request/response (txForward, see tx-forward.ts), and a
 * forwarded batch is checked here exactly as a gossiped one, in the same lane, against the same
 * allowances, at the same penalties (an invalid tx: PENALTY.rejectedGossip). Gossip stays the
 * fallback when no leader is connected, and txs gossiped by others are still checked and relayed.
 */
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { keccak256 } from '../crypto/hash.ts'
import { MempoolError } from '../mempool/errors.ts'
import type { Mempool } from '../mempool/pool.ts'
import type { PoolEntry } from '../mempool/entry.ts'
import { PENALTY, invalidRequest, resourceUnavailable, type GossipVerdict, type Network } from '../net/index.ts'
import { PeerBudget } from '../net/peer-budget.ts'
import { TxForwarder, type ForwardTx, type TxForwardOptions } from './tx-forward.ts'
import { MAX_TX_BATCH, MAX_TX_BATCH_BYTES, decodeTxBatch, decodeTxForward, encodeTxBatch } from './wire.ts'

/** Hashes of txs that came from peers: those are not announced again by us, nor decoded twice. */
const REMEMBERED = 50_000
/** Retries back off from 250 ms to 2 s, for about a minute in all. */
const RETRY_MS = 250
const RETRY_MAX_MS = 2000
const RETRIES = 35
/** Txs checked between two yields to the event loop. */
const CHUNK = 64
/**
 * What a tx we already know (its hash seen: nothing decoded) costs against the allowances, in
 * useless txs. Honest relays send such txs all the time (a PoH node forwards a tx to the current
 * and the next leader, and the current one forwards it on; a tx crosses a block in flight), and
 * one costs us a hash; counted in full they got honest validators banned at 400 tx/s.
 */
const KNOWN_COST = 1 / 16
/** Useless txs a batch may carry for free: this many, plus this share of the batch. */
const USELESS_FREE = 16
const USELESS_SHARE = 0.5
/** Per peer, across batches: useless txs it may save up, and earns back per second. */
const USELESS_BURST = 1024
const USELESS_PER_SECOND = 128
/** Score a peer loses for a batch past its useless allowance: ten such batches a minute get it banned. */
export const USELESS_TX_PENALTY = 10
/** Bytes of batches waiting to be checked, per peer and in all: more are dropped unread (we are behind). */
const MAX_WAITING_BYTES_PER_PEER = 4 * 1024 * 1024
const MAX_WAITING_BYTES = 32 * 1024 * 1024

/** What one tx of a peer's batch turned out to be. */
type Outcome = 'useful' | 'known' | 'useless' | 'neutral' | 'malformed'

/** What came of a peer's batch: the gossip verdict, the txs that entered the pool, and why it was dropped unfinished. */
interface Admitted {
  verdict: GossipVerdict
  useful: ForwardTx[]
  dropped?: string
}

export interface TxRelayOptions {
  /** The clock of the per-peer allowance, in ms. Default Date.now. */
  now?: () => number
  /** Engines that know the coming leaders (PoH): forward txs to them instead of gossiping (see tx-forward.ts). */
  forward?: TxForwardOptions
}

export class TxRelay {
  private readonly fromPeers = new Set<string>()
  private readonly budget: PeerBudget
  /** The one lane batches are checked in, and the bytes waiting in it, per peer and in all. */
  private lane: Promise<unknown> = Promise.resolve()
  private readonly waiting = new Map<string, number>()
  private waitingBytes = 0
  private batch: ForwardTx[] = []
  private batchBytes = 0
  private flushScheduled = false
  private stopped = false
  private unsubscribe?: () => void
  private readonly onAdded = (entry: PoolEntry) => this.queue(entry)
  /** Set when txs are forwarded to the coming leaders. */
  readonly forwarder: TxForwarder | undefined

  constructor(
    private readonly network: Network,
    private readonly mempool: Mempool,
    private readonly log: Logger,
    opts: TxRelayOptions = {},
  ) {
    this.budget = new PeerBudget({ burst: USELESS_BURST, perSecond: USELESS_PER_SECOND, now: opts.now ?? Date.now })
    this.forwarder = opts.forward && new TxForwarder(network, (hash) => mempool.get(hash)?.raw, (raws) => this.send(raws, 0), log, opts.forward)
  }

  async start(): Promise<void> {
    this.unsubscribe = this.network.subscribe('txs', (data, from) => this.onGossip(data, from))
    this.mempool.on('added', this.onAdded)
    if (this.forwarder) {
      await this.network.handle('txForward', (request, peer) => this.onForward(request, peer))
      this.forwarder.start()
    }
  }

  stop(): void {
    this.stopped = true
    this.unsubscribe?.()
    this.mempool.off('added', this.onAdded)
    if (this.forwarder) {
      this.forwarder.stop()
      this.network.unhandle('txForward').catch(() => undefined)
    }
  }

  private queue(entry: PoolEntry): void {
    if (this.fromPeers.has(entry.hashHex)) return
    if (this.batch.length >= MAX_TX_BATCH || this.batchBytes + entry.raw.length > MAX_TX_BATCH_BYTES) this.flush()
    this.batch.push({ raw: entry.raw, hash: entry.hashHex })
    this.batchBytes += entry.raw.length
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(() => this.flush())
    }
  }

  private flush(): void {
    this.flushScheduled = false
    if (this.batch.length === 0) return
    const txs = this.batch
    this.batch = []
    this.batchBytes = 0
    if (this.forwarder === undefined) this.send(txs.map((t) => t.raw), 0)
    else this.forwarder.route(txs, 0).catch((err) => this.log.warn({ err }, 'tx forwarding failed'))
  }

  /**
   * Publishes a batch; when no peer is in the topic's mesh yet (gossipsub grafts peers on its
   * heartbeat, about a second after they connect), tries again a little later rather than
   * dropping the txs.
   */
  private send(raws: Uint8Array[], attempt: number): void {
    if (this.stopped) return
    this.network
      .publish('txs', encodeTxBatch(raws, attempt))
      .catch((err) => {
        this.log.debug({ err: (err as Error).message }, 'tx gossip found no peer yet')
        return 0
      })
      .then((recipients) => {
        if (recipients > 0 || attempt >= RETRIES) return
        const timer = setTimeout(() => this.send(raws, attempt + 1), Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** attempt))
        timer.unref()
      })
  }

  private async onGossip(data: Uint8Array, from: string): Promise<GossipVerdict> {
    let raws: Uint8Array[]
    try {
      raws = decodeTxBatch(data)
    } catch {
      return 'reject'
    }
    return (await this.admit(raws, data.length, from)).verdict
  }

  /**
   * A batch a peer forwarded to us (we are, or it thinks we are, a coming leader): the same
   * checks and allowances as gossip; an invalid tx costs what it costs on gossip. The txs that
   * entered the pool go on their way (kept, or on to the leaders: tx-forward.ts).
   */
  private async onForward(request: Uint8Array, from: string): Promise<Uint8Array> {
    let batch: { hops: number; raws: Uint8Array[] }
    try {
      batch = decodeTxForward(request)
    } catch (err) {
      throw invalidRequest(`forwarded tx batch: ${(err as Error).message}`, PENALTY.rejectedGossip)
    }
    const admitted = await this.admit(batch.raws, request.length, from)
    if (admitted.verdict === 'reject') throw invalidRequest('forwarded tx batch holds an invalid tx', PENALTY.rejectedGossip)
    if (admitted.useful.length > 0) {
      this.forwarder?.route(admitted.useful, batch.hops, from).catch((err) => this.log.warn({ err }, 'tx forwarding failed'))
    }
    // Dropped unread or unfinished (we are behind, or past the peer's allowance, which it paid for already).
    if (admitted.dropped !== undefined) throw resourceUnavailable(`forwarded tx batch dropped: ${admitted.dropped}`)
    return new Uint8Array(0)
  }

  /** A peer's batch, in the one lane, within the waiting bounds. */
  private async admit(raws: Uint8Array[], size: number, from: string): Promise<Admitted> {
    const queued = this.waiting.get(from) ?? 0
    if (queued + size > MAX_WAITING_BYTES_PER_PEER || this.waitingBytes + size > MAX_WAITING_BYTES) {
      this.log.debug({ peer: from, queued, total: this.waitingBytes }, 'tx batch dropped: too much waiting to be checked')
      return { verdict: 'ignore', useful: [], dropped: 'too many txs waiting to be checked' }
    }
    this.waiting.set(from, queued + size)
    this.waitingBytes += size
    const run = this.lane.then(() => this.checkBatch(raws, from))
    this.lane = run.catch(() => undefined)
    try {
      return await run
    } finally {
      const left = (this.waiting.get(from) ?? size) - size
      if (left > 0) this.waiting.set(from, left)
      else this.waiting.delete(from)
      this.waitingBytes -= size
    }
  }

  private async checkBatch(raws: Uint8Array[], from: string): Promise<Admitted> {
    const useful: ForwardTx[] = []
    // A peer banned while its batches waited gets no more work done for it.
    if (this.stopped || this.network.isBanned(from)) return { verdict: 'ignore', useful, dropped: 'the sender is banned' }
    // Useless txs past this share of the batch, or past what the peer has left of its allowance
    // (spent tx by tx), drop the batch unfinished: the work on it is bounded.
    const perBatch = USELESS_FREE + Math.floor(raws.length * USELESS_SHARE)
    let useless = 0
    for (let i = 0; i < raws.length; i++) {
      if (i > 0 && i % CHUNK === 0) {
        await new Promise((resolve) => setImmediate(resolve))
        if (this.stopped || this.network.isBanned(from)) return { verdict: 'ignore', useful, dropped: 'the sender is banned' }
      }
      const raw = raws[i] as Uint8Array
      // A tx hash is keccak-256 of its serialized bytes, for every tx type.
      const hash = bytesToHex(keccak256(raw))
      const outcome = await this.check(raw, hash)
      if (outcome === 'malformed') return { verdict: 'reject', useful }
      if (outcome === 'useful') useful.push({ raw, hash })
      if (outcome !== 'useless' && outcome !== 'known') continue
      const cost = outcome === 'known' ? KNOWN_COST : 1
      useless += cost
      const broke = useless > perBatch || this.budget.available(from) < cost
      this.budget.spend(from, cost)
      if (broke) {
        const reason = `tx gossip past the allowance of useless txs: ${Math.ceil(useless)} of the first ${i + 1} of a ${raws.length}-tx batch are stale, underpriced or known`
        this.log.debug({ peer: from, useless, checked: i + 1, txs: raws.length }, 'useless tx gossip dropped')
        this.network.penalize(from, reason, USELESS_TX_PENALTY)
        return { verdict: 'ignore', useful, dropped: 'past the allowance of useless txs' }
      }
    }
    // Accepting forwards the batch to our mesh peers; a batch with nothing new stops here.
    return { verdict: useful.length > 0 ? 'accept' : 'ignore', useful }
  }

  /** One tx of a peer's batch: known hashes first (no decoding), then the mempool's checks, cheapest first. */
  private async check(raw: Uint8Array, hash: string): Promise<Outcome> {
    if (this.fromPeers.has(hash) || this.mempool.has(hash)) return 'known'
    // Remembered before the pool announces the tx, so we do not gossip it back.
    this.remember(hash)
    try {
      await this.mempool.add(raw)
      return 'useful'
    } catch (err) {
      if (!(err instanceof MempoolError)) {
        this.log.warn({ err }, 'mempool failed on a gossiped tx')
        return 'neutral'
      }
      // Txs that can never be valid (bad signature, wrong chain, undecodable) are the sender's
      // fault; a full pool is ours; everything else is a tx nobody can use now.
      if (err.malformed) return 'malformed'
      return err.code === 'POOL_FULL' ? 'neutral' : 'useless'
    }
  }

  private remember(hash: string): void {
    this.fromPeers.add(hash)
    if (this.fromPeers.size > REMEMBERED) this.fromPeers.delete(this.fromPeers.values().next().value!)
  }
}
