/**
 * The Tendermint state machine (Algorithm 1 of "The latest gossip on BFT consensus"), rule by
 * rule: events in, actions out. Four validators of power 1 (f = 1, quorum 3). The harness
 * plays the driver's part: it signs the machine's own proposals and votes and hands them back,
 * and answers validity requests.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  BftError,
  StateMachine,
  verifyCertificate,
  verifyEvidence,
  signProposal,
  signVote,
  type Hash,
  type MachineAction,
  type MachineEvent,
  type OwnRecord,
  type TimeoutConfig,
  type ValidatorSet,
  type VoteType,
} from '../../../../src/consensus/bft/index.ts'
import { CHAIN_ID, addressOf, hash, hex, keys, proposal, validatorSet, vote } from './fixtures.ts'

const TIMEOUTS: TimeoutConfig = {
  propose: { baseMs: 1000, deltaMs: 100 },
  prevote: { baseMs: 500, deltaMs: 50 },
  precommit: { baseMs: 400, deltaMs: 40 },
  commitMs: 10,
}

const V = hash('block v')
const W = hash('block w')

class Harness {
  readonly ks = keys(4, 'machine')
  readonly set: ValidatorSet = validatorSet(this.ks)
  readonly machine: StateMachine
  readonly self: number | null
  readonly log: MachineAction[] = []
  invalid = new Set<string>()
  /** When false, validate actions stay unanswered (tests answer them by hand). */
  autoValidity = true

  /** `role`: 'proposer' = the proposer of round 0; 'validator' = proposer of none of rounds 0-2; null = observer. */
  constructor(role: 'proposer' | 'validator' | null, opts: { maxRoundsAhead?: number } = {}) {
    this.self = role === null ? null : role === 'proposer' ? this.proposerOf(0) : this.proposerOf(3)
    this.machine = new StateMachine({
      chainId: CHAIN_ID,
      self: this.self === null ? null : addressOf(this.ks[this.self]),
      timeouts: TIMEOUTS,
      maxRoundsAhead: opts.maxRoundsAhead,
    })
  }

  proposerOf(round: number): number {
    return this.ks.findIndex((k) => hex(addressOf(k)) === hex(this.set.proposer(round).address))
  }

  /** Validators other than self (and other than `except`), for casting votes. */
  others(except: number[] = []): number[] {
    return [0, 1, 2, 3].filter((i) => i !== this.self && !except.includes(i))
  }

  start(height = 1n, recovered?: OwnRecord[]): MachineAction[] {
    return this.feed({ type: 'startHeight', height, validators: this.set, recovered })
  }

  /** Feeds an event and plays the driver: own messages signed and fed back, validity answered. */
  feed(event: MachineEvent): MachineAction[] {
    const out: MachineAction[] = []
    const queue: MachineEvent[] = [event]
    while (queue.length > 0) {
      for (const a of this.machine.handle(queue.shift()!)) {
        out.push(a)
        if (a.type === 'vote') queue.push({ type: 'vote', vote: signVote(a.vote, this.ks[this.self!], CHAIN_ID) })
        if (a.type === 'propose') queue.push({ type: 'proposal', proposal: signProposal(a.proposal, this.ks[this.self!], CHAIN_ID) })
        if (a.type === 'validate' && this.autoValidity) queue.push({ type: 'validity', height: a.height, blockHash: a.blockHash, valid: !this.invalid.has(hex(a.blockHash)) })
      }
    }
    this.log.push(...out)
    return out
  }

  proposal(round: number, block: Hash, polRound = -1, height = 1n): MachineAction[] {
    return this.feed({ type: 'proposal', proposal: proposal(this.ks[this.proposerOf(round)], height, round, block, polRound) })
  }

  votes(type: VoteType, round: number, block: Hash | null, from: number[], height = 1n): MachineAction[] {
    return from.flatMap((i) => this.feed({ type: 'vote', vote: vote(this.ks[i], type, height, round, block) }))
  }

  timeout(step: 'propose' | 'prevote' | 'precommit', round: number, height = 1n): MachineAction[] {
    return this.feed({ type: 'timeout', timeout: { step, height, round } })
  }
}

