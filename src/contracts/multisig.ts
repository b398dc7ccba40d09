/**
 * The m-of-n multisig wallet (contracts/MultiSig.sol): deploy data, calldata encoders,
 * return-data and log decoders, and revert reasons with the contract's error names. Unlike the
 * system contracts a wallet lives at whatever address its deployment got, so nothing here
 * knows an address; callers send the calldata to their wallet.
 *
 * The ABI is written out here (not read from the artifact) so viem types every call and
 * decode; a unit test checks it against the compiled contract's ABI.
 */
import {
  bytesToHex,
  decodeErrorResult,
  decodeEventLog,
  decodeFunctionData,
  decodeFunctionResult,
  encodeDeployData,
  encodeFunctionData,
  hexToBytes,
  isAddress,
  isHex,
  parseAbi,
  type Address,
  type Hex,
} from 'viem'
import { loadArtifact } from './artifacts.ts'
import { STANDARD_ERRORS_ABI, panicReason } from './revert.ts'

export const MULTISIG_ABI = parseAbi([
  'constructor(address[] owners_, uint256 threshold_)',
  'receive() external payable',
  'function MAX_OWNERS() view returns (uint256)',
  'function submit(address to, uint256 value, bytes data) returns (uint256 id)',
  'function approve(uint256 id)',
  'function revoke(uint256 id)',
  'function execute(uint256 id) returns (bytes result)',
  'function addOwner(address owner)',
  'function removeOwner(address owner)',
  'function replaceOwner(address owner, address newOwner)',
  'function changeThreshold(uint256 threshold_)',
  'function owners() view returns (address[])',
  'function isOwner(address account) view returns (bool)',
  'function threshold() view returns (uint256)',
  'function proposalCount() view returns (uint256)',
  'function proposal(uint256 id) view returns (address to, uint256 value, bytes data, bool executed, address proposer, uint256 approved)',
  'function approvals(uint256 id) view returns (address[] approvers)',
  'function approvalCount(uint256 id) view returns (uint256 count)',
  'function isApprovedBy(uint256 id, address owner) view returns (bool)',
  'function pendingProposals(uint256 from, uint256 to) view returns (uint256[] ids)',
  'event Deposit(address indexed sender, uint256 value)',
  'event Submitted(uint256 indexed id, address indexed proposer, address indexed to, uint256 value, bytes data)',
  'event Approved(uint256 indexed id, address indexed owner, uint256 approvals)',
  'event Revoked(uint256 indexed id, address indexed owner, uint256 approvals)',
  'event Executed(uint256 indexed id, address indexed executor)',
  'event OwnerAdded(address indexed owner)',
  'event OwnerRemoved(address indexed owner)',
  'event ThresholdChanged(uint256 threshold)',
  'error NotOwner(address caller)',
  'error OnlyWallet(address caller)',
  'error UnknownProposal(uint256 id)',
  'error AlreadyExecuted(uint256 id)',
  'error AlreadyApproved(uint256 id, address owner)',
  'error NotApproved(uint256 id, address owner)',
  'error NotEnoughApprovals(uint256 id, uint256 approvals, uint256 threshold)',
  'error InsufficientBalance(uint256 id, uint256 balance, uint256 value)',
  'error CallFailed(uint256 id, bytes returnData)',
  'error Reentrancy()',
  'error ZeroDestination()',
  'error NoOwners()',
  'error TooManyOwners(uint256 owners, uint256 max)',
  'error InvalidOwner(address owner)',
  'error OwnerExists(address owner)',
  'error OwnerNotFound(address owner)',
  'error InvalidThreshold(uint256 threshold, uint256 owners)',
  'error RemovalBelowThreshold(address owner, uint256 ownersLeft, uint256 threshold)',
])

/** The contract's cap on owners (its MAX_OWNERS). */
export const MULTISIG_MAX_OWNERS = 50

/** An address as 20 bytes or 0x-hex (any case). */
export type AddressInput = Uint8Array | Address

export interface MultisigInit {
  /** 1 to MULTISIG_MAX_OWNERS addresses; the constructor refuses duplicates and the zero address. */
  owners: AddressInput[]
  /** 1 to owners.length. */
  threshold: bigint
}

/** The call a proposal makes when executed. */
export interface MultisigCallInput {
  to: AddressInput
  /** Wei sent from the wallet (default 0). */
  value?: bigint
  /** Calldata (default empty). */
  data?: Uint8Array | Hex
}

