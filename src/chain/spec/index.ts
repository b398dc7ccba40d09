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
  FeeMarket,
  ForkChanges,
  ForkSpec,
  GenesisAccount,
  GenesisAlloc,
  GenesisSpec,
  Height,
  MonetaryPolicy,
  PermissionsSpec,
} from './types.ts'
export { ChainArgumentError, ChainSpecError, paramsAt, toHeight } from './types.ts'
export type { BftEngineJSON, ChainSpecJSON, EngineJSON, ForkChangesJSON, GenesisAccountJSON, JsonInteger, PermissionsJSON } from './schema.ts'
export { ENGINE_TYPES, chainSpecSchema, validateChainSpecJSON } from './schema.ts'
export { DEV_ACCOUNTS, DEV_ACCOUNT_BALANCE, listPresets } from './presets.ts'
export { MIN_BLOCK_GAS_LIMIT, chainSpecToJSON, loadChainSpec, parseChainSpec, parseChainSpecText } from './load.ts'
