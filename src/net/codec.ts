/**
 * Framing on libp2p streams: one unsigned-varint length-prefixed message per direction per
 * stream (the multiformats convention, via it-length-prefixed), with a hard size limit
 * checked on the length prefix, before the body is buffered. Responses carry a status byte.
 *
 * A request stream: the requester writes one frame and closes its write end; the responder
 * reads exactly one frame, writes one response frame (status byte + payload) and closes.
 * @module
 */
import './polyfill.ts'
import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { NetError, PENALTY } from './errors.ts'

/** Status of a response, first byte of the response frame (the values of Ethereum's req/resp). */
export const RESPONSE_STATUS = { ok: 0, invalidRequest: 1, serverError: 2, resourceUnavailable: 3 } as const
export type ResponseStatus = keyof typeof RESPONSE_STATUS

const STATUS_BY_BYTE = new Map<number, ResponseStatus>(
  Object.entries(RESPONSE_STATUS).map(([name, byte]) => [byte, name as ResponseStatus]),
)

/** Error texts sent to peers are short and printable. */
export const MAX_ERROR_TEXT_BYTES = 256

/**
 * Reads one length-prefixed frame of at most `maxBytes`. Typed errors: TOO_LARGE when the
 * prefix announces more than the limit, MALFORMED for a bad prefix, TRUNCATED when the stream
 * ends first. Each carries the penalty for the sender. Errors of the stream itself (reset,
 * abort) pass through unchanged.
 */
export async function readFrame(stream: Stream, maxBytes: number, what: string): Promise<Uint8Array> {
  try {
    for await (const frame of lp.decode(stream, { maxDataLength: maxBytes })) {
      return plainBytes(frame.subarray())
    }
  } catch (err) {
    throw lengthPrefixError(err, maxBytes, what) ?? err
  }
  throw new NetError('TRUNCATED', `${what}: the stream ended before a message arrived`, PENALTY.empty)
}

/** Maps it-length-prefixed's errors to typed ones; undefined for any other error. */
function lengthPrefixError(err: unknown, maxBytes: number, what: string): NetError | undefined {
  switch ((err as { code?: unknown }).code) {
    case 'ERR_MSG_DATA_TOO_LONG':
      return new NetError('TOO_LARGE', `${what}: message over the ${maxBytes}-byte limit`, PENALTY.oversized)
    case 'ERR_MSG_LENGTH_TOO_LONG':
    case 'ERR_INVALID_MSG_LENGTH':
      return new NetError('MALFORMED', `${what}: invalid length prefix`, PENALTY.malformed)
    case 'ERR_UNEXPECTED_EOF':
      return new NetError('TRUNCATED', `${what}: the stream ended in the middle of a message`, PENALTY.malformed)
    default:
      return undefined
  }
}

/** A plain Uint8Array view of the same bytes (no copy): callers get bytes, never Buffers. */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Writes one length-prefixed frame, waiting while the stream's send buffer is full. */
export async function writeFrame(stream: Stream, payload: Uint8Array, maxBytes: number, what: string): Promise<void> {
  if (payload.length > maxBytes) {
    throw new NetError('TOO_LARGE', `${what}: ${payload.length} bytes is over the ${maxBytes}-byte limit`)
  }
  // it-length-prefixed refuses frames over 4 MiB unless told the limit: ours is the protocol's.
  if (!stream.send(lp.encode.single(payload, { maxDataLength: maxBytes }))) await stream.onDrain()
}

export interface Response {
  status: ResponseStatus
  payload: Uint8Array
}

export function encodeResponse(status: ResponseStatus, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1)
  out[0] = RESPONSE_STATUS[status]
  out.set(payload, 1)
  return out
}

export function decodeResponse(frame: Uint8Array, what: string): Response {
  const status = frame.length === 0 ? undefined : STATUS_BY_BYTE.get(frame[0]!)
  if (status === undefined) {
    const detail = frame.length === 0 ? 'an empty response' : `unknown response status ${frame[0]}`
    throw new NetError('MALFORMED', `${what}: ${detail}`, PENALTY.malformed)
  }
  return { status, payload: frame.subarray(1) }
}

/** UTF-8 error text for a failed response, cut to MAX_ERROR_TEXT_BYTES. */
export function encodeErrorText(message: string): Uint8Array {
  const bytes = new TextEncoder().encode(message)
  return bytes.length <= MAX_ERROR_TEXT_BYTES ? bytes : bytes.subarray(0, MAX_ERROR_TEXT_BYTES)
}

/** A peer's error text made safe to log: decoded leniently, control characters removed, cut. */
export function decodeErrorText(bytes: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, MAX_ERROR_TEXT_BYTES))
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim()
}
