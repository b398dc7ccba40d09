import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createBlockHeader, paramsBlock } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { gasTarget, nextBaseFee } from '../../../src/chain/basefee.ts'
import type { FeeMarket } from '../../../src/chain/spec/index.ts'

const EIP1559: FeeMarket = { initialBaseFee: 1_000_000_000n, adjust: true, elasticityMultiplier: 2n, changeDenominator: 8n }

/** geth consensus/misc/eip1559/eip1559_test.go TestCalcBaseFee (InitialBaseFee = 1 gwei). */
const GETH_VECTORS = [
  { baseFee: 1_000_000_000n, gasLimit: 20_000_000n, gasUsed: 10_000_000n, expected: 1_000_000_000n }, // at target
  { baseFee: 1_000_000_000n, gasLimit: 20_000_000n, gasUsed: 9_000_000n, expected: 987_500_000n }, // below
  { baseFee: 1_000_000_000n, gasLimit: 20_000_000n, gasUsed: 11_000_000n, expected: 1_012_500_000n }, // above
]

/**
 * ethereumjs-monorepo packages/block/test/testdata/eip1559baseFee.ts:
 * [parentBaseFee, parentGasUsed, parentTargetGasUsed, expectedBaseFee], gas limit = 2 * target.
 */
const ETHEREUMJS_VECTORS: Array<[number, number, number, number]> = [
  [1000000000, 10000000, 5000000, 1125000000], [1000000000, 10000000, 6000000, 1083333333],
  [1000000000, 10000000, 7000000, 1053571428], [1000000000, 10000000, 8000000, 1031250000],
  [1000000000, 10000000, 9000000, 1013888888], [1000000000, 7000000, 4000000, 1093750000],
  [1000000000, 7000000, 5000000, 1050000000], [1000000000, 7000000, 6000000, 1020833333],
  [1000000000, 7000000, 8000000, 984375000], [1100000000, 10000000, 5000000, 1237500000],
  [1100000000, 10000000, 6000000, 1191666666], [1100000000, 10000000, 7000000, 1158928571],
  [1100000000, 10000000, 8000000, 1134375000], [1100000000, 10000000, 9000000, 1115277777],
  [1100000000, 9000000, 5000000, 1210000000], [1100000000, 9000000, 6000000, 1168750000],
  [1100000000, 9000000, 7000000, 1139285714], [1100000000, 9000000, 8000000, 1117187500],
  [1086250000, 9000000, 5000000, 1194875000], [1086250000, 9000000, 6000000, 1154140625],
  [1086250000, 9000000, 7000000, 1125044642], [1086250000, 9000000, 8000000, 1103222656],
  [1072671875, 9000000, 5000000, 1179939062], [1072671875, 9000000, 6000000, 1139713867],
  [1072671875, 9000000, 7000000, 1110981584], [1072671875, 9000000, 8000000, 1089432373],
  [1059263476, 10001000, 6000000, 1147557500], [1059263476, 10001000, 7000000, 1116028649],
  [1059263476, 10001000, 8000000, 1092382010], [1059263476, 10001000, 9000000, 1073990180],
  [1059276716, 16000000, 8000000, 1191686305], [1059276716, 16000000, 9000000, 1162261952],
  [1049238967, 0, 1000000, 918084097], [1049238967, 0, 2000000, 918084097],
  [1049238967, 0, 3000000, 918084097], [1049238967, 0, 4000000, 918084097],
  [1049238967, 0, 5000000, 918084097], [1049238967, 0, 6000000, 918084097],
  [1049238967, 0, 7000000, 918084097], [1049238967, 0, 8000000, 918084097],
  [1049238967, 0, 9000000, 918084097], [1049238967, 10000000, 5000000, 1180393837],
  [1049238967, 10000000, 6000000, 1136675547], [1049238967, 10000000, 7000000, 1105448197],
  [1049238967, 10000000, 8000000, 1082027684], [1049238967, 10000000, 9000000, 1063811730],
  [0, 10000000, 9000000, 1], [1, 10000000, 9000000, 2], [2, 10000000, 9000000, 3], [7, 10000000, 5000000, 8],
]

/** The base fee ethereumjs computes for the child of a header with these values. */
function ethereumjsNextBaseFee(parent: { gasLimit: bigint; gasUsed: bigint; baseFee: bigint }, fm: FeeMarket): bigint {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.London })
  const params = {
    ...paramsBlock,
    1559: {
      ...paramsBlock[1559],
      elasticityMultiplier: Number(fm.elasticityMultiplier),
      baseFeeMaxChangeDenominator: Number(fm.changeDenominator),
    },
  }
  const header = createBlockHeader(
    { number: 1n, gasLimit: parent.gasLimit, gasUsed: parent.gasUsed, baseFeePerGas: parent.baseFee },
    { common, params },
  )
  return header.calcNextBaseFee()
}

/** Seeded xorshift over 64-bit bigints, so failures reproduce. */
function prng(seed: bigint) {
  let s = seed
  const next64 = () => {
    s ^= (s << 13n) & 0xffffffffffffffffn
    s ^= s >> 7n
    s ^= (s << 17n) & 0xffffffffffffffffn
    return s
  }
  return { below: (n: bigint) => (n <= 0n ? 0n : ((next64() << 64n) | next64()) % n) }
}

