export type { ConsensusEngine, EngineHost, EngineReadings, EngineRpcMethod } from './types.ts'
export { EngineParamsError, EngineUnavailableError } from './types.ts'
export { DevEngine, DEV_COINBASE } from './dev.ts'
export type { DevEngineOptions } from './dev.ts'
