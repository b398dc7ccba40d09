/** Who makes the blocks: validators or miners with their share, and the Nakamoto coefficient. */
import { getProducers } from '../api/data.ts'
import type { ProducerShare, Producers } from '../api/types.ts'
import { addressLink, note, section, stat, table } from '../components.ts'
import { pieChart } from '../charts.ts'
import { h } from '../dom.ts'
import { formatEth, formatInt, formatPercent } from '../format.ts'
import type { PageContext } from '../router.ts'

const TITLES: Record<Producers['kind'], string> = { validators: 'Validators', miners: 'Miners', producer: 'Block producers' }

export async function producersPage(ctx: PageContext): Promise<void> {
  const p = await getProducers(ctx)
  ctx.setTitle(TITLES[p.kind] ?? 'Producers')
  ctx.view.replaceChildren(
    h('h1', { class: 'page-title' }, TITLES[p.kind] ?? 'Producers'),
    h('div', { class: 'stats' },
      stat('Nakamoto coefficient', formatInt(p.nakamotoCoefficient), 'nakamoto', 'the fewest producers that together made more than half of the blocks'),
      stat(p.kind === 'miners' ? 'Miners seen' : 'Producers', formatInt(p.items.length)),
      stat('Window', `${formatInt(p.window)} blocks`),
    ),
    nakamotoNote(p.nakamotoCoefficient),
    h('div', { class: 'columns' },
      section('Share of blocks', producerTable(p.items)),
      pieChart('Block share', p.items.map((i) => ({ label: i.address, value: i.blocks, href: `#/address/${i.address}` })), (s) => formatPercent(s)),
    ),
  )
}

export function nakamotoNote(n: number): HTMLElement {
  return note(n <= 1
    ? 'Nakamoto coefficient 1: a single producer made more than half of the recent blocks, so it alone could censor or rewrite them.'
    : `Nakamoto coefficient ${n}: at least ${n} producers must collude to control more than half of the recent blocks.`)
}

export function producerTable(items: ProducerShare[]): HTMLElement {
  const withPower = items.some((i) => i.power !== undefined)
  return table<ProducerShare>([
    { label: 'Address', cell: (i) => addressLink(i.address) },
    { label: 'Blocks', cell: (i) => formatInt(i.blocks), class: 'num' },
    { label: 'Share', cell: (i) => h('span', { class: 'share-cell' }, h('meter', { min: 0, max: 1, value: i.share }), formatPercent(i.share)) },
    ...(withPower
      ? [
        { label: 'Power', cell: (i: ProducerShare) => (i.power === undefined ? '—' : i.power.length > 15 ? formatEth(i.power, 4) : formatInt(i.power)), class: 'num' },
        { label: 'Power share', cell: (i: ProducerShare) => formatPercent(i.powerShare), class: 'num' },
      ]
      : []),
  ], items, { empty: 'No blocks produced in the window.' })
}
