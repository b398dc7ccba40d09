/**
 * The Proof-of-Stake staking system contract (contracts/Staking.sol): calldata encoders,
 * return-data and log decoders, revert reasons in plain words, and the voting powers the BFT
 * engine derives from a stake snapshot. The contract lives at a fixed address from genesis;
 * the node reads the active validators with one `snapshot()` call and applies evidence of
 * double voting with `slash` from SYSTEM_ADDRESS.
 *
 * The ABI is written out here (not read from the artifact) so viem types every call and
 * decode; a unit test checks it against the compiled contract's ABI.
 */
import {
  bytesToHex,
  decodeErrorResult,
  decodeEventLog,
  decodeFunctionResult,
  encodeDeployData,
  encodeFunctionData,
  hexToBytes,
  isAddress,
  parseAbi,
  type Address,
  type Hex,
} from 'viem'
import { STANDARD_ERRORS_ABI, panicReason } from './revert.ts'
import { loadArtifact } from './artifacts.ts'

export const STAKING_ADDRESS = '0x0000000000000000000000000000000000001001' as const
/** The caller of the node's system calls (`slash`), as in EIP-4788 / EIP-2935. */
export const SYSTEM_ADDRESS = '0xfffffffffffffffffffffffffffffffffffffffe' as const

export const STAKING_ABI = parseAbi([
  'constructor(address[] validators_, uint256[] stakes_, uint256 minStake, uint256 unbondingBlocks, uint256 slashBasisPoints, uint256 jailBlocks, uint256 maxValidators)',
  'function stake() payable',
  'function unstake(uint256 amount)',
  'function withdraw() returns (uint256 amount)',
  'function unjail()',
  'function slash(address validator, uint256 height, uint256 round)',
  'function snapshot() view returns (address[] validators_, uint256[] stakes_)',
  'function stakeOf(address validator) view returns (uint256)',
  'function unbondingOf(address validator) view returns (uint256[] amounts, uint256[] releaseHeights)',
  'function jailedUntil(address validator) view returns (uint256)',
  'function isJailed(address validator) view returns (bool)',
  'function isSlashed(address validator, uint256 height, uint256 round) view returns (bool)',
  'function params() view returns (uint256 minStake, uint256 unbondingBlocks, uint256 slashBasisPoints, uint256 jailBlocks, uint256 maxValidators)',
  'function totalStaked() view returns (uint256)',
  'function totalUnbonding() view returns (uint256)',
  'function totalBurned() view returns (uint256)',
  'function SYSTEM_ADDRESS() view returns (address)',
  'event Staked(address indexed validator, uint256 amount, uint256 total)',
  'event Unstaked(address indexed validator, uint256 amount, uint256 releaseHeight)',
  'event Withdrawn(address indexed validator, uint256 amount)',
  'event Slashed(address indexed validator, uint256 height, uint256 round, uint256 burned)',
  'event Jailed(address indexed validator, uint256 until)',
  'event Unjailed(address indexed validator)',
  'error CallerNotSystem(address caller)',
  'error ZeroAddress()',
  'error LengthMismatch(uint256 validators, uint256 stakes)',
  'error DuplicateValidator(address validator)',
  'error InvalidParameter(string name, uint256 value)',
  'error StakeBelowMinimum(address validator, uint256 stake, uint256 minStake)',
  'error ZeroAmount()',
  'error InsufficientStake(address validator, uint256 stake, uint256 amount)',
  'error DustStake(address validator, uint256 remaining, uint256 minStake)',
  'error TooManyUnbondingEntries(address validator, uint256 max)',
  'error WithdrawFailed(address validator, uint256 amount)',
  'error UnknownValidator(address validator)',
  'error AlreadySlashed(address validator, uint256 height, uint256 round)',
  'error AlreadyJailed(address validator, uint256 until)',
  'error NotJailed(address validator)',
  'error StillJailed(address validator, uint256 until)',
])

