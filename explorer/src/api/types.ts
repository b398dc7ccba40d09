/**
 * The REST /v1 shapes the explorer reads (the shared REST contract; field names exact).
 * Amounts that can exceed 2^53 (wei, gas, base fee) are decimal strings; heights, counts and
 * timestamps (unix seconds) are numbers.
 */
export type Hex = `0x${string}`

/** Where a page's data came from: the REST API, or JSON-RPC on a node without /v1. */
export type DataSource = 'rest' | 'rpc'

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export interface ChainInfo {
  name: string
  chainId: number | string
  engine: string
  blockTime: number | null
  genesisHash: string
  head: { height: number; hash: string; timestamp: number }
  finalized: { height: number; hash: string }
}

export interface BlockSummary {
  height: number
  hash: string
  parentHash: string
  timestamp: number
  txCount: number
  gasUsed: string
  gasLimit: string
  baseFeePerGas: string
  size: number
  producer: string
  /** PoH chains (every block but genesis): where the block sits in slot time. */
  poh?: PohSlot
}

export interface BlockDetail extends BlockSummary {
  stateRoot: string
  txRoot: string
  receiptsRoot: string
  confirmations: number
  transactions: TxSummary[]
}

export type TxStatus = 'success' | 'reverted' | 'pending'

export interface TxSummary {
  hash: string
  blockHeight: number | null
  blockHash: string | null
  index: number | null
  from: string
  to: string | null
  contractAddress: string | null
  value: string
  nonce: number | string
  gasUsed: string | null
  effectiveGasPrice: string | null
  status: TxStatus
}

export interface DecodedEvent {
  event: string
  args: Record<string, unknown> | unknown[]
}

export interface TxLog {
  address: string
  topics: string[]
  data: string
  logIndex: number
  decoded?: DecodedEvent
}

export interface TxDetail extends TxSummary {
  input: string
  type: number | string
  maxFeePerGas: string | null
  maxPriorityFeePerGas: string | null
  gasLimit: string
  logs: TxLog[]
}

export interface Account {
  address: string
  balance: string
  nonce: number | string
  isContract: boolean
  codeSize: number
  codeHash: string
}

export interface ProducerShare {
  address: string
  blocks: number
  share: number
  power?: string
  powerShare?: number
}

export interface Producers {
  kind: 'validators' | 'miners' | 'producer'
  window: number
  items: ProducerShare[]
  nakamotoCoefficient: number
}

export interface MempoolTx {
  hash: string
  from: string
  to: string | null
  nonce: number | string
  value: string
  maxFeePerGas: string | null
  maxPriorityFeePerGas: string | null
}

export interface MempoolInfo extends Page<MempoolTx> {
  pending: number
  queued: number
}

export interface PeerInfo {
  id: string
  addresses: string[]
  direction?: string
}

export interface Peers {
  items: PeerInfo[]
  banned: { id: string; until: number | string; reason: string }[]
}

export interface AnalyticsBlock {
  height: number
  hash: string
  timestamp: number
  txCount: number
  gasUsed: string
  gasLimit: string
  baseFeePerGas: string
  size: number
  producer: string
  blockTime: number | null
}

export interface Reorg {
  at: number
  forkHeight: number
  depth: number
  oldHead: string
  newHead: string
}

export interface AnalyticsSummary {
  window: number
  txPerSecond: number
  avgBlockTime: number | null
  avgGasUsed: number | string | null
  producers: ProducerShare[]
  nakamotoCoefficient: number
  reorgs: Reorg[]
  maxReorgDepth: number
  finalityLag: number
}

export interface Alert {
  id: string
  kind: 'concentration' | 'double-vote' | 'deep-reorg' | 'rejected-tx-burst' | 'peer-ban-burst' | string
  severity: 'warning' | 'critical'
  message: string
  at: number
  data?: unknown
}

/** A newHeads notification (Ethereum header JSON, hex quantities). */
export interface RpcHeader {
  hash: string
  parentHash: string
  number: string
  timestamp: string
  miner: string
  gasUsed: string
  gasLimit: string
  baseFeePerGas?: string
  size?: string
}

// ---- PoH chains (engine "poh") ----

export interface PohSlot {
  slot: number
  parentSlot: number
  /** Slots between the parent's and this block's that got no block. */
  skippedSlots: number
  /** Signed votes the block carries. */
  votes: number
}

/** GET /v1/blocks/{id}/poh */
export interface BlockPoh {
  slot: number
  parentSlot: number
  leader: string
  startHash: string
  endHash: string
  entries: { numHashes: number; hash: string; txHashes: string[] }[]
  votes: number
  evidence: number
}

/** processed: on this node's fork; confirmed: >2/3 of the stake voted for it; finalized: rooted. */
export type Commitment = 'processed' | 'confirmed' | 'finalized'

/** GET /v1/poh/status */
export interface PohStatus {
  slot: number
  leader: string | null
  headSlot: number
  confirmedSlot: number
  finalizedSlot: number
  rootSlot: number
  heights: Record<Commitment, number>
  hashrate: number
  clock: { hashesPerTick: number; ticksPerSlot: number; hashesPerSlot: number; slotsPerEpoch: number; minSlotMs: number | null }
  validator: string | null
  tower: { root: number | null; votes: { slot: number; confirmations: number }[] } | null
  votesIn: number
  votesSent: number
  votesRejected: number
  reorgs: number
  produced: number
  skippedOwn: number
}

/** GET /v1/poh/schedule */
export interface PohSchedule {
  epoch: number
  firstSlot: number
  lastSlot: number
  slotsPerLeader: number
  leaders: { firstSlot: number; leader: string }[]
  stakes: { address: string; stake: string }[]
}
