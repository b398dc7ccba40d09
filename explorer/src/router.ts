/**
 * Hash routing (#/block/12, #/tx/0x…): the node only has to serve one HTML page, and /v1,
 * /metrics, /health and /docs stay the node's. Each navigation gets a fresh PageContext whose
 * signal aborts (and whose disposers run) when the user moves on.
 */
import type { Ctx } from './api/data.ts'
import { ApiError } from './api/http.ts'
import type { DataSource } from './api/types.ts'
import type { LiveClient } from './api/ws.ts'
import { errorState, isAbort, loading } from './states.ts'

export interface PageContext extends Ctx {
  /** Where the page draws. */
  view: HTMLElement
  /** Captures of the route's pattern. */
  params: string[]
  query: URLSearchParams
  live: LiveClient
  /** Runs when the user leaves the page (unsubscribe, clear timers). */
  onDispose(fn: () => void): void
  setTitle(title: string): void
}

export type PageFn = (ctx: PageContext) => Promise<void> | void

export interface Route {
  pattern: RegExp
  page: PageFn
  /** The nav entry to highlight. */
  nav?: string
}

export function currentPath(): string {
  const raw = location.hash.replace(/^#/, '')
  return raw.startsWith('/') ? raw : `/${raw}`
}

export function navigate(path: string): void {
  if (currentPath() === path) window.dispatchEvent(new HashChangeEvent('hashchange'))
  else location.hash = path
}

export class Router {
  private current: { controller: AbortController; disposers: (() => void)[] } | undefined
  private seq = 0

  constructor(
    private readonly routes: Route[],
    private readonly notFoundPage: PageFn,
    private readonly view: HTMLElement,
    private readonly live: LiveClient,
    private readonly onNavigate: (nav: string | undefined, sources: Set<DataSource>) => void,
  ) {}

  start(): void {
    window.addEventListener('hashchange', () => void this.render())
    void this.render()
  }

  private async render(): Promise<void> {
    this.leave()
    const seq = ++this.seq
    const [pathPart, queryPart] = currentPath().split('?') as [string, string | undefined]
    let route: Route | undefined
    let params: string[] = []
    for (const r of this.routes) {
      const m = r.pattern.exec(pathPart)
      if (m) {
        route = r
        params = m.slice(1).map((p) => decodeURIComponent(p))
        break
      }
    }
    const controller = new AbortController()
    const disposers: (() => void)[] = []
    this.current = { controller, disposers }
    const sources = new Set<DataSource>()
    const view = this.view
    window.scrollTo({ top: 0 })
    view.replaceChildren(loading())
    view.removeAttribute('data-source')
    // data-seq / data-ready let tests (and scripts) wait for this navigation to settle.
    view.setAttribute('data-seq', String(seq))
    view.removeAttribute('data-ready')
    view.setAttribute('data-page', route ? route.pattern.source : 'not-found')
    view.setAttribute('aria-busy', 'true')
    this.onNavigate(route?.nav, sources)
    const ctx: PageContext = {
      view,
      params,
      query: new URLSearchParams(queryPart ?? ''),
      live: this.live,
      signal: controller.signal,
      noteSource: (s) => {
        if (controller.signal.aborted) return
        sources.add(s)
        view.setAttribute('data-source', sources.size > 1 ? 'mixed' : s)
        this.onNavigate(route?.nav, sources)
      },
      onDispose: (fn) => disposers.push(fn),
      setTitle: (t) => (document.title = `${t} · Catena explorer`),
    }
    try {
      await (route ?? { page: this.notFoundPage }).page(ctx)
    } catch (err) {
      if (isAbort(err) || seq !== this.seq) return
      // Not found and "no REST here" are states to show, not faults to report.
      if (!(err instanceof ApiError && (err.kind === 'not-found' || err.kind === 'unavailable'))) console.error(err)
      view.replaceChildren(errorState(err, () => void this.render()))
    } finally {
      if (seq === this.seq) {
        view.removeAttribute('aria-busy')
        view.setAttribute('data-ready', 'true')
      }
    }
  }

  private leave(): void {
    if (!this.current) return
    this.current.controller.abort()
    for (const fn of this.current.disposers) {
      try {
        fn()
      } catch (err) {
        console.error(err)
      }
    }
    this.current = undefined
  }
}
