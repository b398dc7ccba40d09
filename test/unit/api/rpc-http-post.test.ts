import { after, before, describe, mock, test } from 'node:test'
import assert from 'node:assert/strict'
import dns from 'node:dns'
import net from 'node:net'
import { createRequire } from 'node:module'
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import Fastify from 'fastify'
import { createRpcServer, type RpcServer } from '../../../src/api/rpc/index.ts'
import {
  corsCheck, isWellFormedContentType, rpcServerFactory, unsupportedContentType,
} from '../../../src/api/rpc/http-post.ts'
import { captureLogger, raw, rpc, waitFor, WsClient } from './rpc-helpers.ts'
import { ConnectionLimiter, DEFAULT_VHOSTS, hostCheck } from '../../../src/api/rpc/http-guard.ts'

const LIMIT = 1024
const CALL = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}'
const JSON_CT = { 'content-type': 'application/json' }

interface Exchange {
  status: number
  headers: IncomingHttpHeaders
  text: string
  socketClosed: Promise<void>
  /** Drops the connection (so a failed test does not leave it open). */
  drop: () => void
}

/**
 * One request whose body goes out in `parts`, each written after the previous one was flushed
 * and a short pause, so the server reads them as separate chunks. Sent with keep-alive (so a
 * `connection: close` answer comes from the server) on a connection of its own.
 */
function sendInParts(url: string, parts: (string | Buffer)[], headers: Record<string, string | number>): Promise<Exchange> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method: 'POST', path: '/', headers, agent: new Agent({ keepAlive: true }) }, (res) => {
      const chunks: Buffer[] = []
      const socket = res.socket
      const socketClosed = new Promise<void>((r) => socket.once('close', () => r()))
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), socketClosed, drop: () => socket.destroy(),
      }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err)
    })
    req.flushHeaders()
    void (async () => {
      for (const part of parts) {
        if (req.destroyed) return
        await new Promise<void>((r) => req.write(part, () => r()))
        await new Promise((r) => setTimeout(r, 15))
      }
      req.end()
    })()
  })
}

