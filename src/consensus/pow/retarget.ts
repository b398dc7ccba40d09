/**
 * Difficulty adjustment, chosen by the chain spec:
 *
 * - 'bitcoin': Bitcoin Core's CalculateNextWorkRequired. Every `interval` blocks the target
 *   is scaled by how long the last interval took, clamped to [1/4, 4] of the ideal, capped by
 *   powLimit; between retargets the bits stay the same.
 * - 'asert': Bitcoin Cash's aserti3-2d (spec 2020-11-15-asert.md, BCHN's CalculateASERT).
 *   The target is set absolutely from an anchor block: it doubles for every half-life the
 *   chain is behind schedule and halves for every half-life it is ahead.
 *
 * Everything is bigint integer math; nothing here depends on Catena's block types.
 * @module
 */
import { MAX_UINT256, PowError, compactToTarget, targetToCompact } from './target.ts'

// ---------------------------------------------------------------------------------------------
// Bitcoin

export interface BitcoinRetargetParams {
  /** Blocks between retargets (2016 on Bitcoin mainnet). */
  interval: bigint
  /** Ideal seconds between blocks (600 on Bitcoin). The ideal timespan is interval * targetSpacing. */
  targetSpacing: bigint
  /** The easiest allowed target. */
  powLimit: bigint
}

/** Whether the block at `height` starts a new difficulty period (Bitcoin: height % interval == 0). */
export function isRetargetHeight(height: bigint, interval: bigint): boolean {
  return height % interval === 0n
}

/**
 * Height of the block whose time opens the measured timespan when the block after `lastHeight`
 * retargets: `interval - 1` blocks back, not `interval`. This is Bitcoin's off-by-one (the
 * timespan covers interval - 1 block intervals); it is consensus, so it is kept.
 */
export function retargetFirstHeight(lastHeight: bigint, interval: bigint): bigint {
  return lastHeight - (interval - 1n)
}

/**
 * Bitcoin Core's CalculateNextWorkRequired: the bits after a period that ran from
 * `firstBlockTime` to `lastBlockTime` with target `lastBits`.
 * Differs only where Core's fixed 256-bit product would overflow (targets near 2^256): here
 * the product is exact and then capped by powLimit.
 */
export function calculateNextWorkRequired(
  params: BitcoinRetargetParams,
  lastBits: number,
  firstBlockTime: bigint,
  lastBlockTime: bigint,
): number {
  checkBitcoinParams(params)
  const timespan = params.interval * params.targetSpacing
  let actual = lastBlockTime - firstBlockTime
  if (actual < timespan / 4n) actual = timespan / 4n
  if (actual > timespan * 4n) actual = timespan * 4n
  let target = (compactToTarget(lastBits) * actual) / timespan
  if (target > params.powLimit) target = params.powLimit
  return targetToCompact(target)
}

/**
 * Bitcoin's rule for the block after the one at `lastHeight` (which has `lastBits` and
 * `lastBlockTime`): unchanged bits unless that next block starts a period, else
 * calculateNextWorkRequired with `firstBlockTime` = the time of the block at
 * retargetFirstHeight(lastHeight, interval). `firstBlockTime` is ignored between retargets.
 */
export function bitcoinNextBits(
  params: BitcoinRetargetParams,
  lastBits: number,
  firstBlockTime: bigint,
  lastBlockTime: bigint,
  lastHeight: bigint,
): number {
  checkBitcoinParams(params)
  checkHeight(lastHeight, 'lastHeight')
  if (!isRetargetHeight(lastHeight + 1n, params.interval)) return lastBits
  return calculateNextWorkRequired(params, lastBits, firstBlockTime, lastBlockTime)
}

function checkBitcoinParams(p: BitcoinRetargetParams): void {
  checkPositive(p.interval, 'interval')
  checkPositive(p.targetSpacing, 'targetSpacing')
  checkPowLimit(p.powLimit)
}

// ---------------------------------------------------------------------------------------------
// ASERT (aserti3-2d)

/** Fixed-point radix: 16 fractional bits. */
const RADIX_BITS = 16n
const RADIX = 1n << RADIX_BITS

/**
 * The aserti3-2d target, exactly per the BCH specification (and BCHN's CalculateASERT):
 *
 *   next = anchorTarget * 2^((timeDiff - idealSpacing * (heightDiff + 1)) / halfLife)
 *
 * with the exponent in 16.16 fixed point (truncating division), 2^frac from the spec's
 * cubic polynomial, the result rounded down and clamped to [1, powLimit].
 *
 * @param anchorTarget    target of the anchor block, in [1, powLimit]
 * @param timeDiffSeconds evaluation block time minus the anchor block's PARENT's time (may be negative)
 * @param heightDiff      evaluation block height minus anchor height, >= 0
 *                        (the evaluation block is the parent of the block being built)
 */
export function asertNextTarget(
  anchorTarget: bigint,
  timeDiffSeconds: bigint,
  heightDiff: bigint,
  idealSpacing: bigint,
  halfLifeSeconds: bigint,
  powLimit: bigint,
): bigint {
  checkPowLimit(powLimit)
  if (typeof anchorTarget !== 'bigint' || anchorTarget < 1n || anchorTarget > powLimit) {
    throw new PowError('BAD_TARGET', `anchor target must be in [1, powLimit], got ${String(anchorTarget)}`)
  }
  if (typeof timeDiffSeconds !== 'bigint') throw new PowError('BAD_PARAMS', 'timeDiffSeconds must be a bigint')
  checkHeight(heightDiff, 'heightDiff')
  checkPositive(idealSpacing, 'idealSpacing')
  checkPositive(halfLifeSeconds, 'halfLifeSeconds')

  // bigint `/` truncates toward zero, as the spec's trunc_div requires.
  const exponent = ((timeDiffSeconds - idealSpacing * (heightDiff + 1n)) * RADIX) / halfLifeSeconds
  // bigint `>>` is an arithmetic (flooring) shift, as the spec requires; frac is in [0, 65535].
  const shifts = exponent >> RADIX_BITS
  const frac = exponent - shifts * RADIX
  // 65536 * 2^(frac / 65536), from the spec's cubic approximation; 2^47 rounds the >> 48.
  const factor =
    ((195766423245049n * frac + 971821376n * frac ** 2n + 5127n * frac ** 3n + (1n << 47n)) >> 48n) + RADIX

  let next = anchorTarget * factor
  next = shifts < 0n ? next >> -shifts : next << shifts // unbounded width: no overflow to detect
  next >>= RADIX_BITS

  if (next === 0n) return 1n // hardest valid target
  if (next > powLimit) return powLimit
  return next
}

