/**
 * Analytics over the last N blocks: tx/s, block time, base fee and burnt fees, gas used, block
 * size, who produced the blocks (with the Nakamoto coefficient), reorgs and their depth,
 * finality lag, and the node's security alerts.
 */
import { getAlerts, getAnalyticsBlocks, getAnalyticsSummary, getChain, restRouteMissing } from '../api/data.ts'
import { ApiError } from '../api/http.ts'
import type { Alert, AnalyticsBlock, AnalyticsSummary, ChainInfo, Reorg } from '../api/types.ts'
import { producersFromBlocks } from '../api/rpc-fallback.ts'
import { lineChart, pieChart, type Point } from '../charts.ts'
import { blockLink, note, section, stat, table, throttle } from '../components.ts'
import { h, replace } from '../dom.ts'
import { compact, dateTime, formatBytes, formatInt, formatNumber, formatPercent, formatSeconds, shortHash, toGweiNumber } from '../format.ts'
import type { PageContext } from '../router.ts'
import { averageBlockTime, txPerSecond } from '../stats.ts'
import { errorState, isAbort } from '../states.ts'
import { nakamotoNote, producerTable } from './producers.ts'

const COUNTS = [50, 100, 250, 500, 1000]
const DEFAULT_COUNT = 100
const REFRESH_MS = 10_000

interface Data {
  blocks: AnalyticsBlock[]
  summary: AnalyticsSummary | ApiError
  alerts: Alert[] | ApiError
  chain: ChainInfo
}

/** REST-only extras fail soft: the page shows what it has and says what is missing. */
const soft = <T,>(p: Promise<T>): Promise<T | ApiError> =>
  p.catch((err) => {
    if (err instanceof ApiError) return err
    throw err
  })

export async function analyticsPage(ctx: PageContext): Promise<void> {
  const asked = Number(ctx.query.get('count'))
  const count = COUNTS.includes(asked) ? asked : DEFAULT_COUNT
  ctx.setTitle('Analytics')
  const load = async (): Promise<Data> => {
    const [blocks, summary, alerts, chain] = await Promise.all([
      getAnalyticsBlocks(ctx, count),
      soft(getAnalyticsSummary(ctx, count)),
      soft(getAlerts(ctx).then((a) => a.items)),
      getChain(ctx),
    ])
    return { blocks: blocks.items, summary, alerts, chain }
  }
  const picker = h('select', {
    'aria-label': 'blocks to analyse',
    onchange: (e: Event) => { location.hash = `/analytics?count=${(e.target as HTMLSelectElement).value}` },
  }, COUNTS.map((n) => h('option', { value: n, selected: n === count }, `last ${n} blocks`)))
  const body = h('div')
  ctx.view.replaceChildren(h('div', { class: 'title-row' }, h('h1', { class: 'page-title' }, 'Analytics'), picker), body)
  render(body, await load())

  // Follow the chain, but redraw at most every few seconds.
  const refresh = throttle(() => {
    load().then((d) => render(body, d)).catch((err) => { if (!isAbort(err)) console.warn(err) })
  }, REFRESH_MS)
  const stop = ctx.live.subscribe('newHeads', () => refresh())
  ctx.onDispose(() => { stop(); refresh.cancel() })
}