describe('nextBaseFee (EIP-1559)', () => {
  test("geth's TestCalcBaseFee vectors", () => {
    for (const v of GETH_VECTORS) assert.equal(nextBaseFee(v, EIP1559), v.expected, JSON.stringify(v, (_, x) => `${x}`))
  })

  test("ethereumjs's eip1559baseFee vectors", () => {
    for (const [baseFee, gasUsed, target, expected] of ETHEREUMJS_VECTORS) {
      const parent = { baseFee: BigInt(baseFee), gasUsed: BigInt(gasUsed), gasLimit: BigInt(target) * 2n }
      assert.equal(nextBaseFee(parent, EIP1559), BigInt(expected), `baseFee ${baseFee} used ${gasUsed} target ${target}`)
    }
  })

  test('an increase is at least 1 wei, a decrease may reach 0', () => {
    const limit = 30_000_000n
    assert.equal(nextBaseFee({ baseFee: 0n, gasUsed: limit / 2n + 1n, gasLimit: limit }, EIP1559), 1n)
    assert.equal(nextBaseFee({ baseFee: 5n, gasUsed: limit / 2n + 1n, gasLimit: limit }, EIP1559), 6n)
    assert.equal(nextBaseFee({ baseFee: 0n, gasUsed: 0n, gasLimit: limit }, EIP1559), 0n)
    // An empty block with denominator 1 removes the whole base fee.
    assert.equal(nextBaseFee({ baseFee: 1_000n, gasUsed: 0n, gasLimit: limit }, { ...EIP1559, changeDenominator: 1n }), 0n)
    // A full block raises it by exactly 1/8 (elasticity 2), an empty one lowers it by 1/8.
    assert.equal(nextBaseFee({ baseFee: 800n, gasUsed: limit, gasLimit: limit }, EIP1559), 900n)
    assert.equal(nextBaseFee({ baseFee: 800n, gasUsed: 0n, gasLimit: limit }, EIP1559), 700n)
  })

  test('gas target = limit / elasticity (odd limits round down)', () => {
    assert.equal(gasTarget(30_000_001n, EIP1559), 15_000_000n)
    assert.equal(nextBaseFee({ baseFee: 1_000n, gasUsed: 15_000_000n, gasLimit: 30_000_001n }, EIP1559), 1_000n)
  })

  test('adjust = false keeps the initial base fee whatever the parent used', () => {
    const fixed = { ...EIP1559, adjust: false, initialBaseFee: 0n }
    assert.equal(nextBaseFee({ baseFee: 0n, gasUsed: 30_000_000n, gasLimit: 30_000_000n }, fixed), 0n)
    assert.equal(nextBaseFee({ baseFee: 0n, gasUsed: 0n, gasLimit: 30_000_000n }, { ...fixed, initialBaseFee: 7n }), 7n)
  })

  test('rejects impossible parents with a typed error', () => {
    const bad = [
      { baseFee: -1n, gasUsed: 0n, gasLimit: 100n },
      { baseFee: 1n, gasUsed: 101n, gasLimit: 100n },
      { baseFee: 1n, gasUsed: -1n, gasLimit: 100n },
      { baseFee: 1n, gasUsed: 0n, gasLimit: 1n }, // gas target 0
    ]
    for (const parent of bad) assert.throws(() => nextBaseFee(parent, EIP1559), { name: 'ChainArgumentError', code: 'INVALID_ARGUMENT' })
    assert.throws(() => nextBaseFee({ baseFee: 1n, gasUsed: 0n, gasLimit: 100n }, { ...EIP1559, changeDenominator: 0n }), {
      code: 'INVALID_ARGUMENT',
    })
  })

  test('the ethereumjs oracle honours custom elasticity and denominator', () => {
    const parent = { baseFee: 1_000_000_000n, gasUsed: 10_000_000n, gasLimit: 10_000_000n }
    assert.equal(ethereumjsNextBaseFee(parent, EIP1559), 1_125_000_000n)
    assert.equal(ethereumjsNextBaseFee(parent, { ...EIP1559, changeDenominator: 16n }), 1_062_500_000n)
    assert.equal(ethereumjsNextBaseFee(parent, { ...EIP1559, elasticityMultiplier: 4n }), 1_375_000_000n)
  })

  test('matches ethereumjs calcNextBaseFee on 2,000 random parents (seeded)', () => {
    const rnd = prng(0x1559_c0ffee_beefn)
    for (let i = 0; i < 2_000; i++) {
      // Mostly Ethereum's parameters; some cases with other elasticities and denominators.
      const custom = i % 4 === 3
      const fm: FeeMarket = {
        ...EIP1559,
        elasticityMultiplier: custom ? 1n + rnd.below(8n) : 2n,
        changeDenominator: custom ? 1n + rnd.below(64n) : 8n,
      }
      const gasLimit = 5_000n + rnd.below(i % 2 === 0 ? 60_000_000n : 1n << 40n)
      const shape = rnd.below(4n)
      const target = gasLimit / fm.elasticityMultiplier
      const gasUsed = shape === 0n ? target : shape === 1n ? 0n : rnd.below(gasLimit + 1n)
      const baseFee = rnd.below(4n) === 0n ? rnd.below(16n) : rnd.below(1n << BigInt(1 + Number(rnd.below(100n))))
      const parent = { gasLimit, gasUsed, baseFee }
      const label = `case ${i}: ${JSON.stringify({ ...parent, e: fm.elasticityMultiplier, d: fm.changeDenominator }, (_, x) => (typeof x === 'bigint' ? `${x}` : x))}`
      assert.equal(nextBaseFee(parent, fm), ethereumjsNextBaseFee(parent, fm), label)
    }
  })
})
