/**
 * What the node does around its mempool beyond admission: txs of blocks a reorg disconnected
 * go back to the pool, and evictions from a full pool are logged (their senders were given a
 * tx hash, so a silent drop would leave them waiting for a receipt that never comes).
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Chain, Reorg } from '../chain/chain.ts'
import type { Mempool } from '../mempool/index.ts'

/** Logs a reorg and returns the txs that left the canonical chain (and did not come back) to the pool. */
export function requeueOnReorg(chain: Chain, mempool: Mempool, log: Logger): void {
  chain.on('reorg', (r: Reorg) => {
    const kept = new Set(r.connected.flatMap((b) => b.block.txs.map((tx) => bytesToHex(tx.hash()))))
    const back = r.disconnected.flatMap((b) => b.block.txs).filter((tx) => !kept.has(bytesToHex(tx.hash())))
    log.warn(
      { forkHeight: Number(r.forkPoint.header.height), disconnected: r.disconnected.length, connected: r.connected.length, txsBack: back.length, head: bytesToHex(chain.head.hash) },
      'chain reorganized',
    )
    for (const tx of back) void mempool.addTx(tx).catch(() => undefined)
  })
}

/**
 * Warns when a full pool evicts accepted txs: the first eviction at once, later ones summed up
 * at most every `everyMs` (an overloaded node evicts thousands). Returns the unsubscribe.
 */
export function warnOnEvictions(mempool: Mempool, log: Logger, everyMs = 10_000): () => void {
  let pending = 0
  let lastWarn = -Infinity
  let timer: NodeJS.Timeout | undefined
  const report = () => {
    timer = undefined
    if (pending === 0) return
    lastWarn = Date.now()
    log.warn({ evicted: pending, poolSize: mempool.size }, 'txpool full: evicted accepted txs that paid least (their senders must resend them)')
    pending = 0
  }
  const onRemoved = (_entry: unknown, reason: string) => {
    if (reason !== 'evicted') return
    pending++
    if (timer) return
    const wait = Math.max(0, lastWarn + everyMs - Date.now())
    if (wait === 0) report()
    else timer = setTimeout(report, wait).unref()
  }
  mempool.on('removed', onRemoved)
  return () => {
    mempool.off('removed', onRemoved)
    if (timer) clearTimeout(timer)
  }
}
