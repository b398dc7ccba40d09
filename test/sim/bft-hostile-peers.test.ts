/**
 * Four BFT validators (real engines, real chains, the production block rules) under attack by
 * a peer without keys that goes through the same paths a node's peers reach: it gossips
 * consensus junk into every validator's message handler (wrong signatures, non-validators,
 * forged proposals with blocks, next-height floods, garbage), and it is a sync source that
 * claims to be 1,000 blocks ahead and serves a block forged on the head, with no proof, with
 * the parent's certificate, or with a certificate of outsiders. The chain must keep
 * finalizing, every honest node must agree at every height, no forged block may be imported,
 * and the attacker must pay at every validator.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { bytesToHex } from '@ethereumjs/util'
import { blockHash, encodeBlockEnvelope, type Block } from '../../src/chain/block.ts'
import { decodeCertificate } from '../../src/consensus/bft/index.ts'
import { consensusJunk, forgeOnHead, forgedProofs } from '../../src/lab/adversaries/bft-forgery.ts'
import { privateKeyToAddress } from '../../src/crypto/secp256k1.ts'
import { KEYS, openTestChain, type TestChain } from '../helpers/chain.ts'
import { startCluster, waitFor, type SyncSource, type TestValidator } from '../unit/consensus/bft-engine/harness.ts'

/** The attacker's view: a copy of the chain (no checks: it is the attacker's), forged blocks, lies. */
class ForgingPeer implements SyncSource {
  readonly id = 'mallory'
  readonly running = true
  forged: Block[] = []
  private round = 0
  private constructor(
    private readonly copy: TestChain,
    private readonly victim: TestValidator,
  ) {}

  static async create(victim: TestValidator): Promise<ForgingPeer> {
    return new ForgingPeer(await openTestChain({ spec: victim.t.spec, engine: { verifyHeader() {}, maxFutureSeconds: 15n } }), victim)
  }

  /** Claims far more than anyone has. */
  get height(): bigint {
    return this.victim.height + 1000n
  }

  /** A block forged on the head it copied, with a proof that changes every time it is asked. */
  envelopeAt(height: bigint): Uint8Array | undefined {
    const block = this.forged.find((b) => b.header.height === height)
    if (!block) return undefined
    const proofs = forgedProofs(blockHash(block.header), height, this.victim.t.spec.chainId, this.headCertificate())
    return encodeBlockEnvelope(block, proofs[this.round++ % proofs.length]!.proof)
  }

  /** Catches up with the victim's chain (public blocks) and forges a block on its head. */
  async forge(): Promise<Block> {
    while (this.copy.chain.head.header.height < this.victim.height) {
      const h = this.copy.chain.head.header.height + 1n
      await this.copy.importer.import(this.victim.t.chain.getBlockAt(h)!)
    }
    const block = (await forgeOnHead(this.copy.importer, this.copy.chain.head, this.headCertificate(), this.victim.engine!.schedule)).block
    this.forged = [block, ...this.forged].slice(0, 8)
    return block
  }

  private headCertificate() {
    const head = this.copy.chain.head
    const proof = this.victim.t.chain.getProof(head.hash)
    return proof ? decodeCertificate(proof) : null
  }
}

describe('bft simulation: a keyless peer attacks through the gossip handler and block sync', () => {
  test('finality continues, honest nodes agree at every height, nothing forged is imported, the attacker pays', async () => {
    const { nodes, net, spec, close } = await startCluster(4)
    try {
      await waitFor(() => nodes.every((v) => v.height >= 2n), 20_000, 'height 2')
      const mallory = await ForgingPeer.create(nodes[0]!)
      for (const v of nodes) v.peers = [mallory, ...v.peers] // asked first
      const validators = KEYS.slice(0, 4).map((k) => privateKeyToAddress(k))
      const forgedHashes = new Set<string>()
      const start = nodes[0]!.height
      let rounds = 0
      let sent = 0
      const verdicts = { accept: 0, ignore: 0, reject: 0 }
      while (nodes.some((v) => v.height < start + 8n)) {
        if (rounds > 400) assert.fail(`no progress under attack: heights ${nodes.map((v) => v.height).join(', ')}`)
        rounds++
        const block = await mallory.forge()
        forgedHashes.add(bytesToHex(blockHash(block.header)))
        const junk = consensusJunk({ height: nodes[0]!.height + 1n, chainId: spec.chainId, validators, block: encodeBlockEnvelope(block), n: 64, seed: rounds })
        for (const v of nodes) {
          for (const bytes of junk) {
            for (const verdict of net.inject(mallory.id, v.id, bytes)) verdicts[verdict]++
            sent++
          }
          void v.syncFromPeers() // block sync asks the "best" peer first: the liar
        }
        await new Promise((r) => setTimeout(r, 25))
      }
      // Every honest node, every height: the same block, with a certificate that verifies, never a forgery.
      const top = nodes.reduce((m, v) => (v.height < m ? v.height : m), nodes[0]!.height)
      for (let h = 1n; h <= top; h++) {
        const hashes = nodes.map((v) => bytesToHex(v.t.chain.getHashAt(h)!))
        assert.equal(new Set(hashes).size, 1, `height ${h}: ${hashes.join(' ')}`)
        assert.ok(!forgedHashes.has(hashes[0]!), `height ${h} holds a forged block`)
        for (const v of nodes) assert.ok(v.t.chain.getProof(v.t.chain.getHashAt(h)!), `height ${h} on ${v.id} has its certificate`)
      }
      assert.equal(verdicts.accept, 0, 'no junk was accepted (nothing of it would be relayed)')
      assert.ok(verdicts.reject > sent / 2, `most junk was rejected (costing the sender): ${JSON.stringify(verdicts)} of ${sent}`)
      for (const v of nodes) {
        assert.ok((net.penalties.get(mallory.id) ?? []).some((p) => p.by === v.id), `${v.id} penalized the attacker on gossip`)
        assert.ok((v.penalized.get(mallory.id) ?? []).length > 0, `${v.id} refused the forged blocks from sync`)
        assert.ok(v.penalized.get(mallory.id)!.every((r) => /certificate|proof/i.test(r)), v.penalized.get(mallory.id)!.join('; '))
      }
    } finally {
      await close()
    }
  })
})
