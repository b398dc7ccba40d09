/**
 * Contract transactions from the CLI (permissions votes, multisig actions, deployments):
 * try the call with eth_call as the sender first, so a tx the contract would refuse is never
 * signed and the user reads the contract's own reason; then sign it with a keystore key,
 * send it, wait for its block and hand back the contract's logs.
 * @module
 */
import { resolve } from 'node:path'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { RpcClient, RpcClientError } from './rpc-client.ts'
import { findAccount, keystoreDir } from './commands/account.ts'
import { send } from './commands/send.ts'

/** Builds the error for a refused call from the node's message and the revert data (if any). */
export type Refusal = (rpcMessage: string, revertData: Uint8Array | undefined) => Error

export interface ContractTxOptions {
  from?: string
  rpc: string
  datadir: string
  passwordFile?: string
  timeout: number
  json?: boolean
  /** Nothing on stdout from the send itself (the caller prints its own result). */
  quiet?: boolean
}

export interface ContractLog {
  address: string
  topics: Uint8Array[]
  data: Uint8Array
}

/** Runs the tx as an eth_call from `from`; a revert throws `refused(...)`. `to` undefined: a deployment. */
export async function preflight(rpc: RpcClient, tx: { from: string; to?: string; data: Uint8Array; value?: bigint }, refused: Refusal): Promise<void> {
  try {
    const value = tx.value ? { value: `0x${tx.value.toString(16)}` } : {}
    await rpc.call('eth_call', [{ from: tx.from, ...(tx.to ? { to: tx.to } : {}), data: bytesToHex(tx.data), ...value }, 'latest'])
  } catch (err) {
    if (!(err instanceof RpcClientError) || err.code !== 'RPC_ERROR') throw err
    const revert = typeof err.data === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(err.data) ? hexToBytes(err.data as `0x${string}`) : undefined
    throw refused(err.rpcMessage ?? err.message, revert)
  }
}

/**
 * Pre-checks, signs and sends `data` to `to` (a deployment when `to` is undefined) from the
 * keystore account, waits for the block, and returns the receipt's logs emitted by `to` (or by
 * the new contract) with the contract's address.
 */
export async function sendContractTx(
  opts: ContractTxOptions,
  to: string | undefined,
  data: Uint8Array,
  refused: Refusal,
): Promise<{ hash: string; contractAddress: string; logs: ContractLog[] }> {
  const rpc = new RpcClient(opts.rpc)
  const account = await findAccount(keystoreDir(resolve(opts.datadir)), opts.from)
  await preflight(rpc, { from: account.address, ...(to ? { to } : {}), data }, refused)
  const { hash } = await send({
    ...(to ? { to } : {}),
    value: 0n,
    from: account.address,
    rpc: opts.rpc,
    datadir: opts.datadir,
    ...(opts.passwordFile ? { passwordFile: opts.passwordFile } : {}),
    data: bytesToHex(data),
    wait: true,
    timeout: opts.timeout,
    json: opts.json,
    quiet: opts.quiet,
  })
  const receipt = await rpc.call<{ contractAddress?: string | null; logs: Array<{ address: string; topics: string[]; data: string }> }>('eth_getTransactionReceipt', [hash])
  const contractAddress = (to ?? receipt.contractAddress ?? '').toLowerCase()
  const logs = receipt.logs
    .filter((l) => l.address.toLowerCase() === contractAddress)
    .map((l) => ({ address: l.address, topics: l.topics.map((t) => hexToBytes(t as `0x${string}`)), data: hexToBytes(l.data as `0x${string}`) }))
  return { hash, contractAddress, logs }
}
