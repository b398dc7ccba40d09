/**
 * The consortium permissions system contract (contracts/Permissions.sol): calldata encoders,
 * return-data and log decoders, and revert reasons in plain words. The contract lives at a
 * fixed address from genesis; the node reads its whole state with one `snapshot()` call.
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
  zeroAddress,
  type Address,
  type Hex,
} from 'viem'
import { STANDARD_ERRORS_ABI, panicReason } from './revert.ts'
import { loadArtifact } from './artifacts.ts'

export const PERMISSIONS_ADDRESS = '0x0000000000000000000000000000000000001000' as const

export const PERMISSIONS_ABI = parseAbi([
  'constructor(address[] admins_, address[] validators_, uint256[] powers_, bool accountsRestricted_, address[] accounts_, bool nodesRestricted_, string[] nodes_)',
  'function propose(uint8 kind, address account, uint256 power, string node) returns (uint256 id)',
  'function vote(uint256 id)',
  'function execute(uint256 id)',
  'function snapshot() view returns (uint256 version_, address[] admins_, address[] validators_, uint256[] powers_, bool accountsRestricted_, address[] accounts_, bool nodesRestricted_, string[] nodes_)',
  'function getProposal(uint256 id) view returns (uint8 kind, address account, uint256 power, string node, uint256 votes, bool executed, address proposer)',
  'function hasVoted(uint256 id, address admin) view returns (bool)',
  'function isAdmin(address account) view returns (bool)',
  'function isAllowedAccount(address account) view returns (bool)',
  'function isAllowedNode(string node) view returns (bool)',
  'function version() view returns (uint256)',
  'function proposalCount() view returns (uint256)',
  'event Proposed(uint256 indexed id, uint8 kind, address indexed proposer, address account, uint256 power, string node)',
  'event Voted(uint256 indexed id, address indexed voter, uint256 votes)',
  'event Executed(uint256 indexed id)',
  'error CallerNotAdmin(address caller)',
  'error UnknownKind(uint8 kind)',
  'error UnknownProposal(uint256 id)',
  'error ProposalAlreadyExecuted(uint256 id)',
  'error AlreadyVoted(uint256 id, address voter)',
  'error NoMajority(uint256 id, uint256 votes, uint256 admins)',
  'error UnusedField(uint8 kind)',
  'error NoAdmins()',
  'error ZeroAddress()',
  'error LengthMismatch(uint256 validators, uint256 powers)',
  'error ZeroPower(address validator)',
  'error AdminExists(address account)',
  'error AdminMissing(address account)',
  'error LastAdmin(address account)',
  'error ValidatorExists(address validator)',
  'error ValidatorMissing(address validator)',
  'error PowerUnchanged(address validator, uint256 power)',
  'error LastValidator(address validator)',
  'error AccountExists(address account)',
  'error AccountMissing(address account)',
  'error InvalidNode(string node)',
  'error NodeExists(string node)',
  'error NodeMissing(string node)',
  'error LastNode(string node)',
  'error EmptyNodeAllowlist()',
  'error RestrictionUnchanged(uint8 kind, bool restricted)',
])

export enum ProposalKind {
  AddAdmin = 0,
  RemoveAdmin = 1,
  SetValidator = 2,
  AllowAccount = 3,
  DisallowAccount = 4,
  AllowNode = 5,
  DisallowNode = 6,
  RestrictAccounts = 7,
  RestrictNodes = 8,
}

export interface Validator {
  /** 20-byte address. */
  address: Uint8Array
  power: bigint
}

export interface PermissionsInit {
  /** 20-byte addresses; at least one. */
  admins: Uint8Array[]
  /** May be empty for chains whose consensus is not BFT. */
  validators: Validator[]
  /** null: any account may send (not restricted). */
  accounts: Uint8Array[] | null
  /** libp2p peer ids; null: any node may connect. */
  nodes: string[] | null
}

