/**
 * A slot's PoH computed in one go on the calling thread, without the generator: `slots` slots
 * of ticks from `start`, the txs mixed in during the last slot's first tick. For tools and
 * attack labs (a leader forking on purpose must hash from another parent's end than its clock
 * runs from); production leaders use the generator thread.
 * @module
 */
import { tick, txEntry, type PohEntry } from '../poh/index.ts'

export function entriesFrom(start: Uint8Array, slots: number, clock: { hashesPerTick: number; ticksPerSlot: number }, txHashes: Uint8Array[], txsPerEntry = 64): PohEntry[] {
  const out: PohEntry[] = []
  let h = start
  const total = slots * clock.ticksPerSlot
  for (let n = 0; n < total; n++) {
    let used = 0
    if (n === total - clock.ticksPerSlot) {
      for (let j = 0; j < txHashes.length && used < clock.hashesPerTick - 1; j += txsPerEntry) {
        const e = txEntry(h, 1, txHashes.slice(j, j + txsPerEntry))
        out.push(e)
        h = e.hash
        used++
      }
    }
    const e = tick(h, clock.hashesPerTick - used)
    out.push(e)
    h = e.hash
  }
  return out
}
