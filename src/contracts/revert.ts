/** Solidity's built-in revert errors, shared by every system contract's revert-reason decoder. */
import { parseAbi } from 'viem'

/** `Error(string)` (require / revert with a message) and `Panic(uint256)` (assert, overflow, ...). */
export const STANDARD_ERRORS_ABI = parseAbi(['error Error(string message)', 'error Panic(uint256 code)'])

const PANIC_REASONS: Record<number, string> = {
  0x01: 'assertion failed',
  0x11: 'arithmetic overflow or underflow',
  0x12: 'division or modulo by zero',
  0x21: 'invalid enum value',
  0x22: 'corrupt storage byte array',
  0x31: 'pop from an empty array',
  0x32: 'array index out of bounds',
  0x41: 'out of memory',
  0x51: 'call to an uninitialised function',
}

/** A Panic(uint256) code in words. */
export function panicReason(code: bigint): string {
  return `panic: ${PANIC_REASONS[Number(code)] ?? `code 0x${code.toString(16)}`}`
}
