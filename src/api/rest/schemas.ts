/**
 * JSON schemas of the REST API: request params and query strings (Fastify validates them and
 * answers 400 on bad input) and responses (Fastify serializes with them and @fastify/swagger
 * publishes them in /openapi.json). Response schemas list every field: the serializer drops
 * fields a schema does not declare.
 * @module
 */
import { DEFAULT_LIMIT, MAX_LIMIT } from './cursor.ts'

const HASH = '^0x[0-9a-fA-F]{64}$'
const ADDRESS = '^0x[0-9a-fA-F]{40}$'

const str = (description?: string) => ({ type: 'string', ...(description ? { description } : {}) }) as const
const int = (description?: string) => ({ type: 'integer', ...(description ? { description } : {}) }) as const
const num = (description?: string) => ({ type: 'number', ...(description ? { description } : {}) }) as const
const dec = (description: string) => ({ type: 'string', pattern: '^[0-9]+$', description }) as const
const hash = (description?: string) => ({ type: 'string', pattern: HASH, ...(description ? { description } : {}) }) as const
const address = (description?: string) => ({ type: 'string', pattern: ADDRESS, ...(description ? { description } : {}) }) as const
const nullable = <T extends { type: string }>(s: T) => ({ ...s, type: [s.type, 'null'] }) as const

function object(properties: Record<string, unknown>, optional: string[] = []) {
  return { type: 'object', required: Object.keys(properties).filter((k) => !optional.includes(k)), properties } as const
}

export const errorSchema = object({
  error: object({
    code: { type: 'string', enum: ['BAD_REQUEST', 'NOT_FOUND', 'RATE_LIMITED', 'UNAUTHORIZED', 'FORBIDDEN', 'UNAVAILABLE', 'INTERNAL'] },
    message: str('what went wrong, for people'),
  }),
})

export function listOf(item: unknown, extra: Record<string, unknown> = {}) {
  return object({
    ...extra,
    items: { type: 'array', items: item },
    nextCursor: { type: ['string', 'null'], description: 'pass as ?cursor= for the next page; null on the last page' },
  })
}

/** 200 with `ok`, plus the error shape for every 4xx and 5xx. */
export function responses(ok: unknown, okStatus = 200) {
  return { [okStatus]: ok, '4xx': errorSchema, '5xx': errorSchema }
}

// ---- requests ----

export const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `page size (1-${MAX_LIMIT})` },
    cursor: { type: 'string', minLength: 1, maxLength: 256, description: 'nextCursor of the previous page' },
  },
} as const

