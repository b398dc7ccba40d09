/**
 * `catena multisig`: m-of-n multisig wallets (contracts/MultiSig.sol) on any chain.
 *
 *   catena multisig create --owners 0xA,0xB,0xC --threshold 2 --from 0xA
 *   catena multisig propose --wallet 0xW --to 0xR --value 1.5 --from 0xA
 *   catena multisig propose --wallet 0xW --to 0xT --call 'transfer(address,uint256)' 0xR 100 --from 0xA
 *   catena multisig approve 0 --wallet 0xW --from 0xB
 *   catena multisig revoke 0 --wallet 0xW --from 0xB
 *   catena multisig execute 0 --wallet 0xW --from 0xB
 *   catena multisig list --wallet 0xW [--all] [--json]
 *   catena multisig show --wallet 0xW [--json]
 *   catena multisig propose-owner add|remove|replace <address> [<new address>] --wallet 0xW --from 0xA
 *   catena multisig propose-threshold 3 --wallet 0xW --from 0xA
 *
 * Every transaction is signed with a keystore key like `catena send` and first tried with
 * eth_call as the sender, so one the wallet would refuse stops before the password prompt
 * with the contract's error ("execute refused: NotEnoughApprovals (1 of 2)") and nothing is sent.
 * @module
 */
import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import {
  bytesToHex,
  encodeFunctionData,
  getAddress,
  hexToBytes,
  isAddress,
  parseAbiItem,
  type AbiFunction,
  type AbiParameter,
  type Hex,
} from 'viem'
import {
  MULTISIG_OWNERS_CALLDATA,
  MULTISIG_PROPOSAL_COUNT_CALLDATA,
  MULTISIG_THRESHOLD_CALLDATA,
  decodeMultisigApprovals,
  decodeMultisigLog,
  decodeMultisigOwners,
  decodeMultisigPending,
  decodeMultisigProposal,
  decodeMultisigProposalCount,
  decodeMultisigRevert,
  decodeMultisigThreshold,
  decodeOwnerChange,
  encodeMultisigApprovals,
  encodeMultisigApprove,
  encodeMultisigExecute,
  encodeMultisigPending,
  encodeMultisigProposal,
  encodeMultisigRevoke,
  encodeMultisigSubmit,
  encodeOwnerChange,
  multisigInitCode,
  type MultisigLog,
  type MultisigOwnerChangeInput,
  type MultisigProposal,
} from '../../contracts/index.ts'
import { DEFAULT_RPC_URL, RpcClient, RpcClientError, quantity } from '../rpc-client.ts'
import { sendContractTx, type ContractTxOptions } from '../contract-tx.ts'
import { DEFAULT_DATADIR } from './account.ts'
import {
  formatAmount,
  parseChecksummedAddressOption,
  parseEtherAmountOption,
  parseHexDataOption,
  parseNonNegativeInt,
  parseRpcUrlOption,
} from './options.ts'

export type MultisigCommandErrorCode = 'BAD_INPUT' | 'REFUSED' | 'NOT_A_WALLET' | 'DEPLOY_FAILED'

