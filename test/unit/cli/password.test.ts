import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  PASSWORD_ENV,
  PasswordError,
  promptHidden,
  readNewPassword,
  readPassword,
  readPasswordFile,
  selectPasswordSource,
} from '../../../src/cli/password.ts'
import type { PromptIO } from '../../../src/cli/password.ts'

/** A fake terminal: keys are written into `input`, everything shown lands in `shown()`. */
function fakeTerminal(tty = true) {
  const input = new PassThrough() as PassThrough & { isTTY?: boolean; isRaw?: boolean; setRawMode?: (m: boolean) => void }
  const modes: boolean[] = []
  if (tty) {
    input.isTTY = true
    input.isRaw = false
    input.setRawMode = (m: boolean) => {
      input.isRaw = m
      modes.push(m)
    }
  }
  const output = new PassThrough()
  let text = ''
  output.setEncoding('utf8').on('data', (c: string) => (text += c))
  const io: PromptIO = { input, output }
  return { io, input, modes, shown: () => text }
}

const isCode = (code: string) => (e: unknown) => e instanceof PasswordError && e.code === code && !e.message.includes('\n')

describe('selectPasswordSource', () => {
  test('--password-file wins over the environment and the prompt', () => {
    assert.deepEqual(
      selectPasswordSource({ passwordFile: '/p', env: { [PASSWORD_ENV]: 'x' }, interactive: true }),
      { kind: 'file', path: '/p' },
    )
  })

  test('then CATENA_PASSWORD, even when set to the empty string', () => {
    assert.deepEqual(selectPasswordSource({ env: { [PASSWORD_ENV]: 'x' }, interactive: true }), { kind: 'env', name: PASSWORD_ENV })
    assert.deepEqual(selectPasswordSource({ env: { [PASSWORD_ENV]: '' }, interactive: false }), { kind: 'env', name: PASSWORD_ENV })
  })

  test('then the prompt, only on a terminal', () => {
    assert.deepEqual(selectPasswordSource({ env: {}, interactive: true }), { kind: 'prompt' })
    assert.throws(() => selectPasswordSource({ env: {}, interactive: false }), isCode('NO_PASSWORD_SOURCE'))
  })
})

describe('readPasswordFile', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catena-pw-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  test('the first line, without its line ending, spaces kept', async () => {
    const cases: [string, string][] = [
      ['secret\n', 'secret'],
      ['secret', 'secret'],
      ['secret\r\nsecond line\n', 'secret'],
      ['  spaced pass  \n', '  spaced pass  '],
      ['pässwörd 🔑\n', 'pässwörd 🔑'],
      ['\nsecond\n', ''],
    ]
    for (const [i, [content, want]] of cases.entries()) {
      const path = join(dir, `pw${i}`)
      await writeFile(path, content)
      assert.equal(await readPasswordFile(path), want, JSON.stringify(content))
    }
  })

  test('missing, unreadable or not a file: PASSWORD_FILE_UNREADABLE naming the path', async () => {
    await assert.rejects(readPasswordFile(join(dir, 'nope')), (e: unknown) => isCode('PASSWORD_FILE_UNREADABLE')(e) && (e as Error).message.includes('nope'))
    await assert.rejects(readPasswordFile(dir), isCode('PASSWORD_FILE_UNREADABLE'))
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked')
      await writeFile(locked, 'x')
      await chmod(locked, 0)
      await assert.rejects(readPasswordFile(locked), isCode('PASSWORD_FILE_UNREADABLE'))
    }
  })
})

