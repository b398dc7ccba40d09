/**
 * The math behind /v1/producers, /v1/analytics and /v1/alerts: shares, the Nakamoto
 * coefficient, block-series statistics, sliding windows, producer statistics per engine
 * kind, and each alert rule with its thresholds.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Ring, SlidingWindow, nakamotoCoefficient, seriesStats, shareOf, topWeight } from '../../../src/api/rest/analytics.ts'
import {
  AlertBook,
  DEFAULT_THRESHOLDS,
  burstAlert,
  concentrationAlerts,
  doubleVoteAlerts,
  reorgAlerts,
  type ReorgRecord,
} from '../../../src/api/rest/alerts.ts'
import { computeProducers } from '../../../src/api/rest/producers.ts'

const blocksBy = (counts: Record<string, number>) => Object.entries(counts).flatMap(([producer, n]) => Array.from({ length: n }, () => ({ producer })))

describe('analytics math', () => {
  test('the Nakamoto coefficient is the fewest participants holding more than half', () => {
    assert.equal(nakamotoCoefficient([]), 0)
    assert.equal(nakamotoCoefficient([0n, 0n]), 0)
    assert.equal(nakamotoCoefficient([100n]), 1)
    assert.equal(nakamotoCoefficient([51n, 49n]), 1)
    assert.equal(nakamotoCoefficient([50n, 50n]), 2, 'exactly half is not more than half')
    assert.equal(nakamotoCoefficient([1n, 1n, 1n, 1n]), 3)
    assert.equal(nakamotoCoefficient([10n, 30n, 25n, 20n, 15n]), 2, 'order of input does not matter: 30 + 25 > 50')
    // Stake-sized weights keep exact arithmetic.
    const whale = 10n ** 30n
    assert.equal(nakamotoCoefficient([whale, whale - 1n]), 1)
    assert.equal(nakamotoCoefficient([2n, 1n, 1n], 1n, 3n), 1, 'a custom threshold: more than a third')
    assert.equal(nakamotoCoefficient([1n, 1n, 1n], 1n, 3n), 2, 'exactly a third is not more than a third')
  })

  test('shares are exact fractions as floats; no total means no share', () => {
    assert.equal(shareOf(1n, 4n), 0.25)
    assert.equal(shareOf(0n, 4n), 0)
    assert.equal(shareOf(5n, 0n), 0)
    assert.equal(shareOf(10n ** 40n, 3n * 10n ** 40n), 0.333333333333)
    assert.equal(topWeight([5n, 1n, 9n, 3n], 2), 14n)
  })

  test('series statistics: throughput, block time and gas over the time the blocks span', () => {
    const points = [
      { timestamp: 102, txCount: 4, gasUsed: 84_000n },
      { timestamp: 104, txCount: 2, gasUsed: 42_000n },
      { timestamp: 110, txCount: 0, gasUsed: 0n },
    ]
    const withParent = seriesStats(points, 100)
    assert.equal(withParent.avgBlockTime, 3.333333)
    assert.equal(withParent.txPerSecond, 0.6)
    assert.equal(withParent.avgGasUsed, 42_000n)
    // From genesis: the first block has no interval, so its txs are not a rate either.
    const fromGenesis = seriesStats(points, null)
    assert.equal(fromGenesis.avgBlockTime, 4)
    assert.equal(fromGenesis.txPerSecond, 0.25)
    assert.deepEqual(seriesStats([], null), { txPerSecond: 0, avgBlockTime: null, avgGasUsed: 0n })
    assert.equal(seriesStats([{ timestamp: 5, txCount: 3, gasUsed: 1n }], null).avgBlockTime, null)
  })

  test('a sliding window counts recent events, by tag, within bounded memory', () => {
    const w = new SlidingWindow(1000, 5)
    for (const at of [100, 200, 300]) w.record(at, at === 200 ? 'NONCE_TOO_LOW' : 'UNDERPRICED')
    assert.equal(w.count(300), 3)
    assert.deepEqual(w.byTag(300), { UNDERPRICED: 2, NONCE_TOO_LOW: 1 })
    assert.equal(w.count(1150), 2, 'the event at 100 is older than the window at 1150')
    assert.equal(w.oldest(1150), 200)
    assert.equal(w.count(5000), 0)
    for (let i = 0; i < 20; i++) w.record(6000 + i)
    assert.equal(w.count(6020), 5, 'a flood keeps only the newest maxEvents')
    assert.throws(() => new SlidingWindow(0), RangeError)
    const ring = new Ring<number>(3)
    for (let i = 1; i <= 5; i++) ring.push(i)
    assert.deepEqual(ring.toArray(), [3, 4, 5])
  })
})

describe('producer statistics', () => {
  test('miners: block shares, hashrate from work over time, coefficient by blocks', () => {
    const blocks = [
      ...blocksBy({ '0xA': 6 }).map((b) => ({ ...b, work: 100n })),
      ...blocksBy({ '0xB': 3 }).map((b) => ({ ...b, work: 100n })),
      ...blocksBy({ '0xC': 1 }).map((b) => ({ ...b, work: 100n })),
    ]
    const { json, weights, total } = computeProducers({ kind: 'miners', blocks, spanSeconds: 50 })
    assert.equal(json.kind, 'miners')
    assert.equal(json.window, 10)
    assert.deepEqual(json.items.map((i) => [i.address, i.blocks, i.share, i.hashrate]), [
      ['0xA', 6, 0.6, '12'],
      ['0xB', 3, 0.3, '6'],
      ['0xC', 1, 0.1, '2'],
    ])
    assert.equal(json.nakamotoCoefficient, 1)
    assert.equal(total, 10n)
    assert.deepEqual(weights.map((w) => w.weight), [6n, 3n, 1n])
    assert.equal(json.items[0]!.power, undefined)
  })

  test('validators: power from the set in force (including those with no blocks yet), coefficient by power', () => {
    const { json, total } = computeProducers({
      kind: 'validators',
      blocks: blocksBy({ '0xV1': 2, '0xV2': 2 }),
      spanSeconds: 4,
      validators: [
        { address: '0xV1', power: 1n },
        { address: '0xV2', power: 1n },
        { address: '0xV3', power: 2n },
      ],
    })
    assert.equal(total, 4n)
    assert.deepEqual(json.items.map((i) => [i.address, i.power, i.powerShare, i.blocks, i.share]), [
      ['0xV3', '2', 0.5, 0, 0],
      ['0xV1', '1', 0.25, 2, 0.5],
      ['0xV2', '1', 0.25, 2, 0.5],
    ])
    assert.equal(json.nakamotoCoefficient, 2, 'V3 holds exactly half: one more is needed')
    assert.equal(json.items[0]!.hashrate, undefined)
  })

  test('a dev chain: one producer, an empty window is all zeros', () => {
    assert.equal(computeProducers({ kind: 'producer', blocks: blocksBy({ '0xD': 3 }), spanSeconds: 3 }).json.nakamotoCoefficient, 1)
    const empty = computeProducers({ kind: 'miners', blocks: [], spanSeconds: 0 })
    assert.deepEqual(empty.json, { kind: 'miners', window: 0, items: [], nakamotoCoefficient: 0 })
  })
})

describe('alert rules', () => {
  const miners = (counts: Record<string, number>) => computeProducers({ kind: 'miners', blocks: blocksBy(counts), spanSeconds: 0 })

  test('a miner at 40% is a warning, above 50% critical; too few blocks say nothing', () => {
    assert.deepEqual(concentrationAlerts('miners', miners({ A: 3, B: 2, C: 2, D: 2, E: 1 })), [], 'the top two at exactly half: no coalition')
    const warn = concentrationAlerts('miners', miners({ A: 4, B: 1, C: 1, D: 1, E: 1, F: 1, G: 1 }))
    assert.equal(warn.length, 1)
    assert.equal(warn[0]!.severity, 'warning')
    assert.equal(warn[0]!.id, 'concentration:a')
    assert.deepEqual(warn[0]!.data.addresses, ['A'])
    const crit = concentrationAlerts('miners', miners({ A: 6, B: 2, C: 2 }))
    assert.deepEqual(crit.map((a) => [a.kind, a.severity]), [['concentration', 'critical']])
    assert.match(crit[0]!.message, /60% of the last 10 blocks/)
    assert.equal(concentrationAlerts('miners', miners({ A: 5 })).length, 0, 'below minBlocks')
    assert.equal(concentrationAlerts('miners', miners({ A: 5 }), { ...DEFAULT_THRESHOLDS, minBlocks: 1 })[0]!.severity, 'critical')
  })

  test('two miners that together hold a majority are a coalition warning (with more than two miners)', () => {
    const alerts = concentrationAlerts('miners', miners({ A: 3, B: 3, C: 2, D: 1, E: 1 }))
    assert.deepEqual(alerts.map((a) => [a.id, a.severity]), [['concentration:top2', 'warning']])
    assert.deepEqual(alerts[0]!.data.addresses, ['A', 'B'])
    assert.deepEqual(concentrationAlerts('miners', miners({ A: 5, B: 5 })).map((a) => a.severity), ['warning', 'warning'], 'two miners: each at 50% warns, no coalition alert')
  })

  test('a validator with a third of the voting power is critical; a dev chain never alerts', () => {
    const set = (powers: bigint[]) =>
      computeProducers({ kind: 'validators', blocks: [], spanSeconds: 0, validators: powers.map((power, i) => ({ address: `V${i}`, power })) })
    assert.deepEqual(concentrationAlerts('validators', set([1n, 1n, 1n, 1n])), [])
    const alerts = concentrationAlerts('validators', set([1n, 1n, 1n]))
    assert.equal(alerts.length, 3, 'each of three equal validators holds exactly 1/3')
    assert.ok(alerts.every((a) => a.severity === 'critical'))
    assert.deepEqual(concentrationAlerts('validators', set([5n, 3n, 3n, 3n])).map((a) => a.id), ['concentration:v0'])
    assert.deepEqual(concentrationAlerts('producer', computeProducers({ kind: 'producer', blocks: blocksBy({ D: 50 }), spanSeconds: 0 })), [])
  })

  test('reorgs deeper than half the safe depth warn, deeper than it are critical, and expire', () => {
    const now = 10_000_000
    const r = (depth: number, at = now - 1000): ReorgRecord => ({ at, depth, forkHeight: 100, oldHead: `0xold${depth}`, newHead: `0xnew${depth}` })
    const alerts = reorgAlerts([r(1), r(3), r(4), r(7), r(9, now - DEFAULT_THRESHOLDS.retentionMs - 1)], 6, now)
    assert.deepEqual(alerts.map((a) => [a.id, a.severity, a.at]), [
      ['deep-reorg:0xnew4', 'warning', now - 1000],
      ['deep-reorg:0xnew7', 'critical', now - 1000],
    ])
    assert.equal(alerts[1]!.data.safeDepth, 6)
  })

  test('double votes are critical while recent; bursts warn and then turn critical', () => {
    const now = 5_000_000
    const votes = doubleVoteAlerts([{ at: now - 10, validator: '0xAbC', height: 7, round: 0, voteType: 'prevote', includedIn: 9 }], now)
    assert.deepEqual(votes.map((a) => [a.id, a.kind, a.severity]), [['double-vote:0xabc/7/0/prevote', 'double-vote', 'critical']])
    assert.equal(doubleVoteAlerts([{ at: 0, validator: '0x1', height: 1, round: 0, voteType: 'prevote', includedIn: 2 }], now + DEFAULT_THRESHOLDS.retentionMs).length, 0)
    assert.equal(burstAlert('rejected-tx-burst', 49, 60_000, 50, 250), undefined)
    assert.equal(burstAlert('rejected-tx-burst', 50, 60_000, 50, 250)!.severity, 'warning')
    const crit = burstAlert('peer-ban-burst', 20, 600_000, 5, 20, { peers: ['p'] })!
    assert.equal(crit.severity, 'critical')
    assert.deepEqual(crit.data, { count: 20, windowMs: 600_000, peers: ['p'] })
    assert.match(crit.message, /20 peers banned in the last 600 s/)
  })

  test('standing conditions keep the time they were first seen until they clear', () => {
    const book = new AlertBook()
    const standing = { id: 'x', kind: 'rejected-tx-burst' as const, severity: 'warning' as const, message: 'm', data: {} }
    const event = { id: 'y', kind: 'deep-reorg' as const, severity: 'critical' as const, message: 'm', data: {}, at: 50 }
    assert.deepEqual(book.resolve([standing, event], 100).map((a) => [a.id, a.at]), [['y', 50], ['x', 100]], 'critical first')
    assert.equal(book.resolve([standing], 200)[0]!.at, 100)
    assert.equal(book.resolve([], 300).length, 0)
    assert.equal(book.resolve([standing], 400)[0]!.at, 400, 'a condition that returns starts afresh')
  })
})