export interface PermissionsSnapshot {
  /** Increments on every executed change. */
  version: bigint
  admins: Uint8Array[]
  /** Insertion order, except that a removal moves the last validator into the gap. */
  validators: Validator[]
  accountsRestricted: boolean
  accounts: Uint8Array[]
  nodesRestricted: boolean
  nodes: string[]
}

export interface ProposalInput {
  kind: ProposalKind
  /** AddAdmin, RemoveAdmin, SetValidator, AllowAccount, DisallowAccount. */
  account?: Uint8Array | Address
  /** SetValidator: the new power (0 removes). RestrictAccounts/RestrictNodes: non-zero = on. */
  power?: bigint
  /** AllowNode, DisallowNode. */
  node?: string
}

export interface Proposal {
  kind: ProposalKind
  account: Uint8Array
  power: bigint
  node: string
  /** Votes of current admins. */
  votes: bigint
  executed: boolean
  proposer: Uint8Array
}

export type PermissionsLog =
  | {
      event: 'Proposed'
      id: bigint
      kind: ProposalKind
      proposer: Uint8Array
      account: Uint8Array
      power: bigint
      node: string
    }
  | { event: 'Voted'; id: bigint; voter: Uint8Array; votes: bigint }
  | { event: 'Executed'; id: bigint }

export type PermissionsCodecErrorCode = 'INVALID_INPUT' | 'INVALID_RETURN_DATA'

export class PermissionsCodecError extends Error {
  override readonly name = 'PermissionsCodecError'
  constructor(
    readonly code: PermissionsCodecErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const MAX_UINT256 = (1n << 256n) - 1n

function addressHex(value: Uint8Array | string, what: string): Address {
  if (typeof value === 'string') {
    if (!isAddress(value, { strict: false })) throw new PermissionsCodecError('INVALID_INPUT', `${what} is not an address: ${value}`)
    return value.toLowerCase() as Address
  }
  if (!(value instanceof Uint8Array) || value.length !== 20) {
    throw new PermissionsCodecError('INVALID_INPUT', `${what} must be 20 bytes`)
  }
  return bytesToHex(value)
}

function uint256(value: bigint, what: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT256) {
    throw new PermissionsCodecError('INVALID_INPUT', `${what} must be a uint256 bigint`)
  }
  return value
}

function idArg(id: bigint): bigint {
  return uint256(id, 'proposal id')
}

/** Runs a viem decode, turning its errors into PermissionsCodecError. */
function decoding<T>(what: string, decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    throw new PermissionsCodecError('INVALID_RETURN_DATA', `cannot decode ${what}: ${(err as Error).message.split('\n')[0]}`)
  }
}

/**
 * Creation code followed by the ABI-encoded constructor arguments. Checks only shapes here;
 * the constructor itself rejects duplicates, zero addresses and zero powers.
 */
export function permissionsInitCode(init: PermissionsInit): Uint8Array {
  if (init.admins.length === 0) throw new PermissionsCodecError('INVALID_INPUT', 'permissions need at least one admin')
  const data = encodeDeployData({
    abi: PERMISSIONS_ABI,
    bytecode: loadArtifact('Permissions').bytecode,
    args: [
      init.admins.map((a, i) => addressHex(a, `admins[${i}]`)),
      init.validators.map((v, i) => addressHex(v.address, `validators[${i}].address`)),
      init.validators.map((v, i) => uint256(v.power, `validators[${i}].power`)),
      init.accounts !== null,
      (init.accounts ?? []).map((a, i) => addressHex(a, `accounts[${i}]`)),
      init.nodes !== null,
      init.nodes ?? [],
    ],
  })
  return hexToBytes(data)
}

/** The code stored at PERMISSIONS_ADDRESS after deployment. */
export function permissionsRuntimeCode(): Uint8Array {
  return hexToBytes(loadArtifact('Permissions').deployedBytecode)
}

/** Calldata of `snapshot()`. */
export const SNAPSHOT_CALLDATA: Uint8Array = hexToBytes(encodeFunctionData({ abi: PERMISSIONS_ABI, functionName: 'snapshot' }))

