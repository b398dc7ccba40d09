/**
 * The batches of a block: txs in block order, each placed in the first batch after every
 * earlier tx it conflicts with (see access.ts for what conflicts). Txs of one batch touch
 * disjoint state, so running them at once in any order ends where running them in block order
 * does; batches run one after another. The plan is a pure function of the txs' declarations,
 * so a validator replaying a block gets the batches its leader had.
 * @module
 */
import type { TxAccess } from './access.ts'

/** Per lock item: the last batch that wrote it and the last that read it (-1: none). */
interface Marks {
  write: number
  read: number
}

const EVERYTHING = '*'

/** Batches of indices into `accesses`, in block order within each batch. */
export function scheduleBatches(accesses: readonly TxAccess[]): number[][] {
  const marks = new Map<string, Marks>()
  const mark = (key: string): Marks => {
    let m = marks.get(key)
    if (!m) marks.set(key, (m = { write: -1, read: -1 }))
    return m
  }
  const batches: number[][] = []
  accesses.forEach((access, index) => {
    const { writes, reads } = lockItems(access)
    let level = 0
    for (const key of writes) {
      const m = mark(key)
      level = Math.max(level, m.write + 1, m.read + 1)
    }
    for (const key of reads) level = Math.max(level, mark(key).write + 1)
    for (const key of writes) mark(key).write = Math.max(mark(key).write, level)
    for (const key of reads) mark(key).read = Math.max(mark(key).read, level)
    while (batches.length <= level) batches.push([])
    batches[level]!.push(index)
  })
  return batches
}

/**
 * The lock items of a tx: `h:A` an account's header, `s:A` its storage as a whole (written by
 * a header writer, read by every slot writer), `s:A:K` one slot, `*` the block (written by an
 * exclusive tx, read by every other).
 */
function lockItems(access: TxAccess): { writes: string[]; reads: string[] } {
  const writes: string[] = []
  const reads: string[] = []
  for (const a of access.writes) writes.push(`h:${a}`, `s:${a}`)
  for (const a of access.reads) reads.push(`h:${a}`)
  for (const [a, keys] of access.slots) {
    if (!access.writes.has(a)) reads.push(`s:${a}`)
    for (const k of keys) writes.push(`s:${a}:${k}`)
  }
  ;(access.exclusive ? writes : reads).push(EVERYTHING)
  return { writes, reads }
}
