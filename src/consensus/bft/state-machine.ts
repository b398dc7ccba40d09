/**
 * Tendermint consensus for one node as a deterministic state machine: Algorithm 1 of
 * Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus" (2018, arXiv:1807.04938).
 *
 * Events go in (a message, a timeout firing, the value to propose, a validity verdict, the
 * start of a height); actions come out (sign and broadcast a proposal or vote, schedule a
 * timeout, ask for a value or a validity check, decide with a certificate, report evidence or
 * a rejected message). No I/O, clock or randomness inside: the same events give the same
 * actions, which is what makes it testable and simulatable. The driver (driver.ts) does the
 * signing (after the WAL), the callbacks and the timers.
 *
 * Line numbers in comments refer to Algorithm 1. Departures from the paper, each for a reason:
 * - Decision (line 49) needs 2f+1 precommits for id(v) and v valid, not the proposal message:
 *   a node that missed the proposal (or catches up from a certificate) can still decide, as
 *   CometBFT does. Safety only rests on the precommits.
 * - timeoutPropose is scheduled for the proposer too, so a slow `getValue` cannot stall it.
 * - Values are block hashes; valid(v) is asked of the host once per hash and cached.
 * - Own votes recovered from the WAL are re-sent instead of being replaced, and the lock they
 *   imply (a non-nil precommit at round r = locked on it at r) is restored.
 * - One proposal per round is kept (the first valid one); an equivocating validator's votes
 *   count towards each block it voted for, as the paper counts messages (vote-set.ts).
 * - Messages for the next height are buffered until it starts, bounded: only validly signed
 *   ones from a current validator, one per (signer, round, step), early rounds only. Older
 *   and later heights are ignored (catching up is block sync's job, with certificates).
 * @module
 */
import { equalBytes, sameHash, toKey } from './bytes.ts'
import { certificateFromVotes } from './certificate.ts'
import { BftError, MessageError } from './errors.ts'
import { duplicateVoteEvidence, offenceKey } from './evidence.ts'
import type { Decision, MachineAction, MachineEvent, MachineState, MachineStep, OwnRecord, StateMachineOptions } from './machine-io.ts'
import { checkProposalShape, checkVoteShape, messageSlot, verifyProposal, verifySigner, verifyVote } from './messages.ts'
import {
  DEFAULT_TIMEOUTS,
  timeoutDuration,
  type Address,
  type ConsensusMessage,
  type Hash,
  type SignedProposal,
  type SignedVote,
  type Step,
  type TimeoutConfig,
  type TimeoutInfo,
  type VoteType,
} from './types.ts'
import type { ValidatorSet } from './validators.ts'
import { HeightVotes } from './vote-set.ts'

/** Rounds of the next height whose messages are kept before it starts (peers a little ahead are in round 0 or 1). */
const NEXT_HEIGHT_ROUNDS = 2

export class StateMachine {
  private readonly chainId: bigint
  private readonly self: Address | null
  private readonly timeouts: TimeoutConfig
  private readonly maxRoundsAhead: number
  private readonly maxBuffered: number

  private height = 0n
  private round = 0
  private step: MachineStep = 'idle'
  private lockedValue: Hash | null = null
  private lockedRound = -1
  private validValue: Hash | null = null
  private validRound = -1
  private decision: Decision | null = null

  private validators!: ValidatorSet
  private votes!: HeightVotes
  private voting = false
  private readonly proposals = new Map<number, SignedProposal>()
  /** valid(v) by block key: true/false once known, 'pending' while asked. */
  private readonly validity = new Map<string, boolean | 'pending'>()
  /** "for the first time" guards of lines 34, 36 and 47, by round. */
  private readonly once = { prevoteTimeout: new Set<number>(), lock: new Set<number>(), precommitTimeout: new Set<number>() }
  /** What this node signed at this height: `${round}/${step}` -> record. */
  private readonly own = new Map<string, OwnRecord>()
  private awaitingValue = -1
  private readonly evidenceSeen = new Set<string>()
  /** Next-height messages by `${signer}/${round}/${step}`: bounded, signatures checked. */
  private future = new Map<string, ConsensusMessage>()
  private out: MachineAction[] = []

