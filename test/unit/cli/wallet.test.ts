/**
 * Mnemonic handling (src/wallet/mnemonic-confirm.ts) and the interactive parts of
 * `catena wallet` and `catena tx sign` (src/cli/commands/wallet.ts, tx.ts), driven through a
 * fake terminal: keys go into a stream, everything shown is captured.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAddress, toChecksumAddress } from '../../../src/crypto/index.ts'
import {
  MNEMONIC_WORD_COUNTS,
  MnemonicError,
  TEST_MNEMONIC,
  buildUnsignedTx,
  checkConfirmation,
  decryptKeystore,
  deriveKeys,
  formatMnemonicForDisplay,
  generateMnemonic,
  parseSignedTx,
  pickConfirmationPositions,
  serializeTxFile,
  validateMnemonicPhrase,
} from '../../../src/wallet/index.ts'
import type { MnemonicErrorCode } from '../../../src/wallet/index.ts'
import { WalletError, walletCreate, walletRestore } from '../../../src/cli/commands/wallet.ts'
import type { WalletIO } from '../../../src/cli/commands/wallet.ts'
import { TxCommandError, signTxFile } from '../../../src/cli/commands/tx.ts'

const DEV0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const DEV1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const ENV = { CATENA_KEYSTORE_SCRYPT_N: '1024' }
const ZERO_24 = `${'abandon '.repeat(23)}art`

const isMnemonicErr = (code: MnemonicErrorCode, pattern?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof MnemonicError, String(e))
  assert.equal(e.code, code, e.message)
  if (pattern) assert.match(e.message, pattern)
  return true
}
const isCode = (cls: Function, code: string) => (e: unknown) => e instanceof cls && (e as { code: string }).code === code

/**
 * A fake terminal that answers prompts: each step waits for `prompt` to be shown (after the
 * previous answer) and types the answer computed from everything shown so far.
 */
function scriptedTerminal(steps: Array<[string | RegExp, (shown: string) => string]>, tty = true) {
  const input = new PassThrough() as PassThrough & { isTTY?: boolean; isRaw?: boolean; setRawMode?: (m: boolean) => void }
  const output = new PassThrough() as PassThrough & { isTTY?: boolean }
  if (tty) {
    input.isTTY = true
    input.isRaw = false
    input.setRawMode = (m: boolean) => void (input.isRaw = m)
    output.isTTY = true
  }
  let shown = ''
  let from = 0
  let step = 0
  output.setEncoding('utf8').on('data', (c: string) => {
    shown += c
    while (step < steps.length) {
      const [prompt, answer] = steps[step]!
      const rest = shown.slice(from)
      const at = typeof prompt === 'string' ? rest.indexOf(prompt) : rest.search(prompt)
      if (at < 0) return
      from += at + 1
      step++
      input.write(`${answer(shown)}\r`)
    }
  })
  const io: WalletIO = { input, output }
  return { io, shown: () => shown, stepsDone: () => step }
}

/** The words in the framed display ("  3. word"). */
function wordsShown(shown: string): string[] {
  const words: string[] = []
  for (const m of shown.matchAll(/(\d+)\. ([a-z]+)/g)) words[Number(m[1]) - 1] = m[2]!
  return words
}

