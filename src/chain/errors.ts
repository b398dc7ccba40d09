/**
 * Typed block errors: a code callers can match on (and that peer scoring will map to a
 * penalty) plus a human message, like Lodestar's BlockError and bcoin's VerifyError.
 */
export type BlockErrorCode =
  | 'MALFORMED'
  | 'UNKNOWN_PARENT'
  | 'BAD_HEIGHT'
  | 'TIME_TOO_OLD'
  | 'TIME_TOO_NEW'
  | 'BAD_TX_ROOT'
  | 'BAD_RECEIPTS_ROOT'
  | 'BAD_STATE_ROOT'
  | 'BAD_LOGS_BLOOM'
  | 'BAD_GAS_USED'
  | 'GAS_LIMIT'
  | 'GAS_USED_OVER_LIMIT'
  | 'BAD_BASE_FEE'
  | 'TOO_LARGE'
  | 'BAD_TX'
  | 'BAD_SEAL'
  /** A PoH block whose hash chain does not check (wrong start, tick count, spacing or hash). */
  | 'BAD_POH'
  /** A block from elsewhere came without the proof its engine requires (BFT: its commit certificate). */
  | 'MISSING_PROOF'
  /** The proof that came with a block does not prove it (or the engine takes none). */
  | 'BAD_PROOF'
  /** A block asked for by hash (or named by a signed proposal) hashes to something else. */
  | 'WRONG_BLOCK'
  | 'NOT_EXTENDING_HEAD'
  | 'ALREADY_KNOWN'
  /** A branch switch deeper than the chain allows (PoW: engine.maxReorgDepth). */
  | 'REORG_TOO_DEEP'
  /** A block off the head's branch whose fork point is deeper than the chain reorganizes: it could never become canonical. */
  | 'FORK_TOO_DEEP'
  /** A block off the head's branch whose branch has (and is not shown to reach) less work than the head: not stored. */
  | 'INSUFFICIENT_WORK'
  | 'UNKNOWN_BLOCK'
  /** A light client's trusted header is too old to vouch for what follows it (BFT trust period). */
  | 'TRUST_EXPIRED'

export class BlockError extends Error {
  constructor(
    readonly code: BlockErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'BlockError'
  }
}
