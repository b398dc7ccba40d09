/** Chain spec (genesis file): types, presets, loading and validation. */
export type {
  BftEngineSpec,
  BftTimeoutsSpec,
  BftValidatorSpec,
  BlockLimits,
  ChainParams,
  ChainSpec,
  ChainSpecErrorCode,
  DevEngineSpec,
  EngineSpec,
  EngineType,
  ExecutionSpec,
  FeeMarket,
  ForkChanges,
  ForkSpec,
  GenesisAccount,
  GenesisAlloc,
  GenesisSpec,
  Height,
  MonetaryPolicy,
  PermissionsSpec,
  PohEngineSpec,
  PowEngineSpec,
  RetargetSpec,
  StakingSpec,
  TieBreak,
} from './types.ts'
export { ChainArgumentError, ChainSpecError, maxBlockBytesEver, paramsAt, toHeight } from './types.ts'
export type { BftEngineJSON, PohEngineJSON, ChainSpecJSON, EngineJSON, ExecutionJSON, ForkChangesJSON, GenesisAccountJSON, JsonInteger, PermissionsJSON, StakingJSON } from './schema.ts'
export { ENGINE_TYPES, chainSpecSchema, validateChainSpecJSON } from './schema.ts'
export { DEV_ACCOUNTS, DEV_ACCOUNT_BALANCE, listPresets } from './presets.ts'
export { MIN_BLOCK_GAS_LIMIT, stakePower, chainSpecToJSON, loadChainSpec, parseChainSpec, parseChainSpecText } from './load.ts'
