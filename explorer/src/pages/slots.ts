/**
 * Slots (PoH chains): the clock (slot, leader, PoH hashes/s and the slot length it gives),
 * processed / confirmed / finalized heights, the recent blocks in slot time (parent slot,
 * skipped slots, leader, votes carried, commitment), charts of the hash rate and of skipped
 * slots and votes per block, and the leaders of the coming slots with their stake.
 */
import { getBlocks, getPohSchedule, getPohStatus } from '../api/data.ts'
import { ApiError } from '../api/http.ts'
import type { BlockSummary, PohSchedule, PohStatus } from '../api/types.ts'
import { lineChart, type Point } from '../charts.ts'
import { addressLink, ageOf, blockLink, commitmentBadge, fields, note, section, stat, table, throttle } from '../components.ts'
import { h, replace, type Child } from '../dom.ts'
import { compact, formatEth, formatInt, formatNumber, formatPercent } from '../format.ts'
import { commitmentOf, formatHashrate, skipRate, skippedRange, slotMs, stakeShares, upcomingLeaders, type LeaderTurn } from '../poh.ts'
import type { PageContext } from '../router.ts'
import { errorState, isAbort } from '../states.ts'

const BLOCKS = 50
const STATUS_MS = 2000
/** Slots are ~400 ms: the list reloads at most this often (the REST API is rate limited per client). */
const BLOCKS_MS = 1000
const SAMPLES_KEPT = 150
const TURNS_SHOWN = 8

export async function slotsPage(ctx: PageContext): Promise<void> {
  ctx.setTitle('Slots')
  let [status, blocks, schedule] = await Promise.all([
    getPohStatus(ctx),
    getBlocks(ctx, BLOCKS).then((p) => p.items),
    getPohSchedule(ctx).catch((err: unknown) => (err instanceof ApiError ? err : Promise.reject(err))),
  ])
  // The clock's hash rate as this page sees it, sampled at each status poll.
  const samples: Point[] = [{ x: Date.now() / 1000, y: status.hashrate }]
  const body = h('div')
  ctx.view.replaceChildren(h('h1', { class: 'page-title' }, 'Slots ', h('span', { class: 'muted small' }, 'Proof of History')), body)
  const draw = () => render(body, status, blocks, schedule, samples)
  draw()

  const pollStatus = async (): Promise<void> => {
    try {
      status = await getPohStatus(ctx)
      samples.push({ x: Date.now() / 1000, y: status.hashrate })
      if (samples.length > SAMPLES_KEPT) samples.splice(0, samples.length - SAMPLES_KEPT)
      const s = schedule
      if (!(s instanceof ApiError) && status.slot > s.lastSlot) schedule = await getPohSchedule(ctx)
      draw()
      // Without the WebSocket (or when heads came faster than the list reloads), catch up here.
      if (status.heights.processed > (blocks[0]?.height ?? -1)) reloadBlocks()
    } catch (err) {
      if (!isAbort(err)) console.warn('poh status failed', err)
    }
  }
  const timer = setInterval(() => void pollStatus(), STATUS_MS)
  const reloadBlocks = throttle(() => {
    getBlocks(ctx, BLOCKS).then((p) => { blocks = p.items; draw() }).catch((err) => { if (!isAbort(err)) console.warn(err) })
  }, BLOCKS_MS)
  const stop = ctx.live.subscribe('newHeads', () => reloadBlocks())
  ctx.onDispose(() => { clearInterval(timer); stop(); reloadBlocks.cancel() })
}

function render(body: HTMLElement, s: PohStatus, blocks: BlockSummary[], schedule: PohSchedule | ApiError, samples: Point[]): void {
  const ms = slotMs(s.clock, s.hashrate)
  const slotted = blocks.filter((b) => b.poh)
  const rate = skipRate(slotted)
  const bySlot = (f: (b: BlockSummary) => number): Point[] => slotted.map((b) => ({ x: b.poh!.slot, y: f(b) })).reverse()
  const slotLabel = (v: number) => `slot ${formatInt(Math.round(v))}`
  const clockTime = (x: number) => new Date(x * 1000).toLocaleTimeString('en-GB', { hour12: false })

  replace(body,
    h('div', { class: 'stats' },
      stat('Slot', formatInt(s.slot), 'poh-slot', 'the slot of this node\'s clock now'),
      stat('Leader', addressLink(s.leader, false, true), 'poh-leader', 'who may produce the block of this slot'),
      stat('PoH hash rate', s.hashrate > 0 ? formatHashrate(s.hashrate) : '—', 'poh-hashrate', s.hashrate === 0 ? 'this node runs no PoH clock (no validator key)' : s.clock.minSlotMs ? 'SHA-256 hashes per second of this node\'s PoH clock; on this paced cluster the clock waits between ticks, so this is the paced rate' : 'SHA-256 hashes per second of this node\'s PoH clock'),
      stat('Slot length', ms === null ? '—' : `${formatNumber(ms, 0)} ms`, 'poh-slot-ms', `${formatInt(s.clock.hashesPerSlot)} hashes per slot (${s.clock.ticksPerSlot} ticks of ${formatInt(s.clock.hashesPerTick)})${s.clock.minSlotMs ? `, at least ${s.clock.minSlotMs} ms on this paced cluster` : ''}`),
      stat('Processed', blockLink(s.heights.processed, formatInt(s.heights.processed)), 'poh-processed', 'this node\'s head'),
      stat('Confirmed', blockLink(s.heights.confirmed, formatInt(s.heights.confirmed)), 'poh-confirmed', 'more than 2/3 of the stake voted for it (RPC tag "safe")'),
      stat('Finalized', blockLink(s.heights.finalized, formatInt(s.heights.finalized)), 'poh-finalized', 'rooted: maximum lockout (RPC tag "finalized")'),
      stat('Skipped slots', formatPercent(rate), 'poh-skip-rate', `of the slots spanned by the last ${slotted.length} blocks`),
    ),
    s.hashrate > 0
      ? null
      : note('This node runs no PoH clock (it has no validator key): its slot follows its head, and the hash rate is measured on the validators.'),
    h('div', { class: 'charts' },
      lineChart({ id: 'poh-hashrate', title: 'PoH hashes per second (this node)', xFormat: clockTime, yFormat: (v) => compact(v), tipFormat: (v) => formatHashrate(v), series: [{ name: 'hashes/s', points: samples }] }),
      lineChart({ id: 'poh-skipped', title: 'Skipped slots before each block', kind: 'bar', xFormat: slotLabel, yFormat: (v) => compact(v), series: [{ name: 'skipped', points: bySlot((b) => b.poh!.skippedSlots) }] }),
      lineChart({ id: 'poh-votes', title: 'Votes carried per block', kind: 'bar', xFormat: slotLabel, yFormat: (v) => compact(v), series: [{ name: 'votes', points: bySlot((b) => b.poh!.votes) }] }),
    ),
    section('Recent slots', slotTable(slotted, s)),
    h('div', { class: 'columns' },
      section('Coming leaders', schedule instanceof ApiError ? errorState(schedule) : leaderTable(upcomingLeaders(schedule, s.slot, TURNS_SHOWN), schedule)),
      section('Stake behind the schedule', schedule instanceof ApiError ? errorState(schedule) : stakeTable(schedule)),
    ),
    section('Votes', voteFields(s)),
  )
}

