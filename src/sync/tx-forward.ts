/**
 * Tx forwarding to the coming leaders, for engines that know their block producers ahead (PoH,
 * engine.txForwardTargets: the current and the next leader), as Solana's nodes forward txs to
 * the leaders instead of flooding them to all.
 *
 * A batch goes by request/response ('txForward', the tx gossip batch encoding, checked by the
 * receiver exactly as a gossiped batch: see tx-relay.ts) to the connected peers that proved
 * they run a target validator (net/validator-identity.ts); never to a peer on its word. Where
 * a batch goes:
 * - txs taken over RPC: to the targets' peers; when none is connected or none answers, gossip
 *   (no tx is lost). A node that is itself a target keeps them too, and then gossips nothing.
 * - txs a peer forwarded to a node that is a target: kept (it will put them in its block).
 *   When its slots have passed (it is no target any more) the ones still pending go to the
 *   next leader (the last target), once: not to the current one, which got them from their
 *   sender already when it was the next (each leader passes them on to a different one, so
 *   honest leaders do not send each other txs they know, which would cost score); when the
 *   next leader is not connected they stay in the pool, for this node's next slots.
 * - txs forwarded to a node that is no target (the sender's view of the schedule is behind,
 *   as a node without a clock's is, or ours is): on to the next leader, which the sender did
 *   not reach (it sent them to its current and next: us and the current leader), else to the
 *   current leader (not back to the sender), else gossip.
 * - txs taken over RPC and forwarded, still in our pool after resendAfterMs (both leaders
 *   dropped them, or crashed before their slots): sent again to the leaders of that moment, at
 *   most MAX_RESENDS times (a tx with a nonce gap can wait for ever: it is not resent for ever).
 * Every batch carries how many forwards its txs made; a node forwards a tx onward only below
 * MAX_FORWARD_HOPS (else it keeps or gossips it), and forwards one tx at most twice (on arrival,
 * and once after its own slots), so a tx crosses at most MAX_FORWARD_HOPS forwards. At most
 * MAX_IN_FLIGHT batches wait for answers; past that, batches are gossiped (memory stays bounded
 * when leaders are slow). A kept tx is remembered by hash only; its bytes stay in the mempool.
 * @module
 */
import { equalsBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Network } from '../net/index.ts'
import { MAX_TX_BATCH, MAX_TX_BATCH_BYTES, encodeTxBatch } from './wire.ts'

/** Forwards a tx may cross (RPC node -> leader -> next leader -> ...). */
export const MAX_FORWARD_HOPS = 3
/** Txs a target keeps for a later forward at most (beyond, the oldest are only not forwarded again). */
export const MAX_HELD = 10_000
/** Forwarded batches waiting for answers at most. */
export const MAX_IN_FLIGHT = 64
const FORWARD_TIMEOUT_MS = 5_000
/** How often a node that kept txs checks whether its slots have passed (about a PoH slot). */
const RECHECK_MS = 400
/** A forwarded RPC tx still in our pool this long after (more than two leaders' 4 slots of 400 ms) is sent again. */
export const RESEND_AFTER_MS = 4_000
/** Times a tx taken over RPC is sent again to the leaders of the moment. */
export const MAX_RESENDS = 2
/** Forwarded RPC txs watched for a resend at most (beyond, the oldest are not watched). */
export const MAX_WATCHED = 10_000

/** Which connected peers proved they run a validator address (net/validator-identity.ts). */
export interface ValidatorPeers {
  peersOf(address: Uint8Array): string[]
}

export interface TxForwardOptions {
  identities: ValidatorPeers
  /** The validator addresses txs go to now, the current leader first, the next last (engine.txForwardTargets). */
  targets(): Uint8Array[]
  /** This node's validator address, when it is a validator. */
  self?: Uint8Array
  /** How often kept txs are checked for a forward after our slots, in ms. */
  recheckMs?: number
  /** How long a forwarded RPC tx may stay in our pool before it is sent again, in ms. */
  resendAfterMs?: number
  now?: () => number
}

/** A tx on its way: its bytes and its hash (0x hex, as the mempool keys it). */
export interface ForwardTx {
  raw: Uint8Array
  hash: string
}

export type ForwardOutcome = 'forwarded' | 'kept' | 'gossiped'