function render(body: HTMLElement, d: Data): void {
  const { blocks, chain } = d
  const summary = d.summary instanceof ApiError ? undefined : d.summary
  // Block times after genesis only (its timestamp is a spec constant); tx/s and the average
  // block time are computed here from the same series the charts draw.
  const timed = blocks.filter((b) => b.blockTime !== null && b.height > 1)
  const tps = txPerSecond(blocks)
  const producers = summary
    ? { items: summary.producers, nakamotoCoefficient: summary.nakamotoCoefficient }
    : producersFromBlocks(blocks)
  const finalityLag = summary?.finalityLag ?? chain.head.height - chain.finalized.height
  const x = (b: AnalyticsBlock) => b.height
  const series = (f: (b: AnalyticsBlock) => number | null, from = blocks): Point[] =>
    from.flatMap((b) => { const y = f(b); return y === null || !Number.isFinite(y) ? [] : [{ x: x(b), y }] })
  const height = (v: number) => `#${formatInt(Math.round(v))}`

  replace(body,
    h('div', { class: 'stats' },
      stat('Tx/s', formatNumber(tps, 3), 'an-tps'),
      stat('Avg block time', formatSeconds(averageBlockTime(blocks)), 'an-block-time'),
      stat('Nakamoto coefficient', formatInt(producers.nakamotoCoefficient), 'an-nakamoto'),
      stat('Finality lag', `${formatInt(finalityLag)} block${finalityLag === 1 ? '' : 's'}`, 'an-finality-lag', 'head height − finalized height'),
      stat('Reorgs', summary ? formatInt(summary.reorgs.length) : '—', 'an-reorgs', summary ? `deepest: ${summary.maxReorgDepth} blocks` : 'needs the REST API'),
      stat('Max reorg depth', summary ? formatInt(summary.maxReorgDepth) : '—', 'an-reorg-depth'),
    ),
    blocks.length === 0 ? note('No blocks yet.') : null,
    h('div', { class: 'charts' },
      lineChart({
        id: 'tps', title: 'Transactions per second', xFormat: height, yFormat: (v) => compact(v), tipFormat: (v) => formatNumber(v, 6),
        // Per block: its txs over the seconds since its parent (blocks in the same second are skipped).
        series: [{ name: 'tx/s', points: series((b) => (b.blockTime && b.blockTime > 0 ? b.txCount / b.blockTime : null), timed) }],
      }),
      lineChart({ id: 'block-time', title: 'Block time (s)', xFormat: height, yFormat: (v) => compact(v), tipFormat: (v) => formatNumber(v, 6), series: [{ name: 'seconds', points: series((b) => b.blockTime, timed) }] }),
      lineChart({ id: 'base-fee', title: 'Base fee (gwei)', xFormat: height, yFormat: (v) => compact(v), tipFormat: (v) => formatNumber(v, 6), series: [{ name: 'base fee', points: series((b) => toGweiNumber(b.baseFeePerGas)) }] }),
      lineChart({
        id: 'fees', title: 'Fees burnt per block (gwei)', xFormat: height, yFormat: (v) => compact(v), tipFormat: (v) => formatNumber(v, 6),
        series: [{ name: 'burnt', points: series((b) => toGweiNumber(BigInt(b.baseFeePerGas) * BigInt(b.gasUsed))) }],
      }),
      lineChart({
        id: 'gas-used', title: 'Gas used per block', kind: 'bar', xFormat: height, yFormat: (v) => compact(v), tipFormat: (v) => formatNumber(v, 6),
        series: [{ name: 'gas used', points: series((b) => Number(b.gasUsed)) }],
      }),
      lineChart({ id: 'block-size', title: 'Block size', xFormat: height, yFormat: (v) => formatBytes(Math.round(v)), series: [{ name: 'bytes', points: series((b) => b.size) }] }),
    ),
    h('div', { class: 'columns' },
      section('Producers', nakamotoNote(producers.nakamotoCoefficient), producerTable(producers.items)),
      pieChart('Producer distribution', producers.items.map((p) => ({ label: p.address, value: p.blocks, href: `#/address/${p.address}` })), (s) => formatPercent(s)),
    ),
    section('Reorganizations', summary
      ? [
        note(`Deepest reorganization seen: ${formatInt(summary.maxReorgDepth)} block${summary.maxReorgDepth === 1 ? '' : 's'}.`),
        table<Reorg>([
          { label: 'When', cell: (r) => dateTime(r.at, 'ms') },
          { label: 'Fork height', cell: (r) => blockLink(r.forkHeight, formatInt(r.forkHeight)) },
          { label: 'Depth', cell: (r) => formatInt(r.depth), class: 'num' },
          { label: 'Old head', cell: (r) => h('span', { class: 'mono', title: r.oldHead }, shortHash(r.oldHead)) },
          { label: 'New head', cell: (r) => blockLink(r.newHead) },
        ], summary.reorgs, { empty: 'No reorganization since this node started.' }),
      ]
      : unavailable(d.summary as ApiError, 'Reorganizations')),
    section('Finality', note(finalityLag === 0
      ? `Every block up to the head (#${formatInt(chain.head.height)}) is final.`
      : `The head is #${formatInt(chain.head.height)}; the latest final block is #${formatInt(chain.finalized.height)}, ${formatInt(finalityLag)} behind.`)),
    section('Security alerts', d.alerts instanceof ApiError ? unavailable(d.alerts, 'Alerts') : alertList(d.alerts)),
  )
}

function unavailable(err: ApiError, what: string): HTMLElement {
  if (err.kind === 'unavailable' || restRouteMissing('analytics-summary')) return note(`${what} need the node's REST API (/v1), which this node does not serve.`)
  return errorState(err)
}

function alertList(alerts: Alert[]): HTMLElement {
  if (alerts.length === 0) return h('p', { class: 'muted empty', 'data-testid': 'no-alerts' }, 'No alerts: no concentration of producers, double votes, deep reorgs or bursts of rejected txs or peer bans.')
  return h('ul', { class: 'alerts' }, [...alerts].sort((a, b) => b.at - a.at).map((a) =>
    h('li', { class: `alert ${a.severity}`, 'data-alert': a.kind },
      h('span', { class: `badge ${a.severity}` }, a.severity),
      h('strong', null, a.kind),
      h('span', { class: 'alert-message' }, a.message),
      h('time', { class: 'muted small' }, dateTime(a.at, 'ms')),
    )))
}