  constructor(opts: StateMachineOptions) {
    this.chainId = opts.chainId
    this.self = opts.self
    this.timeouts = opts.timeouts ?? DEFAULT_TIMEOUTS
    this.maxRoundsAhead = opts.maxRoundsAhead ?? 1000
    this.maxBuffered = opts.maxBufferedMessages ?? 512
  }

  get state(): MachineState {
    return {
      height: this.height,
      round: this.round,
      step: this.step,
      lockedValue: this.lockedValue,
      lockedRound: this.lockedRound,
      validValue: this.validValue,
      validRound: this.validRound,
      decision: this.decision,
    }
  }

  /** The validator set of the current height (after the first startHeight). */
  get validatorSet(): ValidatorSet | undefined {
    return this.validators
  }

  /**
   * Every verified proposal and vote of the current height: what a peer that missed some
   * may be sent (anti-entropy gossip, or an answer to a peer that asks).
   */
  messages(): ConsensusMessage[] {
    if (this.step === 'idle') return []
    const out: ConsensusMessage[] = [...this.proposals.values()].map((proposal) => ({ kind: 'proposal', proposal }))
    for (const vote of this.votes.all()) out.push({ kind: 'vote', vote })
    return out
  }

  /** The proposal kept for a round of the current height (the first valid one). */
  proposalOf(round: number): SignedProposal | undefined {
    return this.step === 'idle' ? undefined : this.proposals.get(round)
  }

  /** Feeds one event; returns the actions it causes, in order. */
  handle(event: MachineEvent): MachineAction[] {
    this.out = []
    switch (event.type) {
      case 'startHeight':
        this.startHeight(event.height, event.validators, event.recovered ?? [])
        break
      case 'proposal':
        this.onProposal(event.proposal)
        break
      case 'vote':
        this.onVote(event.vote)
        break
      case 'timeout':
        this.onTimeout(event.timeout)
        break
      case 'value':
        this.onValue(event.height, event.round, event.blockHash)
        break
      case 'validity':
        this.onValidity(event.height, event.blockHash, event.valid)
        break
    }
    const out = this.out
    this.out = []
    return out
  }

  // ---------- events ----------

  private startHeight(height: bigint, validators: ValidatorSet, recovered: readonly OwnRecord[]): void {
    if (this.step !== 'idle' && height <= this.height) {
      throw new BftError('BAD_HEIGHT', `startHeight(${height}) must move past the current height ${this.height}`)
    }
    this.height = height
    this.validators = validators
    this.votes = new HeightVotes(validators)
    this.voting = this.self !== null && validators.has(this.self)
    this.lockedValue = null
    this.lockedRound = -1
    this.validValue = null
    this.validRound = -1
    this.decision = null
    this.proposals.clear()
    this.validity.clear()
    this.once.prevoteTimeout.clear()
    this.once.lock.clear()
    this.once.precommitTimeout.clear()
    this.own.clear()
    this.awaitingValue = -1
    this.evidenceSeen.clear()
    let startRound = 0
    for (const r of recovered) {
      this.own.set(`${r.round}/${r.step}`, r)
      if (r.round > startRound) startRound = r.round
      // A non-nil precommit at round r means this node locked on it at r (line 40); the
      // latest such lock is the one that binds.
      if (r.step === 'precommit' && r.blockHash !== null && r.round > this.lockedRound) {
        this.lockedValue = r.blockHash
        this.lockedRound = r.round
        this.validValue = r.blockHash
        this.validRound = r.round
      }
    }
    this.startRound(startRound)
    const buffered = this.future
    this.future = new Map()
    for (const m of buffered.values()) {
      if (m.kind === 'proposal' && m.proposal.height === height) this.onProposal(m.proposal)
      else if (m.kind === 'vote' && m.vote.height === height) this.onVote(m.vote)
    }
    this.run()
  }

