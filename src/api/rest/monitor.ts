/**
 * Collects the events analytics and alerts need, in bounded memory, from the moment the
 * REST API starts: reorgs (from the chain's 'reorg' events), double-vote evidence committed
 * in BFT seals (from 'block' events, plus a look back over recent blocks at start),
 * rejected transactions (every mempool refusal: RPC and gossip) and peer bans.
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { Chain, ImportedBlock, Reorg } from '../../chain/chain.ts'
import type { BlockHeader } from '../../chain/block.ts'
import type { Mempool } from '../../mempool/pool.ts'
import type { BanEntry } from '../../net/index.ts'
import { Ring, SlidingWindow } from './analytics.ts'
import { DEFAULT_THRESHOLDS, type AlertThresholds, type DoubleVoteRecord, type ReorgRecord } from './alerts.ts'
import { offenceId, type ConsensusView } from './consensus-view.ts'
import { checksum } from './format.ts'

/** Reorgs and double votes kept in memory. */
export const MAX_RECORDS = 100
/** Blocks scanned for evidence at start. */
const EVIDENCE_LOOKBACK = 256n

/** What the monitor listens to on the network: peer bans. */
export interface BanSource {
  on(event: 'peer:banned', listener: (entry: BanEntry) => void): unknown
  off(event: 'peer:banned', listener: (entry: BanEntry) => void): unknown
}

export interface ChainMonitorOptions {
  chain: Chain
  consensus: ConsensusView
  mempool?: Mempool
  network?: BanSource
  thresholds?: AlertThresholds
  /** Unix ms; injectable for tests. */
  now?: () => number
}

export class ChainMonitor {
  readonly thresholds: AlertThresholds
  readonly rejected: SlidingWindow
  readonly bans: SlidingWindow
  private readonly reorgRing = new Ring<ReorgRecord>(MAX_RECORDS)
  private readonly votes = new Ring<DoubleVoteRecord>(MAX_RECORDS)
  private readonly seenOffences = new Set<string>()
  private readonly now: () => number
  private readonly stops: Array<() => void> = []

  constructor(private readonly opts: ChainMonitorOptions) {
    this.thresholds = opts.thresholds ?? DEFAULT_THRESHOLDS
    this.rejected = new SlidingWindow(this.thresholds.rejectedTxWindowMs)
    this.bans = new SlidingWindow(this.thresholds.banWindowMs)
    this.now = opts.now ?? Date.now
  }

  start(): void {
    const { chain, mempool, network } = this.opts
    const onReorg = (r: Reorg) => this.noteReorg(r)
    const onBlock = (b: ImportedBlock) => this.noteEvidence(b.block.header)
    chain.on('reorg', onReorg)
    chain.on('block', onBlock)
    this.stops.push(() => chain.off('reorg', onReorg), () => chain.off('block', onBlock))
    if (network) {
      const onBan = (entry: BanEntry) => this.bans.record(this.now(), entry.peerId)
      network.on('peer:banned', onBan)
      this.stops.push(() => network.off('peer:banned', onBan))
    }
    if (mempool) this.stops.push(watchRejections(mempool, (code) => this.rejected.record(this.now(), code)))
    // Evidence committed shortly before this start still counts (restarts lose nothing recent).
    if (this.opts.consensus.kind !== 'validators') return
    const head = chain.head.header.height
    for (let h = head > EVIDENCE_LOOKBACK ? head - EVIDENCE_LOOKBACK : 1n; h <= head; h++) {
      const hash = chain.getHashAt(h)
      const header = hash && chain.getHeader(hash)
      if (header) this.noteEvidence(header)
    }
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop()
  }

  /** Reorgs seen since start (newest last, at most MAX_RECORDS). */
  reorgs(): ReorgRecord[] {
    return this.reorgRing.toArray()
  }

  doubleVotes(): DoubleVoteRecord[] {
    return this.votes.toArray()
  }

  noteReorg(r: Reorg): void {
    const newHead = r.connected[r.connected.length - 1]
    const oldHead = r.disconnected[r.disconnected.length - 1]
    this.reorgRing.push({
      at: this.now(),
      forkHeight: Number(r.forkPoint.header.height),
      depth: r.disconnected.length,
      oldHead: oldHead ? bytesToHex(oldHead.hash) : bytesToHex(r.forkPoint.hash),
      newHead: newHead ? bytesToHex(newHead.hash) : bytesToHex(r.forkPoint.hash),
    })
  }

  noteEvidence(header: BlockHeader): void {
    for (const ev of this.opts.consensus.evidenceOf(header)) {
      const key = offenceId(ev)
      if (this.seenOffences.has(key)) continue
      this.seenOffences.add(key)
      if (this.seenOffences.size > MAX_RECORDS * 10) this.seenOffences.delete(this.seenOffences.values().next().value!)
      this.votes.push({
        at: Number(header.timestamp) * 1000,
        validator: checksum(ev.validator),
        height: Number(ev.height),
        round: ev.round,
        voteType: ev.voteType,
        includedIn: Number(header.height),
      })
    }
  }
}

/**
 * Reports every transaction the mempool refuses (eth_sendRawTransaction and gossip both go
 * through `add`, which emits 'rejected'); returns the undo. Duplicates (ALREADY_KNOWN) are
 * gossip's normal echo and do not count.
 */
export function watchRejections(mempool: Mempool, onReject: (code: string) => void): () => void {
  const listener = (code: string) => {
    if (code !== 'ALREADY_KNOWN') onReject(code)
  }
  mempool.on('rejected', listener)
  return () => mempool.off('rejected', listener)
}
