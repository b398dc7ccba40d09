/**
 * The engine's verdict on each peer message: invalid ones (not decodable, a forged certificate,
 * evidence that proves nothing) return false so the network rejects them and penalizes the
 * peer; valid ones return true.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { pino } from 'pino'
import { encodeBlock } from '../../../../src/chain/block.ts'
import { BftEngine, encodeEngineMessage, type BftHost, type ConsensusTransport } from '../../../../src/consensus/bft-engine/index.ts'
import { MemoryWalStorage, certificateFromVotes, encodeCertificate, encodeEvidence, signVote } from '../../../../src/consensus/bft/index.ts'
import { blockHash } from '../../../../src/chain/block.ts'
import { KEYS, openTestChain } from '../../../helpers/chain.ts'
import { consortiumChainSpec, fastConfig } from './harness.ts'
import { privateKeyToAddress } from '../../../../src/crypto/secp256k1.ts'

describe('bft engine: verdicts on peer messages', () => {
  test('malformed messages, forged certificates and bogus evidence are rejected', async () => {
    const spec = consortiumChainSpec()
    const t = await openTestChain({ spec })
    let handler: ((bytes: Uint8Array, from: string) => boolean | void) | undefined
    const transport: ConsensusTransport = { broadcast() {}, onMessage: (h) => ((handler = h), () => {}) }
    const engine = new BftEngine({ chainId: spec.chainId, config: fastConfig(spec), transport, common: t.common, walStorage: new MemoryWalStorage() })
    const host: BftHost = {
      head: () => t.chain.head,
      produce: () => Promise.reject(new Error('no')),
      pendingTxCount: () => 0,
      onPendingTx: () => () => {},
      log: pino({ level: 'silent' }),
      build: () => Promise.reject(new Error('follower')),
      validate: (b) => t.importer.validate(b),
      commit: (e) => t.importer.commit(e),
      blockAt: (h) => t.chain.getBlockAt(h),
    }
    await engine.start(host)
    try {
      const send = (bytes: Uint8Array) => handler!(bytes, 'peer-1')
      assert.equal(send(Uint8Array.of(1, 2, 3)), false, 'not RLP')
      assert.equal(send(encodeEngineMessage({ kind: 'consensus', message: Uint8Array.of(0xc0) })), false, 'not a consensus message')
      assert.equal(send(encodeEngineMessage({ kind: 'want', height: 1n })), true, 'a fair request')

      // A "decided" block 1 whose certificate is signed by keys that are not validators.
      const genesis = t.chain.head
      const block = { header: { ...genesis.header, parentHash: genesis.hash, height: 1n }, txs: [] }
      const outsiders = [10, 11, 12].map((i) => KEYS[i % KEYS.length]!.map((b) => b ^ i))
      const hash = blockHash(block.header)
      const forged = certificateFromVotes(outsiders.map((k) => signVote({ type: 'precommit', height: 1n, round: 0, blockHash: hash, validator: privateKeyToAddress(k) }, k, spec.chainId)))
      assert.equal(send(encodeEngineMessage({ kind: 'decided', block: encodeBlock(block), certificate: encodeCertificate(forged) })), false, 'forged certificate')

      // Evidence on a PoA chain, or two votes that do not conflict, prove nothing.
      const v = (hashByte: number) => signVote({ type: 'prevote', height: 1n, round: 0, blockHash: new Uint8Array(32).fill(hashByte), validator: privateKeyToAddress(KEYS[0]!) }, KEYS[0]!, spec.chainId)
      assert.equal(send(encodeEngineMessage({ kind: 'evidence', evidence: encodeEvidence({ voteA: v(1), voteB: v(1) }) })), false, 'no double vote')
    } finally {
      await engine.stop()
    }
  })
})
