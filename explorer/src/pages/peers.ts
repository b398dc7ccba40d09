/** The node's peers (libp2p) and the ones it banned, refreshed every few seconds. */
import { getPeers } from '../api/data.ts'
import type { PeerInfo, Peers } from '../api/types.ts'
import { section, stat, table } from '../components.ts'
import { h, replace } from '../dom.ts'
import { dateTime, formatInt } from '../format.ts'
import type { PageContext } from '../router.ts'
import { isAbort } from '../states.ts'

const REFRESH_MS = 5000

type Ban = Peers['banned'][number]

export async function peersPage(ctx: PageContext): Promise<void> {
  ctx.setTitle('Peers')
  const body = h('div')
  ctx.view.replaceChildren(h('h1', { class: 'page-title' }, 'Peers'), body)
  const render = (p: Peers): void => {
    replace(body,
      h('div', { class: 'stats' },
        stat('Connected', formatInt(p.items.length), 'peer-count'),
        stat('Banned', formatInt(p.banned.length), 'banned-count'),
      ),
      section('Connected peers', table<PeerInfo>([
        { label: 'Peer id', cell: (x) => h('span', { class: 'mono wrap' }, x.id) },
        { label: 'Addresses', cell: (x) => h('span', { class: 'mono wrap' }, x.addresses.join(' ') || '—') },
        { label: 'Direction', cell: (x) => x.direction ?? '—' },
      ], p.items, { empty: 'No peers: this node runs alone, or networking is off (--p2p-port).', rowAttrs: (x) => ({ 'data-peer': x.id }) })),
      section('Banned peers', table<Ban>([
        { label: 'Peer id', cell: (b) => h('span', { class: 'mono wrap' }, b.id) },
        { label: 'Until', cell: (b) => (typeof b.until === 'number' ? dateTime(b.until, b.until > 1e12 ? 'ms' : 's') : String(b.until)) },
        { label: 'Reason', cell: (b) => b.reason },
      ], p.banned, { empty: 'No peer is banned.' })),
    )
  }
  render(await getPeers(ctx))
  const timer = setInterval(() => {
    getPeers(ctx).then(render).catch((err) => { if (!isAbort(err)) console.warn(err) })
  }, REFRESH_MS)
  ctx.onDispose(() => clearInterval(timer))
}
