/**
 * The votes of one height, tallied by round, type and block: what the state machine's
 * upon-rules ask ("2f+1 prevotes for id(v) in round r", "f+1 messages of a higher round").
 * Quorums are detected as votes arrive, so the rules never scan every round.
 *
 * Equivocation is counted the way the paper counts messages: "2f+1 ⟨PREVOTE, h, r, id(v)⟩"
 * means 2f+1 senders of that exact message, so a validator that signed votes for v and v'
 * counts towards both blocks, and once towards "any". That is safe (two quorums for v and v'
 * would share more than 1/3 of the power, hence a correct validator that voted twice, which
 * cannot happen) and it is needed for liveness: if each node kept only the first vote it
 * happened to receive, an equivocator could leave correct nodes with different, never
 * converging views of a proof-of-lock. (CometBFT gets the same effect by tracking a second
 * block when a peer claims a 2/3 majority for it.) To bound memory, a validator's extra votes
 * for blocks nobody else voted for are capped at MAX_LONE_EQUIVOCATIONS per (round, type).
 * Every equivocation is reported for evidence either way.
 * @module
 */
import { toKey } from './bytes.ts'
import type { Address, Hash, SignedVote, VoteType } from './types.ts'
import type { ValidatorSet } from './validators.ts'

/** Extra votes a validator may have counted per (round, type) for blocks no other validator voted for. */
export const MAX_LONE_EQUIVOCATIONS = 4

export type AddVoteResult =
  | { status: 'added' }
  | { status: 'duplicate' }
  /**
   * The validator already voted differently for this (round, type): `existing` is its first
   * vote. `counted` says whether the new vote was added to its block's tally.
   */
  | { status: 'conflict'; existing: SignedVote; counted: boolean }

/** Map key of a vote's block: hex of the hash, or 'nil'. */
export function blockKey(hash: Hash | null): string {
  return hash === null ? 'nil' : toKey(hash)
}

/** The votes of one (round, type). */
export class VoteTally {
  /** Each validator's first vote: what "any" and participation count. */
  private readonly first = new Map<string, SignedVote>()
  /** block key -> validator key -> vote. */
  private readonly byBlock = new Map<string, Map<string, SignedVote>>()
  private readonly powerByBlock = new Map<string, bigint>()
  private readonly loneExtras = new Map<string, number>()
  private totalPower = 0n

  constructor(private readonly validators: ValidatorSet) {}

  /** Adds a vote already verified against the validator set. */
  add(vote: SignedVote, power: bigint): AddVoteResult {
    const who = toKey(vote.validator)
    const key = blockKey(vote.blockHash)
    let voters = this.byBlock.get(key)
    if (voters?.has(who)) return { status: 'duplicate' }
    const existing = this.first.get(who)
    if (existing) {
      const lone = !voters || voters.size === 0
      const extras = this.loneExtras.get(who) ?? 0
      if (lone && extras >= MAX_LONE_EQUIVOCATIONS) return { status: 'conflict', existing, counted: false }
      if (lone) this.loneExtras.set(who, extras + 1)
    } else {
      this.first.set(who, vote)
      this.totalPower += power
    }
    if (!voters) {
      voters = new Map()
      this.byBlock.set(key, voters)
    }
    voters.set(who, vote)
    this.powerByBlock.set(key, (this.powerByBlock.get(key) ?? 0n) + power)
    return existing ? { status: 'conflict', existing, counted: true } : { status: 'added' }
  }

  /** The validator's first vote. */
  get(validator: Address): SignedVote | undefined {
    return this.first.get(toKey(validator))
  }

  /** The validator's vote for `hash`, if it signed one. */
  getFor(validator: Address, hash: Hash | null): SignedVote | undefined {
    return this.byBlock.get(blockKey(hash))?.get(toKey(validator))
  }

  /** Power of the votes for `hash` (null = nil). */
  powerFor(hash: Hash | null): bigint {
    return this.powerByBlock.get(blockKey(hash)) ?? 0n
  }

  /** Power of the distinct validators that voted, whatever their block ("2f+1 ⟨PREVOTE, h, r, ∗⟩"). */
  get total(): bigint {
    return this.totalPower
  }

  hasTwoThirdsFor(hash: Hash | null): boolean {
    return this.validators.hasTwoThirds(this.powerFor(hash))
  }

  hasTwoThirdsAny(): boolean {
    return this.validators.hasTwoThirds(this.totalPower)
  }

  /** The votes for `hash` (null = nil). */
  votesFor(hash: Hash | null): SignedVote[] {
    return [...(this.byBlock.get(blockKey(hash))?.values() ?? [])]
  }

  /** Every counted vote, equivocations included. */
  all(): SignedVote[] {
    const out: SignedVote[] = []
    for (const voters of this.byBlock.values()) out.push(...voters.values())
    return out
  }
}

export interface PrecommitQuorum {
  round: number
  blockHash: Hash
}

/** Every vote of one height. */
export class HeightVotes {
  private readonly rounds = new Map<number, { prevote: VoteTally; precommit: VoteTally }>()
  /** Power of the distinct validators that sent anything (proposal or vote) in a round. */
  private readonly participants = new Map<number, { members: Set<string>; power: bigint }>()
  private readonly oneThirdRounds: number[] = []
  private readonly quorums: PrecommitQuorum[] = []

  constructor(readonly validators: ValidatorSet) {}

  tally(round: number, type: VoteType): VoteTally | undefined {
    return this.rounds.get(round)?.[type]
  }

  /** Adds a verified vote; records a new precommit quorum or a round with f+1 participation. */
  add(vote: SignedVote, power: bigint): AddVoteResult {
    let r = this.rounds.get(vote.round)
    if (!r) {
      r = { prevote: new VoteTally(this.validators), precommit: new VoteTally(this.validators) }
      this.rounds.set(vote.round, r)
    }
    const tally = r[vote.type]
    const hadQuorum = vote.blockHash !== null && tally.hasTwoThirdsFor(vote.blockHash)
    const result = tally.add(vote, power)
    if (result.status === 'duplicate' || (result.status === 'conflict' && !result.counted)) return result
    this.noteParticipant(vote.round, vote.validator, power)
    if (vote.type === 'precommit' && vote.blockHash !== null && !hadQuorum && tally.hasTwoThirdsFor(vote.blockHash)) {
      this.quorums.push({ round: vote.round, blockHash: vote.blockHash })
    }
    return result
  }

  /** Every vote of the height, round by round. */
  all(): SignedVote[] {
    const out: SignedVote[] = []
    for (const r of this.rounds.values()) out.push(...r.prevote.all(), ...r.precommit.all())
    return out
  }

  /** A proposal also counts as a message of its round for the round-skip rule. */
  noteParticipant(round: number, validator: Address, power: bigint): void {
    let p = this.participants.get(round)
    if (!p) {
      p = { members: new Set(), power: 0n }
      this.participants.set(round, p)
    }
    const key = toKey(validator)
    if (p.members.has(key)) return
    p.members.add(key)
    const before = p.power
    p.power += power
    if (!this.validators.hasOneThird(before) && this.validators.hasOneThird(p.power)) this.oneThirdRounds.push(round)
  }

  /** The highest round in which validators with more than 1/3 of the power sent messages. */
  highestRoundWithOneThird(): number {
    return this.oneThirdRounds.reduce((max, r) => (r > max ? r : max), -1)
  }

  /** (round, block) pairs with precommits of more than 2/3 of the power, in the order they formed. */
  precommitQuorums(): readonly PrecommitQuorum[] {
    return this.quorums
  }
}
