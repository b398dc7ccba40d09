export type { BatchOp, KeyValueStore } from './kv.ts'
export { LevelStore } from './level.ts'
export { MemoryStore } from './memory.ts'
export { keys, heightKey, SCHEMA_VERSION } from './layout.ts'
