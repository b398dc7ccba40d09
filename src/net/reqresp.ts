/**
 * Request/response over libp2p streams, one stream per request (as Ethereum's consensus
 * req/resp): the requester writes one length-prefixed request and half-closes; the responder
 * answers with one frame, a status byte then the payload (or a short error text).
 *
 * Every inbound frame is size-checked on its length prefix and must arrive in time; a peer
 * that sends an oversized or malformed request, or a malformed response, loses score. Handlers
 * are generic byte functions: the sync and light-client layers decode their own payloads and
 * throw `invalidRequest(...)` (the requester loses a little score) or `resourceUnavailable(...)`.
 * @module
 */
import './polyfill.ts'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import {
  decodeErrorText,
  decodeResponse,
  encodeErrorText,
  encodeResponse,
  readFrame,
  writeFrame,
  type ResponseStatus,
} from './codec.ts'
import { NetError, PENALTY } from './errors.ts'
import type { CatenaLibp2p } from './host.ts'
import { assertProtocol, protocolId, type ReqRespLimits, type ReqRespProtocol } from './protocols.ts'

/** Answers one request: returns the response payload, or throws to answer with an error status. */
export type RequestHandler = (request: Uint8Array, peer: string) => Uint8Array | Promise<Uint8Array>

export interface RequestOptions {
  /** Whole exchange (open stream, send, receive), in ms. */
  timeoutMs?: number
}

/** The peer answered with a non-success status. */
export class RemoteError extends NetError {
  constructor(
    readonly status: Exclude<ResponseStatus, 'ok'>,
    message: string,
  ) {
    super('REMOTE_ERROR', message)
    this.name = 'RemoteError'
  }
}

/** For handlers: the request is well-formed but makes no sense; the requester loses a little score. */
export function invalidRequest(message: string, penalty: number = PENALTY.invalidRequest): NetError {
  return new NetError('INVALID_REQUEST', message, penalty)
}

/** For handlers: this node cannot serve the request (pruned, unknown block); no one is at fault. */
export function resourceUnavailable(message: string): NetError {
  return new NetError('RESOURCE_UNAVAILABLE', message)
}

export interface ReqRespOptions {
  libp2p: CatenaLibp2p
  /** The chain tag of protocol ids. */
  tag: string
  limits: Readonly<Record<ReqRespProtocol, ReqRespLimits>>
  /** Default for requests without a timeout, and the time a requester has to send its request. */
  timeoutMs: number
  penalize(peer: string, points: number, reason: string): void
  log: Logger
}

/** A handler's error as the status and text sent back, and the requester's penalty. */
function failure(err: unknown): { status: Exclude<ResponseStatus, 'ok'>; text: string; penalty: number } {
  if (err instanceof NetError) {
    switch (err.code) {
      case 'INVALID_REQUEST':
      case 'MALFORMED':
      case 'TOO_LARGE':
        return { status: 'invalidRequest', text: err.message, penalty: err.penalty || PENALTY.invalidRequest }
      case 'RESOURCE_UNAVAILABLE':
        return { status: 'resourceUnavailable', text: err.message, penalty: 0 }
    }
  }
  return { status: 'serverError', text: 'internal error', penalty: 0 }
}

/**
 * Streams a responder accepts per protocol per connection (libp2p resets the ones beyond);
 * requesters keep under it by queueing past MAX_ACTIVE_REQUESTS, so a burst of requests from
 * the sync layer waits its turn instead of failing.
 */
export const MAX_INBOUND_STREAMS = 32
export const MAX_ACTIVE_REQUESTS = 16

/** A counting semaphore per peer and protocol. */
class Slots {
  private active = 0
  private readonly waiting: Array<() => void> = []

