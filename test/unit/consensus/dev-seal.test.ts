/**
 * The dev seal: a chain spec's signer signs every block (65 bytes r ‖ s ‖ recovery over the
 * header hashed with an empty seal); the rules refuse anything else, from the header alone.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { blockHash, type BlockHeader } from '../../../src/chain/block.ts'
import { BlockError } from '../../../src/chain/errors.ts'
import { DEV_ACCOUNTS, loadChainSpec } from '../../../src/chain/spec/index.ts'
import { privateKeyToAddress } from '../../../src/crypto/secp256k1.ts'
import { DEV_SEAL_LENGTH, DEV_SIGNER_KEY, devRules, devSealSigner, devSigningHash, devSigningKey, signDevHeader } from '../../../src/consensus/dev-seal.ts'
import { sealHash } from '../../../src/consensus/pow/seal.ts'
import { TEST_MNEMONIC, deriveKeys } from '../../../src/wallet/hd.ts'

const KEYS = deriveKeys(TEST_MNEMONIC, 2).map((k) => k.privateKey)
const SIGNER = hexToBytes(DEV_ACCOUNTS[0].toLowerCase() as `0x${string}`)
/** secp256k1's group order: n - s is the other (high-s) signature of the same message. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

function header(over: Partial<BlockHeader> = {}): BlockHeader {
  return {
    parentHash: new Uint8Array(32).fill(1),
    height: 7n,
    timestamp: 1_700_000_100n,
    txRoot: new Uint8Array(32).fill(2),
    stateRoot: new Uint8Array(32).fill(3),
    receiptsRoot: new Uint8Array(32).fill(4),
    logsBloom: new Uint8Array(256),
    gasLimit: 30_000_000n,
    gasUsed: 21_000n,
    baseFee: 1_000_000_000n,
    producer: hexToBytes('0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e'),
    extraData: new Uint8Array(0),
    seal: new Uint8Array(0),
    ...over,
  }
}

function refused(fn: () => void, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BlockError, `a BlockError, got ${String(err)}`)
    assert.equal(err.code, 'BAD_SEAL')
    assert.match(err.message, pattern)
    return true
  })
}

describe('dev seal', () => {
  test('the public dev key is test account #0 of the test mnemonic, the dev preset signer', () => {
    assert.deepEqual(DEV_SIGNER_KEY, KEYS[0])
    assert.equal(bytesToHex(privateKeyToAddress(DEV_SIGNER_KEY)), DEV_ACCOUNTS[0].toLowerCase())
    const spec = loadChainSpec('dev')
    assert.ok(spec.engine.type === 'dev' && spec.engine.signer)
    assert.deepEqual(spec.engine.signer, SIGNER)
  })

  test('the signed digest is the header hashed with an empty seal (as PoW sealHash): the seal cannot cover itself', () => {
    const h = header()
    assert.deepEqual(devSigningHash(h), sealHash(h))
    assert.deepEqual(devSigningHash(h), blockHash(h))
    const signed = signDevHeader(h, DEV_SIGNER_KEY)
    assert.equal(signed.seal.length, DEV_SEAL_LENGTH)
    assert.deepEqual(devSigningHash(signed), devSigningHash(h), 'the seal is left out of what it signs')
    assert.notDeepEqual(blockHash(signed), blockHash(h), 'the block hash commits to the seal')
    assert.deepEqual(signDevHeader(h, DEV_SIGNER_KEY).seal, signed.seal, 'deterministic (RFC 6979)')
  })

  test("a block signed by the chain's signer verifies, through withHeaders too (from the header alone)", () => {
    const rules = devRules({ signer: SIGNER })
    const signed = signDevHeader(header(), DEV_SIGNER_KEY)
    rules.verifyHeader(signed, header({ height: 6n }))
    assert.ok(rules.withHeaders, 'light clients and headers-first sync can check dev headers')
    const viewless = rules.withHeaders({ getHeader: () => undefined, getHashAt: () => undefined })
    viewless.verifyHeader(signed, header({ height: 6n }))
    assert.deepEqual(devSealSigner(signed), SIGNER)
    assert.equal(rules.maxFutureSeconds, undefined, 'dev time travel stays allowed')
  })

  test('another key, an empty seal, a tampered header, a high-s twin and garbage are refused with BAD_SEAL', () => {
    const rules = devRules({ signer: SIGNER })
    const parent = header({ height: 6n })
    const other = signDevHeader(header(), KEYS[1]!)
    refused(() => rules.verifyHeader(other, parent), new RegExp(`signed by ${bytesToHex(privateKeyToAddress(KEYS[1]!))}, not by the chain's producer ${bytesToHex(SIGNER)}`))
    refused(() => rules.withHeaders!({ getHeader: () => undefined, getHashAt: () => undefined }).verifyHeader(other, parent), /not by the chain's producer/)
    refused(() => rules.verifyHeader(header(), parent), /seal is 0 bytes, not a 65-byte signature/)

    const signed = signDevHeader(header(), DEV_SIGNER_KEY)
    // Any field changed after signing: the signature recovers to some other address.
    for (const tampered of [{ timestamp: signed.timestamp + 1n }, { stateRoot: new Uint8Array(32).fill(9) }, { producer: new Uint8Array(20).fill(0xee) }, { gasUsed: 0n }]) {
      refused(() => rules.verifyHeader({ ...signed, ...tampered }, parent), /not by the chain's producer/)
    }
    // The same signature with s' = n - s (valid ECDSA, other encoding): refused, one block has one seal.
    const s = BigInt(bytesToHex(signed.seal.subarray(32, 64)))
    const twin = Uint8Array.from(signed.seal)
    twin.set(hexToBytes(`0x${(N - s).toString(16).padStart(64, '0')}`), 32)
    twin[64] = 1 - twin[64]!
    refused(() => rules.verifyHeader({ ...signed, seal: twin }, parent), /lower half/)
    refused(() => rules.verifyHeader({ ...signed, seal: new Uint8Array(65).fill(0xff) }, parent), /dev block 7/)
    refused(() => rules.verifyHeader({ ...signed, seal: signed.seal.subarray(0, 64) }, parent), /64 bytes/)
    refused(() => rules.verifyHeader({ ...signed, seal: Uint8Array.from([...signed.seal.subarray(0, 64), 2]) }, parent), /dev block 7/)
  })

  test('a spec without a signer behaves as before: no seal, any producer, nothing for a light client to check', () => {
    const rules = devRules({})
    rules.verifyHeader(header(), header({ height: 6n }))
    refused(() => rules.verifyHeader(signDevHeader(header(), DEV_SIGNER_KEY), header({ height: 6n })), /dev blocks carry no seal/)
    assert.equal(rules.withHeaders, undefined)
  })

  test("the node's signing key: none without a signer, the public dev key for its address, a given key only if it is the signer's", () => {
    assert.equal(devSigningKey({}, undefined), undefined)
    assert.equal(devSigningKey({}, KEYS[1]), undefined)
    assert.deepEqual(devSigningKey({ signer: SIGNER }, undefined), DEV_SIGNER_KEY)
    const otherSigner = privateKeyToAddress(KEYS[1]!)
    assert.deepEqual(devSigningKey({ signer: otherSigner }, KEYS[1]), KEYS[1])
    assert.throws(() => devSigningKey({ signer: otherSigner }, undefined), new RegExp(`must be signed by ${bytesToHex(otherSigner)} .*--validator-key-file`))
    assert.throws(() => devSigningKey({ signer: SIGNER }, KEYS[1]), new RegExp(`key is for ${bytesToHex(otherSigner)}, but .* must be signed by ${bytesToHex(SIGNER)}`))
  })
})
