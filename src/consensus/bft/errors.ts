/**
 * Typed BFT errors: a code callers can match on, a human message, and the penalty the peer
 * that sent the offending bytes earns (0 when no peer is at fault), so the network layer can
 * feed peer scoring without knowing consensus details (as bcoin's VerifyError ban score).
 * One class per concern, so a caller can tell a bad vote from a bad certificate by type.
 * @module
 */

/** Penalty points, on the same scale as net/ (a peer is banned at 100). */
export const BFT_PENALTY = {
  none: 0,
  /** bytes that do not decode, or fields out of range */
  malformed: 25,
  /** a signature that does not recover to the claimed signer */
  badSignature: 20,
  /** a signer that is not in the validator set (may be a stale peer: small) */
  unknownSigner: 5,
} as const

export class BftError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    /** Penalty points for the peer that sent it; 0 when no peer is at fault. */
    readonly penalty: number = 0,
  ) {
    super(message)
    this.name = 'BftError'
  }
}

export type MessageErrorCode =
  | 'MALFORMED' // does not decode, or a field is out of range
  | 'BAD_SIGNATURE' // the signature does not recover to the claimed signer (or is for another chain)
  | 'UNKNOWN_VALIDATOR' // the signer is not in the validator set of that height
  | 'NOT_PROPOSER' // a proposal signed by someone who is not the proposer of its round

/** A proposal or vote that cannot be used. */
export class MessageError extends BftError<MessageErrorCode> {
  constructor(code: MessageErrorCode, message: string, penalty?: number) {
    super(code, message, penalty ?? messagePenalty(code))
    this.name = 'MessageError'
  }
}

function messagePenalty(code: MessageErrorCode): number {
  switch (code) {
    case 'MALFORMED':
      return BFT_PENALTY.malformed
    case 'BAD_SIGNATURE':
    case 'NOT_PROPOSER':
      return BFT_PENALTY.badSignature
    case 'UNKNOWN_VALIDATOR':
      return BFT_PENALTY.unknownSigner
  }
}

export type ValidatorSetErrorCode =
  | 'MALFORMED' // persisted bytes that do not decode
  | 'EMPTY' // a set must hold at least one validator
  | 'BAD_ADDRESS' // not a 20-byte address
  | 'BAD_POWER' // voting power must be a positive integer (0 only to remove in an update)
  | 'DUPLICATE_ADDRESS'
  | 'UNKNOWN_VALIDATOR' // an update removes a validator that is not in the set
  | 'BAD_ROUND'

export class ValidatorSetError extends BftError<ValidatorSetErrorCode> {
  constructor(code: ValidatorSetErrorCode, message: string) {
    super(code, message, 0)
    this.name = 'ValidatorSetError'
  }
}

export type CertificateErrorCode =
  | 'MALFORMED'
  | 'WRONG_BLOCK' // certifies another block hash
  | 'WRONG_HEIGHT' // certifies another height
  | 'UNKNOWN_VALIDATOR' // a signature by an address outside the validator set
  | 'DUPLICATE_VALIDATOR' // the same validator twice
  | 'BAD_SIGNATURE' // a signature that does not recover to its validator (or another chain id)
  | 'NOT_ENOUGH_POWER' // the signers hold 2/3 of the power or less

/** A commit certificate that does not prove its block final. */
export class CertificateError extends BftError<CertificateErrorCode> {
  constructor(code: CertificateErrorCode, message: string) {
    super(code, message, code === 'MALFORMED' ? BFT_PENALTY.malformed : BFT_PENALTY.badSignature)
    this.name = 'CertificateError'
  }
}

export type EvidenceErrorCode =
  | 'MALFORMED'
  | 'NOT_CONFLICTING' // both votes are for the same block: no misbehaviour
  | 'VOTES_DO_NOT_MATCH' // different height, round, type or validator: not a double vote
  | 'NOT_CANONICAL' // votes not in canonical order (the same evidence must have one encoding)
  | 'UNKNOWN_VALIDATOR'
  | 'BAD_SIGNATURE'
  | 'EXPIRED' // older than the evidence window
  | 'FUTURE' // for a height not reached yet

/** Evidence of double voting that does not prove it. */
export class EvidenceError extends BftError<EvidenceErrorCode> {
  constructor(code: EvidenceErrorCode, message: string) {
    super(code, message, code === 'EXPIRED' || code === 'FUTURE' ? 0 : BFT_PENALTY.malformed)
    this.name = 'EvidenceError'
  }
}

export type WalErrorCode =
  | 'IO' // the file could not be read, written or synced
  | 'NOT_A_WAL' // the file exists but is not a vote WAL
  | 'CORRUPT' // damage that is not a torn tail: signing on it could double-sign
  | 'BAD_ENTRY' // an entry with fields out of range (a caller bug)
  | 'CLOSED'

/** The write-ahead log cannot guarantee its promise; the node must not sign. */
export class WalError extends BftError<WalErrorCode> {
  constructor(code: WalErrorCode, message: string) {
    super(code, message, 0)
    this.name = 'WalError'
  }
}
