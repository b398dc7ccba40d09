/**
 * Proof of Stake at the chain level: the staking contract at genesis (its balance is the
 * bonded stake, counted as issued), the stakes history, the engine's duties executed with a
 * block (a slash from SYSTEM_ADDRESS, the reward shared with voters), and the spec rules.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import type { BlockRules } from '../../../src/chain/import.ts'
import { loadChainSpec, parseChainSpec } from '../../../src/chain/spec/index.ts'
import { presetJSON } from '../../../src/chain/spec/presets.ts'
import { STAKING_ADDRESS, SYSTEM_ADDRESS, encodeSlash } from '../../../src/contracts/index.ts'
import { KEYS, addressOf, openTestChain, produceBlock, PRODUCER } from '../../helpers/chain.ts'
import { BftEngine, encodeSeal } from '../../../src/consensus/bft-engine/index.ts'
import { duplicateVoteEvidence, signVote, type DuplicateVoteEvidence } from '../../../src/consensus/bft/index.ts'

const ETHER = 10n ** 18n
const spec = loadChainSpec('ethereum-like')

function issuesOf(mutate: (engine: any) => void): string[] {
  const json = presetJSON('ethereum-like')!
  mutate(json.engine)
  try {
    parseChainSpec(json, 'pos.json')
    return []
  } catch (err) {
    return (err as { issues: string[] }).issues
  }
}

/** An engine with fixed duties (its header checks off: these blocks carry no BFT seal). */
function engineWith(duties: ReturnType<NonNullable<BlockRules['blockEffects']>>): BlockRules {
  return { verifyHeader() {}, maxFutureSeconds: 15n, blockEffects: () => duties }
}

/** The duties the PoS engine's rules derive from a seal carrying `evidence` at `height`. */
function dutiesOf(height: bigint, evidence: DuplicateVoteEvidence[]) {
  if (spec.engine.type !== 'bft') throw new Error('not pos')
  const rules = BftEngine.rulesFor({ chainId: spec.chainId, config: spec.engine })
  return rules.blockEffects({ height, seal: encodeSeal({ round: 0, parentCertificate: null, evidence }) })
}

describe('proof of stake chain', () => {
  test('genesis bonds the validators stake in the staking contract and records the stakes', async () => {
    const t = await openTestChain({ spec })
    const staking = await t.executor.readAccount(t.chain.head.header.stateRoot, createAddressFromString(STAKING_ADDRESS))
    assert.equal(staking?.balance, 4n * 32n * ETHER)
    const allocated = 20n * 10_000n * ETHER
    assert.equal(t.chain.getIssued(t.chain.head.hash), allocated + 4n * 32n * ETHER, 'bonded stake counts toward the supply')
    const stakes = t.chain.stakes.after(0n)!
    assert.deepEqual(stakes.validators.map((v) => [bytesToHex(v.address), v.stake]), [0, 1, 2, 3].map((i) => [addressOf(i).toString(), 32n * ETHER]))
  })

  test('a slash duty burns stake and jails; the stakes are re-read after that block', async () => {
    const base = await openTestChain({ spec })
    // What the PoS rules make of a seal with evidence of validator 2's double prevote at height 1.
    const vote = { type: 'prevote' as const, height: 1n, round: 0, validator: addressOf(2).bytes }
    const ev = duplicateVoteEvidence(signVote({ ...vote, blockHash: new Uint8Array(32).fill(1) }, KEYS[2]!, spec.chainId), signVote({ ...vote, blockHash: null }, KEYS[2]!, spec.chainId))
    const duties = dutiesOf(1n, [ev])
    assert.deepEqual(duties.systemCalls?.map((c) => bytesToHex(c.data)), [bytesToHex(encodeSlash(addressOf(2).bytes, 1n, 0))])
    assert.equal(bytesToHex(duties.systemCalls![0]!.caller), SYSTEM_ADDRESS)
    const t = await openTestChain({ spec, store: base.store, engine: engineWith({ ...duties, rewardSplit: undefined }) })
    await produceBlock(t, [])
    const after = t.chain.stakes.after(1n)!
    assert.deepEqual(after.validators.map((v) => bytesToHex(v.address)).sort(), [0, 1, 3].map((i) => addressOf(i).toString()).sort(), 'jailed: out of the set')
    assert.equal(t.chain.stakes.after(0n)!.validators.length, 4, 'the history keeps the genesis set')
    // The same duty again (a second block carrying the same evidence) changes nothing: the call fails, the block is fine.
    await produceBlock(t, [])
    assert.equal(t.chain.head.header.height, 2n)
  })

  test('the block reward is shared: the proposer its basis points, the voters the rest by weight', async () => {
    const voterA = addressOf(5).bytes
    const voterB = addressOf(6).bytes
    const duties = { rewardSplit: { proposerBasisPoints: 2500, voters: [{ address: voterA, weight: 1n }, { address: voterB, weight: 3n }] } }
    const t = await openTestChain({ spec, engine: engineWith(duties) })
    const root0 = t.chain.head.header.stateRoot
    const balance = async (root: Uint8Array, a: Uint8Array) => (await t.executor.readAccount(root, createAddressFromString(bytesToHex(a))))?.balance ?? 0n
    const before = await Promise.all([voterA, voterB, PRODUCER].map((a) => balance(root0, a)))
    await produceBlock(t, [])
    const root1 = t.chain.head.header.stateRoot
    const after = await Promise.all([voterA, voterB, PRODUCER].map((a) => balance(root1, a)))
    const reward = ETHER / 10n
    const voters = (reward * 7500n) / 10_000n
    assert.equal(after[0]! - before[0]!, voters / 4n)
    assert.equal(after[1]! - before[1]!, (voters * 3n) / 4n)
    assert.equal(after[2]! - before[2]!, reward - voters / 4n - (voters * 3n) / 4n, 'the producer gets its share and the rounding dust')
  })

  test('spec: stakes are required with staking, powers are derived, too-small stakes are refused', () => {
    assert.deepEqual(spec.engine.type === 'bft' && spec.engine.validators.map((v) => v.power), [32n, 32n, 32n, 32n])
    assert.deepEqual(issuesOf((e) => delete e.validators[0].stake), ['/engine/validators/0/stake is required with /engine/staking (wei bonded at genesis)'])
    assert.deepEqual(issuesOf((e) => (e.validators[1].power = 5)), ['/engine/validators/1/power is derived from the stake with /engine/staking: leave it out'])
    assert.deepEqual(issuesOf((e) => (e.validators[2].stake = '1000')), [`/engine/validators/2/stake 1000 is below /engine/staking/minStake ${32n * ETHER}`])
    assert.deepEqual(issuesOf((e) => delete e.staking), [0, 1, 2, 3].flatMap((i) => [`/engine/validators/${i}/power is required (or give /engine/staking and a stake)`, `/engine/validators/${i}/stake needs /engine/staking (a PoS chain)`]))
    assert.ok(issuesOf((e) => (e.staking.slashBasisPoints = 10_001))[0]?.startsWith('/engine/staking/slashBasisPoints'))
  })
})
