/**
 * Tower BFT votes: what a PoH validator's vote says and the rules its tower must obey.
 *
 * A vote names a slot and the hash of the block the voter replayed at that slot, and carries
 * the voter's whole tower after the vote (Solana's TowerSync): its lockouts, bottom first,
 * and its root. So any node can check a vote on its own (no history of earlier votes is
 * needed), a vote for a slot also vouches for every slot in the tower below it, and a
 * validator that lost its tower file can see what it last committed to.
 *
 * Lockouts (Solana's vote program): a vote with `confirmationCount` c locks its voter out of
 * every fork that does not contain its slot until slot + 2^c; a vote is "expired" at slot s
 * when slot + 2^c < s. Pushing a vote pops the expired votes from the top of the stack, then
 * every vote that has more votes above it than its confirmation count gains a confirmation
 * (its lockout doubles). When the stack already holds MAX_LOCKOUT_HISTORY (32) votes, its
 * bottom vote (then at 32 confirmations, a 2^32-slot lockout) becomes the root.
 * @module
 */
import { VoteError } from './voting-errors.ts'
import { ADDRESS_LENGTH, HASH_LENGTH, SIGNATURE_LENGTH, isBytes, isSlot } from './vote-codec.ts'

/** Votes in a tower before the bottom one roots (Solana's MAX_LOCKOUT_HISTORY). */
export const MAX_LOCKOUT_HISTORY = 32
/** Lockout of a vote with one confirmation, in slots; doubles per confirmation. */
export const INITIAL_LOCKOUT = 2
/** Timestamps are unix seconds; bound them so they fit a u64 and a JS Date. */
export const MAX_TIMESTAMP = 1n << 40n

export interface Lockout {
  slot: bigint
  /** 1..MAX_LOCKOUT_HISTORY */
  confirmationCount: number
}

/** Lockout length of a vote, in slots: 2^confirmationCount. */
export function lockoutLength(confirmationCount: number): bigint {
  return 1n << BigInt(confirmationCount)
}

/** The last slot at which the vote still locks its voter out of other forks. */
export function lastLockedOutSlot(l: Lockout): bigint {
  return l.slot + lockoutLength(l.confirmationCount)
}

/** Solana's is_locked_out_at_slot: the vote still binds at `slot`. */
export function isLockedOutAt(l: Lockout, slot: bigint): boolean {
  return lastLockedOutSlot(l) >= slot
}

export interface PohVote {
  /** 20-byte address of the voting validator. */
  voter: Uint8Array
  /** The voted slot: the top of `lockouts`. */
  slot: bigint
  /** 32-byte hash of the block the voter replayed at `slot`. */
  hash: Uint8Array
  /** The voter's tower after this vote, bottom first; the top is `slot` with one confirmation. */
  lockouts: Lockout[]
  /** The voter's root after this vote, or null if nothing is rooted yet. */
  root: bigint | null
  /** Unix seconds of the voter's clock when it voted (Solana's vote timestamp). */
  timestamp: bigint
}

export interface SignedPohVote extends PohVote {
  /** 65 bytes: r || s || recovery id, low s. */
  signature: Uint8Array
}

/**
 * Solana's checks of a proposed tower (vote program, process_new_vote_state), plus the top
 * rule that follows from them (the last vote has exactly one confirmation):
 * 1..32 lockouts, confirmations in [1, 32], slots strictly increasing and above the root,
 * confirmations strictly decreasing, and each vote still locked out at the slot of the vote
 * above it (a tower cannot hold a vote that had expired when the next was pushed).
 */
export function checkTower(lockouts: readonly Lockout[], root: bigint | null, fail: (why: string) => never): void {
  if (!Array.isArray(lockouts) || lockouts.length === 0 || lockouts.length > MAX_LOCKOUT_HISTORY) {
    fail(`a tower holds 1..${MAX_LOCKOUT_HISTORY} lockouts`)
  }
  if (root !== null && !isSlot(root)) fail('the root must be a slot or null')
  let previous: Lockout | undefined
  for (const l of lockouts) {
    if (!l || typeof l !== 'object' || !isSlot(l.slot)) fail('lockout slots must be bigints in [0, 2^63-1]')
    const c = l.confirmationCount
    if (!Number.isInteger(c) || c < 1 || c > MAX_LOCKOUT_HISTORY) fail(`confirmation counts must be in [1, ${MAX_LOCKOUT_HISTORY}] (got ${String(c)})`)
    if (root !== null && l.slot <= root) fail(`lockout slot ${l.slot} is not above the root ${root}`)
    if (previous) {
      if (previous.slot >= l.slot) fail('lockout slots must increase strictly from bottom to top')
      if (previous.confirmationCount <= c) fail('confirmation counts must decrease strictly from bottom to top')
      if (l.slot > lastLockedOutSlot(previous)) fail(`the vote at slot ${previous.slot} had expired before the vote at slot ${l.slot} was pushed`)
    }
    previous = l
  }
  if (previous!.confirmationCount !== 1) fail('the top vote of a tower has exactly one confirmation')
}

/** Field and tower checks of a vote (signature not checked here); VoteError otherwise. */
export function checkVoteShape(v: PohVote): void {
  const malformed = (why: string): never => {
    throw new VoteError('MALFORMED', `vote ${why}`)
  }
  if (!v || typeof v !== 'object') malformed('must be an object')
  if (!isBytes(v.voter, ADDRESS_LENGTH)) malformed(`voter must be ${ADDRESS_LENGTH} bytes`)
  if (!isSlot(v.slot)) malformed('slot must be a bigint in [0, 2^63-1]')
  if (!isBytes(v.hash, HASH_LENGTH)) malformed(`hash must be ${HASH_LENGTH} bytes`)
  if (typeof v.timestamp !== 'bigint' || v.timestamp < 0n || v.timestamp > MAX_TIMESTAMP) malformed('timestamp must be unix seconds in [0, 2^40]')
  if (v.root !== null && !isSlot(v.root)) malformed('root must be a slot or null')
  const sig = (v as Partial<SignedPohVote>).signature
  if (sig !== undefined && !isBytes(sig, SIGNATURE_LENGTH)) malformed(`signature must be ${SIGNATURE_LENGTH} bytes`)
  checkTower(v.lockouts, v.root, (why) => {
    throw new VoteError('BAD_TOWER', `vote tower: ${why}`)
  })
  if (v.lockouts[v.lockouts.length - 1].slot !== v.slot) throw new VoteError('BAD_TOWER', `vote tower: the top lockout must be the voted slot ${v.slot}`)
}

export function copyLockouts(lockouts: readonly Lockout[]): Lockout[] {
  return lockouts.map((l) => ({ slot: l.slot, confirmationCount: l.confirmationCount }))
}
