/**
 * eth_call and eth_estimateGas on a light client, as Helios does them: the call runs here, in
 * Catena's own EVM path (Executor + CallRunner), over a state built only from proven data. A
 * source's eth_createAccessList says which accounts and slots the call touches (a hint, not
 * trusted); each of them is fetched with eth_getProof and checked against the verified
 * header's state root, contract code against its proven hash; their trie nodes and code fill
 * an in-memory store, and the call runs over it at that root. A source that hides a slot from
 * the list cannot change the result: the EVM would reach a trie node nobody proved, and the
 * call fails with that said, instead of reading a value nobody checked.
 * @module
 */
import { bytesToHex, concatBytes, equalsBytes, hexToBytes, KECCAK256_NULL } from '@ethereumjs/util'
import { nextBaseFee } from '../../chain/basefee.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'
import { keccak256 } from '../../crypto/hash.ts'
import { CallRunner, DEFAULT_RPC_GAS_CAP, Executor, type CallOutcome, type CallRequest } from '../../execution/index.ts'
import type { Commons } from '../../execution/common.ts'
import { MemoryStore, keys } from '../../storage/index.ts'
import type { LightClient } from './client.ts'
import { VerificationError } from './client.ts'
import type { VerifiedHeader } from './header-chain.ts'
import type { RpcSource } from './source.ts'

/** Accounts a call may name in its access list hint at most (each costs a proof). */
export const MAX_CALL_ACCOUNTS = 64
const CODE_PREFIX = Uint8Array.of(0x63) // 'c': ethereumjs keys code by 'c' + codeHash

interface ListHint {
  accessList?: Array<{ address: `0x${string}`; storageKeys: `0x${string}`[] }>
}

export async function localCall(client: LightClient, spec: ChainSpec, commons: Commons, at: VerifiedHeader, req: CallRequest, mode: 'call' | 'estimate'): Promise<CallOutcome | bigint> {
  // Each source's list in turn: a list left short (by a liar or a bug) makes the run stop at a
  // node nobody proved, and the next source's list is tried.
  const gaps: string[] = []
  for (const src of client.sources) {
    const hint = await askAccessList(src, at, req)
    if (hint === undefined) continue
    try {
      return await runOver(client, spec, commons, at, req, mode, hint)
    } catch (err) {
      if (!(err instanceof VerificationError) || !/no source proved/.test(err.message)) throw err
      gaps.push(`${src.url}: ${err.message}`)
    }
  }
  if (gaps.length > 0) throw new VerificationError(gaps.length === 1 ? gaps[0]! : gaps.join('; '))
  // No source computes access lists: the accounts the call names are all there is to prove.
  return runOver(client, spec, commons, at, req, mode, [])
}

async function runOver(client: LightClient, spec: ChainSpec, commons: Commons, at: VerifiedHeader, req: CallRequest, mode: 'call' | 'estimate', hint: Array<{ address: string; storageKeys: string[] }>): Promise<CallOutcome | bigint> {
  const wanted = new Map<string, Set<string>>()
  const want = (address: Uint8Array | string | undefined, slots: string[] = []) => {
    if (address === undefined) return
    const key = (typeof address === 'string' ? address : bytesToHex(address)).toLowerCase()
    let set = wanted.get(key)
    if (!set) wanted.set(key, (set = new Set()))
    for (const s of slots) set.add(s.toLowerCase())
  }
  // No `from`: the EVM calls from the zero address, whose account it reads too.
  want(req.from ?? new Uint8Array(20))
  want(req.to)
  want(at.header.producer)
  for (const item of req.accessList ?? []) want(item.address, item.storageKeys)
  for (const item of hint) want(item.address, item.storageKeys)
  if (wanted.size > MAX_CALL_ACCOUNTS) throw new VerificationError(`the call touches ${wanted.size} accounts; a light client proves at most ${MAX_CALL_ACCOUNTS}`)

  const store = new MemoryStore()
  const ops: Array<{ type: 'put'; key: Uint8Array; value: Uint8Array }> = []
  for (const [address, slots] of wanted) {
    const addr = hexToBytes(address as `0x${string}`)
    const account = await client.account(addr, at, [...slots].map((s) => hexToBytes(s as `0x${string}`)))
    for (const node of account.nodes) ops.push({ type: 'put', key: keys.stateNode(keccak256(node)), value: node })
    if (!equalsBytes(account.codeHash, KECCAK256_NULL)) {
      const code = await client.code(addr, at)
      ops.push({ type: 'put', key: keys.stateNode(concatBytes(CODE_PREFIX, account.codeHash)), value: code })
    }
  }
  await store.batch(ops)
  const executor = new Executor(store, commons, (h) => client.headers.at(h)?.hash)
  const runner = new CallRunner(executor)
  const ctx = { height: at.header.height + 1n, timestamp: at.header.timestamp, producer: at.header.producer, gasLimit: at.header.gasLimit, baseFee: nextBaseFee(at.header, spec.feeMarket), parentHash: at.hash }
  const gas = { default: at.header.gasLimit, cap: DEFAULT_RPC_GAS_CAP }
  try {
    return mode === 'call' ? await runner.call(at.header.stateRoot, ctx, req, gas) : await runner.estimateGas(at.header.stateRoot, ctx, req, gas)
  } catch (err) {
    // Catena's trie throws on a node it does not hold (it never reads a gap as empty).
    if (/missing from the database|missing node/i.test((err as Error).message)) {
      throw new VerificationError(`the call reads state that no source proved (the access list it was given left it out): ${(err as Error).message}`)
    }
    throw err
  }
}

/** The access list a source computes for the call (a hint: every entry is proven before use); undefined when it gives none. */
async function askAccessList(src: RpcSource, at: VerifiedHeader, req: CallRequest): Promise<Array<{ address: string; storageKeys: string[] }> | undefined> {
  const call = {
    ...(req.from ? { from: bytesToHex(req.from) } : {}),
    ...(req.to ? { to: bytesToHex(req.to) } : {}),
    ...(req.data ? { data: bytesToHex(req.data) } : {}),
    ...(req.value !== undefined ? { value: `0x${req.value.toString(16)}` } : {}),
    ...(req.gas !== undefined ? { gas: `0x${req.gas.toString(16)}` } : {}),
  }
  try {
    const out = await src.call<ListHint>('eth_createAccessList', [call, { blockHash: bytesToHex(at.hash) }])
    const list = Array.isArray(out?.accessList) ? out.accessList : []
    return list
      .filter((i) => typeof i?.address === 'string' && /^0x[0-9a-fA-F]{40}$/.test(i.address))
      .slice(0, MAX_CALL_ACCOUNTS)
      .map((i) => ({ address: i.address, storageKeys: (Array.isArray(i.storageKeys) ? i.storageKeys : []).filter((k) => typeof k === 'string' && /^0x[0-9a-fA-F]{64}$/.test(k)).slice(0, 256) }))
  } catch {
    return undefined
  }
}
