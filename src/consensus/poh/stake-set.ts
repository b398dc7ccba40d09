/**
 * The stakes of one epoch, as the PoH chain's leader schedule, vote verification and fork
 * choice read them: the staking contract's snapshot (`decodeStakeSnapshot(...).validators`,
 * stakes in wei), checked and bounded. Zero stakes are dropped (they can neither lead nor
 * weigh a vote); at most `maxValidators` are kept, the top by stake with ties to the lower
 * address, the rule `votingPowers` applies for the PoS BFT chain, so both engines would take
 * the same validators from one snapshot.
 *
 * Entries are kept in Solana's leader-schedule order: stake descending, then address
 * descending (Solana sorts pubkeys that way before its weighted sampling).
 * @module
 */
import type { ValidatorStake } from '../../contracts/index.ts'
import { StakeSetError } from './voting-errors.ts'
import { ADDRESS_LENGTH, compareBytes, isBytes, toKey } from './vote-codec.ts'

/** Hard bound on a stake list, checked before anything else (the contract's list is chain data). */
export const MAX_VALIDATORS = 2048
/** Weighted sampling draws 64- or 128-bit integers: the total must fit in 128 bits. */
export const MAX_TOTAL_STAKE = (1n << 128n) - 1n

export interface StakeEntry {
  /** 20-byte address. */
  address: Uint8Array
  /** Wei. */
  stake: bigint
}

export interface StakeSetOptions {
  /** Keep only this many validators, the top by stake (the staking spec's maxValidators). */
  maxValidators?: number
}

export class StakeSet {
  private readonly byKey: Map<string, bigint>

  private constructor(
    /** Stake descending, then address descending. */
    readonly entries: readonly StakeEntry[],
    readonly total: bigint,
  ) {
    this.byKey = new Map(entries.map((e) => [toKey(e.address), e.stake]))
  }

  /** Checks and copies a stake list; StakeSetError on anything a snapshot must not hold. */
  static from(stakes: readonly (StakeEntry | ValidatorStake)[], opts: StakeSetOptions = {}): StakeSet {
    if (!Array.isArray(stakes)) throw new StakeSetError('MALFORMED', 'stakes must be a list of { address, stake }')
    if (stakes.length > MAX_VALIDATORS) {
      throw new StakeSetError('TOO_MANY_VALIDATORS', `${stakes.length} stake entries: at most ${MAX_VALIDATORS} are accepted`)
    }
    const limit = opts.maxValidators ?? MAX_VALIDATORS
    if (!Number.isSafeInteger(limit) || limit < 1) throw new StakeSetError('MALFORMED', `maxValidators must be a positive integer (got ${String(limit)})`)
    const seen = new Set<string>()
    const positive: StakeEntry[] = []
    stakes.forEach((e, i) => {
      if (!e || typeof e !== 'object' || !isBytes(e.address, ADDRESS_LENGTH)) {
        throw new StakeSetError('MALFORMED', `stake entry ${i}: address must be ${ADDRESS_LENGTH} bytes`)
      }
      if (typeof e.stake !== 'bigint' || e.stake < 0n) throw new StakeSetError('MALFORMED', `stake entry ${i}: stake must be a non-negative bigint`)
      const key = toKey(e.address)
      if (seen.has(key)) throw new StakeSetError('DUPLICATE_ADDRESS', `stake entry ${i}: 0x${key} appears twice`)
      seen.add(key)
      if (e.stake > 0n) positive.push({ address: Uint8Array.from(e.address), stake: e.stake })
    })
    if (positive.length === 0) throw new StakeSetError('EMPTY', 'no validator holds stake: nobody can lead or vote')
    // votingPowers' selection: stake descending, ties to the lower address.
    positive.sort((a, b) => (a.stake !== b.stake ? (a.stake > b.stake ? -1 : 1) : compareBytes(a.address, b.address)))
    const kept = positive.slice(0, limit)
    let total = 0n
    for (const e of kept) total += e.stake
    if (total > MAX_TOTAL_STAKE) throw new StakeSetError('STAKE_TOO_LARGE', `total stake ${total} does not fit in 128 bits`)
    kept.sort(solanaOrder)
    return new StakeSet(kept, total)
  }

  get size(): number {
    return this.entries.length
  }

  /** The stake of `address`; 0 when it holds none in this set. */
  stakeOf(address: Uint8Array): bigint {
    return isBytes(address, ADDRESS_LENGTH) ? (this.byKey.get(toKey(address)) ?? 0n) : 0n
  }

  has(address: Uint8Array): boolean {
    return this.stakeOf(address) > 0n
  }

  /** More than 2/3 of the total (exactly 2/3 is not enough). */
  isSupermajority(stake: bigint): boolean {
    return stake * 3n > this.total * 2n
  }
}

/** Solana's sort before weighted sampling: stake descending, then pubkey descending. */
function solanaOrder(a: StakeEntry, b: StakeEntry): number {
  if (a.stake !== b.stake) return a.stake > b.stake ? -1 : 1
  return compareBytes(b.address, a.address)
}
