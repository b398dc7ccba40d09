/**
 * Analytics and alerts from the chain, the consensus view and the monitor: the glue between
 * the pure math (analytics.ts, producers.ts, alerts.ts) and the routes.
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { BlockHeader } from '../../chain/block.ts'
import { seriesStats } from './analytics.ts'
import { burstAlert, concentrationAlerts, doubleVoteAlerts, reorgAlerts, type AlertJSON } from './alerts.ts'
import type { RestContext } from './context.ts'
import { checksum } from './format.ts'
import { computeProducers, type ProducerStats } from './producers.ts'

/** Default window of /v1/producers, the summary and the concentration alerts. */
export const DEFAULT_WINDOW = 100

/** Headers of the last `window` canonical blocks after genesis, oldest first. */
export function windowHeaders(ctx: RestContext, window: number): BlockHeader[] {
  const head = ctx.view.headHeight
  const from = head - BigInt(window) + 1n > 1n ? head - BigInt(window) + 1n : 1n
  const out: BlockHeader[] = []
  for (let h = from; h <= head; h++) {
    const hash = ctx.chain.getHashAt(h)
    const header = hash && ctx.chain.getHeader(hash)
    if (header) out.push(header)
  }
  return out
}

export function producerStats(ctx: RestContext, window: number): ProducerStats {
  const headers = windowHeaders(ctx, window)
  const first = headers[0]
  const parent = first ? ctx.chain.getHeader(first.parentHash) : undefined
  const span = first && parent ? Number(headers[headers.length - 1]!.timestamp - parent.timestamp) : 0
  const names = new Map<string, string>()
  const name = (producer: Uint8Array) => {
    const hex = bytesToHex(producer)
    let c = names.get(hex)
    if (c === undefined) names.set(hex, (c = checksum(producer)))
    return c
  }
  const validators = ctx.consensus.validators(ctx.view.headHeight)
  return computeProducers({
    kind: ctx.consensus.kind,
    blocks: headers.map((h) => {
      const work = ctx.consensus.blockWork(h)
      return work === undefined ? { producer: name(h.producer) } : { producer: name(h.producer), work }
    }),
    spanSeconds: span,
    ...(validators ? { validators: validators.map((v) => ({ address: name(v.address), power: v.power })) } : {}),
  })
}

/** Block series statistics and reorg history for /v1/analytics/summary. */
export function summary(ctx: RestContext, window: number) {
  const head = ctx.view.headHeight
  // Genesis is left out: its timestamp is the chain spec's constant, not when it was made, so
  // the gap to block 1 says nothing about block times (it can be years on a new dev chain).
  const from = head - BigInt(window) + 1n > 1n ? head - BigInt(window) + 1n : 1n
  const points = []
  for (let h = from; h <= head; h++) {
    const s = ctx.view.summaryAt(h)
    if (s) points.push({ timestamp: s.timestamp, txCount: s.txCount, gasUsed: BigInt(s.gasUsed) })
  }
  const parent = from > 1n ? ctx.view.summaryAt(from - 1n) : undefined
  const stats = seriesStats(points, parent ? parent.timestamp : null)
  const producers = producerStats(ctx, window).json
  const reorgs = ctx.monitor.reorgs()
  return {
    window: points.length,
    txPerSecond: stats.txPerSecond,
    avgBlockTime: stats.avgBlockTime,
    avgGasUsed: stats.avgGasUsed.toString(),
    producers: producers.items,
    nakamotoCoefficient: producers.nakamotoCoefficient,
    reorgs: [...reorgs].reverse(),
    maxReorgDepth: reorgs.reduce((m, r) => Math.max(m, r.depth), 0),
    reorgDepthLimit: ctx.consensus.reorgDepthLimit,
    safeReorgDepth: ctx.consensus.safeReorgDepth,
    finalityLag: Number(head - ctx.view.finalized().height),
  }
}

/** Every alert that holds now. */
export function currentAlerts(ctx: RestContext): AlertJSON[] {
  const now = ctx.now()
  const t = ctx.monitor.thresholds
  const m = ctx.monitor
  const candidates = [
    ...concentrationAlerts(ctx.consensus.kind, producerStats(ctx, DEFAULT_WINDOW), t),
    ...doubleVoteAlerts(m.doubleVotes(), now, t),
    ...reorgAlerts(m.reorgs(), ctx.consensus.safeReorgDepth, now, t),
  ]
  const rejected = burstAlert('rejected-tx-burst', m.rejected.count(now), t.rejectedTxWindowMs, t.rejectedTxWarn, t.rejectedTxCritical, { byCode: m.rejected.byTag(now) })
  const bans = burstAlert('peer-ban-burst', m.bans.count(now), t.banWindowMs, t.banWarn, t.banCritical, { peers: Object.keys(m.bans.byTag(now)).slice(0, 50) })
  if (rejected) candidates.push(rejected)
  if (bans) candidates.push(bans)
  return ctx.alerts.resolve(candidates, now)
}