export function decodeSnapshot(returnData: Uint8Array): PermissionsSnapshot {
  const [version, admins, validators, powers, accountsRestricted, accounts, nodesRestricted, nodes] = decoding('snapshot()', () =>
    decodeFunctionResult({ abi: PERMISSIONS_ABI, functionName: 'snapshot', data: bytesToHex(returnData) }),
  )
  if (validators.length !== powers.length) {
    throw new PermissionsCodecError('INVALID_RETURN_DATA', `snapshot() returned ${validators.length} validators but ${powers.length} powers`)
  }
  return {
    version,
    admins: admins.map((a) => hexToBytes(a)),
    validators: validators.map((a, i) => ({ address: hexToBytes(a), power: powers[i]! })),
    accountsRestricted,
    accounts: accounts.map((a) => hexToBytes(a)),
    nodesRestricted,
    nodes: [...nodes],
  }
}

export function encodePropose(p: ProposalInput): Uint8Array {
  if (!Number.isInteger(p.kind) || p.kind < ProposalKind.AddAdmin || p.kind > ProposalKind.RestrictNodes) {
    throw new PermissionsCodecError('INVALID_INPUT', `unknown proposal kind ${p.kind}`)
  }
  const account = p.account === undefined ? zeroAddress : addressHex(p.account, 'account')
  const power = uint256(p.power ?? 0n, 'power')
  return hexToBytes(
    encodeFunctionData({ abi: PERMISSIONS_ABI, functionName: 'propose', args: [p.kind, account, power, p.node ?? ''] }),
  )
}

export function encodeVote(id: bigint): Uint8Array {
  return hexToBytes(encodeFunctionData({ abi: PERMISSIONS_ABI, functionName: 'vote', args: [idArg(id)] }))
}

/** Executes an open proposal that already has a majority (e.g. after the admin set shrank). */
export function encodeExecute(id: bigint): Uint8Array {
  return hexToBytes(encodeFunctionData({ abi: PERMISSIONS_ABI, functionName: 'execute', args: [idArg(id)] }))
}

export function encodeGetProposal(id: bigint): Uint8Array {
  return hexToBytes(encodeFunctionData({ abi: PERMISSIONS_ABI, functionName: 'getProposal', args: [idArg(id)] }))
}

export function decodeProposal(returnData: Uint8Array): Proposal {
  const [kind, account, power, node, votes, executed, proposer] = decoding('getProposal()', () =>
    decodeFunctionResult({ abi: PERMISSIONS_ABI, functionName: 'getProposal', data: bytesToHex(returnData) }),
  )
  return { kind: kind as ProposalKind, account: hexToBytes(account), power, node, votes, executed, proposer: hexToBytes(proposer) }
}

/** Returns the id of a `propose` call's return data. */
export function decodeProposeResult(returnData: Uint8Array): bigint {
  return decoding('propose()', () =>
    decodeFunctionResult({ abi: PERMISSIONS_ABI, functionName: 'propose', data: bytesToHex(returnData) }),
  )
}

/**
 * Decodes one of the contract's logs; undefined for any other log. The caller checks that the
 * log came from PERMISSIONS_ADDRESS.
 */
export function decodePermissionsLog(topics: Uint8Array[], data: Uint8Array): PermissionsLog | undefined {
  if (topics.length === 0) return undefined
  const hexTopics = topics.map((t) => bytesToHex(t)) as [Hex, ...Hex[]]
  let log
  try {
    log = decodeEventLog({ abi: PERMISSIONS_ABI, topics: hexTopics, data: bytesToHex(data), strict: true })
  } catch {
    return undefined
  }
  switch (log.eventName) {
    case 'Proposed': {
      const a = log.args
      return {
        event: 'Proposed',
        id: a.id,
        kind: a.kind as ProposalKind,
        proposer: hexToBytes(a.proposer),
        account: hexToBytes(a.account),
        power: a.power,
        node: a.node,
      }
    }
    case 'Voted':
      return { event: 'Voted', id: log.args.id, voter: hexToBytes(log.args.voter), votes: log.args.votes }
    case 'Executed':
      return { event: 'Executed', id: log.args.id }
  }
}

