/**
 * The OpenAPI document against the routes Fastify actually registered: every /v1 route is in
 * /openapi.json (also one added by a plugin registered after the REST API, as metrics and
 * health are), JSON-RPC is not, and the response of every GET route (and the error
 * responses) validate against the schemas the document publishes. Routes tagged `poh` serve
 * PoH chains only: on this dev chain they answer the documented error (their 200s are checked
 * on a PoH chain in rest-poh.test.ts).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Ajv } from 'ajv'
import { bytesToHex } from '@ethereumjs/util'
import { Signer, addressOf, produceBlock } from '../../helpers/chain.ts'
import { restApp, type RestApp } from './rest-helpers.ts'

/** Fastify's /v1/blocks/:id as OpenAPI's /v1/blocks/{id}. */
const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

describe('OpenAPI document', () => {
  let a: RestApp
  let spec: any
  const values: Record<string, string[]> = {}

  before(async () => {
    a = await restApp({ network: true })
    const s = new Signer(a.t.common)
    const create = s.deploy(0, Uint8Array.from([0x00]))
    const { imported } = await produceBlock(a.t, [s.transfer(1, addressOf(2).bytes, 1n), create])
    await produceBlock(a.t, [])
    const pending = s.transfer(3, addressOf(2).bytes, 1n)
    await a.mempool.add(pending.serialize())
    values.id = ['0', '1', bytesToHex(imported.hash)]
    values.hash = [bytesToHex(create.hash()), bytesToHex(pending.hash())]
    values.address = [addressOf(1).toString(), addressOf(2).toString()]
    const res = await a.get('/openapi.json')
    assert.equal(res.statusCode, 200)
    spec = res.json()
  })
  after(() => a.close())

  test('lists every registered /v1 route and no JSON-RPC or static route', () => {
    const v1 = a.routes.filter((r) => r.url.startsWith('/v1/') && r.method !== 'HEAD')
    assert.ok(v1.length >= 16)
    for (const r of v1) {
      const op = spec.paths[openapiPath(r.url)]?.[r.method.toLowerCase()]
      assert.ok(op, `${r.method} ${r.url} is missing from /openapi.json`)
    }
    assert.ok(spec.paths['/v1/later']?.get, 'a route registered after the REST API is documented too')
    assert.ok(a.routes.some((r) => r.url === '/' && r.method === 'POST'), 'JSON-RPC is registered')
    assert.equal(spec.paths['/'], undefined, 'but not documented as a REST operation')
    assert.ok(!Object.keys(spec.paths).some((p) => p.startsWith('/docs')))
    assert.equal(spec.openapi, '3.0.3')
    assert.ok(spec.components.securitySchemes.bearerAuth)
    assert.deepEqual(spec.paths['/v1/admin/shutdown'].post.security, [{ bearerAuth: [] }, { apiKey: [] }])
  })

  test('every GET route answers with what its response schema says', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true })
    let checked = 0
    for (const [path, ops] of Object.entries<any>(spec.paths)) {
      if (!path.startsWith('/v1/') || !ops.get) continue
      if (ops.get.tags?.includes('poh')) {
        const url = path.replace(/\{[^}]+\}/g, '1')
        const res = await a.get(url)
        assert.equal(res.statusCode, 404, `${url} on a dev chain: ${res.body}`)
        const validate = ajv.compile(ops.get.responses['4XX'].content['application/json'].schema)
        assert.ok(validate(res.json()), `${url}: ${ajv.errorsText(validate.errors)}`)
        continue
      }
      const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)
      const urls = params.length === 0 ? [path] : (values[params[0]!] ?? []).map((v) => path.replace(`{${params[0]}}`, v))
      assert.ok(urls.length > 0, `no sample values for ${path}`)
      for (const url of urls) {
        const res = await a.get(url)
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`)
        const schema = ops.get.responses['200']?.content?.['application/json']?.schema
        assert.ok(schema, `${path} documents its 200 response`)
        const validate = ajv.compile(schema)
        assert.ok(validate(res.json()), `${url}: ${ajv.errorsText(validate.errors)}\n${res.body.slice(0, 500)}`)
        checked++
      }
    }
    assert.ok(checked >= 18, `checked ${checked} responses`)
  })

  test('error responses match the documented error schema', async () => {
    const ajv = new Ajv({ strict: false })
    const errorSchema = spec.paths['/v1/blocks/{id}'].get.responses['4XX'].content['application/json'].schema
    const validate = ajv.compile(errorSchema)
    for (const url of ['/v1/blocks/999', '/v1/blocks/x', '/v1/txs?cursor=bad', '/v1/nothing-here']) {
      const res = await a.get(url)
      assert.ok(res.statusCode === 400 || res.statusCode === 404)
      assert.ok(validate(res.json()), `${url}: ${ajv.errorsText(validate.errors)}`)
    }
  })
})
