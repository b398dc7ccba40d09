/**
 * Proof-of-Work consensus math: compact targets and work, difficulty retargeting (Bitcoin and
 * ASERT) and block time rules.
 * @module
 */
export {
  MAX_UINT256,
  PowError,
  compactToTarget,
  decodeCompact,
  hashMeetsTarget,
  hashToBigInt,
  targetToCompact,
  workFromBits,
  workFromTarget,
} from './target.ts'
export type { DecodedCompact, PowErrorCode } from './target.ts'
export {
  asertNextBits,
  asertNextTarget,
  bitcoinNextBits,
  calculateNextWorkRequired,
  isRetargetHeight,
  nextBits,
  retargetFirstHeight,
} from './retarget.ts'
export type { AncestorInfo, BitcoinRetargetParams, RetargetContext, RetargetRule } from './retarget.ts'
export { MEDIAN_TIME_SPAN, MIN_MAX_FUTURE_SECONDS, checkBlockTime, maxFutureSeconds, medianTimePast } from './time-rules.ts'