/** Solidity's own reverts, which viem decodes but does not type from PERMISSIONS_ABI. */
const REVERT_ABI = [...PERMISSIONS_ABI, ...STANDARD_ERRORS_ABI]

const KIND_NAMES: Record<number, string> = {
  [ProposalKind.AddAdmin]: 'AddAdmin',
  [ProposalKind.RemoveAdmin]: 'RemoveAdmin',
  [ProposalKind.SetValidator]: 'SetValidator',
  [ProposalKind.AllowAccount]: 'AllowAccount',
  [ProposalKind.DisallowAccount]: 'DisallowAccount',
  [ProposalKind.AllowNode]: 'AllowNode',
  [ProposalKind.DisallowNode]: 'DisallowNode',
  [ProposalKind.RestrictAccounts]: 'RestrictAccounts',
  [ProposalKind.RestrictNodes]: 'RestrictNodes',
}

/**
 * The reason in a revert's return data, in plain words: the contract's custom errors,
 * `Error(string)` and `Panic(uint256)`. Undefined for empty or unrecognised data.
 */
export function permissionsRevertReason(returnData: Uint8Array): string | undefined {
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
    case 'CallerNotAdmin':
      return `caller ${decoded.args[0]} is not an admin`
    case 'UnknownKind':
      return `unknown proposal kind ${decoded.args[0]}`
    case 'UnknownProposal':
      return `there is no proposal ${decoded.args[0]}`
    case 'ProposalAlreadyExecuted':
      return `proposal ${decoded.args[0]} was already executed`
    case 'AlreadyVoted':
      return `${decoded.args[1]} already voted for proposal ${decoded.args[0]}`
    case 'NoMajority': {
      const [id, votes, admins] = decoded.args
      return `proposal ${id} has ${votes} of ${admins} admin votes, not a majority`
    }
    case 'UnusedField':
      return `a ${KIND_NAMES[decoded.args[0]] ?? decoded.args[0]} proposal must leave the fields it does not use empty`
    case 'NoAdmins':
      return 'at least one admin is required'
    case 'ZeroAddress':
      return 'the zero address is not allowed'
    case 'LengthMismatch':
      return `${decoded.args[0]} validators but ${decoded.args[1]} powers`
    case 'ZeroPower':
      return `validator ${decoded.args[0]} has zero power`
    case 'AdminExists':
      return `${decoded.args[0]} is already an admin`
    case 'AdminMissing':
      return `${decoded.args[0]} is not an admin`
    case 'LastAdmin':
      return `cannot remove ${decoded.args[0]}: it is the last admin`
    case 'ValidatorExists':
      return `${decoded.args[0]} is already a validator`
    case 'ValidatorMissing':
      return `${decoded.args[0]} is not a validator`
    case 'PowerUnchanged':
      return `validator ${decoded.args[0]} already has power ${decoded.args[1]}`
    case 'LastValidator':
      return `cannot remove ${decoded.args[0]}: it is the last validator`
    case 'AccountExists':
      return `account ${decoded.args[0]} is already on the allowlist`
    case 'AccountMissing':
      return `account ${decoded.args[0]} is not on the allowlist`
    case 'InvalidNode':
      return `invalid node id ${JSON.stringify(decoded.args[0])}: it must be 1 to 128 bytes`
    case 'NodeExists':
      return `node ${decoded.args[0]} is already on the allowlist`
    case 'NodeMissing':
      return `node ${decoded.args[0]} is not on the allowlist`
    case 'LastNode':
      return `cannot remove node ${decoded.args[0]}: it is the last allowed node while nodes are restricted`
    case 'EmptyNodeAllowlist':
      return 'cannot restrict nodes while the node allowlist is empty'
    case 'RestrictionUnchanged': {
      const what = decoded.args[0] === ProposalKind.RestrictNodes ? 'nodes' : 'accounts'
      return `${what} are already ${decoded.args[1] ? 'restricted' : 'unrestricted'}`
    }
  }
}
