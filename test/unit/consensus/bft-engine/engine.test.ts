import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { blockHash } from '../../../../src/chain/block.ts'
import { decodeCertificate, verifyCertificate } from '../../../../src/consensus/bft/index.ts'
import { MemoryNetwork, decodeSeal } from '../../../../src/consensus/bft-engine/index.ts'
import { Signer, addressOf } from '../../../helpers/chain.ts'
import { TestValidator, consortiumChainSpec, fastConfig, startCluster, waitFor } from './harness.ts'

function hashesAt(nodes: TestValidator[], height: bigint): string[] {
  return nodes.map((v) => {
    const h = v.t.chain.getHashAt(height)
    return h ? bytesToHex(h) : 'missing'
  })
}

function minHeight(nodes: TestValidator[]): bigint {
  return nodes.reduce((m, v) => (v.height < m ? v.height : m), nodes[0].height)
}

describe('bft engine: 4 validators over an in-memory network', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>
  before(async () => {
    cluster = await startCluster(4)
  })
  after(async () => {
    await cluster?.close()
  })

  test('finalizes 10 heights with identical blocks; every seal certifies the parent', async () => {
    const { nodes, spec } = cluster
    const signer = new Signer(nodes[0].t.common)
    const tx = signer.transfer(5, addressOf(6).bytes, 12345n)
    for (const v of nodes) v.pending.push(tx) // as if gossiped to every mempool
    await waitFor(() => minHeight(nodes) >= 10n, 30_000, 'height 10 on every node')
    const schedule = nodes[0].engine!.schedule
    for (let h = 1n; h <= 10n; h++) {
      const hashes = hashesAt(nodes, h)
      assert.equal(new Set(hashes).size, 1, `height ${h}: ${hashes.join(' ')}`)
      const block = nodes[0].t.chain.getBlockAt(h)!
      const seal = decodeSeal(block.header.seal)
      assert.deepEqual(block.header.producer, schedule.at(h).proposer(seal.round).address)
      if (h === 1n) {
        assert.equal(seal.parentCertificate, null)
        continue
      }
      const parent = nodes[0].t.chain.getBlockAt(h - 1n)!
      const check = verifyCertificate(seal.parentCertificate!, blockHash(parent.header), h - 1n, schedule.at(h - 1n), spec.chainId)
      assert.ok(check.signers >= 3, `certificate of ${h - 1n} has ${check.signers} signers`)
    }
    // The transfer made it into a block on every node, with free gas (base fee 0).
    const txLoc = nodes[3].t.chain.getTransaction(tx.hash())
    assert.ok(txLoc, 'transfer included')
    assert.equal(nodes[0].t.chain.getBlockAt(txLoc.location.height)!.header.baseFee, 0n)
    // The newest block's certificate is held by the engine.
    const head = nodes[1].t.chain.head
    const latest = nodes[1].engine!.latestCertificate()
    assert.ok(latest && latest.height <= head.header.height)

    // catena_getCommit: the stored certificate and the set, enough for a light client to check the block.
    const getCommit = nodes[1].engine!.rpcMethods().catena_getCommit!
    const commit = (await getCommit([5])) as { blockHash: string; certificate: string; signatures: unknown[]; validators: Array<{ address: string; power: string }>; totalPower: string; signedPower: string }
    const five = nodes[1].t.chain.getBlockAt(5n)!
    assert.equal(commit.blockHash, bytesToHex(blockHash(five.header)))
    const cert = decodeCertificate(hexToBytes(commit.certificate as `0x${string}`))
    const checked = verifyCertificate(cert, blockHash(five.header), 5n, schedule.at(5n), spec.chainId)
    assert.equal(commit.signatures.length, checked.signers)
    assert.equal(BigInt(commit.signedPower), checked.power)
    assert.ok(3n * BigInt(commit.signedPower) > 2n * BigInt(commit.totalPower), 'more than 2/3 of the power signed')
    assert.deepEqual(commit.validators.map((v) => v.address), schedule.at(5n).validators.map((v) => bytesToHex(v.address)))
    assert.equal(await getCommit(['0x3e8']), null, 'a height not reached yet')
    assert.throws(() => getCommit([0]), /genesis/)
    assert.throws(() => getCommit(['five']), /height/)
  })

  test('a proposer pulls txs for a third of the propose timeout at most; past it the block closes with what it has', async () => {
    const { nodes } = cluster
    const proposeMs = fastConfig().timeouts!.proposeMs
    const built = nodes.flatMap((v) => v.builds)
    assert.ok(built.length > 0, 'blocks were proposed')
    for (const b of built) assert.ok(b.budgetMs !== undefined && b.budgetMs <= proposeMs / 3 && b.budgetMs > 0, `budget ${b.budgetMs} ms for a ${proposeMs} ms propose timeout`)
    // The host's source hands out nothing after the deadline (the node's mempool source does the same).
    const host = nodes[0].host()
    const signer = new Signer(nodes[0].t.common)
    const many = Array.from({ length: 50 }, (_, i) => signer.transfer(7, addressOf(8).bytes, BigInt(i + 1)))
    nodes[0].pending.push(...many)
    const late = await host.build({ timestamp: nodes[0].t.chain.head.header.timestamp + 1n, producer: addressOf(0).bytes, presetSeal: new Uint8Array(0), deadline: Date.now() - 1 })
    assert.equal(late.block.txs.length, 0, 'a passed deadline: no txs')
    nodes[0].pending = nodes[0].pending.filter((tx) => !many.includes(tx))
  })

  test('one validator stopped: the other three keep finalizing', async () => {
    const { nodes } = cluster
    await nodes[3].stop()
    const live = nodes.slice(0, 3)
    const from = minHeight(live)
    await waitFor(() => minHeight(live) >= from + 5n, 30_000, '5 more heights without validator 3')
    const top = minHeight(live)
    for (let h = 1n; h <= top; h++) assert.equal(new Set(hashesAt(live, h)).size, 1, `height ${h}`)
  })

  test('two validators stopped: no new height; restarting them resumes finality', async () => {
    const { nodes } = cluster
    await nodes[2].stop()
    const live = nodes.slice(0, 2)
    // Both live nodes reach the next height and vote in it, but 2 of 4 is no quorum: they
    // wait in round 0 (Tendermint needs 2f+1 prevotes to even start the prevote timeout).
    const state = (v: TestValidator) => v.engine!.consensusState()
    const voting = () => live.every((v) => BigInt(state(v).height) === v.height + 1n && ['prevote', 'precommit'].includes(state(v).step))
    await waitFor(voting, 20_000, 'live validators voting at the next height')
    const stalled = live.map((v) => v.height)
    // A negative claim needs a bound: 2 s, five times the longest round-0 timeout.
    const until = Date.now() + 2000
    await waitFor(() => Date.now() >= until || live.some((v, i) => v.height !== stalled[i]), 5000, 'the stall window')
    assert.deepEqual(live.map((v) => v.height), stalled, 'no height may be finalized by 2 of 4 validators')
    const stuck = live.reduce((m, v) => (v.height > m ? v.height : m), 0n)
    await nodes[2].start()
    await nodes[3].start()
    await waitFor(() => minHeight(nodes) >= stuck + 3n, 40_000, 'finality after the restart, all 4 caught up')
    const top = minHeight(nodes)
    for (let h = 1n; h <= top; h++) assert.equal(new Set(hashesAt(nodes, h)).size, 1, `height ${h}`)
  })
})

