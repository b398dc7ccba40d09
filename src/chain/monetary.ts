/**
 * Monetary policy: the block subsidy with Bitcoin's halving rule (an integer right shift,
 * as in Bitcoin Core's GetBlockSubsidy), clipped so genesis allocations plus every block
 * reward never exceed the spec's supply cap. Burned fees do not refill the cap: it bounds
 * what is ever issued, not what circulates.
 */
import { ChainArgumentError, toHeight as checkHeight } from './spec/types.ts'
import type { GenesisAlloc, Height, MonetaryPolicy } from './spec/types.ts'

/** Bitcoin Core zeroes the subsidy once the shift count would be undefined in C++. */
const MAX_HALVINGS = 64n

type Schedule = Pick<MonetaryPolicy, 'initialBlockReward' | 'halvingInterval'>

/** The scheduled subsidy of the block at `height`, before the supply cap; genesis pays 0. */
export function subsidyAt(height: Height, monetary: Schedule): bigint {
  const h = checkHeight(height)
  if (h === 0n) return 0n
  const interval = halvingInterval(monetary)
  const halvings = interval === 0n ? 0n : h / interval
  return halvings >= MAX_HALVINGS ? 0n : monetary.initialBlockReward >> halvings
}

/**
 * What the block at `height` may mint, given `issuedBefore` = genesis allocations plus the
 * rewards of every block below it: the subsidy, clipped at the cap, never negative.
 */
export function blockReward(height: Height, issuedBefore: bigint, monetary: MonetaryPolicy): bigint {
  if (issuedBefore < 0n) throw new ChainArgumentError(`issuedBefore must not be negative (got ${issuedBefore})`)
  const room = monetary.supplyCap - issuedBefore
  if (room <= 0n) return 0n
  const subsidy = subsidyAt(height, monetary)
  return subsidy < room ? subsidy : room
}

/** Wei created at genesis (the sum of allocated balances). */
export function genesisSupply(alloc: GenesisAlloc): bigint {
  let total = 0n
  for (const account of alloc.values()) total += account.balance
  return total
}

/**
 * Total issued after the block at `toHeight` (genesis allocations included), or after the
 * last block that mints anything when `toHeight` is omitted. Closed form per halving period,
 * so it is cheap for any height.
 */
export function scheduledIssuance(monetary: MonetaryPolicy, genesisAlloc: GenesisAlloc | bigint, toHeight?: Height): bigint {
  const genesis = typeof genesisAlloc === 'bigint' ? genesisAlloc : genesisSupply(genesisAlloc)
  if (genesis < 0n) throw new ChainArgumentError(`genesis supply must not be negative (got ${genesis})`)
  const last = toHeight === undefined ? undefined : checkHeight(toHeight, 'toHeight')
  const room = monetary.supplyCap - genesis
  if (room <= 0n || monetary.initialBlockReward === 0n) return genesis
  const unclipped = rewardsThrough(monetary, last, room)
  return genesis + (unclipped < room ? unclipped : room)
}

/**
 * Sum of unclipped subsidies of blocks 1..last (undefined = forever), stopping early once
 * it reaches `enough` (the cap's room), since the cap clips everything after that.
 */
function rewardsThrough(monetary: Schedule, last: bigint | undefined, enough: bigint): bigint {
  const reward = monetary.initialBlockReward
  const interval = halvingInterval(monetary)
  if (interval === 0n) return last === undefined ? enough : reward * last
  let total = 0n
  for (let era = 0n; era < MAX_HALVINGS; era++) {
    const subsidy = reward >> era
    if (subsidy === 0n) break
    const first = era === 0n ? 1n : era * interval
    if (last !== undefined && first > last) break
    let end = (era + 1n) * interval - 1n
    if (last !== undefined && last < end) end = last
    if (end >= first) total += (end - first + 1n) * subsidy // era 0 may hold only genesis
    if (total >= enough) break
  }
  return total
}

function halvingInterval(monetary: Schedule): bigint {
  const interval = monetary.halvingInterval
  if (!Number.isSafeInteger(interval) || interval < 0) {
    throw new ChainArgumentError(`halvingInterval must be a non-negative integer (got ${interval})`)
  }
  return BigInt(interval)
}
