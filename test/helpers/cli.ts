/** Runs the `catena` CLI as a child process, as a user or script would, and checks its failures. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { REPO_ROOT } from './node-process.ts'

/** A light scrypt cost for keystores made in tests. */
export const SCRYPT_N = '1024'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CATENA_KEYSTORE_SCRYPT_N: SCRYPT_N, ...extra }
  delete env.NODE_TEST_CONTEXT // the CLI is not a test process
  if (!('CATENA_PASSWORD' in extra)) delete env.CATENA_PASSWORD
  return env
}

/** Runs `catena <args>` with stdin closed (not a terminal), as a script would. */
export function catena(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: REPO_ROOT,
      env: cliEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The stderr lines that are errors (light-kdf warnings and the send summary are not). */
export function errorLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('error'))
}

/** Asserts a failed run: non-zero exit and exactly one error line matching `pattern`. */
export function assertFails(r: CliResult, pattern: RegExp, what = ''): void {
  assert.notEqual(r.code, 0, `${what}: expected failure, got exit 0; stdout: ${r.stdout}\nstderr: ${r.stderr}`)
  const errors = errorLines(r)
  assert.equal(errors.length, 1, `expected one error line, stderr was:\n${r.stderr}`)
  assert.match(errors[0]!, pattern)
  assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace expected:\n${r.stderr}`)
}

