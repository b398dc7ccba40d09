/**
 * The `bft` consensus engine (PoA): BftDriver wired to the chain and to a transport.
 * The node supplies a BftHost (build / validate / commit / blockAt) and a ConsensusTransport
 * (its 'consensus' gossip topic); MemoryNetwork connects engines in one process for tests.
 */
export { BftEngine } from './engine.ts'
export type { BftEngineOptions } from './engine.ts'
export { isBftHost } from './host.ts'
export type { BftHost } from './host.ts'
export { CERT_FILE, WAL_FILE } from './files.ts'
export { BftSealVerifier, decodeSeal, encodeSeal } from './seal.ts'
export type { BftSeal } from './seal.ts'
export {
  BftConfigError,
  ValidatorSchedule,
  bftConfigToJSON,
  consortiumEngineJSON,
  parseBftConfig,
  toTimeoutConfig,
} from './config.ts'
export type { BftEngineConfig, BftEngineConfigJSON, BftTimeoutsConfig, BftValidatorConfig, MembershipAt } from './config.ts'
export { EngineMessageError, MemoryNetwork, decodeEngineMessage, encodeEngineMessage } from './transport.ts'
export type { ConsensusTransport, EngineMessage } from './transport.ts'
