/**
 * `catena status`: what a node says about itself, in one block of text or as JSON: client,
 * chain id, head block (number, hash, time and age), peers, gas price and sync state.
 * Methods a node may not have (peer count, sync state, client version) show as "unknown";
 * a node that cannot be reached is an error.
 * @module
 */
import type { Command } from 'commander'
import { DEFAULT_RPC_URL, RpcClient, RpcClientError, quantity } from '../rpc-client.ts'
import { formatAmount, parseRpcUrlOption } from './options.ts'

export interface NodeStatus {
  rpcUrl: string
  clientVersion: string | null
  chainId: number
  head: { number: number; hash: string; timestamp: number; time: string }
  /** Seconds between the head's timestamp and now (negative if the head is in the future). */
  headAgeSeconds: number
  peerCount: number | null
  /** Wei, as a decimal string (JSON has no bigint). */
  gasPrice: string
  /** false, or the node's eth_syncing object; null if the node does not say. */
  syncing: false | Record<string, unknown> | null
}

async function optional<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call
  } catch (err) {
    if (err instanceof RpcClientError && err.code === 'RPC_ERROR') return null
    throw err
  }
}

/** Queries the node (all calls in parallel). `now` is in milliseconds. */
export async function fetchStatus(rpc: RpcClient, now: () => number = Date.now): Promise<NodeStatus> {
  const [clientVersion, chainId, head, peers, gasPrice, syncing] = await Promise.all([
    optional(rpc.call<string>('web3_clientVersion')),
    rpc.call('eth_chainId'),
    rpc.call<Record<string, unknown> | null>('eth_getBlockByNumber', ['latest', false]),
    optional(rpc.call('net_peerCount')),
    rpc.call('eth_gasPrice'),
    optional(rpc.call<false | Record<string, unknown>>('eth_syncing')),
  ])
  if (head === null || typeof head !== 'object') {
    throw new RpcClientError('BAD_RESPONSE', 'eth_getBlockByNumber', `${rpc.url} has no latest block`)
  }
  const m = 'eth_getBlockByNumber'
  const timestamp = Number(quantity(head.timestamp, m, 'timestamp'))
  return {
    rpcUrl: rpc.url,
    clientVersion: typeof clientVersion === 'string' ? clientVersion : null,
    chainId: Number(quantity(chainId, 'eth_chainId', 'chain id')),
    head: {
      number: Number(quantity(head.number, m, 'block number')),
      hash: String(head.hash),
      timestamp,
      time: new Date(timestamp * 1000).toISOString().replace('.000Z', 'Z'),
    },
    headAgeSeconds: Math.floor(now() / 1000) - timestamp,
    peerCount: peers === null ? null : Number(quantity(peers, 'net_peerCount', 'peer count')),
    gasPrice: quantity(gasPrice, 'eth_gasPrice', 'gas price').toString(),
    syncing: syncing === null ? null : syncing === false ? false : syncing,
  }
}

/** "42s", "3m 5s", "2h 10m", "4d 3h": the two largest units. */
export function formatAge(seconds: number): string {
  if (seconds < 0) return `${formatAge(-seconds)} in the future`
  const units: [string, number][] = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]
  const parts: string[] = []
  let rest = Math.floor(seconds)
  for (const [name, size] of units) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${n}${name}`)
    if (parts.length === 2) break
  }
  return parts.length === 0 ? '0s' : parts.join(' ')
}

function formatSyncing(s: NodeStatus['syncing']): string {
  if (s === null) return 'unknown'
  if (s === false) return 'no'
  const current = typeof s.currentBlock === 'string' ? Number(BigInt(s.currentBlock)) : undefined
  const highest = typeof s.highestBlock === 'string' ? Number(BigInt(s.highestBlock)) : undefined
  return current !== undefined && highest !== undefined ? `yes (block ${current} of ${highest})` : 'yes'
}

export function formatStatus(s: NodeStatus): string {
  const age = s.headAgeSeconds >= 0 ? `${formatAge(s.headAgeSeconds)} ago` : formatAge(s.headAgeSeconds)
  const rows: [string, string][] = [
    ['node', s.rpcUrl],
    ['client', s.clientVersion ?? 'unknown'],
    ['chain id', String(s.chainId)],
    ['head', `#${s.head.number} ${s.head.hash}`],
    ['head time', `${s.head.time} (${age})`],
    ['peers', s.peerCount === null ? 'unknown' : String(s.peerCount)],
    ['gas price', `${formatAmount(BigInt(s.gasPrice), 'gwei')} gwei`],
    ['syncing', formatSyncing(s.syncing)],
  ]
  return rows.map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n')
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("show a node's chain, head block, peers, gas price and sync state")
    .option('--rpc <url>', 'node JSON-RPC URL', parseRpcUrlOption, DEFAULT_RPC_URL)
    .option('--json', 'print the status as JSON')
    .showHelpAfterError(false)
    .action(async (opts: { rpc: string; json?: boolean }) => {
      const status = await fetchStatus(new RpcClient(opts.rpc))
      console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status))
    })
}
