/**
 * Typed sync errors: what a peer did wrong while we synced from it, with the penalty it earns
 * and whether we hang up on it (bcoin's VerifyError with its ban score).
 * @module
 */
import { PENALTY } from '../net/index.ts'

export type SyncErrorCode =
  /** Headers that follow neither our locator nor each other. */
  | 'UNCONNECTED_HEADERS'
  /** A header that breaks a chain or engine rule (seal, bits, time): forged or invalid work. */
  | 'INVALID_HEADER'
  /** An answer that does not decode, or a block answered for another hash. */
  | 'MALFORMED_ANSWER'
  /** A block whose body does not match its verified header, or breaks a rule. */
  | 'INVALID_BLOCK'
  /** The peer claimed a head or work it then did not show. */
  | 'UNFULFILLED_CLAIM'

/** An invalid header or block costs more than a malformed message: it cost us a check. */
export const INVALID_BLOCK_PENALTY = 50

export class SyncError extends Error {
  constructor(
    readonly code: SyncErrorCode,
    message: string,
    /** Penalty points for the peer. */
    readonly penalty: number,
    /** Hang up on the peer: what it sent can only come from a forger. */
    readonly drop = false,
  ) {
    super(message)
    this.name = 'SyncError'
  }
}

export const malformedAnswer = (message: string) => new SyncError('MALFORMED_ANSWER', message, PENALTY.malformed)
export const unfulfilledClaim = (message: string) => new SyncError('UNFULFILLED_CLAIM', message, PENALTY.unfulfilledClaim)
