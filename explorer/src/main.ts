/** The explorer's shell: header with search and navigation, the routed page, a status footer. */
import './styles.css'
import { getChain } from './api/data.ts'
import type { DataSource } from './api/types.ts'
import { LiveClient } from './api/ws.ts'
import { h, replace, svg } from './dom.ts'
import { age } from './format.ts'
import { accountPage } from './pages/account.ts'
import { analyticsPage } from './pages/analytics.ts'
import { blockPage } from './pages/block.ts'
import { homePage } from './pages/home.ts'
import { mempoolPage } from './pages/mempool.ts'
import { notFoundPage, searchPage } from './pages/misc.ts'
import { peersPage } from './pages/peers.ts'
import { producersPage } from './pages/producers.ts'
import { slotsPage } from './pages/slots.ts'
import { txPage } from './pages/tx.ts'
import { navigate, Router, type Route } from './router.ts'
import { resolveSearch, SearchNotFound } from './search.ts'
import { isAbort } from './states.ts'

/** Two chain links. */
const logo = (): SVGSVGElement =>
  svg('svg', { class: 'logo', width: 22, height: 22, viewBox: '0 0 24 24', 'aria-hidden': 'true' },
    svg('rect', { x: 2, y: 7, width: 12, height: 10, rx: 5 }),
    svg('rect', { x: 10, y: 7, width: 12, height: 10, rx: 5 }),
  )

const routes: Route[] = [
  { pattern: /^\/$/, page: homePage, nav: 'home' },
  { pattern: /^\/block\/([^/]+)$/, page: blockPage },
  { pattern: /^\/tx\/(0x[0-9a-fA-F]{64})$/, page: txPage },
  { pattern: /^\/address\/(0x[0-9a-fA-F]{40})$/, page: accountPage },
  { pattern: /^\/slots$/, page: slotsPage, nav: 'slots' },
  { pattern: /^\/producers$/, page: producersPage, nav: 'producers' },
  { pattern: /^\/mempool$/, page: mempoolPage, nav: 'mempool' },
  { pattern: /^\/peers$/, page: peersPage, nav: 'peers' },
  { pattern: /^\/analytics$/, page: analyticsPage, nav: 'analytics' },
  { pattern: /^\/search\/(.+)$/, page: searchPage },
]

const NAV: [string, string, string][] = [
  ['home', '/', 'Blocks'],
  ['slots', '/slots', 'Slots'],
  ['producers', '/producers', 'Producers'],
  ['mempool', '/mempool', 'Mempool'],
  ['peers', '/peers', 'Peers'],
  ['analytics', '/analytics', 'Analytics'],
]

const live = new LiveClient()
const input = h('input', { type: 'search', name: 'q', placeholder: 'Block, tx hash or address', 'aria-label': 'Search by block height, block hash, transaction hash or address', autocomplete: 'off', spellcheck: 'false' })
const searchMsg = h('p', { class: 'search-msg', role: 'alert', 'data-testid': 'search-message' })
let searching: AbortController | undefined
const form = h('form', { class: 'search', role: 'search', onsubmit: (e: Event) => { e.preventDefault(); void search() } },
  input, h('button', { type: 'submit', class: 'button' }, 'Search'), searchMsg)

async function search(): Promise<void> {
  searching?.abort()
  const controller = (searching = new AbortController())
  searchMsg.textContent = ''
  form.setAttribute('aria-busy', 'true')
  try {
    const path = await resolveSearch(input.value, { signal: controller.signal, noteSource: () => undefined })
    input.value = ''
    navigate(path)
  } catch (err) {
    if (isAbort(err)) return
    searchMsg.textContent = err instanceof SearchNotFound ? err.message : `Search failed: ${(err as Error).message}`
  } finally {
    if (searching === controller) form.removeAttribute('aria-busy')
  }
}

// Slots only on PoH chains: shown once /v1/chain says the engine is "poh".
const navLinks = NAV.map(([key, path, label]) => h('a', { href: `#${path}`, 'data-nav': key, hidden: key === 'slots' }, label))
const liveEl = h('span', { class: 'live', 'data-live': 'connecting' })
const chainEl = h('span', { class: 'chain' })
const headEl = h('span', { class: 'head', 'data-testid': 'footer-head' })
const sourceEl = h('span', { class: 'source', 'data-testid': 'data-source' })
const view = h('main', { id: 'view', tabindex: '-1' })

document.getElementById('app')!.replaceChildren(
  h('header', { class: 'top' },
    h('div', { class: 'top-inner' },
      h('a', { class: 'brand', href: '#/' }, logo(), 'Catena', h('span', { class: 'brand-sub' }, 'explorer')),
      form,
      h('nav', { class: 'nav', 'aria-label': 'main' }, navLinks),
    ),
  ),
  view,
  h('footer', { class: 'foot' }, liveEl, headEl, chainEl, sourceEl,
    h('span', { class: 'links' }, h('a', { href: '/docs' }, 'REST API docs'), h('a', { href: '/metrics' }, 'metrics'))),
)

// One subscription for the page's lifetime: keeps the socket (and the status dot) meaningful
// and shows the head in the footer on every page.
live.subscribe('newHeads', (data) => {
  const n = (data as { number?: string }).number
  if (n) headEl.textContent = `head #${Number(BigInt(n)).toLocaleString('en-US')}`
})
live.onStatus((s) => {
  liveEl.setAttribute('data-live', s)
  liveEl.textContent = s === 'live' ? 'live' : s === 'connecting' ? 'connecting…' : 'offline (polling)'
})

function onNavigate(nav: string | undefined, sources: Set<DataSource>): void {
  for (const a of navLinks) a.classList.toggle('active', a.dataset.nav === nav)
  replace(sourceEl, sources.has('rpc') ? 'data via JSON-RPC (this node has no REST API for some of it)' : sources.has('rest') ? 'data via REST /v1' : '')
}

getChain({ signal: AbortSignal.timeout(20_000), noteSource: () => undefined })
  .then((c) => {
    chainEl.textContent = `${c.name} · chain id ${c.chainId}`
    if (c.engine === 'poh') navLinks.find((a) => a.dataset.nav === 'slots')?.removeAttribute('hidden')
    if (!headEl.textContent) headEl.textContent = `head #${c.head.height.toLocaleString('en-US')}`
  })
  .catch(() => { chainEl.textContent = 'node not reachable' })

// Relative times ("12 s ago") stay current without redrawing pages.
setInterval(() => {
  const now = Date.now()
  for (const el of document.querySelectorAll<HTMLElement>('time[data-ts]')) el.textContent = age(Number(el.dataset.ts), now)
}, 1000)

new Router(routes, notFoundPage, view, live, onNavigate).start()
