/**
 * What the RPC port checks before any request is handled, so that a web page or a slow
 * client cannot use it against the user (geth's --http.vhosts, --ws.origins and HTTP server
 * timeouts):
 *  - Host: an HTTP request is served only when its Host header is an IP literal or a listed
 *    name (default: localhost). A DNS-rebinding page reaches the node under its own name and
 *    gets 403.
 *  - Origin: a WebSocket handshake from a browser page is accepted only from listed origins;
 *    localhost pages (the explorer the node serves, a local dapp) and clients that send no
 *    Origin (non-browsers) are always accepted. '*' accepts every origin.
 *  - Slow clients: a request must deliver its headers and its body within time limits, and one
 *    address may hold only so many connections at once, so half-sent requests cannot pile up
 *    until the process runs out of file descriptors.
 * @module
 */
import { isIP, type Server, type Socket } from 'node:net'

export interface HttpGuardOptions {
  /** Host names accepted in the Host header besides IP literals ('*' = any). */
  vhosts: string[]
  /** Origins accepted for WebSocket handshakes besides localhost pages ('*' = any). */
  wsOrigins: string[]
  /** Open connections one remote address may hold (0 = no limit). */
  maxConnectionsPerIp: number
  /** Time to receive a request's headers, in ms. */
  headersTimeoutMs: number
  /** Time to receive a whole request (headers and body), in ms. */
  requestTimeoutMs: number
}

export const DEFAULT_VHOSTS = ['localhost']
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 128
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/** Splits "name:port", "[v6]:port", "name" or "v6" into the host part. */
function hostPart(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return end < 0 ? h : h.slice(1, end)
  }
  const colon = h.indexOf(':')
  // More than one colon without brackets is a bare IPv6 address.
  return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h
}

export type HostCheck = (hostHeader: string | undefined) => boolean

/** geth's virtual host rule: no Host header or an IP literal passes; otherwise the name must be listed. */
export function hostCheck(vhosts: string[]): HostCheck {
  if (vhosts.includes('*')) return () => true
  const allowed = new Set(vhosts.map((v) => v.trim().toLowerCase()).filter(Boolean))
  return (hostHeader) => {
    if (hostHeader === undefined || hostHeader === '') return true
    const host = hostPart(hostHeader)
    return isIP(host) !== 0 || allowed.has(host)
  }
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1'])

export type OriginCheck = (origin: string | undefined) => boolean

/**
 * Which WebSocket handshakes to accept by their Origin header. A listed origin without a port
 * accepts any port (as geth's); scheme and host must match.
 */
export function originCheck(origins: string[]): OriginCheck {
  if (origins.includes('*')) return () => true
  const rules = origins.map(parseOrigin).filter((r): r is ParsedOrigin => r !== undefined)
  return (origin) => {
    if (origin === undefined) return true // not a browser: browsers always send Origin on WebSocket handshakes
    const o = parseOrigin(origin)
    if (!o) return false
    if (LOCAL_HOSTS.has(o.host) && (o.scheme === 'http' || o.scheme === 'https')) return true
    return rules.some((r) => r.scheme === o.scheme && r.host === o.host && (r.port === '' || r.port === o.port))
  }
}

interface ParsedOrigin {
  scheme: string
  host: string
  port: string
}

function parseOrigin(text: string): ParsedOrigin | undefined {
  let url: URL
  try {
    url = new URL(text.trim().toLowerCase())
  } catch {
    return undefined
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  // An explicit port equal to the scheme's default is dropped by URL; so is it in the Origin header.
  return { scheme: url.protocol.slice(0, -1), host, port: url.port }
}

/**
 * Open connections per remote address, over every server of the RPC port (127.0.0.1 and ::1
 * for 'localhost'). A connection past the limit is closed at once, before it is read.
 */
export class ConnectionLimiter {
  private readonly open = new Map<string, number>()

  constructor(private readonly max: number) {}

  attach(server: Server): void {
    if (this.max <= 0) return
    // Runs after node:http's own connection listener: destroying the socket there is clean.
    server.on('connection', (socket: Socket) => this.admit(socket))
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown'
    const count = this.open.get(address) ?? 0
    if (count >= this.max) {
      socket.destroy()
      return
    }
    this.open.set(address, count + 1)
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1
      if (left <= 0) this.open.delete(address)
      else this.open.set(address, left)
    })
  }

  /** Open connections of `address` (for tests and metrics). */
  count(address: string): number {
    return this.open.get(address) ?? 0
  }
}

/** node:http server options for the request timeouts (checked often enough to matter). */
export function timeoutOptions(o: Pick<HttpGuardOptions, 'headersTimeoutMs' | 'requestTimeoutMs'>): {
  headersTimeout: number
  requestTimeout: number
  connectionsCheckingInterval: number
} {
  // Node requires headersTimeout <= requestTimeout; both are checked every interval.
  const requestTimeout = Math.max(o.requestTimeoutMs, o.headersTimeoutMs)
  const interval = Math.min(1000, Math.max(50, Math.floor(o.headersTimeoutMs / 4)))
  return { headersTimeout: o.headersTimeoutMs, requestTimeout, connectionsCheckingInterval: interval }
}
