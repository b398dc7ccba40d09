/**
 * The explorer of a solana-like chain in headless Chromium, against a real validator process
 * (the preset with one validator, from a genesis file): the Slots page shows the current slot
 * and leader, the PoH hash rate and slot length, processed / confirmed / finalized heights, the
 * recent slots with their commitment, the hash-rate and per-block charts and the coming leaders;
 * the home list shows slots; a block page shows its slot, commitment, votes and entries with a
 * link to the raw PoH JSON; the Slots link appears on PoH chains only; phone width does not
 * scroll sideways. Screenshots in test-artifacts/explorer/poh-*.png.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import type { Browser, Page } from 'playwright-core'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { toChecksumAddress } from '../../src/crypto/index.ts'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS } from '../helpers/chain.ts'
import { makeDatadir, removeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { startValidator, withLogs } from '../helpers/validators.ts'
import { ensureExplorerBuild, horizontalOverflow, launchChromium, openPage, screenshot, waitForExpression, type WatchedPage } from './chromium.ts'

type Hex = `0x${string}`
const CHAIN_ID = 1342n
const VALIDATOR = toChecksumAddress(privateToAddress(KEYS[0]!))

describe('explorer of a PoH chain in Chromium', { timeout: 300_000 }, () => {
  let node: NodeProcess
  let dev: NodeProcess
  let datadir: string
  let browser: Browser
  let url: string
  let txHash: Hex
  let txHeight: number
  const open: WatchedPage[] = []

  async function visit(page: Page, route: string): Promise<void> {
    const before = await page.evaluate("document.getElementById('view')?.dataset.seq ?? ''").catch(() => '')
    if (page.url().startsWith(url)) await page.evaluate(`location.hash = ${JSON.stringify(route)}`)
    else await page.goto(`${url}/#${route}`)
    await waitForExpression(page, `(() => { const v = document.getElementById('view'); return v && v.dataset.ready === 'true' && v.dataset.seq !== ${JSON.stringify(before)} })()`, { what: `the page ${route}` })
  }
  const text = (page: Page, testid: string) => page.textContent(`[data-testid="${testid}"]`).then((t) => String(t))
  const number = (t: string) => Number(t.replace(/[^0-9]/g, ''))
  function assertClean(w: WatchedPage, what: string): void {
    assert.deepEqual(w.errors.filter((e) => !/Failed to load resource: .* 404/.test(e)), [], `${what}: page errors`)
  }
  async function newPage(viewport = { width: 1280, height: 900 }): Promise<WatchedPage> {
    const w = await openPage(browser, viewport)
    open.push(w)
    return w
  }

  before(async () => {
    await ensureExplorerBuild()
    datadir = await makeDatadir()
    const spec = presetJSON('solana-like')! as unknown as { engine: { validators: unknown[] } }
    spec.engine.validators = spec.engine.validators.slice(0, 1)
    const genesis = join(datadir, 'genesis.json')
    await writeFile(genesis, JSON.stringify(spec))
    node = await startValidator(0, datadir, [], { chain: genesis })
    url = node.rpcUrl
    const tx = createFeeMarket1559Tx({ nonce: 0n, to: `0x${'ca'.repeat(20)}`, value: 10n ** 15n, gasLimit: 21000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, chainId: CHAIN_ID }, { common: makeCommon(CHAIN_ID) }).sign(KEYS[6]!)
    txHash = await node.rpc<Hex>('eth_sendRawTransaction', [bytesToHex(tx.serialize())])
    const receipt = await waitFor('the tx in a block', () => node.rpc<{ blockNumber: Hex } | null>('eth_getTransactionReceipt', [txHash]).then((r) => r ?? undefined), { timeoutMs: 60_000 }).catch(withLogs([node]))
    txHeight = Number(BigInt(receipt.blockNumber))
    browser = await launchChromium()
  })

  afterEach(async () => {
    for (const w of open.splice(0)) await w.close().catch(() => undefined)
  })

  after(async () => {
    await browser?.close()
    await dev?.stop()
    await node?.stop()
    if (datadir) await removeDatadir(datadir)
  })

  test('Slots: the clock, the leader, the three commitment levels, recent slots, charts and coming leaders', async () => {
    const w = await newPage()
    await visit(w.page, '/slots')
    await w.page.waitForSelector('a[data-nav="slots"]:not([hidden])')
    assert.ok(number(await text(w.page, 'poh-slot')) > 0)
    assert.match(await text(w.page, 'poh-hashrate'), /hashes\/s$/)
    assert.match(await text(w.page, 'poh-slot-ms'), /^\d[\d,]* ms$/)
    assert.ok(number(await text(w.page, 'poh-slot-ms')) >= 400, 'the paced preset: slots of at least 400 ms')
    assert.equal(await w.page.getAttribute('[data-testid="poh-leader"] a', 'title'), VALIDATOR)
    // One read of the three (the page redraws every status poll).
    const [processed, confirmed, finalized] = ((await w.page.evaluate(`['poh-processed', 'poh-confirmed', 'poh-finalized'].map((id) => document.querySelector('[data-testid="' + id + '"]').textContent)`)) as string[]).map(number)
    assert.ok(processed >= confirmed && confirmed >= finalized, `${processed} >= ${confirmed} >= ${finalized}`)
    // The one validator's votes confirm blocks: the table shows both levels above finalized.
    await waitForExpression(w.page, `document.querySelector('[data-commitment="confirmed"]') && document.querySelector('[data-commitment="processed"], [data-commitment="confirmed"]')`, { what: 'confirmed rows' })
    // The list follows the chain (the node may have only a block or two when the page opens).
    await waitForExpression(w.page, `document.querySelectorAll('#view tr[data-slot]').length >= 3`, { what: 'three slot rows' })
    const rows = await w.page.$$eval('#view tr[data-slot]', (trs) => trs.map((tr) => Number(tr.getAttribute('data-slot'))))
    assert.deepEqual(rows, [...rows].sort((a, b) => b - a), 'newest slot first')
    // The hash-rate chart gains a sample at each status poll.
    await waitForExpression(w.page, `Number(document.querySelector('[data-chart="poh-hashrate"] svg')?.dataset.points ?? 0) >= 3`, { what: 'three hash-rate samples' })
    for (const id of ['poh-skipped', 'poh-votes']) assert.ok(await w.page.$(`[data-chart="${id}"] svg`), id)
    assert.ok(await w.page.$('#view [data-first-slot] .badge.now'), 'the current leader turn is marked')
    await screenshot(w.page, 'poh-slots')
    assertClean(w, 'slots')
  })

  test('home lists slots; a block page shows its slot, commitment, votes and entries', async () => {
    const w = await newPage()
    await visit(w.page, '/')
    await w.page.waitForSelector('#view tbody tr[data-height] [data-commitment]')
    assert.match(String(await w.page.textContent('#view thead')), /Slot.*Status.*Leader/)
    await visit(w.page, `/block/${txHeight}`)
    const slot = (await (await fetch(`${url}/v1/blocks/${txHeight}/poh`)).json()) as { slot: number }
    assert.equal(number(await text(w.page, 'poh-block-slot')), slot.slot)
    assert.equal(await w.page.getAttribute('[data-testid="poh-json"]', 'href'), `/v1/blocks/${txHeight}/poh`)
    assert.ok(await w.page.$('#view [data-commitment]'))
    assert.match(String(await w.page.textContent('#view')), /ticks, 1 entry with txs \(1 tx\)/)
    await w.page.click('#view details summary')
    assert.ok(await w.page.$(`#view details a[href="#/tx/${txHash}"]`), 'the entry with the tx links to it')
    await screenshot(w.page, 'poh-block')
    assertClean(w, 'block')
  })

  test('phone width: the Slots and block pages do not scroll sideways', async () => {
    const w = await newPage({ width: 375, height: 812 })
    for (const route of ['/slots', `/block/${txHeight}`]) {
      await visit(w.page, route)
      assert.equal(await horizontalOverflow(w.page), 0, route)
    }
    await screenshot(w.page, 'poh-slots-phone')
    assertClean(w, 'phone')
  })

  test('a chain without PoH shows no Slots link, and #/slots says the chain has no PoH', async () => {
    dev = await startNode()
    const w = await newPage()
    await w.page.goto(`${dev.rpcUrl}/#/slots`)
    await w.page.waitForSelector('#view[data-ready="true"] [data-state="not-found"]')
    assert.match(String(await w.page.textContent('#view')), /no Proof of History/)
    assert.ok(await w.page.$('a[data-nav="slots"][hidden]'), 'the Slots link stays hidden')
  })
})
