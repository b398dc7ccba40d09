/**
 * Hostile input against the REST API of a real listening server: every GET operation of
 * /openapi.json gets seeded random and hand-picked values for each of its query and path
 * parameters (Infinity, NaN, -1, 1e309, hex, huge digit strings, long strings, unicode, bytes
 * that are not UTF-8, repeated and bracketed parameters). No answer may be a 5xx; every 4xx has
 * exactly the documented `{ error: { code, message } }` shape; a 2xx means every integer sent
 * was a plain decimal within the documented bounds. The other error paths (unknown routes,
 * bad URL encoding, a too-long path, a too-large or mistyped body, the rate limit, a foreign
 * Host) answer in the same shape. The seed is printed; set REST_FUZZ_SEED to replay one.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Prng } from '../../../src/lab/sim/prng.ts'
import { restApp, type RestApp } from './rest-helpers.ts'
import { raw, type RawResponse } from './rpc-helpers.ts'

const CODES = new Set([
  'BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'TIMEOUT', 'PAYLOAD_TOO_LARGE', 'URI_TOO_LONG',
  'UNSUPPORTED_MEDIA_TYPE', 'RATE_LIMITED', 'HEADERS_TOO_LARGE', 'INTERNAL', 'UNAVAILABLE',
])
const SEED = Number(process.env.REST_FUZZ_SEED ?? Date.now() % 1_000_000)
const VALUES_PER_PARAMETER = 40
const API_KEY = 'fuzz-admin-key-0123456789abcdef'

/** Hand-picked values: numbers JavaScript reads oddly, and strings no schema expects. */
const HOSTILE = [
  'Infinity', '-Infinity', '+Infinity', 'NaN', '-1', '0', '-0', '1e309', '1e3', '1E2', '0x10', '0b1', '0o7', '1.5', '1.0', '.5', '5.',
  ' 5', '5 ', '+5', '05', '00', '1_000', '1,000', '9'.repeat(16), '9'.repeat(400), '18446744073709551616', '-9007199254740993',
  '', ' ', 'null', 'undefined', 'true', '[]', '{}', '__proto__', 'constructor', 'toString', '%', '%00', '%ZZ', '\u0000', '\uFFFF',
  '\u{1F600}', 'é', '\u202E', '../', '..%2F..%2F', '<script>', "'", '"', '\\', '0x', `0x${'f'.repeat(64)}`, `0x${'F'.repeat(40)}`,
  `0x${'g'.repeat(64)}`, 'x'.repeat(300), 'x'.repeat(5000),
]

interface Parameter {
  in: 'query' | 'path'
  name: string
  schema: { type?: string; minimum?: number; maximum?: number; pattern?: string; maxLength?: number }
}

interface Operation {
  path: string
  parameters: Parameter[]
}

function randomString(rng: Prng): string {
  const alphabets = ['0123456789', 'abcdefABCDEF0123456789x', ' \t%+-.eE', 'ωé中\u{1F600}\u0000\u202E', '&=?#[]{}/\\"\'']
  const len = rng.chance(0.1) ? rng.int(256, 3000) : rng.int(0, 20)
  let s = ''
  for (let i = 0; i < len; i++) {
    const alphabet = [...alphabets[rng.int(0, alphabets.length - 1)]!]
    s += alphabet[rng.int(0, alphabet.length - 1)]
  }
  return s
}

function valueFor(rng: Prng, p: Parameter): string {
  const roll = rng.next()
  if (roll < 0.45) return HOSTILE[rng.int(0, HOSTILE.length - 1)]!
  if (roll < 0.65 && p.schema.type === 'integer') {
    // Near and past the bounds, as plain decimals (the only ones that may succeed).
    const edge = [p.schema.minimum ?? 0, p.schema.maximum ?? 0][rng.int(0, 1)]!
    return String(edge + rng.int(-2, 2))
  }
  return randomString(rng)
}

