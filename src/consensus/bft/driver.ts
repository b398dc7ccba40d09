/**
 * Runs the state machine for one node: turns its actions into effects through injected
 * callbacks, and answers back into it. It owns the signing key and the vote WAL, and it is
 * the only place that signs: every proposal and vote is first authorized by the WAL (recorded
 * and fsynced), then signed, broadcast, and handed back to the machine as a received message.
 *
 * Still no clock and no network of its own: the host schedules the timeouts it is asked for
 * (and calls `fireTimeout`), delivers messages (`receive`), and starts each height once the
 * previous block is durably committed (`startHeight`). Callbacks may answer synchronously
 * (the simulation does, so a run is a pure function of its seed) or with a promise (a real
 * node building and executing blocks). Events are processed one at a time, in order.
 * @module
 */
import { BftError, WalError, type MessageError } from './errors.ts'
import type { DuplicateVoteEvidence } from './evidence.ts'
import { signProposal, signVote } from './messages.ts'
import type { Decision, MachineAction, MachineEvent, MachineState, OwnRecord } from './machine-io.ts'
import { StateMachine } from './state-machine.ts'
import type { Address, ConsensusMessage, Hash, Proposal, SignedProposal, TimeoutConfig, TimeoutInfo, Vote } from './types.ts'
import type { ValidatorSet } from './validators.ts'
import type { VoteWal, WalEntry } from './wal.ts'
import { privateKeyToAddress } from '../../crypto/secp256k1.ts'

export interface BftDriverOptions {
  chainId: bigint
  /** This validator's secp256k1 key; omit for a node that follows consensus without voting. */
  privateKey?: Uint8Array
  /** Required with `privateKey`: nothing is signed that the WAL has not recorded. */
  wal?: VoteWal
  timeouts?: TimeoutConfig
  maxRoundsAhead?: number
  maxBufferedMessages?: number
  /** The block to propose at (height, round): build it, keep it, return its hash. */
  getValue(height: bigint, round: number): Hash | Promise<Hash>
  /** valid(v): does the block with this hash pass every chain rule? (Fetch it if missing.) */
  validate(height: bigint, blockHash: Hash): boolean | Promise<boolean>
  /** Send to every peer (gossip). */
  broadcast(message: ConsensusMessage): void
  /** Call `fireTimeout(timeout)` after `delayMs`. */
  scheduleTimeout(timeout: TimeoutInfo, delayMs: number): void
  /** The block is final: import it with the certificate, then call startHeight(height + 1). */
  onDecide(decision: Decision): void
  /** A validator signed two different votes: gossip it, include it in a block, slash. */
  onEvidence?(evidence: DuplicateVoteEvidence): void
  /** A message failed verification: penalize its sender by error.penalty. */
  onRejected?(message: ConsensusMessage, error: MessageError): void
  /** A message (ours included) verified and counted for the first time: relay it to peers. */
  onAccepted?(message: ConsensusMessage): void
  /** The WAL failed (this node stops signing) or a callback threw. */
  onError?(error: Error): void
}

/**
 * What became of a message from the network: 'accept' = verified and counted for the first
 * time (relay it); 'reject' = failed verification (penalize the sender by `error.penalty`);
 * 'ignore' = a duplicate, another height or round window, or kept for the next height.
 */
export type ReceiveVerdict = { verdict: 'accept' | 'ignore' } | { verdict: 'reject'; error: MessageError }

export interface DriverStats {
  /** Messages signed (including identical re-sends). */
  signed: number
  /** Times the WAL refused a different message for an already-signed (height, round, step). */
  walConflicts: number
  /** Times the WAL refused to sign at or below the highest (height, round, step) already signed. */
  belowFloor: number
}

export class BftDriver {
  readonly address: Address | null
  readonly stats: DriverStats = { signed: 0, walConflicts: 0, belowFloor: 0 }
  private readonly machine: StateMachine
  private readonly queue: Array<{ event: MachineEvent; onActions?: (actions: MachineAction[]) => void }> = []
  private busy = false
  private halted = false
  /** Our signed messages at the current height, by `${round}/${step}`, for re-gossip. */
  private sent = new Map<string, ConsensusMessage>()

