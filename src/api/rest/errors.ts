/**
 * The REST API's one error shape, `{ error: { code, message } }` with a matching HTTP status,
 * for every failure under /v1: schema validation (400), unknown resources and routes (404),
 * missing or wrong API keys (401/403), rate limits (429) and crashes (500, the stack only in
 * the log).
 * @module
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { CallBusyError, CallTimeoutError } from '../../execution/call-pool.ts'

export type RestErrorCode =
  | 'BAD_REQUEST' | 'NOT_FOUND' | 'RATE_LIMITED' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'UNAVAILABLE' | 'INTERNAL'
  | 'TIMEOUT' | 'PAYLOAD_TOO_LARGE' | 'URI_TOO_LONG' | 'UNSUPPORTED_MEDIA_TYPE' | 'HEADERS_TOO_LARGE'

const STATUS: Record<RestErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  UNAVAILABLE: 503,
}

const CODE_OF = new Map<number, RestErrorCode>(Object.entries(STATUS).map(([code, status]) => [status, code as RestErrorCode]))

/** The error code for an HTTP status (an unlisted 4xx is BAD_REQUEST, 5xx INTERNAL). */
export function restErrorCode(status: number): RestErrorCode {
  return CODE_OF.get(status) ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL')
}

/** The REST prefix: everything under it answers errors in the REST shape. */
export const REST_PREFIX = '/v1'

/** True for /v1 and everything under it. */
export function isRestUrl(url: string): boolean {
  return url === REST_PREFIX || url.startsWith(`${REST_PREFIX}/`) || url.startsWith(`${REST_PREFIX}?`)
}

/** The REST error body for a status, as JSON text (for answers written before any route runs). */
export function restErrorText(status: number, message: string): string {
  return JSON.stringify({ error: { code: restErrorCode(status), message } })
}

export interface RestErrorBody {
  error: { code: RestErrorCode; message: string }
}

/** Thrown by route handlers (and hooks) to answer with this status and error body. */
export class RestError extends Error {
  override readonly name = 'RestError'
  readonly statusCode: number
  constructor(
    readonly code: RestErrorCode,
    message: string,
    /** Extra response headers (WWW-Authenticate, Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.statusCode = STATUS[code]
  }

  toJSON(): RestErrorBody {
    return { error: { code: this.code, message: this.message } }
  }
}

export const badRequest = (message: string) => new RestError('BAD_REQUEST', message)
export const notFound = (message: string) => new RestError('NOT_FOUND', message)

/** Fastify's validation errors as one readable sentence: "querystring/limit must be <= 100". */
export function formatValidationErrors(
  errors: ReadonlyArray<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>,
  dataVar: string,
): RestError {
  const parts = errors.map((e) => {
    const extra = e.params?.additionalProperty ? ` (${String(e.params.additionalProperty)})` : ''
    return `${dataVar}${e.instancePath ?? ''} ${e.message ?? 'is invalid'}${extra}`
  })
  return badRequest(parts.join('; '))
}

/** Maps anything thrown under /v1 to the REST error it should be sent as. */
export function toRestError(err: unknown, log: Logger, request?: FastifyRequest): RestError {
  if (err instanceof RestError) return err
  // A contract read (the admin permissions check) over its time limit or with every call thread busy.
  if (err instanceof CallTimeoutError || err instanceof CallBusyError) return new RestError('UNAVAILABLE', err.message)
  const e = err as Partial<FastifyError> & { validation?: unknown; validationContext?: string }
  if (e && typeof e === 'object' && Array.isArray(e.validation)) {
    return formatValidationErrors(e.validation as [], e.validationContext ?? 'request')
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500
  if (status === 429) return new RestError('RATE_LIMITED', e.message ?? 'too many requests')
  if (status >= 400 && status < 500) {
    // Fastify's own refusals (bad JSON body, unsupported media type, body too large): keep
    // their status, in our shape.
    const out = new RestError(restErrorCode(status), e.message ?? 'bad request')
    ;(out as { statusCode: number }).statusCode = status
    return out
  }
  log.error({ err, url: request?.url, method: request?.method }, 'REST request failed')
  return new RestError('INTERNAL', 'internal error')
}

/** The error handler of the /v1 scope. */
export function restErrorHandler(log: Logger) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const out = toRestError(err, log, request)
    for (const [name, value] of Object.entries(out.headers)) reply.header(name, value)
    return reply.code(out.statusCode).send(out.toJSON())
  }
}
