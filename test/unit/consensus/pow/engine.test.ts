/**
 * The PoW engine on an in-memory chain with an easy target: mined blocks verify on another
 * node; a wrong nonce, wrong bits or an old timestamp are refused; total work is the sum of the
 * blocks' work; the subsidy matures after coinbaseMaturity blocks.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { engineHost } from '../../../helpers/engine-host.ts'
import { bytesToHex } from '@ethereumjs/util'
import type { Block } from '../../../../src/chain/block.ts'
import { BlockError } from '../../../../src/chain/errors.ts'
import { parseChainSpec, type ChainSpec } from '../../../../src/chain/spec/index.ts'
import { presetJSON } from '../../../../src/chain/spec/presets.ts'
import { PowEngine } from '../../../../src/consensus/pow/engine.ts'
import { decodePowSeal, encodePowSeal } from '../../../../src/consensus/pow/seal.ts'
import { targetToCompact, workFromBits } from '../../../../src/consensus/pow/target.ts'
import { addressOf, openTestChain, type TestChain } from '../../../helpers/chain.ts'

const COINBASE = addressOf(9).bytes
const EASY = targetToCompact((1n << 256n) / 2000n) // about 2,000 hashes per block

function powSpec(): ChainSpec {
  const json = presetJSON('bitcoin-like')!
  json.engine = { type: 'pow', initialBits: EASY, powLimitBits: EASY, retarget: { kind: 'bitcoin', interval: 1000 }, coinbaseMaturity: 3, maxReorgDepth: 10 }
  json.blockTimeMs = 1000
  return parseChainSpec(json, 'pow-test')
}

async function powNode(spec: ChainSpec, mine: boolean, now: () => bigint) {
  let t!: TestChain
  // The engine reads headers from the chain it checks blocks for, as the node wires it.
  const headers = { getHeader: (h: Uint8Array) => t.chain.getHeader(h), getHashAt: (h: bigint) => t.chain.getHashAt(h) }
  const engine = new PowEngine({ spec: spec.engine as never, blockTimeMs: spec.blockTimeMs, headers, coinbase: COINBASE, mine, threads: 1, now })
  t = await openTestChain({ spec, engine: engine.rules })
  await engine.start({ ...engineHost(t), produce: () => Promise.reject(new Error('manual')) })
  return { t, engine }
}

describe('pow engine', () => {
  const spec = powSpec()
  let clock = 1_700_000_100n
  const now = () => clock
  let miner: Awaited<ReturnType<typeof powNode>>
  let follower: Awaited<ReturnType<typeof powNode>>
  const mined: Block[] = []

  before(async () => {
    miner = await powNode(spec, true, now)
    follower = await powNode(spec, false, now)
    // The engine's mining loop is not running (mine: true but produce is manual): mine 5 blocks by hand.
    for (let i = 0; i < 5; i++) {
      clock += 1n
      const p = await miner.t.importer.produce({ timestamp: clock, producer: COINBASE, seal: (h) => miner.engine.seal(h), source: { next: () => undefined, skipSender() {} } })
      mined.push(p.imported.block)
    }
  })
  after(async () => {
    await miner?.engine.stop()
    await follower?.engine.stop()
  })

  test('mined blocks carry the required bits and verify on another node', async () => {
    for (const b of mined) {
      assert.equal(decodePowSeal(b.header.seal).bits, EASY)
      await follower.t.importer.import(b)
    }
    assert.equal(bytesToHex(follower.t.chain.head.hash), bytesToHex(miner.t.chain.head.hash))
    assert.equal(follower.t.chain.getWork(follower.t.chain.head.hash), 5n * workFromBits(EASY))
  })

  test('a wrong nonce, wrong bits or an old timestamp is refused', async () => {
    const other = await powNode(spec, false, now)
    for (const b of mined.slice(0, 4)) await other.t.importer.import(b)
    const last = mined[4]!
    const seal = decodePowSeal(last.header.seal)
    // A nonce that misses the target (try a few; ~1/2000 would pass).
    let bad: Block | undefined
    for (let n = seal.nonce + 1n; !bad; n++) {
      const candidate = { ...last, header: { ...last.header, seal: encodePowSeal({ bits: seal.bits, nonce: n }) } }
      try {
        other.engine.rules.verifyHeader(candidate.header, other.t.chain.head.header)
      } catch (err) {
        if (err instanceof BlockError && /proof-of-work target/.test(err.message)) bad = candidate
      }
    }
    await assert.rejects(other.t.importer.import(bad), (e: unknown) => e instanceof BlockError && e.code === 'BAD_SEAL' && /does not meet its proof-of-work target/.test(e.message))
    const wrongBits = { ...last, header: { ...last.header, seal: encodePowSeal({ bits: EASY - 1, nonce: seal.nonce }) } }
    await assert.rejects(other.t.importer.import(wrongBits), /but the retarget rule requires/)
    const parent = other.t.chain.head.header
    // Properly mined headers with a bad time: not after the median of the last blocks, or too far ahead.
    const old = await miner.engine.seal({ ...last.header, timestamp: mined[1]!.header.timestamp })
    assert.throws(() => other.engine.rules.verifyHeader(old, parent), (e: unknown) => e instanceof BlockError && e.code === 'TIME_TOO_OLD')
    const ahead = await miner.engine.seal({ ...last.header, timestamp: clock + 1000n })
    assert.throws(() => other.engine.rules.verifyHeader(ahead, parent), (e: unknown) => e instanceof BlockError && e.code === 'TIME_TOO_NEW')
    await other.engine.stop()
  })

  test('the subsidy matures after coinbaseMaturity blocks', async () => {
    const t = miner.t
    const subsidy = 50n * 10n ** 18n
    const balanceAt = async (height: bigint) => (await t.executor.readAccount(t.chain.getHeader(t.chain.getHashAt(height)!)!.stateRoot, addressOf(9)))?.balance ?? 0n
    const start = await balanceAt(0n)
    assert.equal(await balanceAt(3n), start, 'blocks 1..3 pay nothing yet')
    assert.equal(await balanceAt(4n), start + subsidy, "block 4 pays block 1's subsidy")
    assert.equal(await balanceAt(5n), start + 2n * subsidy)
    assert.equal(t.chain.getIssued(t.chain.head.hash) - t.chain.getIssued(t.chain.genesisHash), 5n * subsidy, 'issuance counts each block when mined')
  })
})
