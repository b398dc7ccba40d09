/** An account or contract: balance, nonce, code, and its recent transactions (kept current). */
import { systemContractName } from '../abi.ts'
import { getAccount, getAccountTxs, restRouteMissing } from '../api/data.ts'
import type { Account, TxSummary } from '../api/types.ts'
import { fields, mono, section, throttle } from '../components.ts'
import { h, replace } from '../dom.ts'
import { formatBytes, formatEth, formatInt } from '../format.ts'
import type { PageContext } from '../router.ts'
import { errorState, isAbort, loading } from '../states.ts'
import { txTable } from './block.ts'

const PAGE_SIZE = 25

export async function accountPage(ctx: PageContext): Promise<void> {
  const address = ctx.params[0]!
  const account = await getAccount(ctx, address)
  ctx.setTitle(`Address ${account.address}`)
  const name = systemContractName(account.address)
  const summaryEl = h('div')
  const txsEl = h('div', null, loading('Loading transactions…'))
  ctx.view.replaceChildren(
    h('h1', { class: 'page-title' }, account.isContract ? 'Contract' : 'Account', name ? ` · ${name}` : ''),
    h('p', { class: 'mono wrap subtitle', 'data-testid': 'address' }, account.address),
    section('Overview', summaryEl),
    section('Recent transactions', txsEl),
  )
  const renderSummary = (a: Account): void => {
    replace(summaryEl, fields([
      ['Balance', h('span', { 'data-testid': 'balance' }, formatEth(a.balance))],
      ['Nonce', h('span', { 'data-testid': 'nonce' }, formatInt(a.nonce))],
      ['Type', a.isContract ? `contract${name ? ` (Catena system contract ${name})` : ''}` : 'externally owned account'],
      ['Code size', a.isContract ? `${formatBytes(a.codeSize)} (${formatInt(a.codeSize)} bytes)` : '0'],
      ['Code hash', mono(a.codeHash)],
    ]))
  }
  renderSummary(account)

  let txs: TxSummary[] = []
  let cursor: string | null = null
  const renderTxs = (): void => {
    replace(txsEl,
      txTable(txs, 'No transactions to or from this address yet.', account.address),
      cursor ? h('button', { type: 'button', class: 'button more', onclick: () => void loadMore() }, 'Older transactions') : null,
    )
  }
  const loadFirst = async (): Promise<void> => {
    try {
      const page = await getAccountTxs(ctx, account.address, PAGE_SIZE)
      txs = page.items
      cursor = page.nextCursor
      renderTxs()
    } catch (err) {
      if (!isAbort(err)) replace(txsEl, errorState(err, () => void loadFirst()))
    }
  }
  const loadMore = async (): Promise<void> => {
    if (!cursor) return
    try {
      const page = await getAccountTxs(ctx, account.address, PAGE_SIZE, cursor)
      txs = [...txs, ...page.items.filter((t) => !txs.some((x) => x.hash === t.hash))]
      cursor = page.nextCursor
      renderTxs()
    } catch (err) {
      if (!isAbort(err)) txsEl.append(errorState(err))
    }
  }
  void loadFirst()

  // Balances change with every block: refresh the summary, and the list while on its first page.
  const refresh = throttle(() => {
    getAccount(ctx, account.address).then(renderSummary).catch((err) => { if (!isAbort(err)) console.warn(err) })
    if (txs.length <= PAGE_SIZE && !restRouteMissing('account-txs')) void loadFirst()
  }, 1000)
  const stop = ctx.live.subscribe('newHeads', () => refresh())
  const poll = setInterval(() => { if (ctx.live.state !== 'live') refresh() }, 5000)
  ctx.onDispose(() => { stop(); refresh.cancel(); clearInterval(poll) })
}
