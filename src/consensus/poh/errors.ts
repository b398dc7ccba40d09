/**
 * Typed Proof-of-History errors: a code callers match on, the entry index when one entry is at
 * fault, and a human message. BAD_POH, BAD_TICKS, BAD_ENTRY, BAD_ENCODING, TOO_LARGE and the TOO_MANY_* codes are
 * what a peer's block can cause (the engine maps them to a block refusal and a peer penalty);
 * the others are local (a busy or closed service, a cancelled job, a crashed thread).
 * @module
 */
export type PohErrorCode =
  /** An entry's hash is not what its numHashes and txs give from the previous hash. */
  | 'BAD_POH'
  /** The entries are not the slot's ticks: a tick after the wrong hash count, too few or too many ticks. */
  | 'BAD_TICKS'
  /** An entry is malformed: numHashes out of range, a hash that is not 32 bytes, too many txs. */
  | 'BAD_ENTRY'
  /** Encoded entries that are not canonical RLP of the entry list. */
  | 'BAD_ENCODING'
  /** Encoded entries longer than the caller allows (refused before decoding). */
  | 'TOO_LARGE'
  /** The entries claim more hashes than the caller allows (refused before any hashing). */
  | 'TOO_MANY_HASHES'
  /** More entries, or tx hashes, than the caller allows. */
  | 'TOO_MANY_ENTRIES'
  | 'TOO_MANY_TXS'
  /** The caller's input to a local service (options, a record, a reset) is invalid. */
  | 'BAD_ARGUMENT'
  /** Too much work is already waiting (verification jobs, records). */
  | 'BUSY'
  /** The job was cancelled (AbortSignal, reset of the generator). */
  | 'CANCELLED'
  | 'CLOSED'
  | 'WORKER_FAILED'

export class PohError extends Error {
  readonly code: PohErrorCode
  /** The index of the entry at fault, when there is one. */
  readonly index: number | undefined

  constructor(code: PohErrorCode, message: string, opts?: { index?: number; cause?: unknown }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'PohError'
    this.code = code
    this.index = opts?.index
  }
}
