/**
 * Calibration of the PoH clock for this machine: runs the real generator (its thread, its loop)
 * for a few seconds, measures its hashes per second, and derives the hashesPerTick that makes a
 * slot of ticksPerSlot ticks last about slotMs. Behind `catena poh calibrate`.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { PohError } from './errors.ts'
import { PohGenerator } from './generator.ts'
import { MAX_HASHES_PER_TICK } from './slot.ts'

export interface CalibrateOptions {
  /** Length of the measured window, seconds (default 3). */
  seconds?: number
  /** Hashing before the window starts, ms (default 500). */
  warmupMs?: number
  /** Called about every 250 ms of the window with the seconds so far and the rate so far. */
  onProgress?: (elapsedSeconds: number, hashesPerSec: number) => void
}

export interface PohRate {
  hashes: number
  seconds: number
  hashesPerSec: number
}

const POLL_MS = 250
// Ticks are irrelevant to the rate: a large tick keeps messages from the thread rare.
const MEASURE_TICK = 1 << 20

/** The PoH generator's single-thread hash rate on this machine. */
export async function measurePohRate(opts: CalibrateOptions = {}): Promise<PohRate> {
  const seconds = opts.seconds ?? 3
  const warmupMs = opts.warmupMs ?? 500
  if (!(seconds > 0 && seconds <= 600)) throw new PohError('BAD_ARGUMENT', `seconds must be above 0 and at most 600, got ${String(opts.seconds)}`)
  if (!(warmupMs >= 0 && warmupMs <= 60_000)) throw new PohError('BAD_ARGUMENT', `warmupMs must be from 0 to 60000, got ${String(opts.warmupMs)}`)
  const gen = new PohGenerator({ startHash: new Uint8Array(randomBytes(32)), hashesPerTick: MEASURE_TICK, ticksPerSlot: 64 })
  try {
    await gen.ready()
    await sleep(warmupMs)
    const h0 = gen.stats().hashes
    const t0 = performance.now()
    const end = t0 + seconds * 1000
    for (let now = t0; now < end; now = performance.now()) {
      await sleep(Math.min(POLL_MS, end - now))
      const secs = (performance.now() - t0) / 1000
      opts.onProgress?.(secs, (gen.stats().hashes - h0) / secs)
    }
    const hashes = gen.stats().hashes - h0
    const elapsed = (performance.now() - t0) / 1000
    return { hashes, seconds: elapsed, hashesPerSec: hashes / elapsed }
  } finally {
    await gen.close()
  }
}

/** hashesPerTick for slots of `ticksPerSlot` ticks lasting about `slotMs` at `hashesPerSec`. */
export function hashesPerTickFor(hashesPerSec: number, ticksPerSlot: number, slotMs: number): number {
  if (!(hashesPerSec > 0) || !Number.isFinite(hashesPerSec)) throw new PohError('BAD_ARGUMENT', `hashesPerSec must be positive, got ${hashesPerSec}`)
  if (!Number.isInteger(ticksPerSlot) || ticksPerSlot < 1) throw new PohError('BAD_ARGUMENT', `ticksPerSlot must be a whole number >= 1, got ${ticksPerSlot}`)
  if (!(slotMs > 0) || !Number.isFinite(slotMs)) throw new PohError('BAD_ARGUMENT', `slotMs must be positive, got ${slotMs}`)
  const perTick = Math.round((hashesPerSec * slotMs) / 1000 / ticksPerSlot)
  return Math.min(MAX_HASHES_PER_TICK, Math.max(2, perTick))
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
