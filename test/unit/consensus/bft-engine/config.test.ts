import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import {
  BftConfigError,
  EngineMessageError,
  ValidatorSchedule,
  bftConfigToJSON,
  consortiumEngineJSON,
  decodeEngineMessage,
  encodeEngineMessage,
  parseBftConfig,
  toTimeoutConfig,
  type EngineMessage,
} from '../../../../src/consensus/bft-engine/index.ts'
import { deriveKeys, TEST_MNEMONIC } from '../../../../src/wallet/hd.ts'

const A = '0x' + '11'.repeat(20)
const B = '0x' + '22'.repeat(20)

function issues(json: unknown): string[] {
  try {
    parseBftConfig(json)
  } catch (err) {
    assert.ok(err instanceof BftConfigError)
    assert.equal(err.code, 'INVALID_BFT_CONFIG')
    return err.issues
  }
  assert.fail('expected a BftConfigError')
}

describe('bft engine config', () => {
  test('consortium: accounts 0..3 of the test mnemonic, power 1 each', () => {
    const config = parseBftConfig(consortiumEngineJSON())
    const derived = deriveKeys(TEST_MNEMONIC, 4).map((k) => bytesToHex(privateToAddress(k.privateKey)))
    assert.deepEqual(config.validators.map((v) => bytesToHex(v.address)), derived)
    assert.deepEqual(config.validators.map((v) => v.power), [1n, 1n, 1n, 1n])
    assert.deepEqual(parseBftConfig(bftConfigToJSON(config)), config)
    assert.equal(toTimeoutConfig(config.timeouts).propose.baseMs, 3000)
  })

  test('names the field: empty set, duplicate validator, zero power, bad address, bad timeouts', () => {
    assert.match(issues({ validators: [] })[0], /^\/engine\/validators must not be empty/)
    assert.match(issues({ validators: [{ address: A, power: 1 }, { address: A.toUpperCase().replace('0X', '0x'), power: 2 }] })[0], /^\/engine\/validators\/1\/address repeats the validator at \/engine\/validators\/0/)
    assert.match(issues({ validators: [{ address: A, power: 0 }] })[0], /^\/engine\/validators\/0\/power must be a positive integer/)
    assert.match(issues({ validators: [{ address: A, power: -3 }] })[0], /^\/engine\/validators\/0\/power must be a positive integer/)
    assert.match(issues({ validators: [{ address: A, power: 1.5 }] })[0], /^\/engine\/validators\/0\/power/)
    assert.match(issues({ validators: [{ address: '0x1234', power: 1 }] })[0], /^\/engine\/validators\/0\/address must be a 20-byte/)
    assert.match(issues({})[0], /^\/engine\/validators must be a list/)
    const t = issues({ validators: [{ address: A, power: 1 }], timeouts: { proposeMs: 0, bogus: 1, commitMs: -1 } })
    assert.deepEqual(t.length, 3)
    assert.ok(t.some((l) => /^\/engine\/timeouts\/proposeMs must be a positive integer/.test(l)))
    assert.ok(t.some((l) => /^\/engine\/timeouts\/bogus is an unknown field/.test(l)))
    assert.ok(t.some((l) => /^\/engine\/timeouts\/commitMs must be a non-negative integer/.test(l)))
    // Every problem at once.
    assert.equal(issues({ validators: [{ address: A, power: 0 }, { address: B, power: 0 }] }).length, 2)
  })

  test('validator schedule: one rotation step per height, same answer in any order', () => {
    const config = parseBftConfig(consortiumEngineJSON())
    const s1 = new ValidatorSchedule(config.validators)
    const forward = Array.from({ length: 12 }, (_, i) => bytesToHex(s1.at(BigInt(i + 1)).proposer(0).address))
    assert.equal(new Set(forward.slice(0, 4)).size, 4, 'equal powers: every validator proposes once in 4 heights')
    const s2 = new ValidatorSchedule(config.validators)
    assert.equal(bytesToHex(s2.at(2000n).proposer(0).address), bytesToHex(s1.at(2000n).proposer(0).address))
    assert.equal(bytesToHex(s2.at(7n).proposer(0).address), forward[6])
    assert.throws(() => s2.at(0n), RangeError)
  })
})

describe('engine messages', () => {
  test('round-trip every kind', () => {
    const msgs: EngineMessage[] = [
      { kind: 'consensus', message: Uint8Array.of(1, 2) },
      { kind: 'proposal', message: Uint8Array.of(3), block: Uint8Array.of(4, 5) },
      { kind: 'evidence', evidence: Uint8Array.of(6) },
    ]
    for (const m of msgs) assert.deepEqual(decodeEngineMessage(encodeEngineMessage(m)), m)
  })

  test('malformed input gets a typed error', () => {
    for (const bad of [Uint8Array.of(0xc0), Uint8Array.of(1, 2, 3), Uint8Array.of(0xc2, 0x09, 0x80), Uint8Array.of(0xc2, 0x02, 0x80), Uint8Array.of(0xc4, 0x04, 0x82, 0x00, 0x01)]) {
      assert.throws(() => decodeEngineMessage(bad), (err: unknown) => err instanceof EngineMessageError && err.code === 'MALFORMED_MESSAGE')
    }
  })
})