export interface MultisigProposal {
  to: Uint8Array
  value: bigint
  data: Uint8Array
  executed: boolean
  proposer: Uint8Array
  /** Approvals of current owners. */
  approvals: bigint
}

/** A change to the owners or the threshold: the call a proposal makes to the wallet itself. */
export type MultisigOwnerChange =
  | { kind: 'addOwner'; owner: Uint8Array }
  | { kind: 'removeOwner'; owner: Uint8Array }
  | { kind: 'replaceOwner'; owner: Uint8Array; newOwner: Uint8Array }
  | { kind: 'changeThreshold'; threshold: bigint }

/** Same as MultisigOwnerChange, with addresses in either form. */
export type MultisigOwnerChangeInput =
  | { kind: 'addOwner'; owner: AddressInput }
  | { kind: 'removeOwner'; owner: AddressInput }
  | { kind: 'replaceOwner'; owner: AddressInput; newOwner: AddressInput }
  | { kind: 'changeThreshold'; threshold: bigint }

export type MultisigLog =
  | { event: 'Deposit'; sender: Uint8Array; value: bigint }
  | { event: 'Submitted'; id: bigint; proposer: Uint8Array; to: Uint8Array; value: bigint; data: Uint8Array }
  | { event: 'Approved'; id: bigint; owner: Uint8Array; approvals: bigint }
  | { event: 'Revoked'; id: bigint; owner: Uint8Array; approvals: bigint }
  | { event: 'Executed'; id: bigint; executor: Uint8Array }
  | { event: 'OwnerAdded'; owner: Uint8Array }
  | { event: 'OwnerRemoved'; owner: Uint8Array }
  | { event: 'ThresholdChanged'; threshold: bigint }

/** A decoded revert: the error's name and arguments, and `reason` to show a user. */
export interface MultisigRevert {
  /** The custom error's name, or 'Error' / 'Panic' for Solidity's own. */
  error: string
  args: readonly unknown[]
  /** "NotEnoughApprovals (1 of 2)"; for Error(string) the message, for Panic its meaning. */
  reason: string
  /** CallFailed: the revert of the proposal's call, when it decodes. */
  inner?: MultisigRevert
}

export type MultisigCodecErrorCode = 'INVALID_INPUT' | 'INVALID_RETURN_DATA'

export class MultisigCodecError extends Error {
  override readonly name = 'MultisigCodecError'
  constructor(
    readonly code: MultisigCodecErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const MAX_UINT256 = (1n << 256n) - 1n

function addressHex(value: AddressInput, what: string): Address {
  if (typeof value === 'string') {
    if (!isAddress(value, { strict: false })) throw new MultisigCodecError('INVALID_INPUT', `${what} is not an address: ${value}`)
    return value.toLowerCase() as Address
  }
  if (!(value instanceof Uint8Array) || value.length !== 20) throw new MultisigCodecError('INVALID_INPUT', `${what} must be 20 bytes`)
  return bytesToHex(value)
}

function uint256(value: bigint, what: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT256) {
    throw new MultisigCodecError('INVALID_INPUT', `${what} must be a uint256 bigint`)
  }
  return value
}

function dataHex(value: Uint8Array | Hex | undefined): Hex {
  if (value === undefined) return '0x'
  if (value instanceof Uint8Array) return bytesToHex(value)
  if (typeof value !== 'string' || !isHex(value, { strict: true }) || value.length % 2 !== 0) {
    throw new MultisigCodecError('INVALID_INPUT', `data must be 0x followed by an even number of hex digits`)
  }
  return value
}

const bytes = (data: Hex) => hexToBytes(data)

/** Runs a viem decode, turning its errors into MultisigCodecError. */
function decoding<T>(what: string, decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    throw new MultisigCodecError('INVALID_RETURN_DATA', `cannot decode ${what}: ${(err as Error).message.split('\n')[0]}`)
  }
}

// ---- deployment ----

/**
 * Creation code followed by the ABI-encoded constructor arguments: the data of a contract
 * creation tx. Checks shapes and counts; the constructor itself refuses duplicates, the zero
 * address and a threshold out of range, so a pre-flight eth_call shows those in its words.
 */