/** A multisig command that cannot go ahead; nothing was sent. */
export class MultisigCommandError extends Error {
  override readonly name = 'MultisigCommandError'
  constructor(
    readonly code: MultisigCommandErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const bad = (message: string) => new MultisigCommandError('BAD_INPUT', message)

// ---- reading a wallet ----

export interface WalletState {
  address: string
  owners: string[]
  threshold: bigint
  proposalCount: bigint
  balance: bigint
}

export interface ProposalView extends Omit<MultisigProposal, 'to' | 'data' | 'proposer'> {
  id: bigint
  to: string
  data: Hex
  proposer: string
  approvedBy: string[]
  /** What the proposal does, in words. */
  action: string
}

const checksum = (a: Uint8Array | string) => getAddress(typeof a === 'string' ? a : bytesToHex(a))

/** The revert data of a failed eth_call, decoded; undefined for other errors. */
function revertOf(err: unknown) {
  if (!(err instanceof RpcClientError) || err.code !== 'RPC_ERROR') return undefined
  if (typeof err.data !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(err.data)) return undefined
  return decodeMultisigRevert(hexToBytes(err.data as Hex))
}

async function view(rpc: RpcClient, wallet: string, data: Uint8Array): Promise<Uint8Array> {
  try {
    const ret = await rpc.call<string>('eth_call', [{ to: wallet, data: bytesToHex(data) }, 'latest'])
    return hexToBytes(ret as Hex)
  } catch (err) {
    const revert = revertOf(err)
    if (revert) throw new MultisigCommandError('REFUSED', revert.reason)
    throw err
  }
}

/** Owners, threshold, proposal count and balance; NOT_A_WALLET if `wallet` is no multisig. */
export async function readWallet(rpc: RpcClient, wallet: string): Promise<WalletState> {
  const code = await rpc.call<string>('eth_getCode', [wallet, 'latest'])
  if (code === '0x' || code === '') throw new MultisigCommandError('NOT_A_WALLET', `there is no contract at ${checksum(wallet)} (check --wallet and --rpc)`)
  let owners: Uint8Array[]
  let threshold: bigint
  let proposalCount: bigint
  try {
    ;[owners, threshold, proposalCount] = await Promise.all([
      view(rpc, wallet, MULTISIG_OWNERS_CALLDATA).then(decodeMultisigOwners),
      view(rpc, wallet, MULTISIG_THRESHOLD_CALLDATA).then(decodeMultisigThreshold),
      view(rpc, wallet, MULTISIG_PROPOSAL_COUNT_CALLDATA).then(decodeMultisigProposalCount),
    ])
  } catch (err) {
    if (err instanceof RpcClientError && err.code !== 'RPC_ERROR') throw err
    throw new MultisigCommandError('NOT_A_WALLET', `the contract at ${checksum(wallet)} is not a multisig wallet`)
  }
  const balance = quantity(await rpc.call('eth_getBalance', [wallet, 'latest']), 'eth_getBalance', 'balance')
  return { address: checksum(wallet), owners: owners.map((o) => checksum(o)), threshold, proposalCount, balance }
}

/** What a proposal's call does, in words: owner changes by name, transfers by amount. */
export function describeCall(wallet: string, p: Pick<MultisigProposal, 'to' | 'value' | 'data'>): string {
  const to = checksum(p.to)
  if (to === checksum(wallet)) {
    const change = decodeOwnerChange(p.data)
    if (change) {
      switch (change.kind) {
        case 'addOwner':
          return `add owner ${checksum(change.owner)}`
        case 'removeOwner':
          return `remove owner ${checksum(change.owner)}`
        case 'replaceOwner':
          return `replace owner ${checksum(change.owner)} with ${checksum(change.newOwner)}`
        case 'changeThreshold':
          return `set the threshold to ${change.threshold}`
      }
    }
  }
  if (p.data.length === 0) return `send ${formatAmount(p.value)} ETH to ${to}`
  const selector = bytesToHex(p.data.subarray(0, 4))
  return `call ${to} (${p.data.length} bytes of data, selector ${selector})${p.value > 0n ? ` with ${formatAmount(p.value)} ETH` : ''}`
}

async function readProposal(rpc: RpcClient, wallet: string, id: bigint): Promise<ProposalView> {
  const [p, approvedBy] = await Promise.all([
    view(rpc, wallet, encodeMultisigProposal(id)).then(decodeMultisigProposal),
    view(rpc, wallet, encodeMultisigApprovals(id)).then(decodeMultisigApprovals),
  ])
  return {
    id,
    to: checksum(p.to),
    value: p.value,
    data: bytesToHex(p.data),
    executed: p.executed,
    proposer: checksum(p.proposer),
    approvals: p.approvals,
    approvedBy: approvedBy.map((a) => checksum(a)),
    action: describeCall(wallet, p),
  }
}

// ---- transactions ----

/** The error for a wallet call the contract would refuse ("execute refused: NotEnoughApprovals (1 of 2)"). */
const refusal = (action: string) => (message: string, revert: Uint8Array | undefined) =>
  new MultisigCommandError('REFUSED', `${action} refused: ${(revert && decodeMultisigRevert(revert)?.reason) ?? message}`)

type TxOptions = ContractTxOptions

interface WalletTxOptions extends TxOptions {
  wallet: string
}

/** Pre-checks, signs and sends a call to the wallet; returns the wallet's logs of the mined tx. */
async function transact(opts: WalletTxOptions, action: string, data: Uint8Array): Promise<{ state: WalletState; logs: MultisigLog[] }> {
  const state = await readWallet(new RpcClient(opts.rpc), opts.wallet)
  const { logs } = await sendContractTx(opts, opts.wallet, data, refusal(action))
  return { state, logs: logs.map((l) => decodeMultisigLog(l.topics, l.data)).filter((l): l is MultisigLog => l !== undefined) }
}

function report(logs: MultisigLog[], threshold: bigint): void {
  for (const log of logs) {
    switch (log.event) {
      case 'Submitted':
        console.log(`proposal:  ${log.id}`)
        break
      case 'Approved':
      case 'Revoked':
        console.log(
          `approvals: ${log.approvals} of ${threshold} on proposal ${log.id}${log.approvals >= threshold ? ' (enough: any owner can execute it)' : ''}`,
        )
        break
      case 'Executed':
        console.log(`executed:  proposal ${log.id}`)
        break
      case 'OwnerAdded':
        console.log(`owner added:   ${checksum(log.owner)}`)
        break
      case 'OwnerRemoved':
        console.log(`owner removed: ${checksum(log.owner)}`)
        break
      case 'ThresholdChanged':
        console.log(`threshold: now ${log.threshold}`)
        break
      case 'Deposit':
        break
    }
  }
}

/** Deploys a wallet (pre-checked like every call); returns its address once the tx is in a block. */
async function deploy(opts: TxOptions, initCode: Uint8Array): Promise<{ address: string; hash: string; blockNumber: bigint }> {
  // create prints its own result (the wallet's address; JSON with --json), not the send's.
  const { hash, contractAddress } = await sendContractTx({ ...opts, json: false, quiet: true }, undefined, initCode, refusal('create'))
  const receipt = await new RpcClient(opts.rpc).call<{ blockNumber: string }>('eth_getTransactionReceipt', [hash])
  if (!contractAddress) throw new MultisigCommandError('DEPLOY_FAILED', `deployment ${hash} created no contract`)
  return { address: checksum(contractAddress), hash, blockNumber: quantity(receipt.blockNumber, 'eth_getTransactionReceipt', 'block number') }
}

// ---- --call 'sig(args)' args... ----

/** One command-line argument as a value of ABI type `param` (arrays as JSON: '[1,2]'). */
function callArgument(param: AbiParameter, text: string, where: string): unknown {
  const type = param.type
  const array = /^(.*)\[(\d*)\]$/.exec(type)
  if (array) {
    let items: unknown
    try {
      items = JSON.parse(text)
    } catch {
      items = undefined
    }
    if (!Array.isArray(items)) throw bad(`${where} (${type}) must be a JSON array, e.g. '["0x..","0x.."]' or '[1,2]'`)
    if (array[2] !== '' && items.length !== Number(array[2])) throw bad(`${where} (${type}) needs ${array[2]} items, got ${items.length}`)
    return items.map((item, i) => callArgument({ ...param, type: array[1]! }, typeof item === 'string' ? item : JSON.stringify(item), `${where}[${i}]`))
  }
  if (type === 'address') {
    if (!isAddress(text, { strict: false })) throw bad(`${where} (address) is not a 0x address: ${text}`)
    return getAddress(text)
  }
  if (type === 'bool') {
    if (text === 'true' || text === '1') return true
    if (text === 'false' || text === '0') return false
    throw bad(`${where} (bool) must be true or false, not ${text}`)
  }
  if (type === 'string') return text
  if (/^bytes\d*$/.test(type)) {
    if (!/^0x([0-9a-fA-F]{2})*$/.test(text)) throw bad(`${where} (${type}) must be 0x-hex`)
    return text.toLowerCase()
  }
  if (/^u?int\d*$/.test(type)) {
    if (!/^-?(\d+|0x[0-9a-fA-F]+)$/.test(text)) throw bad(`${where} (${type}) must be an integer (decimal or 0x-hex), not ${text}`)
    return text.startsWith('-') ? -BigInt(text.slice(1)) : BigInt(text)
  }
  throw bad(`${where}: parameters of type ${type} are not supported by --call (use --data)`)
}

/** Calldata for `--call 'transfer(address,uint256)' 0x.. 100`. */
export function encodeCallOption(signature: string, args: string[]): Hex {
  const text = signature.trim().replace(/^function\s+/, '')
  let fn: AbiFunction
  try {
    const item = parseAbiItem(`function ${text}`)
    if (item.type !== 'function') throw new Error('not a function')
    fn = item
  } catch (err) {
    throw bad(`--call "${signature}" is not a function signature like 'transfer(address,uint256)' (${(err as Error).message.split('\n')[0]})`)
  }
  if (args.length !== fn.inputs.length) {
    throw bad(`--call ${fn.name} takes ${fn.inputs.length} argument${fn.inputs.length === 1 ? '' : 's'}, got ${args.length}`)
  }
  const values = fn.inputs.map((p, i) => callArgument(p, args[i]!, `argument ${i + 1}`))
  try {
    return encodeFunctionData({ abi: [fn], functionName: fn.name, args: values })
  } catch (err) {
    throw bad(`--call ${fn.name}: ${(err as Error).message.split('\n')[0]}`)
  }
}

// ---- commands ----

function parseId(text: string): bigint {
  if (!/^\d+$/.test(text)) throw bad(`proposal id must be a non-negative integer, not "${text}"`)
  return BigInt(text)
}

function parseOwnersOption(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (list.length === 0) throw new InvalidArgumentError('must list at least one owner address, comma-separated')
  return list.map((a) => {
    try {
      return parseChecksummedAddressOption(a)
    } catch (err) {
      throw new InvalidArgumentError(`${a}: ${(err as Error).message}`)
    }
  })
}

function parsePositiveBigint(value: string): bigint {
  if (!/^\d+$/.test(value) || BigInt(value) === 0n) throw new InvalidArgumentError('must be a positive integer')
  return BigInt(value)
}

function parseAddressArg(text: string, what: string): string {
  try {
    return parseChecksummedAddressOption(text)
  } catch (err) {
    throw bad(`${what} "${text}": ${(err as Error).message}`)
  }
}

function txOptions(cmd: Command, wallet = true): Command {
  if (wallet) cmd.requiredOption('--wallet <address>', 'the multisig wallet', parseChecksummedAddressOption)
  return cmd
    .option('--from <address>', 'the owner account: a keystore in the folder (default: the only one)', parseChecksummedAddressOption)
    .option('--rpc <url>', 'node JSON-RPC URL', parseRpcUrlOption, DEFAULT_RPC_URL)
    .option('--datadir <dir>', 'data directory; keys live in <dir>/keystore', DEFAULT_DATADIR)
    .option('--password-file <file>', 'read the password from the first line of <file> (else CATENA_PASSWORD, else a hidden prompt)')
    .option('--timeout <seconds>', 'give up waiting for the block after this many seconds', parseNonNegativeInt, 120)
}

function readOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--wallet <address>', 'the multisig wallet', parseChecksummedAddressOption)
    .option('--rpc <url>', 'node JSON-RPC URL', parseRpcUrlOption, DEFAULT_RPC_URL)
    .option('--json', 'print as JSON')
}

const json = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)

