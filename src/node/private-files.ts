/**
 * Secrets on disk, checked as ssh checks a private key: a validator key file or an API key
 * file that other users can access is refused with the command that fixes it (chmod 600),
 * never used silently; the datadir (chain data, node key, keystore) is created 0700, and an
 * existing one that others can enter is reported. Windows has no such mode bits: not checked.
 * @module
 */
import { chmod, mkdir, readFile, stat } from 'node:fs/promises'
import type { Logger } from 'pino'

export type PrivateFileErrorCode = 'SECRET_FILE_UNREADABLE' | 'SECRET_FILE_TOO_OPEN'

export class PrivateFileError extends Error {
  override readonly name = 'PrivateFileError'
  constructor(
    readonly code: PrivateFileErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const CHECK_MODES = process.platform !== 'win32'
const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`

/**
 * Throws PrivateFileError unless `path` is a file only its owner can access. `what` names it
 * in the message ("validator key file").
 */
export async function assertPrivateFile(path: string, what: string): Promise<void> {
  let st
  try {
    st = await stat(path)
  } catch (err) {
    throw new PrivateFileError('SECRET_FILE_UNREADABLE', `cannot read the ${what} ${path}: ${(err as Error).message}`)
  }
  if (!st.isFile()) throw new PrivateFileError('SECRET_FILE_UNREADABLE', `the ${what} ${path} is not a regular file`)
  if (CHECK_MODES && (st.mode & 0o077) !== 0) {
    throw new PrivateFileError(
      'SECRET_FILE_TOO_OPEN',
      `permissions ${octal(st.mode)} for the ${what} ${path} are too open: other users of this machine can read or change it. ` +
        `It must be accessible by its owner only; run: chmod 600 ${path}`,
    )
  }
}

/** Reads a secret file after checking its permissions (assertPrivateFile). */
export async function readPrivateFile(path: string, what: string): Promise<string> {
  await assertPrivateFile(path, what)
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new PrivateFileError('SECRET_FILE_UNREADABLE', `cannot read the ${what} ${path}: ${(err as Error).message}`)
  }
}

/**
 * Creates the datadir with mode 0700 (parents it creates too), or warns when an existing one
 * is open to other users: it holds the node key and the chain data.
 */
export async function preparePrivateDir(dir: string, log: Logger): Promise<void> {
  const existing = await stat(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)))
  if (existing === undefined) {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    if (CHECK_MODES) await chmod(dir, 0o700)
    return
  }
  if (!existing.isDirectory()) throw new Error(`the datadir ${dir} is not a directory`)
  if (CHECK_MODES && (existing.mode & 0o077) !== 0) {
    log.warn({ datadir: dir, mode: octal(existing.mode) }, `the datadir ${dir} is accessible by other users (mode ${octal(existing.mode)}): run chmod 700 ${dir}`)
  }
}