  /** Shape check before anything reads the fields; a malformed message is rejected. */
  private wellFormed(message: ConsensusMessage, check: () => void): boolean {
    try {
      check()
      return true
    } catch (err) {
      if (!(err instanceof MessageError)) throw err
      this.out.push({ type: 'rejected', message, error: err })
      return false
    }
  }

  /** Common checks for a message; false = not for the current height and round window. */
  private admit(message: ConsensusMessage, height: bigint, round: number): boolean {
    if (this.step === 'idle') return false
    if (height === this.height + 1n) {
      this.bufferNextHeight(message)
      return false
    }
    if (height !== this.height || this.step === 'decided') return false
    return round <= this.round + this.maxRoundsAhead
  }

  /**
   * Keeps a message of the next height for when it starts. The set of that height is not
   * known yet, so what can be checked now is: early round, one per signer and step, a
   * signature that recovers to the claimed signer, and a signer in the current set. A peer
   * without a validator key cannot fill the buffer; a validator fills at most its own slots.
   */
  private bufferNextHeight(message: ConsensusMessage): void {
    const slot = messageSlot(message)
    if (slot.round > NEXT_HEIGHT_ROUNDS) return
    const key = `${toKey(slot.signer)}/${slot.round}/${slot.step}`
    if (this.future.has(key) || this.future.size >= this.maxBuffered || !this.validators.has(slot.signer)) return
    try {
      verifySigner(message, this.chainId)
    } catch (err) {
      if (err instanceof MessageError) return void this.out.push({ type: 'rejected', message, error: err })
      throw err
    }
    this.future.set(key, message)
  }

  private onProposal(p: SignedProposal): void {
    const message: ConsensusMessage = { kind: 'proposal', proposal: p }
    if (!this.wellFormed(message, () => checkProposalShape(p))) return
    if (!this.admit(message, p.height, p.round)) return
    // One proposal per round: the first valid one wins (a second, different one is equivocation).
    if (this.proposals.has(p.round)) return
    try {
      verifyProposal(p, this.chainId, this.validators)
    } catch (err) {
      if (err instanceof MessageError) return void this.out.push({ type: 'rejected', message, error: err })
      throw err
    }
    this.proposals.set(p.round, p)
    this.votes.noteParticipant(p.round, p.proposer, this.validators.powerOf(p.proposer))
    this.out.push({ type: 'accepted', message })
    this.run()
  }

  private onVote(v: SignedVote): void {
    const message: ConsensusMessage = { kind: 'vote', vote: v }
    if (!this.wellFormed(message, () => checkVoteShape(v))) return
    if (!this.admit(message, v.height, v.round)) return
    // Gossip repeats votes: skip the signature check for one already counted, byte for byte.
    const known = this.votes.tally(v.round, v.type)?.getFor(v.validator, v.blockHash)
    if (known && equalBytes(known.signature, v.signature)) return
    let power: bigint
    try {
      power = verifyVote(v, this.chainId, this.validators).power
    } catch (err) {
      if (err instanceof MessageError) return void this.out.push({ type: 'rejected', message, error: err })
      throw err
    }
    const result = this.votes.add(v, power)
    if (result.status === 'conflict') {
      const evidence = duplicateVoteEvidence(result.existing, v)
      const key = offenceKey(evidence)
      if (!this.evidenceSeen.has(key)) {
        this.evidenceSeen.add(key)
        this.out.push({ type: 'evidence', evidence })
      }
    }
    if (result.status === 'added' || (result.status === 'conflict' && result.counted)) {
      this.out.push({ type: 'accepted', message })
      this.run()
    }
  }

