/**
 * A validator's own Tower BFT state: the stack of its votes with their lockouts and its root
 * (votes.ts has the rules). Pure and serializable; the engine persists it.
 *
 * The stack follows Solana's vote program exactly (process_next_vote_slot): pop the votes
 * that expired at the new slot from the top only, root the bottom vote if the stack is full,
 * push the new vote, then add a confirmation to every vote with more votes above it than it
 * has confirmations. (Solana's Tower BFT page shows a variant that pops every vote above any
 * expired one; the implementation, followed here, only pops from the top. It is the stricter
 * of the two: a vote still locked out is never released because a vote below it expired.)
 *
 * May this validator vote for `slot`? (Solana's Tower::is_locked_out plus is_recent)
 * - `slot` must be above its last vote (and its root);
 * - after popping the votes that expired at `slot`, every vote left in the stack, and the
 *   root, must be an ancestor of `slot`. Switching forks thus waits for the lockouts of the
 *   votes on the old fork to expire, 2^c slots for a vote with c confirmations: the deeper a
 *   vote, the longer.
 * The caller gives the ancestors of the block it wants to vote for, as a set of slots or a
 * predicate. Every tower slot that is an ancestor must answer true; a slot the caller cannot
 * place (e.g. below its pruned history) must answer false, which refuses the vote until that
 * lockout expires (the safe side).
 *
 * Durability (what the engine must write before it signs): `recordVote` first, then
 * `encode()` written atomically and durably (temp file, fsync, rename, fsync the directory, as
 * the BFT WAL's replace does), and only then sign and send the vote. The encoding holds the
 * lockouts, the root and the last vote (slot, hash, timestamp): after a crash the restored
 * tower refuses any slot at or below the last vote and any fork its lockouts forbid, and the
 * last vote itself can be re-signed (RFC 6979: the identical signature) and re-sent. Writing
 * after signing could lose a vote that peers saw, and a restarted validator could then vote
 * against its lockout. A crash between the write and the signature costs at most that vote.
 * A validator whose tower file is lost should not vote (Solana's --require-tower) until it
 * has rebuilt its tower from its own latest vote seen on chain (`Tower.fromVote`) and is
 * sure no later vote of its exists.
 *
 * Persisted form: payload || sha256(payload), payload = RLP([tag, validator, root ([] or
 * [slot]), [[slot, confirmations]...], lastVote ([] or [slot, hash, timestamp])]).
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { sha256 } from '../../crypto/hash.ts'
import { TowerError } from './voting-errors.ts'
import {
  ADDRESS_LENGTH,
  HASH_LENGTH,
  bytesField,
  equalBytes,
  isBytes,
  isSlot,
  listOf,
  rlpDecode,
  toKey,
  uintBytes,
  uintField,
} from './vote-codec.ts'
import { MAX_LOCKOUT_HISTORY, MAX_TIMESTAMP, checkTower, copyLockouts, isLockedOutAt, type Lockout, type PohVote } from './votes.ts'

const TOWER_TAG = new TextEncoder().encode('catena/poh/tower/v1')
const CHECKSUM_LENGTH = 32
/** A full tower encodes to about 500 bytes. */
export const MAX_TOWER_BYTES = 2048
/** Solana's VOTE_THRESHOLD_DEPTH: the vote this deep must be confirmed by the cluster before voting deeper. */
export const VOTE_THRESHOLD_DEPTH = 8

/** The ancestors of the block being voted for: a set of slots or a membership test. */
export type AncestorCheck = ReadonlySet<bigint> | ((slot: bigint) => boolean)

export interface LastVote {
  slot: bigint
  hash: Uint8Array
  timestamp: bigint
}

export interface TowerState {
  /** 20-byte address of the validator this tower belongs to. */
  validator: Uint8Array
  /** Bottom first. */
  votes: Lockout[]
  root: bigint | null
  lastVote: LastVote | null
}

export type VoteRefusal = { ok: false; code: 'NOT_AFTER_LAST_VOTE' | 'LOCKED_OUT'; reason: string; lockedBy?: Lockout | { root: bigint } }
export type VoteAllowed = { ok: true }

function isAncestor(ancestors: AncestorCheck, slot: bigint): boolean {
  return typeof ancestors === 'function' ? ancestors(slot) === true : ancestors.has(slot)
}

/** The stack after pushing `slot`, and the vote it roots: Solana's process_next_vote_slot. */
export function pushVote(votes: readonly Lockout[], root: bigint | null, slot: bigint): { votes: Lockout[]; root: bigint | null; newRoot: bigint | null } {
  const next = copyLockouts(votes)
  while (next.length > 0 && !isLockedOutAt(next[next.length - 1], slot)) next.pop()
  let newRoot: bigint | null = null
  if (next.length === MAX_LOCKOUT_HISTORY) newRoot = next.shift()!.slot
  next.push({ slot, confirmationCount: 1 })
  const depth = next.length
  for (let i = 0; i < depth; i++) {
    if (depth > i + next[i].confirmationCount) next[i].confirmationCount += 1
  }
  return { votes: next, root: newRoot ?? root, newRoot }
}

