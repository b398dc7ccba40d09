/**
 * The in-memory chain spec: what one genesis file says about a chain (engine, limits,
 * monetary policy, fee market, allocations, fork schedule), with wei and gas amounts as
 * bigints. `paramsAt` folds the fork schedule into the parameters in force at a height.
 */

/** A local dev chain: one node seals on demand (automine) and/or every `intervalMs`. */
export interface DevEngineSpec {
  type: 'dev'
  /** Seal a block as soon as a transaction arrives. */
  automine: boolean
  /** Seal on this interval too; 0 = only automine / on demand. */
  intervalMs: number
  /**
   * The only producer whose blocks are valid (20 bytes): each block's seal is its signature
   * (consensus/dev-seal.ts), so followers and light clients can tell who made a block.
   * Omitted: blocks carry no seal and nothing about the producer is checked.
   */
  signer?: Uint8Array
}

export interface BftValidatorSpec {
  address: Uint8Array // 20
  power: bigint
  /** PoS: the genesis stake in wei (power is derived from it). */
  stake?: bigint
}

/**
 * Proof of Stake on the bft engine: validators bond stake in the staking contract
 * (src/contracts/staking.ts); the set and its voting power follow stake at epoch boundaries;
 * double votes are slashed and jailed; block rewards go to the proposer and the voters.
 */
export interface StakingSpec {
  /** The validator set is re-read from the staking contract after every block at a multiple of this. */
  epochLength: number
  /** Wei a validator must bond to be active. */
  minStake: bigint
  /** Blocks between unstake and withdraw. */
  unbondingBlocks: number
  /** Share of stake (and unbonding stake) burned per double vote, in basis points. */
  slashBasisPoints: number
  /** Blocks a slashed validator stays out. */
  jailBlocks: number
  /** The top validators by stake that validate. */
  maxValidators: number
  /** Share of the block reward to the proposer, in basis points; the rest goes to the voters. */
  proposerRewardBasisPoints: number
}

/** Tendermint timeouts; propose/prevote/precommit grow by deltaMs per round. */
export interface BftTimeoutsSpec {
  proposeMs: number
  prevoteMs: number
  precommitMs: number
  deltaMs: number
  /** Wait after a commit before the next height (sets the block rhythm). */
  commitMs: number
}

/** PoA BFT (Tendermint rounds): a fixed validator set with voting powers. */
export interface BftEngineSpec {
  type: 'bft'
  /** Non-empty, no address twice, every power positive. */
  validators: BftValidatorSpec[]
  /** Omitted = CometBFT's defaults. */
  timeouts?: BftTimeoutsSpec
  /** Present on Proof-of-Stake chains. */
  staking?: StakingSpec
}

/**
 * The consensus engine and its parameters, discriminated by `type`. Later engines
 * ('pow' | 'poh') join this union with their own member interface.
 */
/** How the PoW target follows the block times (src/consensus/pow/retarget.ts). */
export type RetargetSpec =
  /** Bitcoin: every `interval` blocks, scaled to the time they took, at most 4x either way. */
  | { kind: 'bitcoin'; interval: number }
  /** Bitcoin Cash's ASERT (aserti3-2d): every block, exponential in the schedule drift, anchored at genesis. */
  | { kind: 'asert'; halfLifeSeconds: number }

/** Nakamoto consensus: double SHA-256 proof of work, most cumulative work wins. */
export interface PowEngineSpec {
  type: 'pow'
  /** Compact target ("bits") of the first blocks. */
  initialBits: number
  /** The easiest target allowed, compact; defaults to initialBits. */
  powLimitBits: number
  retarget: RetargetSpec
  /** Blocks before a block's subsidy is credited to its miner (Bitcoin: 100). */
  coinbaseMaturity: number
  /** The deepest branch switch a node accepts; deeper ones are refused with a log line. */
  maxReorgDepth: number
  /**
   * Fork choice between branches of equal work. 'first-seen' (default, Bitcoin Core): the head
   * stays. 'random': a coin flip per tie, Eyal and Sirer's countermeasure to selfish mining
   * (a selfish pool then wins half the ties whatever its place in the network).
   */
  tieBreak?: TieBreak
}