describe('promptHidden', () => {
  test('reads a line in raw mode, echoes nothing, restores the mode', async () => {
    const t = fakeTerminal()
    const p = promptHidden('Password: ', t.io)
    t.input.write('s3cr')
    t.input.write('et!\r')
    assert.equal(await p, 's3cret!')
    assert.deepEqual(t.modes, [true, false])
    assert.equal(t.shown(), 'Password: \n')
  })

  test('backspace, Ctrl-U and escape sequences are edited out', async () => {
    const t = fakeTerminal()
    const p = promptHidden('> ', t.io)
    // "abX<BS>c", arrow-left (ESC [ D), Ctrl-U clears, then "pw", a multi-byte char, DEL.
    t.input.write('abX\bc\u001b[D\u0015pw\u00e9x\u007f\n')
    assert.equal(await p, 'pw\u00e9')
    assert.equal(t.shown(), '> \n')
  })

  test('a UTF-8 character split across chunks is decoded whole', async () => {
    const t = fakeTerminal()
    const p = promptHidden('> ', t.io)
    const bytes = Buffer.from('k€y\r', 'utf8')
    t.input.write(bytes.subarray(0, 2))
    t.input.write(bytes.subarray(2))
    assert.equal(await p, 'k€y')
  })

  test('Ctrl-C and Ctrl-D on an empty line abort, with the mode restored', async () => {
    for (const key of ['\u0003', '\u0004']) {
      const t = fakeTerminal()
      const p = promptHidden('> ', t.io)
      t.input.write(key)
      await assert.rejects(p, isCode('PROMPT_ABORTED'))
      assert.deepEqual(t.modes, [true, false])
    }
  })

  test('refuses to prompt when input is not a terminal', async () => {
    const t = fakeTerminal(false)
    await assert.rejects(promptHidden('> ', t.io), isCode('NO_PASSWORD_SOURCE'))
    assert.equal(t.shown(), '')
  })
})

describe('readPassword / readNewPassword', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catena-pw-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  test('unlock: file, then env, then prompt', async () => {
    const file = join(dir, 'unlock')
    await writeFile(file, 'from-file\n')
    const t = fakeTerminal()
    assert.equal(await readPassword('> ', { passwordFile: file, env: { [PASSWORD_ENV]: 'from-env' }, io: t.io }), 'from-file')
    assert.equal(await readPassword('> ', { env: { [PASSWORD_ENV]: 'from-env' }, io: t.io }), 'from-env')
    assert.equal(t.shown(), '', 'no prompt when a file or env var gives the password')
    const p = readPassword('Password: ', { env: {}, io: t.io })
    t.input.write('typed\r')
    assert.equal(await p, 'typed')
    assert.equal(t.shown(), 'Password: \n')
  })

  test('unlock without a terminal or a source fails at once', async () => {
    await assert.rejects(readPassword('> ', { env: {}, io: fakeTerminal(false).io }), isCode('NO_PASSWORD_SOURCE'))
  })

  test('new password from the prompt is asked twice; typed-ahead keys go to the second prompt', async () => {
    const t = fakeTerminal()
    const p = readNewPassword({ env: {}, io: t.io })
    t.input.write('correct horse\r\ncorrect horse\r')
    assert.equal(await p, 'correct horse')
    assert.equal(t.shown(), 'New password: \nRepeat password: \n')
  })

  test('new password: a mismatched confirmation is refused', async () => {
    const t = fakeTerminal()
    const p = readNewPassword({ env: {}, io: t.io })
    t.input.write('one\r')
    t.input.write('two\r')
    await assert.rejects(p, isCode('PASSWORD_MISMATCH'))
  })

  test('new password: empty is refused from every source', async () => {
    const empty = join(dir, 'empty')
    await writeFile(empty, '\n')
    await assert.rejects(readNewPassword({ passwordFile: empty, env: {}, io: fakeTerminal().io }), isCode('EMPTY_PASSWORD'))
    await assert.rejects(readNewPassword({ env: { [PASSWORD_ENV]: '' }, io: fakeTerminal().io }), isCode('EMPTY_PASSWORD'))
    const t = fakeTerminal()
    const p = readNewPassword({ env: {}, io: t.io })
    t.input.write('\r')
    await assert.rejects(p, isCode('EMPTY_PASSWORD'))
    assert.equal(t.shown(), 'New password: \n', 'no confirmation asked for an empty password')
  })

  test('new password from a file or env is not confirmed (nothing to mistype)', async () => {
    const file = join(dir, 'new')
    await writeFile(file, 'filepw\n')
    const t = fakeTerminal()
    assert.equal(await readNewPassword({ passwordFile: file, env: {}, io: t.io }), 'filepw')
    assert.equal(await readNewPassword({ env: { [PASSWORD_ENV]: 'envpw' }, io: t.io }), 'envpw')
    assert.equal(t.shown(), '')
  })
})
