/**
 * System contracts: contracts the node itself deploys at genesis and reads after blocks
 * (the permissions contract of consortium chains). Deployment runs the creation code in
 * the context of the fixed address, so the constructor's storage writes land there; reads
 * are view calls on the state being built, reverted afterwards so they leave no trace.
 */
import type { EVMInterface } from '@ethereumjs/evm'
import type { Block as EvmBlock } from '@ethereumjs/block'
import { Account, Address, bytesToHex } from '@ethereumjs/util'
import type { OverlayState } from '../state/index.ts'

/** Enough for any view over the permissions lists; a call is never paid for. */
const SYSTEM_CALL_GAS = 100_000_000n

export class SystemContractError extends Error {
  override readonly name = 'SystemContractError'
  constructor(message: string) {
    super(message)
  }
}

/** Runs `initCode` as the constructor of a contract at `address` and stores the code it returns. */
export async function deploySystemContract(evm: EVMInterface, state: OverlayState, address: Uint8Array, initCode: Uint8Array): Promise<void> {
  const at = new Address(address)
  // As CREATE would: the account exists (nonce 1, EIP-161) before the constructor writes storage.
  await state.putAccount(at, new Account(1n, (await state.getAccount(at))?.balance ?? 0n))
  const result = await evm.runCode({ code: initCode, data: new Uint8Array(0), to: at, caller: new Address(new Uint8Array(20)), gasLimit: SYSTEM_CALL_GAS })
  if (result.exceptionError) {
    throw new SystemContractError(`deploying the system contract at ${bytesToHex(address)} failed: ${result.exceptionError.error}`)
  }
  await state.putCode(at, result.returnValue)
}

/** A view call into a system contract on `state`; its effects are reverted. Returns the return data. */
export async function callSystemContract(
  evm: EVMInterface,
  state: OverlayState,
  address: Uint8Array,
  data: Uint8Array,
  block?: EvmBlock,
): Promise<Uint8Array> {
  await state.checkpoint()
  try {
    const result = await evm.runCall({ to: new Address(address), caller: new Address(new Uint8Array(20)), data, gasLimit: SYSTEM_CALL_GAS, ...(block ? { block } : {}) })
    const err = result.execResult.exceptionError
    if (err) throw new SystemContractError(`call to the system contract at ${bytesToHex(address)} failed: ${err.error}`)
    return result.execResult.returnValue
  } finally {
    await state.revert()
  }
}

/**
 * A state-changing call the chain itself makes (slashing), from `caller` (SYSTEM_ADDRESS). It
 * is kept when it succeeds and fully reverted when it fails; returns whether it succeeded.
 */
export async function applySystemCall(
  evm: EVMInterface,
  state: OverlayState,
  caller: Uint8Array,
  address: Uint8Array,
  data: Uint8Array,
  block?: EvmBlock,
): Promise<boolean> {
  await state.checkpoint()
  const result = await evm.runCall({ to: new Address(address), caller: new Address(caller), data, gasLimit: SYSTEM_CALL_GAS, skipBalance: true, ...(block ? { block } : {}) })
  if (result.execResult.exceptionError) {
    await state.revert()
    return false
  }
  await state.commit()
  return true
}