export type TieBreak = 'first-seen' | 'random'

/**
 * Proof of History (the solana-like chain): a SHA-256 clock of ticks and slots, one block per
 * slot by the leader the schedule names (drawn per epoch by stake bonded in the staking
 * contract), votes with Tower lockouts, and stake-weighted fork choice (src/consensus/poh-engine).
 */
export interface PohEngineSpec {
  type: 'poh'
  /** The genesis validators and the wei each bonds in the staking contract (power = stake). */
  validators: BftValidatorSpec[]
  /** The staking contract's parameters (as on the PoS chain). */
  staking: StakingSpec
  /** Hashes between two ticks (calibrated per machine: `catena poh calibrate`). */
  hashesPerTick: number
  ticksPerSlot: number
  /** Slots of one leader schedule (at least 32, a multiple of 4). */
  slotsPerEpoch: number
  /**
   * Test clusters: no tick completes sooner than this many ms after the previous (Solana's
   * low-power tick mode), so slots keep their time with a small hashesPerTick and many
   * validators can share a few cores. Omitted: hash without pause (the time is the hashing).
   */
  minTickMs?: number
}

export type EngineSpec = DevEngineSpec | BftEngineSpec | PowEngineSpec | PohEngineSpec
export type EngineType = EngineSpec['type']

export interface BlockLimits {
  maxBlockBytes: number
  blockGasLimit: bigint
  maxTxBytes: number
}

export interface MonetaryPolicy {
  /** Reward of block 1 in wei; the genesis block pays nothing. */
  initialBlockReward: bigint
  /** Blocks between halvings; 0 = the reward never halves. */
  halvingInterval: number
  /** Bounds genesis allocations plus every block reward ever paid (burns do not refill it). */
  supplyCap: bigint
  /** Burn the EIP-1559 base fee (true) or pay it to the block producer (false). */
  baseFeeBurn: boolean
  /** Relay/inclusion floor for the effective gas price, in wei. */
  minGasPrice: bigint
}

export interface FeeMarket {
  /** Base fee of the genesis block (and of every block when `adjust` is false). */
  initialBaseFee: bigint
  /** false = the base fee stays at initialBaseFee (e.g. 0 for free-gas consortium chains). */
  adjust: boolean
  /** Gas target = gas limit / elasticityMultiplier (EIP-1559: 2). */
  elasticityMultiplier: bigint
  /** Largest per-block change is 1/changeDenominator of the base fee (EIP-1559: 8). */
  changeDenominator: bigint
}

export interface GenesisAccount {
  balance: bigint
  nonce: bigint
  code?: Uint8Array
  /** Slot -> value, both lowercase 0x-hex padded to 32 bytes. */
  storage?: Map<string, string>
}

/** Lowercase 0x address -> account. */
export type GenesisAlloc = Map<string, GenesisAccount>

export interface GenesisSpec {
  /** Seconds since the Unix epoch; fixed so the genesis hash is stable. */
  timestamp: bigint
  extraData: Uint8Array
  alloc: GenesisAlloc
}

/** Parameters that make sense to change at a height (a hard fork). */
export interface ForkChanges {
  maxBlockBytes?: number
  blockGasLimit?: bigint
  maxTxBytes?: number
  /** A new chain id gives replay protection across a contentious fork. */
  chainId?: bigint
  minGasPrice?: bigint
  baseFeeBurn?: boolean
}

export interface ForkSpec {
  name: string
  /** First block with the changes in force. */
  height: bigint
  changes: ForkChanges
}

/**
 * Permissions of a consortium chain. They seed the governance contract at genesis
 * (src/contracts/permissions.ts); after that the contract's state is what counts, and admins
 * change it by majority vote.
 */
export interface PermissionsSpec {
  admins: Uint8Array[]
  /** Accounts that may send transactions (admins always may); null = anyone. */
  accounts: Uint8Array[] | null
  /** libp2p peer ids that may connect; null = anyone. */
  nodes: string[] | null
}

