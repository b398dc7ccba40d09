/**
 * The main thread's side of a batch: a tx's writes merged into the block's overlay, and the
 * coinbase's tips, which every tx pays and so are added up outside the conflict sets.
 * @module
 */
import { Address, hexToBytes } from '@ethereumjs/util'
import type { OverlayState } from '../../state/index.ts'
import type { TxWrites } from './chunk.ts'
import { isEmptyAccount } from './guard.ts'
import { headerOf } from './prestate.ts'

/** Applies one tx's writes in the order the tx made them: storage wipes, headers (and code), slots. */
export async function applyWrites(state: OverlayState, w: TxWrites): Promise<void> {
  await state.checkpoint()
  for (const a of w.cleared) await state.clearStorage(new Address(hexToBytes(a)))
  const codes = new Map(w.codes)
  for (const [a, h] of w.headers) {
    const address = new Address(hexToBytes(a))
    if (h === null) {
      await state.deleteAccount(address)
      continue
    }
    const code = codes.get(a)
    if (code) await state.putCode(address, code)
    await state.putAccount(address, headerOf(h))
  }
  for (const [a, k, v] of w.slots) await state.putStorage(new Address(hexToBytes(a)), hexToBytes(k), v)
  // With no checkpoint open the overlay drops its undo journal: nothing here is ever undone.
  await state.commit()
}

/**
 * The tips owed to the EVM's coinbase by txs that did not declare it. In block order the VM
 * would have credited each tx's tip right after it; no tx in between could see the balance
 * (a tx that declares the coinbase runs alone, and the tips are paid before it), so paying the
 * sum at once ends the same. One detail of the in-order path is kept: by EIP-161, when the
 * first of those txs pays a zero tip to a coinbase that exists but is empty, that touch deletes
 * it (with its storage) before later tips recreate it.
 */
export class CoinbaseTips {
  private pending = 0n
  /** The lowest block index that owed a tip since the last payment, and its tip. */
  private first?: { index: number; tip: bigint }

  constructor(
    private readonly state: OverlayState,
    private readonly coinbase: Address,
  ) {}

  /** Tx `index` (in block order) owes `tip`. */
  add(index: number, tip: bigint): void {
    if (!this.first || index < this.first.index) this.first = { index, tip }
    this.pending += tip
  }

  /** Credits what is owed (before a tx that declares the coinbase runs, and at the end of the block). */
  async pay(): Promise<void> {
    if (!this.first) return
    const { state, coinbase } = this
    await state.checkpoint()
    const account = await state.getAccount(coinbase)
    if (account && isEmptyAccount(account) && this.first.tip === 0n) await state.deleteAccount(coinbase)
    if (this.pending > 0n) {
      const now = await state.getAccount(coinbase)
      await state.modifyAccountFields(coinbase, { balance: (now?.balance ?? 0n) + this.pending })
    }
    await state.commit()
    this.pending = 0n
    this.first = undefined
  }
}
