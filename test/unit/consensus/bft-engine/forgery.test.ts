/**
 * Attack (issue 12, defect 1): a peer with no keys forges a BFT block. It needs only what
 * gossip shows everyone: the head's commit certificate (the validators' precommits) and the
 * proposer rotation. It builds block h+1 on the head with the round's proposer as producer
 * and the head's certificate in the seal, executes it itself (so every root checks) and
 * hands it to a validator's import path. A block without its own commit certificate must
 * never be imported: BFT never reorganizes, so one forged block would halt the node.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bytesToHex } from '@ethereumjs/util'
import { encodeSeal } from '../../../../src/consensus/bft-engine/index.ts'
import { forgeOnHead, forgedProofs } from '../../../../src/lab/adversaries/bft-forgery.ts'
import { blockHash, decodeBlockEnvelope, encodeBlockEnvelope } from '../../../../src/chain/block.ts'
import { BlockError } from '../../../../src/chain/errors.ts'
import { openTestChain } from '../../../helpers/chain.ts'
import { startCluster, waitFor } from './harness.ts'

describe('bft: a block without its own commit certificate is never imported', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>
  before(async () => {
    cluster = await startCluster(4)
  })
  after(async () => {
    await cluster?.close()
  })

  test('a forged block on the head (proposer as producer, the head certificate in the seal) is refused', async () => {
    const { nodes, spec } = cluster
    await waitFor(() => nodes.every((v) => v.height >= 3n && v.engine!.latestCertificate()?.height === v.height), 20_000, 'height 3 with certificates')
    const victim = nodes[1]
    // The forger is an outsider: a copy of the chain, built like any follower's.
    const forger = await openTestChain({ spec, engine: { verifyHeader() {}, maxFutureSeconds: 15n } })
    await victim.engine!.stop() // hold the victim still while the forgery is made
    victim.engine = undefined
    const head = victim.t.chain.head
    for (let h = 1n; h <= head.header.height; h++) await forger.importer.import(victim.t.chain.getBlockAt(h)!)
    const cert = nodes[0].engine!.latestCertificate()
    const useCert = cert && cert.height === head.header.height ? cert : null
    assert.ok(useCert, 'the head certificate is public (gossiped precommits)')
    const height = head.header.height + 1n
    const forged = (await forgeOnHead(forger.importer, head, useCert, nodes[0].engine!.schedule)).block
    const hash = blockHash(forged.header)
    const refused = (code: string) => (err: unknown) => err instanceof BlockError && err.code === code
    // As gossip or range sync deliver it (the wire envelope, through importRaw), with each proof a forger can attach.
    for (const { name, proof } of forgedProofs(hash, height, spec.chainId, useCert)) {
      await assert.rejects(victim.t.importer.importRaw(decodeBlockEnvelope(encodeBlockEnvelope(forged, proof))), refused(proof ? 'BAD_PROOF' : 'MISSING_PROOF'), name)
    }
    await assert.rejects(victim.t.importer.importBlock(forged), refused('MISSING_PROOF'))
    assert.equal(bytesToHex(victim.t.chain.head.hash), bytesToHex(head.hash), 'the victim head did not move')
    await victim.start()
    // The real block of that height still comes, decided by the validators, and everyone agrees.
    await waitFor(() => nodes.every((v) => v.height >= height + 2n), 20_000, 'two more heights')
    const at = nodes.map((v) => bytesToHex(v.t.chain.getHashAt(height)!))
    assert.equal(new Set(at).size, 1, at.join(' '))
    assert.notEqual(at[0], bytesToHex(hash), 'the forgery is not the block of that height')
  })

  test('a crafted seal round costs nothing: without a certificate for exactly that block it is refused before any proposer lookup', async () => {
    const { nodes } = cluster
    const donor = nodes[0]!
    const h = donor.t.chain.head.header.height
    const hash = donor.t.chain.getHashAt(h)!
    const block = donor.t.chain.getBlock(hash)!
    const proof = donor.t.chain.getProof(hash)!
    const follower = await openTestChain({ spec: donor.t.spec, engine: donor.rules })
    for (let i = 1n; i < h; i++) {
      const x = donor.t.chain.getHashAt(i)!
      await follower.importer.importBlock(donor.t.chain.getBlock(x)!, donor.t.chain.getProof(x))
    }
    const crafted = { ...block, header: { ...block.header, seal: encodeSeal({ round: 1 << 20, parentCertificate: null }) } }
    // Its hash changed, so the real certificate no longer fits: refused as a bad proof, cheaply.
    await assert.rejects(follower.importer.importBlock(crafted, proof), (e: unknown) => e instanceof BlockError && e.code === 'BAD_PROOF')
    // The real block with its real certificate imports: the proof is all it needs.
    await follower.importer.importBlock(block, proof)
    assert.equal(bytesToHex(follower.chain.head.hash), bytesToHex(hash))
  })
})