  async acquire(): Promise<void> {
    if (this.active < MAX_ACTIVE_REQUESTS) {
      this.active++
      return
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  /** Hands the slot to the next waiter; true when the slot set is idle and can be dropped. */
  release(): boolean {
    const next = this.waiting.shift()
    if (next !== undefined) next()
    else this.active--
    return this.active === 0
  }
}

export class ReqResp {
  private readonly handled = new Set<ReqRespProtocol>()
  private readonly slots = new Map<string, Slots>()

  constructor(private readonly opts: ReqRespOptions) {}

  /** Serves `name` with `handler`. One handler per protocol. */
  async handle(name: ReqRespProtocol, handler: RequestHandler): Promise<void> {
    assertProtocol(name)
    if (this.handled.has(name)) throw new NetError('ALREADY_HANDLED', `a handler for ${name} is already registered`)
    this.handled.add(name)
    await this.opts.libp2p.handle(
      protocolId(this.opts.tag, name),
      (stream, conn) => this.serve(name, handler, stream, conn),
      { maxInboundStreams: MAX_INBOUND_STREAMS },
    )
  }

  async unhandle(name: ReqRespProtocol): Promise<void> {
    if (!this.handled.delete(name)) return
    await this.opts.libp2p.unhandle(protocolId(this.opts.tag, name))
  }

  private async serve(name: ReqRespProtocol, handler: RequestHandler, stream: Stream, conn: Connection): Promise<void> {
    const { limits, log } = this.opts
    const peer = conn.remotePeer.toString()
    const what = `${name} request from ${peer}`
    // The requester has timeoutMs to deliver its request; the handler itself is not timed here.
    const timer = setTimeout(() => stream.abort(new NetError('TIMEOUT', `${what}: not received in time`)), this.opts.timeoutMs)
    let request: Uint8Array
    try {
      request = await readFrame(stream, limits[name].maxRequestBytes, what)
    } catch (err) {
      this.blame(peer, err)
      stream.abort(err as Error)
      return
    } finally {
      clearTimeout(timer)
    }

    let response: Uint8Array
    try {
      const payload = await handler(request, peer)
      if (payload.length > limits[name].maxResponseBytes) {
        throw new Error(`${name} response of ${payload.length} bytes is over the ${limits[name].maxResponseBytes}-byte limit`)
      }
      response = encodeResponse('ok', payload)
    } catch (err) {
      const f = failure(err)
      if (f.status === 'serverError') log.warn({ err, peer, protocol: name }, 'request handler failed')
      else log.debug({ peer, protocol: name, status: f.status, reason: f.text }, 'request refused')
      if (f.penalty > 0) this.opts.penalize(peer, f.penalty, `${name}: ${f.text}`)
      response = encodeResponse(f.status, encodeErrorText(f.text))
    }

    try {
      await writeFrame(stream, response, limits[name].maxResponseBytes + 1, `${name} response to ${peer}`)
      await stream.close()
    } catch (err) {
      log.debug({ err, peer, protocol: name }, 'could not send response')
      stream.abort(err as Error)
    }
  }

  /**
   * Sends one request to a connected peer and returns the response payload. At most
   * MAX_ACTIVE_REQUESTS run per peer and protocol; more wait for a free slot (the timeout
   * starts when the request does).
   */
  async request(peer: string, name: ReqRespProtocol, payload: Uint8Array, opts: RequestOptions = {}): Promise<Uint8Array> {
    assertProtocol(name)
    const what = `${name} request to ${peer}`
    const max = this.opts.limits[name].maxRequestBytes
    if (payload.length > max) throw new NetError('TOO_LARGE', `${what}: ${payload.length} bytes is over the ${max}-byte limit`)
    const peerId = peerIdFromString(peer)
    if (this.opts.libp2p.getConnections(peerId).length === 0) throw new NetError('NOT_CONNECTED', `${what}: not connected`)
    const key = `${peer} ${name}`
    let slots = this.slots.get(key)
    if (slots === undefined) this.slots.set(key, (slots = new Slots()))
    await slots.acquire()
    try {
      return await this.exchange(peer, peerId, name, payload, opts)
    } finally {
      if (slots.release()) this.slots.delete(key)
    }
  }

  private async exchange(
    peer: string,
    peerId: PeerId,
    name: ReqRespProtocol,
    payload: Uint8Array,
    opts: RequestOptions,
  ): Promise<Uint8Array> {
    const { libp2p, limits } = this.opts
    const what = `${name} request to ${peer}`
    const max = limits[name].maxRequestBytes
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs
    const timeout = new NetError('TIMEOUT', `${what} timed out after ${timeoutMs} ms`)
    const controller = new AbortController()
    let stream: Stream | undefined
    const timer = setTimeout(() => {
      controller.abort(timeout)
      stream?.abort(timeout)
    }, timeoutMs)
    try {
      stream = await libp2p.dialProtocol(peerId, protocolId(this.opts.tag, name), {
        signal: controller.signal,
        negotiateFully: false, // the protocol id travels with the request: one round trip less
      })
      if (controller.signal.aborted) throw timeout
      await writeFrame(stream, payload, max, what)
      const [frame] = await Promise.all([readFrame(stream, limits[name].maxResponseBytes + 1, `${name} response from ${peer}`), stream.close()])
      const response = decodeResponse(frame, `${name} response from ${peer}`)
      if (response.status !== 'ok') {
        throw new RemoteError(response.status, `${peer} answered ${name} with ${response.status}: ${decodeErrorText(response.payload)}`)
      }
      return response.payload
    } catch (err) {
      if (controller.signal.aborted) throw timeout
      stream?.abort(err as Error)
      this.blame(peer, err)
      if (err instanceof NetError) throw err
      const reason = (err as Error).name === 'UnsupportedProtocolError' ? `${peer} does not serve ${name}` : (err as Error).message
      throw new NetError('STREAM_FAILED', `${what} failed: ${reason}`)
    } finally {
      clearTimeout(timer)
    }
  }

  /** Penalizes the peer when the error is its fault. */
  private blame(peer: string, err: unknown): void {
    if (err instanceof NetError && err.penalty > 0) {
      this.opts.log.debug({ peer, code: err.code, reason: err.message }, 'bad message from peer')
      this.opts.penalize(peer, err.penalty, err.message)
    } else {
      this.opts.log.debug({ peer, err }, 'request stream failed')
    }
  }
}