export function multisigInitCode(init: MultisigInit): Uint8Array {
  if (!Array.isArray(init.owners)) throw new MultisigCodecError('INVALID_INPUT', 'owners must be a list of addresses')
  return bytes(
    encodeDeployData({
      abi: MULTISIG_ABI,
      bytecode: loadArtifact('MultiSig').bytecode,
      args: [init.owners.map((o, i) => addressHex(o, `owners[${i}]`)), uint256(init.threshold, 'threshold')],
    }),
  )
}

/** The code a deployed wallet holds (to recognise one with eth_getCode). */
export function multisigRuntimeCode(): Uint8Array {
  return bytes(loadArtifact('MultiSig').deployedBytecode)
}

// ---- transactions ----

/** `submit(to, value, data)`: proposes the call and approves it as the sender. */
export function encodeMultisigSubmit(call: MultisigCallInput): Uint8Array {
  return bytes(
    encodeFunctionData({
      abi: MULTISIG_ABI,
      functionName: 'submit',
      args: [addressHex(call.to, 'to'), uint256(call.value ?? 0n, 'value'), dataHex(call.data)],
    }),
  )
}

export function encodeMultisigApprove(id: bigint): Uint8Array {
  return bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'approve', args: [uint256(id, 'proposal id')] }))
}

export function encodeMultisigRevoke(id: bigint): Uint8Array {
  return bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'revoke', args: [uint256(id, 'proposal id')] }))
}

export function encodeMultisigExecute(id: bigint): Uint8Array {
  return bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'execute', args: [uint256(id, 'proposal id')] }))
}

/**
 * The calldata of an owner or threshold change. It only works as the `data` of a proposal
 * whose `to` is the wallet itself: the contract refuses it from anyone else (OnlyWallet).
 */
export function encodeOwnerChange(change: MultisigOwnerChangeInput): Uint8Array {
  switch (change.kind) {
    case 'addOwner':
    case 'removeOwner':
      return bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: change.kind, args: [addressHex(change.owner, 'owner')] }))
    case 'replaceOwner':
      return bytes(
        encodeFunctionData({
          abi: MULTISIG_ABI,
          functionName: 'replaceOwner',
          args: [addressHex(change.owner, 'owner'), addressHex(change.newOwner, 'new owner')],
        }),
      )
    case 'changeThreshold':
      return bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'changeThreshold', args: [uint256(change.threshold, 'threshold')] }))
    default:
      throw new MultisigCodecError('INVALID_INPUT', `unknown owner change ${JSON.stringify((change as { kind: unknown }).kind)}`)
  }
}

/** The owner change a proposal's calldata makes, or undefined if it is any other call. */
export function decodeOwnerChange(data: Uint8Array): MultisigOwnerChange | undefined {
  let call
  try {
    call = decodeFunctionData({ abi: MULTISIG_ABI, data: bytesToHex(data) })
  } catch {
    return undefined
  }
  switch (call.functionName) {
    case 'addOwner':
    case 'removeOwner':
      return { kind: call.functionName, owner: bytes(call.args[0]) }
    case 'replaceOwner':
      return { kind: 'replaceOwner', owner: bytes(call.args[0]), newOwner: bytes(call.args[1]) }
    case 'changeThreshold':
      return { kind: 'changeThreshold', threshold: call.args[0] }
    default:
      return undefined
  }
}

/** The id a `submit` call returns. */
export function decodeMultisigSubmitResult(returnData: Uint8Array): bigint {
  return decoding('submit()', () => decodeFunctionResult({ abi: MULTISIG_ABI, functionName: 'submit', data: bytesToHex(returnData) }))
}

// ---- views ----

export const MULTISIG_OWNERS_CALLDATA: Uint8Array = bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'owners' }))
export const MULTISIG_THRESHOLD_CALLDATA: Uint8Array = bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'threshold' }))
export const MULTISIG_PROPOSAL_COUNT_CALLDATA: Uint8Array = bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'proposalCount' }))

export function decodeMultisigOwners(returnData: Uint8Array): Uint8Array[] {
  const list = decoding('owners()', () => decodeFunctionResult({ abi: MULTISIG_ABI, functionName: 'owners', data: bytesToHex(returnData) }))
  return list.map(bytes)
}