  constructor(private readonly opts: BftDriverOptions) {
    if (opts.privateKey && !opts.wal) throw new BftError('BAD_CONFIG', 'a validator needs a vote WAL: nothing may be signed unrecorded')
    this.address = opts.privateKey ? privateKeyToAddress(opts.privateKey) : null
    this.machine = new StateMachine({
      chainId: opts.chainId,
      self: this.address,
      timeouts: opts.timeouts,
      maxRoundsAhead: opts.maxRoundsAhead,
      maxBufferedMessages: opts.maxBufferedMessages,
    })
  }

  get state(): MachineState {
    return this.machine.state
  }

  /** The proposal the machine keeps for a round of the current height. */
  proposalOf(round: number): SignedProposal | undefined {
    return this.machine.proposalOf(round)
  }

  get validators(): ValidatorSet | undefined {
    return this.machine.validatorSet
  }

  /**
   * Starts `height` with its validator set. Call it only once the block of height - 1 is
   * durably committed: it drops WAL records of older heights and restores those of this one.
   */
  startHeight(height: bigint, validators: ValidatorSet): void {
    if (this.halted) return
    let recovered: OwnRecord[] = []
    if (this.opts.wal) {
      try {
        this.opts.wal.pruneBelow(height)
      } catch (err) {
        this.opts.onError?.(err as Error)
      }
      recovered = this.opts.wal.entries(height).map((e) => ({ step: e.step, round: e.round, blockHash: e.blockHash, polRound: e.polRound }))
    }
    this.sent = new Map()
    this.dispatch({ type: 'startHeight', height, validators, recovered })
  }

  /**
   * A proposal or vote from the network (or a certificate's votes, for catching up). It is
   * verified and counted before this returns (unless the driver is busy with its own
   * callbacks, when it is queued: 'ignore'), so the caller can relay or penalize.
   */
  receive(message: ConsensusMessage): ReceiveVerdict {
    let verdict: ReceiveVerdict = { verdict: 'ignore' }
    const event: MachineEvent = message.kind === 'proposal' ? { type: 'proposal', proposal: message.proposal } : { type: 'vote', vote: message.vote }
    const inner = message.kind === 'vote' ? message.vote : message.proposal
    const isThis = (m: ConsensusMessage) => (m.kind === 'vote' ? m.vote : m.proposal) === inner
    this.dispatch(event, (actions) => {
      for (const a of actions) {
        if (a.type === 'rejected' && isThis(a.message)) verdict = { verdict: 'reject', error: a.error }
        else if (a.type === 'accepted' && isThis(a.message)) verdict = { verdict: 'accept' }
      }
    })
    return verdict
  }

  fireTimeout(timeout: TimeoutInfo): void {
    this.dispatch({ type: 'timeout', timeout })
  }

  /** Every verified message of the current height (for anti-entropy gossip or a peer's request). */
  currentMessages(): ConsensusMessage[] {
    return this.machine.messages()
  }

  /** What this node signed at the current height: re-gossip it so lossy links still converge. */
  ownMessages(): ConsensusMessage[] {
    return [...this.sent.values()]
  }

  /** Stops acting (a crashed or stopped node): later events are ignored, nothing more is signed. */
  halt(): void {
    this.halted = true
    this.queue.length = 0
  }

  private dispatch(event: MachineEvent, onActions?: (actions: MachineAction[]) => void): void {
    if (this.halted) return
    this.queue.push({ event, ...(onActions ? { onActions } : {}) })
    if (this.busy) return
    this.busy = true
    try {
      while (this.queue.length > 0 && !this.halted) {
        const next = this.queue.shift()!
        const actions = this.machine.handle(next.event)
        next.onActions?.(actions)
        for (const action of actions) this.perform(action)
      }
    } catch (err) {
      this.queue.length = 0
      throw err
    } finally {
      this.busy = false
    }
  }

