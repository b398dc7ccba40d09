/**
 * Fork choice and reorganizations: blocks of another branch are stored off the canonical chain
 * only if that branch could become canonical (at least the head's work, shown by the branch
 * itself or by its verified headers; a fork point within the engine's maximum depth); when a
 * branch gains more work the chain switches to it in one batch (canonical index, tx index,
 * head), with the state of the new tip and a 'reorg' event listing what left and what joined.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, createContractAddress, hexToBytes } from '@ethereumjs/util'
import type { BlockRules } from '../../../src/chain/import.ts'
import type { Reorg } from '../../../src/chain/chain.ts'
import { Signer, addressOf, openTestChain, produceBlock, type TestChain } from '../../helpers/chain.ts'

const engine = (maxReorgDepth?: number): BlockRules => ({ verifyHeader() {}, maxFutureSeconds: 10_000n, blockWork: () => 1n, ...(maxReorgDepth !== undefined ? { maxReorgDepth } : {}) })

/** Two nodes that share block 1, then build different branches: A (2 blocks) and B (3 blocks). */
async function twoBranches(maxReorgDepth?: number) {
  const x = await openTestChain({ engine: engine(maxReorgDepth) })
  const y = await openTestChain({ engine: engine() })
  const sx = new Signer(x.common)
  const sy = new Signer(y.common)
  const b1 = await produceBlock(x, [sx.transfer(0, addressOf(9).bytes, 1n)])
  await y.importer.import(b1.imported.block)
  sy.transfer(0, addressOf(9).bytes, 0n) // keep y's signer nonce in step with block 1
  const a = [
    await produceBlock(x, [sx.transfer(1, addressOf(7).bytes, 100n)]),
    await produceBlock(x, [sx.transfer(2, addressOf(7).bytes, 200n)]),
  ].map((p) => p.imported)
  const b = [
    await produceBlock(y, [sy.transfer(3, addressOf(8).bytes, 300n)], y.chain.head.header.timestamp + 5n),
    await produceBlock(y, [sy.transfer(1, addressOf(8).bytes, 400n)], y.chain.head.header.timestamp + 5n),
    await produceBlock(y, [], y.chain.head.header.timestamp + 5n),
  ].map((p) => p.imported)
  return { x, y, a, b }
}

const INITIAL = 10_000n * 10n ** 18n
const balance = async (t: TestChain, i: number) => (await t.executor.readAccount(t.chain.head.header.stateRoot, addressOf(i)))?.balance ?? 0n

