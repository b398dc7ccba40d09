/**
 * `catena lab fifty-one` on a small run: the hashrate to rent for a one-hour double spend on
 * the PoW presets, found by bisection over the race model, checked on fresh runs and replayed
 * through real chains.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { fiftyOne, hourProbability, networks, poissonTail, type Requirement } from '../../src/lab/experiments/fifty-one.ts'
import { rosenfeldProbability } from '../../src/lab/experiments/double-spend-formulas.ts'

describe('lab: fifty-one', () => {
  test('the PoW presets: network hashrate from genesis difficulty and block time', () => {
    const nets = networks()
    const names = nets.filter((n) => n.preset).map((n) => n.name)
    assert.deepEqual(names, ['bitcoin-like', 'bitcoin-cash-like'])
    const bl = nets[0]!
    // 0x1e10c6f7: about a million hashes a block ("suits one miner thread"), every 5 s.
    assert.ok(Math.abs(bl.hashesPerBlock! / 1_000_000 - 1) < 0.01, String(bl.hashesPerBlock))
    assert.ok(Math.abs(bl.hashrate! - bl.hashesPerBlock! / 5) < 1e-6)
  })

  test('500 runs (seed 1): every check passes; a minority of rented hashrate reverses 6 confirmations on a preset, not on 600 s blocks', async () => {
    const r = await fiftyOne.run({ runs: 500, seed: 1, progress: () => {} })
    for (const c of r.checks) assert.ok(c.pass, `${c.name}: ${c.detail}`)
    const reqs = (r.data as { requirements: Requirement[] }).requirements
    const at = (net: string, z: number, t: number) => reqs.find((x) => x.network.startsWith(net) && x.z === z && x.target === t)!
    const six = at('bitcoin-like', 6, 0.5)
    assert.ok(six.q < 0.5 && six.multiple < 1, `q = ${six.q}`)
    assert.ok(six.minerThreads! < 1, 'less than one Miner thread of this machine')
    // 720 blocks an hour: the hour hardly binds, so the q found is near Rosenfeld's unbounded answer.
    assert.ok(Math.abs(rosenfeldProbability(six.q, 6) - 0.5) < 0.08)
    const ref = at('reference', 6, 0.5)
    assert.ok(ref.reachable && ref.multiple > 1, `600 s blocks: ${ref.multiple}x`)
    assert.equal(at('reference', 10, 0.5).reachable, false)
    assert.ok(Math.abs(at('reference', 10, 0.5).ceiling - poissonTail(6, 10)) < 1e-12)
  })

  test('the hour race: a majority wins within the hour on 5 s blocks, the hour caps it on 600 s blocks', () => {
    assert.ok(hourProbability(3, 1, 0.6, 6, 5, 400) > 0.97)
    // With 600 s blocks the merchant's 10 confirmations rarely come within the hour at all (P ~ 0.084).
    assert.ok(hourProbability(3, 1, 0.9, 10, 600, 400) < 0.15)
  })
})