const PLAIN_DECIMAL = /^(0|-?[1-9][0-9]*)$/

/** Whether a 2xx is acceptable for this value of this parameter. */
function mayPass(p: Parameter, value: string): boolean {
  if (p.schema.type !== 'integer') return true
  if (!PLAIN_DECIMAL.test(value)) return false
  const n = Number(value)
  return Number.isSafeInteger(n) && n >= (p.schema.minimum ?? -Infinity) && n <= (p.schema.maximum ?? Infinity)
}

function assertErrorShape(res: RawResponse, what: string): void {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: status ${res.status} ${res.text.slice(0, 200)}`)
  assert.match(String(res.headers['content-type']), /application\/json/, `${what}: content type`)
  const body = res.json()
  assert.deepEqual(Object.keys(body), ['error'], `${what}: ${res.text.slice(0, 200)}`)
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message'], `${what}: ${res.text.slice(0, 200)}`)
  assert.ok(CODES.has(body.error.code), `${what}: code ${body.error.code}`)
  assert.equal(typeof body.error.message, 'string')
}

describe(`REST API under hostile parameters (REST_FUZZ_SEED=${SEED})`, () => {
  let a: RestApp
  let url: string
  let operations: Operation[]

  before(async () => {
    a = await restApp({ network: true, apiKeys: [API_KEY], rateLimitPerMinute: 0 })
    ;({ url } = await a.rpc.listen())
    const doc = a.app.swagger() as { paths: Record<string, Record<string, { parameters?: Parameter[] }>> }
    operations = Object.entries(doc.paths)
      .filter(([path, ops]) => path.startsWith('/v1/') && ops.get !== undefined)
      .map(([path, ops]) => ({ path, parameters: ops.get!.parameters ?? [] }))
    assert.ok(operations.filter((o) => o.parameters.length > 0).length >= 8, 'the operations with parameters were found')
  })
  after(() => a?.close())

  /** Fills path parameters with valid values, then puts `value` in `target`. */
  const buildPath = (op: Operation, target: Parameter, value: string, rng: Prng): string => {
    let path = op.path
    for (const p of op.parameters.filter((x) => x.in === 'path')) {
      const v = p === target ? value : p.name === 'address' ? `0x${'11'.repeat(20)}` : p.name === 'hash' ? `0x${'22'.repeat(32)}` : '0'
      path = path.replace(`{${p.name}}`, encodeURIComponent(v))
    }
    if (target.in !== 'query') return path
    const key = encodeURIComponent(target.name)
    const encoded = encodeURIComponent(value)
    const shape = rng.int(0, 9)
    if (shape === 0) return `${path}?${key}=${encoded}&${key}=${encoded}` // repeated
    if (shape === 1) return `${path}?${key}[]=${encoded}` // bracketed (not the parameter)
    if (shape === 2) return `${path}?${key}=${encodeURI(value).replace(/#/g, '%23')}` // reserved characters (&, =, +, /) left as they are
    return `${path}?${key}=${encoded}`
  }

  test('no parameter value gets a 5xx, every error has the documented shape, a 2xx only for valid integers', async () => {
    const rng = new Prng(SEED)
    let checked = 0
    let refused = 0
    for (const op of operations) {
      for (const p of op.parameters) {
        for (let i = 0; i < VALUES_PER_PARAMETER; i++) {
          const value = i < HOSTILE.length && i % 3 === 0 ? HOSTILE[(i / 3) % HOSTILE.length]! : valueFor(rng, p)
          const path = buildPath(op, p, value, rng)
          const res = await raw(url, { method: 'GET', path })
          const what = `GET ${path.slice(0, 120)} (${p.in} ${p.name} = ${JSON.stringify(value.slice(0, 40))})`
          assert.ok(res.status < 500, `${what}: ${res.status} ${res.text.slice(0, 200)}`)
          if (res.status >= 400) {
            refused++
            // A 431 from an oversized request line is answered by the HTTP layer before any route.
            if (res.status !== 431) assertErrorShape(res, what)
          } else {
            const exact = new URLSearchParams(path.split('?')[1] ?? '').getAll(p.name)
            if (p.in === 'query' && exact.length > 0) assert.ok(exact.length === 1 && mayPass(p, exact[0]!), `${what}: answered ${res.status}`)
          }
          checked++
        }
      }
    }
    assert.ok(checked > 300 && refused > checked / 2, `${checked} requests, ${refused} refused`)
  })

  test('Infinity, 1e309 and NaN are refused for every integer parameter (was a 500, or an unbounded page)', async () => {
    for (const op of operations) {
      for (const p of op.parameters.filter((x) => x.schema.type === 'integer')) {
        for (const value of ['Infinity', '1e309', 'NaN', '-Infinity']) {
          const res = await raw(url, { method: 'GET', path: `${op.path.replace(/\{[^}]+\}/g, `0x${'11'.repeat(20)}`)}?${p.name}=${value}` })
          assertErrorShape(res, `${op.path}?${p.name}=${value}`)
          assert.equal(res.status, 400)
          assert.equal(res.json().error.code, 'BAD_REQUEST')
        }
      }
    }
  })

  test('unknown routes, bad URL encoding, long paths, oversized and mistyped bodies answer in the same shape', async () => {
    const cases: Array<{ method: string; path: string; body?: string; headers?: Record<string, string>; status: number; code: string }> = [
      { method: 'GET', path: '/v1/nope', status: 404, code: 'NOT_FOUND' },
      { method: 'GET', path: '/v1', status: 404, code: 'NOT_FOUND' },
      { method: 'DELETE', path: '/v1/chain', status: 404, code: 'NOT_FOUND' },
      { method: 'GET', path: '/v1/blocks/%', status: 400, code: 'BAD_REQUEST' },
      { method: 'GET', path: '/v1/%E0%A4%A', status: 400, code: 'BAD_REQUEST' },
      { method: 'GET', path: `/v1/blocks/${'a'.repeat(3000)}`, status: 414, code: 'URI_TOO_LONG' },
      { method: 'POST', path: '/v1/admin/shutdown', body: 'x'.repeat(2 * 1024 * 1024), headers: { 'content-type': 'application/json' }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
      { method: 'POST', path: '/v1/admin/peers/abc/ban', body: '<ban/>', headers: { 'content-type': 'application/xml' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { method: 'POST', path: '/v1/admin/peers/abc/ban', body: '{"reason":', headers: { 'content-type': 'application/json' }, status: 400, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/v1/admin/peers/abc/ban', body: '{"durationMs":1e309}', headers: { 'content-type': 'application/json' }, status: 400, code: 'BAD_REQUEST' },
      { method: 'GET', path: '/v1/chain', headers: { host: 'evil.example' }, status: 403, code: 'FORBIDDEN' },
    ]
    for (const c of cases) {
      const res = await raw(url, { method: c.method, path: c.path, ...(c.body !== undefined ? { body: c.body } : {}), headers: { 'x-api-key': API_KEY, ...c.headers } })
      const what = `${c.method} ${c.path.slice(0, 60)}`
      assertErrorShape(res, what)
      assert.equal(res.status, c.status, what)
      assert.equal(res.json().error.code, c.code, what)
    }
  })

  test('the rate limit answers 429 in the same shape', async () => {
    const limited = await restApp({ rateLimitPerMinute: 2 })
    try {
      const { url: u } = await limited.rpc.listen()
      const answers = []
      for (let i = 0; i < 3; i++) answers.push(await raw(u, { method: 'GET', path: '/v1/chain' }))
      assert.deepEqual(answers.map((r) => r.status), [200, 200, 429])
      assertErrorShape(answers[2]!, 'third request in a minute')
      assert.equal(answers[2]!.json().error.code, 'RATE_LIMITED')
    } finally {
      await limited.close()
    }
  })
})