describe('fork choice and reorgs', () => {
  test('a lighter branch is stored aside; a heavier one becomes canonical in one switch', async () => {
    const { x, y, a, b } = await twoBranches()
    const events: Reorg[] = []
    const canonicalEvents: bigint[] = []
    x.chain.on('reorg', (r: Reorg) => events.push(r))
    x.chain.on('block', (blk: { block: { header: { height: bigint } } }) => canonicalEvents.push(blk.block.header.height))
    const txA = a[0]!.block.txs[0]!.hash()
    assert.ok(x.chain.getTxLocation(txA))

    // B's first block alone has less work than the head: not kept. Headers-first sync shows the
    // work of the whole branch (verified headers) and then it is.
    let validated = 0
    x.importer.onTiming = (step) => void (step === 'validate' && validated++)
    await assert.rejects(x.importer.importBlock(b[0]!.block), (err: Error & { code?: string }) => err.code === 'INSUFFICIENT_WORK' && /less than the head's 3/.test(err.message))
    assert.equal(validated, 0, 'refused before it was executed')
    assert.equal(x.chain.hasBlock(b[0]!.hash), false)
    const branchWork = y.chain.getWork(y.chain.head.hash)
    assert.equal((await x.importer.importBlock(b[0]!.block, undefined, { branchWork })).status, 'side')
    assert.equal((await x.importer.importBlock(b[1]!.block)).status, 'side', 'equal work: kept, but the first seen stays canonical')
    assert.equal(bytesToHex(x.chain.head.hash), bytesToHex(a[1]!.hash))
    assert.equal(x.chain.getTxLocation(b[0]!.block.txs[0]!.hash()), undefined, 'side blocks are not in the tx index')

    const out = await x.importer.importBlock(b[2]!.block)
    assert.equal(out.status, 'reorg')
    assert.equal(bytesToHex(x.chain.head.hash), bytesToHex(b[2]!.hash))
    assert.deepEqual(out.reorg!.disconnected.map((d) => bytesToHex(d.hash)), a.map((d) => bytesToHex(d.hash)))
    assert.deepEqual(out.reorg!.connected.map((d) => bytesToHex(d.hash)), b.map((d) => bytesToHex(d.hash)))
    assert.equal(out.reorg!.forkPoint.header.height, 1n)
    assert.equal(events.length, 1)
    assert.deepEqual(canonicalEvents, [2n, 3n, 4n], "'block' events for each connected block, in order")

    // Indexes follow the new branch.
    for (const blk of b) assert.equal(bytesToHex(x.chain.getHashAt(blk.block.header.height)!), bytesToHex(blk.hash))
    assert.equal(x.chain.getTxLocation(txA), undefined, "a disconnected tx leaves the tx index")
    assert.equal(x.chain.getTxLocation(b[1]!.block.txs[0]!.hash())?.height, 3n)
    assert.equal(x.chain.isCanonical(a[0]!.hash), false)
    assert.ok(x.chain.getBlock(a[0]!.hash), 'the old branch stays stored')
    // The state is the new tip's: account 8 got 700 wei, account 7 (paid on branch A) nothing.
    assert.equal(await balance(x, 8), INITIAL + 700n)
    assert.equal(await balance(x, 7), INITIAL)
    // Building on the new head works (the state cache follows the switch).
    const next = await produceBlock(x, [new Signer(x.common).transfer(5, addressOf(7).bytes, 1n)])
    assert.equal(next.imported.block.header.height, 5n)
  })

  test('a side-branch block sees its own ancestors through BLOCKHASH (else its state root would not match)', async () => {
    // Runtime: SSTORE(0, BLOCKHASH(NUMBER - 1)); initcode copies and returns it.
    const initcode = hexToBytes('0x6009600c60003960096000f3600143034060005500')
    const x = await openTestChain({ engine: engine() })
    const y = await openTestChain({ engine: engine() })
    const sx = new Signer(x.common)
    const sy = new Signer(y.common)
    const shared = await produceBlock(x, [sx.deploy(0, initcode, 200_000n)])
    await y.importer.import(shared.imported.block)
    sy.deploy(0, initcode, 200_000n) // keep y's signer nonce in step
    const contract = createContractAddress(addressOf(0), 0n).bytes
    assert.ok((await x.executor.readOnlyWorld(x.chain.head.header.stateRoot).manager.getCode(createContractAddress(addressOf(0), 0n))).length > 0)
    // x: two blocks of its own. y: three, the second one storing BLOCKHASH of y's block 2.
    await produceBlock(x, [])
    await produceBlock(x, [sx.transfer(1, addressOf(7).bytes, 1n)])
    const b = [
      await produceBlock(y, [], y.chain.head.header.timestamp + 5n),
      await produceBlock(y, [sy.transfer(2, contract, 0n, { gasLimit: 100_000n })], y.chain.head.header.timestamp + 5n),
      await produceBlock(y, [], y.chain.head.header.timestamp + 5n),
    ].map((p) => p.imported)
    for (const blk of b) await x.importer.importBlock(blk.block, undefined, { branchWork: y.chain.getWork(y.chain.head.hash) })
    assert.equal(bytesToHex(x.chain.head.hash), bytesToHex(b[2]!.hash), 'x switched to the heavier branch')
    const stored = await x.executor.readOnlyWorld(x.chain.head.header.stateRoot).manager.getStorage(createContractAddress(addressOf(0), 0n), new Uint8Array(32))
    assert.equal(bytesToHex(stored), bytesToHex(b[0]!.hash), "BLOCKHASH(2) in y's block 3 is y's block 2")
  })

  test('a branch forking deeper than the engine reorganizes is refused before execution, whatever its work; nothing is stored', async () => {
    const { x, a, b } = await twoBranches(1)
    let validated = 0
    x.importer.onTiming = (step) => void (step === 'validate' && validated++)
    await assert.rejects(x.importer.importBlock(b[0]!.block, undefined, { branchWork: 1000n }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'FORK_TOO_DEEP')
      assert.match(err.message, /forks from ours more than 1 blocks below the head \(height 3\)/)
      return true
    })
    assert.equal(validated, 0)
    assert.equal(x.chain.hasBlock(b[0]!.hash), false)
    assert.equal(bytesToHex(x.chain.head.hash), bytesToHex(a[1]!.hash))
  })

  test('a branch forking within the depth limit is kept and switched to', async () => {
    const { x, y, a, b } = await twoBranches(2)
    for (const blk of b.slice(0, 2)) await x.importer.importBlock(blk.block, undefined, { branchWork: y.chain.getWork(y.chain.head.hash) })
    const out = await x.importer.importBlock(b[2]!.block)
    assert.equal(out.status, 'reorg')
    assert.equal(out.reorg!.disconnected.length, a.length)
  })

  test('on a chain of final blocks (maxReorgDepth 0) a block off the head is refused and not stored', async () => {
    const { x, a, b } = await twoBranches(0)
    await assert.rejects(x.importer.importBlock(b[0]!.block), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NOT_EXTENDING_HEAD')
      assert.match(err.message, /does not extend the head .*blocks are final/)
      return true
    })
    assert.equal(x.chain.hasBlock(b[0]!.hash), false, 'nothing stored')
    assert.equal(bytesToHex(x.chain.head.hash), bytesToHex(a[1]!.hash))
    await assert.rejects(x.importer.importBlock(a[1]!.block), /already stored/, 'the head itself is already known')
  })

  test('a block whose parent is unknown is refused as UNKNOWN_PARENT; a known block as ALREADY_KNOWN', async () => {
    const { x, a, b } = await twoBranches()
    await assert.rejects(x.importer.importBlock(b[1]!.block), /UNKNOWN_PARENT|is unknown/)
    await assert.rejects(x.importer.importBlock(a[0]!.block), /already stored/)
  })
})
