/**
 * Fork choice on equal work, through the real importer and the real PoW rules (blocks mined on
 * an easy target): a block whose branch has exactly the head's work is stored beside it; with
 * the default `tieBreak: 'first-seen'` the head stays (Bitcoin Core), with `tieBreak: 'random'`
 * the node flips a coin per tie (Eyal and Sirer's countermeasure to selfish mining), from the
 * OS's randomness unless a seeded one is injected.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import type { BlockHeader } from '../../../src/chain/block.ts'
import { chainSpecToJSON, parseChainSpec, type ChainSpec, type TieBreak } from '../../../src/chain/spec/index.ts'
import { presetJSON } from '../../../src/chain/spec/presets.ts'
import { meetsTarget, powHash } from '../../../src/consensus/pow/pow-hash.ts'
import { PowRules } from '../../../src/consensus/pow/rules.ts'
import { encodePowSeal, sealHash } from '../../../src/consensus/pow/seal.ts'
import { compactToTarget, targetToCompact } from '../../../src/consensus/pow/target.ts'
import { Prng } from '../../../src/lab/sim/prng.ts'
import { openTestChain, type TestChain } from '../../helpers/chain.ts'

const EASY = targetToCompact((1n << 256n) / 4n) // about one hash in four meets it

function powSpec(tieBreak?: TieBreak): ChainSpec {
  const json = presetJSON('bitcoin-like')!
  json.engine = { type: 'pow', initialBits: EASY, powLimitBits: EASY, retarget: { kind: 'bitcoin', interval: 2016 }, coinbaseMaturity: 0, maxReorgDepth: 100, ...(tieBreak ? { tieBreak } : {}) }
  return parseChainSpec(json)
}

async function powChain(tieBreak?: TieBreak, random?: () => number): Promise<{ t: TestChain; rules: PowRules }> {
  let t: TestChain | undefined
  const spec = powSpec(tieBreak)
  if (spec.engine.type !== 'pow') throw new Error('not pow')
  const headers = { getHeader: (h: Uint8Array) => t!.chain.getHeader(h), getHashAt: (h: bigint) => t!.chain.getHashAt(h) }
  const rules = new PowRules(spec.engine, spec.blockTimeMs, headers, () => 1n << 40n, undefined, random)
  t = await openTestChain({ spec, engine: rules })
  return { t, rules }
}

/** A real seal: the bits the branch requires and the first nonce that meets them. */
function mine(rules: PowRules, parent: { hash: Uint8Array; header: BlockHeader }) {
  return async (header: BlockHeader): Promise<BlockHeader> => {
    const bits = rules.expectedBits(parent.hash, parent.header)
    const pre = sealHash({ ...header, seal: new Uint8Array(0) })
    for (let nonce = 0n; ; nonce++) if (meetsTarget(powHash(pre, bits, nonce), compactToTarget(bits))) return { ...header, seal: encodePowSeal({ bits, nonce }) }
  }
}

const empty = { next: () => undefined, skipSender: () => {} }

/**
 * One tie on `t`: block A extends the head (first seen), then B, a sibling of A by another
 * producer, arrives. Returns whether the head moved to B.
 */
async function tie(t: TestChain, rules: PowRules, round: number): Promise<boolean> {
  const parent = t.chain.head
  const timestamp = parent.header.timestamp + 1n
  const a = await t.importer.produce({ source: empty, timestamp, producer: new Uint8Array(20).fill(1), seal: mine(rules, parent) })
  const built = await t.importer.build({ source: empty, timestamp, producer: new Uint8Array(20).fill(2), extraData: new Uint8Array([round & 0xff]), parentHash: parent.hash })
  const b = { ...built.block, header: await mine(rules, parent)(built.block.header) }
  const out = await t.importer.importBlock(b)
  assert.equal(t.chain.getWork(out.imported.hash), t.chain.getWork(a.imported.hash), 'the two branches have equal work')
  const head = bytesToHex(t.chain.head.hash)
  if (out.status === 'reorg') {
    assert.equal(head, bytesToHex(out.imported.hash))
    assert.deepEqual(out.reorg!.disconnected.map((d) => bytesToHex(d.hash)), [bytesToHex(a.imported.hash)])
    return true
  }
  assert.equal(out.status, 'side')
  assert.equal(head, bytesToHex(a.imported.hash), 'a tie kept aside leaves the first seen as head')
  return false
}

describe('fork choice on equal work (PoW tieBreak)', () => {
  test("first-seen (the default): the head stays on the block seen first, every time", async () => {
    for (const tieBreak of [undefined, 'first-seen' as const]) {
      const { t, rules } = await powChain(tieBreak, () => 0) // a coin that would always switch, were it asked
      for (let i = 0; i < 6; i++) assert.equal(await tie(t, rules, i), false)
      assert.equal(t.chain.head.header.height, 6n)
    }
  })

  test('random: with a seeded coin the node switches exactly when the coin says so, about half the time', async () => {
    const seed = 14
    const { t, rules } = await powChain('random', ((p) => () => p.next())(new Prng(seed)))
    const switched: boolean[] = []
    for (let i = 0; i < 40; i++) switched.push(await tie(t, rules, i))
    const coin = new Prng(seed)
    assert.deepEqual(switched, switched.map(() => coin.next() < 0.5), 'one coin flip per tie, in order')
    const n = switched.filter(Boolean).length
    assert.ok(n >= 12 && n <= 28, `switched ${n} of 40 ties`)
  })

  test('random without an injected coin uses the OS randomness: both outcomes occur', () => {
    const spec = powSpec('random')
    if (spec.engine.type !== 'pow') throw new Error('not pow')
    const rules = new PowRules(spec.engine, spec.blockTimeMs, { getHeader: () => undefined, getHashAt: () => undefined })
    const flips = Array.from({ length: 200 }, () => rules.switchOnTie())
    const n = flips.filter(Boolean).length
    assert.ok(n > 60 && n < 140, `${n} switches of 200`)
  })

  test('the spec field: "first-seen" or "random", absent by default, round-trips', () => {
    const tieBreakOf = (s: ChainSpec) => (s.engine.type === 'pow' ? s.engine.tieBreak : 'not pow')
    assert.equal(tieBreakOf(powSpec()), undefined)
    const spec = powSpec('random')
    assert.equal(tieBreakOf(spec), 'random')
    assert.deepEqual(parseChainSpec(chainSpecToJSON(spec)), spec)
    assert.equal((chainSpecToJSON(powSpec()).engine as { tieBreak?: string }).tieBreak, undefined, 'the default writes no field')
    const bad = chainSpecToJSON(spec)
    ;(bad.engine as { tieBreak: string }).tieBreak = 'coin'
    assert.throws(() => parseChainSpec(bad), /\/engine\/tieBreak must be "first-seen" or "random" \(got "coin"\)/)
  })
})