async function propose(opts: WalletTxOptions, call: { to: string; value: bigint; data: Hex }): Promise<void> {
  const { state, logs } = await transact(opts, 'propose', encodeMultisigSubmit({ ...call, to: call.to as Hex }))
  report(logs, state.threshold)
  const submitted = logs.find((l) => l.event === 'Submitted')
  if (submitted) console.log(`action:    ${describeCall(opts.wallet, { to: hexToBytes(call.to as Hex), value: call.value, data: hexToBytes(call.data) })}`)
}

async function list(opts: { wallet: string; rpc: string; all?: boolean; json?: boolean }): Promise<void> {
  const rpc = new RpcClient(opts.rpc)
  const state = await readWallet(rpc, opts.wallet)
  const ids = opts.all
    ? Array.from({ length: Number(state.proposalCount) }, (_, i) => BigInt(i))
    : decodeMultisigPending(await view(rpc, opts.wallet, encodeMultisigPending(0n, state.proposalCount)))
  const proposals: ProposalView[] = []
  for (const id of ids) proposals.push(await readProposal(rpc, opts.wallet, id))
  if (opts.json) {
    console.log(json({ wallet: state.address, threshold: state.threshold, owners: state.owners, proposals }))
    return
  }
  const pending = proposals.filter((p) => !p.executed).length
  console.log(`${state.address}: ${state.threshold} of ${state.owners.length} owners must approve; ${pending} pending proposal${pending === 1 ? '' : 's'}`)
  for (const p of proposals) {
    const status = p.executed ? 'executed' : `approvals ${p.approvals}/${state.threshold}${p.approvals >= state.threshold ? ' (ready)' : ''}`
    console.log(`  #${p.id}  ${p.action}  ${status}${p.approvedBy.length ? `  by ${p.approvedBy.join(', ')}` : ''}`)
  }
}

