/**
 * The PoH chain's block rules through the real importer: a block made as its leader makes it
 * imports; each way of getting it wrong (one PoH hash, the tick count or spacing, the start,
 * the leader, the signature, the tx counts, a forged vote in the seal, timestamps claiming
 * slots too fast) is refused with its code, and nothing is stored.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import { BlockError } from '../../../../src/chain/errors.ts'
import { decodePohSeal, encodePohSeal, pohEntriesOf } from '../../../../src/consensus/poh-engine/seal.ts'
import { encodePohVote, signPohVote } from '../../../../src/consensus/poh/index.ts'
import { KEYS, Signer } from '../../../helpers/chain.ts'
import { CLOCK, makePohBlock, openPohChain, pohSpec, type PohTestChain } from '../../../helpers/poh.ts'

const opened: PohTestChain[] = []
after(async () => {
  for (const t of opened) await t.verifier.close()
})

async function chain(validators = 1, extra: Record<string, unknown> = {}): Promise<PohTestChain> {
  const t = await openPohChain(pohSpec(validators, extra))
  opened.push(t)
  return t
}

async function refused(t: PohTestChain, block: Awaited<ReturnType<typeof makePohBlock>>, code: string, message?: RegExp): Promise<void> {
  const head = t.chain.head.hash
  await assert.rejects(t.importer.importBlock(block), (err: Error) => {
    assert.ok(err instanceof BlockError, `a BlockError, got ${err.name}: ${err.message}`)
    assert.equal(err.code, code, err.message)
    if (message) assert.match(err.message, message)
    return true
  })
  assert.equal(bytesToHex(t.chain.head.hash), bytesToHex(head), 'the head did not move')
}

describe('poh block rules', () => {
  test('blocks made as the leader makes them import, with txs and after skipped slots', async () => {
    const t = await chain()
    const signer = new Signer(t.common)
    await t.importer.importBlock(await makePohBlock(t, { slot: 1n }))
    const withTxs = await makePohBlock(t, { slot: 2n, txs: [0, 1, 2].map(() => signer.transfer(5, `0x${'ab'.repeat(20)}`, 1n)) })
    assert.equal(withTxs.txs.length, 3)
    await t.importer.importBlock(withTxs)
    // Slots 3 and 4 skipped: the block of slot 5 carries their ticks too.
    const afterGap = await makePohBlock(t, { slot: 5n })
    assert.equal(decodePohSeal(afterGap.header.seal).entries.length, 3 * CLOCK.ticksPerSlot)
    await t.importer.importBlock(afterGap)
    assert.equal(t.chain.head.header.height, 3n)
    const seal = decodePohSeal(t.chain.head.header.seal)
    assert.equal(seal.slot, 5n)
    assert.equal(seal.parentSlot, 2n)
  })

  test('one wrong PoH hash is refused (BAD_POH) before execution', async () => {
    const t = await chain()
    const block = await makePohBlock(t, {
      slot: 1n,
      entries: (entries) => entries.map((e, i) => (i === 2 ? { ...e, hash: Uint8Array.from(e.hash, (b, j) => (j === 0 ? b ^ 1 : b)) } : e)),
    })
    await refused(t, block, 'BAD_POH', /entry 2/)
  })

  test('the tick count, tick spacing and the start hash are checked', async () => {
    const t = await chain()
    await refused(t, await makePohBlock(t, { slot: 1n, entries: (e) => e.slice(0, -1) }), 'BAD_POH', /ticks/)
    // One hash moved from the first tick to the second: the count is right, the spacing is not.
    await refused(
      t,
      await makePohBlock(t, { slot: 1n, entries: (e) => e.map((x, i) => (i === 0 ? { ...x, numHashes: x.numHashes - 1 } : i === 1 ? { ...x, numHashes: x.numHashes + 1 } : x)) }),
      'BAD_POH',
      /tick at entry 0/,
    )
    await refused(t, await makePohBlock(t, { slot: 1n, seal: (s) => ({ ...s, pohStart: new Uint8Array(32).fill(7) }) }), 'BAD_POH', /does not start/)
  })

  test('the producer must be the slot leader, and sign the block', async () => {
    const t = await chain(2)
    const leader = t.rules.leaderOf(1n, t.chain.head.hash)
    const other = KEYS.slice(0, 2).find((k) => bytesToHex(privateToAddress(k)) !== bytesToHex(leader))!
    await refused(t, await makePohBlock(t, { slot: 1n, key: other }), 'BAD_SEAL', /is led by/)
    // Valid block, then its seal changed after signing (another parent slot claim is caught first, so change the votes).
    const block = await makePohBlock(t, { slot: 1n })
    const seal = decodePohSeal(block.header.seal)
    const resigned = { ...block, header: { ...block.header, seal: encodePohSeal({ ...seal, signature: Uint8Array.from(seal.signature, (b, i) => (i === 10 ? b ^ 1 : b)) }) } }
    await refused(t, resigned, 'BAD_SEAL', /signed by|signature/)
    await t.importer.importBlock(block)
  })

  test('the entries must hold exactly the body txs', async () => {
    const t = await chain()
    const signer = new Signer(t.common)
    const tx = signer.transfer(5, `0x${'ab'.repeat(20)}`, 1n)
    const block = await makePohBlock(t, { slot: 1n, txs: [tx] })
    const entries = pohEntriesOf(decodePohSeal(block.header.seal), [tx.hash()])
    assert.equal(entries.filter((e) => e.txHashes.length > 0).length, 1)
    // The same block without its tx in the body: the tx root is caught first; with a body tx the entries do not name, the counts.
    const moreTxs = await makePohBlock(t, { slot: 1n, txs: [tx], seal: (s) => ({ ...s, entries: s.entries.map((e) => ({ ...e, txCount: e.txCount > 0 ? 2 : 0 })) }) })
    await refused(t, moreTxs, 'BAD_SEAL', /entries hold 2 txs but the body has 1/)
  })

  test('a forged vote in the seal is refused', async () => {
    const t = await chain()
    const voter = privateToAddress(KEYS[0]!)
    const vote = signPohVote({ voter, slot: 0n, hash: t.chain.genesisHash, lockouts: [{ slot: 0n, confirmationCount: 1 }], root: null, timestamp: 1n }, KEYS[1]!, t.spec.chainId)
    await refused(t, await makePohBlock(t, { slot: 1n, votes: [encodePohVote(vote)] }), 'BAD_SEAL', /vote 0/)
    const honest = signPohVote({ voter, slot: 0n, hash: t.chain.genesisHash, lockouts: [{ slot: 0n, confirmationCount: 1 }], root: null, timestamp: 1n }, KEYS[0]!, t.spec.chainId)
    await t.importer.importBlock(await makePohBlock(t, { slot: 1n, votes: [encodePohVote(honest)] }))
  })

  test('on a paced cluster a block cannot claim slots faster than their time', async () => {
    const t = await chain(1, { minTickMs: 250 }) // 4 ticks: 1 s slots
    await t.importer.importBlock(await makePohBlock(t, { slot: 1n }))
    const parentTime = t.chain.head.header.timestamp
    // 10 slots (10 s) later in PoH, 1 s later by its stamp.
    await refused(t, await makePohBlock(t, { slot: 11n, timestamp: parentTime + 1n }), 'BAD_SEAL', /too soon/)
    await t.importer.importBlock(await makePohBlock(t, { slot: 11n, timestamp: parentTime + 9n }))
  })

  test('malformed seals get BAD_SEAL', async () => {
    const t = await chain()
    const block = await makePohBlock(t, { slot: 1n })
    for (const seal of [new Uint8Array([0xc0]), new Uint8Array([1, 2, 3]), encodePohSeal({ ...decodePohSeal(block.header.seal), signature: new Uint8Array(3) }).subarray(0, 50)]) {
      await refused(t, { ...block, header: { ...block.header, seal } }, 'BAD_SEAL')
    }
  })
})