describe('JSON-RPC POST / fast path', () => {
  const { logger, lines } = captureLogger()
  let calls = 0
  let entered: (() => void) | undefined
  let release: (() => void) | undefined
  const fastifySaw: string[] = []
  let server: RpcServer
  let url: string

  before(async () => {
    server = createRpcServer({
      methods: {
        eth_chainId: () => { calls++; return '0x539' },
        echo: (params) => params,
        notify: () => undefined,
        // Answers only after the test calls release(); tells the test it has started.
        slow: async () => {
          await new Promise<void>((r) => { release = r; entered?.() })
          return 'late'
        },
      },
      logger,
      maxBodyBytes: LIMIT,
      cors: ['http://wallet.example'],
    })
    // Records what reaches Fastify; the fast path should leave POST / out of it.
    server.app.addHook('onRequest', async (request) => { fastifySaw.push(`${request.method} ${request.url}`) })
    server.app.post('/v1/echo', async (req) => ({ got: req.body }))
    ;({ url } = await server.listen())
  })
  after(() => server.close())

  test('POST / and POST /?query are answered without Fastify; other requests reach Fastify', async () => {
    fastifySaw.length = 0
    assert.deepEqual(await rpc(url, JSON.parse(CALL)), { jsonrpc: '2.0', id: 1, result: '0x539' })
    assert.deepEqual(await rpc(`${url}/?x=1`, JSON.parse(CALL)), { jsonrpc: '2.0', id: 1, result: '0x539' })
    assert.deepEqual(fastifySaw, [])

    const echoed = await fetch(`${url}/v1/echo`, { method: 'POST', headers: JSON_CT, body: '{"a":1}' })
    assert.deepEqual(await echoed.json(), { got: { a: 1 } })
    const notFound = await raw(url, { path: '/nope', body: CALL, headers: JSON_CT })
    assert.equal(notFound.status, 404)
    assert.equal(notFound.json().statusCode, 404)
    const root = await fetch(url)
    assert.equal(((await root.json()) as { service: string }).service, 'json-rpc')
    assert.deepEqual(fastifySaw, ['POST /v1/echo', 'POST /nope', 'GET /'])
  })

  test('a notification gets 204 with no body and no content headers', async () => {
    const res = await raw(url, { body: '{"jsonrpc":"2.0","method":"notify"}', headers: JSON_CT })
    assert.equal(res.status, 204)
    assert.equal(res.text, '')
    assert.equal(res.headers['content-type'], undefined)
    assert.equal(res.headers['content-length'], undefined)
  })

  test('200 answers carry the JSON type and the exact byte length', async () => {
    const res = await raw(url, { body: '{"jsonrpc":"2.0","id":"é€","method":"echo","params":["😀"]}', headers: JSON_CT })
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.text))
    assert.deepEqual(res.json(), { jsonrpc: '2.0', id: 'é€', result: ['😀'] })
  })

  test('invalid JSON is HTTP 200 with -32700', async () => {
    const res = await raw(url, { body: '{"jsonrpc":', headers: JSON_CT })
    assert.equal(res.status, 200)
    assert.equal(res.json().id, null)
    assert.equal(res.json().error.code, -32700)
  })

  test('a batch answers in order', async () => {
    const out = await rpc(url, [JSON.parse(CALL), { jsonrpc: '2.0', id: 2, method: 'echo', params: [7] }, { jsonrpc: '2.0', method: 'notify' }])
    assert.deepEqual(out, [{ jsonrpc: '2.0', id: 1, result: '0x539' }, { jsonrpc: '2.0', id: 2, result: [7] }])
  })

  test('a body arriving in several chunks, with a character split between them, is read whole', async () => {
    const body = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"echo","params":["€uro"]}')
    const cut = body.indexOf(Buffer.from('€')) + 1 // inside the 3-byte character
    const res = await sendInParts(url, [body.subarray(0, 10), body.subarray(10, cut), body.subarray(cut)], { ...JSON_CT, 'content-length': body.length })
    assert.equal(res.status, 200)
    assert.deepEqual(JSON.parse(res.text), { jsonrpc: '2.0', id: 1, result: ['€uro'] })
    const chunked = await sendInParts(url, [CALL.slice(0, 20), CALL.slice(20)], JSON_CT)
    assert.deepEqual(JSON.parse(chunked.text), { jsonrpc: '2.0', id: 1, result: '0x539' })
    assert.equal(chunked.headers.connection, 'keep-alive')
  })

  test('declared content-length over the limit: 413 before reading, then the connection closes', async () => {
    const before = calls
    const res = await sendInParts(url, [], { ...JSON_CT, 'content-length': 5000 })
    try {
      assert.equal(res.status, 413)
      assert.equal(res.headers.connection, 'close')
      assert.deepEqual(JSON.parse(res.text), {
        jsonrpc: '2.0', id: null, error: { code: -32600, message: `request body too large: 5000 bytes, limit ${LIMIT}` },
      })
      await res.socketClosed
      assert.equal(calls, before)
    } finally {
      res.drop()
    }
  })

  test('a body growing past the limit: 413 "more than", then the connection closes', async () => {
    const part = 'x'.repeat(600)
    const res = await sendInParts(url, [part, part, part, part], { ...JSON_CT, 'transfer-encoding': 'chunked' })
    try {
      assert.equal(res.status, 413)
      assert.equal(res.headers.connection, 'close')
      assert.equal(JSON.parse(res.text).error.message, `request body too large: more than ${LIMIT} bytes, limit ${LIMIT}`)
      await res.socketClosed
    } finally {
      res.drop()
    }
  })

  test('415: a well-formed non-JSON type is named, a malformed one is not', async () => {
    const plain = await raw(url, { body: CALL, headers: { 'content-type': 'text/plain' } })
    assert.equal(plain.status, 415)
    assert.deepEqual(plain.json().error, { code: -32600, message: 'invalid content type "text/plain", only application/json is supported' })
    for (const type of ['application/json/x', 'nope', '']) {
      const res = await raw(url, { body: CALL, headers: { 'content-type': type } })
      assert.equal(res.status, 415, type)
      assert.deepEqual(res.json().error, { code: -32600, message: 'invalid content type, only application/json is supported' }, type)
    }
    const ok = await raw(url, { body: CALL, headers: { 'content-type': 'Application/JSON-RPC; charset=utf-8' } })
    assert.equal(ok.json().result, '0x539')
    const untyped = await raw(url, { body: CALL })
    assert.equal(untyped.json().result, '0x539')
  })

  test('CORS headers on POST answers for allowed origins only (200, 204, 413); preflight still answered', async () => {
    const origin = { origin: 'http://wallet.example' }
    for (const [body, status] of [[CALL, 200], ['{"jsonrpc":"2.0","method":"notify"}', 204], ['x'.repeat(LIMIT + 1), 413]] as const) {
      const res = await raw(url, { body, headers: { ...JSON_CT, ...origin } })
      assert.equal(res.status, status)
      assert.equal(res.headers['access-control-allow-origin'], 'http://wallet.example')
      assert.equal(res.headers.vary, 'Origin')
    }
    const other = await raw(url, { body: CALL, headers: { ...JSON_CT, origin: 'http://other.example' } })
    assert.equal(other.headers['access-control-allow-origin'], undefined)
    assert.equal(other.headers.vary, undefined)
    const pre = await raw(url, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST' } })
    assert.equal(pre.status, 204)
    assert.match(String(pre.headers['access-control-allow-methods']), /POST/)
  })

  test('aborted requests (mid-body, or while the handler runs) do not crash the server', async () => {
    const before = calls
    const u = new URL(url)
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: u.hostname, port: u.port, method: 'POST', path: '/', headers: { ...JSON_CT, 'content-length': 100 }, agent: false })
      req.on('error', () => resolve())
      req.write(CALL.slice(0, 10), () => req.destroy())
    })

    const started = new Promise<void>((r) => { entered = r })
    const aborted = new Promise<void>((resolve) => {
      const req = httpRequest({ host: u.hostname, port: u.port, method: 'POST', path: '/', headers: JSON_CT, agent: false })
      req.on('error', () => resolve())
      req.end('{"jsonrpc":"2.0","id":1,"method":"slow"}')
      void started.then(() => req.destroy())
    })
    await aborted
    release!() // the handler finishes after its client is gone
    assert.deepEqual(await rpc(url, JSON.parse(CALL)), { jsonrpc: '2.0', id: 1, result: '0x539' })
    assert.equal(calls, before + 1, 'the body cut short was never dispatched')
    assert.ok(!lines.some((l) => l.level === 50), 'nothing was logged as an error')
  })
})

