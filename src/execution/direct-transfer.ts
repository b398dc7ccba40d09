/**
 * The direct value-transfer path: a plain transfer (no data, no access list, to an account
 * without code that is neither the sender, the block's coinbase nor a precompile) is applied
 * without entering the EVM, with exactly what ethereumjs's runTx does for it (Prague):
 *
 *   gas used   = the intrinsic gas (21,000)
 *   sender     : nonce + 1, balance - value - gasUsed x effectiveGasPrice
 *   recipient  : balance + value
 *   coinbase   : balance + gasUsed x (effectiveGasPrice - baseFee)   (the rest is burnt)
 *   then EIP-161: a touched account left empty (recipient, coinbase) is deleted.
 *
 * Anything that would fail (gas limit below the intrinsic gas or over the block's, fee cap
 * below the base fee, a wrong nonce, funds short of the upfront or max cost, a sender with
 * code) is not decided here: the caller runs it through the EVM as before, so errors keep
 * their exact wording. The differential test (test/unit/execution/direct-transfer.test.ts)
 * checks random mixed blocks built both ways give identical roots, receipts and rejections.
 * @module
 */
import type { Block as EvmBlock } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Account, Address, KECCAK256_NULL, equalsBytes } from '@ethereumjs/util'
import type { OverlayState } from '../state/index.ts'

/** Addresses at or below 0xffff: the precompiles and what forks may add there. */
function isPrecompileRange(a: Uint8Array): boolean {
  for (let i = 0; i < 18; i++) if (a[i] !== 0) return false
  return true
}

/** Whether a tx has the shape of a plain transfer (cheap: no state read). */
export function isPlainTransfer(tx: TypedTransaction): boolean {
  if (tx.type > 2 || tx.to === undefined || tx.data.length !== 0) return false
  return !('accessList' in tx) || (tx.accessList as unknown[]).length === 0
}

/**
 * Applies `tx` if it is a plain transfer that succeeds; returns its gas used, or undefined
 * (nothing changed) when it must go through the EVM.
 */
export async function applyDirectTransfer(state: OverlayState, tx: TypedTransaction, sender: Uint8Array, block: EvmBlock): Promise<bigint | undefined> {
  if (!isPlainTransfer(tx)) return undefined
  const to = tx.to!.bytes
  const coinbase = block.header.coinbase.bytes
  if (equalsBytes(to, sender) || equalsBytes(to, coinbase) || equalsBytes(sender, coinbase) || isPrecompileRange(to)) return undefined
  const baseFee = block.header.baseFeePerGas ?? 0n
  const gasUsed = tx.getIntrinsicGas()
  if (tx.gasLimit < gasUsed || tx.gasLimit > block.header.gasLimit) return undefined
  const fees = feesOf(tx, baseFee)
  if (!fees) return undefined

  const from = new Address(sender)
  const fromAccount = (await state.getAccount(from)) ?? new Account()
  if (!equalsBytes(fromAccount.codeHash, KECCAK256_NULL)) return undefined
  if (fromAccount.nonce !== tx.nonce) return undefined
  if (fromAccount.balance < tx.getUpfrontCost(baseFee) || fromAccount.balance < fees.maxCost) return undefined
  const toAddress = new Address(to)
  const toAccount = (await state.getAccount(toAddress)) ?? new Account()
  if (!equalsBytes(toAccount.codeHash, KECCAK256_NULL)) return undefined

  fromAccount.nonce += 1n
  fromAccount.balance -= tx.value + gasUsed * fees.gasPrice
  await state.putAccount(from, fromAccount)
  toAccount.balance += tx.value
  await putOrClean(state, toAddress, toAccount)
  const coinbaseAddress = new Address(coinbase)
  const miner = (await state.getAccount(coinbaseAddress)) ?? new Account()
  miner.balance += gasUsed * fees.inclusionFee
  await putOrClean(state, coinbaseAddress, miner)
  return gasUsed
}

/** runTx's fee arithmetic: undefined when the fee cap is below the base fee (the EVM path says so). */
function feesOf(tx: TypedTransaction, baseFee: bigint): { gasPrice: bigint; inclusionFee: bigint; maxCost: bigint } | undefined {
  if ('maxFeePerGas' in tx) {
    const t = tx as TypedTransaction & { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
    if (t.maxFeePerGas < baseFee || t.maxPriorityFeePerGas > t.maxFeePerGas) return undefined
    const inclusionFee = tx.getEffectivePriorityFee(baseFee)
    return { gasPrice: inclusionFee + baseFee, inclusionFee, maxCost: tx.value + tx.gasLimit * t.maxFeePerGas }
  }
  const gasPrice = (tx as TypedTransaction & { gasPrice: bigint }).gasPrice
  if (gasPrice < baseFee) return undefined
  return { gasPrice, inclusionFee: gasPrice - baseFee, maxCost: tx.value }
}

/** EIP-161, as the EVM journal's cleanup: a touched account left empty is deleted. */
async function putOrClean(state: OverlayState, address: Address, account: Account): Promise<void> {
  if (account.isEmpty()) await state.deleteAccount(address)
  else await state.putAccount(address, account)
}