type VoteAction = Extract<MachineAction, { type: 'vote' }>
const votesOf = (actions: MachineAction[]) => actions.filter((a): a is VoteAction => a.type === 'vote').map((a) => a.vote)
const timeoutsOf = (actions: MachineAction[]) =>
  actions.flatMap((a) => (a.type === 'scheduleTimeout' ? [`${a.timeout.step}@${a.timeout.round}=${a.delayMs}`] : []))
function onlyVote(actions: MachineAction[], type: VoteType): Hash | null {
  const vs = votesOf(actions).filter((v) => v.type === type)
  assert.equal(vs.length, 1, `expected one ${type}, got ${vs.length}`)
  return vs[0].blockHash
}
const name = (h: Hash | null) => (h === null ? 'nil' : h === V || hex(h) === hex(V) ? 'V' : hex(h) === hex(W) ? 'W' : hex(h).slice(0, 8))

/** Brings a validator to round 0 precommit locked on V (it saw the proposal and 2f+1 prevotes). */
function lockedOnVAtRound0(): Harness {
  const h = new Harness('validator')
  h.start()
  h.proposal(0, V)
  h.votes('prevote', 0, V, h.others().slice(0, 2))
  assert.equal(h.machine.state.lockedRound, 0)
  return h
}

/** Moves a harness from round r (any step) to round r+1 via 2f+1 nil precommits and timeoutPrecommit. */
function nextRound(h: Harness, round: number): void {
  h.votes('precommit', round, null, h.others())
  h.timeout('precommit', round)
  assert.equal(h.machine.state.round, round + 1)
}

describe('bft state machine: the happy path', () => {
  test('proposal -> prevote v; 2f+1 prevotes -> lock + precommit v; 2f+1 precommits -> decide with a certificate', () => {
    const h = new Harness('validator')
    assert.deepEqual(timeoutsOf(h.start()), ['propose@0=1000'])
    const a1 = h.proposal(0, V)
    assert.ok(a1.some((a) => a.type === 'validate' && hex(a.blockHash) === hex(V)))
    assert.equal(name(onlyVote(a1, 'prevote')), 'V')
    assert.equal(h.machine.state.step, 'prevote')

    const a2 = h.votes('prevote', 0, V, h.others().slice(0, 2)) // with our own: 3 of 4
    assert.equal(name(onlyVote(a2, 'precommit')), 'V')
    const s = h.machine.state
    assert.deepEqual([s.step, s.lockedRound, name(s.lockedValue), s.validRound, name(s.validValue)], ['precommit', 0, 'V', 0, 'V'])

    const a3 = h.votes('precommit', 0, V, h.others().slice(0, 2))
    const decide = a3.find((a) => a.type === 'decide')
    assert.ok(decide && decide.type === 'decide')
    assert.equal(name(decide.blockHash), 'V')
    assert.equal(decide.certificate.signatures.length, 3)
    assert.equal(verifyCertificate(decide.certificate, V, 1n, h.set, CHAIN_ID).power, 3n)
    assert.equal(h.machine.state.step, 'decided')
    // After the decision nothing more happens at this height.
    assert.deepEqual(h.votes('precommit', 0, V, [h.others()[2]]), [])
    assert.deepEqual(h.timeout('precommit', 0), [])
  })

  test('the proposer asks for a value, proposes it with polRound -1 and prevotes it', () => {
    const h = new Harness('proposer')
    const a = h.start()
    const req = a.find((x) => x.type === 'requestValue')
    assert.ok(req && req.type === 'requestValue' && req.round === 0 && req.height === 1n)
    const b = h.feed({ type: 'value', height: 1n, round: 0, blockHash: V })
    const prop = b.find((x) => x.type === 'propose')
    assert.ok(prop && prop.type === 'propose')
    assert.deepEqual([prop.proposal.round, prop.proposal.polRound, name(prop.proposal.blockHash)], [0, -1, 'V'])
    assert.equal(name(onlyVote(b, 'prevote')), 'V')
    assert.ok(!b.some((x) => x.type === 'validate'), 'its own value needs no validation')
    // A late value for an old round is ignored.
    assert.deepEqual(h.feed({ type: 'value', height: 1n, round: 0, blockHash: W }), [])
  })

  test('an observer (no key) follows and decides without ever voting', () => {
    const h = new Harness(null)
    h.start()
    h.proposal(0, V)
    h.votes('prevote', 0, V, [0, 1, 2])
    const out = h.votes('precommit', 0, V, [0, 1, 2])
    assert.ok(out.some((a) => a.type === 'decide'))
    assert.equal(votesOf(h.log).length, 0)
    assert.ok(!h.log.some((a) => a.type === 'propose' || a.type === 'requestValue'))
  })
})

