import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { secp256k1 as noble } from '@noble/curves/secp256k1.js'
import { RLP } from '@ethereumjs/rlp'
import {
  SECP256K1_ORDER,
  bigIntToBytes,
  bigIntToUnpaddedBytes,
  bytesToBigInt,
  bytesToHex,
  ecrecover as utilEcrecover,
  hexToBytes,
  setLengthLeft,
} from '@ethereumjs/util'
import {
  createAccessList2930Tx,
  createFeeMarket1559Tx,
  createLegacyTx,
  createTxFromRLP,
} from '@ethereumjs/tx'
import type { CustomCrypto } from '@ethereumjs/common'
import {
  SECP256K1_BACKEND,
  SECP256K1_NATIVE_ERROR,
  Secp256k1Error,
  ethereumCustomCrypto,
  keccak256,
  nativeSecp256k1,
  nobleSecp256k1,
  privateKeyToAddress,
  privateKeyToPublicKey,
  publicKeyToAddress,
  recoverPublicKey,
  signDigest,
  toChecksumAddress,
} from '../../../src/crypto/index.ts'
import type { Secp256k1Backend } from '../../../src/crypto/index.ts'
import { makeCommon } from '../../../src/execution/common.ts'

// Hardhat/Anvil account #0 (from the `test ... junk` mnemonic): a well-known key/address pair.
const HARDHAT_KEY = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const HARDHAT_ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const N = SECP256K1_ORDER

function randomKey(): Uint8Array {
  for (;;) {
    const k = new Uint8Array(randomBytes(32))
    const x = bytesToBigInt(k)
    if (x > 0n && x < N) return k
  }
}

function word(x: bigint): Uint8Array {
  return setLengthLeft(bigIntToBytes(x), 32)
}

/** 'ok:<hex>' or 'throws' (or 'throws:<message>' with messages), to compare two implementations. */
function outcome(f: () => Uint8Array, withMessage = false): string {
  try {
    return `ok:${bytesToHex(f())}`
  } catch (err) {
    return withMessage ? `throws:${(err as Error).message}` : 'throws'
  }
}

const native = nativeSecp256k1

describe('secp256k1 backend selection', () => {
  test('SECP256K1_BACKEND names the backend that loaded', () => {
    assert.equal(SECP256K1_BACKEND, native ? 'native' : 'noble')
    assert.equal(SECP256K1_NATIVE_ERROR === undefined, native !== undefined)
  })

  test('the native binding loads on linux-x64 (the package ships a prebuilt binary)', { skip: !(process.platform === 'linux' && process.arch === 'x64') }, () => {
    assert.equal(SECP256K1_BACKEND, 'native', `native failed: ${SECP256K1_NATIVE_ERROR}`)
  })
})

