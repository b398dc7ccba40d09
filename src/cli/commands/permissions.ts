/**
 * `catena permissions`: what a permissioned chain allows, and the admins' votes that change it.
 *
 *   catena permissions show                        validators, admins, allowlists, open proposals
 *   catena permissions propose allow-node <peer id> --from <admin>
 *   catena permissions propose set-validator <address> --power 1 --from <admin>
 *   catena permissions vote <id> --from <admin>
 *
 * Proposals and votes are transactions to the permissions contract, signed with a keystore
 * key like `catena send`. Each is first tried with eth_call, so a vote that would fail (not an
 * admin, already voted, ...) is refused with the contract's reason before any password prompt.
 * @module
 */
import type { Command } from 'commander'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { encodeFunctionData } from 'viem'
import {
  PERMISSIONS_ABI,
  PERMISSIONS_ADDRESS,
  ProposalKind,
  decodePermissionsLog,
  decodeProposal,
  encodeGetProposal,
  encodePropose,
  encodeVote,
  permissionsRevertReason,
  type ProposalInput,
} from '../../contracts/index.ts'
import { DEFAULT_RPC_URL, RpcClient, quantity } from '../rpc-client.ts'
import { DEFAULT_DATADIR } from './account.ts'
import { parseChecksummedAddressOption, parseNonNegativeInt, parseRpcUrlOption } from './options.ts'
import { sendContractTx, type ContractTxOptions } from '../contract-tx.ts'

export class PermissionsCommandError extends Error {
  override readonly name = 'PermissionsCommandError'
  constructor(
    readonly code: 'NOT_PERMISSIONED' | 'BAD_PROPOSAL' | 'WOULD_FAIL',
    message: string,
  ) {
    super(message)
  }
}

interface PermissionsView {
  version: string
  since: string
  admins: string[]
  validators: Array<{ address: string; power: string }>
  accountsRestricted: boolean
  accounts: string[]
  nodesRestricted: boolean
  nodes: string[]
}

const KINDS: Record<string, { kind: ProposalKind; target: 'account' | 'node' | 'flag' }> = {
  'add-admin': { kind: ProposalKind.AddAdmin, target: 'account' },
  'remove-admin': { kind: ProposalKind.RemoveAdmin, target: 'account' },
  'set-validator': { kind: ProposalKind.SetValidator, target: 'account' },
  'allow-account': { kind: ProposalKind.AllowAccount, target: 'account' },
  'disallow-account': { kind: ProposalKind.DisallowAccount, target: 'account' },
  'allow-node': { kind: ProposalKind.AllowNode, target: 'node' },
  'disallow-node': { kind: ProposalKind.DisallowNode, target: 'node' },
  'restrict-accounts': { kind: ProposalKind.RestrictAccounts, target: 'flag' },
  'restrict-nodes': { kind: ProposalKind.RestrictNodes, target: 'flag' },
}
const KIND_NAMES = Object.fromEntries(Object.entries(KINDS).map(([name, k]) => [k.kind, name])) as Record<number, string>