  private perform(a: MachineAction): void {
    if (this.halted) return
    switch (a.type) {
      case 'propose':
        return this.signAndSend({ ...a.proposal, step: 'propose' })
      case 'vote':
        return this.signAndSend({ ...a.vote, step: a.vote.type })
      case 'scheduleTimeout':
        return this.opts.scheduleTimeout(a.timeout, a.delayMs)
      case 'requestValue':
        return this.ask(
          () => this.opts.getValue(a.height, a.round),
          (blockHash) => ({ type: 'value', height: a.height, round: a.round, blockHash }),
        )
      case 'validate':
        return this.ask(
          () => this.opts.validate(a.height, a.blockHash),
          (valid) => ({ type: 'validity', height: a.height, blockHash: a.blockHash, valid }),
        )
      case 'decide':
        return this.opts.onDecide({ height: a.height, round: a.round, blockHash: a.blockHash, certificate: a.certificate })
      case 'evidence':
        return this.opts.onEvidence?.(a.evidence)
      case 'rejected':
        return this.opts.onRejected?.(a.message, a.error)
      case 'accepted':
        return this.opts.onAccepted?.(a.message)
    }
  }

  /** Calls a host callback; its answer (now or later) becomes the next event. */
  private ask<T>(call: () => T | Promise<T>, toEvent: (result: T) => MachineEvent): void {
    let result: T | Promise<T>
    try {
      result = call()
    } catch (err) {
      this.opts.onError?.(err as Error)
      return
    }
    if (result instanceof Promise) {
      // A late answer runs outside any caller's try: report failures instead of leaving a
      // rejected promise behind.
      result.then(
        (r) => {
          try {
            this.dispatch(toEvent(r))
          } catch (err) {
            this.opts.onError?.(err as Error)
          }
        },
        (err) => this.opts.onError?.(err as Error),
      )
    } else {
      this.dispatch(toEvent(result))
    }
  }

  /** WAL first, then sign, broadcast, and feed our own message back to the machine. */
  private signAndSend(msg: (Proposal & { step: 'propose' }) | (Vote & { step: 'prevote' | 'precommit' })): void {
    const { privateKey, wal, chainId } = this.opts
    if (!privateKey || !wal) return
    const entry: WalEntry =
      msg.step === 'propose'
        ? { height: msg.height, round: msg.round, step: 'propose', blockHash: msg.blockHash, polRound: msg.polRound }
        : { height: msg.height, round: msg.round, step: msg.step, blockHash: msg.blockHash, polRound: -1 }
    let decision
    try {
      decision = wal.authorize(entry)
    } catch (err) {
      // Not durably recorded: do not sign. The node keeps following but stays silent.
      this.opts.onError?.(err instanceof WalError ? err : new WalError('IO', (err as Error).message))
      return
    }
    if (decision.kind === 'below-floor') {
      // Our memory of this height was lost (blocks not on disk after a power cut) but we signed
      // past it already: stay silent here rather than risk a second, different vote.
      this.stats.belowFloor++
      return
    }
    // A conflict means the machine asked for something other than what we already signed
    // (it lost that memory): re-send the recorded message, never a second one.
    const use = decision.kind === 'conflict' ? decision.recorded : entry
    if (decision.kind === 'conflict') this.stats.walConflicts++
    let message: ConsensusMessage
    if (use.step === 'propose') {
      const p: Proposal = { height: use.height, round: use.round, blockHash: use.blockHash!, polRound: use.polRound, proposer: this.address! }
      message = { kind: 'proposal', proposal: signProposal(p, privateKey, chainId) }
    } else {
      const v: Vote = { type: use.step, height: use.height, round: use.round, blockHash: use.blockHash, validator: this.address! }
      message = { kind: 'vote', vote: signVote(v, privateKey, chainId) }
    }
    this.stats.signed++
    this.sent.set(`${use.round}/${use.step}`, message)
    this.opts.broadcast(message)
    this.receive(message)
  }
}