/**
 * How the chain runs its blocks' txs. A consensus rule, not a node setting: under parallel
 * execution a tx that touches state it did not declare fails, so every node of a chain must
 * run its blocks the same way (a block built one way does not replay the other way).
 */
export interface ExecutionSpec {
  /**
   * Sealevel-style: txs declare what they touch (sender, recipient, EIP-2930 access list),
   * run in batches of non-conflicting txs on worker threads, and a tx that touches anything
   * undeclared is included as failed with all its gas charged (src/execution/parallel).
   */
  parallel: boolean
}

export interface ChainSpec {
  name: string
  chainId: bigint
  engine: EngineSpec
  /** Target block time. */
  blockTimeMs: number
  limits: BlockLimits
  monetary: MonetaryPolicy
  feeMarket: FeeMarket
  genesis: GenesisSpec
  /** Ordered by strictly increasing height. */
  forks: ForkSpec[]
  /** Present on permissioned chains. */
  permissions?: PermissionsSpec
  /** Absent: txs run in block order (as `{ parallel: false }`). */
  execution?: ExecutionSpec
}

/** The parameters in force at one height, after every fork at or below it. */
export interface ChainParams {
  chainId: bigint
  limits: BlockLimits
  monetary: MonetaryPolicy
  feeMarket: FeeMarket
  /** Names of the forks applied, in schedule order. */
  activeForks: string[]
}

export type ChainSpecErrorCode = 'INVALID_CHAIN_SPEC' | 'CHAIN_SPEC_NOT_FOUND'

/** A chain spec that cannot be found, read, parsed or accepted; `issues` lists every problem. */
export class ChainSpecError extends Error {
  override readonly name = 'ChainSpecError'
  constructor(
    readonly code: ChainSpecErrorCode,
    /** The preset name or file path the spec came from. */
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`chain spec ${source}: ${issues.join('; ')}`)
  }
}

/** A height, amount or parameter outside what the chain rules accept (a caller bug). */
export class ChainArgumentError extends RangeError {
  override readonly name = 'ChainArgumentError'
  readonly code = 'INVALID_ARGUMENT'
}

/** Heights are bigints in headers; plain numbers are accepted for convenience. */
export type Height = bigint | number

export function toHeight(height: Height, what = 'height'): bigint {
  if (typeof height === 'number' && !Number.isSafeInteger(height)) {
    throw new ChainArgumentError(`${what} must be an integer (got ${height})`)
  }
  const h = BigInt(height)
  if (h < 0n) throw new ChainArgumentError(`${what} must not be negative (got ${h})`)
  return h
}

export function paramsAt(spec: ChainSpec, height: Height): ChainParams {
  const h = toHeight(height)
  let chainId = spec.chainId
  const limits = { ...spec.limits }
  const monetary = { ...spec.monetary }
  const activeForks: string[] = []
  for (const fork of spec.forks) {
    if (fork.height > h) continue
    const c = fork.changes
    if (c.chainId !== undefined) chainId = c.chainId
    if (c.maxBlockBytes !== undefined) limits.maxBlockBytes = c.maxBlockBytes
    if (c.blockGasLimit !== undefined) limits.blockGasLimit = c.blockGasLimit
    if (c.maxTxBytes !== undefined) limits.maxTxBytes = c.maxTxBytes
    if (c.minGasPrice !== undefined) monetary.minGasPrice = c.minGasPrice
    if (c.baseFeeBurn !== undefined) monetary.baseFeeBurn = c.baseFeeBurn
    activeForks.push(fork.name)
  }
  return { chainId, limits, monetary, feeMarket: { ...spec.feeMarket }, activeForks }
}

/** The largest block byte limit the chain ever allows (genesis or any fork): for message size limits. */
export function maxBlockBytesEver(spec: ChainSpec): number {
  return Math.max(spec.limits.maxBlockBytes, ...spec.forks.map((f) => f.changes.maxBlockBytes ?? 0))
}
