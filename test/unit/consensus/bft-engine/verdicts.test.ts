/**
 * Attacks on the consensus topic (issue 12, defect 2), through the engine's real message
 * handler: nothing is relayed before it is verified, invalid messages cost their sender, and
 * no cheap message buys work or memory. Each message is handed to a validator's engine as
 * a peer's gossip would be, and the verdict ('accept' relays, 'reject' penalizes) is checked.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bytesToHex } from '@ethereumjs/util'
import { blockHash, encodeBlockEnvelope } from '../../../../src/chain/block.ts'
import { BftEngine, MemoryNetwork, encodeEngineMessage, type TransportVerdict } from '../../../../src/consensus/bft-engine/index.ts'
import { MemoryWalStorage, encodeEvidence, encodeMessage, signProposal, signVote, type ConsensusMessage } from '../../../../src/consensus/bft/index.ts'
import { privateKeyToAddress } from '../../../../src/crypto/secp256k1.ts'
import { KEYS, openTestChain, type TestChain } from '../../../helpers/chain.ts'
import { engineHost } from '../../../helpers/engine-host.ts'
import { consortiumChainSpec, fastConfig, waitFor } from './harness.ts'

const spec = consortiumChainSpec()
const outsider = KEYS[9]!.map((b) => b ^ 0x5a)

describe('bft engine: verdicts on peer messages', () => {
  let t: TestChain
  let engine: BftEngine
  let net: MemoryNetwork
  let syncRequests = 0
  before(async () => {
    t = await openTestChain({ spec, engine: BftEngine.rulesFor({ chainId: spec.chainId, config: fastConfig(spec) }) })
    net = new MemoryNetwork()
    // A follower (no key): it sends nothing itself, so every verdict here is about the peer's message.
    const config = { ...fastConfig(spec), timeouts: { proposeMs: 60_000, prevoteMs: 60_000, precommitMs: 60_000, deltaMs: 0, commitMs: 0 } }
    engine = new BftEngine({ chainId: spec.chainId, config, transport: net.transport('victim'), common: t.common, walStorage: new MemoryWalStorage(), regossipMs: 60_000 })
    await engine.start(engineHost(t, { requestSync: () => syncRequests++ }))
    await waitFor(() => engine.consensusState().height === '0x1', 5000, 'consensus at height 1')
  })
  after(async () => {
    await engine.stop()
    net.close()
  })

  const send = (bytes: Uint8Array, from = 'attacker'): TransportVerdict => net.inject(from, 'victim', bytes)[0]!
  const consensus = (m: ConsensusMessage) => encodeEngineMessage({ kind: 'consensus', message: encodeMessage(m) })
  const validator = (i: number) => privateKeyToAddress(KEYS[i]!)
  const prevote = (key: Uint8Array, claimed: Uint8Array, height: bigint, round = 0, hash: Uint8Array | null = new Uint8Array(32).fill(7)) => ({
    kind: 'vote' as const,
    vote: signVote({ type: 'prevote', height, round, blockHash: hash, validator: privateKeyToAddress(key) }, key, spec.chainId),
  })

  test('bytes that do not decode are rejected', () => {
    assert.equal(send(Uint8Array.of(1, 2, 3)), 'reject')
    assert.equal(send(encodeEngineMessage({ kind: 'consensus', message: Uint8Array.of(0xc0) })), 'reject')
  })

  test('a vote with a forged signature is rejected, never relayed; a real one is relayed once', () => {
    const real = prevote(KEYS[1]!, validator(1), 1n)
    const forged: ConsensusMessage = { kind: 'vote', vote: { ...real.vote, signature: signVote({ ...real.vote }, outsider, spec.chainId).signature } }
    assert.equal(send(consensus(forged)), 'reject', 'signature of another key')
    assert.equal(send(consensus(real)), 'accept', 'first time: verified, counted, relayed')
    assert.equal(send(consensus(real)), 'ignore', 'a duplicate is not relayed again')
    assert.equal(send(consensus(prevote(outsider, privateKeyToAddress(outsider), 1n))), 'ignore', 'a non-validator: dropped, not relayed')
    assert.ok((net.penalties.get('attacker') ?? []).length >= 2, 'the sender paid')
  })

  test('fake proposals cannot evict or replace the real one: a block is kept only for a signed proposal', () => {
    const proposerIndex = KEYS.findIndex((k) => bytesToHex(privateKeyToAddress(k)) === bytesToHex(engine.schedule.at(1n).proposer(0).address))
    const genesis = t.chain.head
    const block = { header: { ...genesis.header, parentHash: genesis.hash, height: 1n, producer: validator(proposerIndex) }, txs: [] }
    const hash = blockHash(block.header)
    const proposal = (key: Uint8Array, round = 0) => encodeMessage({ kind: 'proposal', proposal: signProposal({ height: 1n, round, blockHash: hash, polRound: -1, proposer: validator(proposerIndex) }, key, spec.chainId) })
    // 64 unsigned (wrongly signed) proposals with blocks: every one rejected, none kept.
    for (let i = 0; i < 64; i++) assert.equal(send(encodeEngineMessage({ kind: 'proposal', message: proposal(outsider), block: encodeBlockEnvelope(block) })), 'reject')
    // A real proposal with somebody else's block attached: the relay that attached it pays.
    const other = { header: { ...block.header, timestamp: block.header.timestamp + 1n }, txs: [] }
    assert.equal(send(encodeEngineMessage({ kind: 'proposal', message: proposal(KEYS[proposerIndex]!), block: encodeBlockEnvelope(other) })), 'reject')
  })

  test('a want-style flood buys nothing: there is no broadcast request; blocks are served by hash only', () => {
    // The only way to ask for a block is request/response by hash: an unknown hash gets nothing.
    const served = net.transport('asker')
    return served.fetchBlock(new Uint8Array(32).fill(9)).then((got) => assert.equal(got, undefined))
  })

  test('heights from unverified messages are not trusted; a validator seen ahead triggers sync (rate-limited)', () => {
    const before = syncRequests
    const forgedAhead = prevote(KEYS[1]!, validator(1), 500n)
    const junk: ConsensusMessage = { kind: 'vote', vote: { ...forgedAhead.vote, signature: signVote({ ...forgedAhead.vote }, outsider, spec.chainId).signature } }
    for (let i = 0; i < 100; i++) assert.equal(send(consensus(junk)), 'reject')
    assert.equal(syncRequests, before, 'forged heights trigger nothing')
    for (let i = 0; i < 100; i++) assert.equal(send(consensus(prevote(KEYS[2]!, validator(2), 500n, i % 5))), 'ignore')
    assert.equal(syncRequests, before + 1, 'verified signs of peers ahead ask block sync to look, once a second at most')
  })

  test('next-height messages are bounded: only validly signed ones, one per signer, round and step', () => {
    const bad: TransportVerdict[] = []
    for (let i = 0; i < 2000; i++) {
      const v = prevote(KEYS[3]!, validator(3), 2n, i % 3, new Uint8Array(32).fill(i % 251))
      bad.push(send(consensus({ kind: 'vote', vote: { ...v.vote, signature: signVote({ ...v.vote }, outsider, spec.chainId).signature } })))
    }
    assert.ok(bad.every((v) => v === 'reject'), 'badly signed next-height votes are rejected, not buffered')
  })

  test('evidence that proves nothing is rejected on a PoS chain and ignored on a PoA one', () => {
    const v = (hashByte: number) => signVote({ type: 'prevote', height: 1n, round: 0, blockHash: new Uint8Array(32).fill(hashByte), validator: validator(0) }, KEYS[0]!, spec.chainId)
    assert.equal(send(encodeEngineMessage({ kind: 'evidence', evidence: encodeEvidence({ voteA: v(1), voteB: v(2) }) })), 'ignore', 'PoA: not our business')
  })

  test('a block is never kept for a next-height proposal whose signature is not checked by the buffer', async () => {
    const genesis = t.chain.head
    const blockFor = (ts: bigint) => ({ header: { ...genesis.header, parentHash: genesis.hash, height: 2n, timestamp: ts }, txs: [] })
    const proposalOf = (key: Uint8Array, block: ReturnType<typeof blockFor>) =>
      encodeEngineMessage({ kind: 'proposal', message: encodeMessage({ kind: 'proposal', proposal: signProposal({ height: 2n, round: 0, blockHash: blockHash(block.header), polRound: -1, proposer: validator(0) }, key, spec.chainId) }), block: encodeBlockEnvelope(block) })
    const real = blockFor(100n)
    send(proposalOf(KEYS[0]!, real)) // a validly signed next-height proposal fills its slot
    const junk = blockFor(200n)
    send(proposalOf(outsider, junk)) // same slot, another key's signature
    const asker = net.transport('asker')
    assert.equal(await asker.fetchBlock(blockHash(junk.header)), undefined, 'the junk block is not held (nor served)')
    assert.ok(await asker.fetchBlock(blockHash(real.header)), 'the signed one is')
  })
})