/** The proposal a command line describes; throws BAD_PROPOSAL with what is wrong. */
export function parseProposal(kindName: string, target: string | undefined, power: bigint | undefined): ProposalInput {
  const k = KINDS[kindName]
  if (!k) throw new PermissionsCommandError('BAD_PROPOSAL', `unknown proposal kind "${kindName}" (one of: ${Object.keys(KINDS).join(', ')})`)
  if (target === undefined) throw new PermissionsCommandError('BAD_PROPOSAL', `${kindName} needs ${k.target === 'flag' ? '"on" or "off"' : `a${k.target === 'account' ? 'n address' : ' node (peer) id'}`}`)
  if (power !== undefined && kindName !== 'set-validator') throw new PermissionsCommandError('BAD_PROPOSAL', '--power is only for set-validator')
  switch (k.target) {
    case 'account': {
      if (!/^0x[0-9a-fA-F]{40}$/.test(target)) throw new PermissionsCommandError('BAD_PROPOSAL', `"${target}" is not a 20-byte 0x address`)
      if (kindName === 'set-validator' && power === undefined) throw new PermissionsCommandError('BAD_PROPOSAL', 'set-validator needs --power (0 removes the validator)')
      return { kind: k.kind, account: hexToBytes(target.toLowerCase() as `0x${string}`), ...(power !== undefined ? { power } : {}) }
    }
    case 'node':
      if (!/^[1-9A-HJ-NP-Za-km-z]{32,128}$/.test(target)) throw new PermissionsCommandError('BAD_PROPOSAL', `"${target}" is not a libp2p peer id (12D3KooW...)`)
      return { kind: k.kind, node: target }
    case 'flag':
      if (target !== 'on' && target !== 'off') throw new PermissionsCommandError('BAD_PROPOSAL', `${kindName} takes "on" or "off", not "${target}"`)
      return { kind: k.kind, power: target === 'on' ? 1n : 0n }
  }
}

async function readPermissions(rpc: RpcClient): Promise<PermissionsView> {
  const view = await rpc.call<PermissionsView | null>('catena_permissions')
  if (!view) throw new PermissionsCommandError('NOT_PERMISSIONED', 'this chain has no permissions (its chain spec has no "permissions" section)')
  return view
}

async function openProposals(rpc: RpcClient) {
  const data = encodeFunctionData({ abi: PERMISSIONS_ABI, functionName: 'proposalCount' })
  const count = quantity(await rpc.call('eth_call', [{ to: PERMISSIONS_ADDRESS, data }, 'latest']), 'eth_call', 'proposal count')
  const open = []
  // Newest first; old executed ones are history.
  for (let id = count; id >= 1n && open.length < 50; id--) {
    const ret = await rpc.call<string>('eth_call', [{ to: PERMISSIONS_ADDRESS, data: bytesToHex(encodeGetProposal(id)) }, 'latest'])
    const p = decodeProposal(hexToBytes(ret as `0x${string}`))
    if (!p.executed) open.push({ id, ...p })
  }
  return open
}

type TxOptions = ContractTxOptions

/** Pre-checks (the contract's reason on refusal), signs, sends; returns the contract's logs of the mined tx. */
async function submit(opts: TxOptions, data: Uint8Array): Promise<ReturnType<typeof decodePermissionsLog>[]> {
  await readPermissions(new RpcClient(opts.rpc))
  const { logs } = await sendContractTx(opts, PERMISSIONS_ADDRESS, data, (message, revert) =>
    new PermissionsCommandError('WOULD_FAIL', `the permissions contract would refuse this: ${(revert && permissionsRevertReason(revert)) ?? message}`),
  )
  return logs.map((l) => decodePermissionsLog(l.topics, l.data))
}

function report(logs: ReturnType<typeof decodePermissionsLog>[]): void {
  for (const log of logs) {
    if (!log) continue
    if (log.event === 'Proposed') console.log(`proposal:  ${log.id} (${KIND_NAMES[log.kind] ?? log.kind})`)
    if (log.event === 'Voted') console.log(`votes:     ${log.votes} on proposal ${log.id}`)
    if (log.event === 'Executed') console.log(`executed:  proposal ${log.id} is in force from the next block`)
  }
}

