/**
 * Home: chain head and finality, tx/s, and the latest blocks and transactions as they arrive
 * over the WebSocket (newHeads, newPendingTransactions). Without a live socket it polls.
 * On PoH chains the blocks show their slots (and skipped slots) and commitment, and the
 * stats the current slot and the confirmed height.
 */
import { getBlock, getBlocks, getChain, getMempool, getPohStatus, getTx, getTxs, restRouteMissing } from '../api/data.ts'
import { ApiError } from '../api/http.ts'
import type { BlockSummary, ChainInfo, PohStatus, RpcHeader, TxSummary } from '../api/types.ts'
import { addressLink, ageOf, blockLink, commitmentBadge, section, stat, statusBadge, table, throttle, txLink } from '../components.ts'
import { h, replace } from '../dom.ts'
import { formatEth, formatInt, formatNumber, formatSeconds, gasShare } from '../format.ts'
import { commitmentOf, skippedRange } from '../poh.ts'
import type { PageContext } from '../router.ts'
import { averageBlockTime, txPerSecond } from '../stats.ts'
import { isAbort } from '../states.ts'

const BLOCKS_KEPT = 50
const BLOCKS_SHOWN = 10
const TXS_SHOWN = 10
const POLL_MS = 4000
/** Finality and the pending count refresh at most this often (the REST API is rate limited per client). */
const REFRESH_MS = 3000

/** A tx row: full once known, or just a hash while its details are being fetched. */
type TxRow = TxSummary | { hash: string; status: 'pending'; seen: number }
const isFull = (t: TxRow): t is TxSummary => 'from' in t