export interface ForwardStats {
  /** Txs sent to at least one target's peer. */
  forwarded: number
  /** Txs kept because this node is a target (and not sent on). */
  kept: number
  /** Txs gossiped because no target's peer took them. */
  gossiped: number
  /** RPC txs sent again because they were still pending after resendAfterMs. */
  resent: number
}

export class TxForwarder {
  /** Txs kept as a target (hash -> forwards made), for one forward when our slots have passed; oldest first. */
  private readonly held = new Map<string, number>()
  /** RPC txs forwarded (hash -> when, resends so far), oldest first, watched for a resend. */
  private readonly watched = new Map<string, { at: number; resends: number }>()
  private inFlight = 0
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  readonly stats: ForwardStats = { forwarded: 0, kept: 0, gossiped: 0, resent: 0 }

  constructor(
    private readonly network: Pick<Network, 'request'>,
    /** A tx's bytes while it is still waiting in the mempool. */
    private readonly pending: (hash: string) => Uint8Array | undefined,
    /** The fallback: gossips a batch (with retries while no peer is in the mesh). */
    private readonly gossip: (raws: Uint8Array[]) => void,
    private readonly log: Logger,
    private readonly o: TxForwardOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.recheck(), this.o.recheckMs ?? RECHECK_MS)
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
    this.held.clear()
    this.watched.clear()
  }

  /** Txs kept for a forward after our slots. */
  get heldCount(): number {
    return this.held.size
  }

  /**
   * Sends txs on their way: `hops` forwards they already made (0: taken over RPC), `from` the
   * peer that forwarded them (never sent back to it). Resolves once they went somewhere.
   */
  async route(txs: ForwardTx[], hops: number, from?: string): Promise<ForwardOutcome> {
    const targets = this.o.targets()
    const selfIsTarget = this.isSelf(targets)
    // Taken over RPC: to every target. Forwarded to us though we are no target: to the next leader first.
    const onward = hops > 0 && !selfIsTarget ? this.peersOf(targets.slice(-1), from) : []
    const outcome = await this.send(txs, hops, selfIsTarget, onward.length > 0 ? onward : this.peersOf(targets, from), true)
    if (hops === 0 && outcome === 'forwarded') this.watch(txs, 0)
    return outcome
  }

  /**
   * Sends txs to `peers`, or keeps them when we are a target (`selfIsTarget`), or gossips them
   * (`fallback`). Txs kept through our slots are not gossiped when the next leader is not
   * reachable: the leaders that had them keep them in their pools (and put them in their next
   * blocks), while a gossiped batch of txs the current leader knows would cost the honest
   * peers that relay it score there.
   */
  private async send(txs: ForwardTx[], hops: number, selfIsTarget: boolean, peers: string[], fallback: boolean): Promise<ForwardOutcome> {
    if (this.stopped || txs.length === 0) return 'kept'
    if (selfIsTarget) {
      this.hold(txs, hops)
      // A leader keeps what was forwarded to it; what it took over RPC also goes to the other target.
      if (hops > 0) return this.count('kept', txs.length)
    }
    if (hops < MAX_FORWARD_HOPS && this.inFlight < MAX_IN_FLIGHT && peers.length > 0) {
      const bytes = encodeTxBatch(txs.map((t) => t.raw), hops + 1)
      this.inFlight++
      let results: PromiseSettledResult<Uint8Array>[]
      try {
        results = await Promise.allSettled(peers.map((p) => this.network.request(p, 'txForward', bytes, { timeoutMs: FORWARD_TIMEOUT_MS })))
      } finally {
        this.inFlight--
      }
      results.forEach((r, i) => {
        if (r.status === 'rejected') this.log.debug({ peer: peers[i], reason: (r.reason as Error).message }, 'tx forward failed')
      })
      if (results.some((r) => r.status === 'fulfilled')) return this.count('forwarded', txs.length)
    }
    if (selfIsTarget || !fallback) return this.count('kept', txs.length)
    if (this.stopped) return 'kept'
    this.gossip(txs.map((t) => t.raw))
    return this.count('gossiped', txs.length)
  }

  private isSelf(targets: Uint8Array[]): boolean {
    const self = this.o.self
    return self !== undefined && targets.some((t) => equalsBytes(t, self))
  }

  private count<K extends keyof ForwardStats>(outcome: K, n: number): K {
    this.stats[outcome] += n
    return outcome
  }

  /** The peers of these targets other than us, at most a few per target, without `from`. */
  private peersOf(targets: Uint8Array[], from: string | undefined): string[] {
    const self = this.o.self
    const out = new Set<string>()
    for (const t of targets) {
      if (self !== undefined && equalsBytes(t, self)) continue
      for (const p of this.o.identities.peersOf(t)) if (p !== from) out.add(p)
    }
    return [...out]
  }

  private hold(txs: ForwardTx[], hops: number): void {
    for (const t of txs) {
      this.held.delete(t.hash)
      this.held.set(t.hash, hops)
      if (this.held.size > MAX_HELD) this.held.delete(this.held.keys().next().value!)
    }
  }

  private watch(txs: ForwardTx[], resends: number): void {
    const at = (this.o.now ?? Date.now)()
    for (const t of txs) {
      this.watched.delete(t.hash)
      this.watched.set(t.hash, { at, resends })
      if (this.watched.size > MAX_WATCHED) this.watched.delete(this.watched.keys().next().value!)
    }
  }

  private recheck(): void {
    if (this.stopped) return
    this.resendStale()
    this.passOnHeld()
  }

  /**
   * RPC txs still in our pool resendAfterMs after their forward go to the leaders of now (the
   * ones they went to dropped them or missed their slots), at most MAX_RESENDS times each.
   */
  private resendStale(): void {
    if (this.watched.size === 0) return
    const cutoff = (this.o.now ?? Date.now)() - (this.o.resendAfterMs ?? RESEND_AFTER_MS)
    const due: ForwardTx[] = []
    const resends = new Map<string, number>()
    for (const [hash, w] of this.watched) {
      if (w.at > cutoff) break // oldest first: the rest are younger
      this.watched.delete(hash)
      const raw = this.pending(hash)
      if (raw === undefined) continue // in a block (or dropped): done
      due.push({ raw, hash })
      resends.set(hash, w.resends + 1)
    }
    if (due.length === 0) return
    const targets = this.o.targets()
    const selfIsTarget = this.isSelf(targets)
    const peers = this.peersOf(targets, undefined)
    for (const batch of batchesOf(due)) {
      this.count('resent', batch.length)
      this.send(batch, 0, selfIsTarget, peers, true)
        .then((outcome) => {
          if (outcome !== 'forwarded') return
          for (const t of batch) if (resends.get(t.hash)! < MAX_RESENDS) this.watch([t], resends.get(t.hash)!)
        })
        .catch((err) => this.log.warn({ err }, 'resending txs failed'))
    }
  }

  /** Once we are no target, the kept txs still pending go to the next leader (each once). */
  private passOnHeld(): void {
    if (this.held.size === 0) return
    const targets = this.o.targets()
    if (this.isSelf(targets)) return
    const peers = this.peersOf(targets.slice(-1), undefined)
    // Batches per hop count, each within the batch limits.
    const byHops = new Map<number, ForwardTx[]>()
    for (const [hash, hops] of this.held) {
      const raw = this.pending(hash)
      if (raw === undefined) continue
      let group = byHops.get(hops)
      if (group === undefined) byHops.set(hops, (group = []))
      group.push({ raw, hash })
    }
    this.held.clear()
    for (const [hops, txs] of byHops) {
      for (const batch of batchesOf(txs)) {
        this.send(batch, hops, false, peers, false).catch((err) => this.log.warn({ err }, 'forwarding kept txs failed'))
      }
    }
  }
}

/** Txs in order, cut into batches within the batch limits (count and bytes). */
function batchesOf(txs: ForwardTx[]): ForwardTx[][] {
  const batches: ForwardTx[][] = []
  let bytes = 0
  for (const t of txs) {
    const last = batches.at(-1)
    if (last === undefined || last.length >= MAX_TX_BATCH || bytes + t.raw.length > MAX_TX_BATCH_BYTES) {
      batches.push([t])
      bytes = t.raw.length
    } else {
      last.push(t)
      bytes += t.raw.length
    }
  }
  return batches
}
