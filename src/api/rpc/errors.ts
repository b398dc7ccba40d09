/**
 * JSON-RPC 2.0 errors with the codes Ethereum clients expect (the JSON-RPC spec's reserved
 * codes plus the ones geth uses: -32000 server error, 3 execution reverted, -32005 limit).
 *
 * Handlers throw an `RpcError` to send that error to the caller; the server turns any other
 * throw into -32603 "internal error" and logs the stack instead of sending it.
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'

/** Numeric JSON-RPC error codes. */
export const RpcErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  SERVER_ERROR: -32000,
  LIMIT_EXCEEDED: -32005,
  EXECUTION_REVERTED: 3,
} as const

/** Symbolic name of an error code, for callers that match on strings. */
export type RpcErrorKind = keyof typeof RpcErrorCode

/** The `error` member of a JSON-RPC response. */
export interface RpcErrorObject {
  code: number
  message: string
  data?: unknown
}

export class RpcError extends Error {
  override readonly name = 'RpcError'
  /** JSON-RPC error code sent on the wire. */
  readonly code: number
  /** Optional `error.data` sent on the wire (must be JSON-ready). */
  readonly data?: unknown
  /** Symbolic name of `code` ('INVALID_PARAMS', ...), or 'SERVER_ERROR' for custom codes. */
  readonly kind: RpcErrorKind

  constructor(code: number, message: string, data?: unknown) {
    super(message)
    this.code = code
    if (data !== undefined) this.data = data
    this.kind = kindOf(code)
  }

  toJSON(): RpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data }
  }
}

function kindOf(code: number): RpcErrorKind {
  for (const [kind, c] of Object.entries(RpcErrorCode)) if (c === code) return kind as RpcErrorKind
  return 'SERVER_ERROR'
}

/** -32700: the payload is not valid JSON. */
export function parseError(message = 'parse error'): RpcError {
  return new RpcError(RpcErrorCode.PARSE_ERROR, message)
}

/** -32600: the payload is JSON but not a valid request object (or breaks a request limit). */
export function invalidRequest(message = 'invalid request'): RpcError {
  return new RpcError(RpcErrorCode.INVALID_REQUEST, message)
}

/** -32601, worded as geth does. */
export function methodNotFound(method: string): RpcError {
  return new RpcError(
    RpcErrorCode.METHOD_NOT_FOUND,
    `the method ${method} does not exist/is not available`,
  )
}

/** -32602: a parameter is missing, extra, or malformed. The message names the parameter. */
export function invalidParams(message: string): RpcError {
  return new RpcError(RpcErrorCode.INVALID_PARAMS, message)
}

/** -32603: something failed inside the node. Never carries a stack trace or internal detail. */
export function internalError(message = 'internal error'): RpcError {
  return new RpcError(RpcErrorCode.INTERNAL_ERROR, message)
}

/** -32000: generic server-side rejection (geth uses it for tx pool rejections: "nonce too low"). */
export function serverError(message: string, data?: unknown): RpcError {
  return new RpcError(RpcErrorCode.SERVER_ERROR, message, data)
}

/** -32005: a rate, size or count limit was hit. */
export function limitExceeded(message: string): RpcError {
  return new RpcError(RpcErrorCode.LIMIT_EXCEEDED, message)
}

/**
 * Code 3 "execution reverted", as geth returns from eth_call / eth_estimateGas: `data` is the
 * 0x-hex revert output and the message carries the decoded Error(string) / Panic(uint256)
 * reason when there is one ("execution reverted: insufficient balance").
 */
export function executionReverted(revertData: Uint8Array | string, reason?: string): RpcError {
  const bytes = typeof revertData === 'string' ? safeHexToBytes(revertData) : revertData
  const why = reason ?? (bytes === undefined ? undefined : decodeRevertReason(bytes))
  const message = why === undefined || why === '' ? 'execution reverted' : `execution reverted: ${why}`
  const data = bytes === undefined ? revertData : bytesToHex(bytes)
  return new RpcError(RpcErrorCode.EXECUTION_REVERTED, message, data)
}

const ERROR_SELECTOR = '08c379a0' // Error(string)
const PANIC_SELECTOR = '4e487b71' // Panic(uint256)
// Solidity's panic codes, worded as geth's abi.UnpackRevert words them.
const PANIC_REASONS: Record<number, string> = {
  0x00: 'generic panic',
  0x01: 'assert(false)',
  0x11: 'arithmetic underflow or overflow',
  0x12: 'division or modulo by zero',
  0x21: 'enum overflow',
  0x22: 'invalid encoded storage byte array accessed',
  0x31: 'out-of-bounds array access; popping on an empty array',
  0x32: 'out-of-bounds access of an array or bytesN',
  0x41: 'out of memory',
  0x51: 'uninitialized function',
}

/** Decodes the reason of Solidity's Error(string) or Panic(uint256) revert data, if it is one. */
export function decodeRevertReason(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined
  const selector = bytesToHex(data.subarray(0, 4)).slice(2)
  const body = data.subarray(4)
  if (selector === PANIC_SELECTOR && body.length >= 32) {
    const code = BigInt(bytesToHex(body.subarray(0, 32)))
    const known = code <= 0xffn ? PANIC_REASONS[Number(code)] : undefined
    return known ?? `unknown panic code: 0x${code.toString(16)}`
  }
  if (selector !== ERROR_SELECTOR || body.length < 64) return undefined
  const offset = BigInt(bytesToHex(body.subarray(0, 32)))
  if (offset + 32n > BigInt(body.length)) return undefined
  const start = Number(offset)
  const length = BigInt(bytesToHex(body.subarray(start, start + 32)))
  if (BigInt(start + 32) + length > BigInt(body.length)) return undefined
  const text = body.subarray(start + 32, start + 32 + Number(length))
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(text)
  } catch {
    return undefined
  }
}

function safeHexToBytes(hex: string): Uint8Array | undefined {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) return undefined
  return hexToBytes(hex as `0x${string}`)
}

/**
 * Converts anything a handler threw into the error to send. An `RpcError` goes out as is;
 * anything else is logged with its stack (with `method` for context) and becomes a bare
 * -32603 so no internal detail reaches the caller.
 */
export function toRpcError(err: unknown, logger: Logger, method?: string): RpcError {
  if (err instanceof RpcError) return err
  logger.error({ err, method }, 'JSON-RPC handler failed')
  return internalError()
}