describe('bft state machine: timeouts', () => {
  test('timeoutPropose -> prevote nil', () => {
    const h = new Harness('validator')
    h.start()
    assert.equal(onlyVote(h.timeout('propose', 0), 'prevote'), null)
    assert.equal(h.machine.state.step, 'prevote')
    assert.deepEqual(h.timeout('propose', 0), [], 'a second firing does nothing')
  })

  test('2f+1 prevotes for different blocks schedule timeoutPrevote once; it fires -> precommit nil', () => {
    const h = new Harness('validator')
    h.start()
    h.timeout('propose', 0) // we prevote nil
    const [a, b, c] = h.others()
    assert.deepEqual(timeoutsOf(h.votes('prevote', 0, V, [a])), [], '2 of 4 is not 2f+1')
    assert.deepEqual(timeoutsOf(h.votes('prevote', 0, W, [b])), ['prevote@0=500'])
    assert.deepEqual(timeoutsOf(h.votes('prevote', 0, V, [c])), [], 'only the first time')
    assert.equal(onlyVote(h.timeout('prevote', 0), 'precommit'), null)
    assert.equal(h.machine.state.step, 'precommit')
  })

  test('2f+1 prevotes for nil -> precommit nil at once', () => {
    const h = new Harness('validator')
    h.start()
    h.timeout('propose', 0)
    assert.equal(onlyVote(h.votes('prevote', 0, null, h.others().slice(0, 2)), 'precommit'), null)
  })

  test('2f+1 precommits of any kind schedule timeoutPrecommit; it fires -> next round', () => {
    const h = new Harness('validator')
    h.start()
    h.timeout('propose', 0)
    h.votes('prevote', 0, null, h.others().slice(0, 2))
    const [a, b] = h.others()
    h.votes('precommit', 0, V, [a]) // with our nil: 2 of 4
    assert.deepEqual(timeoutsOf(h.votes('precommit', 0, null, [b])), ['precommit@0=400'])
    assert.deepEqual(timeoutsOf(h.timeout('precommit', 0)), ['propose@1=1100'])
    assert.deepEqual([h.machine.state.round, h.machine.state.step], [1, 'propose'])
  })

  test('every timeout grows with the round: base + round x delta', () => {
    const h = new Harness('validator')
    const seen: string[] = [...timeoutsOf(h.start())]
    for (let r = 0; r < 4; r++) {
      seen.push(...timeoutsOf(h.timeout('propose', r)))
      seen.push(...timeoutsOf(h.votes('prevote', r, W, h.others().slice(0, 2)))) // 2f+1 any, no quorum for one block
      seen.push(...timeoutsOf(h.timeout('prevote', r)))
      seen.push(...timeoutsOf(h.votes('precommit', r, null, h.others().slice(0, 2))))
      seen.push(...timeoutsOf(h.timeout('precommit', r)))
    }
    assert.deepEqual(seen, [
      'propose@0=1000', 'prevote@0=500', 'precommit@0=400',
      'propose@1=1100', 'prevote@1=550', 'precommit@1=440',
      'propose@2=1200', 'prevote@2=600', 'precommit@2=480',
      'propose@3=1300', 'prevote@3=650', 'precommit@3=520',
      'propose@4=1400',
    ])
  })

  test('timeouts of another round or height are ignored', () => {
    const h = new Harness('validator')
    h.start()
    assert.deepEqual(h.timeout('propose', 1), [])
    assert.deepEqual(h.timeout('propose', 0, 2n), [])
    assert.equal(h.machine.state.step, 'propose')
  })
})

