/**
 * The RPC port against clients that are not who they claim or never finish: half-sent
 * requests are cut off by the header and body timeouts, one address cannot hold more than its
 * share of connections, a DNS-rebinding Host gets 403, and a web page from a foreign origin
 * cannot open a WebSocket (and so cannot call dev methods like hardhat_mine). Each attack goes
 * through a real listening server with raw sockets or a real WebSocket client.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import WebSocket from 'ws'
import { createRpcServer, type RpcServer, type RpcServerOptions } from '../../../src/api/rpc/index.ts'
import { hostCheck, originCheck } from '../../../src/api/rpc/http-guard.ts'
import { captureLogger, raw, rpc } from './rpc-helpers.ts'

const CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' })
const JSON_CT = { 'content-type': 'application/json' }

async function serve(opts: Partial<RpcServerOptions> = {}): Promise<{ server: RpcServer; url: string; wsUrl: string; port: number; mined: () => number }> {
  let mined = 0
  const server = createRpcServer({
    methods: { eth_chainId: () => '0x539', hardhat_mine: () => { mined++; return true } },
    logger: captureLogger().logger,
    ...opts,
  })
  server.app.get('/v1/chain', async () => ({ ok: true }))
  const { url, wsUrl } = await server.listen()
  return { server, url, wsUrl, port: Number(new URL(url).port), mined: () => mined }
}

/** A raw TCP client: what it received, and a promise for the server closing the connection. */
function rawSocket(port: number): { socket: net.Socket; received: () => string; closed: Promise<void> } {
  const socket = net.connect(port, '127.0.0.1')
  let text = ''
  socket.on('data', (d) => { text += d.toString('utf8') })
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  return { socket, received: () => text, closed }
}

function connected(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
}

/** Opens a WebSocket with the given headers: 'open' or the HTTP status it was refused with. */
function wsHandshake(url: string, headers: Record<string, string>): Promise<{ opened: true; socket: WebSocket } | { opened: false; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers })
    socket.once('open', () => resolve({ opened: true, socket }))
    socket.once('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode ?? 0 })
      res.resume()
      socket.terminate()
    })
    socket.once('error', (err) => reject(err))
  })
}

describe('slow and greedy clients', () => {
  test('a request whose headers never finish is answered 408 and closed; others are served meanwhile', async () => {
    const { server, url, port } = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 600 })
    try {
      const slow = rawSocket(port)
      await connected(slow.socket)
      slow.socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n')
      assert.deepEqual(await rpc(url, JSON.parse(CALL)), { jsonrpc: '2.0', id: 1, result: '0x539' })
      await slow.closed
      assert.match(slow.received(), /^HTTP\/1\.1 408 /)
    } finally {
      await server.close()
    }
  })

  test('a request whose body never finishes is answered 408 and closed', async () => {
    const { server, port } = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 600 })
    try {
      const half = rawSocket(port)
      await connected(half.socket)
      half.socket.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${CALL.length}\r\n\r\n${CALL.slice(0, 10)}`)
      await half.closed
      assert.match(half.received(), /^HTTP\/1\.1 408 /)
      assert.doesNotMatch(half.received(), /0x539/)
    } finally {
      await server.close()
    }
  })

  test('one address holds at most maxConnectionsPerIp connections; a closed one frees its place', async () => {
    const { server, url, port } = await serve({ maxConnectionsPerIp: 3 })
    const held: ReturnType<typeof rawSocket>[] = []
    try {
      for (let i = 0; i < 3; i++) {
        const c = rawSocket(port)
        await connected(c.socket)
        held.push(c)
      }
      // The server may accept the TCP handshake, but closes the connection before reading it.
      const extra = rawSocket(port)
      extra.socket.on('connect', () => extra.socket.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${CALL.length}\r\n\r\n${CALL}`))
      await extra.closed
      assert.equal(extra.received(), '', 'nothing is answered past the limit')

      held.pop()!.socket.destroy()
      // The server notices the close asynchronously: the next connection gets in once it has.
      let answer: unknown
      for (let attempt = 0; attempt < 200 && answer === undefined; attempt++) {
        answer = await fetch(url, { method: 'POST', headers: JSON_CT, body: CALL }).then((r) => r.json(), () => undefined)
      }
      assert.deepEqual(answer, { jsonrpc: '2.0', id: 1, result: '0x539' })
    } finally {
      for (const c of held) c.socket.destroy()
      await server.close()
    }
  })
})