describe('JSON-RPC POST / while closing', () => {
  test('requests arriving during close() get Fastify\'s 503, in-flight ones still finish', async () => {
    let release: (() => void) | undefined
    let entered!: () => void
    const inHandler = new Promise<void>((r) => { entered = r })
    const server = createRpcServer({
      methods: { slow: () => new Promise((r) => { release = () => r('done'); entered() }) },
      logger: captureLogger().logger,
    })
    const { url } = await server.listen()
    const u = new URL(url)
    const body = (id: number, method: string) => JSON.stringify({ jsonrpc: '2.0', id, method })
    const request = (payload: string) => `POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${payload.length}\r\n\r\n${payload}`

    const socket = net.connect(Number(u.port), u.hostname)
    let received = ''
    socket.on('data', (d) => { received += d.toString('utf8') })
    const ended = new Promise<void>((r) => socket.on('close', () => r()))
    socket.write(request(body(1, 'slow')))
    await inHandler
    const closed = server.close()
    await waitFor(() => !server.app.server.listening)
    socket.write(request(body(2, 'eth_chainId')))
    await new Promise((r) => setTimeout(r, 20))
    release!()
    await ended
    await closed
    const answers = received.split(/HTTP\/1\.1 /).filter(Boolean)
    assert.equal(answers.length, 2)
    assert.match(answers[0]!, /^200 /)
    assert.match(answers[0]!, /"result":"done"/)
    assert.match(answers[1]!, /^503 /)
    assert.match(answers[1]!, /Service Unavailable/)
  })
})

/** The port guards with the node's defaults (every Host an IP literal or localhost, no connection limit). */
function guard() {
  return { hostAllowed: hostCheck(DEFAULT_VHOSTS), limiter: new ConnectionLimiter(0), headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 }
}

