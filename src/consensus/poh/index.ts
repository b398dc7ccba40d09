/**
 * Proof of History: the sequential SHA-256 clock of the solana-like chain. The sequence and its
 * entries (sequence.ts), their wire form (encoding.ts), slot arithmetic (slot.ts), the
 * generator on its own thread (generator.ts), the verifier, sequential and on a thread pool
 * (verify.ts), and the hash-rate measurement behind `catena poh calibrate` (calibrate.ts).
 * @module
 */
export { PohError, type PohErrorCode } from './errors.ts'
export {
  MAX_ENTRY_TXS,
  MAX_NUM_HASHES,
  POH_HASH_BYTES,
  checkEntry,
  isTick,
  nextHash,
  tick,
  txEntry,
  txRootOf,
  type PohEntry,
} from './sequence.ts'
export { decodePohEntries, encodePohEntries, type PohDecodeLimits } from './encoding.ts'
export { checkClock, checkTicks, slotHashBudget, type PohClock } from './slot.ts'
export { PohGenerator, type GeneratedEntry, type PohGeneratorOptions, type PohGeneratorStats, type SlotEnd } from './generator.ts'
export { PohVerifier, verifyEntriesSync, type PohLimits, type PohVerified, type PohVerifierOptions, type PohVerifierStats, type VerifyOptions } from './verify.ts'
