/**
 * Passwords for key files, from one of three sources, in this order:
 *   1. `--password-file <file>`: its first line (a trailing \r is dropped, nothing else is trimmed,
 *      as geth reads `--password` files);
 *   2. the CATENA_PASSWORD environment variable (for scripts and CI);
 *   3. a hidden prompt on the terminal: raw mode, nothing echoed, not even asterisks.
 * Passwords never come from argv, where `ps` and shell history would show them.
 * @module
 */
import { readFile, stat } from 'node:fs/promises'
import { StringDecoder } from 'node:string_decoder'

export const PASSWORD_ENV = 'CATENA_PASSWORD'
const MAX_PASSWORD_FILE_BYTES = 64 * 1024

export type PasswordErrorCode =
  | 'NO_PASSWORD_SOURCE'
  | 'PASSWORD_FILE_UNREADABLE'
  | 'EMPTY_PASSWORD'
  | 'PASSWORD_MISMATCH'
  | 'PROMPT_ABORTED'

/** No usable password: `code` says why. */
export class PasswordError extends Error {
  readonly code: PasswordErrorCode
  constructor(code: PasswordErrorCode, message: string) {
    super(message)
    this.name = 'PasswordError'
    this.code = code
  }
}

export type PasswordSource =
  | { kind: 'file'; path: string }
  | { kind: 'env'; name: string }
  | { kind: 'prompt' }

/** The terminal a prompt reads from and writes to (process.stdin / process.stderr by default). */
export interface PromptIO {
  input: NodeJS.ReadableStream & { isTTY?: boolean; isRaw?: boolean; setRawMode?: (mode: boolean) => unknown }
  output: NodeJS.WritableStream
}

export interface PasswordOptions {
  /** `--password-file`. */
  passwordFile?: string
  /** Where CATENA_PASSWORD is looked up (process.env by default). */
  env?: Record<string, string | undefined>
  io?: PromptIO
}

function defaultIO(): PromptIO {
  return { input: process.stdin, output: process.stderr }
}

/**
 * Which source a password comes from: the file if given, else the environment variable if set
 * (even to ""), else the prompt when stdin is a terminal. Anything else is NO_PASSWORD_SOURCE,
 * so a script without a terminal fails at once instead of hanging on a prompt.
 */
export function selectPasswordSource(opts: {
  passwordFile?: string
  env: Record<string, string | undefined>
  interactive: boolean
}): PasswordSource {
  if (opts.passwordFile !== undefined) return { kind: 'file', path: opts.passwordFile }
  if (opts.env[PASSWORD_ENV] !== undefined) return { kind: 'env', name: PASSWORD_ENV }
  if (opts.interactive) return { kind: 'prompt' }
  throw new PasswordError(
    'NO_PASSWORD_SOURCE',
    `no password given and stdin is not a terminal: use --password-file <file> or set ${PASSWORD_ENV}`,
  )
}

/** The first line of a password file (geth's rule), or PASSWORD_FILE_UNREADABLE. */
export async function readPasswordFile(path: string): Promise<string> {
  let text: string
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new Error('not a regular file')
    if (info.size > MAX_PASSWORD_FILE_BYTES) throw new Error(`larger than ${MAX_PASSWORD_FILE_BYTES} bytes`)
    text = await readFile(path, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message
    throw new PasswordError('PASSWORD_FILE_UNREADABLE', `cannot read password file ${path}: ${why}`)
  }
  const firstLine = text.split('\n', 1)[0]!
  return firstLine.endsWith('\r') ? firstLine.slice(0, -1) : firstLine
}

/**
 * Asks `question` on a terminal and reads one line in raw mode, echoing nothing. Backspace
 * deletes, Ctrl-U clears, arrow keys and other escape sequences are ignored, Ctrl-C (or Ctrl-D
 * on an empty line) aborts with PROMPT_ABORTED. The terminal mode is restored in every case.
 */