describe('bft engine: proposal bodies that never arrive by gossip (defect 3)', () => {
  test('every block is fetched by hash and validated: all four validators keep voting for real blocks', async () => {
    // No proposal carries its block (as for a block too big for a gossip frame, or a body a
    // validator missed while restarting): valid(v) must wait for the fetch, never answer false.
    const { nodes, close } = await startCluster(4, { maxInlineBlockBytes: 0 })
    try {
      await waitFor(() => minHeight(nodes) >= 6n, 30_000, 'height 6 with fetched bodies only')
      const signers = new Set<string>()
      for (let h = 2n; h <= 6n; h++) {
        const cert = decodeSeal(nodes[0].t.chain.getBlockAt(h)!.header.seal).parentCertificate!
        for (const s of cert.signatures) signers.add(bytesToHex(s.validator))
        assert.equal(new Set(hashesAt(nodes, h - 1n)).size, 1)
      }
      assert.equal(signers.size, 4, 'every validator precommitted blocks it could only have fetched')
    } finally {
      await close()
    }
  })
})

describe('bft engine: a lone validator with a datadir', () => {
  test('restarts and proposes at once: the head certificate is stored with the head block, no peer needed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'catena-bft-'))
    const net = new MemoryNetwork()
    const spec = consortiumChainSpec()
    const config = { ...fastConfig(), validators: [{ address: addressOf(0).bytes, power: 5n }] }
    const v = await TestValidator.create(0, net, spec, config)
    v.datadir = dir
    try {
      await v.start()
      await waitFor(() => v.height >= 3n, 10_000, 'height 3 with one validator')
      await v.stop()
      const stoppedAt = v.height
      assert.ok(existsSync(join(dir, 'bft-vote.wal')))
      assert.ok(v.t.chain.getProof(v.t.chain.head.hash), 'the certificate is in the store, beside the block')
      await v.start()
      const cert = v.engine!.latestCertificate()
      assert.equal(cert?.height, stoppedAt, 'certificate of the head read from the chain')
      await waitFor(() => v.height >= stoppedAt + 2n, 10_000, 'two more heights after the restart')
      const block = v.t.chain.getBlockAt(stoppedAt + 1n)!
      assert.deepEqual(decodeSeal(block.header.seal).parentCertificate?.blockHash, v.t.chain.getHashAt(stoppedAt))
    } finally {
      await v.stop()
      net.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