export interface StakingParams {
  /** Wei a validator needs to be active; > 0. */
  minStake: bigint
  /** Blocks from `unstake` until the amount can be withdrawn; at most 2^32 - 1. */
  unbondingBlocks: bigint
  /** Share of stake and unbonding burned per offense, in 1/10000 (1000 = 10%); at most 10000. */
  slashBasisPoints: bigint
  /** Blocks a slashed validator stays out before it may `unjail`; at most 2^32 - 1. */
  jailBlocks: bigint
  /** How many validators the node takes, top by stake; > 0. */
  maxValidators: bigint
}

export interface ValidatorStake {
  /** 20-byte address. */
  address: Uint8Array
  /** Wei. */
  stake: bigint
}

export interface StakingInit {
  /** Genesis validators; the node funds STAKING_ADDRESS with the sum of their stakes. */
  validators: ValidatorStake[]
  params: StakingParams
}

export interface StakeSnapshot {
  /** Active validators (stake >= minStake, not jailed), in the contract's candidate order. */
  validators: ValidatorStake[]
}

export interface UnbondingEntry {
  amount: bigint
  releaseHeight: bigint
}

export interface VotingPower {
  address: Uint8Array
  power: bigint
}

export type StakingLog =
  | { event: 'Staked'; validator: Uint8Array; amount: bigint; total: bigint }
  | { event: 'Unstaked'; validator: Uint8Array; amount: bigint; releaseHeight: bigint }
  | { event: 'Withdrawn'; validator: Uint8Array; amount: bigint }
  | { event: 'Slashed'; validator: Uint8Array; height: bigint; round: bigint; burned: bigint }
  | { event: 'Jailed'; validator: Uint8Array; until: bigint }
  | { event: 'Unjailed'; validator: Uint8Array }

export type StakingCodecErrorCode = 'INVALID_INPUT' | 'INVALID_RETURN_DATA'

export class StakingCodecError extends Error {
  override readonly name = 'StakingCodecError'
  constructor(
    readonly code: StakingCodecErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const MAX_UINT256 = (1n << 256n) - 1n
const ETHER = 10n ** 18n

function addressHex(value: Uint8Array | string, what: string): Address {
  if (typeof value === 'string') {
    if (!isAddress(value, { strict: false })) throw new StakingCodecError('INVALID_INPUT', `${what} is not an address: ${value}`)
    return value.toLowerCase() as Address
  }
  if (!(value instanceof Uint8Array) || value.length !== 20) {
    throw new StakingCodecError('INVALID_INPUT', `${what} must be 20 bytes`)
  }
  return bytesToHex(value)
}

function uint256(value: bigint | number, what: string): bigint {
  const v = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value
  if (typeof v !== 'bigint' || v < 0n || v > MAX_UINT256) {
    throw new StakingCodecError('INVALID_INPUT', `${what} must be a uint256 (got ${String(value)})`)
  }
  return v
}

/** Runs a viem decode, turning its errors into StakingCodecError. */
function decoding<T>(what: string, decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    throw new StakingCodecError('INVALID_RETURN_DATA', `cannot decode ${what}: ${(err as Error).message.split('\n')[0]}`)
  }
}

const call = (data: Hex): Uint8Array => hexToBytes(data)

/**
 * Creation code followed by the ABI-encoded constructor arguments. Checks only shapes here;
 * the constructor itself rejects duplicates, zero addresses, stakes below the minimum and
 * out-of-range parameters.
 */
export function stakingInitCode(init: StakingInit): Uint8Array {
  const p = init.params
  return call(
    encodeDeployData({
      abi: STAKING_ABI,
      bytecode: loadArtifact('Staking').bytecode,
      args: [
        init.validators.map((v, i) => addressHex(v.address, `validators[${i}].address`)),
        init.validators.map((v, i) => uint256(v.stake, `validators[${i}].stake`)),
        uint256(p.minStake, 'params.minStake'),
        uint256(p.unbondingBlocks, 'params.unbondingBlocks'),
        uint256(p.slashBasisPoints, 'params.slashBasisPoints'),
        uint256(p.jailBlocks, 'params.jailBlocks'),
        uint256(p.maxValidators, 'params.maxValidators'),
      ],
    }),
  )
}

/** The code stored at STAKING_ADDRESS after deployment. */
export function stakingRuntimeCode(): Uint8Array {
  return hexToBytes(loadArtifact('Staking').deployedBytecode)
}

/** Calldata of `snapshot()`. */
export const STAKE_SNAPSHOT_CALLDATA: Uint8Array = call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'snapshot' }))
/** Calldata of `params()`. */
export const STAKING_PARAMS_CALLDATA: Uint8Array = call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'params' }))
/** Calldata of `totalStaked()`, `totalUnbonding()` and `totalBurned()`; decode with decodeUint. */
export const TOTAL_STAKED_CALLDATA: Uint8Array = call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'totalStaked' }))
export const TOTAL_UNBONDING_CALLDATA: Uint8Array = call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'totalUnbonding' }))
export const TOTAL_BURNED_CALLDATA: Uint8Array = call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'totalBurned' }))

