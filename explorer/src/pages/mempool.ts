/** Pending and queued transactions, refreshed as txs and blocks arrive. */
import { getMempool } from '../api/data.ts'
import type { MempoolInfo, MempoolTx } from '../api/types.ts'
import { addressLink, section, stat, table, throttle, txLink } from '../components.ts'
import { h, replace } from '../dom.ts'
import { formatEth, formatGwei, formatInt } from '../format.ts'
import type { PageContext } from '../router.ts'
import { errorState, isAbort } from '../states.ts'

const PAGE_SIZE = 50

export async function mempoolPage(ctx: PageContext): Promise<void> {
  ctx.setTitle('Mempool')
  let info: MempoolInfo = await getMempool(ctx, PAGE_SIZE)
  let items = info.items
  const statsEl = h('div', { class: 'stats' })
  const listEl = h('div')
  ctx.view.replaceChildren(h('h1', { class: 'page-title' }, 'Mempool'), statsEl, section('Transactions waiting for a block', listEl))

  const render = (): void => {
    replace(statsEl,
      stat('Pending', formatInt(info.pending), 'mempool-pending', 'executable now: the next nonce of their sender'),
      stat('Queued', formatInt(info.queued), 'mempool-queued', 'waiting for an earlier nonce of their sender'),
    )
    replace(listEl,
      table<MempoolTx>([
        { label: 'Hash', cell: (t) => txLink(t.hash) },
        { label: 'From', cell: (t) => addressLink(t.from) },
        { label: 'To', cell: (t) => (t.to ? addressLink(t.to) : 'create') },
        { label: 'Nonce', cell: (t) => formatInt(t.nonce), class: 'num' },
        { label: 'Value', cell: (t) => formatEth(t.value, 6), class: 'num' },
        { label: 'Max fee', cell: (t) => formatGwei(t.maxFeePerGas), class: 'num' },
        { label: 'Tip', cell: (t) => formatGwei(t.maxPriorityFeePerGas), class: 'num' },
      ], items, { empty: 'The mempool is empty: every transaction is in a block.', rowAttrs: (t) => ({ 'data-tx': t.hash }) }),
      info.nextCursor ? h('button', { type: 'button', class: 'button more', onclick: () => void more() }, 'More') : null,
    )
  }
  const more = async (): Promise<void> => {
    try {
      const next = await getMempool(ctx, PAGE_SIZE, info.nextCursor)
      info = { ...next, items: [] }
      items = [...items, ...next.items]
      render()
    } catch (err) {
      if (!isAbort(err)) listEl.append(errorState(err))
    }
  }
  render()

  // The first page follows the pool; pages loaded with "More" stay until the next refresh.
  const refresh = throttle(() => {
    getMempool(ctx, PAGE_SIZE)
      .then((m) => { info = m; items = m.items; render() })
      .catch((err) => { if (!isAbort(err)) console.warn(err) })
  }, 2000)
  const stops = [ctx.live.subscribe('newHeads', () => refresh()), ctx.live.subscribe('newPendingTransactions', () => refresh())]
  const poll = setInterval(() => { if (ctx.live.state !== 'live') refresh() }, 5000)
  ctx.onDispose(() => { for (const s of stops) s(); refresh.cancel(); clearInterval(poll) })
}