async function show(opts: { wallet: string; rpc: string; json?: boolean }): Promise<void> {
  const rpc = new RpcClient(opts.rpc)
  const state = await readWallet(rpc, opts.wallet)
  const pending = decodeMultisigPending(await view(rpc, opts.wallet, encodeMultisigPending(0n, state.proposalCount))).length
  if (opts.json) {
    console.log(json({ ...state, pending }))
    return
  }
  console.log(`wallet:    ${state.address}`)
  console.log(`balance:   ${formatAmount(state.balance)} ETH`)
  console.log(`threshold: ${state.threshold} of ${state.owners.length} owners`)
  console.log('owners:')
  for (const o of state.owners) console.log(`  ${o}`)
  console.log(`proposals: ${state.proposalCount} (${pending} pending)`)
}

export function registerMultisigCommands(program: Command): void {
  const cmd = program.command('multisig').description('m-of-n multisig wallets: create one, propose calls, approve, revoke and execute them')

  txOptions(cmd.command('create').description('deploy a wallet owned by --owners that needs --threshold approvals per call'), false)
    .requiredOption('--owners <addresses>', 'comma-separated owner addresses', parseOwnersOption)
    .requiredOption('--threshold <m>', 'approvals a proposal needs (1 to the number of owners)', parsePositiveBigint)
    .option('--json', 'print the wallet as JSON')
    .action(async (opts: TxOptions & { owners: string[]; threshold: bigint; json?: boolean }) => {
      const d = await deploy(opts, multisigInitCode({ owners: opts.owners as Hex[], threshold: opts.threshold }))
      if (opts.json) {
        console.log(json({ wallet: d.address, owners: opts.owners, threshold: opts.threshold, hash: d.hash, blockNumber: d.blockNumber }))
        return
      }
      console.log(`tx hash:   ${d.hash}`)
      console.log(`block:     ${d.blockNumber}`)
      console.log(`wallet:    ${d.address}`)
      console.log(`threshold: ${opts.threshold} of ${opts.owners.length} owners`)
    })

  txOptions(
    cmd
      .command('propose [args...]')
      .description("propose a call from the wallet and approve it (args: the arguments of --call)")
      .requiredOption('--to <address>', 'where the call goes', parseChecksummedAddressOption)
      .option('--value <amount>', 'ETH the wallet sends (default 0): "1.5", or with a unit ("20gwei", "100wei")', parseEtherAmountOption)
      .option('--data <hex>', 'the call data, 0x-prefixed', parseHexDataOption)
      .option('--call <signature>', "encode the call data from a signature, e.g. 'transfer(address,uint256)', and the args"),
  ).action(async (args: string[], opts: WalletTxOptions & { to: string; value?: bigint; data?: string; call?: string }) => {
    if (opts.data !== undefined && opts.call !== undefined) throw bad('give --data or --call, not both')
    if (opts.call === undefined && args.length > 0) throw bad(`unexpected arguments ${args.join(' ')} (they are for --call)`)
    const data = opts.call !== undefined ? encodeCallOption(opts.call, args) : ((opts.data ?? '0x') as Hex)
    await propose(opts, { to: opts.to, value: opts.value ?? 0n, data })
  })

  txOptions(
    cmd
      .command('propose-owner <action> <address> [newAddress]')
      .description('propose an owner change: add <address> | remove <address> | replace <address> <newAddress>'),
  ).action(async (action: string, address: string, newAddress: string | undefined, opts: WalletTxOptions) => {
    const owner = parseAddressArg(address, 'owner')
    let change: MultisigOwnerChangeInput
    if (action === 'replace') {
      if (newAddress === undefined) throw bad('replace needs the owner to replace and the new owner')
      change = { kind: 'replaceOwner', owner: owner as Hex, newOwner: parseAddressArg(newAddress, 'new owner') as Hex }
    } else if (action === 'add' || action === 'remove') {
      if (newAddress !== undefined) throw bad(`${action} takes one address`)
      change = { kind: action === 'add' ? 'addOwner' : 'removeOwner', owner: owner as Hex }
    } else {
      throw bad(`unknown owner change "${action}" (one of: add, remove, replace)`)
    }
    await propose(opts, { to: opts.wallet, value: 0n, data: bytesToHex(encodeOwnerChange(change)) })
  })

  txOptions(cmd.command('propose-threshold <m>').description('propose a new threshold (1 to the number of owners)')).action(
    async (m: string, opts: WalletTxOptions) => {
      if (!/^\d+$/.test(m)) throw bad(`threshold must be a positive integer, not "${m}"`)
      await propose(opts, { to: opts.wallet, value: 0n, data: bytesToHex(encodeOwnerChange({ kind: 'changeThreshold', threshold: BigInt(m) })) })
    },
  )

  const step = (name: 'approve' | 'revoke' | 'execute', description: string, encode: (id: bigint) => Uint8Array) =>
    txOptions(cmd.command(`${name} <id>`).description(description)).action(async (id: string, opts: WalletTxOptions) => {
      const { state, logs } = await transact(opts, name, encode(parseId(id)))
      // After an owner or threshold change the counts that matter are the new ones.
      const changed = logs.find((l): l is Extract<MultisigLog, { event: 'ThresholdChanged' }> => l.event === 'ThresholdChanged')
      report(logs, changed?.threshold ?? state.threshold)
    })
  step('approve', 'approve a pending proposal', encodeMultisigApprove)
  step('revoke', 'withdraw your approval of a pending proposal', encodeMultisigRevoke)
  step('execute', 'make the call of a proposal that has enough approvals (once)', encodeMultisigExecute)

  readOptions(cmd.command('list').description('pending proposals with their approvals and approvers'))
    .option('--all', 'include executed proposals')
    .action((opts: { wallet: string; rpc: string; all?: boolean; json?: boolean }) => list(opts))

  readOptions(cmd.command('show').description('owners, threshold, balance and proposal counts')).action((opts: { wallet: string; rpc: string; json?: boolean }) =>
    show(opts),
  )
}
