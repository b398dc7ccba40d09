import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { Wallet, encryptKeystoreJson } from 'ethers'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import {
  KeystoreError,
  LIGHT_SCRYPT,
  STANDARD_SCRYPT,
  decryptKeystore,
  encryptKeystore,
  listKeystores,
  writeKeystoreFile,
} from '../../../src/wallet/index.ts'
import type { KeystoreV3 } from '../../../src/wallet/index.ts'
import { privateKeyToAddress, toChecksumAddress } from '../../../src/crypto/index.ts'

// The two test vectors of the Web3 Secret Storage Definition
// (https://ethereum.org/developers/docs/data-structures-and-encoding/web3-secret-storage/#test-vectors).
const SPEC_PASSWORD = 'testpassword'
const SPEC_KEY = '0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d'
const SPEC_PBKDF2 = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: { c: 262144, dklen: 32, prf: 'hmac-sha256', salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd' },
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
}
const SPEC_SCRYPT = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
    ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
    kdf: 'scrypt',
    kdfparams: { dklen: 32, n: 262144, p: 8, r: 1, salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19' },
    mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
}

// Cheap KDF settings so the suite runs fast.
const FAST = { scryptN: 1024, scryptR: 8, scryptP: 1 }
const KEY = hexToBytes('0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318')

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof KeystoreError, `expected KeystoreError, got ${String(err)}`)
    return err.code
  }
  return 'no error'
}

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T
}

describe('Web3 Secret Storage test vectors', () => {
  test('PBKDF2-SHA-256 vector decrypts, and encrypting with its salt and iv reproduces it', async () => {
    assert.equal(bytesToHex(await decryptKeystore(SPEC_PBKDF2, SPEC_PASSWORD)), SPEC_KEY)
    const ks = await encryptKeystore(hexToBytes(SPEC_KEY), SPEC_PASSWORD, {
      kdf: 'pbkdf2',
      pbkdf2Iterations: 262144,
      salt: hexToBytes(`0x${SPEC_PBKDF2.crypto.kdfparams.salt}`),
      iv: hexToBytes(`0x${SPEC_PBKDF2.crypto.cipherparams.iv}`),
      id: SPEC_PBKDF2.id,
    })
    assert.equal(ks.crypto.ciphertext, SPEC_PBKDF2.crypto.ciphertext)
    assert.equal(ks.crypto.mac, SPEC_PBKDF2.crypto.mac)
    assert.deepEqual(ks.crypto.kdfparams, SPEC_PBKDF2.crypto.kdfparams)
  })

  test('scrypt vector decrypts (as JSON text too)', async () => {
    assert.equal(bytesToHex(await decryptKeystore(JSON.stringify(SPEC_SCRYPT), SPEC_PASSWORD)), SPEC_KEY)
  })
})