describe('mnemonics', () => {
  test('generateMnemonic: every BIP-39 length, valid, from fresh randomness each time', () => {
    for (const n of MNEMONIC_WORD_COUNTS) {
      const phrase = generateMnemonic(n)
      assert.equal(phrase.split(' ').length, n)
      assert.equal(validateMnemonicPhrase(phrase), phrase)
    }
    assert.notEqual(generateMnemonic(12), generateMnemonic(12))
    assert.equal(generateMnemonic(24, (len) => new Uint8Array(len)), ZERO_24, 'entropy of 32 zero bytes')
    assert.throws(() => generateMnemonic(13 as never), isMnemonicErr('BAD_WORD_COUNT'))
  })

  test('validateMnemonicPhrase normalizes case and whitespace, and names each kind of mistake', () => {
    assert.equal(validateMnemonicPhrase(`  ${TEST_MNEMONIC.toUpperCase().replace(/ /g, ' \n\t')}\n`), TEST_MNEMONIC)
    assert.throws(() => validateMnemonicPhrase(' \n'), isMnemonicErr('EMPTY'))
    assert.throws(() => validateMnemonicPhrase('test '.repeat(11)), isMnemonicErr('BAD_WORD_COUNT', /has 11 words; a BIP-39 mnemonic has 12, 15, 18, 21, 24 words/))
    const typo = TEST_MNEMONIC.split(' ')
    typo[4] = 'xyz'
    assert.throws(() => validateMnemonicPhrase(typo.join(' ')), (e) => isMnemonicErr('UNKNOWN_WORD', /unknown word "xyz" at position 5/)(e) && (e as MnemonicError).position === 5)
    typo[4] = 'abandn'
    assert.throws(() => validateMnemonicPhrase(typo.join(' ')), isMnemonicErr('UNKNOWN_WORD', /"abandn" at position 5.*did you mean "abandon"/))
    assert.throws(() => validateMnemonicPhrase('test '.repeat(12)), isMnemonicErr('BAD_CHECKSUM', /bad checksum/))
  })

  test('confirmation: distinct sorted positions; a wrong word fails without revealing the right one', () => {
    for (let i = 0; i < 50; i++) {
      const p = pickConfirmationPositions(12)
      assert.equal(p.length, 2)
      assert.ok(p[0]! < p[1]! && p[0]! >= 1 && p[1]! <= 12, String(p))
    }
    const words = TEST_MNEMONIC.split(' ')
    checkConfirmation(TEST_MNEMONIC, [3, 12], [' TEST ', 'junk'])
    assert.throws(
      () => checkConfirmation(TEST_MNEMONIC, [3, 12], ['test', 'junky']),
      (e) => isMnemonicErr('CONFIRMATION_FAILED', /word #12 does not match/)(e) && !(e as Error).message.includes(words[11]!),
    )
  })

  test('the display frames every word with its number and the warning', () => {
    const text = formatMnemonicForDisplay(ZERO_24)
    assert.deepEqual(wordsShown(text), ZERO_24.split(' '))
    assert.match(text, /shown only this once/)
    assert.match(text, /Write these words down/)
    const lines = text.split('\n')
    assert.ok(lines.every((l) => l.length === lines[0]!.length), 'a rectangular frame')
  })
})

describe('wallet create and restore', () => {
  let tmp: string
  let pwFile: string
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'catena-wallet-unit-'))
    pwFile = join(tmp, 'pw.txt')
    await writeFile(pwFile, 'file password\n')
  })
  after(() => rm(tmp, { recursive: true, force: true }))

  test('on a terminal: shown once, screen cleared, two words confirmed, password asked twice, key stored', async () => {
    const datadir = join(tmp, 'create-tty')
    const password = 'tty-pass-123'
    const term = scriptedTerminal([
      ['Press Enter', () => ''],
      [/Word #\d+: /, (s) => wordsShown(s)[Number(/Word #(\d+): $/.exec(s)![1]) - 1]!],
      [/Word #\d+: /, (s) => wordsShown(s)[Number(/Word #(\d+): $/.exec(s)![1]) - 1]!.toUpperCase()],
      ['New password: ', () => password],
      ['Repeat password: ', () => password],
    ])
    const r = await walletCreate({ datadir, count: 3, io: term.io, env: ENV, randomBytes: (n) => new Uint8Array(n) })
    const shown = term.shown()
    assert.equal(term.stepsDone(), 5)
    assert.deepEqual(wordsShown(shown), ZERO_24.split(' '))
    assert.equal(shown.split('shown only this once').length, 2, 'the phrase is shown exactly once')
    assert.ok(shown.indexOf('\x1b[2J\x1b[3J') > shown.indexOf('Press Enter'), 'the screen is cleared before the words are asked')
    assert.ok(!shown.includes(password), 'the password is never shown')

    const expected = deriveKeys(ZERO_24, 3).map((k) => toChecksumAddress(privateKeyToAddress(k.privateKey)))
    assert.deepEqual(r.accounts.map((a) => a.address), expected)
    assert.deepEqual(r.accounts.map((a) => a.path), ["m/44'/60'/0'/0/0", "m/44'/60'/0'/0/1", "m/44'/60'/0'/0/2"])
    assert.equal((await stat(r.keystore)).mode & 0o777, 0o600)
    const key = await decryptKeystore(await readFile(r.keystore, 'utf8'), password)
    assert.equal(toChecksumAddress(privateKeyToAddress(key)), expected[0])
  })

  test('a wrong confirmation word aborts and writes nothing', async () => {
    const datadir = join(tmp, 'create-wrong')
    const term = scriptedTerminal([
      ['Press Enter', () => ''],
      [/Word #\d+: /, () => 'zoo'],
    ])
    await assert.rejects(
      walletCreate({ datadir, io: term.io, env: ENV, randomBytes: (n) => new Uint8Array(n), passwordFile: pwFile }),
      isMnemonicErr('CONFIRMATION_FAILED', /nothing was written/),
    )
    await assert.rejects(readdir(datadir), /ENOENT/)
  })

  test('with a BIP-39 passphrase the accounts differ from the plain ones', async () => {
    const datadir = join(tmp, 'create-passphrase')
    const answer = (s: string) => wordsShown(s)[Number(/Word #(\d+): $/.exec(s)![1]) - 1]!
    const term = scriptedTerminal([
      ['Press Enter', () => ''],
      [/Word #\d+: /, answer],
      [/Word #\d+: /, answer],
      ['BIP-39 passphrase', () => 'TREZOR'],
      ['Repeat passphrase', () => 'TREZOR'],
    ])
    const r = await walletCreate({ datadir, count: 1, io: term.io, env: ENV, passwordFile: pwFile, passphrasePrompt: true, randomBytes: (n) => new Uint8Array(n) })
    const withPass = toChecksumAddress(privateKeyToAddress(deriveKeys(ZERO_24, 1, { passphrase: 'TREZOR' })[0]!.privateKey))
    assert.equal(r.accounts[0]!.address, withPass)
    const key = await decryptKeystore(await readFile(r.keystore, 'utf8'), 'file password')
    assert.equal(toChecksumAddress(privateKeyToAddress(key)), withPass)
  })

  test('without a terminal: refused, unless --mnemonic-out names a new file (0600, never overwritten)', async () => {
    const datadir = join(tmp, 'create-script')
    const noTty = scriptedTerminal([], false)
    await assert.rejects(walletCreate({ datadir, io: noTty.io, env: ENV, passwordFile: pwFile }), isCode(WalletError, 'NEEDS_TERMINAL'))
    await assert.rejects(readdir(datadir), /ENOENT/)

    const out = join(tmp, 'phrase.txt')
    const r = await walletCreate({ datadir, io: noTty.io, env: ENV, passwordFile: pwFile, mnemonicOut: out, words: 12 })
    assert.equal((await stat(out)).mode & 0o777, 0o600)
    const phrase = validateMnemonicPhrase(await readFile(out, 'utf8'))
    assert.equal(phrase.split(' ').length, 12)
    assert.equal(r.accounts[0]!.address, toChecksumAddress(privateKeyToAddress(deriveKeys(phrase, 1)[0]!.privateKey)))
    assert.ok(!noTty.shown().includes(phrase.split(' ')[0]! + ' ' + phrase.split(' ')[1]!), 'the phrase is not shown')

    await assert.rejects(
      walletCreate({ datadir, io: noTty.io, env: ENV, passwordFile: pwFile, mnemonicOut: out }),
      (e) => isCode(WalletError, 'MNEMONIC_OUT_EXISTS')(e) && /never overwrites/.test((e as Error).message),
    )
    assert.equal(validateMnemonicPhrase(await readFile(out, 'utf8')), phrase, 'the first phrase is kept')
    assert.equal((await readdir(join(datadir, 'keystore'))).length, 1)
    await assert.rejects(walletCreate({ datadir, io: noTty.io, env: ENV, mnemonicOut: join(tmp, 'p2.txt') }), /no password given/)
  })

  test('restore from a file prints the known addresses; --import-index stores that one; a duplicate is refused', async () => {
    const datadir = join(tmp, 'restore')
    const file = join(tmp, 'test-mnemonic.txt')
    await writeFile(file, `${TEST_MNEMONIC}\n`)
    const noTty = scriptedTerminal([], false).io
    const r = await walletRestore({ mnemonicFile: file, count: 2, io: noTty })
    assert.deepEqual(r.accounts.map((a) => a.address), [DEV0, DEV1])
    assert.equal(r.imported, undefined)

    const imported = await walletRestore({ mnemonicFile: file, count: 1, importIndex: 1, datadir, passwordFile: pwFile, io: noTty, env: ENV })
    assert.equal(imported.imported!.address, DEV1)
    assert.equal(imported.imported!.path, "m/44'/60'/0'/0/1")
    const key = await decryptKeystore(await readFile(imported.imported!.keystore, 'utf8'), 'file password')
    assert.equal(toChecksumAddress(privateKeyToAddress(key)), DEV1)
    await assert.rejects(
      walletRestore({ mnemonicFile: file, importIndex: 1, datadir, passwordFile: pwFile, io: noTty, env: ENV }),
      /an account for 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 already exists/,
    )
    await assert.rejects(walletRestore({ io: noTty }), isCode(WalletError, 'NEEDS_TERMINAL'))
    const bad = join(tmp, 'bad-mnemonic.txt')
    await writeFile(bad, TEST_MNEMONIC.replace('junk', 'junky'))
    await assert.rejects(walletRestore({ mnemonicFile: bad, io: noTty }), isMnemonicErr('UNKNOWN_WORD', /bad-mnemonic.txt: unknown word "junky" at position 12/))
  })

  test('restore at a hidden prompt: the phrase is never echoed', async () => {
    const term = scriptedTerminal([['Mnemonic', () => TEST_MNEMONIC]])
    const r = await walletRestore({ count: 1, io: term.io })
    assert.equal(r.accounts[0]!.address, DEV0)
    assert.ok(!term.shown().includes('test test'), term.shown())
  })
})

describe('tx sign confirmation', () => {
  let tmp: string
  let unsignedFile: string
  let keystoreFile: string
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'catena-txsign-unit-'))
    const file = join(tmp, 'm.txt')
    await writeFile(file, TEST_MNEMONIC)
    const r = await walletRestore({ mnemonicFile: file, count: 1, importIndex: 0, datadir: tmp, io: scriptedTerminal([], false).io, env: { ...ENV, CATENA_PASSWORD: 'pw' } })
    keystoreFile = r.imported!.keystore
    unsignedFile = join(tmp, 'unsigned.json')
    const unsigned = buildUnsignedTx(DEV0, {
      chainId: 1337n, nonce: 0n, maxPriorityFeePerGas: 1n, maxFeePerGas: 2n, gasLimit: 21000n, to: DEV1, value: 5n, data: '0x',
    })
    await writeFile(unsignedFile, serializeTxFile(unsigned))
  })
  after(() => rm(tmp, { recursive: true, force: true }))

  test('the summary is shown; "n" signs nothing, "y" signs', async () => {
    const no = scriptedTerminal([['Sign this transaction?', () => 'n']])
    const out = join(tmp, 'signed.json')
    await assert.rejects(
      signTxFile({ file: unsignedFile, keystore: keystoreFile, out, io: no.io, env: { CATENA_PASSWORD: 'pw' } }),
      isCode(TxCommandError, 'NOT_CONFIRMED'),
    )
    assert.match(no.shown(), /value +0\.000000000000000005 ETH \(5 wei\)/)
    await assert.rejects(stat(out), /ENOENT/)

    const yes = scriptedTerminal([
      ['Sign this transaction?', () => 'y'],
      [`Password for ${DEV0}`, () => 'pw'],
    ])
    const r = await signTxFile({ file: unsignedFile, keystore: keystoreFile, out, io: yes.io, env: {} })
    assert.equal(parseSignedTx(await readFile(out, 'utf8')).hash, r.file.hash)
    assert.ok(!yes.shown().includes('pw\r'))
  })

  test('without a terminal --yes is required; a keystore for another address is refused before the password', async () => {
    const noTty = scriptedTerminal([], false).io
    await assert.rejects(
      signTxFile({ file: unsignedFile, keystore: keystoreFile, out: join(tmp, 's2.json'), io: noTty, env: { CATENA_PASSWORD: 'pw' } }),
      isCode(TxCommandError, 'NEEDS_CONFIRMATION'),
    )
    const other = await walletRestore({ mnemonicFile: join(tmp, 'm.txt'), count: 1, importIndex: 2, datadir: join(tmp, 'other'), io: noTty, env: { ...ENV, CATENA_PASSWORD: 'pw' } })
    await assert.rejects(
      signTxFile({ file: unsignedFile, keystore: other.imported!.keystore, out: join(tmp, 's3.json'), io: noTty, yes: true, env: {} }),
      (e) => isCode(TxCommandError, 'KEYSTORE_MISMATCH')(e) && new RegExp(`is for ${other.imported!.address} but the transaction is from ${DEV0}`).test((e as Error).message),
    )
  })
})