export async function homePage(ctx: PageContext): Promise<void> {
  ctx.setTitle('Latest blocks')
  const [chain, blocks, txs] = await Promise.all([getChain(ctx), getBlocks(ctx, 20), getTxs(ctx, TXS_SHOWN)])
  let head: ChainInfo['head'] = chain.head
  let finalized = chain.finalized
  let blockList: BlockSummary[] = blocks.items
  let txList: TxRow[] = txs.items
  let pendingCount: number | undefined
  const isPoh = chain.engine === 'poh'
  let poh: PohStatus | undefined

  const statsEl = h('div', { class: 'stats' })
  const blocksEl = h('div')
  const txsEl = h('div')
  ctx.view.replaceChildren(
    h('h1', { class: 'page-title' }, chain.name, h('span', { class: 'muted small' }, ` · chain id ${chain.chainId} · ${chain.engine}`)),
    statsEl,
    h('div', { class: 'columns' },
      section('Latest blocks', blocksEl),
      section(h('span', null, 'Latest transactions ', h('a', { href: '#/mempool', class: 'small' }, 'mempool')), txsEl),
    ),
  )

  const renderStats = (): void => {
    const tps = txPerSecond(blockList.slice(0, BLOCKS_KEPT))
    const bt = averageBlockTime(blockList.slice(0, BLOCKS_KEPT))
    replace(statsEl,
      stat('Head', h('span', null, blockLink(head.height, formatInt(head.height))), 'head-height'),
      isPoh ? stat('Slot', poh ? formatInt(poh.slot) : '—', 'poh-slot', 'the slot of this node\'s PoH clock') : null,
      isPoh ? stat('Confirmed', poh ? blockLink(poh.heights.confirmed, formatInt(poh.heights.confirmed)) : '—', 'confirmed-height', 'more than 2/3 of the stake voted for it (RPC tag "safe")') : null,
      stat('Finalized', h('span', null, blockLink(finalized.height, formatInt(finalized.height)), h('span', { class: 'muted small' }, head.height > finalized.height ? ` (−${head.height - finalized.height})` : '')), 'finalized-height'),
      stat('Tx/s', formatNumber(tps, 2), 'tps', `over the last ${Math.min(blockList.length, BLOCKS_KEPT)} blocks`),
      stat('Block time', formatSeconds(bt), 'block-time', `average over the latest blocks${chain.blockTime ? `; target ${chain.blockTime} s` : ''}`),
      stat('Pending txs', pendingCount === undefined ? '—' : formatInt(pendingCount), 'pending-count'),
    )
  }
  const renderBlocks = (fresh?: string): void => {
    const slotColumns = isPoh
      ? [
        { label: 'Slot', cell: (b: BlockSummary) => (b.poh ? h('span', { class: 'nowrap', title: skippedRange(b.poh) ? `skipped before it: ${skippedRange(b.poh)}` : '' }, formatInt(b.poh.slot), b.poh.skippedSlots > 0 ? h('span', { class: 'muted small' }, ` +${b.poh.skippedSlots} skipped`) : null) : h('span', { class: 'muted' }, 'genesis')) },
        { label: 'Status', cell: (b: BlockSummary) => (poh ? commitmentBadge(commitmentOf(b.height, poh.heights)) : '—') },
      ]
      : []
    replace(blocksEl, table<BlockSummary>([
      { label: 'Block', cell: (b) => blockLink(b.height, formatInt(b.height)) },
      ...slotColumns,
      { label: 'Age', cell: (b) => ageOf(b.timestamp) },
      { label: 'Txs', cell: (b) => formatInt(b.txCount), class: 'num' },
      ...(isPoh ? [] : [{ label: 'Gas used', cell: (b: BlockSummary) => gasShare(b.gasUsed, b.gasLimit), class: 'num' }]),
      { label: isPoh ? 'Leader' : 'Producer', cell: (b) => addressLink(b.producer) },
    ], blockList.slice(0, BLOCKS_SHOWN), {
      empty: 'No blocks yet.',
      rowAttrs: (b) => ({ 'data-height': String(b.height), ...(b.hash === fresh ? { class: 'fresh' } : {}) }),
    }))
  }
  const renderTxs = (): void => {
    replace(txsEl, table<TxRow>([
      { label: 'Hash', cell: (t) => txLink(t.hash) },
      { label: 'From → To', cell: (t) => isFull(t) ? h('span', { class: 'fromto' }, addressLink(t.from, false, true), ' → ', t.to ? addressLink(t.to, false, true) : h('span', { class: 'muted' }, 'create')) : h('span', { class: 'muted' }, '…') },
      { label: 'Value', cell: (t) => isFull(t) ? h('span', { class: 'nowrap', title: formatEth(t.value) }, formatEth(t.value, 4)) : '…', class: 'num' },
      { label: 'Block', cell: (t) => isFull(t) && t.blockHeight !== null ? blockLink(t.blockHeight, formatInt(t.blockHeight)) : statusBadge('pending') },
    ], txList.slice(0, TXS_SHOWN), { empty: 'No transactions yet: send one to this node.', rowAttrs: (t) => ({ 'data-tx': t.hash }) }))
  }
  renderStats()
  renderBlocks()
  renderTxs()

  const refreshPending = throttle(() => {
    if (restRouteMissing('mempool')) return
    getMempool(ctx, 1).then((m) => { pendingCount = m.pending; renderStats() }).catch(() => undefined)
  }, REFRESH_MS)
  const refreshFinality = throttle(() => {
    getChain(ctx).then((c) => { finalized = c.finalized; if (c.head.height > head.height) head = c.head; renderStats() }).catch(() => undefined)
    if (isPoh) getPohStatus(ctx).then((s) => { poh = s; renderStats(); renderBlocks() }).catch(() => undefined)
  }, REFRESH_MS)
  refreshPending()
  if (isPoh) refreshFinality()

  const addBlock = (b: BlockSummary & { transactions?: TxSummary[] }): void => {
    // A block at a height we already have is a reorg: drop what it replaced and above.
    blockList = [b, ...blockList.filter((x) => x.height < b.height)].slice(0, BLOCKS_KEPT)
    if (b.height >= head.height) head = { height: b.height, hash: b.hash, timestamp: b.timestamp }
    if (b.transactions) {
      const included = [...b.transactions].reverse()
      const hashes = new Set(included.map((t) => t.hash))
      txList = [...included, ...txList.filter((t) => !hashes.has(t.hash))]
      txList = [...txList.filter((t) => !isFull(t) || t.status === 'pending'), ...txList.filter((t) => isFull(t) && t.status !== 'pending')].slice(0, 50)
    }
    renderStats()
    renderBlocks(b.hash)
    renderTxs()
  }

  // New heads are fetched one at a time, newest last; a backlog keeps only the latest few.
  const queue: string[] = []
  let fetching = false
  const drain = async (): Promise<void> => {
    if (fetching) return
    fetching = true
    try {
      while (queue.length > 0 && !ctx.signal.aborted) {
        const hash = queue.shift()!
        try {
          addBlock(await getBlock(ctx, hash))
        } catch (err) {
          if (isAbort(err)) return
          if (!(err instanceof ApiError && err.kind === 'not-found')) console.warn('block fetch failed', err)
        }
      }
    } finally {
      fetching = false
    }
  }
  ctx.onDispose(ctx.live.subscribe('newHeads', (data) => {
    const header = data as RpcHeader
    const height = Number(BigInt(header.number))
    if (height > head.height) {
      head = { height, hash: header.hash, timestamp: Number(BigInt(header.timestamp)) }
      renderStats()
    }
    queue.push(header.hash)
    if (queue.length > BLOCKS_SHOWN) queue.splice(0, queue.length - BLOCKS_SHOWN)
    void drain()
    refreshFinality()
    refreshPending()
  }))

  let detailFetches = 0
  ctx.onDispose(ctx.live.subscribe('newPendingTransactions', (data) => {
    const hash = String(data)
    if (txList.some((t) => t.hash === hash)) return
    txList = [{ hash, status: 'pending' as const, seen: Date.now() }, ...txList].slice(0, 50)
    renderTxs()
    refreshPending()
    // Details for a few at a time; under heavy load the hash is enough.
    if (detailFetches >= 3) return
    detailFetches++
    getTx(ctx, hash)
      .then((tx) => {
        txList = txList.map((t) => (t.hash === hash && !isFull(t) ? tx : t))
        renderTxs()
      })
      .catch(() => undefined)
      .finally(() => detailFetches--)
  }))

  // Without the WebSocket (a proxy that drops upgrades, a restart), poll instead.
  const poll = setInterval(() => {
    if (ctx.live.state === 'live') return
    getBlocks(ctx, BLOCKS_SHOWN)
      .then((page) => {
        const newer = page.items.filter((b) => b.height > (blockList[0]?.height ?? -1)).reverse()
        for (const b of newer) queue.push(b.hash)
        void drain()
      })
      .catch(() => undefined)
  }, POLL_MS)
  ctx.onDispose(() => {
    clearInterval(poll)
    refreshPending.cancel()
    refreshFinality.cancel()
  })
}