describe('Host and Origin checks (DNS rebinding, foreign web pages)', () => {
  test('a foreign Host gets 403 on JSON-RPC, REST and GET /; localhost and IP literals are served', async () => {
    const { server, url, port } = await serve()
    try {
      const evil = { ...JSON_CT, host: `evil.example:${port}` }
      const rpcRes = await raw(url, { body: CALL, headers: evil })
      assert.equal(rpcRes.status, 403)
      assert.deepEqual(Object.keys(rpcRes.json()), ['jsonrpc', 'id', 'error'])
      assert.match(rpcRes.json().error.message, /invalid host specified/)
      const restRes = await raw(url, { method: 'GET', path: '/v1/chain', headers: { host: 'evil.example' } })
      assert.equal(restRes.status, 403)
      assert.equal(restRes.json().error.code, 'FORBIDDEN')
      assert.equal((await raw(url, { method: 'GET', path: '/', headers: { host: 'evil.example', accept: 'text/html' } })).status, 403)

      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', '10.1.2.3']) {
        const ok = await raw(url, { body: CALL, headers: { ...JSON_CT, host } })
        assert.equal(ok.status, 200, host)
        assert.equal(ok.json().result, '0x539', host)
      }
      assert.equal((await raw(url, { method: 'GET', path: '/v1/chain', headers: { host: `localhost:${port}` } })).status, 200)
    } finally {
      await server.close()
    }
  })

  test('--rpc-vhosts names more hosts, and * serves any', async () => {
    const named = await serve({ vhosts: ['node.example'] })
    const any = await serve({ vhosts: ['*'] })
    try {
      assert.equal((await raw(named.url, { body: CALL, headers: { ...JSON_CT, host: 'node.example:8545' } })).status, 200)
      assert.equal((await raw(named.url, { body: CALL, headers: { ...JSON_CT, host: 'localhost' } })).status, 403, 'the list replaces the default')
      assert.equal((await raw(any.url, { body: CALL, headers: { ...JSON_CT, host: 'evil.example' } })).status, 200)
    } finally {
      await Promise.all([named.server.close(), any.server.close()])
    }
  })

  test('a WebSocket from a foreign origin is refused (no hardhat_mine); localhost pages and non-browsers get in', async () => {
    const { server, wsUrl, port, mined } = await serve()
    try {
      const refused = await wsHandshake(wsUrl, { origin: 'http://evil.example' })
      assert.deepEqual(refused, { opened: false, status: 403 })
      const rebinding = await wsHandshake(wsUrl, { origin: `http://evil.example:${port}` })
      assert.deepEqual(rebinding, { opened: false, status: 403 })
      assert.equal(mined(), 0)

      const localPages: Array<Record<string, string>> = [{ origin: `http://127.0.0.1:${port}` }, { origin: "http://localhost:3000" }, { origin: `http://[::1]:${port}` }, {}]
      for (const headers of localPages) {
        const ok = await wsHandshake(wsUrl, headers)
        assert.ok(ok.opened, JSON.stringify(headers))
        const socket = (ok as { socket: WebSocket }).socket
        const answer = new Promise<string>((resolve) => socket.once('message', (d) => resolve(String(d))))
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'hardhat_mine', params: [] }))
        assert.deepEqual(JSON.parse(await answer), { jsonrpc: '2.0', id: 7, result: true })
        socket.close()
      }
      assert.equal(mined(), 4)
    } finally {
      await server.close()
    }
  })

  test('--ws-origins adds origins, and * accepts any', async () => {
    const listed = await serve({ wsOrigins: ['https://app.example'] })
    const any = await serve({ wsOrigins: ['*'] })
    try {
      const ok = await wsHandshake(listed.wsUrl, { origin: 'https://app.example' })
      assert.ok(ok.opened)
      if (ok.opened) ok.socket.close()
      assert.deepEqual(await wsHandshake(listed.wsUrl, { origin: 'http://app.example' }), { opened: false, status: 403 }, 'the scheme counts')
      assert.deepEqual(await wsHandshake(listed.wsUrl, { origin: 'https://evil.example' }), { opened: false, status: 403 })
      const anyOk = await wsHandshake(any.wsUrl, { origin: 'https://evil.example' })
      assert.ok(anyOk.opened)
      if (anyOk.opened) anyOk.socket.close()
    } finally {
      await Promise.all([listed.server.close(), any.server.close()])
    }
  })

  test('the rules on their own: host parts, ports, case, malformed values', () => {
    const host = hostCheck(['localhost', 'Node.Example'])
    for (const h of [undefined, '', 'localhost', 'localhost:1', 'node.example:8545', '127.0.0.1:80', '[::1]:8545', '::1', '[fe80::1]']) assert.ok(host(h), String(h))
    for (const h of ['evil.example', 'localhost.evil.example', 'evil.example:localhost', '[evil]:1', 'local host']) assert.ok(!host(h), h)
    const origin = originCheck(['https://app.example', 'http://wallet.example:3000'])
    for (const o of [undefined, 'http://localhost', 'https://127.0.0.1:1', 'http://[::1]:8545', 'https://app.example', 'https://app.example:8443', 'http://wallet.example:3000']) assert.ok(origin(o), String(o))
    for (const o of ['null', 'file://', 'http://wallet.example:3001', 'http://wallet.example', 'chrome-extension://abc', 'not a url', 'http://localhost.evil.example']) assert.ok(!origin(o), o)
  })
})