export const blockIdParams = object({
  id: { type: 'string', pattern: `^(0|[1-9][0-9]{0,15}|0x[0-9a-fA-F]{64})$`, description: 'a height (decimal) or a block hash (0x + 64 hex)' },
})
export const txHashParams = object({ hash: hash('transaction hash') })
export const addressParams = object({ address: address('account address (any case; mixed case must be a valid EIP-55 checksum)') })
export const peerIdParams = object({ id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9]+$', description: 'libp2p peer id' } })

export const windowQuery = (name: string, def: number, max: number) =>
  ({
    type: 'object',
    additionalProperties: false,
    properties: { [name]: { type: 'integer', minimum: 1, maximum: max, default: def, description: `blocks to cover (1-${max})` } },
  }) as const

// ---- responses ----

export const pohSlotSchema = {
  ...object({
    slot: int(),
    parentSlot: int('slot of the parent block'),
    skippedSlots: int('slots between the parent and this block that got no block'),
    votes: int('signed validator votes the block carries'),
  }),
  description: 'PoH chains, every block but genesis: where the block sits in slot time',
}

export const blockSummarySchema = object({
  height: int(),
  hash: hash(),
  parentHash: hash(),
  timestamp: int('unix seconds'),
  txCount: int(),
  gasUsed: dec('gas'),
  gasLimit: dec('gas'),
  baseFeePerGas: dec('wei'),
  size: int('bytes on the wire (header + body)'),
  producer: address('miner, proposer, PoH leader or dev producer (EIP-55)'),
  poh: pohSlotSchema,
}, ['poh'])

const txSummaryProperties = {
  hash: hash(),
  blockHeight: nullable(int()),
  blockHash: nullable(hash()),
  timestamp: nullable(int('unix seconds of the block')),
  index: nullable(int('position in the block')),
  from: address(),
  to: nullable(address('null for a contract creation')),
  contractAddress: nullable(address('the created contract, for creations')),
  value: dec('wei'),
  nonce: int(),
  gasUsed: nullable(dec('gas')),
  effectiveGasPrice: nullable(dec('wei per gas')),
  status: { type: 'string', enum: ['success', 'reverted', 'pending'] },
}
export const txSummarySchema = object(txSummaryProperties)

export const logSchema = object(
  {
    address: address(),
    topics: { type: 'array', items: hash() },
    data: { type: 'string', pattern: '^0x([0-9a-fA-F]{2})*$' },
    logIndex: int('index within the block'),
    decoded: object({ event: str(), args: { type: 'object', additionalProperties: true } }),
  },
  ['decoded'],
)

export const txDetailSchema = object({
  ...txSummaryProperties,
  input: { type: 'string', pattern: '^0x([0-9a-fA-F]{2})*$' },
  type: int('0 legacy, 1 EIP-2930, 2 EIP-1559'),
  gasLimit: dec('gas'),
  gasPrice: nullable(dec('legacy and EIP-2930 txs: wei per gas')),
  maxFeePerGas: nullable(dec('EIP-1559 txs: wei per gas')),
  maxPriorityFeePerGas: nullable(dec('EIP-1559 txs: wei per gas')),
  confirmations: nullable(int()),
  poolStatus: { type: ['string', 'null'], enum: ['pending', 'queued', null], description: 'mempool txs: executable now, or behind a nonce gap; null once mined' },
  logs: { type: 'array', items: logSchema },
})

export const blockDetailSchema = object({
  ...blockSummarySchema.properties,
  stateRoot: hash(),
  txRoot: hash(),
  receiptsRoot: hash(),
  extraData: { type: 'string', pattern: '^0x([0-9a-fA-F]{2})*$' },
  confirmations: int('blocks on top of this one, plus one'),
  finalized: { type: 'boolean' },
  transactions: { type: 'array', items: txSummarySchema },
}, ['poh'])

const headRef = object({ height: int(), hash: hash(), timestamp: int('unix seconds') })
export const chainSchema = object({
  name: str(),
  chainId: int(),
  engine: { type: 'string', description: 'dev, bft, pow or poh' },
  consensus: { type: 'string', description: 'dev, poa, pos, pow or poh' },
  blockTime: num('target seconds between blocks'),
  genesisHash: hash(),
  head: headRef,
  finalized: object({ height: int(), hash: hash() }),
  clientVersion: str(),
  peerCount: int(),
  pendingTxs: int(),
})

export const accountSchema = object({
  address: address(),
  balance: dec('wei'),
  nonce: int(),
  isContract: { type: 'boolean' },
  codeSize: int('bytes'),
  codeHash: hash(),
})

export const producerItemSchema = object(
  {
    address: address(),
    blocks: int('blocks produced in the window'),
    share: num('share of the blocks in the window (0..1)'),
    power: dec('validators: voting power (stake on PoS chains)'),
    powerShare: num('validators: share of the voting power (0..1)'),
    hashrate: dec('miners: estimated hashes per second over the window'),
  },
  ['power', 'powerShare', 'hashrate'],
)

export const producersSchema = object({
  kind: { type: 'string', enum: ['validators', 'miners', 'producer'] },
  window: int('blocks covered'),
  items: { type: 'array', items: producerItemSchema },
  nakamotoCoefficient: int('fewest producers that together hold more than half (power for validators, blocks otherwise)'),
})

export const mempoolSchema = object({
  pending: int('executable txs'),
  queued: int('txs behind a nonce gap'),
  items: {
    type: 'array',
    items: object({
      hash: hash(),
      from: address(),
      to: nullable(address()),
      nonce: int(),
      value: dec('wei'),
      maxFeePerGas: dec('wei per gas (gas price for legacy txs)'),
      maxPriorityFeePerGas: dec('wei per gas (gas price for legacy txs)'),
      gasLimit: dec('gas'),
      status: { type: 'string', enum: ['pending', 'queued'] },
      addedAt: int('unix ms'),
    }),
  },
  nextCursor: { type: ['string', 'null'] },
})

export const peersSchema = object({
  items: {
    type: 'array',
    items: object(
      {
        id: str('libp2p peer id'),
        addresses: { type: 'array', items: str() },
        direction: { type: 'string', enum: ['inbound', 'outbound'] },
        height: int('head height the peer reported'),
        headHash: hash(),
        connectedAt: int('unix ms'),
        penalty: num('penalty points (banned at the threshold)'),
      },
      ['direction'],
    ),
  },
  banned: { type: 'array', items: object({ id: str(), until: int('unix ms'), reason: str() }) },
})

export const analyticsBlocksSchema = object({
  items: {
    type: 'array',
    items: object({ ...blockSummarySchema.properties, blockTime: nullable(num('seconds since the parent; null at genesis')) }, ['poh']),
  },
})

export const reorgSchema = object({ at: int('unix ms'), forkHeight: int(), depth: int('blocks that left the chain'), oldHead: hash(), newHead: hash() })

export const summarySchema = object({
  window: int('blocks covered'),
  txPerSecond: num(),
  avgBlockTime: nullable(num('seconds')),
  avgGasUsed: dec('gas per block'),
  producers: { type: 'array', items: producerItemSchema },
  nakamotoCoefficient: int(),
  reorgs: { type: 'array', items: reorgSchema },
  maxReorgDepth: int('deepest reorg seen since the node started'),
  reorgDepthLimit: nullable(int('deepest reorg the node accepts (PoW), null where finality forbids reorgs')),
  safeReorgDepth: int('reorgs deeper than this raise a critical alert'),
  finalityLag: int('head height minus finalized height'),
})

export const alertsSchema = object({
  items: {
    type: 'array',
    items: object({
      id: str('stable while the condition lasts'),
      kind: { type: 'string', enum: ['concentration', 'double-vote', 'deep-reorg', 'rejected-tx-burst', 'peer-ban-burst'] },
      severity: { type: 'string', enum: ['warning', 'critical'] },
      message: str(),
      at: int('unix ms: when it happened, or since when it holds'),
      data: { type: 'object', additionalProperties: true },
    }),
  },
})

export const banBodySchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    reason: { type: 'string', maxLength: 200 },
    durationMs: { type: 'integer', minimum: 1000, maximum: 365 * 24 * 3600 * 1000 },
  },
} as const