describe('bft state machine: round skip (f+1 of a higher round)', () => {
  test('one validator (f) at round 5 is not enough; a second (f+1) makes us jump', () => {
    const h = new Harness('validator')
    h.start()
    const [a, b] = h.others()
    assert.deepEqual(h.votes('prevote', 5, null, [a]).map((x) => x.type), ['accepted'])
    assert.equal(h.machine.state.round, 0)
    const out = h.votes('precommit', 5, null, [b]) // any message type counts
    assert.equal(h.machine.state.round, 5)
    assert.deepEqual(timeoutsOf(out), ['propose@5=1500'])
  })

  test('a proposal counts as a message of its round', () => {
    const h = new Harness('validator')
    h.start()
    const r = [1, 2, 3, 4, 5, 6, 7].find((round) => h.proposerOf(round) !== h.self)!
    h.proposal(r, V)
    const voter = h.others([h.proposerOf(r)])[0]
    h.votes('prevote', r, null, [voter])
    assert.equal(h.machine.state.round, r)
  })

  test('messages too many rounds ahead are dropped', () => {
    const h = new Harness('validator', { maxRoundsAhead: 10 })
    h.start()
    assert.deepEqual(h.votes('prevote', 11, null, h.others()), [], 'not even accepted (so not relayed)')
    assert.equal(h.machine.state.round, 0)
  })
})

describe('bft state machine: lock rules', () => {
  test('locked on V, a fresh proposal of W (polRound -1) is prevoted nil', () => {
    const h = lockedOnVAtRound0()
    nextRound(h, 0)
    assert.equal(onlyVote(h.proposal(1, W), 'prevote'), null)
  })

  test('locked on V, a proposal of V is prevoted V', () => {
    const h = lockedOnVAtRound0()
    nextRound(h, 0)
    assert.equal(name(onlyVote(h.proposal(1, V, 0), 'prevote')), 'V')
  })

  test('locked at round 0, W re-proposed with polRound 1 and 2f+1 prevotes for W at round 1 -> prevote W', () => {
    const h = lockedOnVAtRound0()
    nextRound(h, 0)
    // Round 1: we prevote nil (locked), three others prevote W: a proof-of-lock for W at round 1.
    h.timeout('propose', 1)
    h.votes('prevote', 1, W, h.others())
    nextRound(h, 1)
    assert.equal(h.machine.state.lockedRound, 0, 'still locked on V: we never saw the round-1 proposal')
    assert.equal(name(onlyVote(h.proposal(2, W, 1), 'prevote')), 'W', 'lockedRound 0 <= vr 1: unlock')
  })

  test('locked at round 1, W with an older proof-of-lock (polRound 0) is prevoted nil', () => {
    const h = new Harness('validator')
    h.start()
    // Round 0: W gets 2f+1 prevotes, but we did not see the proposal in time.
    h.timeout('propose', 0)
    h.votes('prevote', 0, W, h.others())
    h.timeout('prevote', 0)
    nextRound(h, 0)
    // Round 1: we lock on V.
    h.proposal(1, V)
    h.votes('prevote', 1, V, h.others().slice(0, 2))
    assert.deepEqual([h.machine.state.lockedRound, name(h.machine.state.lockedValue)], [1, 'V'])
    nextRound(h, 1)
    assert.equal(onlyVote(h.proposal(2, W, 0), 'prevote'), null, 'lockedRound 1 > vr 0: stay locked')
  })

  test('a proposal whose proof-of-lock is incomplete waits for it', () => {
    const h = new Harness('validator')
    h.start()
    h.timeout('propose', 0) // we prevote nil
    h.votes('prevote', 0, W, h.others().slice(0, 2)) // 2 prevotes for W at round 0: no POL yet
    h.timeout('prevote', 0)
    nextRound(h, 0)
    assert.deepEqual(votesOf(h.proposal(1, W, 0)), [], 'waits for the proof-of-lock')
    assert.equal(h.machine.state.step, 'propose')
    // The missing prevote arrives: now the proposal is acceptable.
    assert.equal(name(onlyVote(h.votes('prevote', 0, W, h.others().slice(2, 3)), 'prevote')), 'W')
  })

  test('a proposal with an incomplete proof-of-lock and no more prevotes ends in nil at timeoutPropose', () => {
    const h = new Harness('validator')
    h.start()
    h.timeout('propose', 0)
    h.votes('prevote', 0, null, h.others().slice(0, 2))
    nextRound(h, 0)
    h.proposal(1, W, 0)
    assert.equal(onlyVote(h.timeout('propose', 1), 'prevote'), null)
  })

  test('2f+1 prevotes for the proposal after we precommitted nil: validValue updates, the lock does not', () => {
    const h = new Harness('validator')
    h.start()
    h.proposal(0, V) // we prevote V
    h.votes('prevote', 0, null, [h.others()[0]])
    h.votes('prevote', 0, V, [h.others()[1]]) // 2f+1 any, 2 for V: timeoutPrevote scheduled
    h.timeout('prevote', 0) // precommit nil
    assert.equal(h.machine.state.step, 'precommit')
    const out = h.votes('prevote', 0, V, [h.others()[2]]) // now 3 prevotes for V: line 36 in step precommit
    assert.equal(votesOf(out).length, 0, 'no second precommit')
    const s = h.machine.state
    assert.deepEqual([s.lockedRound, s.validRound, name(s.validValue)], [-1, 0, 'V'])
  })

  test('a proposer with a validValue re-proposes it with polRound = validRound', () => {
    const h = new Harness('validator')
    h.start()
    h.proposal(0, V)
    h.votes('prevote', 0, V, h.others().slice(0, 2)) // lock + valid at round 0
    // Move on until it is our turn to propose.
    let r = 0
    while (h.proposerOf(r + 1) !== h.self) {
      nextRound(h, r)
      h.timeout('propose', r + 1)
      r++
    }
    h.votes('precommit', r, null, h.others())
    const out = h.timeout('precommit', r)
    const prop = out.find((a) => a.type === 'propose')
    assert.ok(prop && prop.type === 'propose', 'proposes without asking for a value')
    assert.ok(!out.some((a) => a.type === 'requestValue'))
    assert.deepEqual([name(prop.proposal.blockHash), prop.proposal.polRound], ['V', 0])
  })
})