describe('encrypt / decrypt', () => {
  test('round trip with scrypt and with pbkdf2; the file looks like geth writes it', async () => {
    for (const opts of [{ ...FAST, kdf: 'scrypt' as const }, { kdf: 'pbkdf2' as const, pbkdf2Iterations: 1000 }]) {
      const ks = await encryptKeystore(KEY, 'correct horse', opts)
      assert.equal(ks.version, 3)
      assert.equal(ks.address, bytesToHex(privateKeyToAddress(KEY)).slice(2))
      assert.match(ks.address, /^[0-9a-f]{40}$/)
      assert.match(ks.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'uuid v4')
      assert.equal(ks.crypto.cipher, 'aes-128-ctr')
      assert.equal(ks.crypto.kdf, opts.kdf)
      assert.match(ks.crypto.cipherparams.iv, /^[0-9a-f]{32}$/)
      assert.match(ks.crypto.mac, /^[0-9a-f]{64}$/)
      assert.equal(ks.crypto.kdfparams.dklen, 32)
      assert.deepEqual(await decryptKeystore(ks, 'correct horse'), KEY)
      assert.deepEqual(await decryptKeystore(JSON.stringify(ks), 'correct horse'), KEY)
    }
  })

  test('two encryptions of one key differ (fresh salt, iv and id)', async () => {
    const a = await encryptKeystore(KEY, 'pw', FAST)
    const b = await encryptKeystore(KEY, 'pw', FAST)
    assert.notEqual(a.crypto.ciphertext, b.crypto.ciphertext)
    assert.notEqual(a.crypto.kdfparams.salt, b.crypto.kdfparams.salt)
    assert.notEqual(a.id, b.id)
  })

  test('default cost is geth standard scrypt (n=262144, r=8, p=1); light is geth --lightkdf', () => {
    // Not run here (256 MiB, seconds): encryptKeystore's defaults are these constants.
    assert.deepEqual({ ...STANDARD_SCRYPT }, { n: 262144, r: 8, p: 1 })
    assert.deepEqual({ ...LIGHT_SCRYPT }, { n: 4096, r: 8, p: 6 })
  })

  test('wrong password: BAD_PASSWORD with the MAC message', async () => {
    const ks = await encryptKeystore(KEY, 'right', FAST)
    await assert.rejects(decryptKeystore(ks, 'wrong'), (err) => {
      assert.ok(err instanceof KeystoreError)
      assert.equal(err.code, 'BAD_PASSWORD')
      assert.equal(err.message, 'wrong password (MAC mismatch)')
      return true
    })
    assert.equal(await code(decryptKeystore(SPEC_PBKDF2, 'testpassworD')), 'BAD_PASSWORD')
  })

  test('tampered ciphertext, mac, iv or address: rejected', async () => {
    const ks = await encryptKeystore(KEY, 'pw', FAST)
    const flipped = clone(ks)
    const c = flipped.crypto.ciphertext
    flipped.crypto.ciphertext = (c[0] === '0' ? '1' : '0') + c.slice(1)
    assert.equal(await code(decryptKeystore(flipped, 'pw')), 'BAD_PASSWORD')
    const badMac = clone(ks)
    badMac.crypto.mac = '00'.repeat(32)
    assert.equal(await code(decryptKeystore(badMac, 'pw')), 'BAD_PASSWORD')
    // A tampered iv passes the MAC (the MAC covers only the ciphertext, as the spec defines)
    // but yields another key, which the address check catches.
    const badIv = clone(ks)
    badIv.crypto.cipherparams.iv = '00'.repeat(16)
    assert.equal(await code(decryptKeystore(badIv, 'pw')), 'ADDRESS_MISMATCH')
    const otherAddress = clone(ks)
    otherAddress.address = '00'.repeat(20)
    assert.equal(await code(decryptKeystore(otherAddress, 'pw')), 'ADDRESS_MISMATCH')
  })

  test('malformed files and unsupported parameters get clear typed errors', async () => {
    const ks = await encryptKeystore(KEY, 'pw', FAST)
    const variant = (f: (k: Record<string, any>) => void) => {
      const k = clone(ks) as unknown as Record<string, any>
      f(k)
      return k
    }
    const cases: [unknown, string][] = [
      ['{not json', 'MALFORMED_KEYSTORE'],
      ['[]', 'MALFORMED_KEYSTORE'],
      ['null', 'MALFORMED_KEYSTORE'],
      [42, 'MALFORMED_KEYSTORE'],
      [variant((k) => (k.version = 1)), 'UNSUPPORTED_VERSION'],
      [variant((k) => delete k.version), 'UNSUPPORTED_VERSION'],
      [variant((k) => delete k.crypto), 'MALFORMED_KEYSTORE'],
      [variant((k) => (k.crypto.cipher = 'aes-128-cbc')), 'UNSUPPORTED_CIPHER'],
      [variant((k) => (k.crypto.kdf = 'argon2id')), 'UNSUPPORTED_KDF'],
      [variant((k) => (k.crypto.kdfparams.n = 1000)), 'INVALID_KDF_PARAMS'],
      [variant((k) => (k.crypto.kdfparams.n = 2 ** 40)), 'INVALID_KDF_PARAMS'],
      [variant((k) => (k.crypto.kdfparams.r = 0)), 'INVALID_KDF_PARAMS'],
      [variant((k) => (k.crypto.kdfparams.p = '1')), 'INVALID_KDF_PARAMS'],
      [variant((k) => ((k.crypto.kdfparams.n = 2 ** 22), (k.crypto.kdfparams.r = 8))), 'INVALID_KDF_PARAMS'], // 4 GiB
      [variant((k) => (k.crypto.kdfparams.dklen = 16)), 'INVALID_KDF_PARAMS'],
      [variant((k) => (k.crypto.kdfparams.salt = 'xyz')), 'MALFORMED_KEYSTORE'],
      [variant((k) => (k.crypto.cipherparams.iv = 'abcd')), 'MALFORMED_KEYSTORE'],
      [variant((k) => delete k.crypto.cipherparams), 'MALFORMED_KEYSTORE'],
      [variant((k) => (k.crypto.ciphertext = '')), 'MALFORMED_KEYSTORE'],
      [variant((k) => (k.crypto.mac = 'zz')), 'MALFORMED_KEYSTORE'],
      [variant((k) => (k.address = 'not-an-address')), 'MALFORMED_KEYSTORE'],
      [
        variant((k) => {
          k.crypto.kdf = 'pbkdf2'
          k.crypto.kdfparams = { c: 10, dklen: 32, prf: 'hmac-sha512', salt: 'aa' }
        }),
        'UNSUPPORTED_KDF',
      ],
      [
        variant((k) => {
          k.crypto.kdf = 'pbkdf2'
          k.crypto.kdfparams = { c: 0, dklen: 32, prf: 'hmac-sha256', salt: 'aa' }
        }),
        'INVALID_KDF_PARAMS',
      ],
    ]
    for (const [input, expected] of cases) {
      assert.equal(await code(decryptKeystore(input as string, 'pw')), expected, JSON.stringify(input))
    }
    // geth's capitalised "Crypto" (old wallets) is read.
    const capital = variant((k) => {
      k.Crypto = k.crypto
      delete k.crypto
    })
    assert.deepEqual(await decryptKeystore(capital, 'pw'), KEY)
  })

  test('encrypt rejects invalid keys and options', async () => {
    assert.equal(await code(encryptKeystore(new Uint8Array(32), 'pw', FAST)), 'INVALID_PRIVATE_KEY')
    assert.equal(await code(encryptKeystore(new Uint8Array(31).fill(1), 'pw', FAST)), 'INVALID_PRIVATE_KEY')
    assert.equal(await code(encryptKeystore('0x01' as unknown as Uint8Array, 'pw', FAST)), 'INVALID_PRIVATE_KEY')
    assert.equal(await code(encryptKeystore(KEY, 'pw', { scryptN: 1000 })), 'INVALID_KDF_PARAMS')
    assert.equal(await code(encryptKeystore(KEY, 'pw', { kdf: 'bcrypt' as 'scrypt' })), 'UNSUPPORTED_KDF')
    assert.equal(await code(encryptKeystore(KEY, 'pw', { ...FAST, iv: new Uint8Array(8) })), 'INVALID_OPTIONS')
    assert.equal(await code(encryptKeystore(KEY, 'pw', { ...FAST, id: 'nope' })), 'INVALID_OPTIONS')
    assert.equal(await code(encryptKeystore(KEY, 42 as unknown as string, FAST)), 'INVALID_OPTIONS')
  })

  test('passwords may be bytes; a string password is its UTF-8 bytes', async () => {
    const ks = await encryptKeystore(KEY, 'pässwörd', FAST)
    assert.deepEqual(await decryptKeystore(ks, new TextEncoder().encode('pässwörd')), KEY)
  })
})