export class Tower {
  private state: TowerState

  private constructor(state: TowerState) {
    this.state = state
  }

  /** An empty tower; `root` is the slot the validator starts from (e.g. genesis, 0). */
  static create(validator: Uint8Array, root: bigint | null = null): Tower {
    return Tower.fromState({ validator, votes: [], root, lastVote: null })
  }

  /** A tower from a state (restored, or built in tests); checked against the tower rules. */
  static fromState(s: TowerState): Tower {
    const malformed = (why: string): never => {
      throw new TowerError('MALFORMED', `tower ${why}`)
    }
    if (!s || typeof s !== 'object' || !isBytes(s.validator, ADDRESS_LENGTH)) malformed(`validator must be ${ADDRESS_LENGTH} bytes`)
    if (s.root !== null && !isSlot(s.root)) malformed('root must be a slot or null')
    if (!Array.isArray(s.votes)) malformed('votes must be a list')
    if (s.votes.length > 0) checkTower(s.votes, s.root, malformed)
    const last = s.lastVote
    if (last !== null) {
      if (!last || !isSlot(last.slot) || !isBytes(last.hash, HASH_LENGTH)) malformed('last vote must be { slot, 32-byte hash, timestamp }')
      if (typeof last.timestamp !== 'bigint' || last.timestamp < 0n || last.timestamp > MAX_TIMESTAMP) malformed('last vote timestamp must be unix seconds in [0, 2^40]')
      // Only a later vote pops a vote, and it then is the last vote: the last vote is the top.
      const top = s.votes[s.votes.length - 1]?.slot
      if (top !== last.slot) malformed(`last vote ${last.slot} is not the top of the tower (${String(top)})`)
    }
    return new Tower({
      validator: Uint8Array.from(s.validator),
      votes: copyLockouts(s.votes),
      root: s.root,
      lastVote: last && { slot: last.slot, hash: Uint8Array.from(last.hash), timestamp: last.timestamp },
    })
  }

  /** The tower a vote carries (its voter's, right after that vote). */
  static fromVote(v: PohVote): Tower {
    return Tower.fromState({ validator: v.voter, votes: v.lockouts, root: v.root, lastVote: { slot: v.slot, hash: v.hash, timestamp: v.timestamp } })
  }

  get validator(): Uint8Array {
    return Uint8Array.from(this.state.validator)
  }

  get root(): bigint | null {
    return this.state.root
  }

  /** The vote stack, bottom first (copies). */
  get lockouts(): Lockout[] {
    return copyLockouts(this.state.votes)
  }

  get lastVote(): LastVote | null {
    const l = this.state.lastVote
    return l && { slot: l.slot, hash: Uint8Array.from(l.hash), timestamp: l.timestamp }
  }

  get lastVotedSlot(): bigint | null {
    return this.state.lastVote?.slot ?? this.state.votes[this.state.votes.length - 1]?.slot ?? null
  }

  /** May this validator vote for `slot`, whose ancestors are `ancestors`? Never throws. */
  canVote(slot: bigint, ancestors: AncestorCheck): VoteAllowed | VoteRefusal {
    if (!isSlot(slot)) return { ok: false, code: 'NOT_AFTER_LAST_VOTE', reason: `slot ${String(slot)} is not a slot` }
    const floor = this.lastVotedSlot ?? this.state.root
    if (floor !== null && slot <= floor) {
      return { ok: false, code: 'NOT_AFTER_LAST_VOTE', reason: `slot ${slot} is not after the last vote or root (${floor})` }
    }
    const { votes } = pushVote(this.state.votes, this.state.root, slot)
    for (const l of votes) {
      if (l.slot !== slot && !isAncestor(ancestors, l.slot)) {
        return { ok: false, code: 'LOCKED_OUT', reason: `the vote for slot ${l.slot} locks this validator out of forks without it until slot ${l.slot + (1n << BigInt(l.confirmationCount))}`, lockedBy: l }
      }
    }
    const root = this.state.root
    if (root !== null && !isAncestor(ancestors, root)) {
      return { ok: false, code: 'LOCKED_OUT', reason: `slot ${slot} does not descend from the root ${root}`, lockedBy: { root } }
    }
    return { ok: true }
  }

  /**
   * Records a vote for `slot` (block `hash`) if `canVote` allows it; TowerError otherwise (and
   * nothing changes). Returns the slot this vote rooted, if any. Persist `encode()` before
   * signing the vote (see the module comment).
   */
  recordVote(slot: bigint, hash: Uint8Array, ancestors: AncestorCheck, timestamp: bigint): { newRoot: bigint | null } {
    if (!isBytes(hash, HASH_LENGTH)) throw new TowerError('MALFORMED', `vote hash must be ${HASH_LENGTH} bytes`)
    if (typeof timestamp !== 'bigint' || timestamp < 0n || timestamp > MAX_TIMESTAMP) throw new TowerError('MALFORMED', 'vote timestamp must be unix seconds in [0, 2^40]')
    const verdict = this.canVote(slot, ancestors)
    if (!verdict.ok) throw new TowerError(verdict.code, verdict.reason)
    const next = pushVote(this.state.votes, this.state.root, slot)
    this.state = { validator: this.state.validator, votes: next.votes, root: next.root, lastVote: { slot, hash: Uint8Array.from(hash), timestamp } }
    return { newRoot: next.newRoot }
  }