export function decodeStakeSnapshot(returnData: Uint8Array): StakeSnapshot {
  const [validators, stakes] = decoding('snapshot()', () =>
    decodeFunctionResult({ abi: STAKING_ABI, functionName: 'snapshot', data: bytesToHex(returnData) }),
  )
  if (validators.length !== stakes.length) {
    throw new StakingCodecError('INVALID_RETURN_DATA', `snapshot() returned ${validators.length} validators but ${stakes.length} stakes`)
  }
  return { validators: validators.map((a, i) => ({ address: hexToBytes(a), stake: stakes[i]! })) }
}

export function decodeStakingParams(returnData: Uint8Array): StakingParams {
  const [minStake, unbondingBlocks, slashBasisPoints, jailBlocks, maxValidators] = decoding('params()', () =>
    decodeFunctionResult({ abi: STAKING_ABI, functionName: 'params', data: bytesToHex(returnData) }),
  )
  return { minStake, unbondingBlocks, slashBasisPoints, jailBlocks, maxValidators }
}

/** `stake()`; the amount is the call's value. */
export function encodeStake(): Uint8Array {
  return call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'stake' }))
}

export function encodeUnstake(amount: bigint): Uint8Array {
  return call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'unstake', args: [uint256(amount, 'amount')] }))
}

/** `withdraw()`; its return data (the amount paid) decodes with decodeUint. */
export function encodeWithdraw(): Uint8Array {
  return call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'withdraw' }))
}

export function encodeUnjail(): Uint8Array {
  return call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'unjail' }))
}

/** The system call that applies one double-vote offense; only SYSTEM_ADDRESS may send it. */
export function encodeSlash(validator: Uint8Array | Address, height: bigint, round: number | bigint): Uint8Array {
  return call(
    encodeFunctionData({
      abi: STAKING_ABI,
      functionName: 'slash',
      args: [addressHex(validator, 'validator'), uint256(height, 'height'), uint256(round, 'round')],
    }),
  )
}

export function encodeIsSlashed(validator: Uint8Array | Address, height: bigint, round: number | bigint): Uint8Array {
  return call(
    encodeFunctionData({
      abi: STAKING_ABI,
      functionName: 'isSlashed',
      args: [addressHex(validator, 'validator'), uint256(height, 'height'), uint256(round, 'round')],
    }),
  )
}

export function encodeStakeOf(validator: Uint8Array | Address): Uint8Array {
  return call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'stakeOf', args: [addressHex(validator, 'validator')] }))
}

/** `jailedUntil(validator)`: the height from which it may unjail, 0 when not jailed. */
export function encodeJailedUntil(validator: Uint8Array | Address): Uint8Array {
  return call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'jailedUntil', args: [addressHex(validator, 'validator')] }))
}

export function encodeIsJailed(validator: Uint8Array | Address): Uint8Array {
  return call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'isJailed', args: [addressHex(validator, 'validator')] }))
}

