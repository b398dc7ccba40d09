/**
 * The `poh` consensus engine (the solana-like chain): block rules (rules.ts), the seal
 * (seal.ts), leader schedules read off the chain (schedule-source.ts), the validator's clock
 * and block production (leader.ts), and the engine that follows the heaviest fork by votes
 * and votes under Tower lockouts (engine.ts). The PoH clock, votes, tower and fork choice
 * themselves are in consensus/poh.
 * @module
 */
export { PohEngine, type PohEngineOptions } from './engine.ts'
export { PohRules, MAX_SKIPPED_SLOTS, type PohRulesOptions } from './rules.ts'
export { decodePohSeal, encodePohSeal, pohEntriesOf, signingHash, slotOf, type PohSeal, type SealEntry } from './seal.ts'
export { ScheduleSource, type ScheduleChain } from './schedule-source.ts'
