/**
 * Serves the block explorer (built by Vite from explorer/ into artifacts/explorer/) on the
 * node's RPC port: browsers asking for GET / get the explorer's index.html, everyone else keeps
 * the JSON answer; the hashed assets are under /assets/. The explorer routes with the URL hash,
 * so no other path is taken: /v1, /metrics, /health, /docs and /openapi.json stay as they are.
 *
 * Without a build, GET / in a browser says how to make one instead of failing.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { RpcServer } from './rpc/server.ts'

/** artifacts/explorer at the repository root (the same from src/api and dist/api). */
export const DEFAULT_EXPLORER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../artifacts/explorer')

/** URL prefix of the built assets (Vite's assetsDir, see explorer/vite.config.ts). */
export const EXPLORER_ASSETS_PREFIX = '/assets/'

export const EXPLORER_BUILD_COMMAND = 'npm run build:explorer'

export interface ExplorerOptions {
  /** Directory with the build (index.html and assets/); default artifacts/explorer. */
  dir?: string
  /** Where to say that the explorer is not built (default: the server's logger). */
  logger?: Logger
}

/** What JSON clients get for GET / (as before the explorer existed, plus where the UI is). */
const JSON_ROOT = {
  name: 'catena',
  service: 'json-rpc',
  message: "This is Catena's JSON-RPC 2.0 endpoint: POST JSON-RPC requests to this URL, or open a WebSocket here (eth_subscribe).",
  explorer: 'Open this URL in a web browser for the block explorer; the REST API is under /v1.',
}

// The page talks only to its own origin: the REST API, JSON-RPC over fetch, and the WebSocket.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * Registers the explorer on the RPC server. Call before `rpc.listen()`. Assets are served from
 * disk as requested, so a rebuild shows up on reload; a build made after the node started
 * needs a restart (the asset route is only added when the build exists at start).
 */
export function registerExplorer(rpc: RpcServer, opts: ExplorerOptions = {}): void {
  const dir = resolve(opts.dir ?? DEFAULT_EXPLORER_DIR)
  const indexFile = join(dir, 'index.html')
  const assetsDir = join(dir, 'assets')
  const log = opts.logger ?? rpc.app.log
  const builtAtStart = existsSync(indexFile) && existsSync(assetsDir)

  if (builtAtStart) {
    rpc.app.register(async (scope) => {
      await scope.register(fastifyStatic, {
        root: assetsDir,
        prefix: EXPLORER_ASSETS_PREFIX,
        // Own scope and no reply.sendFile decorator: other surfaces (Swagger UI) may register
        // @fastify/static too.
        decorateReply: false,
        index: false,
        // File names carry a content hash, so they never change.
        immutable: true,
        maxAge: '365d',
      })
    })
  } else {
    log.info({ dir }, `block explorer not built: GET / shows how to build it (${EXPLORER_BUILD_COMMAND})`)
  }

  rpc.setRootGetHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    if (!wantsHtml(request)) return JSON_ROOT
    const notBuilt = () => reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(notBuiltPage(dir, builtAtStart))
    if (!builtAtStart) return notBuilt()
    let html: string
    try {
      html = await readFile(indexFile, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return notBuilt()
      throw err
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(html)
  })
}

/** Browsers put text/html in Accept; curl (*\/*), JSON-RPC clients and fetch() do not. */
export function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept
  if (typeof accept !== 'string') return false
  return accept.split(',').some((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(';')
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    return type === 'text/html' && (q === undefined || Number(q.slice(2)) > 0)
  })
}

function notBuiltPage(dir: string, builtAtStart: boolean): string {
  const why = builtAtStart
    ? `The build in <code>${escapeHtml(dir)}</code> has gone missing.`
    : `There was no build in <code>${escapeHtml(dir)}</code> when this node started.`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Catena explorer not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>The block explorer is not built</h1>
<p>${why} Build it from the Catena checkout, then restart the node:</p>
<pre style="background:#f3f4f6;padding:.75rem;border-radius:6px">${EXPLORER_BUILD_COMMAND}</pre>
<p>(<code>npm run build</code>, <code>npm start</code> and <code>npm test</code> build it too.)
The node works without it: JSON-RPC is served at this URL (POST, or WebSocket) and the REST API under <a href="/v1/chain">/v1</a>.</p>
</body></html>
`
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