export const banResultSchema = object(
  { id: str(), banned: { type: 'boolean' }, until: nullable(int('unix ms')), reason: nullable(str()), wasBanned: { type: 'boolean', description: 'unban: whether a ban was in force' } },
  ['wasBanned'],
)
export const addPeerBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['addr'],
  properties: {
    addr: { type: 'string', minLength: 1, maxLength: 512, pattern: '^/', description: 'a libp2p multiaddr, e.g. /ip4/127.0.0.1/tcp/30303/p2p/<peer id>' },
  },
} as const
export const addPeerResultSchema = object({ id: str(), connected: { type: 'boolean' } })
export const shutdownSchema = object({ stopping: { type: 'boolean' }, message: str() })

export const permissionsTxBody = {
  type: 'object',
  additionalProperties: false,
  required: ['rawTransaction'],
  properties: {
    rawTransaction: { type: 'string', pattern: '^0x[0-9a-fA-F]+$', maxLength: 262144, description: 'a signed tx from an admin calling the Permissions contract (propose, vote or execute)' },
  },
}

export const permissionsTxResult = object({
  hash: str(),
  status: { type: 'string', enum: ['pending', 'queued'] },
  sender: str(),
  action: { type: 'string', enum: ['propose', 'vote', 'execute'] },
  args: { type: 'array', items: str() },
  message: str(),
})