  /**
   * The vote to sign for the last recorded vote: slot, hash, the tower and the root. Sign it
   * with signPohVote after `encode()` is durable.
   */
  lastVoteMessage(): PohVote | null {
    const l = this.state.lastVote
    if (!l || this.state.votes.length === 0) return null
    return { voter: this.validator, slot: l.slot, hash: Uint8Array.from(l.hash), lockouts: this.lockouts, root: this.state.root, timestamp: l.timestamp }
  }

  /**
   * Solana's vote threshold: the slot of the vote VOTE_THRESHOLD_DEPTH below the top once
   * `slot` is pushed (undefined if the stack is not that deep). A cautious validator votes
   * only if more than 2/3 of the stake has voted for that slot or a descendant (fork choice's
   * votedStake), so it does not build deep lockouts on a fork the cluster has not joined.
   */
  thresholdSlot(slot: bigint): bigint | undefined {
    const { votes } = pushVote(this.state.votes, this.state.root, slot)
    return votes[votes.length - 1 - VOTE_THRESHOLD_DEPTH]?.slot
  }

  toState(): TowerState {
    return { validator: this.validator, votes: this.lockouts, root: this.state.root, lastVote: this.lastVote }
  }

  encode(): Uint8Array {
    const s = this.state
    const payload = RLP.encode([
      TOWER_TAG,
      s.validator,
      s.root === null ? [] : [uintBytes(s.root)],
      s.votes.map((l) => [uintBytes(l.slot), uintBytes(l.confirmationCount)]),
      s.lastVote ? [uintBytes(s.lastVote.slot), s.lastVote.hash, uintBytes(s.lastVote.timestamp)] : [],
    ])
    const out = new Uint8Array(payload.length + CHECKSUM_LENGTH)
    out.set(payload, 0)
    out.set(sha256(payload), payload.length)
    return out
  }

  /**
   * Restores a persisted tower; TowerError MALFORMED on a damaged or foreign file, and
   * WRONG_VALIDATOR when it is another validator's (a node must never vote with it).
   */
  static decode(bytes: Uint8Array, validator: Uint8Array): Tower {
    const malformed = (why: string): never => {
      throw new TowerError('MALFORMED', `tower file ${why}`)
    }
    if (!(bytes instanceof Uint8Array) || bytes.length <= CHECKSUM_LENGTH || bytes.length > MAX_TOWER_BYTES) malformed(`must be ${CHECKSUM_LENGTH + 1}..${MAX_TOWER_BYTES} bytes`)
    const payload = bytes.subarray(0, bytes.length - CHECKSUM_LENGTH)
    if (!equalBytes(sha256(payload), bytes.subarray(bytes.length - CHECKSUM_LENGTH))) malformed('fails its checksum')
    const f = listOf(rlpDecode(payload, malformed), 5, malformed)
    if (!isBytes(f[0]) || !equalBytes(f[0], TOWER_TAG)) malformed('is not a catena PoH tower (v1)')
    const owner = bytesField(f[1], 'validator', malformed, ADDRESS_LENGTH)
    if (!isBytes(validator, ADDRESS_LENGTH) || !equalBytes(owner, validator)) {
      throw new TowerError('WRONG_VALIDATOR', `the tower belongs to 0x${toKey(owner)}, not this validator`)
    }
    const rawRoot = f[2]
    if (!Array.isArray(rawRoot) || rawRoot.length > 1) malformed('root must be [] or [slot]')
    const rawVotes = f[3]
    if (!Array.isArray(rawVotes) || rawVotes.length > MAX_LOCKOUT_HISTORY) malformed(`must hold at most ${MAX_LOCKOUT_HISTORY} votes`)
    const votes = (rawVotes as unknown[]).map((v) => {
      const p = listOf(v, 2, malformed)
      return { slot: uintField(p[0], 'vote slot', 8, malformed), confirmationCount: Number(uintField(p[1], 'confirmation count', 1, malformed)) }
    })
    const rawLast = f[4]
    if (!Array.isArray(rawLast) || (rawLast.length !== 0 && rawLast.length !== 3)) malformed('last vote must be [] or [slot, hash, timestamp]')
    const last = rawLast as unknown[]
    return Tower.fromState({
      validator: owner,
      votes,
      root: (rawRoot as unknown[]).length === 0 ? null : uintField((rawRoot as unknown[])[0], 'root', 8, malformed),
      lastVote:
        last.length === 0
          ? null
          : { slot: uintField(last[0], 'last vote slot', 8, malformed), hash: bytesField(last[1], 'last vote hash', malformed, HASH_LENGTH), timestamp: uintField(last[2], 'last vote timestamp', 8, malformed) },
    })
  }
}
