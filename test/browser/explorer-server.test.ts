/**
 * registerExplorer on a real JSON-RPC server (in process, no browser): browsers get the
 * explorer at GET /, JSON clients keep the JSON answer, assets are served with long caching,
 * JSON-RPC and other routes are untouched, and a missing build is explained, not a crash.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyRequest } from 'fastify'
import { registerExplorer, wantsHtml } from '../../src/api/explorer.ts'
import { createRpcServer, type RpcServer } from '../../src/api/rpc/server.ts'
import { captureLogger } from '../unit/api/rpc-helpers.ts'

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'
const INDEX = '<!doctype html><html><head><script type="module" src="./assets/app-1234.js"></script></head><body><div id="app"></div></body></html>'

async function serve(dir: string, setup?: (s: RpcServer) => void): Promise<{ server: RpcServer; url: string; logs: Record<string, unknown>[] }> {
  const { logger, lines } = captureLogger()
  const server = createRpcServer({ methods: { eth_chainId: () => '0x539' }, logger })
  setup?.(server)
  registerExplorer(server, { dir, logger })
  const { url } = await server.listen()
  return { server, url, logs: lines }
}

describe('registerExplorer with a build', () => {
  let dir: string
  let server: RpcServer
  let url: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catena-explorer-'))
    await mkdir(join(dir, 'assets'))
    await writeFile(join(dir, 'index.html'), INDEX)
    await writeFile(join(dir, 'assets', 'app-1234.js'), 'console.log("explorer")\n')
    ;({ server, url } = await serve(dir, (s) => {
      s.app.get('/v1/chain', async () => ({ name: 'dev' }))
    }))
  })
  after(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('a browser gets index.html at GET /, with a CSP that allows only its own origin', async () => {
    const res = await fetch(url, { headers: { accept: BROWSER_ACCEPT } })
    assert.equal(res.status, 200)
    assert.match(String(res.headers.get('content-type')), /^text\/html/)
    assert.equal(await res.text(), INDEX)
    assert.match(String(res.headers.get('content-security-policy')), /default-src 'self'/)
    assert.match(String(res.headers.get('content-security-policy')), /connect-src 'self' ws: wss:/)
    assert.equal(res.headers.get('cache-control'), 'no-cache')
  })

  test('JSON clients (no Accept, */*, application/json) keep the JSON description', async () => {
    for (const accept of [undefined, '*/*', 'application/json', 'text/html;q=0, application/json']) {
      const res = await fetch(url, { headers: accept ? { accept } : {} })
      assert.equal(res.status, 200, `accept ${accept}`)
      const body = await res.json() as { service: string; message: string; explorer: string }
      assert.equal(body.service, 'json-rpc')
      assert.match(body.message, /JSON-RPC/)
      assert.match(body.explorer, /browser/)
    }
  })

  test('assets are served under /assets/ with immutable caching; unknown assets are 404', async () => {
    const res = await fetch(`${url}/assets/app-1234.js`)
    assert.equal(res.status, 200)
    assert.match(String(res.headers.get('content-type')), /javascript/)
    assert.match(String(res.headers.get('cache-control')), /immutable/)
    assert.equal(await res.text(), 'console.log("explorer")\n')
    assert.equal((await fetch(`${url}/assets/nope.js`)).status, 404)
    assert.equal((await fetch(`${url}/assets/../index.html`)).status, 404)
  })

  test('JSON-RPC over POST / and other routes are untouched', async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' }) })
    assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: 1, result: '0x539' })
    assert.deepEqual(await (await fetch(`${url}/v1/chain`, { headers: { accept: BROWSER_ACCEPT } })).json(), { name: 'dev' })
    assert.equal((await fetch(`${url}/explorer`, { headers: { accept: BROWSER_ACCEPT } })).status, 404)
  })
})

describe('registerExplorer without a build', () => {
  let dir: string
  let server: RpcServer
  let url: string
  let logs: Record<string, unknown>[]

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catena-explorer-missing-'))
    ;({ server, url, logs } = await serve(join(dir, 'not-there')))
  })
  after(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('a browser is told how to build it; the node keeps serving', async () => {
    const res = await fetch(url, { headers: { accept: BROWSER_ACCEPT } })
    assert.equal(res.status, 503)
    assert.match(String(res.headers.get('content-type')), /^text\/html/)
    const html = await res.text()
    assert.match(html, /npm run build:explorer/)
    assert.match(html, /not built/)
    assert.ok(logs.some((l) => String(l.msg).includes('npm run build:explorer')), 'the node logs that the explorer is not built')
    const rpc = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'eth_chainId' }) })
    assert.equal((await rpc.json() as { result: string }).result, '0x539')
    assert.equal(((await (await fetch(url)).json()) as { service: string }).service, 'json-rpc')
  })
})

test('wantsHtml: text/html with a non-zero quality', () => {
  const req = (accept?: string) => ({ headers: accept === undefined ? {} : { accept } }) as unknown as FastifyRequest
  assert.equal(wantsHtml(req(BROWSER_ACCEPT)), true)
  assert.equal(wantsHtml(req('TEXT/HTML')), true)
  assert.equal(wantsHtml(req('text/html;q=0.5')), true)
  assert.equal(wantsHtml(req('text/html;q=0')), false)
  assert.equal(wantsHtml(req('*/*')), false)
  assert.equal(wantsHtml(req('application/json')), false)
  assert.equal(wantsHtml(req()), false)
})