export function promptHidden(question: string, io: PromptIO = defaultIO()): Promise<string> {
  const { input, output } = io
  if (!input.isTTY || typeof input.setRawMode !== 'function') {
    return Promise.reject(new PasswordError('NO_PASSWORD_SOURCE', 'cannot prompt for a password: stdin is not a terminal'))
  }
  const setRawMode = input.setRawMode.bind(input)
  const wasRaw = input.isRaw === true
  output.write(question)
  setRawMode(true)
  return new Promise<string>((resolve, reject) => {
    const decoder = new StringDecoder('utf8')
    let chars: string[] = []
    // 0: normal, 1: after ESC, 2: inside a CSI/SS3 sequence (ESC [ ... final byte).
    let escape = 0
    const finish = (rest: string, err?: PasswordError) => {
      input.removeListener('data', onData)
      setRawMode(wasRaw)
      input.pause()
      // Keys typed ahead (a second password pasted with the first) belong to the next prompt.
      if (rest.length > 0 && !err) input.unshift(Buffer.from(rest, 'utf8'))
      output.write('\n')
      if (err) {
        chars.fill('')
        reject(err)
      } else {
        resolve(chars.join(''))
      }
    }
    const onData = (chunk: Buffer | string) => {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk)
      const cps = Array.from(text)
      for (let i = 0; i < cps.length; i++) {
        const ch = cps[i]!
        if (escape === 1) {
          escape = ch === '[' || ch === 'O' ? 2 : 0
          continue
        }
        if (escape === 2) {
          if (ch >= '@' && ch <= '~') escape = 0
          continue
        }
        if (ch === '\r' || ch === '\n') {
          const next = ch === '\r' && cps[i + 1] === '\n' ? i + 2 : i + 1
          return finish(cps.slice(next).join(''))
        }
        if (ch === '\u0003') return finish('', new PasswordError('PROMPT_ABORTED', 'password prompt cancelled'))
        if (ch === '\u0004') {
          if (chars.length === 0) return finish('', new PasswordError('PROMPT_ABORTED', 'password prompt cancelled'))
          continue
        }
        if (ch === '\u007f' || ch === '\b') chars.pop()
        else if (ch === '\u0015') chars = []
        else if (ch === '\u001b') escape = 1
        else if (ch >= ' ') chars.push(ch)
      }
    }
    input.on('data', onData)
    input.resume()
  })
}

/** A password to unlock an existing key (may be empty: other tools allow empty passwords). */
export async function readPassword(prompt: string, opts: PasswordOptions = {}): Promise<string> {
  const io = opts.io ?? defaultIO()
  const source = selectPasswordSource({
    passwordFile: opts.passwordFile,
    env: opts.env ?? process.env,
    interactive: io.input.isTTY === true,
  })
  if (source.kind === 'file') return readPasswordFile(source.path)
  if (source.kind === 'env') return (opts.env ?? process.env)[source.name]!
  return promptHidden(prompt, io)
}

/**
 * A password for a new key file: never empty, and typed twice when it comes from the prompt
 * (a typo would lock the key away for good).
 */
export async function readNewPassword(opts: PasswordOptions = {}): Promise<string> {
  const io = opts.io ?? defaultIO()
  const env = opts.env ?? process.env
  const source = selectPasswordSource({ passwordFile: opts.passwordFile, env, interactive: io.input.isTTY === true })
  let password: string
  if (source.kind === 'file') password = await readPasswordFile(source.path)
  else if (source.kind === 'env') password = env[source.name]!
  else password = await promptHidden('New password: ', io)
  const where = source.kind === 'file' ? `password file ${source.path}` : source.kind === 'env' ? source.name : 'the prompt'
  if (password.length === 0) throw new PasswordError('EMPTY_PASSWORD', `empty password from ${where}: a key file needs a password`)
  if (source.kind === 'prompt') {
    const again = await promptHidden('Repeat password: ', io)
    if (again !== password) throw new PasswordError('PASSWORD_MISMATCH', 'the passwords do not match; nothing was written')
  }
  return password
}
