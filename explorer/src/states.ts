/** The graceful states every page and section shares: loading, not found, API error. */
import { ApiError } from './api/http.ts'
import { h, link } from './dom.ts'

export function loading(what = 'Loading…'): HTMLElement {
  return h('div', { class: 'state loading', role: 'status', 'data-state': 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), what)
}

export function notFound(message: string): HTMLElement {
  return h('div', { class: 'state not-found', 'data-state': 'not-found' },
    h('h2', null, 'Not found'),
    h('p', null, message),
    h('p', null, link('/', 'Back to the latest blocks')),
  )
}

export const isAbort = (err: unknown): boolean => err instanceof DOMException && err.name === 'AbortError'

/** A state for any failure; `retry` adds a button that tries again. */
export function errorState(err: unknown, retry?: () => void): HTMLElement {
  if (err instanceof ApiError && err.kind === 'not-found') return notFound(err.message)
  let title = 'The node answered with an error'
  let message = err instanceof Error ? err.message : String(err)
  if (err instanceof ApiError) {
    if (err.kind === 'unavailable') {
      title = 'Not available on this node'
      message = `${err.message}. This part of the explorer needs the node's REST API (/v1).`
    } else if (err.kind === 'network') title = 'Cannot reach the node'
    else if (err.kind === 'rate-limited') title = 'Too many requests'
    else if (err.kind === 'bad-request') title = 'Bad request'
  }
  return h('div', { class: 'state error', role: 'alert', 'data-state': 'error' },
    h('h2', null, title),
    h('p', null, message),
    retry ? h('button', { type: 'button', class: 'button', onclick: () => retry() }, 'Try again') : null,
  )
}
