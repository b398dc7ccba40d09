/** One block: header fields, links to its neighbours, and its transactions. */
import { getBlock } from '../api/data.ts'
import type { TxSummary } from '../api/types.ts'
import { addressLink, blockLink, fields, mono, section, statusBadge, table, timeWithAge, txLink } from '../components.ts'
import { h, link } from '../dom.ts'
import { feeOf, formatBytes, formatEth, formatGwei, formatInt, gasOf } from '../format.ts'
import type { PageContext } from '../router.ts'

export async function blockPage(ctx: PageContext): Promise<void> {
  const id = ctx.params[0]!
  const b = await getBlock(ctx, id)
  ctx.setTitle(`Block ${b.height}`)
  ctx.view.replaceChildren(
    h('div', { class: 'title-row' },
      h('h1', { class: 'page-title' }, 'Block ', h('span', { 'data-testid': 'block-height' }, `#${formatInt(b.height)}`)),
      h('nav', { class: 'pager', 'aria-label': 'neighbouring blocks' },
        b.height > 0 ? link(`/block/${b.height - 1}`, '← Parent', { class: 'button' }) : null,
        link(`/block/${b.height + 1}`, 'Next →', { class: 'button' }),
      ),
    ),
    section('Overview', fields([
      ['Hash', mono(b.hash)],
      ['Parent', b.height > 0 ? blockLink(b.parentHash, b.parentHash) : mono(b.parentHash)],
      ['Time', timeWithAge(b.timestamp)],
      ['Producer', addressLink(b.producer, true)],
      ['Transactions', formatInt(b.txCount)],
      ['Gas used', gasOf(b.gasUsed, b.gasLimit)],
      ['Base fee', formatGwei(b.baseFeePerGas, 9)],
      ['Burnt fees', formatEth(BigInt(b.gasUsed) * BigInt(b.baseFeePerGas))],
      ['Size', `${formatBytes(b.size)} (${formatInt(b.size)} bytes)`],
      ['Confirmations', formatInt(b.confirmations)],
      ['State root', mono(b.stateRoot)],
      ['Tx root', mono(b.txRoot)],
      ['Receipts root', mono(b.receiptsRoot)],
    ])),
    section(`Transactions (${b.transactions.length})`, txTable(b.transactions, 'This block has no transactions.')),
  )
}

/** The tx list used by block and account pages. */
export function txTable(txs: TxSummary[], empty: string, self?: string): HTMLElement {
  const me = self?.toLowerCase()
  return table<TxSummary>([
    { label: 'Hash', cell: (t) => txLink(t.hash) },
    { label: 'Block', cell: (t) => (t.blockHeight === null ? statusBadge('pending') : blockLink(t.blockHeight, formatInt(t.blockHeight))) },
    { label: 'From', cell: (t) => (me && t.from.toLowerCase() === me ? h('span', { class: 'muted' }, 'this account') : addressLink(t.from)) },
    { label: 'To', cell: (t) => (t.to ? (me && t.to.toLowerCase() === me ? h('span', { class: 'muted' }, 'this account') : addressLink(t.to)) : h('span', null, 'create ', addressLink(t.contractAddress))) },
    { label: 'Value', cell: (t) => h('span', { title: formatEth(t.value) }, formatEth(t.value, 6)), class: 'num' },
    { label: 'Fee', cell: (t) => feeOf(t.gasUsed, t.effectiveGasPrice, 8), class: 'num' },
    { label: 'Status', cell: (t) => statusBadge(t.status) },
  ], txs, { empty, rowAttrs: (t) => ({ 'data-tx': t.hash }) })
}