  private onTimeout(t: TimeoutInfo): void {
    if (t.height !== this.height || t.round !== this.round || this.step === 'idle' || this.step === 'decided') return
    if (t.step === 'propose' && this.step === 'propose') {
      // line 57: OnTimeoutPropose
      this.castVote('prevote', null)
      this.step = 'prevote'
    } else if (t.step === 'prevote' && this.step === 'prevote') {
      // line 61: OnTimeoutPrevote
      this.castVote('precommit', null)
      this.step = 'precommit'
    } else if (t.step === 'precommit') {
      // line 65: OnTimeoutPrecommit
      this.startRound(this.round + 1)
    } else {
      return
    }
    this.run()
  }

  private onValue(height: bigint, round: number, blockHash: Hash): void {
    if (height !== this.height || round !== this.round || this.step !== 'propose' || this.awaitingValue !== round) return
    this.awaitingValue = -1
    this.validity.set(toKey(blockHash), true) // our own value
    this.propose(blockHash, -1)
    this.run()
  }

  private onValidity(height: bigint, blockHash: Hash, valid: boolean): void {
    if (height !== this.height || this.step === 'idle') return
    this.validity.set(toKey(blockHash), valid)
    this.run()
  }

  // ---------- StartRound (line 11) ----------

  private startRound(round: number): void {
    this.round = round
    this.step = 'propose'
    this.schedule('propose')
    if (!this.voting || !equalBytes(this.validators.proposer(round).address, this.self!)) return
    const recorded = this.own.get(`${round}/propose`)
    if (recorded && recorded.blockHash) {
      this.propose(recorded.blockHash, recorded.polRound) // re-send what the WAL says we proposed
    } else if (this.validValue !== null) {
      this.propose(this.validValue, this.validRound) // line 15
    } else {
      this.awaitingValue = round // line 18: getValue()
      this.out.push({ type: 'requestValue', height: this.height, round })
    }
  }

  // ---------- upon-rules ----------

  /** Applies rules until none fires (each firing can enable another). */
  private run(): void {
    for (let i = 0; i < 100_000; i++) {
      if (this.step === 'idle' || this.step === 'decided') return
      const fired =
        this.ruleDecide() ||
        this.ruleSkipRound() ||
        this.ruleProposal() ||
        this.rulePrevoteTimeout() ||
        this.ruleLock() ||
        this.rulePrecommitNil() ||
        this.rulePrecommitTimeout()
      if (!fired) return
    }
    throw new Error('bft state machine did not settle: a rule keeps firing')
  }

  /** line 49: 2f+1 ⟨PRECOMMIT, h, r, id(v)⟩ and valid(v) -> decide v. */
  private ruleDecide(): boolean {
    for (const q of this.votes.precommitQuorums()) {
      if (this.isValid(q.blockHash) !== true) continue
      const votes = this.votes.tally(q.round, 'precommit')!.votesFor(q.blockHash)
      const decision: Decision = { height: this.height, round: q.round, blockHash: q.blockHash, certificate: certificateFromVotes(votes) }
      this.decision = decision
      this.step = 'decided'
      this.out.push({ type: 'decide', ...decision })
      return true
    }
    return false
  }

  /** line 55: f+1 messages of a round above ours -> StartRound(that round). */
  private ruleSkipRound(): boolean {
    const r = this.votes.highestRoundWithOneThird()
    if (r <= this.round) return false
    this.startRound(r)
    return true
  }

  /** lines 22 and 28: the proposal of our round, while step = propose. */
  private ruleProposal(): boolean {
    if (this.step !== 'propose') return false
    const p = this.proposals.get(this.round)
    if (!p) return false
    const v = p.blockHash
    let accept: boolean
    if (p.polRound === -1) {
      const valid = this.isValid(v)
      if (valid === undefined) return false
      accept = valid && (this.lockedRound === -1 || sameHash(this.lockedValue, v)) // line 23
    } else {
      // line 28: needs 2f+1 prevotes for v in round vr (0 <= vr < round, checked on decode)
      if (!this.votes.tally(p.polRound, 'prevote')?.hasTwoThirdsFor(v)) return false
      const valid = this.isValid(v)
      if (valid === undefined) return false
      accept = valid && (this.lockedRound <= p.polRound || sameHash(this.lockedValue, v)) // line 29
    }
    this.castVote('prevote', accept ? v : null)
    this.step = 'prevote'
    return true
  }

