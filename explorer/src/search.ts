/**
 * The search box: decides by shape what was typed (block height, address, 32-byte hash) and
 * where to go. A 32-byte hash can be a block or a transaction: blocks are tried first.
 */
import { ApiError } from './api/http.ts'
import { getBlock, getTx, type Ctx } from './api/data.ts'
import { classify } from './query.ts'

export { classify, type Query } from './query.ts'

export class SearchNotFound extends Error {
  override readonly name = 'SearchNotFound'
}

/** The route to open for `input`; throws SearchNotFound, or ApiError when the node fails. */
export async function resolveSearch(input: string, ctx: Ctx): Promise<string> {
  const q = classify(input)
  switch (q.kind) {
    case 'invalid':
      throw new SearchNotFound(q.reason)
    case 'height':
      return `/block/${q.value}`
    case 'address':
      return `/address/${q.value}`
    case 'hash': {
      if (await exists(() => getBlock(ctx, q.value))) return `/block/${q.value}`
      if (await exists(() => getTx(ctx, q.value))) return `/tx/${q.value}`
      throw new SearchNotFound(`No block or transaction has the hash ${q.value}.`)
    }
  }
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read()
    return true
  } catch (err) {
    if (err instanceof ApiError && err.kind === 'not-found') return false
    throw err
  }
}