export function encodeUnbondingOf(validator: Uint8Array | Address): Uint8Array {
  return call(encodeFunctionData({ abi: STAKING_ABI, functionName: 'unbondingOf', args: [addressHex(validator, 'validator')] }))
}

/** Return data of a function that returns one uint256 (stakeOf, jailedUntil, totals, withdraw). */
export function decodeUint(returnData: Uint8Array): bigint {
  if (returnData.length !== 32) {
    throw new StakingCodecError('INVALID_RETURN_DATA', `cannot decode a uint256 from ${returnData.length} bytes`)
  }
  return BigInt(bytesToHex(returnData))
}

/** Return data of a function that returns one bool (isSlashed, isJailed). */
export function decodeBool(returnData: Uint8Array): boolean {
  const v = returnData.length === 32 ? BigInt(bytesToHex(returnData)) : -1n
  if (v !== 0n && v !== 1n) throw new StakingCodecError('INVALID_RETURN_DATA', 'cannot decode a bool: not a 32-byte 0 or 1')
  return v === 1n
}

export function decodeUnbonding(returnData: Uint8Array): UnbondingEntry[] {
  const [amounts, releaseHeights] = decoding('unbondingOf()', () =>
    decodeFunctionResult({ abi: STAKING_ABI, functionName: 'unbondingOf', data: bytesToHex(returnData) }),
  )
  if (amounts.length !== releaseHeights.length) {
    throw new StakingCodecError('INVALID_RETURN_DATA', `unbondingOf() returned ${amounts.length} amounts but ${releaseHeights.length} heights`)
  }
  return amounts.map((amount, i) => ({ amount, releaseHeight: releaseHeights[i]! }))
}

/**
 * Decodes one of the contract's logs; undefined for any other log. The caller checks that the
 * log came from STAKING_ADDRESS.
 */
export function decodeStakingLog(topics: Uint8Array[], data: Uint8Array): StakingLog | undefined {
  if (topics.length === 0) return undefined
  const hexTopics = topics.map((t) => bytesToHex(t)) as [Hex, ...Hex[]]
  let log
  try {
    log = decodeEventLog({ abi: STAKING_ABI, topics: hexTopics, data: bytesToHex(data), strict: true })
  } catch {
    return undefined
  }
  const validator = hexToBytes(log.args.validator)
  switch (log.eventName) {
    case 'Staked':
      return { event: 'Staked', validator, amount: log.args.amount, total: log.args.total }
    case 'Unstaked':
      return { event: 'Unstaked', validator, amount: log.args.amount, releaseHeight: log.args.releaseHeight }
    case 'Withdrawn':
      return { event: 'Withdrawn', validator, amount: log.args.amount }
    case 'Slashed':
      return { event: 'Slashed', validator, height: log.args.height, round: log.args.round, burned: log.args.burned }
    case 'Jailed':
      return { event: 'Jailed', validator, until: log.args.until }
    case 'Unjailed':
      return { event: 'Unjailed', validator }
  }
}

/** Solidity's own reverts, which viem decodes but does not type from STAKING_ABI. */
const REVERT_ABI = [...STAKING_ABI, ...STANDARD_ERRORS_ABI]

const PARAMETER_RULES: Record<string, string> = {
  minStake: 'it must be above 0',
  unbondingBlocks: 'it must be at most 4294967295',
  slashBasisPoints: 'it must be at most 10000 (100%)',
  jailBlocks: 'it must be at most 4294967295',
  maxValidators: 'it must be above 0',
}

/**
 * The reason in a revert's return data, in plain words: the contract's custom errors,
 * `Error(string)` and `Panic(uint256)`. Undefined for empty or unrecognised data.
 */