  /** line 34: 2f+1 ⟨PREVOTE, h, round, ∗⟩ while step = prevote, first time -> timeoutPrevote. */
  private rulePrevoteTimeout(): boolean {
    if (this.step !== 'prevote' || this.once.prevoteTimeout.has(this.round)) return false
    if (!this.votes.tally(this.round, 'prevote')?.hasTwoThirdsAny()) return false
    this.once.prevoteTimeout.add(this.round)
    this.schedule('prevote')
    return true
  }

  /** line 36: proposal v of our round and 2f+1 prevotes for it, valid, step >= prevote, first time. */
  private ruleLock(): boolean {
    if ((this.step !== 'prevote' && this.step !== 'precommit') || this.once.lock.has(this.round)) return false
    const p = this.proposals.get(this.round)
    if (!p || !this.votes.tally(this.round, 'prevote')?.hasTwoThirdsFor(p.blockHash)) return false
    if (this.isValid(p.blockHash) !== true) return false
    this.once.lock.add(this.round)
    const v = p.blockHash
    if (this.step === 'prevote') {
      const sent = this.castVote('precommit', v)
      if (sent !== null) {
        this.lockedValue = sent // lines 38-39
        this.lockedRound = this.round
      }
      this.step = 'precommit'
    }
    this.validValue = v // lines 42-43
    this.validRound = this.round
    return true
  }

  /** line 44: 2f+1 ⟨PREVOTE, h, round, nil⟩ while step = prevote -> precommit nil. */
  private rulePrecommitNil(): boolean {
    if (this.step !== 'prevote' || !this.votes.tally(this.round, 'prevote')?.hasTwoThirdsFor(null)) return false
    this.castVote('precommit', null)
    this.step = 'precommit'
    return true
  }

  /** line 47: 2f+1 ⟨PRECOMMIT, h, round, ∗⟩ for the first time -> timeoutPrecommit. */
  private rulePrecommitTimeout(): boolean {
    if (this.once.precommitTimeout.has(this.round)) return false
    if (!this.votes.tally(this.round, 'precommit')?.hasTwoThirdsAny()) return false
    this.once.precommitTimeout.add(this.round)
    this.schedule('precommit')
    return true
  }

  // ---------- helpers ----------

  /** valid(v): the cached verdict, or undefined after asking the host (once). */
  private isValid(v: Hash): boolean | undefined {
    const key = toKey(v)
    const known = this.validity.get(key)
    if (known === true || known === false) return known
    if (known === undefined) {
      this.validity.set(key, 'pending')
      this.out.push({ type: 'validate', height: this.height, blockHash: v })
    }
    return undefined
  }

  private schedule(step: Step): void {
    this.out.push({
      type: 'scheduleTimeout',
      timeout: { step, height: this.height, round: this.round },
      delayMs: timeoutDuration(this.timeouts, step, this.round),
    })
  }

  private propose(blockHash: Hash, polRound: number): void {
    if (!this.voting) return
    this.own.set(`${this.round}/propose`, { step: 'propose', round: this.round, blockHash, polRound })
    this.out.push({
      type: 'propose',
      proposal: { height: this.height, round: this.round, blockHash, polRound, proposer: this.self! },
    })
  }

  /**
   * Broadcasts our vote of this round and type. If the WAL says we already signed one, that
   * one is re-sent instead (never a second, different vote). Returns the block voted for.
   */
  private castVote(type: VoteType, blockHash: Hash | null): Hash | null {
    if (!this.voting) return blockHash
    const key = `${this.round}/${type}`
    const recorded = this.own.get(key)
    const hash = recorded ? recorded.blockHash : blockHash
    if (!recorded) this.own.set(key, { step: type, round: this.round, blockHash, polRound: -1 })
    this.out.push({ type: 'vote', vote: { type, height: this.height, round: this.round, blockHash: hash, validator: this.self! } })
    return hash
  }
}

