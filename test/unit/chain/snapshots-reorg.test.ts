/**
 * Stake (and permission) snapshots follow the canonical branch through reorganizations. A
 * PoH leader schedule and a PoS validator set are read from them: a node that kept the
 * orphaned branch's stakes after a reorg would compute another schedule than its peers.
 * Branch A jails validator 2 at height 1 (a slash duty); branch B, longer, does not. After
 * switching to B the stakes at height 1 are genesis's again; switching back to A brings the
 * jail back; and a reopened store agrees.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import type { BlockRules } from '../../../src/chain/import.ts'
import { loadChainSpec } from '../../../src/chain/spec/index.ts'
import { BftEngine, encodeSeal } from '../../../src/consensus/bft-engine/index.ts'
import { duplicateVoteEvidence, signVote } from '../../../src/consensus/bft/index.ts'
import { MemoryStore } from '../../../src/storage/index.ts'
import { KEYS, PRODUCER, addressOf, openTestChain, type TestChain } from '../../helpers/chain.ts'

const spec = loadChainSpec('ethereum-like')
/** The engine's duties come from the block's seal, which is made after execution: a switch stands in for it. */
const slashing = { on: false }

/** While `slashing.on`, a block carries the slash of validator 2 (as a PoS seal with its evidence would); else nothing. */
function rules(): BlockRules {
  if (spec.engine.type !== 'bft') throw new Error('not pos')
  const pos = BftEngine.rulesFor({ chainId: spec.chainId, config: spec.engine })
  const vote = { type: 'prevote' as const, height: 1n, round: 0, validator: addressOf(2).bytes }
  const ev = duplicateVoteEvidence(signVote({ ...vote, blockHash: new Uint8Array(32).fill(1) }, KEYS[2]!, spec.chainId), signVote({ ...vote, blockHash: null }, KEYS[2]!, spec.chainId))
  const slash = pos.blockEffects({ height: 1n, seal: encodeSeal({ round: 0, parentCertificate: null, evidence: [ev] }) } as never)
  return {
    verifyHeader() {},
    maxFutureSeconds: 15n,
    blockEffects: () => (slashing.on ? { ...slash, rewardSplit: undefined } : {}),
  }
}

async function produce(t: TestChain, stamp: bigint) {
  return t.importer.produce({
    timestamp: t.chain.head.header.timestamp + stamp,
    producer: PRODUCER,
    seal: async (h) => h,
    source: { next: () => undefined, skipSender: () => {} },
  })
}

const setAt = (t: TestChain, h: bigint) => t.chain.stakes.after(h)!.validators.map((v) => bytesToHex(v.address)).sort()
const ALL = [0, 1, 2, 3].map((i) => addressOf(i).toString()).sort()
const JAILED = [0, 1, 3].map((i) => addressOf(i).toString()).sort()

describe('snapshots across reorgs', () => {
  test('stakes follow the canonical branch both ways, and survive a reopen', async () => {
    const store = new MemoryStore()
    const t = await openTestChain({ spec, store, rules: rules })
    // Branch A: the slash at height 1.
    slashing.on = true
    const a1 = await produce(t, 1n)
    slashing.on = false
    assert.deepEqual(setAt(t, 1n), JAILED)
    // Branch B from genesis on another node: no slash, two blocks (more work).
    const other = await openTestChain({ spec, rules: rules })
    const b1 = await produce(other, 2n)
    const b2 = await produce(other, 1n)
    await t.importer.importBlock(b1.imported.block)
    const switched = await t.importer.importBlock(b2.imported.block)
    assert.equal(switched.status, 'reorg')
    assert.equal(bytesToHex(t.chain.head.hash), bytesToHex(b2.imported.hash))
    assert.deepEqual(setAt(t, 1n), ALL, 'after the switch to B, height 1 has no slash')
    assert.deepEqual(setAt(t, 2n), ALL)

    // A grows to three blocks on the first node's side of the world, and comes back.
    const again = await openTestChain({ spec, rules: rules })
    slashing.on = true
    await again.importer.importBlock(a1.imported.block)
    slashing.on = false
    const a2 = await produce(again, 1n)
    const a3 = await produce(again, 1n)
    await t.importer.importBlock(a2.imported.block)
    const back = await t.importer.importBlock(a3.imported.block)
    assert.equal(back.status, 'reorg')
    assert.deepEqual(setAt(t, 1n), JAILED, 'back on A: the jail is in force again')
    assert.deepEqual(setAt(t, 3n), JAILED)

    const reopened = await openTestChain({ spec, store, rules: rules })
    assert.deepEqual(setAt(reopened, 1n), JAILED)
    assert.deepEqual(setAt(reopened, 0n), ALL)
  })
})
