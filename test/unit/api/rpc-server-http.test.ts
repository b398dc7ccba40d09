import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createRpcServer, executionReverted, invalidParams, parseQuantity, serverError, toQuantity,
  type RpcHandler, type RpcServer,
} from '../../../src/api/rpc/index.ts'
import { captureLogger, raw, rpc } from './rpc-helpers.ts'

class NonceTooLow extends Error {
  readonly code = 'NONCE_TOO_LOW'
}

function makeMethods(state: { notified: number; release?: () => void }): Record<string, RpcHandler> {
  let gateOpen: Promise<void> | undefined
  const gate = () => (gateOpen ??= new Promise<void>((r) => { state.release = r }))
  return {
    eth_chainId: () => '0x539',
    echo: (params) => params,
    add: (params) => toQuantity(parseQuantity(params[0], 'a') + parseQuantity(params[1], 'b')),
    notify: () => { state.notified++ },
    nothing: () => undefined,
    bad_params: () => { throw invalidParams('invalid thing: it is wrong') },
    crash: () => { throw new Error('secret detail at /home/node/catena/src/x.ts') },
    crash_async: async () => { throw new TypeError('async secret') },
    throw_string: () => { throw 'a string' },
    bigint_result: () => 1n,
    reverts: () => { throw executionReverted('0x08c379a0' + '20'.padStart(64, '0') + '04'.padStart(64, '0') + '6e6f706500000000000000000000000000000000000000000000000000000000') },
    domain_error: () => { throw new NonceTooLow('nonce too low: next nonce 5, tx nonce 3') },
    // Resolves only once `open` ran: a batch [wait_gate, open] finishes only if run concurrently.
    wait_gate: async () => { await gate(); return 'passed' },
    open: () => { gate(); state.release!(); return 'opened' },
  }
}

