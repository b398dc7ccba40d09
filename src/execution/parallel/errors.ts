/**
 * Errors of parallel execution. An undeclared access is the tx's fault and has a fixed outcome
 * (the tx fails, all its gas charged: see access.ts); the others are Catena's own faults and
 * stop the block's execution without judging the block.
 * @module
 */

export type UndeclaredAccessCode =
  /** An account's header (nonce, balance, code) was read or written without being declared. */
  | 'UNDECLARED_ACCOUNT'
  /** A storage slot was read or written without being declared. */
  | 'UNDECLARED_SLOT'
  /** An account declared read-only changed (or had its storage wiped). */
  | 'UNDECLARED_WRITE'

/** A tx touched state outside what it declared: it fails, and is charged its whole gas limit. */
export class UndeclaredAccessError extends Error {
  override readonly name = 'UndeclaredAccessError'
  constructor(
    readonly code: UndeclaredAccessCode,
    /** 0x-hex, lowercase. */
    readonly address: string,
    readonly slot?: string,
  ) {
    super(undeclaredMessage(code, address, slot))
  }

  toJSON(): { code: UndeclaredAccessCode; address: string; slot?: string; message: string } {
    return { code: this.code, address: this.address, ...(this.slot ? { slot: this.slot } : {}), message: this.message }
  }
}

function undeclaredMessage(code: UndeclaredAccessCode, address: string, slot?: string): string {
  switch (code) {
    case 'UNDECLARED_ACCOUNT':
      return `account ${address} is not in the tx's access list`
    case 'UNDECLARED_SLOT':
      return `storage slot ${slot} of ${address} is not in the tx's access list`
    case 'UNDECLARED_WRITE':
      return `account ${address} changed, but the tx declared it read-only (list it with no storage keys to write it)`
  }
}

export type ParallelExecutionErrorCode =
  /** A worker failed or answered nonsense; the block was not judged. */
  | 'WORKER_FAILED'
  /** A worker was asked for state that was not shipped to it: a bug in the scheduler or the shipping. */
  | 'STATE_NOT_SHIPPED'
  | 'CLOSED'

export class ParallelExecutionError extends Error {
  override readonly name = 'ParallelExecutionError'
  constructor(
    readonly code: ParallelExecutionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