export function stakingRevertReason(returnData: Uint8Array): string | undefined {
  if (returnData.length < 4) return undefined
  let decoded
  try {
    decoded = decodeErrorResult({ abi: REVERT_ABI, data: bytesToHex(returnData) })
  } catch {
    return undefined
  }
  switch (decoded.errorName) {
    case 'Error':
      return decoded.args[0]
    case 'Panic':
      return panicReason(decoded.args[0])
    case 'CallerNotSystem':
      return `caller ${decoded.args[0]} is not the system address: only the node may slash`
    case 'ZeroAddress':
      return 'the zero address cannot be a validator'
    case 'LengthMismatch':
      return `${decoded.args[0]} validators but ${decoded.args[1]} stakes`
    case 'DuplicateValidator':
      return `validator ${decoded.args[0]} is listed twice`
    case 'InvalidParameter': {
      const [name, value] = decoded.args
      return `invalid ${name} ${value}: ${PARAMETER_RULES[name] ?? 'out of range'}`
    }
    case 'StakeBelowMinimum': {
      const [v, stake, min] = decoded.args
      return `validator ${v} has stake ${stake} wei, below the minimum of ${min} wei`
    }
    case 'ZeroAmount':
      return 'the amount must be above 0'
    case 'InsufficientStake': {
      const [v, stake, amount] = decoded.args
      return `cannot unstake ${amount} wei: ${v} has only ${stake} wei staked`
    }
    case 'DustStake': {
      const [v, remaining, min] = decoded.args
      return `unstaking would leave ${v} with ${remaining} wei staked, below the minimum of ${min} wei: unstake all or leave at least the minimum`
    }
    case 'TooManyUnbondingEntries':
      return `${decoded.args[0]} already has ${decoded.args[1]} unbonding entries: withdraw released ones or wait`
    case 'WithdrawFailed':
      return `paying ${decoded.args[1]} wei to ${decoded.args[0]} failed: the recipient rejected the transfer`
    case 'UnknownValidator':
      return `${decoded.args[0]} has never staked`
    case 'AlreadySlashed': {
      const [v, height, round] = decoded.args
      return `validator ${v} was already slashed for its double vote at height ${height} round ${round}`
    }
    case 'AlreadyJailed':
      return `validator ${decoded.args[0]} is jailed until block ${decoded.args[1]}: it is not slashed again`
    case 'NotJailed':
      return `validator ${decoded.args[0]} is not jailed`
    case 'StillJailed':
      return `validator ${decoded.args[0]} is jailed until block ${decoded.args[1]}`
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!
  }
  return a.length - b.length
}

/**
 * Voting power from stake: whole `unit`s (default 1 ether), at least 1 for an active
 * validator; the top maxValidators by stake (ties by address), sorted by address.
 */
export function votingPowers(snapshot: StakeSnapshot, maxValidators: bigint, unit: bigint = ETHER): VotingPower[] {
  if (typeof maxValidators !== 'bigint' || maxValidators < 1n) {
    throw new StakingCodecError('INVALID_INPUT', `maxValidators must be at least 1 (got ${String(maxValidators)})`)
  }
  if (typeof unit !== 'bigint' || unit < 1n) throw new StakingCodecError('INVALID_INPUT', `unit must be at least 1 wei (got ${String(unit)})`)
  const seen = new Set<string>()
  for (const v of snapshot.validators) {
    const key = addressHex(v.address, 'snapshot validator')
    if (seen.has(key)) throw new StakingCodecError('INVALID_INPUT', `validator ${key} appears twice in the snapshot`)
    seen.add(key)
    if (v.stake <= 0n) throw new StakingCodecError('INVALID_INPUT', `validator ${key} has no stake`)
  }
  const ranked = [...snapshot.validators].sort((a, b) => (a.stake !== b.stake ? (a.stake > b.stake ? -1 : 1) : compareBytes(a.address, b.address)))
  const top = ranked.length > maxValidators ? ranked.slice(0, Number(maxValidators)) : ranked
  return top
    .map((v) => {
      const whole = v.stake / unit
      return { address: v.address, power: whole > 0n ? whole : 1n }
    })
    .sort((a, b) => compareBytes(a.address, b.address))
}