describe('rpcServerFactory', () => {
  test('a dispatcher that rejects gives 500 with internal error, logged', async () => {
    const { logger, lines } = captureLogger()
    const app = Fastify({
      serverFactory: rpcServerFactory({
        maxBodyBytes: LIMIT,
        dispatch: () => Promise.reject(new Error('dispatcher bug')),
        errorBody: (err) => JSON.stringify({ jsonrpc: '2.0', id: null, error: err.toJSON() }),
        cors: undefined,
        logger,
        isClosing: () => false,
        ...guard(),
      }),
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    try {
      const { port } = app.server.address() as net.AddressInfo
      const res = await raw(`http://127.0.0.1:${port}`, { body: CALL, headers: JSON_CT })
      assert.equal(res.status, 500)
      assert.deepEqual(res.json(), { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'internal error' } })
      const logged = lines.find((l) => l.msg === 'JSON-RPC HTTP request failed')
      assert.match(String((logged?.err as { message?: string } | undefined)?.message), /dispatcher bug/)
    } finally {
      await app.close()
    }
  })

  test('uses Fastify\'s keep-alive and idle timeouts, and the guard\'s header and request timeouts', async () => {
    const app = Fastify({
      keepAliveTimeout: 5000,
      serverFactory: rpcServerFactory({
        maxBodyBytes: LIMIT, dispatch: async () => null, errorBody: () => '', cors: undefined, logger: captureLogger().logger, isClosing: () => false,
        ...guard(),
      }),
    })
    await app.ready()
    assert.equal(app.server.keepAliveTimeout, 5000)
    assert.equal(app.server.headersTimeout, 10_000)
    assert.equal(app.server.requestTimeout, 30_000)
    assert.equal(app.server.timeout, 0)
    await app.close()
  })
})

describe('http-post helpers', () => {
  test('isWellFormedContentType agrees with Fastify\'s own parser', () => {
    // Fastify's internal class, the reference this check copies; if it moves, re-check the copy.
    const { from } = createRequire(import.meta.url)('fastify/lib/content-type.js') as { from(h: string): { isValid: boolean } }
    const good = ['application/json', 'text/plain; charset=utf-8', 'a/b;;', 'APPLICATION/JSON ', 'x/y; q="a;b"', ' a/b', 'a/b\u00a0']
    const bad = ['', 'undefined', 'json', 'application/json/x', 'a b/c', 'a/b c', '/json', 'application/; x=1', 'a/b\u00e9', 'a\u00a0/b;x']
    for (const type of good) assert.ok(isWellFormedContentType(type), type)
    for (const type of bad) assert.ok(!isWellFormedContentType(type), type)
    for (const type of [...good, ...bad]) assert.equal(isWellFormedContentType(type), from(type).isValid, JSON.stringify(type))
  })

  test('corsCheck', () => {
    assert.equal(corsCheck(undefined), undefined)
    assert.equal(corsCheck([]), undefined)
    const some = corsCheck(['http://a.example'])!
    assert.equal(some('http://a.example'), 'http://a.example')
    assert.equal(some('http://b.example'), undefined)
    assert.equal(some(undefined), undefined)
    assert.equal(corsCheck(['*'])!('http://b.example'), '*')
  })

  test('unsupportedContentType truncates what it echoes', () => {
    assert.equal(unsupportedContentType('x/' + 'y'.repeat(200)).message, `invalid content type "x/${'y'.repeat(98)}", only application/json is supported`)
  })
})

describe("host 'localhost'", () => {
  test('listens on every address localhost resolves to, as Fastify does without a serverFactory', async (t) => {
    const v6 = await new Promise<boolean>((resolve) => {
      const probe = net.createServer().once('error', () => resolve(false)).listen(0, '::1', () => probe.close(() => resolve(true)))
    })
    if (!v6) return t.skip('no IPv6 loopback here')
    // This host may map localhost to 127.0.0.1 only; pretend it also maps to ::1.
    const lookup = mock.method(dns.promises, 'lookup', async () => [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }])
    const server = createRpcServer({ host: 'localhost', methods: { eth_chainId: () => '0x539' }, logger: captureLogger().logger })
    try {
      const { url } = await server.listen()
      const port = new URL(url).port
      for (const host of ['127.0.0.1', '[::1]']) {
        assert.deepEqual(await rpc(`http://${host}:${port}`, JSON.parse(CALL)), { jsonrpc: '2.0', id: 1, result: '0x539' }, host)
        assert.equal((await fetch(`http://${host}:${port}/`)).status, 200, host)
      }
      const ws = await WsClient.open(`ws://[::1]:${port}`)
      assert.equal((await ws.call('eth_chainId')).result, '0x539')
      await ws.close()
    } finally {
      lookup.mock.restore()
      await server.close()
    }
  })
})

describe('JSON-RPC POST / gzip', () => {
  test('large answers go gzipped to clients that accept it; small ones and other clients get plain JSON', async () => {
    const big = 'ab'.repeat(20_000)
    const server = createRpcServer({ port: 0, methods: { big: () => big, small: () => 'x' }, logger: captureLogger().logger })
    const { url } = await server.listen()
    try {
      const ask = (method: string, encoding?: string) => sendInParts(url, [JSON.stringify({ jsonrpc: '2.0', id: 1, method })], { ...JSON_CT, ...(encoding ? { 'accept-encoding': encoding } : {}) })
      const zipped = await ask('big', 'gzip, deflate')
      assert.equal(zipped.headers['content-encoding'], 'gzip')
      assert.ok(Number(zipped.headers['content-length']) < big.length / 10, 'a repetitive answer shrinks')
      const plain = await ask('big')
      assert.equal(plain.headers['content-encoding'], undefined)
      assert.equal(JSON.parse(plain.text).result, big)
      assert.equal((await ask('small', 'gzip')).headers['content-encoding'], undefined, 'too small to be worth it')
      assert.equal((await ask('big', 'gzip;q=0, identity')).headers['content-encoding'], undefined, 'gzip refused by quality 0')
      // fetch (undici) asks for gzip and undoes it: what the light client and viem see.
      const res = await fetch(url, { method: 'POST', headers: JSON_CT, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'big' }) })
      assert.equal(res.headers.get('content-encoding'), 'gzip')
      assert.equal(((await res.json()) as { result: string }).result, big)
    } finally {
      await server.close()
    }
  })
})
