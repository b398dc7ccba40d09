/**
 * Block timestamp rules of a PoW chain, as Bitcoin's: a block's time must be after the
 * median time past (MTP) of its parent, and not too far ahead of the validating node's clock.
 * Times are whole seconds since the epoch, as bigint.
 * @module
 */
import { PowError } from './target.ts'

/** How many recent blocks the median time past looks at (Bitcoin's nMedianTimeSpan). */
export const MEDIAN_TIME_SPAN = 11

/** Bitcoin's MAX_FUTURE_BLOCK_TIME (2 hours) and the block spacing it was set for. */
const BITCOIN_MAX_FUTURE = 7200n
const BITCOIN_SPACING = 600n
/** Floor for fast chains, so ordinary clock skew between honest nodes is still tolerated. */
export const MIN_MAX_FUTURE_SECONDS = 15n

/**
 * Bitcoin's GetMedianTimePast: of the last (up to) 11 block times, sorted, the middle one;
 * with an even count, the upper of the two middles (index n / 2), as Core does near genesis.
 * @param times block times in chain order, oldest first, ending with the parent's; only the
 *              last 11 are used.
 */
export function medianTimePast(times: readonly bigint[]): bigint {
  if (times.length === 0) throw new PowError('BAD_PARAMS', 'median time past needs at least one block time')
  const window = times.slice(-MEDIAN_TIME_SPAN)
  for (const t of window) {
    if (typeof t !== 'bigint') throw new PowError('BAD_PARAMS', `block times must be bigint, got ${typeof t}`)
  }
  window.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return window[Math.floor(window.length / 2)]!
}

/**
 * How far ahead of its own clock a node accepts a block time. Bitcoin allows 2 hours with 600 s
 * blocks, i.e. 12 block intervals; Catena keeps that ratio for its block time
 * (7200 * spacing / 600 = 12 * spacing seconds), so a miner gains the same number of blocks'
 * worth of time warp on any chain, but never less than 15 s, so honest clock skew on a fast
 * chain does not split it. E.g. 600 s -> 7200 s, 60 s -> 720 s, 1 s -> 15 s.
 * @param targetSpacingSeconds the chain's block time in whole seconds (>= 1)
 */
export function maxFutureSeconds(targetSpacingSeconds: number): bigint {
  if (!Number.isSafeInteger(targetSpacingSeconds) || targetSpacingSeconds < 1) {
    throw new PowError('BAD_PARAMS', `target spacing must be a whole number of seconds >= 1, got ${String(targetSpacingSeconds)}`)
  }
  const scaled = (BITCOIN_MAX_FUTURE * BigInt(targetSpacingSeconds)) / BITCOIN_SPACING
  return scaled > MIN_MAX_FUTURE_SECONDS ? scaled : MIN_MAX_FUTURE_SECONDS
}

/**
 * Throws PowError TIME_TOO_OLD unless time > mtp (the parent's median time past), and
 * TIME_TOO_NEW unless time <= now + maxFuture (Bitcoin's "time-too-old" / "time-too-new").
 * A block that is too new may become valid later; one that is too old never will.
 */
export function checkBlockTime(time: bigint, mtp: bigint, now: bigint, maxFuture: bigint): void {
  if (time <= mtp) {
    throw new PowError(
      'TIME_TOO_OLD',
      `block time ${time} is not after the median time past ${mtp} of the last ${MEDIAN_TIME_SPAN} blocks`,
    )
  }
  if (time > now + maxFuture) {
    throw new PowError(
      'TIME_TOO_NEW',
      `block time ${time} is ${time - now} s ahead of this node's clock (${now}); at most ${maxFuture} s is allowed`,
    )
  }
}
