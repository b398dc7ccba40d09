/**
 * The eclipse experiment on small seeded runs: before the countermeasures the Sybil attacker
 * eclipses the victim after the restart it forces; with the node's defaults now it does not;
 * outbound-only slots alone do not help while the peer store is redialed in the order the
 * attacker controls; and the same seed gives the same numbers.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { findExperiment } from '../../src/lab/registry.ts'
import { ATTACKERS, configs } from '../../src/lab/experiments/eclipse/configs.ts'
import { runPoint } from '../../src/lab/experiments/eclipse/experiment.ts'
import { runEclipse, SCENARIO } from '../../src/lab/experiments/eclipse/scenario.ts'
import { resolveLimits } from '../../src/net/limits.ts'

const RUNS = 3
const SEED = 14
const cfgs = configs()
const cfg = (key: string) => {
  const i = cfgs.findIndex((c) => c.key === key)
  return { c: cfgs[i]!, i }
}

describe('lab: eclipse', () => {
  test('is registered', () => {
    assert.equal(findExperiment('eclipse')?.name, 'eclipse')
  })

  for (const [ai, a] of ATTACKERS.entries()) {
    test(`before the countermeasures the ${a.name} eclipses the victim in every run; with the new defaults in none`, () => {
      const before = cfg('before')
      const b = runPoint(before.c, before.i, a, ai, RUNS, SEED)
      assert.equal(b.eclipsedAtEnd.successes, RUNS, 'eclipsed after the restart')
      assert.ok(b.shareLastHour > 0.99, `attacker share in the last hour ${b.shareLastHour}`)
      assert.equal(b.final[1] + b.final[3], 0, 'no honest connection left')

      const all = cfg('all')
      assert.deepEqual(all.c.limits, resolveLimits(), "'all' is the node's defaults")
      const d = runPoint(all.c, all.i, a, ai, RUNS, SEED)
      assert.equal(d.eclipsedAtEnd.successes, 0)
      assert.equal(d.eclipsedBeforeRestart.successes, 0)
      assert.ok(d.final[3] >= 5, `honest outbound connections at the end: ${d.final[3]}`)
    })
  }

  test('outbound-only slots alone: the victim dials its slots from a poisoned store, most recent first', () => {
    const o = cfg('+outbound')
    const botnet = ATTACKERS.findIndex((a) => a.name === 'botnet')
    const p = runPoint(o.c, o.i, ATTACKERS[botnet]!, botnet, 2, SEED)
    assert.equal(p.eclipsedAtEnd.successes, 2)
    assert.equal(p.final[2], 10, 'all 10 outbound slots went to the attacker')
    assert.ok(p.storeAttackerShare < 0.9, 'though the attacker holds only part of the store')
  })

  test('same seed, same numbers', () => {
    const limits = resolveLimits()
    const x = runEclipse(limits, ATTACKERS[0]!, SCENARIO, 99)
    const y = runEclipse(limits, ATTACKERS[0]!, SCENARIO, 99)
    assert.deepEqual(x, y)
    assert.equal(x.share.length, (SCENARIO.warmupMs + SCENARIO.attackMs + SCENARIO.downtimeMs + SCENARIO.observeMs) / SCENARIO.sampleMs)
  })
})