describe('interop with ethers v6', () => {
  test('a keystore written by ethers (small scrypt N) decrypts in Catena', async () => {
    const wallet = new Wallet(bytesToHex(KEY))
    const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, 'ethers pw', {
      scrypt: { N: 1024 },
    })
    assert.deepEqual(await decryptKeystore(json, 'ethers pw'), KEY)
    assert.equal(await code(decryptKeystore(json, 'wrong')), 'BAD_PASSWORD')
  })

  test('a keystore written by Catena decrypts in ethers (scrypt and pbkdf2)', async () => {
    for (const opts of [FAST, { kdf: 'pbkdf2' as const, pbkdf2Iterations: 1000 }]) {
      const ks = await encryptKeystore(KEY, 'catena pw', opts)
      const wallet = await Wallet.fromEncryptedJson(JSON.stringify(ks), 'catena pw')
      assert.equal(wallet.privateKey, bytesToHex(KEY))
      assert.equal(wallet.address, toChecksumAddress(privateKeyToAddress(KEY)))
    }
  })
})

describe('keystore files', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catena-keystore-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('written atomically with mode 0600 under a geth-style name, and decryptable', async () => {
    const ks = await encryptKeystore(KEY, 'pw', FAST)
    const keysDir = join(dir, 'new', 'keystore')
    const path = await writeKeystoreFile(keysDir, ks)
    assert.match(basename(path), new RegExp(`^UTC--\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d\\.\\d{9}Z--${ks.address}$`))
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.equal((await stat(keysDir)).mode & 0o777, 0o700)
    assert.deepEqual(await decryptKeystore(await readFile(path, 'utf8'), 'pw'), KEY)
    assert.deepEqual(await readdir(keysDir), [basename(path)], 'no temp file left behind')
  })

  test('two writes of the same key in a row get distinct files', async () => {
    const ks = await encryptKeystore(KEY, 'pw', FAST)
    const sub = join(dir, 'twice')
    const [a, b] = [await writeKeystoreFile(sub, ks), await writeKeystoreFile(sub, ks)]
    assert.notEqual(a, b)
    assert.equal((await readdir(sub)).length, 2)
  })

  test('a keystore without an address cannot be named: typed error, nothing written', async () => {
    const sub = join(dir, 'noaddr')
    assert.equal(await code(writeKeystoreFile(sub, SPEC_SCRYPT as unknown as KeystoreV3)), 'MALFORMED_KEYSTORE')
    await assert.rejects(readdir(sub), { code: 'ENOENT' })
  })

  test('listKeystores finds keystores and skips everything else', async () => {
    const sub = join(dir, 'list')
    const key2 = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
    const p1 = await writeKeystoreFile(sub, await encryptKeystore(KEY, 'pw', FAST))
    const p2 = await writeKeystoreFile(sub, await encryptKeystore(key2, 'pw', FAST))
    const ethersJson = await encryptKeystoreJson(
      { address: new Wallet(bytesToHex(key2)).address, privateKey: bytesToHex(key2) },
      'pw',
      { scrypt: { N: 1024 } },
    )
    await writeFile(join(sub, 'ethers.json'), ethersJson)
    await writeFile(join(sub, 'README.txt'), 'not a keystore')
    await writeFile(join(sub, 'broken.json'), '{"version": 3, "crypto": ')
    await writeFile(join(sub, 'v1.json'), JSON.stringify({ version: 1, crypto: {}, address: 'aa'.repeat(20) }))
    await writeFile(join(sub, 'noaddress.json'), JSON.stringify(SPEC_SCRYPT))
    await writeFile(join(sub, '.hidden'), await readFile(p1))
    await writeFile(join(sub, `${basename(p1)}~`), await readFile(p1))
    await mkdir(join(sub, 'subdir'))
    const list = await listKeystores(sub)
    const addr1 = toChecksumAddress(privateKeyToAddress(KEY))
    const addr2 = toChecksumAddress(privateKeyToAddress(key2))
    assert.deepEqual(
      list,
      [
        { address: addr1, path: p1 },
        { address: addr2, path: p2 },
        { address: addr2, path: join(sub, 'ethers.json') },
      ].sort((a, b) => (a.path < b.path ? -1 : 1)),
    )
    assert.deepEqual(await listKeystores(join(dir, 'does-not-exist')), [])
  })
})
