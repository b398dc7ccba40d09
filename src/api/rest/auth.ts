/**
 * API keys for the admin routes. Keys come from a file (one per line; blank lines and
 * `#` comments ignored) and/or the CATENA_API_KEY environment variable. With no key
 * configured the admin routes are closed (403), never open. A request presents its key as
 * `Authorization: Bearer <key>` or `x-api-key: <key>`; keys are compared in constant time
 * (SHA-256 digests through timingSafeEqual, every key checked), so response timing says
 * nothing about how much of a guess was right.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { FastifyRequest } from 'fastify'
import { RestError } from './errors.ts'

/** Shorter keys are refused: they can be guessed. */
export const MIN_API_KEY_LENGTH = 16
export const API_KEY_ENV = 'CATENA_API_KEY'

export class ApiKeyError extends Error {
  override readonly name = 'ApiKeyError'
  readonly code = 'INVALID_API_KEY_CONFIG'
}

function checkKey(key: string, where: string): string {
  if (key.length < MIN_API_KEY_LENGTH) throw new ApiKeyError(`${where}: an API key must be at least ${MIN_API_KEY_LENGTH} characters (got ${key.length})`)
  if (/\s/.test(key)) throw new ApiKeyError(`${where}: an API key must not contain whitespace`)
  return key
}

/** Keys from `file` and from `env` (CATENA_API_KEY); throws ApiKeyError for unreadable or weak keys. */
export async function loadApiKeys(opts: { file?: string; env?: string }): Promise<string[]> {
  const keys: string[] = []
  if (opts.file !== undefined) {
    let text: string
    try {
      text = await readFile(opts.file, 'utf8')
    } catch (err) {
      throw new ApiKeyError(`cannot read the API key file ${opts.file}: ${(err as Error).message}`)
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const key = line.trim()
      if (key !== '' && !key.startsWith('#')) keys.push(checkKey(key, `${opts.file} line ${i + 1}`))
    })
    if (keys.length === 0) throw new ApiKeyError(`the API key file ${opts.file} holds no key`)
  }
  const env = opts.env?.trim()
  if (env) keys.push(checkKey(env, API_KEY_ENV))
  return keys
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

export class ApiKeys {
  private readonly digests: Buffer[]

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest)
  }

  get configured(): boolean {
    return this.digests.length > 0
  }

  /** True when `presented` is one of the keys; the time taken does not depend on which or how close. */
  matches(presented: string): boolean {
    const d = digest(presented)
    let ok = false
    for (const k of this.digests) ok = timingSafeEqual(k, d) || ok
    return ok
  }

  /** The key a request presents, if any. */
  static presented(request: FastifyRequest): string | undefined {
    const auth = request.headers.authorization
    if (typeof auth === 'string') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth)
      if (m) return m[1]
    }
    const header = request.headers['x-api-key']
    return typeof header === 'string' && header.length > 0 ? header : undefined
  }

  /** Whether a request carries a valid key (used to lift rate limits for key holders). */
  authorizes(request: FastifyRequest): boolean {
    const key = ApiKeys.presented(request)
    return key !== undefined && this.configured && this.matches(key)
  }

  /** A preHandler for admin routes: 403 when no key is configured, 401 for a missing or wrong key. */
  guard() {
    return async (request: FastifyRequest) => {
      if (!this.configured) {
        throw new RestError(
          'FORBIDDEN',
          `the admin API is disabled: no API key is configured (start the node with --api-key-file <file> or set ${API_KEY_ENV})`,
        )
      }
      const key = ApiKeys.presented(request)
      const challenge = { 'www-authenticate': 'Bearer realm="catena-admin"' }
      if (key === undefined) throw new RestError('UNAUTHORIZED', 'this admin route needs an API key: send "Authorization: Bearer <key>" or "x-api-key: <key>"', challenge)
      if (!this.matches(key)) throw new RestError('UNAUTHORIZED', 'invalid API key', challenge)
    }
  }
}
