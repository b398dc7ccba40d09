export { ethMethods } from './methods.ts'
export type { EthBackend, MempoolView } from './backend.ts'
export { formatHeader, formatBlock, formatTx, formatReceipt, formatLog, blockLogs } from './format.ts'
