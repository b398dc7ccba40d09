/**
 * Integer query parameters as plain decimals only. Fastify's Ajv coerces any string that
 * JavaScript reads as a number ("Infinity", "1e309", "0x10", " 5"), and a coerced Infinity
 * then skips the schema's minimum and maximum (Ajv checks bounds on finite numbers only): so
 * `?window=Infinity` reached a handler (500) and `?limit=Infinity` asked for an unbounded
 * page. Checked before validation, so every integer a handler sees is finite and in bounds.
 * @module
 */
import type { FastifyRequest } from 'fastify'
import { badRequest } from './errors.ts'

/** Up to 15 digits: every value is a safe integer, far above any bound the routes set. */
const DECIMAL = /^(0|-?[1-9][0-9]{0,14})$/

interface QuerySchema {
  properties?: Record<string, { type?: unknown }>
}

/** A preValidation hook for the /v1 scope: refuses integer query parameters that are not plain decimals. */
export async function strictIntegerQuery(request: FastifyRequest): Promise<void> {
  const schema = request.routeOptions.schema?.querystring as QuerySchema | undefined
  const props = schema?.properties
  if (!props) return
  const query = request.query as Record<string, unknown>
  for (const [name, prop] of Object.entries(props)) {
    if (prop.type !== 'integer' || !Object.hasOwn(query, name)) continue
    const value = query[name]
    if (typeof value === 'string' && DECIMAL.test(value)) continue
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : Array.isArray(value) ? 'a repeated parameter' : typeof value
    throw badRequest(`querystring/${name} must be a decimal integer (got ${shown})`)
  }
}