// ---- PoH chains ----

export const epochQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { epoch: { type: 'integer', minimum: 0, maximum: 999_999_999_999_999, description: 'an epoch number (default: the head\'s); at most the next epoch' } },
} as const

export const blockPohSchema = object({
  slot: int(),
  parentSlot: int('slot of the parent block: its endHash is this block\'s startHash'),
  leader: address('the slot\'s leader, who signed the block (EIP-55)'),
  startHash: hash('the PoH hash the slot starts from (the parent\'s endHash; block 1: the genesis hash)'),
  endHash: hash('the hash after the last entry'),
  entries: {
    type: 'array',
    description: 'in order: h = sha256(h) numHashes times from startHash; an entry with txHashes replaces its last hash by sha256(h || root), root the RFC 6962 Merkle root of txHashes',
    items: object({
      numHashes: int('hashes since the previous entry (at least 1)'),
      hash: hash('the hash after them'),
      txHashes: { type: 'array', items: hash(), description: 'empty for a tick' },
    }),
  },
  votes: int('signed validator votes the block carries'),
  evidence: int('duplicate-block evidence the block carries (slashes a leader)'),
})

const towerSchema = {
  ...nullable(object({
    root: nullable(int('the validator\'s rooted slot; null before its first root')),
    votes: { type: 'array', items: object({ slot: int(), confirmations: int('votes stacked on it: lockout 2^confirmations slots') }) },
  })),
  description: 'this validator\'s vote tower; null on a node without a validator key',
}

export const pohStatusSchema = object({
  slot: int('the slot of this node\'s clock now (its head\'s slot when it runs no clock)'),
  leader: nullable(address('the leader of that slot')),
  headSlot: int('slot of the head block'),
  confirmedSlot: int('newest slot voted for by more than 2/3 of the stake'),
  finalizedSlot: int('newest rooted slot (maximum lockout)'),
  rootSlot: int('the fork tree\'s root on this node'),
  heights: object({
    processed: int('head height: the block this node runs on'),
    confirmed: int('the JSON-RPC "safe" tag: more than 2/3 of the stake voted for it or a descendant'),
    finalized: int('the JSON-RPC "finalized" tag: rooted, never reverted'),
  }),
  hashrate: num('PoH hashes per second of this node\'s clock (0 without a validator key)'),
  clock: object({
    hashesPerTick: int(),
    ticksPerSlot: int(),
    hashesPerSlot: int(),
    slotsPerEpoch: int(),
    minSlotMs: nullable(num('paced clusters: the shortest a slot may last; null when the hashing alone is the clock')),
  }),
  validator: nullable(address('this node\'s validator address; null on a follower')),
  tower: towerSchema,
  votesIn: int('votes from peers verified and counted'),
  votesSent: int('votes this validator signed and sent'),
  votesRejected: int('votes from peers refused (bad signature, no stake, lockout violation ...)'),
  reorgs: int('switches to a heavier fork by votes'),
  produced: int('blocks this validator produced as leader'),
  skippedOwn: int('this validator\'s leader slots that got no block'),
})

export const pohScheduleSchema = object({
  epoch: int(),
  firstSlot: int(),
  lastSlot: int(),
  slotsPerLeader: int('consecutive slots each leader holds'),
  leaders: { type: 'array', items: object({ firstSlot: int(), leader: address() }) },
  stakes: { type: 'array', items: object({ address: address(), stake: dec('wei staked at the epoch boundary') }), description: 'the stake the schedule was drawn by' },
})
