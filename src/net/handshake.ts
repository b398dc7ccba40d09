/**
 * The status handshake. On every new connection both sides request each other's status
 * (chain id, genesis hash, head); each request carries the requester's own status, so each side
 * learns the other's as soon as either exchange completes. A peer becomes ready (reported as
 * connected) with its first valid status of our chain. A peer of another chain is logged with
 * the reason and disconnected a moment later (GRACE_MS): hanging up at once could cut off our
 * answer to its own request while in flight, and both operators should read the same clear
 * reason. Usually the peer, having read our status, hangs up first. A peer that gives no
 * status in time is dropped.
 * @module
 */
import './polyfill.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import { NetError } from './errors.ts'
import type { CatenaLibp2p } from './host.ts'
import type { ReqResp } from './reqresp.ts'
import { chainMismatch, decodeStatus, encodeStatus, type ChainStatus } from './status.ts'

/** How long a wrong-chain peer keeps the connection to read our status before we hang up. */
const GRACE_MS = 1_000

export interface HandshakeEvents {
  /** The first valid status of a connected peer: it is now connected as far as Catena goes. */
  ready(peer: string, status: ChainStatus): void
  /** A newer status of a ready peer. */
  updated(peer: string, status: ChainStatus): void
  /** The peer follows another chain; it is disconnected a moment later. */
  wrongChain(peer: string, reason: string): void
}

export interface HandshakeOptions {
  libp2p: CatenaLibp2p
  reqresp: ReqResp
  /** Our current status. */
  ours(): ChainStatus
  /** Our fork schedule's chain id at a height (chains whose forks change it). */
  chainIdAt?(height: bigint): bigint
  timeoutMs: number
  penalize(peer: string, points: number, reason: string): void
  events: HandshakeEvents
  log: Logger
}

export class Handshake {
  /** Statuses of ready peers. */
  private readonly statuses = new Map<string, ChainStatus>()
  /** Peers found on another chain, with the reason, until they are gone. */
  private readonly wrongChain = new Map<string, string>()
  /** Hang-ups scheduled for wrong-chain peers. */
  private readonly grace = new Map<string, NodeJS.Timeout>()
  /** Callers of waitReady, per peer: called with undefined when ready, or the reason it will not be. */
  private readonly waiters = new Map<string, Array<(failure?: string) => void>>()

  constructor(private readonly opts: HandshakeOptions) {}

  async register(): Promise<void> {
    await this.opts.reqresp.handle('status', (request, peer) => this.answer(request, peer))
  }

  status(peer: string): ChainStatus | undefined {
    return this.statuses.get(peer)
  }

  /** A new connection: exchange statuses, and drop the peer if it gives none. */
  onConnect(peer: string): void {
    this.exchange(peer).catch((err: Error) => {
      if (this.statuses.has(peer) || this.wrongChain.has(peer) || !this.connected(peer)) return
      this.opts.log.info({ peer, reason: err.message }, `peer ${peer} failed the status handshake: ${err.message}`)
      this.hangUp(peer)
    })
  }

  /** The peer is gone; returns whether it had been ready. */
  onDisconnect(peer: string): boolean {
    this.settle(peer, this.wrongChain.has(peer) ? `on another chain: ${this.wrongChain.get(peer)}` : 'hung up before the status handshake')
    this.wrongChain.delete(peer)
    clearTimeout(this.grace.get(peer))
    this.grace.delete(peer)
    return this.statuses.delete(peer)
  }

  /**
   * Resolves once a connected peer passed the handshake; rejects with DIAL_FAILED when it
   * hangs up first (it banned us, does not list us, or follows another chain) or in `timeoutMs`.
   */
  async waitReady(peer: string, timeoutMs: number): Promise<void> {
    if (this.statuses.has(peer)) return
    if (!this.connected(peer)) throw new NetError('DIAL_FAILED', `peer ${peer} hung up before the status handshake`)
    const failure = await new Promise<string | undefined>((resolve) => {
      const list = this.waiters.get(peer) ?? []
      const done = (reason?: string) => {
        clearTimeout(timer)
        resolve(reason)
      }
      const timer = setTimeout(() => {
        list.splice(list.indexOf(done), 1)
        resolve('no status handshake in time')
      }, timeoutMs)
      list.push(done)
      this.waiters.set(peer, list)
    })
    if (failure !== undefined) throw new NetError('DIAL_FAILED', `peer ${peer}: ${failure}`)
  }

  private settle(peer: string, failure?: string): void {
    const list = this.waiters.get(peer)
    this.waiters.delete(peer)
    for (const done of list ?? []) done(failure)
  }

  /** Asks a peer for its current status (periodic refresh, or a sync layer's question). */
  async exchange(peer: string): Promise<ChainStatus> {
    const response = await this.opts.reqresp.request(peer, 'status', encodeStatus(this.opts.ours()), { timeoutMs: this.opts.timeoutMs })
    let theirs: ChainStatus
    try {
      theirs = decodeStatus(response)
    } catch (err) {
      if (err instanceof NetError) this.opts.penalize(peer, err.penalty, err.message)
      throw err
    }
    this.accept(peer, theirs)
    return theirs
  }

  /** Answers a peer's status request with ours, taking note of theirs. */
  private answer(request: Uint8Array, peer: string): Uint8Array {
    this.accept(peer, decodeStatus(request))
    return encodeStatus(this.opts.ours())
  }

  private accept(peer: string, theirs: ChainStatus): void {
    const reason = chainMismatch(this.opts.ours(), theirs, this.opts.chainIdAt)
    if (reason !== undefined) {
      if (this.wrongChain.has(peer)) return
      this.wrongChain.set(peer, reason)
      this.opts.log.warn({ peer, reason }, `peer ${peer} is on another chain: ${reason}`)
      this.opts.events.wrongChain(peer, reason)
      const timer = setTimeout(() => this.hangUp(peer), Math.min(GRACE_MS, this.opts.timeoutMs))
      timer.unref()
      this.grace.set(peer, timer)
      return
    }
    if (!this.connected(peer)) return
    const known = this.statuses.has(peer)
    this.statuses.set(peer, theirs)
    if (known) this.opts.events.updated(peer, theirs)
    else this.opts.events.ready(peer, theirs)
    this.settle(peer)
  }

  private connected(peer: string): boolean {
    return this.opts.libp2p.getConnections(peerIdFromString(peer)).length > 0
  }

  private hangUp(peer: string): void {
    this.opts.libp2p.hangUp(peerIdFromString(peer)).catch((err: Error) => {
      this.opts.log.debug({ peer, err }, 'hang-up failed')
    })
  }
}
