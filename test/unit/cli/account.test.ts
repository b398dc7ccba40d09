import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import {
  AccountError,
  SCRYPT_N_ENV,
  findAccount,
  keystoreDir,
  parsePrivateKeyText,
  scryptOptions,
} from '../../../src/cli/commands/account.ts'
import { privateKeyToAddress, toChecksumAddress } from '../../../src/crypto/index.ts'
import { STANDARD_SCRYPT, TEST_MNEMONIC, deriveKeys, encryptKeystore, writeKeystoreFile } from '../../../src/wallet/index.ts'

const isCode = (code: string) => (e: unknown) => e instanceof AccountError && e.code === code && !e.message.includes('\n')

describe('scryptOptions', () => {
  test("geth's standard n unless the env var says otherwise", () => {
    assert.deepEqual(scryptOptions({}), { kdf: 'scrypt', scryptN: STANDARD_SCRYPT.n })
    assert.deepEqual(scryptOptions({ [SCRYPT_N_ENV]: '' }), { kdf: 'scrypt', scryptN: 262144 })
    assert.deepEqual(scryptOptions({ [SCRYPT_N_ENV]: '1024' }), { kdf: 'scrypt', scryptN: 1024 })
  })

  test('a value that is not a power of two in [2, 2^30] is refused', () => {
    for (const bad of ['1000', '1', '0', '-1024', '1e3', 'fast', String(2 ** 31)]) {
      assert.throws(() => scryptOptions({ [SCRYPT_N_ENV]: bad }), isCode('INVALID_SCRYPT_N'), bad)
    }
  })
})

describe('parsePrivateKeyText', () => {
  const [dev0] = deriveKeys(TEST_MNEMONIC, 1)
  const hex = bytesToHex(dev0!.privateKey).slice(2)

  test('64 hex digits, with or without 0x, surrounding whitespace ignored', () => {
    for (const text of [hex, `0x${hex}`, `  0x${hex.toUpperCase()}\n`, `${hex}\r\n`]) {
      const key = parsePrivateKeyText(text, 'f')
      assert.equal(toChecksumAddress(privateKeyToAddress(key)), '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
    }
  })

  test('anything else is refused without echoing the file content', () => {
    const bad = [hex.slice(2), `${hex}00`, `${hex.slice(0, 63)}g`, `${hex} ${hex}`, '', '0'.repeat(64), 'f'.repeat(64)]
    for (const text of bad) {
      assert.throws(() => parsePrivateKeyText(text, '/keys/k.txt'), (e: unknown) => {
        assert.ok(isCode('INVALID_PRIVATE_KEY_FILE')(e))
        assert.match((e as Error).message, /\/keys\/k\.txt/)
        if (text.length > 8) assert.ok(!(e as Error).message.includes(text.slice(4, 20)), 'content not echoed')
        return true
      })
    }
  })
})

describe('findAccount', () => {
  let datadir: string
  const keys = deriveKeys(TEST_MNEMONIC, 2)
  const addresses = keys.map((k) => toChecksumAddress(privateKeyToAddress(k.privateKey)))

  before(async () => {
    datadir = await mkdtemp(join(tmpdir(), 'catena-acct-'))
  })
  after(() => rm(datadir, { recursive: true, force: true }))

  test('an empty or missing folder: NO_ACCOUNTS pointing at account new', async () => {
    await assert.rejects(findAccount(keystoreDir(datadir)), (e: unknown) => isCode('NO_ACCOUNTS')(e) && /catena account new/.test((e as Error).message))
  })

  test('one account is the default; with two, --from is needed and matched in any case', async () => {
    const dir = keystoreDir(datadir)
    await writeKeystoreFile(dir, await encryptKeystore(keys[0]!.privateKey, 'pw', { scryptN: 2 }))
    assert.equal((await findAccount(dir)).address, addresses[0])
    await writeKeystoreFile(dir, await encryptKeystore(keys[1]!.privateKey, 'pw', { scryptN: 2 }))
    await assert.rejects(findAccount(dir), (e: unknown) => isCode('AMBIGUOUS_ACCOUNT')(e) && /2 accounts .*--from/.test((e as Error).message))
    assert.equal((await findAccount(dir, addresses[1]!.toLowerCase())).address, addresses[1])
    assert.equal((await findAccount(dir, addresses[0])).address, addresses[0])
    const stranger = '0x000000000000000000000000000000000000dEaD'
    await assert.rejects(findAccount(dir, stranger), (e: unknown) => isCode('ACCOUNT_NOT_FOUND')(e) && (e as Error).message.includes(stranger))
  })
})