/** asertNextTarget as compact bits (the value a header carries). */
export function asertNextBits(
  anchorTarget: bigint,
  timeDiffSeconds: bigint,
  heightDiff: bigint,
  idealSpacing: bigint,
  halfLifeSeconds: bigint,
  powLimit: bigint,
): number {
  return targetToCompact(asertNextTarget(anchorTarget, timeDiffSeconds, heightDiff, idealSpacing, halfLifeSeconds, powLimit))
}

// ---------------------------------------------------------------------------------------------
// The chain-spec level rule

export type RetargetRule =
  | { kind: 'bitcoin'; interval: number }
  | { kind: 'asert'; halfLifeSeconds: number; anchorHeight: number }

/** What the rules need to know of a block. */
export interface AncestorInfo {
  time: bigint
  bits: number
}

export interface RetargetContext {
  /** The parent of the block whose bits are wanted. */
  parent: { height: bigint; time: bigint; bits: number }
  /**
   * The block at `height` on the parent's own branch (height <= parent.height). May throw when
   * it is unknown; nextBits only asks for heights it needs.
   */
  ancestor: (height: bigint) => AncestorInfo
  /** Ideal seconds between blocks. */
  targetSpacing: bigint
  /** The easiest allowed target. */
  powLimit: bigint
}

/**
 * The compact bits the child of `ctx.parent` must carry under `rule`.
 *
 * 'bitcoin': bitcoinNextBits, reading the period's first block time from ctx.ancestor.
 * 'asert': asertNextBits from the anchor block at rule.anchorHeight (its bits, and its
 *   parent's time). Blocks up to and including the anchor keep their parent's bits (the anchor
 *   is the last block before ASERT applies, as on BCH). When the anchor is genesis, which has
 *   no parent, the parent time is taken as genesis time - targetSpacing (one ideal block
 *   earlier), so a chain on schedule keeps the genesis target exactly; BCHN uses the genesis
 *   time itself there, which leaves the schedule one block behind forever.
 */
export function nextBits(rule: RetargetRule, ctx: RetargetContext): number {
  checkPositive(ctx.targetSpacing, 'targetSpacing')
  checkPowLimit(ctx.powLimit)
  const { parent } = ctx
  checkHeight(parent.height, 'parent.height')
  switch (rule.kind) {
    case 'bitcoin': {
      const interval = ruleInteger(rule.interval, 'interval', 1)
      const params: BitcoinRetargetParams = { interval, targetSpacing: ctx.targetSpacing, powLimit: ctx.powLimit }
      if (!isRetargetHeight(parent.height + 1n, interval)) return parent.bits
      const first = ctx.ancestor(retargetFirstHeight(parent.height, interval))
      return calculateNextWorkRequired(params, parent.bits, first.time, parent.time)
    }
    case 'asert': {
      const halfLife = ruleInteger(rule.halfLifeSeconds, 'halfLifeSeconds', 1)
      const anchorHeight = ruleInteger(rule.anchorHeight, 'anchorHeight', 0)
      if (parent.height < anchorHeight) return parent.bits
      const anchor = parent.height === anchorHeight ? parent : ctx.ancestor(anchorHeight)
      const anchorParentTime =
        anchorHeight === 0n ? anchor.time - ctx.targetSpacing : ctx.ancestor(anchorHeight - 1n).time
      return asertNextBits(
        compactToTarget(anchor.bits),
        parent.time - anchorParentTime,
        parent.height - anchorHeight,
        ctx.targetSpacing,
        halfLife,
        ctx.powLimit,
      )
    }
    default: {
      const kind: never = rule
      throw new PowError('BAD_PARAMS', `unknown retarget rule ${JSON.stringify((kind as { kind?: unknown }).kind)}`)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// argument checks

function checkPositive(v: bigint, name: string): void {
  if (typeof v !== 'bigint' || v < 1n) throw new PowError('BAD_PARAMS', `${name} must be a positive bigint, got ${String(v)}`)
}

function checkHeight(v: bigint, name: string): void {
  if (typeof v !== 'bigint' || v < 0n) throw new PowError('BAD_PARAMS', `${name} must be a non-negative bigint, got ${String(v)}`)
}

function checkPowLimit(powLimit: bigint): void {
  if (typeof powLimit !== 'bigint' || powLimit < 1n || powLimit > MAX_UINT256) {
    throw new PowError('BAD_PARAMS', `powLimit must be in [1, 2^256 - 1], got ${String(powLimit)}`)
  }
}

/** A rule field (a JSON number in the chain spec) as a bigint; throws unless an integer >= min. */
function ruleInteger(v: number, name: string, min: number): bigint {
  if (!Number.isSafeInteger(v) || v < min) {
    throw new PowError('BAD_PARAMS', `retarget rule ${name} must be an integer >= ${min}, got ${String(v)}`)
  }
  return BigInt(v)
}