export function decodeMultisigThreshold(returnData: Uint8Array): bigint {
  return decoding('threshold()', () => decodeFunctionResult({ abi: MULTISIG_ABI, functionName: 'threshold', data: bytesToHex(returnData) }))
}

export function decodeMultisigProposalCount(returnData: Uint8Array): bigint {
  return decoding('proposalCount()', () =>
    decodeFunctionResult({ abi: MULTISIG_ABI, functionName: 'proposalCount', data: bytesToHex(returnData) }),
  )
}

export function encodeMultisigIsOwner(account: AddressInput): Uint8Array {
  return bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'isOwner', args: [addressHex(account, 'account')] }))
}

export function decodeMultisigIsOwner(returnData: Uint8Array): boolean {
  return decoding('isOwner()', () => decodeFunctionResult({ abi: MULTISIG_ABI, functionName: 'isOwner', data: bytesToHex(returnData) }))
}

/** `proposal(id)`; the call reverts with UnknownProposal for an id that does not exist. */
export function encodeMultisigProposal(id: bigint): Uint8Array {
  return bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'proposal', args: [uint256(id, 'proposal id')] }))
}

export function decodeMultisigProposal(returnData: Uint8Array): MultisigProposal {
  const [to, value, data, executed, proposer, approvals] = decoding('proposal()', () =>
    decodeFunctionResult({ abi: MULTISIG_ABI, functionName: 'proposal', data: bytesToHex(returnData) }),
  )
  return { to: bytes(to), value, data: bytes(data), executed, proposer: bytes(proposer), approvals }
}

/** `approvals(id)`: the current owners that approve the proposal. */
export function encodeMultisigApprovals(id: bigint): Uint8Array {
  return bytes(encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'approvals', args: [uint256(id, 'proposal id')] }))
}

export function decodeMultisigApprovals(returnData: Uint8Array): Uint8Array[] {
  const list = decoding('approvals()', () => decodeFunctionResult({ abi: MULTISIG_ABI, functionName: 'approvals', data: bytesToHex(returnData) }))
  return list.map(bytes)
}

export function encodeMultisigIsApprovedBy(id: bigint, owner: AddressInput): Uint8Array {
  return bytes(
    encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'isApprovedBy', args: [uint256(id, 'proposal id'), addressHex(owner, 'owner')] }),
  )
}

export function decodeMultisigIsApprovedBy(returnData: Uint8Array): boolean {
  return decoding('isApprovedBy()', () =>
    decodeFunctionResult({ abi: MULTISIG_ABI, functionName: 'isApprovedBy', data: bytesToHex(returnData) }),
  )
}

/** `pendingProposals(from, to)`: ids in [from, to) not yet executed (to is clipped to the count). */
export function encodeMultisigPending(from: bigint, to: bigint): Uint8Array {
  return bytes(
    encodeFunctionData({ abi: MULTISIG_ABI, functionName: 'pendingProposals', args: [uint256(from, 'from'), uint256(to, 'to')] }),
  )
}

export function decodeMultisigPending(returnData: Uint8Array): bigint[] {
  return [
    ...decoding('pendingProposals()', () =>
      decodeFunctionResult({ abi: MULTISIG_ABI, functionName: 'pendingProposals', data: bytesToHex(returnData) }),
    ),
  ]
}

// ---- events ----

/** Decodes one of the wallet's logs; undefined for any other log. The caller checks the log's address. */
export function decodeMultisigLog(topics: Uint8Array[], data: Uint8Array): MultisigLog | undefined {
  if (topics.length === 0) return undefined
  let log
  try {
    log = decodeEventLog({ abi: MULTISIG_ABI, topics: topics.map((t) => bytesToHex(t)) as [Hex, ...Hex[]], data: bytesToHex(data), strict: true })
  } catch {
    return undefined
  }
  switch (log.eventName) {
    case 'Deposit':
      return { event: 'Deposit', sender: bytes(log.args.sender), value: log.args.value }
    case 'Submitted': {
      const a = log.args
      return { event: 'Submitted', id: a.id, proposer: bytes(a.proposer), to: bytes(a.to), value: a.value, data: bytes(a.data) }
    }
    case 'Approved':
    case 'Revoked':
      return { event: log.eventName, id: log.args.id, owner: bytes(log.args.owner), approvals: log.args.approvals }
    case 'Executed':
      return { event: 'Executed', id: log.args.id, executor: bytes(log.args.executor) }
    case 'OwnerAdded':
    case 'OwnerRemoved':
      return { event: log.eventName, owner: bytes(log.args.owner) }
    case 'ThresholdChanged':
      return { event: 'ThresholdChanged', threshold: log.args.threshold }
  }
}

