/** eth_ methods that read account state, run calls (and their access lists), or prove state. */
import { Address, bytesToHex, setLengthLeft } from '@ethereumjs/util'
import { CallBusyError, CallError, CallPoolError, CallTimeoutError, type CallOutcome, type CallRequest } from '../../execution/index.ts'
import { getAccountProof } from '../../state/index.ts'
import { executionReverted, invalidParams, limitExceeded, serverError } from '../rpc/errors.ts'
import { expectParams, parseAddress, parseBlockTag, parseStorageSlot, parseTxCallObject, toData, toQuantity, type TxCallObject } from '../rpc/params.ts'
import type { RpcHandler } from '../rpc/server.ts'
import { withBudget } from '../rpc/work-budget.ts'
import { requireBlock, stateAt, type EthBackend } from './backend.ts'

const LATEST = { tag: 'latest' as const }
const MAX_PROOF_SLOTS = 1024

export function stateMethods(b: EthBackend): Record<string, RpcHandler> {
  return {
    eth_getBalance: async (params) => {
      expectParams(params, 1, 2)
      const address = parseAddress(params[0], 'address')
      const block = requireBlock(b, parseBlockTag(params[1], 'block', LATEST))
      const account = await b.readAccount(block.header.stateRoot, new Address(address))
      return toQuantity(account?.balance ?? 0n)
    },
    eth_getTransactionCount: async (params) => {
      expectParams(params, 1, 2)
      const address = parseAddress(params[0], 'address')
      const ref = parseBlockTag(params[1], 'block', LATEST)
      if ('tag' in ref && ref.tag === 'pending') return toQuantity(await b.mempool.nextNonce(new Address(address)))
      const account = await b.readAccount(requireBlock(b, ref).header.stateRoot, new Address(address))
      return toQuantity(account?.nonce ?? 0n)
    },
    eth_getCode: async (params) => {
      expectParams(params, 1, 2)
      const address = parseAddress(params[0], 'address')
      const block = requireBlock(b, parseBlockTag(params[1], 'block', LATEST))
      return toData(await stateAt(b, block).manager.getCode(new Address(address)))
    },
    eth_getStorageAt: async (params) => {
      expectParams(params, 2, 3)
      const address = parseAddress(params[0], 'address')
      const slot = parseStorageSlot(params[1], 'storage slot')
      const block = requireBlock(b, parseBlockTag(params[2], 'block', LATEST))
      const world = stateAt(b, block)
      const account = await world.manager.getAccount(new Address(address))
      if (!account) return bytesToHex(new Uint8Array(32))
      const value = await world.manager.getStorage(new Address(address), slot)
      return bytesToHex(setLengthLeft(value, 32))
    },
    eth_getProof: async (params) => {
      expectParams(params, 2, 3)
      const address = parseAddress(params[0], 'address')
      if (!Array.isArray(params[1])) throw invalidParams('invalid storageKeys: expected an array of 32-byte slots')
      if (params[1].length > MAX_PROOF_SLOTS) throw invalidParams(`invalid storageKeys: at most ${MAX_PROOF_SLOTS} slots`)
      const slots = params[1].map((s, i) => parseStorageSlot(s, `storageKeys[${i}]`))
      const block = requireBlock(b, parseBlockTag(params[2], 'block', LATEST))
      return getAccountProof(stateAt(b, block), address, slots)
    },
    eth_call: async (params, ctx) => {
      expectParams(params, 1, 3)
      const req = toCallRequest(parseTxCallObject(params[0]))
      const block = requireBlock(b, parseBlockTag(params[1], 'block', LATEST))
      if (params[2] !== undefined && params[2] !== null) throw invalidParams('state overrides are not supported')
      const call = (deadline: number | undefined) => b.calls.call(block.header.stateRoot, callContext(b, block), req, b.callGas(), { deadline })
      const out = await runOrReject(() => withBudget(ctx, call))
      throwIfFailed(out)
      return toData(out.returnValue)
    },
    eth_estimateGas: async (params, ctx) => {
      expectParams(params, 1, 2)
      const req = toCallRequest(parseTxCallObject(params[0]))
      const block = requireBlock(b, parseBlockTag(params[1], 'block', LATEST))
      const estimate = (deadline: number | undefined) => b.calls.estimateGas(block.header.stateRoot, callContext(b, block), req, b.callGas(), { deadline })
      try {
        return toQuantity(await runOrReject(() => withBudget(ctx, estimate)))
      } catch (err) {
        const outcome = (err as { outcome?: CallOutcome }).outcome
        if (outcome) throwIfFailed(outcome)
        throw err
      }
    },
    /**
     * geth's eth_createAccessList: { accessList, gasUsed, error? } for a call on top of the
     * block. On a chain with parallel execution the list is also what the tx must declare
     * (execution/access-list.ts); wallets send it in an EIP-2930 or EIP-1559 tx.
     */
    eth_createAccessList: async (params, ctx) => {
      expectParams(params, 1, 2)
      const req = toCallRequest(parseTxCallObject(params[0]))
      const block = requireBlock(b, parseBlockTag(params[1], 'block', LATEST))
      const parallel = b.chain.spec.execution?.parallel === true
      const create = (deadline: number | undefined) => b.calls.createAccessList(block.header.stateRoot, callContext(b, block), req, b.callGas(), parallel, { deadline })
      const out = await runOrReject(() => withBudget(ctx, create))
      return { accessList: out.accessList, ...(out.error !== undefined ? { error: out.error } : {}), gasUsed: toQuantity(out.gasUsed) }
    },
  }
}

/** Calls run on top of the block as if in the next one (geth's behaviour for "latest"). */
function callContext(b: EthBackend, block: { hash: Uint8Array; header: import('../../chain/block.ts').BlockHeader }) {
  const h = block.header
  return {
    height: h.height + 1n,
    timestamp: h.timestamp,
    producer: h.producer,
    gasLimit: h.gasLimit,
    baseFee: b.nextBaseFee(),
    parentHash: block.hash,
  }
}

export function toCallRequest(o: TxCallObject): CallRequest {
  return {
    from: o.from,
    to: o.to,
    gas: o.gas,
    gasPrice: o.gasPrice,
    maxFeePerGas: o.maxFeePerGas,
    maxPriorityFeePerGas: o.maxPriorityFeePerGas,
    value: o.value,
    data: o.data,
    nonce: o.nonce,
    accessList: o.accessList?.map((i) => ({ address: bytesToHex(i.address), storageKeys: i.storageKeys.map((k) => bytesToHex(k)) })),
  }
}

/** Call failures as geth answers them: a call that cannot start or runs out of time is -32000, a full queue -32005. */
async function runOrReject<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof CallError && err.outcome) throw err // estimateGas: the failed run decides the error
    if (err instanceof CallError) throw serverError(err.message)
    if (err instanceof CallTimeoutError) throw serverError(err.message)
    if (err instanceof CallBusyError) throw limitExceeded(err.message)
    if (err instanceof CallPoolError && err.code === 'CLOSED') throw serverError(err.message)
    throw err
  }
}

export function throwIfFailed(out: CallOutcome): void {
  if (out.success) return
  if (out.reverted) throw executionReverted(out.returnValue)
  throw serverError(out.error ?? 'execution failed')
}

