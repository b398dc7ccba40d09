/**
 * Difficulty follows hashrate, with real mining: every block is mined by the Miner (a worker
 * thread, double SHA-256 over the real preimage) on an easy target and imported into a chain
 * that checks its bits, proof and time rules. Only the clock is virtual: a block takes the
 * hashes the miner really tried divided by the hashrate of the phase, so the hashrate can jump
 * 4x up and 8x down without the test waiting for it. The run is deterministic (the hashes
 * are), so the thresholds cannot flake.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseChainSpec } from '../../../../src/chain/spec/index.ts'
import { presetJSON } from '../../../../src/chain/spec/presets.ts'
import type { BlockHeader } from '../../../../src/chain/block.ts'
import { Miner } from '../../../../src/consensus/pow/miner.ts'
import { encodePowSeal, sealHash } from '../../../../src/consensus/pow/seal.ts'
import { PowRules } from '../../../../src/consensus/pow/rules.ts'
import { compactToTarget, targetToCompact } from '../../../../src/consensus/pow/target.ts'
import { openTestChain } from '../../../helpers/chain.ts'

const SPACING = 60 // seconds
const HASHES_PER_BLOCK = 2000n // at the genesis target
const BASE_RATE = Number(HASHES_PER_BLOCK) / SPACING // virtual hashes per second at 1x
const PHASES = [
  { blocks: 80, rate: 1 },
  { blocks: 160, rate: 4 },
  { blocks: 160, rate: 0.5 },
]
const miner = new Miner({ threads: 1 })
after(() => miner.close())

async function run(retarget: { kind: 'bitcoin'; interval: number } | { kind: 'asert'; halfLifeSeconds: number }) {
  const json = presetJSON('bitcoin-cash-like')!
  json.blockTimeMs = SPACING * 1000
  json.engine = {
    type: 'pow',
    initialBits: targetToCompact((1n << 256n) / HASHES_PER_BLOCK),
    powLimitBits: targetToCompact((1n << 256n) / 64n),
    retarget,
    coinbaseMaturity: 0,
    maxReorgDepth: 100,
  } as typeof json.engine
  const spec = parseChainSpec(json)
  let clock = 0 // virtual seconds since genesis
  const t0 = { value: 0n }
  const verifier = new PowRules(spec.engine as never, spec.blockTimeMs, { getHeader: (h) => t.chain.getHeader(h), getHashAt: (h) => t.chain.getHashAt(h) }, () => t0.value + BigInt(Math.floor(clock)) + 10_000n)
  const t = await openTestChain({ spec, engine: verifier })
  t0.value = t.chain.head.header.timestamp
  const times: Array<{ rate: number; solve: number }> = []

  for (const phase of PHASES) {
    for (let i = 0; i < phase.blocks; i++) {
      const parent = t.chain.head
      // A miner stamps its template with the clock, and never at or below the median time past.
      const mtp = verifier.medianTimePastAfter(parent.hash, parent.header)
      const now = t0.value + BigInt(Math.floor(clock))
      const timestamp = now > mtp ? now : mtp + 1n
      let attempts = 0n
      const seal = async (header: BlockHeader): Promise<BlockHeader> => {
        const bits = verifier.expectedBits(header.parentHash, parent.header)
        const found = await miner.mine({ sealHash: sealHash({ ...header, seal: new Uint8Array(0) }), bits, target: compactToTarget(bits), startNonce: 0n })
        assert.ok(found, 'the miner found a nonce')
        attempts = found.nonce + 1n // one thread from nonce 0: the hashes it tried
        return { ...header, seal: encodePowSeal({ bits, nonce: found.nonce }) }
      }
      await t.importer.produce({ timestamp, producer: new Uint8Array(20), seal, source: { next: () => undefined, skipSender: () => {} } })
      const solve = Number(attempts) / (BASE_RATE * phase.rate)
      clock += solve
      times.push({ rate: phase.rate, solve })
    }
  }
  return times
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

describe('pow: difficulty converges to the target block time when hashrate changes (real mining, easy target)', () => {
  const rules = [
    ['ASERT, half-life 10 blocks', { kind: 'asert' as const, halfLifeSeconds: 10 * SPACING }],
    ['Bitcoin retarget every 20 blocks', { kind: 'bitcoin' as const, interval: 20 }],
  ] as const
  for (const [name, rule] of rules) {
    test(name, async () => {
      const times = await run(rule)
      let start = 0
      let previous = 1
      for (const phase of PHASES) {
        const blocks = times.slice(start, start + phase.blocks).map((b) => b.solve)
        // Right after a jump the old difficulty is wrong: the first blocks come far off the spacing.
        if (phase.rate !== previous) {
          const first = mean(blocks.slice(0, 5))
          assert.ok(phase.rate > previous ? first < SPACING * 0.6 : first > SPACING * 1.6, `${phase.rate}x: first blocks took ${first.toFixed(1)} s`)
        }
        // Once caught up (the last 60 blocks of the phase), the mean is back near the spacing.
        const settled = mean(blocks.slice(-60))
        assert.ok(Math.abs(settled / SPACING - 1) <= 0.25, `${phase.rate}x phase: mean block time ${settled.toFixed(1)} s once settled (target ${SPACING} s)`)
        previous = phase.rate
        start += phase.blocks
      }
    })
  }
})
