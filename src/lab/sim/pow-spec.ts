/**
 * The chain spec of the lab's PoW networks: the bitcoin-like preset (its retarget rule, time
 * rules, block time, monetary policy and funded mnemonic accounts) with the genesis target made
 * easy, so a block takes a few dozen double SHA-256 in-process instead of a million. Fork
 * choice compares work, and every block of a run carries the same bits, so the race between
 * branches is the race in blocks that the models count.
 * @module
 */
import { parseChainSpec, type ChainSpec } from '../../chain/spec/index.ts'
import { presetJSON } from '../../chain/spec/presets.ts'
import { targetToCompact } from '../../consensus/pow/target.ts'
import { deriveKeys, TEST_MNEMONIC } from '../../wallet/hd.ts'

/** Expected hashes per block at the lab's genesis target. */
export const LAB_HASHES_PER_BLOCK = 32n

export function labPowSpec(preset = 'bitcoin-like'): ChainSpec {
  const json = presetJSON(preset)
  if (!json || json.engine.type !== 'pow') throw new Error(`${preset} is not a pow preset`)
  const bits = targetToCompact((1n << 256n) / LAB_HASHES_PER_BLOCK)
  json.engine = { ...json.engine, initialBits: bits, powLimitBits: bits }
  return parseChainSpec(json, `${preset} (lab: easy target)`)
}

/** Private keys of the test mnemonic's accounts, which the presets fund at genesis. */
export function labKeys(n = 10): Uint8Array[] {
  return deriveKeys(TEST_MNEMONIC, n).map((k) => k.privateKey)
}