export function slotTable(blocks: BlockSummary[], s: PohStatus): HTMLElement {
  return table<BlockSummary>([
    { label: 'Slot', cell: (b) => blockLink(b.height, formatInt(b.poh!.slot)) },
    { label: 'Block', cell: (b) => blockLink(b.height, `#${formatInt(b.height)}`) },
    { label: 'Parent slot', cell: (b) => formatInt(b.poh!.parentSlot), class: 'num' },
    { label: 'Skipped', cell: (b) => (b.poh!.skippedSlots > 0 ? h('span', { title: skippedRange(b.poh!) ?? '' }, formatInt(b.poh!.skippedSlots)) : h('span', { class: 'muted' }, '0')), class: 'num' },
    { label: 'Leader', cell: (b) => addressLink(b.producer, false, true) },
    { label: 'Votes', cell: (b) => formatInt(b.poh!.votes), class: 'num' },
    { label: 'Txs', cell: (b) => formatInt(b.txCount), class: 'num' },
    { label: 'Age', cell: (b) => ageOf(b.timestamp) },
    { label: 'Commitment', cell: (b) => commitmentBadge(commitmentOf(b.height, s.heights)) },
  ], blocks, { empty: 'No blocks after genesis yet.', rowAttrs: (b) => ({ 'data-slot': String(b.poh!.slot), 'data-height': String(b.height) }) })
}

function leaderTable(turns: LeaderTurn[], schedule: PohSchedule): HTMLElement {
  return h('div', null,
    note(`Epoch ${formatInt(schedule.epoch)} (slots ${formatInt(schedule.firstSlot)}–${formatInt(schedule.lastSlot)}): each leader holds ${schedule.slotsPerLeader} consecutive slots, drawn by stake.`),
    table<LeaderTurn>([
      { label: 'Slots', cell: (t) => h('span', null, `${formatInt(t.firstSlot)}–${formatInt(t.lastSlot)}`, t.now ? h('span', { class: 'badge now' }, 'now') : null) },
      { label: 'Leader', cell: (t) => addressLink(t.leader) },
    ], turns, { empty: 'The rest of this epoch is past; the next schedule comes with the next epoch.', rowAttrs: (t) => ({ 'data-first-slot': String(t.firstSlot) }) }),
  )
}

function stakeTable(schedule: PohSchedule): HTMLElement {
  return table([
    { label: 'Validator', cell: (v: ReturnType<typeof stakeShares>[number]) => addressLink(v.address) },
    { label: 'Stake', cell: (v) => formatEth(v.stake, 2), class: 'num' },
    { label: 'Share', cell: (v) => h('span', { class: 'share-cell' }, h('meter', { min: 0, max: 1, value: v.share }), formatPercent(v.share)) },
  ], stakeShares(schedule).sort((a, b) => b.share - a.share), { empty: 'No stake.' })
}

function voteFields(s: PohStatus): HTMLElement {
  const rows: [string, Child][] = [
    ['Votes received', formatInt(s.votesIn)],
    ['Votes refused', formatInt(s.votesRejected)],
    ['Fork switches', formatInt(s.reorgs)],
    ['Confirmed slot', formatInt(s.confirmedSlot)],
    ['Finalized slot', formatInt(s.finalizedSlot)],
  ]
  if (s.validator) {
    rows.unshift(['This validator', addressLink(s.validator, true)])
    rows.push(['Votes sent', formatInt(s.votesSent)], ['Blocks produced', formatInt(s.produced)], ['Own slots skipped', formatInt(s.skippedOwn)])
    if (s.tower) rows.push(['Tower', s.tower.votes.length === 0 ? 'no votes yet' : `${s.tower.votes.length} votes, deepest lockout ${2 ** Math.max(...s.tower.votes.map((v) => v.confirmations))} slots${s.tower.root === null ? '' : `, root slot ${formatInt(s.tower.root)}`}`])
  }
  return fields(rows)
}
