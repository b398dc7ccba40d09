/**
 * The driver: WAL before every signature, callbacks that answer now or later, and the
 * effects of each action (broadcast, timeouts, decisions, evidence, rejections).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  BftDriver,
  BftError,
  MemoryWalStorage,
  VoteWal,
  WalError,
  type BftDriverOptions,
  type ConsensusMessage,
  type Decision,
  type TimeoutInfo,
  type WalStorage,
} from '../../../../src/consensus/bft/index.ts'
import { CHAIN_ID, addressOf, hash, hex, keys, proposal, validatorSet, vote } from './fixtures.ts'

const V = hash('driver v')

function driver(overrides: Partial<BftDriverOptions> & { key?: Uint8Array } = {}) {
  const sent: ConsensusMessage[] = []
  const timeouts: Array<{ timeout: TimeoutInfo; delayMs: number }> = []
  const decisions: Decision[] = []
  const errors: Error[] = []
  const d = new BftDriver({
    chainId: CHAIN_ID,
    privateKey: overrides.key,
    wal: overrides.key ? VoteWal.open(new MemoryWalStorage()) : undefined,
    getValue: () => V,
    validate: () => true,
    broadcast: (m) => sent.push(m),
    scheduleTimeout: (timeout, delayMs) => timeouts.push({ timeout, delayMs }),
    onDecide: (x) => decisions.push(x),
    onError: (e) => errors.push(e),
    ...overrides,
  })
  return { d, sent, timeouts, decisions, errors }
}

describe('bft driver', () => {
  test('a validator without a WAL is refused: nothing may be signed unrecorded', () => {
    assert.throws(
      () => new BftDriver({ chainId: CHAIN_ID, privateKey: hash('k'), getValue: () => V, validate: () => true, broadcast: () => {}, scheduleTimeout: () => {}, onDecide: () => {} }),
      (err: unknown) => err instanceof BftError && err.code === 'BAD_CONFIG',
    )
  })

  test('a lone validator with async callbacks decides height after height', async () => {
    const [key] = keys(1, 'lone')
    const set = validatorSet([key])
    let next: (d: Decision) => void = () => {}
    const validated: string[] = []
    const { d, sent } = driver({
      key,
      getValue: async (height) => hash(`block ${height}`),
      validate: async (_h, blockHash) => {
        validated.push(hex(blockHash))
        return true
      },
      onDecide: (x) => next(x),
    })
    let validators = set
    for (let h = 1n; h <= 5n; h++) {
      const decided = new Promise<Decision>((resolve) => (next = resolve))
      d.startHeight(h, validators)
      const decision = await decided
      assert.equal(decision.height, h)
      assert.equal(hex(decision.blockHash), hex(hash(`block ${h}`)))
      assert.equal(decision.certificate.signatures.length, 1)
      validators = validators.nextHeight()
    }
    assert.deepEqual(validated, [], 'its own values need no validation')
    assert.equal(sent.filter((m) => m.kind === 'proposal').length, 5)
    assert.equal(sent.filter((m) => m.kind === 'vote').length, 10)
    assert.equal(d.stats.signed, 15)
  })

  test('the WAL is written before signing; a WAL failure means no signature, reported through onError', () => {
    const ks = keys(4, 'walfail')
    const set = validatorSet(ks)
    const self = ks.find((k) => hex(addressOf(k)) !== hex(set.proposer(0).address))!
    const proposer = ks.find((k) => hex(addressOf(k)) === hex(set.proposer(0).address))!
    const mem = new MemoryWalStorage()
    const failing: WalStorage = { ...mem, read: () => mem.read(), replace: (b) => mem.replace(b), truncate: (n) => mem.truncate(n), append: () => { throw new Error('disk full') }, sync: () => {} }
    const { d, sent, errors } = driver({ key: self, wal: VoteWal.open(failing) })
    d.startHeight(1n, set)
    d.receive({ kind: 'proposal', proposal: proposal(proposer, 1n, 0, V) })
    assert.equal(sent.length, 0, 'nothing signed')
    assert.equal(errors.length, 1)
    assert.ok(errors[0] instanceof WalError && errors[0].code === 'IO')
    assert.equal(d.state.step, 'prevote', 'the machine moves on; it just stays silent')
  })

  test('asked to sign something other than what the WAL holds, it re-sends the recorded message', () => {
    const ks = keys(4, 'conflict')
    const set = validatorSet(ks)
    const self = ks.find((k) => hex(addressOf(k)) !== hex(set.proposer(0).address))!
    const proposer = ks.find((k) => hex(addressOf(k)) === hex(set.proposer(0).address))!
    const wal = VoteWal.open(new MemoryWalStorage())
    const { d, sent } = driver({ key: self, wal })
    d.startHeight(1n, set)
    // Behind the machine's back (say, a second process on the same key), nil was recorded.
    wal.authorize({ height: 1n, round: 0, step: 'prevote', blockHash: null, polRound: -1 })
    d.receive({ kind: 'proposal', proposal: proposal(proposer, 1n, 0, V) }) // the machine wants to prevote V
    assert.equal(d.stats.walConflicts, 1)
    const votes = sent.filter((m) => m.kind === 'vote')
    assert.equal(votes.length, 1)
    assert.ok(votes[0].kind === 'vote' && votes[0].vote.blockHash === null, 'the recorded nil goes out, not V')
  })

  test('timeouts, rejections, evidence and relays reach their callbacks; own messages are kept for re-gossip', () => {
    const ks = keys(4, 'callbacks')
    const set = validatorSet(ks)
    const self = ks.find((k) => hex(addressOf(k)) !== hex(set.proposer(0).address))!
    const others = ks.filter((k) => k !== self)
    const rejected: string[] = []
    const evidence: string[] = []
    const relayed: ConsensusMessage[] = []
    const { d, timeouts } = driver({
      key: self,
      onRejected: (_m, e) => rejected.push(e.code),
      onEvidence: (e) => evidence.push(hex(e.voteA.validator)),
      onAccepted: (m) => relayed.push(m),
    })
    d.startHeight(1n, set)
    assert.deepEqual(timeouts.map((t) => `${t.timeout.step}@${t.timeout.round}`), ['propose@0'])
    d.receive({ kind: 'vote', vote: { ...vote(others[0], 'prevote', 1n, 0, V), validator: addressOf(others[1]) } })
    assert.deepEqual(rejected, ['BAD_SIGNATURE'])
    d.receive({ kind: 'vote', vote: vote(others[0], 'prevote', 1n, 0, V) })
    d.receive({ kind: 'vote', vote: vote(others[0], 'prevote', 1n, 0, null) })
    assert.deepEqual(evidence, [hex(addressOf(others[0]))])
    d.fireTimeout({ step: 'propose', height: 1n, round: 0 })
    const own = d.ownMessages()
    assert.equal(own.length, 1)
    assert.ok(own[0].kind === 'vote' && own[0].vote.type === 'prevote' && own[0].vote.blockHash === null)
    assert.equal(relayed.length, 3, 'two of others plus our own, each once')
    assert.equal(d.currentMessages().length, 3)
  })

  test('a failing getValue is reported and the round still times out into a nil prevote', () => {
    const [key, k2, k3, k4] = keys(4, 'getvalue')
    const set = validatorSet([key, k2, k3, k4])
    const proposerKey = [key, k2, k3, k4].find((k) => hex(addressOf(k)) === hex(set.proposer(0).address))!
    const { d, sent, errors } = driver({ key: proposerKey, getValue: () => { throw new Error('mempool down') } })
    d.startHeight(1n, set)
    assert.equal(errors[0]?.message, 'mempool down')
    assert.equal(sent.length, 0)
    d.fireTimeout({ step: 'propose', height: 1n, round: 0 })
    assert.ok(sent[0]?.kind === 'vote' && sent[0].vote.blockHash === null)
  })

  test('a halted driver ignores everything', () => {
    const [key] = keys(1, 'halt')
    const { d, sent } = driver({ key })
    d.halt()
    d.startHeight(1n, validatorSet([key]))
    assert.equal(sent.length, 0)
    assert.equal(d.state.step, 'idle')
  })
})
