/**
 * Transaction gossip: txs that enter the mempool from this node's RPC are announced in
 * batches (one gossip message per event-loop turn, not one per tx); txs from peers go through
 * the same mempool checks as RPC ones, and peers sending txs that can never be valid lose score.
 */
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { keccak256 } from '../crypto/hash.ts'
import { MempoolError } from '../mempool/errors.ts'
import type { Mempool } from '../mempool/pool.ts'
import type { PoolEntry } from '../mempool/entry.ts'
import type { GossipVerdict, Network } from '../net/index.ts'
import { decodeTxBatch, encodeTxBatch } from './wire.ts'

/** Hashes of txs that came from peers: those are not announced again by us. */
const REMEMBERED = 50_000
const MAX_BATCH_BYTES = 512 * 1024
/** Retries back off from 250 ms to 2 s, for about a minute in all. */
const RETRY_MS = 250
const RETRY_MAX_MS = 2000
const RETRIES = 35

export class TxRelay {
  private readonly fromPeers = new Set<string>()
  private batch: Uint8Array[] = []
  private batchBytes = 0
  private flushScheduled = false
  private stopped = false
  private unsubscribe?: () => void
  private readonly onAdded = (entry: PoolEntry) => this.queue(entry)

  constructor(
    private readonly network: Network,
    private readonly mempool: Mempool,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.network.subscribe('txs', (data, from) => this.onGossip(data, from))
    this.mempool.on('added', this.onAdded)
  }

  stop(): void {
    this.stopped = true
    this.unsubscribe?.()
    this.mempool.off('added', this.onAdded)
  }

  private queue(entry: PoolEntry): void {
    if (this.fromPeers.has(entry.hashHex)) return
    if (this.batchBytes + entry.raw.length > MAX_BATCH_BYTES) this.flush()
    this.batch.push(entry.raw)
    this.batchBytes += entry.raw.length
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(() => this.flush())
    }
  }

  private flush(): void {
    this.flushScheduled = false
    if (this.batch.length === 0) return
    const raws = this.batch
    this.batch = []
    this.batchBytes = 0
    this.send(raws, 0)
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
    let useful = false
    for (const raw of raws) {
      // A tx hash is keccak-256 of its serialized bytes, for every tx type: remember it before
      // the pool announces the tx, so we do not gossip it back.
      this.remember(bytesToHex(keccak256(raw)))
      try {
        await this.mempool.add(raw)
        useful = true
      } catch (err) {
        // Txs that can never be valid (bad signature, wrong chain, undecodable) are the
        // sender's fault; "nonce too low" or "already known" are normal races.
        if (err instanceof MempoolError && err.malformed) return 'reject'
      }
    }
    // Accepting forwards the batch to our mesh peers; a batch with nothing new stops here.
    return useful ? 'accept' : 'ignore'
  }

  private remember(hash: string): void {
    this.fromPeers.add(hash)
    if (this.fromPeers.size > REMEMBERED) this.fromPeers.delete(this.fromPeers.values().next().value!)
  }
}
