/**
 * The `bft` consensus engine (PoA and PoS): BftDriver wired to the chain and to a transport.
 * The node supplies an EngineHost and a ConsensusTransport (its 'consensus' gossip topic and a
 * request/response protocol for blocks by hash); MemoryNetwork connects engines in one process
 * for tests. BftRules are the block rules every node applies, engine running or not.
 */
export { BftEngine } from './engine.ts'
export type { BftEngineOptions, BftEngineStats } from './engine.ts'
export { WAL_FILE } from './files.ts'
export { BftRules } from './rules.ts'
export type { BftStaking } from './rules.ts'
export { decodeSeal, encodeSeal } from './seal.ts'
export type { BftSeal } from './seal.ts'
export {
  BftConfigError,
  ValidatorSchedule,
  bftConfigToJSON,
  chainMembership,
  consortiumEngineJSON,
  parseBftConfig,
  toTimeoutConfig,
} from './config.ts'
export type { BftEngineConfig, BftEngineConfigJSON, BftTimeoutsConfig, BftValidatorConfig, MembershipAt } from './config.ts'
export { EngineMessageError, MemoryNetwork, decodeEngineMessage, encodeEngineMessage } from './transport.ts'
export type { ConsensusTransport, EngineMessage, TransportVerdict } from './transport.ts'
