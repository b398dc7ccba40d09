/** Small routes: unknown paths, and #/search/<query> (a shareable search). */
import type { PageContext } from '../router.ts'
import { resolveSearch, SearchNotFound } from '../search.ts'
import { notFound } from '../states.ts'

export function notFoundPage(ctx: PageContext): void {
  ctx.setTitle('Not found')
  ctx.view.replaceChildren(notFound(`There is no page at ${location.hash || '/'}.`))
}

export async function searchPage(ctx: PageContext): Promise<void> {
  const q = ctx.params[0]!
  ctx.setTitle(`Search ${q}`)
  try {
    location.replace(`#${await resolveSearch(q, ctx)}`)
  } catch (err) {
    if (!(err instanceof SearchNotFound)) throw err
    ctx.view.replaceChildren(notFound(err.message))
  }
}