describe('bft state machine: validity, decisions, evidence, bad input', () => {
  test('an invalid block is prevoted nil; validity is asked once per block', () => {
    const h = new Harness('validator')
    h.invalid.add(hex(V))
    h.start()
    assert.equal(onlyVote(h.proposal(0, V), 'prevote'), null)
    h.votes('prevote', 0, V, h.others())
    assert.equal(h.log.filter((a) => a.type === 'validate').length, 1)
    assert.ok(!h.log.some((a) => a.type === 'decide'))
  })

  test('validity may come later: the machine waits for it', () => {
    const h = new Harness('validator')
    h.autoValidity = false
    h.start()
    assert.deepEqual(votesOf(h.proposal(0, V)), [])
    const out = h.feed({ type: 'validity', height: 1n, blockHash: V, valid: true })
    assert.equal(name(onlyVote(out, 'prevote')), 'V')
  })

  test('decides from 2f+1 precommits without the proposal (catching up), once the block is valid', () => {
    const h = new Harness('validator')
    h.autoValidity = false
    h.start()
    const out = h.votes('precommit', 2, V, h.others())
    assert.ok(out.some((a) => a.type === 'validate'))
    assert.ok(!out.some((a) => a.type === 'decide'))
    const done = h.feed({ type: 'validity', height: 1n, blockHash: V, valid: true })
    const d = done.find((a) => a.type === 'decide')
    assert.ok(d && d.type === 'decide' && d.round === 2)
    verifyCertificate(d.certificate, V, 1n, h.set, CHAIN_ID)
  })

  test('a double vote yields evidence that verifies; both votes count for their blocks, once for "any"', () => {
    const h = new Harness('validator')
    h.start()
    const [a, b] = h.others()
    h.votes('prevote', 0, V, [a])
    const out = h.votes('prevote', 0, W, [a])
    const ev = out.find((x) => x.type === 'evidence')
    assert.ok(ev && ev.type === 'evidence')
    assert.equal(verifyEvidence(ev.evidence, h.set, CHAIN_ID).power, 1n)
    assert.equal(h.votes('prevote', 0, null, [a]).filter((x) => x.type === 'evidence').length, 0, 'one report per offence')
    // "2f+1 any" counts a once, though it voted three times: a and us are 2, not enough...
    const ours = h.timeout('propose', 0) // we prevote nil
    assert.equal(onlyVote(ours, 'prevote'), null)
    assert.deepEqual(timeoutsOf(ours), [])
    assert.deepEqual(timeoutsOf(h.votes('prevote', 0, V, [b])), ['prevote@0=500'], '...a, b and us are')
  })

  test('a badly signed vote is rejected with a penalty and changes nothing', () => {
    const h = new Harness('validator')
    h.start()
    const before = JSON.stringify(h.machine.state, (_, v) => (typeof v === 'bigint' ? v.toString() : v))
    const forged = { ...vote(h.ks[h.others()[0]], 'prevote', 1n, 3, V), validator: addressOf(h.ks[h.others()[1]]) }
    const out = h.feed({ type: 'vote', vote: forged })
    assert.equal(out.length, 1)
    assert.ok(out[0].type === 'rejected' && out[0].error.code === 'BAD_SIGNATURE' && out[0].error.penalty > 0)
    assert.equal(JSON.stringify(h.machine.state, (_, v) => (typeof v === 'bigint' ? v.toString() : v)), before)
    const notProposer = proposal(h.ks[h.others([h.proposerOf(0)])[0]], 1n, 0, V)
    const out2 = h.feed({ type: 'proposal', proposal: notProposer })
    assert.ok(out2[0].type === 'rejected' && out2[0].error.code === 'NOT_PROPOSER')
  })

  test('a malformed message object is rejected as MALFORMED, not a crash', () => {
    const h = new Harness('validator')
    h.start()
    const bad = { ...vote(h.ks[h.others()[0]], 'prevote', 1n, 0, V), validator: 'not bytes' as unknown as Uint8Array }
    const out = h.feed({ type: 'vote', vote: bad })
    assert.ok(out.length === 1 && out[0].type === 'rejected' && out[0].error.code === 'MALFORMED')
    const badP = { ...proposal(h.ks[h.proposerOf(0)], 1n, 0, V), polRound: 3 }
    const out2 = h.feed({ type: 'proposal', proposal: badP })
    assert.ok(out2.length === 1 && out2[0].type === 'rejected' && out2[0].error.code === 'MALFORMED')
  })

  test('messages for the next height are buffered and used once it starts', () => {
    const h = new Harness('validator')
    h.start()
    h.proposal(0, V)
    h.votes('prevote', 0, V, h.others().slice(0, 2))
    h.votes('precommit', 0, V, h.others().slice(0, 2))
    assert.equal(h.machine.state.step, 'decided')
    assert.deepEqual(h.votes('precommit', 0, W, h.others(), 2n), [], 'buffered, not acted on')
    const out = h.feed({ type: 'startHeight', height: 2n, validators: h.set })
    const d = out.find((a) => a.type === 'decide')
    assert.ok(d && d.type === 'decide' && d.height === 2n && name(d.blockHash) === 'W')
  })

  test('startHeight must move forward', () => {
    const h = new Harness('validator')
    h.start(5n)
    assert.throws(() => h.start(5n), (err: unknown) => err instanceof BftError && err.code === 'BAD_HEIGHT')
  })
})