describe('JSON-RPC over HTTP', () => {
  const state = { notified: 0 } as { notified: number; release?: () => void }
  const metrics: [string, boolean][] = []
  const { logger, lines } = captureLogger()
  let server: RpcServer
  let url: string

  before(async () => {
    server = createRpcServer({
      methods: makeMethods(state),
      logger,
      maxBodyBytes: 256 * 1024,
      maxBatch: 10,
      onRequest: (method, ms, ok) => { assert.ok(ms >= 0); metrics.push([method, ok]) },
      mapError: (err) => err instanceof NonceTooLow ? serverError(err.message) : undefined,
    })
    server.app.get('/health/live', async () => ({ ok: true }))
    server.app.post('/v1/echo', async (req) => ({ got: req.body }))
    ;({ url } = await server.listen())
  })
  after(() => server.close())

  async function stillAlive(): Promise<void> {
    assert.deepEqual(await rpc(url, { jsonrpc: '2.0', id: 99, method: 'eth_chainId' }), { jsonrpc: '2.0', id: 99, result: '0x539' })
  }

  test('listens on 127.0.0.1 with a free port', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  })

  test('single request', async () => {
    assert.deepEqual(await rpc(url, { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }), { jsonrpc: '2.0', id: 1, result: '0x539' })
    assert.deepEqual(await rpc(url, { jsonrpc: '2.0', id: 'a', method: 'add', params: ['0x1', '0xff'] }), { jsonrpc: '2.0', id: 'a', result: '0x100' })
  })

  test('ids are echoed: string, number, null; missing params means []', async () => {
    assert.deepEqual(await rpc(url, { jsonrpc: '2.0', id: 'x-1', method: 'echo' }), { jsonrpc: '2.0', id: 'x-1', result: [] })
    assert.deepEqual(await rpc(url, { jsonrpc: '2.0', id: 7.5, method: 'echo', params: [1] }), { jsonrpc: '2.0', id: 7.5, result: [1] })
    assert.deepEqual(await rpc(url, { jsonrpc: '2.0', id: null, method: 'echo', params: null }), { jsonrpc: '2.0', id: null, result: [] })
  })

  test('undefined result is sent as null', async () => {
    assert.deepEqual(await rpc(url, { jsonrpc: '2.0', id: 1, method: 'nothing' }), { jsonrpc: '2.0', id: 1, result: null })
  })

  test('notification: handler runs, HTTP 204 with no body', async () => {
    const before = state.notified
    const res = await raw(url, { body: JSON.stringify({ jsonrpc: '2.0', method: 'notify' }), headers: { 'content-type': 'application/json' } })
    assert.equal(res.status, 204)
    assert.equal(res.text, '')
    assert.equal(state.notified, before + 1)
  })

  test('batch of only notifications: 204, every handler ran', async () => {
    const before = state.notified
    const res = await raw(url, {
      body: JSON.stringify([{ jsonrpc: '2.0', method: 'notify' }, { jsonrpc: '2.0', method: 'notify' }, { jsonrpc: '2.0', method: 'nope' }]),
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 204)
    assert.equal(res.text, '')
    assert.equal(state.notified, before + 2)
  })

  test('mixed batch keeps order, skips notifications, reports invalid entries', async () => {
    const out = await rpc(url, [
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
      { jsonrpc: '1.0', id: 2, method: 'eth_chainId' },
      1,
      { jsonrpc: '2.0', method: 'notify' },
      { jsonrpc: '2.0', id: 3, method: 'missing_method' },
      { jsonrpc: '2.0', id: { a: 1 }, method: 'eth_chainId' },
    ])
    assert.equal(out.length, 5)
    assert.deepEqual(out[0], { jsonrpc: '2.0', id: 1, result: '0x539' })
    assert.equal(out[1].id, 2)
    assert.equal(out[1].error.code, -32600)
    assert.deepEqual(out[2], { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request: expected a JSON object' } })
    assert.deepEqual(out[3], { jsonrpc: '2.0', id: 3, error: { code: -32601, message: 'the method missing_method does not exist/is not available' } })
    assert.equal(out[4].id, null)
    assert.equal(out[4].error.code, -32600)
  })

  test('batch entries run concurrently and answer in order', async () => {
    const out = await rpc(url, [
      { jsonrpc: '2.0', id: 1, method: 'wait_gate' },
      { jsonrpc: '2.0', id: 2, method: 'open' },
    ])
    assert.deepEqual(out, [{ jsonrpc: '2.0', id: 1, result: 'passed' }, { jsonrpc: '2.0', id: 2, result: 'opened' }])
  })

  test('empty batch and too-large batch get one error object', async () => {
    assert.deepEqual(await rpc(url, []), { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'empty batch' } })
    const eleven = Array.from({ length: 11 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))
    assert.deepEqual(await rpc(url, eleven), { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'batch too large: 11 requests, limit 10' } })
    const ten = await rpc(url, eleven.slice(1))
    assert.equal(ten.length, 10)
    await stillAlive()
  })

  test('invalid request objects', async () => {
    const cases: [unknown, unknown][] = [
      [{ id: 1, method: 'eth_chainId' }, 1],
      [{ jsonrpc: 2, id: 1, method: 'eth_chainId' }, 1],
      [{ jsonrpc: '2.0', id: 1, method: 5 }, 1],
      [{ jsonrpc: '2.0', id: 1 }, 1],
      [{ jsonrpc: '2.0', id: [1], method: 'eth_chainId' }, null],
      [{ jsonrpc: '2.0', id: true, method: 'eth_chainId' }, null],
      [{ jsonrpc: '2.0', id: 1, method: 'echo', params: 'x' }, 1],
      [{ jsonrpc: '2.0', method: 5 }, null],
      ['just a string', null],
      [null, null],
    ]
    for (const [payload, id] of cases) {
      const res = await rpc(url, payload)
      assert.equal(res.jsonrpc, '2.0')
      assert.equal(res.id, id, JSON.stringify(payload))
      assert.equal(res.error.code, -32600, JSON.stringify(payload))
    }
    const byName = await rpc(url, { jsonrpc: '2.0', id: 4, method: 'echo', params: { a: 1 } })
    assert.equal(byName.error.code, -32602)
    await stillAlive()
  })

  test('malformed JSON: HTTP 200 with -32700 and id null', async () => {
    for (const body of ['{"jsonrpc":', '', 'nul', '{"a":1}}', '\u0000\u0001', "{'single':'quotes'}"]) {
      const res = await raw(url, { body, headers: { 'content-type': 'application/json' } })
      assert.equal(res.status, 200, JSON.stringify(body))
      assert.match(String(res.headers['content-type']), /^application\/json/)
      const out = res.json()
      assert.equal(out.id, null)
      assert.equal(out.error.code, -32700)
    }
    await stillAlive()
  })

  test('content types: charset and missing type work, others get 415', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' })
    const variants: Record<string, string>[] = [{ 'content-type': 'application/json; charset=utf-8' }, { 'content-type': 'Application/JSON' }, {}]
    for (const headers of variants) {
      const res = await raw(url, { body, headers })
      assert.equal(res.status, 200, JSON.stringify(headers))
      assert.equal(res.json().result, '0x539')
    }
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'not a type']) {
      const res = await raw(url, { body, headers: { 'content-type': type } })
      assert.equal(res.status, 415, type)
      assert.equal(res.json().error.code, -32600)
    }
    await stillAlive()
  })

  test('unknown method', async () => {
    const res = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'eth_nonexistent' })
    assert.deepEqual(res.error, { code: -32601, message: 'the method eth_nonexistent does not exist/is not available' })
    for (const method of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const r = await rpc(url, { jsonrpc: '2.0', id: 1, method })
      assert.equal(r.error.code, -32601, method)
    }
  })

  test('handler throwing RpcError sends it; plain Error is -32603 without detail, logged with stack', async () => {
    assert.deepEqual(await rpc(url, { jsonrpc: '2.0', id: 1, method: 'bad_params' }), {
      jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'invalid thing: it is wrong' },
    })
    for (const method of ['crash', 'crash_async', 'throw_string', 'bigint_result']) {
      const res = await rpc(url, { jsonrpc: '2.0', id: 2, method })
      assert.deepEqual(res, { jsonrpc: '2.0', id: 2, error: { code: -32603, message: 'internal error' } }, method)
    }
    const logged = lines.find((l) => l.method === 'crash')
    assert.ok(logged, 'the crash is logged')
    assert.match(String((logged.err as { stack: string }).stack), /secret detail/)
  })

  test('execution reverted carries code 3, reason and data', async () => {
    const res = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'reverts' })
    assert.equal(res.error.code, 3)
    assert.equal(res.error.message, 'execution reverted: nope')
    assert.match(res.error.data, /^0x08c379a0/)
  })

  test('mapError turns typed domain errors into RpcErrors', async () => {
    const res = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'domain_error' })
    assert.deepEqual(res.error, { code: -32000, message: 'nonce too low: next nonce 5, tx nonce 3' })
  })

  test('body over maxBodyBytes: 413 with a JSON-RPC error', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: ['x'.repeat(300 * 1024)] })
    const res = await raw(url, { body: big, headers: { 'content-type': 'application/json' } })
    assert.equal(res.status, 413)
    assert.deepEqual(res.json(), {
      jsonrpc: '2.0', id: null,
      error: { code: -32600, message: `request body too large: ${Buffer.byteLength(big)} bytes, limit ${256 * 1024}` },
    })
    const chunked = await raw(url, { body: big, chunked: true, headers: { 'content-type': 'application/json' } })
    assert.equal(chunked.status, 413)
    assert.equal(chunked.json().error.message, `request body too large: more than ${256 * 1024} bytes, limit ${256 * 1024}`)
    await stillAlive()
  })

  test('unknown routes: 404 JSON', async () => {
    for (const [method, path] of [['GET', '/nope'], ['POST', '/nope'], ['PUT', '/']]) {
      const res = await raw(url, { method, path, body: method === 'GET' ? undefined : '{}', headers: { 'content-type': 'application/json' } })
      assert.equal(res.status, 404, `${method} ${path}`)
      assert.match(String(res.headers['content-type']), /^application\/json/)
      assert.equal(res.json().statusCode, 404)
    }
  })

  test('plain GET / describes the endpoint; other routes share the port with normal JSON parsing', async () => {
    const res = await fetch(url)
    assert.equal(res.status, 200)
    const info = await res.json() as { service: string; message: string }
    assert.equal(info.service, 'json-rpc')
    assert.match(info.message, /JSON-RPC/)
    assert.deepEqual(await (await fetch(`${url}/health/live`)).json(), { ok: true })
    const echoed = await fetch(`${url}/v1/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
    assert.deepEqual(await echoed.json(), { got: { a: 1 } })
  })

  test('setRootGetHandler replaces GET /', async () => {
    server.setRootGetHandler((_req, reply) => reply.type('text/html').send('<h1>explorer</h1>'))
    const res = await fetch(url)
    assert.equal(await res.text(), '<h1>explorer</h1>')
    assert.equal(res.headers.get('access-control-allow-origin'), null)
  })

  test('CORS is off by default: no CORS headers, preflight not answered', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' })
    const res = await raw(url, { body, headers: { 'content-type': 'application/json', origin: 'http://evil.example' } })
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-origin'], undefined)
    const pre = await raw(url, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } })
    assert.notEqual(pre.status, 204)
    assert.equal(pre.headers['access-control-allow-origin'], undefined)
  })

  test('metrics observer sees each executed entry', () => {
    assert.ok(metrics.some(([m, ok]) => m === 'eth_chainId' && ok))
    assert.ok(metrics.some(([m, ok]) => m === 'crash' && !ok))
    assert.ok(metrics.some(([m, ok]) => m === 'unknown_method' && !ok))
    assert.ok(!metrics.some(([m]) => m === 'eth_nonexistent'), 'unknown names do not become metric labels')
  })

  test('in-process handle() runs the same dispatch', async () => {
    assert.equal(await server.handle('{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}'), '{"jsonrpc":"2.0","id":1,"result":"0x539"}')
    assert.equal(await server.handle('{"jsonrpc":"2.0","method":"notify"}'), null)
  })

  test('never crashes on hostile input', async () => {
    const bodies: (string | Buffer)[] = [
      '[' .repeat(400) + ']'.repeat(400),
      '['.repeat(100_000),
      '{"jsonrpc":"2.0","id":1,"method":"echo","params":' + '['.repeat(200) + ']'.repeat(200) + '}',
      '{"__proto__":{"polluted":true},"jsonrpc":"2.0","id":1,"method":"eth_chainId"}',
      '{"jsonrpc":"2.0","id":1,"method":"add","params":[{"toString":1},[]]}',
      '{"jsonrpc":"2.0","id":1,"method":"add","params":["0x' + 'f'.repeat(300) + '","0x1"]}',
      Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x80]),
      '[1,"a",null,true,{},[]]',
      '{"jsonrpc":"2.0","id":1e400,"method":"eth_chainId"}',
      '"\\ud800"',
      '{"jsonrpc":"2.0","id":"' + 'i'.repeat(900) + '","method":"' + 'm'.repeat(50) + '"}',
    ]
    for (const body of bodies) {
      const res = await raw(url, { body, headers: { 'content-type': 'application/json' } })
      assert.ok([200, 204].includes(res.status), `status ${res.status}`)
      if (res.text) JSON.parse(res.text)
      await stillAlive()
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
})

describe('JSON-RPC over HTTP with CORS origins', () => {
  let server: RpcServer
  let url: string
  before(async () => {
    server = createRpcServer({ methods: { eth_chainId: () => '0x1' }, logger: captureLogger().logger, cors: ['http://wallet.example'] })
    ;({ url } = await server.listen())
  })
  after(() => server.close())
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' })

  test('allowed origin gets Access-Control-Allow-Origin', async () => {
    const res = await raw(url, { body, headers: { 'content-type': 'application/json', origin: 'http://wallet.example' } })
    assert.equal(res.headers['access-control-allow-origin'], 'http://wallet.example')
    assert.equal(res.headers.vary, 'Origin')
    assert.equal(res.json().result, '0x1')
  })

  test('other origins get no CORS headers', async () => {
    const res = await raw(url, { body, headers: { 'content-type': 'application/json', origin: 'http://other.example' } })
    assert.equal(res.headers['access-control-allow-origin'], undefined)
  })

  test('preflight from an allowed origin is answered 204', async () => {
    const res = await raw(url, {
      method: 'OPTIONS',
      headers: { origin: 'http://wallet.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    assert.equal(res.status, 204)
    assert.equal(res.headers['access-control-allow-origin'], 'http://wallet.example')
    assert.match(String(res.headers['access-control-allow-methods']), /POST/)
    assert.equal(res.headers['access-control-allow-headers'], 'content-type')
    const denied = await raw(url, { method: 'OPTIONS', headers: { origin: 'http://other.example', 'access-control-request-method': 'POST' } })
    assert.notEqual(denied.status, 204)
    assert.equal(denied.headers['access-control-allow-origin'], undefined)
  })
})
