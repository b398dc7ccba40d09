/**
 * Typed network errors: a code callers can match on plus a human message. Errors caused by
 * what a peer sent carry the penalty that peer earns (bcoin's VerifyError ban score), so the
 * layer that catches them can feed peer scoring without knowing the details.
 * @module
 */

export type NetErrorCode =
  // configuration and local misuse
  | 'BAD_CONFIG' // an option is invalid (multiaddr, allowlist entry, limit)
  | 'BAD_NODE_KEY' // <datadir>/node.key exists but is not a usable key
  | 'BAD_PEER_ID' // a string that is not a libp2p peer id
  | 'NOT_STARTED' // the network is not running
  | 'UNKNOWN_PROTOCOL' // a request/response protocol name Catena does not define
  | 'UNKNOWN_TOPIC' // a gossip topic name Catena does not define
  | 'ALREADY_HANDLED' // a handler or subscription exists for that protocol or topic
  // what peers send
  | 'TOO_LARGE' // a message over its protocol's size limit
  | 'MALFORMED' // bytes that do not decode
  | 'TRUNCATED' // the stream ended before the message did
  // requests we make
  | 'NOT_CONNECTED' // no open connection to that peer
  | 'DIAL_FAILED' // could not connect, or the peer hung up before the status handshake
  | 'TIMEOUT'
  | 'STREAM_FAILED' // the stream could not be opened or was reset
  | 'REMOTE_ERROR' // the peer answered with a non-success status
  // handler outcomes a request handler may throw
  | 'INVALID_REQUEST'
  | 'RESOURCE_UNAVAILABLE'

export class NetError extends Error {
  constructor(
    readonly code: NetErrorCode,
    message: string,
    /** Penalty points for the peer that caused it; 0 when no peer is at fault. */
    readonly penalty = 0,
  ) {
    super(message)
    this.name = 'NetError'
  }
}

export function isNetError(err: unknown, code?: NetErrorCode): err is NetError {
  return err instanceof NetError && (code === undefined || err.code === code)
}

/**
 * Penalty points per offence. A peer is banned when its points reach the ban threshold
 * (100 by default): one oversized message costs half of it, garbage a quarter, an invalid
 * gossip message a fifth; honest peers rarely earn any, and points decay over time.
 */
export const PENALTY = {
  /** a message over its protocol's or topic's size limit */
  oversized: 50,
  /** bytes that do not decode as the protocol's message */
  malformed: 25,
  /** a gossip message the validator rejected */
  rejectedGossip: 20,
  /** a well-formed request the handler refused as invalid */
  invalidRequest: 5,
  /** a stream closed without a message (also what a peer shutting down may do) */
  empty: 5,
  /** a peer that claimed a chain it then did not deliver (a height or head it did not serve) */
  unfulfilledClaim: 20,
  /** each message past a peer's allowance of messages nobody can use (a flood) */
  uselessFlood: 10,
  /** a validator identity claim that does not verify for this peer and chain (only a forger sends one) */
  forgedIdentity: 50,
} as const
