import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { blockReward, genesisSupply, scheduledIssuance, subsidyAt } from '../../../src/chain/monetary.ts'
import type { MonetaryPolicy } from '../../../src/chain/spec/index.ts'

const SAT = 10n ** 8n
const WEI = 10n ** 18n

function policy(p: Partial<MonetaryPolicy>): MonetaryPolicy {
  return { initialBlockReward: 0n, halvingInterval: 0, supplyCap: 0n, baseFeeBurn: false, minGasPrice: 0n, ...p }
}

/** Bitcoin's parameters in `unit` base units per coin. */
const bitcoin = (unit: bigint) =>
  policy({ initialBlockReward: 50n * unit, halvingInterval: 210_000, supplyCap: 21_000_000n * unit })

/** Pays block rewards one by one from height 1, checking the per-block invariants. */
function simulate(m: MonetaryPolicy, genesis: bigint, toHeight: bigint, onBlock?: (h: bigint, issued: bigint) => void): bigint {
  let issued = genesis
  let previous: bigint | undefined
  const ceiling = genesis > m.supplyCap ? genesis : m.supplyCap
  for (let h = 1n; h <= toHeight; h++) {
    // Plain ifs: building assert messages per block would dominate the run time.
    const r = blockReward(h, issued, m)
    if (r < 0n) assert.fail(`negative reward at ${h}`)
    if (previous !== undefined && r > previous) assert.fail(`reward rose at height ${h}: ${previous} -> ${r}`)
    if (r > subsidyAt(h, m)) assert.fail(`reward above subsidy at ${h}`)
    issued += r
    if (issued > ceiling) assert.fail(`issued ${issued} passed the cap ${m.supplyCap} at ${h}`)
    previous = r
    onBlock?.(h, issued)
  }
  return issued
}

/** Seeded PRNG (mulberry32) so failures reproduce. */
function prng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const bits = (n: number) => {
    let v = 0n
    for (let i = 0; i < n; i += 16) v = (v << 16n) | BigInt(int(65536))
    return v & ((1n << BigInt(n)) - 1n)
  }
  return { next, int, bits }
}

describe('subsidyAt (Bitcoin Core GetBlockSubsidy)', () => {
  const btc = bitcoin(SAT)

  test('genesis pays nothing, block 1 pays the initial reward', () => {
    assert.equal(subsidyAt(0n, btc), 0n)
    assert.equal(subsidyAt(1n, btc), 50n * SAT)
    assert.equal(subsidyAt(1, btc), 50n * SAT)
  })

  test('halves by integer right shift at each interval boundary', () => {
    assert.equal(subsidyAt(209_999n, btc), 5_000_000_000n)
    assert.equal(subsidyAt(210_000n, btc), 2_500_000_000n)
    assert.equal(subsidyAt(420_000n, btc), 1_250_000_000n)
    assert.equal(subsidyAt(630_000n, btc), 625_000_000n)
    assert.equal(subsidyAt(840_000n, btc), 312_500_000n) // the 2024 halving: 3.125 BTC
    assert.equal(subsidyAt(32n * 210_000n, btc), 1n) // 5e9 >> 32
    assert.equal(subsidyAt(33n * 210_000n, btc), 0n)
  })

  test('is zero from the 64th halving on, even when the shift would leave something', () => {
    const m = policy({ initialBlockReward: 1n << 100n, halvingInterval: 10 })
    assert.equal(subsidyAt(639n, m), 1n << 37n)
    assert.equal(subsidyAt(640n, m), 0n)
    assert.equal(subsidyAt(10n ** 30n, m), 0n)
  })

  test('a halving interval of 0 never halves', () => {
    const m = policy({ initialBlockReward: 7n })
    assert.equal(subsidyAt(1n, m), 7n)
    assert.equal(subsidyAt(10n ** 40n, m), 7n)
  })

  test('rejects negative and fractional heights with a typed error', () => {
    assert.throws(() => subsidyAt(-1n, btc), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => subsidyAt(1.5, btc), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => subsidyAt(1n, { ...btc, halvingInterval: -1 }), { code: 'INVALID_ARGUMENT' })
  })
})

describe("Bitcoin's schedule", () => {
  // Bitcoin's famous total, 20,999,999.9769 BTC, is the sum of 210,000 * (50 BTC >> era) over
  // all eras, counting the genesis coinbase. That coinbase is unspendable in Bitcoin, and in
  // Catena genesis pays nothing, so Catena issues exactly 50 BTC less.
  const BITCOIN_TOTAL_SAT = 2_099_999_997_690_000n

  test('8 decimals: the sum of all rewards is 20,999,999.9769 BTC less the genesis coinbase', () => {
    const btc = bitcoin(SAT)
    const total = scheduledIssuance(btc, 0n)
    assert.equal(total + 50n * SAT, BITCOIN_TOTAL_SAT)
    assert.ok(total <= btc.supplyCap)
  })

  test('8 decimals: paying every block one by one gives the closed-form total', () => {
    const btc = bitcoin(SAT)
    const eraEnds = new Map<bigint, bigint>()
    const issued = simulate(btc, 0n, 34n * 210_000n, (h, total) => {
      if (h % 210_000n === 209_999n) eraEnds.set(h, total)
    })
    assert.equal(issued, BITCOIN_TOTAL_SAT - 50n * SAT)
    assert.equal(issued, scheduledIssuance(btc, 0n))
    assert.equal(eraEnds.size, 34)
    for (const [h, total] of eraEnds) assert.equal(scheduledIssuance(btc, 0n, h), total, `at height ${h}`)
    assert.equal(scheduledIssuance(btc, 0n, 209_999n), 209_999n * 50n * SAT)
    assert.equal(scheduledIssuance(btc, 0n, 210_000n), 209_999n * 50n * SAT + 25n * SAT)
  })

  test('18 decimals: the total matches the per-era sum and stays just under the cap', () => {
    const m = bitcoin(WEI)
    let expected = -50n * WEI // genesis pays nothing
    for (let era = 0n; era < 64n; era++) expected += 210_000n * ((50n * WEI) >> era)
    const total = scheduledIssuance(m, 0n)
    assert.equal(total, expected)
    assert.ok(total <= m.supplyCap)
    // What is lost: the genesis reward, rounding (< 1 wei per block) and the tail after era 64.
    const shortfall = m.supplyCap - 50n * WEI - total
    assert.ok(shortfall > 0n && shortfall < 64n * 210_000n + 210_000n * 4n, `shortfall ${shortfall}`)
  })
})

