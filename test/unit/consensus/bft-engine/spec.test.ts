import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import { ChainSpecError, chainSpecToJSON, loadChainSpec, parseChainSpec, type ChainSpecJSON } from '../../../../src/chain/spec/index.ts'
import { parseBftConfig } from '../../../../src/consensus/bft-engine/index.ts'
import { deriveKeys, TEST_MNEMONIC } from '../../../../src/wallet/hd.ts'

function consortiumJSON(): ChainSpecJSON {
  return chainSpecToJSON(loadChainSpec('consortium'))
}

function issuesOf(json: unknown): string[] {
  try {
    parseChainSpec(json, 'test')
  } catch (err) {
    assert.ok(err instanceof ChainSpecError)
    return err.issues
  }
  assert.fail('expected a ChainSpecError')
}

describe('consortium preset and the bft engine spec', () => {
  test('consortium: chain 1338, 4 validators = accounts 0..3 (power 1), free gas, no reward', () => {
    const spec = loadChainSpec('consortium')
    assert.equal(spec.chainId, 1338n)
    assert.equal(spec.blockTimeMs, 1000)
    assert.equal(spec.engine.type, 'bft')
    if (spec.engine.type !== 'bft') return
    const derived = deriveKeys(TEST_MNEMONIC, 4).map((k) => bytesToHex(privateToAddress(k.privateKey)))
    assert.deepEqual(spec.engine.validators.map((v) => bytesToHex(v.address)), derived)
    assert.deepEqual(spec.engine.validators.map((v) => v.power), [1n, 1n, 1n, 1n])
    assert.equal(spec.monetary.initialBlockReward, 0n)
    assert.equal(spec.monetary.minGasPrice, 0n)
    assert.equal(spec.feeMarket.initialBaseFee, 0n)
    assert.equal(spec.feeMarket.adjust, false)
    // Round trip through the genesis-file JSON, and the engine accepts the spec's config.
    assert.deepEqual(parseChainSpec(JSON.parse(JSON.stringify(consortiumJSON()))), spec)
    assert.deepEqual(parseBftConfig(consortiumJSON().engine).validators, spec.engine.validators)
  })

  test('rejects an empty set, a duplicate validator, zero power, a bad timeout, naming the field', () => {
    const j = consortiumJSON() as ChainSpecJSON & { engine: { validators: Array<{ address: string; power: number | string }>; timeouts?: Record<string, number> } }
    assert.deepEqual(issuesOf({ ...j, engine: { ...j.engine, validators: [] } }), ['/engine/validators must be a non-empty list of { address, power } (or { address, stake } with staking) (got [])'])
    const dup = { ...j, engine: { ...j.engine, validators: [...j.engine.validators, { ...j.engine.validators[0] }] } }
    assert.match(issuesOf(dup)[0], /^\/engine\/validators\/4\/address repeats the validator at \/engine\/validators\/0/)
    const zero = { ...j, engine: { ...j.engine, validators: [{ ...j.engine.validators[0], power: 0 }, ...j.engine.validators.slice(1)] } }
    assert.deepEqual(issuesOf(zero), ['/engine/validators/0/power must be a positive integer (got 0)'])
    const bad = { ...j, engine: { ...j.engine, timeouts: { ...j.engine.timeouts!, proposeMs: 0 } } }
    assert.deepEqual(issuesOf(bad), ['/engine/timeouts/proposeMs must be a positive integer (got 0)'])
    const unknown = { ...j, engine: { ...j.engine, quorum: 3 } }
    assert.match(issuesOf(unknown)[0], /^\/engine\/quorum is an unknown field/)
    assert.match(issuesOf({ ...j, engine: { type: 'pos' } })[0], /^\/engine\/type must be one of "dev", "bft"/)
  })

  test('the dev preset is unchanged by the bft engine (its signer is the dev seal\'s: test account #0)', () => {
    assert.deepEqual(loadChainSpec('dev').engine, { type: 'dev', automine: true, intervalMs: 0, signer: privateToAddress(deriveKeys(TEST_MNEMONIC, 1)[0]!.privateKey) })
  })
})