describe('signDigest / recoverPublicKey', () => {
  test('the well-known Hardhat key has the well-known address', () => {
    assert.equal(toChecksumAddress(privateKeyToAddress(HARDHAT_KEY)), HARDHAT_ADDRESS)
    const pub = privateKeyToPublicKey(HARDHAT_KEY)
    assert.equal(pub.length, 65)
    assert.equal(pub[0], 0x04)
    assert.deepEqual(publicKeyToAddress(pub.subarray(1)), privateKeyToAddress(HARDHAT_KEY))
    assert.deepEqual(publicKeyToAddress(noble.getPublicKey(HARDHAT_KEY, true)), privateKeyToAddress(HARDHAT_KEY))
  })

  test('signatures are low-s, verify under noble, and recover the signer', () => {
    for (let i = 0; i < 50; i++) {
      const key = randomKey()
      const digest = new Uint8Array(randomBytes(32))
      const { r, s, recovery } = signDigest(digest, key)
      assert.equal(r.length, 32)
      assert.equal(s.length, 32)
      assert.ok(recovery === 0 || recovery === 1)
      assert.ok(bytesToBigInt(s) <= N / 2n, 'low-s')
      const pub = privateKeyToPublicKey(key)
      const rs = new Uint8Array([...r, ...s])
      assert.ok(noble.verify(rs, digest, pub, { prehash: false }), 'independent verification')
      assert.deepEqual(recoverPublicKey(digest, r, s, recovery), pub)
      assert.notDeepEqual(recoverPublicKey(digest, r, s, recovery ^ 1), pub)
    }
  })

  test('bad inputs get typed errors', () => {
    const digest = new Uint8Array(32).fill(7)
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (err) {
        assert.ok(err instanceof Secp256k1Error)
        return err.code
      }
      return 'no error'
    }
    assert.equal(code(() => signDigest(new Uint8Array(31), HARDHAT_KEY)), 'INVALID_DIGEST')
    assert.equal(code(() => signDigest('00' as unknown as Uint8Array, HARDHAT_KEY)), 'INVALID_DIGEST')
    assert.equal(code(() => signDigest(digest, new Uint8Array(32))), 'INVALID_PRIVATE_KEY')
    assert.equal(code(() => signDigest(digest, word(N))), 'INVALID_PRIVATE_KEY')
    assert.equal(code(() => signDigest(digest, new Uint8Array(33).fill(1))), 'INVALID_PRIVATE_KEY')
    assert.equal(code(() => privateKeyToPublicKey(word(N + 5n))), 'INVALID_PRIVATE_KEY')
    const { r, s } = signDigest(digest, HARDHAT_KEY)
    assert.equal(code(() => recoverPublicKey(digest, r, s, 2)), 'INVALID_SIGNATURE')
    assert.equal(code(() => recoverPublicKey(digest, r.subarray(1), s, 0)), 'INVALID_SIGNATURE')
    assert.equal(code(() => recoverPublicKey(digest, new Uint8Array(32), s, 0)), 'INVALID_SIGNATURE')
    assert.equal(code(() => recoverPublicKey(digest, word(N), s, 0)), 'INVALID_SIGNATURE')
    assert.equal(code(() => publicKeyToAddress(new Uint8Array(63))), 'INVALID_PUBLIC_KEY')
    assert.equal(code(() => publicKeyToAddress(new Uint8Array(65))), 'INVALID_PUBLIC_KEY')
    assert.equal(code(() => publicKeyToAddress(new Uint8Array([2, ...new Uint8Array(32).fill(0xff)]))), 'INVALID_PUBLIC_KEY')
  })
})

describe('native and noble agree', { skip: native === undefined ? 'native binding not loaded' : false }, () => {
  const nat = native as Secp256k1Backend

  test('byte-identical signatures and identical recovery for random keys and digests', () => {
    for (let i = 0; i < 300; i++) {
      const key = randomKey()
      const digest = new Uint8Array(randomBytes(32))
      const a = nat.sign(digest, key)
      const b = nobleSecp256k1.sign(digest, key)
      assert.deepEqual(a, b, 'RFC 6979 + low-s gives one signature')
      const rs = new Uint8Array([...a.r, ...a.s])
      const pub = nobleSecp256k1.publicKey(key)
      assert.deepEqual(nat.publicKey(key), pub)
      assert.deepEqual(nat.recover(digest, rs, a.recovery), pub)
      assert.deepEqual(nobleSecp256k1.recover(digest, rs, a.recovery), pub)
    }
  })

  test('same outcome on random and edge-case (r, s, recovery) inputs', () => {
    const digests = [new Uint8Array(32), new Uint8Array(32).fill(0xff), new Uint8Array(randomBytes(32))]
    const scalars = [0n, 1n, 2n, 5n, N / 2n, N / 2n + 1n, N - 1n, N, N + 1n, 2n ** 256n - 1n]
    const cases: [Uint8Array, Uint8Array][] = []
    for (const r of scalars) for (const s of scalars) cases.push([word(r), word(s)])
    for (let i = 0; i < 200; i++) cases.push([new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32))])
    let recovered = 0
    for (const digest of digests) {
      for (const [r, s] of cases) {
        const rs = new Uint8Array([...r, ...s])
        for (const rec of [0, 1]) {
          const a = outcome(() => nat.recover(digest, rs, rec))
          const b = outcome(() => nobleSecp256k1.recover(digest, rs, rec))
          assert.equal(a, b, `r=${bytesToHex(r)} s=${bytesToHex(s)} rec=${rec}`)
          if (a.startsWith('ok')) recovered++
        }
      }
    }
    assert.ok(recovered > 300, 'most random inputs recover a key')
  })
})