describe('supply cap', () => {
  test('a tight cap clips the reward exactly at the cap, then pays nothing', () => {
    const m = policy({ initialBlockReward: 50n, halvingInterval: 0, supplyCap: 1_000n + 125n })
    const rewards: bigint[] = []
    simulate(m, 1_000n, 6n, (h, issued) => rewards.push(issued))
    assert.deepEqual(rewards, [1_050n, 1_100n, 1_125n, 1_125n, 1_125n, 1_125n])
    assert.equal(blockReward(3n, 1_100n, m), 25n)
    assert.equal(blockReward(4n, 1_125n, m), 0n)
    assert.equal(scheduledIssuance(m, 1_000n), 1_125n)
    assert.equal(scheduledIssuance(m, 1_000n, 2n), 1_100n)
    assert.equal(scheduledIssuance(m, 1_000n, 3n), 1_125n)
  })

  test('genesis allocations count against the cap', () => {
    const alloc = new Map([
      ['0x' + '11'.repeat(20), { balance: 600n, nonce: 0n }],
      ['0x' + '22'.repeat(20), { balance: 390n, nonce: 0n }],
    ])
    const m = policy({ initialBlockReward: 8n, halvingInterval: 1, supplyCap: 1_000n })
    assert.equal(genesisSupply(alloc), 990n)
    // heights 1.. pay 8>>1, 8>>2, 8>>3 = 4, 2, 1: only 10 fits.
    assert.equal(scheduledIssuance(m, alloc), 997n)
    assert.equal(scheduledIssuance(policy({ ...m, supplyCap: 995n }), alloc), 995n)
  })

  test('never pays a negative reward, even past the cap', () => {
    const m = policy({ initialBlockReward: 50n, supplyCap: 100n })
    assert.equal(blockReward(1n, 100n, m), 0n)
    assert.equal(blockReward(1n, 150n, m), 0n)
    assert.equal(scheduledIssuance(m, 150n), 150n)
    assert.throws(() => blockReward(1n, -1n, m), { code: 'INVALID_ARGUMENT' })
  })

  test('never halving with a cap issues exactly up to the cap', () => {
    const m = policy({ initialBlockReward: 3n, supplyCap: 100n })
    assert.equal(scheduledIssuance(m, 0n), 100n)
    assert.equal(scheduledIssuance(m, 0n, 10n), 30n)
    assert.equal(simulate(m, 0n, 40n), 100n)
    assert.equal(scheduledIssuance(policy({ supplyCap: 100n }), 7n), 7n)
  })
})

describe('randomised schedules (seeded)', () => {
  test('300 random policies: never above the cap, non-increasing, closed form = per block', () => {
    const rnd = prng(0xca7e4a)
    for (let c = 0; c < 300; c++) {
      const interval = rnd.next() < 0.1 ? 0 : 1 + rnd.int(120)
      const reward = rnd.bits(1 + rnd.int(90))
      const genesis = rnd.next() < 0.3 ? 0n : rnd.bits(1 + rnd.int(100))
      // Caps below, near and above the schedule's natural total.
      const natural = genesis + reward * BigInt(Math.max(interval, 1)) * 2n
      const capKind = rnd.int(3)
      const cap = capKind === 0 ? rnd.bits(1 + rnd.int(100)) : capKind === 1 ? natural - rnd.bits(8) : natural * 2n
      const m = policy({ initialBlockReward: reward, halvingInterval: interval, supplyCap: cap < 0n ? 0n : cap })
      const horizon = interval === 0 ? 500n : BigInt(interval) * 66n
      const checkpoints = new Set([1n, horizon / 3n, horizon / 2n, BigInt(rnd.int(Number(horizon)) + 1)])
      const label = `case ${c}: ${JSON.stringify({ reward: `${reward}`, interval, genesis: `${genesis}`, cap: `${m.supplyCap}` })}`
      const issued = simulate(m, genesis, horizon, (h, total) => {
        if (checkpoints.has(h)) assert.equal(scheduledIssuance(m, genesis, h), total, `${label} at ${h}`)
      })
      assert.equal(scheduledIssuance(m, genesis, horizon), issued, label)
      if (interval > 0) assert.equal(scheduledIssuance(m, genesis), issued, `${label}: all eras are over`)
      else assert.ok(scheduledIssuance(m, genesis) >= issued, label)
    }
  })
})