describe('bft state machine: restart from the WAL, determinism', () => {
  test('recovered records restore the lock and round, and recorded votes are re-sent, never replaced', () => {
    const h = new Harness('validator')
    const recovered: OwnRecord[] = [
      { step: 'prevote', round: 2, blockHash: V, polRound: -1 },
      { step: 'precommit', round: 2, blockHash: V, polRound: -1 },
      { step: 'prevote', round: 1, blockHash: null, polRound: -1 },
    ]
    h.start(1n, recovered)
    const s = h.machine.state
    assert.deepEqual([s.round, s.lockedRound, name(s.lockedValue), s.validRound], [2, 2, 'V', 2])
    // The timeout would make a fresh machine prevote nil; the recorded prevote for V goes out instead.
    assert.equal(name(onlyVote(h.timeout('propose', 2), 'prevote')), 'V')
  })

  test('the same events give the same actions', () => {
    const script = (h: Harness) => {
      h.start()
      h.proposal(0, V)
      h.votes('prevote', 0, W, h.others().slice(0, 1))
      h.timeout('prevote', 0)
      h.votes('prevote', 0, V, h.others().slice(1))
      h.votes('precommit', 0, V, h.others())
      return JSON.stringify(h.log, (_, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? hex(v) : v))
    }
    assert.equal(script(new Harness('validator')), script(new Harness('validator')))
  })
})
