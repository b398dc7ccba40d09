export { CatenaNode, CLIENT_VERSION } from './node.ts'
export type { NodeConfig, NodeInfoFile } from './node.ts'
export { createLogger } from './logger.ts'
export type { LogFormat } from './logger.ts'
