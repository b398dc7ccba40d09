/** One block: header fields, links to its neighbours, its PoH slot (PoH chains), and its transactions. */
import { getBlock, getBlockPoh, getPohStatus } from '../api/data.ts'
import { ApiError } from '../api/http.ts'
import type { BlockDetail, BlockPoh, PohStatus, TxSummary } from '../api/types.ts'
import { addressLink, blockLink, commitmentBadge, fields, mono, note, section, statusBadge, table, timeWithAge, txLink } from '../components.ts'
import { h, link } from '../dom.ts'
import { feeOf, formatBytes, formatEth, formatGwei, formatInt, gasOf } from '../format.ts'
import { commitmentOf, entryCounts, skippedRange } from '../poh.ts'
import type { PageContext } from '../router.ts'
import { errorState } from '../states.ts'

export async function blockPage(ctx: PageContext): Promise<void> {
  const id = ctx.params[0]!
  const b = await getBlock(ctx, id)
  ctx.setTitle(`Block ${b.height}`)
  // PoH chains: the slot's entries and the node's commitment levels, fetched beside the block.
  const poh = b.poh ? await Promise.all([soft(getBlockPoh(ctx, b.hash)), soft(getPohStatus(ctx))]) : undefined
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
      [b.poh ? 'Leader' : 'Producer', addressLink(b.producer, true)],
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
    ...(poh ? [pohSection(b, poh[0], poh[1])] : []),
    section(`Transactions (${b.transactions.length})`, txTable(b.transactions, 'This block has no transactions.')),
  )
}

const soft = <T,>(p: Promise<T>): Promise<T | ApiError> => p.catch((err) => (err instanceof ApiError ? err : Promise.reject(err)))

/** The block's slot, the slots skipped before it, its commitment, votes, and its PoH entries. */
function pohSection(b: BlockDetail, p: BlockPoh | ApiError, status: PohStatus | ApiError): HTMLElement {
  const slot = b.poh!
  const canonical = b.confirmations > 0
  const commitment = !canonical
    ? h('span', { class: 'muted' }, 'not on this node\'s chain (a fork it did not follow)')
    : status instanceof ApiError ? h('span', { class: 'muted' }, '—') : commitmentBadge(commitmentOf(b.height, status.heights))
  const rows: [string, Node | string][] = [
    ['Slot', h('span', { 'data-testid': 'poh-block-slot' }, formatInt(slot.slot))],
    ['Parent slot', formatInt(slot.parentSlot)],
    ['Skipped slots', slot.skippedSlots === 0 ? 'none' : h('span', null, `${formatInt(slot.skippedSlots)} (${skippedRange(slot)}: no block; this block's PoH covers ${slot.skippedSlots === 1 ? 'it' : 'them'})`)],
    ['Commitment', commitment],
    ['Votes carried', formatInt(slot.votes)],
  ]
  if (p instanceof ApiError) return section('Proof of History', fields(rows), errorState(p))
  const c = entryCounts(p)
  rows.push(
    ['Duplicate-block evidence', formatInt(p.evidence)],
    ['Entries', `${formatInt(p.entries.length)}: ${plural(c.ticks, 'tick', 'ticks')}, ${plural(c.txEntries, 'entry with txs', 'entries with txs')} (${plural(c.txs, 'tx', 'txs')})`],
    ['Hashes', formatInt(c.hashes)],
    ['Start hash', mono(p.startHash)],
    ['End hash', mono(p.endHash)],
  )
  const json = `/v1/blocks/${b.height}/poh`
  return section('Proof of History',
    fields(rows),
    note(h('span', null,
      'Anyone can re-check this slot without Catena: from the start hash, h = sha256(h) numHashes times per entry, the last hash of an entry with txs being sha256(h || Merkle root of its tx hashes); every entry must end on its hash. The entries: ',
      h('a', { href: json, class: 'mono', 'data-testid': 'poh-json' }, json), '.')),
    entriesTable(p),
  )
}

const plural = (n: number, one: string, many: string): string => `${formatInt(n)} ${n === 1 ? one : many}`

const ENTRIES_SHOWN = 12

/** The entries that carry txs, then the first ticks (a slot has dozens of ticks). */
function entriesTable(p: BlockPoh): HTMLElement {
  const indexed = p.entries.map((e, i) => ({ ...e, i }))
  const shown = [...indexed.filter((e) => e.txHashes.length > 0), ...indexed.filter((e) => e.txHashes.length === 0)].slice(0, ENTRIES_SHOWN).sort((a, b) => a.i - b.i)
  return h('details', null,
    h('summary', null, `Entries (${shown.length} of ${p.entries.length} shown: those with txs first)`),
    table([
      { label: '#', cell: (e: (typeof shown)[number]) => formatInt(e.i), class: 'num' },
      { label: 'Hashes', cell: (e) => formatInt(e.numHashes), class: 'num' },
      { label: 'Hash', cell: (e) => h('span', { class: 'mono', title: e.hash }, `${e.hash.slice(0, 18)}…`) },
      { label: 'Txs', cell: (e) => (e.txHashes.length === 0 ? h('span', { class: 'muted' }, 'tick') : h('span', null, e.txHashes.map((t) => [txLink(t), ' ']))) },
    ], shown),
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
