/**
 * A leader that signs two blocks for one slot: both pass the rules (each is a valid block of
 * its slot), the watch that sees every stored block makes evidence of the pair, a later
 * leader's block carries it, and executing that block slashes and jails the double signer
 * through the staking contract; the evidence is not pooled again once carried, and forged or
 * repeated evidence in a seal is refused.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { BlockError } from '../../../../src/chain/errors.ts'
import { DuplicateWatch } from '../../../../src/consensus/poh-engine/duplicate-watch.ts'
import { decodePohSeal } from '../../../../src/consensus/poh-engine/seal.ts'
import { decodeDuplicateBlock, encodeDuplicateBlock } from '../../../../src/consensus/poh/index.ts'
import { makePohBlock, openPohChain, pohSpec, type PohTestChain } from '../../../helpers/poh.ts'

const opened: PohTestChain[] = []
after(async () => {
  for (const t of opened) await t.verifier.close()
})

/** The first slot after `from` whose leader differs from `not` (on the head's branch). */
function slotLedByOther(t: PohTestChain, from: bigint, not: Uint8Array): bigint {
  for (let s = from; s < from + 64n; s++) if (bytesToHex(t.rules.leaderOf(s, t.chain.head.hash)) !== bytesToHex(not)) return s
  throw new Error('no other leader within 64 slots')
}

describe('poh duplicate blocks', () => {
  test('two blocks of one slot by its leader: evidence, carried by a later block, slashes and jails the leader', async () => {
    const t = await openPohChain(pohSpec(2))
    opened.push(t)
    const watch = new DuplicateWatch()
    const a = await makePohBlock(t, { slot: 1n, timestamp: t.chain.head.header.timestamp + 1n })
    const b = await makePohBlock(t, { slot: 1n, timestamp: t.chain.head.header.timestamp + 2n })
    const leader = a.header.producer
    await t.importer.importBlock(a)
    const side = await t.importer.importBlock(b)
    assert.equal(side.status, 'side', 'the second block of the slot is valid and kept beside the first')
    assert.equal(watch.observe(a.header), undefined)
    const ev = watch.observe(b.header)
    assert.ok(ev, 'the pair makes evidence')
    assert.equal(bytesToHex(ev.a.leader), bytesToHex(leader))
    assert.equal(watch.observe(b.header), undefined, 'one offence, one piece of evidence')

    const before = t.chain.stakes.after(t.chain.head.header.height)!
    assert.ok(before.validators.some((v) => bytesToHex(v.address) === bytesToHex(leader)))
    const slot = slotLedByOther(t, 2n, leader)
    const evidence = watch.forBlock(slot, 16)
    assert.equal(evidence.length, 1)
    const carrier = await makePohBlock(t, { slot, evidence })
    watch.observe(carrier.header)
    assert.deepEqual(watch.forBlock(slot + 1n, 16), [], 'carried evidence leaves the pool')
    await t.importer.importBlock(carrier)
    const after = t.chain.stakes.after(t.chain.head.header.height)!
    assert.ok(!after.validators.some((v) => bytesToHex(v.address) === bytesToHex(leader)), 'the double signer is jailed: out of the active set')
  })

  test('forged or repeated evidence in a seal is refused', async () => {
    const t = await openPohChain(pohSpec(2))
    opened.push(t)
    const a = await makePohBlock(t, { slot: 1n, timestamp: t.chain.head.header.timestamp + 1n })
    const b = await makePohBlock(t, { slot: 1n, timestamp: t.chain.head.header.timestamp + 2n })
    await t.importer.importBlock(a)
    await t.importer.importBlock(b)
    const watch = new DuplicateWatch()
    watch.observe(a.header)
    watch.observe(b.header)
    const slot = slotLedByOther(t, 2n, a.header.producer)
    const [bytes] = watch.forBlock(slot, 16)
    const ev = decodeDuplicateBlock(bytes!)
    const forged = encodeDuplicateBlock({ a: ev.a, b: { ...ev.b, signature: ev.a.signature } })
    const head = t.chain.head.hash
    for (const [what, evidence] of [
      ['forged signature', [forged]],
      ['the same offence twice', [bytes!, bytes!]],
    ] as const) {
      const block = await makePohBlock(t, { slot, evidence: [...evidence] })
      await assert.rejects(t.importer.importBlock(block), (err: Error) => err instanceof BlockError && err.code === 'BAD_SEAL', what)
      assert.equal(bytesToHex(t.chain.head.hash), bytesToHex(head))
    }
    // The honest carrier is taken.
    await t.importer.importBlock(await makePohBlock(t, { slot, evidence: [bytes!] }))
    assert.equal(decodePohSeal(t.chain.head.header.seal).evidence.length, 1)
  })
})
