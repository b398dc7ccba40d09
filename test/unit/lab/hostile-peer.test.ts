/**
 * The hostile peer's material is as good as a keyless attacker can make, so the
 * multi-process test (test/integration/hostile-peer.test.ts) attacks the check it means to:
 * a forged block passes every header, seal and execution check of a real node and fails only
 * for its certificate; each kind of consensus junk fails with the error it is built to hit;
 * the range server's answers are what each attack claims.
 */
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { bytesToHex } from '@ethereumjs/util'
import { blockHash, decodeBlockEnvelope, encodeBlockEnvelope, toRawBlock } from '../../../src/chain/block.ts'
import { BlockError } from '../../../src/chain/errors.ts'
import { loadChainSpec, type BftEngineSpec, type ChainSpec } from '../../../src/chain/spec/index.ts'
import { BftEngine, decodeEngineMessage, encodeSeal, type BftRules } from '../../../src/consensus/bft-engine/index.ts'
import {
  MessageError,
  certificateFromVotes,
  decodeMessage,
  encodeCertificate,
  signVote,
  verifyProposal,
  verifyVote,
  type CommitCertificate,
  type ConsensusMessage,
} from '../../../src/consensus/bft/index.ts'
import { privateKeyToAddress } from '../../../src/crypto/secp256k1.ts'
import {
  ConsensusFramer,
  consensusMessage,
  impersonatedProposal,
  impersonatedVote,
  outsiderCertificate,
  outsiderKey,
  outsiderProposal,
  outsiderVote,
} from '../../../src/lab/adversaries/material.ts'
import { RangeServer } from '../../../src/lab/adversaries/range-server.ts'
import { ShadowChain } from '../../../src/lab/adversaries/index.ts'
import { decodeBlockList, encodeRangeRequest } from '../../../src/sync/index.ts'
import { KEYS, openTestChain, type TestChain } from '../../helpers/chain.ts'

const spec = loadChainSpec('consortium') as ChainSpec & { engine: BftEngineSpec }
const HEIGHT = 3n
const empty = { next: () => undefined, skipSender: () => {} }
const refused = (code: string) => (err: unknown) => err instanceof BlockError && err.code === code

/** A node of the chain: production rules, blocks 1..HEIGHT certified by three of the four validators. */
async function certifiedChain(): Promise<{ node: TestChain; rules: BftRules }> {
  const rules = BftEngine.rulesFor({ chainId: spec.chainId, config: spec.engine })
  const builder = await openTestChain({ spec, engine: rules })
  const node = await openTestChain({ spec, engine: rules })
  let cert: CommitCertificate | null = null
  for (let h = 1n; h <= HEIGHT; h++) {
    const built = await builder.importer.build({
      timestamp: builder.chain.head.header.timestamp + 1n,
      producer: rules.schedule.at(h).proposer(0).address,
      presetSeal: encodeSeal({ round: 0, parentCertificate: cert }),
      source: empty,
    })
    const hash = blockHash(built.block.header)
    cert = certificateFromVotes([0, 1, 2].map((i) => signVote({ type: 'precommit', height: h, round: 0, blockHash: hash, validator: privateKeyToAddress(KEYS[i]!) }, KEYS[i]!, spec.chainId)))
    await builder.importer.commit(built, { proof: encodeCertificate(cert) })
    await node.importer.importRaw(toRawBlock(built.block, encodeCertificate(cert)))
  }
  return { node, rules }
}