describe('ethereumCustomCrypto().ecrecover matches @ethereumjs/util ecrecover', () => {
  test('the noble fallback hands ethereumjs its own ecrecover', () => {
    assert.equal(ethereumCustomCrypto(nobleSecp256k1).ecrecover, utilEcrecover)
  })

  for (const impl of native ? [native] : []) {
    test(`${impl.name}: legacy, EIP-155, typed-tx and invalid v values`, () => {
      const ecrecover = ethereumCustomCrypto(impl).ecrecover!
      let compared = 0
      for (let i = 0; i < 25; i++) {
        const key = randomKey()
        const digest = new Uint8Array(randomBytes(32))
        const { r, s, recovery } = signDigest(digest, key)
        const rec = BigInt(recovery)
        // Unpadded r/s, as tx sender recovery passes them.
        const ru = bigIntToUnpaddedBytes(bytesToBigInt(r))
        const su = bigIntToUnpaddedBytes(bytesToBigInt(s))
        const calls: [bigint, bigint | undefined][] = [
          [27n + rec, undefined], // legacy
          [28n - rec, undefined], // legacy, wrong parity
          [rec, undefined], // typed tx yParity
          [rec, 1337n],
          [1n - rec, 1n],
          [1n * 2n + 35n + rec, 1n], // EIP-155 mainnet
          [1337n * 2n + 35n + rec, 1337n],
          [(2n ** 40n) * 2n + 35n + rec, 2n ** 40n], // large chain id
          [1337n * 2n + 35n + rec, 1n], // EIP-155 v for another chain: invalid
          [29n, undefined],
          [26n, undefined],
          [2n, undefined],
          [35n, undefined],
          [37n, 1n],
          [-1n, undefined],
        ]
        for (const [v, chainId] of calls) {
          for (const [rr, ss] of [
            [r, s],
            [ru, su],
          ]) {
            const ours = outcome(() => ecrecover(digest, v, rr!, ss!, chainId), true)
            const theirs = outcome(() => utilEcrecover(digest, v, rr!, ss!, chainId), true)
            if (theirs.startsWith('ok')) assert.equal(ours, theirs, `v=${v} chainId=${chainId}`)
            else assert.ok(ours.startsWith('throws'), `v=${v} chainId=${chainId} must throw`)
            if (theirs.includes('Invalid signature v value')) assert.equal(ours, theirs)
            compared++
          }
        }
        const expected = privateKeyToPublicKey(key).subarray(1)
        assert.deepEqual(ecrecover(digest, 27n + rec, r, s), expected)
        assert.equal(ecrecover(digest, 27n + rec, r, s).length, 64)
      }
      assert.equal(compared, 25 * 15 * 2)
    })

    test(`${impl.name}: odd inputs (short/long hashes, oversized r, high s, r = 0) behave the same`, () => {
      const ecrecover = ethereumCustomCrypto(impl).ecrecover!
      const digest = new Uint8Array(randomBytes(32))
      const { r, s, recovery } = signDigest(digest, HARDHAT_KEY)
      const highS = word(N - bytesToBigInt(s))
      const inputs: [Uint8Array, bigint, Uint8Array, Uint8Array][] = [
        [digest.subarray(0, 31), 27n, r, s],
        [new Uint8Array([...digest, 1]), 27n, r, s],
        [digest, 27n, new Uint8Array([0, ...r]), s], // 33-byte r
        [digest, 27n + BigInt(recovery ^ 1), r, highS], // the malleated twin
        [digest, 27n, new Uint8Array(32), s],
        [digest, 27n, r, new Uint8Array(0)],
        [digest, 28n, word(N), s],
      ]
      for (const [h, v, rr, ss] of inputs) {
        const ours = outcome(() => ecrecover(h, v, rr, ss), true)
        const theirs = outcome(() => utilEcrecover(h, v, rr, ss), true)
        if (theirs.startsWith('ok') || ours.startsWith('ok')) assert.equal(ours, theirs)
      }
      // The malleated signature recovers the same key, as the ecrecover precompile requires.
      assert.deepEqual(ecrecover(digest, 27n + BigInt(recovery ^ 1), r, highS), privateKeyToPublicKey(HARDHAT_KEY).subarray(1))
    })
  }

  test('keccak256 and sha256 in the custom crypto are the right functions', () => {
    const cc = ethereumCustomCrypto()
    assert.equal(bytesToHex(cc.keccak256!(new Uint8Array(0))), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
    assert.equal(bytesToHex(cc.sha256!(new Uint8Array(0))), '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  })
})

describe('ethereumjs txs recover their sender through makeCommon(1337n, ethereumCustomCrypto())', () => {
  function countingCrypto(): { crypto: CustomCrypto; calls: () => number } {
    const base = ethereumCustomCrypto()
    let n = 0
    return {
      crypto: {
        ...base,
        ecrecover: (...args) => {
          n++
          return base.ecrecover!(...args)
        },
      },
      calls: () => n,
    }
  }
  const to = '0x3535353535353535353535353535353535353535' as const

  test('EIP-155 legacy, EIP-2930 and EIP-1559 txs signed with a known key', () => {
    const { crypto, calls } = countingCrypto()
    const common = makeCommon(1337n, crypto)
    const txs = [
      createLegacyTx({ nonce: 0n, gasPrice: 10n ** 9n, gasLimit: 21000n, to, value: 1n }, { common }),
      createAccessList2930Tx({ chainId: 1337n, nonce: 1n, gasPrice: 10n ** 9n, gasLimit: 30000n, to, value: 2n, accessList: [] }, { common }),
      createFeeMarket1559Tx(
        { chainId: 1337n, nonce: 2n, maxFeePerGas: 2n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n, gasLimit: 21000n, to, value: 3n, data: '0x1234' },
        { common },
      ),
    ]
    for (const unsigned of txs) {
      const signed = unsigned.sign(HARDHAT_KEY)
      // Round-trip through RLP so nothing is cached from signing.
      const decoded = createTxFromRLP(signed.serialize(), { common })
      assert.equal(decoded.getSenderAddress().toString().toLowerCase(), HARDHAT_ADDRESS.toLowerCase())
      assert.ok(decoded.verifySignature())
    }
    assert.equal((txs[0]!.sign(HARDHAT_KEY) as { v?: bigint }).v! >= 1337n * 2n + 35n, true, 'legacy tx is EIP-155')
    assert.ok(calls() >= 3, 'the custom ecrecover was used')
  })

  test('a tx signed through signDigest is the same tx ethereumjs signs, and a tampered one recovers someone else', () => {
    const common = makeCommon(1337n, ethereumCustomCrypto())
    const unsigned = createFeeMarket1559Tx(
      { chainId: 1337n, nonce: 7n, maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: 1n, gasLimit: 21000n, to, value: 10n ** 18n },
      { common },
    )
    const { r, s, recovery } = signDigest(unsigned.getHashedMessageToSign(), HARDHAT_KEY)
    const ours = unsigned.addSignature(BigInt(recovery), r, s)
    assert.deepEqual(ours.serialize(), unsigned.sign(HARDHAT_KEY).serialize())
    const tampered = unsigned.addSignature(BigInt(recovery ^ 1), r, s)
    assert.notEqual(tampered.getSenderAddress().toString(), HARDHAT_ADDRESS.toLowerCase())
  })

  test('a pre-EIP-155 legacy tx (v = 27/28) recovers its sender', () => {
    const common = makeCommon(1337n, ethereumCustomCrypto())
    const fields = { nonce: 3n, gasPrice: 10n ** 9n, gasLimit: 21000n, to, value: 5n }
    const raw = [fields.nonce, fields.gasPrice, fields.gasLimit, hexToBytes(to), fields.value, new Uint8Array(0)].map((x) =>
      typeof x === 'bigint' ? bigIntToUnpaddedBytes(x) : x,
    )
    const { r, s, recovery } = signDigest(keccak256(RLP.encode(raw)), HARDHAT_KEY)
    const tx = createLegacyTx({ ...fields, v: 27n + BigInt(recovery), r, s }, { common })
    assert.equal(tx.getSenderAddress().toString().toLowerCase(), HARDHAT_ADDRESS.toLowerCase())
  })
})