async function show(opts: { rpc: string; json?: boolean }): Promise<void> {
  const rpc = new RpcClient(opts.rpc)
  const view = await readPermissions(rpc)
  const proposals = await openProposals(rpc)
  if (opts.json) {
    console.log(
      JSON.stringify(
        { ...view, openProposals: proposals.map((p) => ({ id: Number(p.id), kind: KIND_NAMES[p.kind], account: bytesToHex(p.account), power: p.power.toString(), node: p.node, votes: Number(p.votes), proposer: bytesToHex(p.proposer) })) },
        null,
        2,
      ),
    )
    return
  }
  console.log(`version ${BigInt(view.version)} (in force since block ${BigInt(view.since)})`)
  console.log(`admins (${view.admins.length}; a change needs ${Math.floor(view.admins.length / 2) + 1} votes):`)
  for (const a of view.admins) console.log(`  ${a}`)
  console.log(`validators (${view.validators.length}):`)
  for (const v of view.validators) console.log(`  ${v.address}  power ${BigInt(v.power)}`)
  console.log(`accounts: ${view.accountsRestricted ? `only admins and ${view.accounts.length} listed` : 'anyone may send'}`)
  for (const a of view.accountsRestricted ? view.accounts : []) console.log(`  ${a}`)
  console.log(`nodes: ${view.nodesRestricted ? `${view.nodes.length} allowed` : 'any node may connect'}`)
  for (const n of view.nodesRestricted ? view.nodes : []) console.log(`  ${n}`)
  console.log(proposals.length ? 'open proposals:' : 'no open proposals')
  for (const p of proposals) {
    const what = p.node || (p.kind === ProposalKind.RestrictAccounts || p.kind === ProposalKind.RestrictNodes ? (p.power ? 'on' : 'off') : bytesToHex(p.account))
    console.log(`  #${p.id} ${KIND_NAMES[p.kind]} ${what}${p.kind === ProposalKind.SetValidator ? ` power ${p.power}` : ''}  votes ${p.votes}  by ${bytesToHex(p.proposer)}`)
  }
}

function txOptions(cmd: Command): Command {
  return cmd
    .option('--from <address>', 'the admin account: a keystore in the folder (default: the only one)', parseChecksummedAddressOption)
    .option('--rpc <url>', 'node JSON-RPC URL', parseRpcUrlOption, DEFAULT_RPC_URL)
    .option('--datadir <dir>', 'data directory; keys live in <dir>/keystore', DEFAULT_DATADIR)
    .option('--password-file <file>', 'read the password from the first line of <file> (else CATENA_PASSWORD, else a hidden prompt)')
    .option('--timeout <seconds>', 'give up waiting for the block after this many seconds', parseNonNegativeInt, 120)
    .option('--json', 'print the transaction as JSON')
}

function parsePower(value: string): bigint {
  if (!/^[0-9]+$/.test(value)) throw new PermissionsCommandError('BAD_PROPOSAL', `--power must be a non-negative integer, not "${value}"`)
  return BigInt(value)
}

export function registerPermissionsCommands(program: Command): void {
  const cmd = program.command('permissions').description("a permissioned chain's validators, admins and allowlists, and the admins' votes that change them")
  cmd
    .command('show')
    .description('validators, admins, account and node allowlists, and open proposals')
    .option('--rpc <url>', 'node JSON-RPC URL', parseRpcUrlOption, DEFAULT_RPC_URL)
    .option('--json', 'print as JSON')
    .action((opts: { rpc: string; json?: boolean }) => show(opts))
  txOptions(
    cmd
      .command('propose <kind> <target>')
      .description(`propose a change and vote for it (kinds: ${Object.keys(KINDS).join(', ')}; target: an address, a peer id, or on/off)`)
      .option('--power <n>', 'set-validator: the voting power (0 removes the validator)', parsePower),
  ).action(async (kind: string, target: string, opts: TxOptions & { power?: bigint }) => {
    report(await submit(opts, encodePropose(parseProposal(kind, target, opts.power))))
  })
  txOptions(cmd.command('vote <id>').description('vote for an open proposal; the vote that makes a majority executes it')).action(async (id: string, opts: TxOptions) => {
    if (!/^[1-9][0-9]*$/.test(id)) throw new PermissionsCommandError('BAD_PROPOSAL', `proposal id must be a positive integer, not "${id}"`)
    report(await submit(opts, encodeVote(BigInt(id))))
  })
}
