/** One transaction: fields, status, fee, input and logs (decoded when the ABI is known). */
import { decodeLog, eventArgs, systemContractName } from '../abi.ts'
import { getChain, getTx } from '../api/data.ts'
import type { TxDetail, TxLog } from '../api/types.ts'
import { addressLink, blockLink, fields, mono, section, statusBadge, table, throttle } from '../components.ts'
import { h, type Child } from '../dom.ts'
import { feeOf, formatEth, formatGwei, formatInt } from '../format.ts'
import type { PageContext } from '../router.ts'
import { isAbort } from '../states.ts'

const TX_TYPES: Record<string, string> = { '0': 'legacy', '1': 'EIP-2930', '2': 'EIP-1559' }

export async function txPage(ctx: PageContext): Promise<void> {
  const hash = ctx.params[0]!
  ctx.setTitle(`Transaction ${hash.slice(0, 10)}…`)
  const draw = async (): Promise<TxDetail> => {
    const [tx, chain] = await Promise.all([getTx(ctx, hash), getChain(ctx)])
    ctx.view.replaceChildren(...render(tx, chain.head.height))
    return tx
  }
  const tx = await draw()
  if (tx.status !== 'pending') return
  // Pending: redraw as blocks arrive until it is included.
  let done = false
  const refresh = throttle(() => {
    if (done) return
    draw()
      .then((t) => { done = t.status !== 'pending' })
      .catch((err) => { if (!isAbort(err)) console.warn(err) })
  }, 1000)
  const stop = ctx.live.subscribe('newHeads', () => refresh())
  const poll = setInterval(() => { if (ctx.live.state !== 'live') refresh() }, 4000)
  ctx.onDispose(() => { stop(); refresh.cancel(); clearInterval(poll) })
}

function render(tx: TxDetail, headHeight: number): HTMLElement[] {
  const type = TX_TYPES[String(Number(tx.type))] ?? String(tx.type)
  const confirmations = tx.blockHeight === null ? null : headHeight - tx.blockHeight + 1
  const rows: [string, Child][] = [
    ['Hash', mono(tx.hash)],
    ['Status', statusBadge(tx.status)],
    ['Block', tx.blockHeight === null
      ? h('span', { class: 'muted' }, 'waiting in the mempool')
      : h('span', null, blockLink(tx.blockHeight, formatInt(tx.blockHeight)), ` · index ${tx.index ?? '—'} · ${formatInt(confirmations)} confirmation${confirmations === 1 ? '' : 's'}`)],
    ['From', addressLink(tx.from, true)],
    ['To', tx.to ? addressLink(tx.to, true) : h('span', null, 'contract creation', tx.contractAddress ? h('span', null, ': ', addressLink(tx.contractAddress, true)) : null)],
    ['Value', h('span', { 'data-testid': 'tx-value' }, formatEth(tx.value))],
    ['Fee', feeOf(tx.gasUsed, tx.effectiveGasPrice)],
    ['Gas used / limit', `${formatInt(tx.gasUsed)} / ${formatInt(tx.gasLimit)}`],
    ['Gas price', formatGwei(tx.effectiveGasPrice, 9)],
    ...(tx.maxFeePerGas !== null ? [['Max fee / priority fee', `${formatGwei(tx.maxFeePerGas, 9)} / ${formatGwei(tx.maxPriorityFeePerGas, 9)}`] as [string, Child]] : []),
    ['Nonce', formatInt(tx.nonce)],
    ['Type', `${Number(tx.type)} (${type})`],
  ]
  return [
    h('h1', { class: 'page-title' }, 'Transaction'),
    section('Overview', fields(rows)),
    section('Input data', tx.input === '0x' || tx.input === ''
      ? h('p', { class: 'muted' }, 'None (a plain transfer).')
      : h('details', null,
        h('summary', null, `${formatInt((tx.input.length - 2) / 2)} bytes${tx.to ? `, function selector ${tx.input.slice(0, 10)}` : ' of contract creation code'}`),
        h('pre', { class: 'mono wrap input' }, tx.input))),
    section(`Logs (${tx.logs.length})`, tx.logs.length === 0 ? h('p', { class: 'muted' }, tx.status === 'pending' ? 'Logs appear once the transaction is in a block.' : 'This transaction emitted no logs.') : tx.logs.map(renderLog)),
  ]
}

function renderLog(log: TxLog): HTMLElement {
  const decoded = decodeLog(log)
  const contract = systemContractName(log.address)
  return h('article', { class: 'log', 'data-log': log.logIndex },
    h('header', { class: 'log-head' },
      h('span', { class: 'log-index' }, `#${log.logIndex}`),
      decoded ? h('strong', { class: 'event-name', 'data-testid': 'event-name' }, `${contract ? `${contract}.` : ''}${decoded.event}`) : h('span', { class: 'muted' }, 'unknown event'),
      h('span', null, ' at ', addressLink(log.address)),
    ),
    decoded
      ? table<[string, string]>([
        { label: 'Argument', cell: ([k]) => k },
        { label: 'Value', cell: ([, v]) => (/^0x[0-9a-fA-F]{40}$/.test(v) ? addressLink(v, true) : mono(v)) },
      ], eventArgs(decoded))
      : null,
    h('details', null,
      h('summary', null, 'Raw topics and data'),
      fields([...log.topics.map((t, i): [string, HTMLElement] => [`topic ${i}`, mono(t)]), ['data', mono(log.data)]]),
    ),
  )
}