describe('hostile peer material', () => {
  let node: TestChain
  let rules: BftRules
  let shadow: ShadowChain
  before(async () => {
    ;({ node, rules } = await certifiedChain())
    shadow = await ShadowChain.open(spec)
    for (let h = 1n; h <= HEIGHT; h++) {
      const hash = node.chain.getHashAt(h)!
      assert.ok(await shadow.take(toRawBlock(node.chain.getBlock(hash)!, node.chain.getProof(hash))), `the copy takes block ${h}`)
    }
  })

  test('the copy follows the chain with its certificates and takes no block without one', async () => {
    assert.equal(shadow.height, HEIGHT)
    assert.equal(shadow.headCertificate()?.height, HEIGHT)
    const forged = await shadow.forgeOnHead({ extraData: new TextEncoder().encode('unit') })
    assert.equal(await shadow.take(toRawBlock(forged.block)), false, 'another attacker cannot poison the copy')
    assert.equal(shadow.height, HEIGHT)
  })

  test('a forged block passes every check of a real node but its certificate', async () => {
    const forged = await shadow.forgeOnHead({ extraData: new TextEncoder().encode('hostile:unit') })
    const { header } = forged.block
    assert.equal(bytesToHex(header.producer), bytesToHex(rules.schedule.at(HEIGHT + 1n).proposer(0).address), 'the round proposer as producer')
    // Header, seal (the head certificate), and re-execution against every root: all pass.
    await node.importer.validate(forged.block)
    const hash = blockHash(header)
    const as = (proof?: Uint8Array) => node.importer.importRaw(decodeBlockEnvelope(encodeBlockEnvelope(forged.block, proof)))
    await assert.rejects(as(), refused('MISSING_PROOF'))
    await assert.rejects(as(encodeCertificate(shadow.headCertificate()!)), refused('BAD_PROOF'), 'the parent certificate')
    await assert.rejects(as(encodeCertificate(outsiderCertificate(hash, header.height, spec.chainId))), refused('BAD_PROOF'), 'a certificate of non-validators')
    assert.equal(node.chain.head.header.height, HEIGHT, 'nothing imported')
  })

  test('each kind of consensus junk fails with the error it is built to hit', () => {
    const slot = { height: HEIGHT + 1n, round: 0 }
    const set = rules.schedule.at(slot.height)
    const proposer = set.proposer(0).address
    const other = set.toEntries().map((v) => v.address).find((a) => bytesToHex(a) !== bytesToHex(proposer))!
    const attacker = outsiderKey('attacker')
    const hash = new Uint8Array(32).fill(9)
    const code = (check: () => unknown) => {
      try {
        check()
      } catch (err) {
        assert.ok(err instanceof MessageError, String(err))
        return err.code
      }
      return 'VALID'
    }
    const vote = (m: ConsensusMessage) => (m.kind === 'vote' ? () => verifyVote(m.vote, spec.chainId, set) : assert.fail('not a vote'))
    const proposal = (m: ConsensusMessage) => (m.kind === 'proposal' ? () => verifyProposal(m.proposal, spec.chainId, set) : assert.fail('not a proposal'))
    assert.equal(code(vote(impersonatedVote(slot, 'prevote', proposer, hash, attacker, spec.chainId))), 'BAD_SIGNATURE')
    assert.equal(code(vote(outsiderVote(slot, 'prevote', hash, attacker, spec.chainId))), 'UNKNOWN_VALIDATOR')
    assert.equal(code(proposal(impersonatedProposal(slot, hash, proposer, attacker, spec.chainId))), 'BAD_SIGNATURE')
    assert.equal(code(proposal(impersonatedProposal(slot, hash, other, attacker, spec.chainId))), 'NOT_PROPOSER')
    assert.equal(code(proposal(outsiderProposal(slot, hash, attacker, spec.chainId))), 'UNKNOWN_VALIDATOR')
    // Framed as a node's transport frames them: a fresh sequence each, the message intact.
    const framer = new ConsensusFramer()
    const m = consensusMessage(outsiderVote(slot, 'prevote', hash, attacker, spec.chainId))
    const [a, b] = [framer.frame(m), framer.frame(m)]
    assert.notEqual(bytesToHex(a), bytesToHex(b))
    const inner = decodeEngineMessage(a.subarray(8))
    assert.ok(inner.kind === 'consensus' && decodeMessage(inner.message).kind === 'vote')
  })

  test('range answers: empty for the liar, the copy then a forgery for the forger', async () => {
    const server = new RangeServer(shadow, async () => undefined)
    const ask = async (from: bigint) => decodeBlockList(await server.answer(encodeRangeRequest({ from, count: 64 }), 'peer'))
    server.mode = 'empty'
    assert.deepEqual(await ask(1n), [])
    server.mode = 'forged'
    const blocks = (await ask(2n)).map(decodeBlockEnvelope)
    assert.deepEqual(blocks.map((b) => b.header.height), [2n, 3n, 4n])
    const [log] = server.drain().slice(-1)
    assert.equal(log?.forged, bytesToHex(blocks[2]!.hash))
    // The honest prefix imports on a node that lacks it; the forged tip is refused for its certificate.
    const fresh = await openTestChain({ spec, engine: rules })
    await fresh.importer.importRaw(toRawBlock(node.chain.getBlockAt(1n)!, node.chain.getProof(node.chain.getHashAt(1n)!)))
    for (const b of blocks.slice(0, 2)) await fresh.importer.importRaw(b)
    await assert.rejects(fresh.importer.importRaw(blocks[2]!), refused('BAD_PROOF'))
    assert.equal(fresh.chain.head.header.height, HEIGHT)
  })
})