// ---- reverts ----

const REVERT_ABI = [...MULTISIG_ABI, ...STANDARD_ERRORS_ABI]

/** How deep CallFailed's inner reverts are followed (a wallet calling a wallet calling ...). */
const MAX_INNER_DEPTH = 4

function shortHex(data: Uint8Array): string {
  const hex = bytesToHex(data)
  return hex.length > 2 + 2 * 36 ? `${hex.slice(0, 2 + 2 * 36)}… (${data.length} bytes)` : hex
}

/**
 * Decodes revert data: the wallet's custom errors, `Error(string)` and `Panic(uint256)`.
 * Undefined for empty or unrecognised data.
 */
export function decodeMultisigRevert(returnData: Uint8Array): MultisigRevert | undefined {
  return decodeRevert(returnData, 0)
}

function decodeRevert(returnData: Uint8Array, depth: number): MultisigRevert | undefined {
  if (returnData.length < 4) return undefined
  let d
  try {
    d = decodeErrorResult({ abi: REVERT_ABI, data: bytesToHex(returnData) })
  } catch {
    return undefined
  }
  const named = (words: string): MultisigRevert => ({ error: d.errorName, args: d.args ?? [], reason: `${d.errorName} (${words})` })
  switch (d.errorName) {
    case 'Error':
      return { error: 'Error', args: d.args, reason: d.args[0] }
    case 'Panic':
      return { error: 'Panic', args: d.args, reason: panicReason(d.args[0]) }
    case 'NotOwner':
      return named(`${d.args[0]} is not an owner`)
    case 'OnlyWallet':
      return named(`only the wallet itself may call this, through an executed proposal; not ${d.args[0]}`)
    case 'UnknownProposal':
      return named(`there is no proposal ${d.args[0]}`)
    case 'AlreadyExecuted':
      return named(`proposal ${d.args[0]} was already executed`)
    case 'AlreadyApproved':
      return named(`${d.args[1]} already approved proposal ${d.args[0]}`)
    case 'NotApproved':
      return named(`${d.args[1]} has not approved proposal ${d.args[0]}`)
    case 'NotEnoughApprovals':
      return named(`${d.args[1]} of ${d.args[2]}`)
    case 'InsufficientBalance':
      return named(`the wallet holds ${d.args[1]} wei but proposal ${d.args[0]} sends ${d.args[2]} wei`)
    case 'CallFailed': {
      const [id, ret] = d.args
      const retBytes = bytes(ret)
      const inner = depth < MAX_INNER_DEPTH ? decodeRevert(retBytes, depth + 1) : undefined
      const why = inner?.reason ?? (retBytes.length === 0 ? 'no reason given' : shortHex(retBytes))
      const r = named(`the call of proposal ${id} reverted: ${why}`)
      return inner ? { ...r, inner } : r
    }
    case 'Reentrancy':
      return named('execute cannot run inside another execute')
    case 'ZeroDestination':
      return named('a proposal cannot call the zero address')
    case 'NoOwners':
      return named('at least one owner is required')
    case 'TooManyOwners':
      return named(`${d.args[0]} owners, at most ${d.args[1]} allowed`)
    case 'InvalidOwner':
      return named(`${d.args[0]} cannot be an owner (the zero address or the wallet itself)`)
    case 'OwnerExists':
      return named(`${d.args[0]} is already an owner`)
    case 'OwnerNotFound':
      return named(`${d.args[0]} is not an owner`)
    case 'InvalidThreshold':
      return named(`threshold ${d.args[0]} with ${d.args[1]} owners: it must be 1 to ${d.args[1]}`)
    case 'RemovalBelowThreshold':
      return named(`removing ${d.args[0]} would leave ${d.args[1]} owner${d.args[1] === 1n ? '' : 's'}, fewer than the threshold ${d.args[2]}`)
  }
}

/** The reason of a revert in words ("NotEnoughApprovals (1 of 2)"); undefined if it does not decode. */
export function multisigRevertReason(returnData: Uint8Array): string | undefined {
  return decodeMultisigRevert(returnData)?.reason
}
