/**
 * Typed errors for the benchmarks: a `code` a caller can match on and a message a person
 * can act on. A failed target is reported with its code, never as a throughput number.
 */
export type BenchErrorCode =
  | 'BAD_ARGS' // command-line options that make no sense
  | 'START_FAILED' // a target's process exited or never became ready
  | 'WRONG_CHAIN' // a target answered with a chain id other than the one asked for
  | 'RPC_ERROR' // a JSON-RPC call returned an error object
  | 'RPC_TRANSPORT' // HTTP failure, timeout, or a response that is not JSON-RPC
  | 'INSUFFICIENT_FUNDS' // a sender cannot pay for its share of the transfers
  | 'STALLED' // the timed phase made no progress for too long
  | 'VERIFY_FAILED' // receipts, balances or nonces do not match what was sent

export class BenchError extends Error {
  readonly code: BenchErrorCode

  constructor(code: BenchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BenchError'
    this.code = code
  }
}

/** The code of any error (BenchError or not), for reports. */
export function errorCode(err: unknown): string {
  if (err instanceof BenchError) return err.code
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code
  return 'UNEXPECTED'
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
