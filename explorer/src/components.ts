/** Building blocks shared by pages: field lists, tables that fold into cards on phones, links. */
import { systemContractName } from './abi.ts'
import type { Commitment, TxStatus } from './api/types.ts'
import { h, link, type Child } from './dom.ts'
import { age, dateTime, shortHash } from './format.ts'

export function section(title: Child, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', null, title), ...children)
}

/** Label/value rows (a <dl> laid out as a grid, one column on phones). */
export function fields(rows: [string, Child][]): HTMLElement {
  return h('dl', { class: 'fields' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]))
}

export interface Column<T> {
  label: string
  cell: (row: T) => Child
  class?: string
}

/** A table; on narrow screens each row becomes a card with the labels repeated (data-label). */
export function table<T>(columns: Column<T>[], rows: T[], opts: { empty?: string; rowAttrs?: (row: T) => Record<string, string> } = {}): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted empty' }, opts.empty ?? 'Nothing here yet.')
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table' },
      h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.class }, c.label)))),
      h('tbody', null, rows.map((r) => h('tr', opts.rowAttrs?.(r) ?? null,
        columns.map((c) => h('td', { 'data-label': c.label, class: c.class }, c.cell(r)))))),
    ),
  )
}

/** A full hash in monospace that wraps rather than overflows. */
export const mono = (text: string): HTMLElement => h('span', { class: 'mono wrap' }, text)

export const blockLink = (idOrHeight: string | number, text?: string): HTMLAnchorElement =>
  link(`/block/${idOrHeight}`, text ?? (typeof idOrHeight === 'number' ? `#${idOrHeight}` : shortHash(idOrHeight)), { class: 'mono', title: String(idOrHeight) })

export const txLink = (hash: string, full = false): HTMLAnchorElement =>
  link(`/tx/${hash}`, full ? hash : shortHash(hash, 10, 6), { class: full ? 'mono wrap' : 'mono', title: hash })

/** An address link, named when it is a system contract. */
export function addressLink(address: string | null | undefined, full = false, compact = false): Child {
  if (!address) return h('span', { class: 'muted' }, '—')
  const name = systemContractName(address)
  const text = full ? address : compact ? shortHash(address, 6, 4) : shortHash(address, 8, 6)
  return link(`/address/${address}`, name ? `${name} (${shortHash(address, 6, 4)})` : text, { class: full ? 'mono wrap' : 'mono', title: address })
}

export function statusBadge(status: TxStatus): HTMLElement {
  const text = status === 'success' ? 'Success' : status === 'reverted' ? 'Reverted' : 'Pending'
  return h('span', { class: `badge ${status}`, 'data-status': status }, text)
}

const COMMITMENT_HINT: Record<Commitment, string> = {
  processed: 'on this node\'s fork, not yet confirmed by votes',
  confirmed: 'more than 2/3 of the stake voted for it or a block after it (RPC tag "safe")',
  finalized: 'rooted: 32 votes stacked on it, never reverted (RPC tag "finalized")',
}

/** A PoH block's commitment level as a badge (processed / confirmed / finalized). */
export function commitmentBadge(level: Commitment): HTMLElement {
  return h('span', { class: `badge ${level}`, 'data-commitment': level, title: COMMITMENT_HINT[level] }, level)
}

/** "12 s ago" that stays current: main.ts refreshes every [data-ts] each second. */
export const ageOf = (unixSeconds: number): HTMLElement =>
  h('time', { 'data-ts': unixSeconds, datetime: new Date(unixSeconds * 1000).toISOString(), title: dateTime(unixSeconds) }, age(unixSeconds))

export const timeWithAge = (unixSeconds: number): HTMLElement =>
  h('span', null, dateTime(unixSeconds), ' (', ageOf(unixSeconds), ')')

/** A headline figure. */
export function stat(label: string, value: Child, testid?: string, hint?: string): HTMLElement {
  return h('div', { class: 'stat', title: hint },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value', 'data-testid': testid }, value),
  )
}

export const note = (text: Child): HTMLElement => h('p', { class: 'muted note' }, text)

/** Calls `fn` at most once per `ms`, the last call winning (trailing edge). */
export function throttle(fn: () => void, ms: number): { (): void; cancel(): void } {
  let last = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const run = () => {
    timer = undefined
    last = Date.now()
    fn()
  }
  const wrapped = () => {
    if (timer) return
    const wait = Math.max(0, last + ms - Date.now())
    timer = setTimeout(run, wait)
  }
  wrapped.cancel = () => clearTimeout(timer)
  return wrapped
}
