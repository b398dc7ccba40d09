/**
 * The block explorer in headless Chromium against real node processes: a dev chain producing a
 * block every second (with P2P) and a follower connected to it. Checks what a user sees: blocks
 * arriving live, search, tx and account pages after real transfers, decoded logs, the analytics
 * charts, every page at phone width without horizontal scroll, and the graceful states.
 *
 * Screenshots go to test-artifacts/explorer/ (and docs/explorer.png for the README).
 * Pages whose data only the REST API has (mempool, peers, account history, alerts) are checked
 * when the node serves /v1; without it they must show the "not available" state instead.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromPrivateKey } from '@ethereumjs/util'
import type { Browser, Page } from 'playwright-core'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS } from '../helpers/chain.ts'
import { REPO_ROOT, rpcCall, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { ARTIFACTS_DIR, ensureExplorerBuild, horizontalOverflow, launchChromium, openPage, screenshot, waitForExpression, type WatchedPage } from './chromium.ts'

type Hex = `0x${string}`

const PHONE = { width: 375, height: 812 }
const DESKTOP = { width: 1280, height: 900 }
const common = makeCommon(1337n)
const SENDER_KEY = KEYS[7]!
const SENDER = createAddressFromPrivateKey(SENDER_KEY).toString()
const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'

describe('block explorer in Chromium', { timeout: 300_000 }, () => {
  let producer: NodeProcess
  let follower: NodeProcess
  let browser: Browser
  let url: string
  let rest = false
  let nonce = 0n
  /** The tx with a decoded Transfer log (set by its test; the phone test shows it too). */
  let logTx: Hex | undefined
  const open: WatchedPage[] = []

  /** Signs and sends an EIP-1559 tx from SENDER; resolves with its hash once it is mined. */
  async function send(tx: { to?: Hex; value?: bigint; data?: Uint8Array; gasLimit?: bigint }): Promise<Hex> {
    const signed = createFeeMarket1559Tx({
      nonce: nonce++, to: tx.to, value: tx.value ?? 0n, data: tx.data, gasLimit: tx.gasLimit ?? 21_000n,
      maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 10n ** 9n, chainId: 1337n,
    }, { common }).sign(SENDER_KEY)
    const hash = await rpcCall<Hex>(url, 'eth_sendRawTransaction', [bytesToHex(signed.serialize())])
    await waitFor(`receipt of ${hash}`, () => rpcCall<object | null>(url, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined))
    return hash
  }

  async function newPage(viewport = DESKTOP): Promise<WatchedPage> {
    const w = await openPage(browser, viewport)
    open.push(w)
    return w
  }

  /** Opens an explorer route and waits until that page has loaded (or failed gracefully). */
  async function visit(page: Page, route: string): Promise<void> {
    const before = await page.evaluate("document.getElementById('view')?.dataset.seq ?? ''").catch(() => '')
    if (page.url().startsWith(url)) await page.evaluate(`location.hash = ${JSON.stringify(route)}`)
    else await page.goto(`${url}/#${route}`)
    await waitForExpression(page,
      `(() => { const v = document.getElementById('view'); return v && v.dataset.ready === 'true' && v.dataset.seq !== ${JSON.stringify(before)} })()`,
      { what: `the page ${route}` })
  }

  const viewState = (page: Page) => page.getAttribute('#view [data-state]', 'data-state', { timeout: 1000 }).catch(() => null)
  const source = (page: Page) => page.getAttribute('#view', 'data-source')
  const number = (text: string | null) => Number(String(text).replace(/[^0-9]/g, ''))

  /**
   * No uncaught exceptions and no console errors. Chrome logs every 404 answer ("Failed to load
   * resource"): searches probe for a block before a tx, and without REST every /v1 call is one.
   */
  function assertClean(w: WatchedPage, what: string): void {
    const errors = w.errors.filter((e) => !/Failed to load resource: .* 404/.test(e) && (rest || e.startsWith('uncaught')))
    assert.deepEqual(errors, [], `${what}: page errors`)
  }

  before(async () => {
    await ensureExplorerBuild()
    await mkdir(ARTIFACTS_DIR, { recursive: true })
    producer = await startNode({ args: ['--block-interval', '1000', '--p2p-port', '0'] })
    url = producer.rpcUrl
    follower = await startNode({ args: ['--automine', 'false', '--block-interval', '0', '--p2p-port', '0', '--bootnodes', producer.info.p2p![0]!] })
    rest = (await fetch(`${url}/v1/chain`)).ok
    if (!rest) console.log('# this node does not serve REST /v1: REST-only checks are skipped, JSON-RPC fallbacks are tested')
    nonce = BigInt(await rpcCall<Hex>(url, 'eth_getTransactionCount', [SENDER, 'pending']))
    browser = await launchChromium()
  })

  // Pages keep following the chain while open: close them after each test (the REST API is
  // rate limited per client, and the machine is small).
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close().catch(() => undefined)
  })

  after(async () => {
    await browser?.close()
    await follower?.stop()
    await producer?.stop()
  })

  test('GET / is the explorer for browsers and JSON for JSON clients', async () => {
    const html = await fetch(url, { headers: { accept: 'text/html,*/*;q=0.8' } })
    assert.equal(html.status, 200)
    assert.match(await html.text(), /<div id="app">/)
    const json = await (await fetch(url)).json() as { service: string }
    assert.equal(json.service, 'json-rpc')
    assert.equal(await rpcCall<Hex>(url, 'eth_chainId'), '0x539')
  })

  test('home: new blocks and a new transaction arrive live over the WebSocket', async () => {
    const w = await newPage()
    await visit(w.page, '/')
    await w.page.waitForSelector('.live[data-live="live"]')
    const first = number(await w.page.textContent('[data-testid="head-height"]'))
    const firstRow = number(await w.page.getAttribute('#view tbody tr[data-height]', 'data-height'))
    // Blocks come every second: the head shown and the newest row of the list both move on.
    await waitForExpression(w.page,
      `Number(document.querySelector('[data-testid="head-height"]').textContent.replace(/[^0-9]/g, '')) > ${first} &&
       Number(document.querySelector('#view tbody tr[data-height]').dataset.height) > ${firstRow}`,
      { timeoutMs: 20_000, what: 'a newer head and block row' })
    const hash = await send({ to: '0x000000000000000000000000000000000000dEaD', value: 10n ** 16n })
    await w.page.waitForSelector(`[data-tx="${hash}"]`, { timeout: 20_000 })
    assert.match(String(await w.page.textContent(`[data-tx="${hash}"]`)), /0\.01 ETH/)
    if (rest) assert.equal(await source(w.page), 'rest')
    await screenshot(w.page, 'home')
    assertClean(w, 'home')
  })

  test('search: a tx hash opens the tx, a height its block, an address its account; unknown input is explained', async () => {
    const hash = await send({ to: '0x00000000000000000000000000000000000c0FFe', value: 123n * 10n ** 15n })
    const w = await newPage()
    await visit(w.page, '/')
    await w.page.fill('input[name="q"]', hash)
    await w.page.press('input[name="q"]', 'Enter')
    await w.page.waitForURL(`**/#/tx/${hash}`)
    await w.page.waitForSelector('#view[data-ready="true"] [data-status="success"]')
    assert.match(String(await w.page.textContent('#view')), new RegExp(hash))
    assert.equal(await w.page.textContent('[data-testid="tx-value"]'), '0.123 ETH')
    await screenshot(w.page, 'tx')

    const receipt = await rpcCall<{ blockNumber: Hex; blockHash: Hex }>(url, 'eth_getTransactionReceipt', [hash])
    const height = Number(BigInt(receipt.blockNumber))
    await w.page.fill('input[name="q"]', String(height))
    await w.page.press('input[name="q"]', 'Enter')
    await w.page.waitForURL(`**/#/block/${height}`)
    await w.page.waitForSelector(`#view[data-ready="true"] [data-tx="${hash}"]`)
    // A block hash is tried as a block first.
    await w.page.fill('input[name="q"]', receipt.blockHash)
    await w.page.press('input[name="q"]', 'Enter')
    await w.page.waitForURL(`**/#/block/${receipt.blockHash}`)
    await w.page.waitForSelector('#view[data-ready="true"] [data-testid="block-height"]')
    assert.equal(await w.page.textContent('[data-testid="block-height"]'), `#${height.toLocaleString('en-US')}`)

    await w.page.fill('input[name="q"]', SENDER.toLowerCase())
    await w.page.press('input[name="q"]', 'Enter')
    await w.page.waitForURL(`**/#/address/${SENDER.toLowerCase()}`)
    await w.page.waitForSelector('#view[data-ready="true"] [data-testid="balance"]')

    const unknown = `0x${'ab'.repeat(32)}`
    await w.page.fill('input[name="q"]', unknown)
    await w.page.press('input[name="q"]', 'Enter')
    await waitForExpression(w.page, `document.querySelector('[data-testid="search-message"]').textContent.includes('No block or transaction')`)
    await w.page.fill('input[name="q"]', 'hello world')
    await w.page.press('input[name="q"]', 'Enter')
    await waitForExpression(w.page, `document.querySelector('[data-testid="search-message"]').textContent.includes('Not a block height')`)
    assertClean(w, 'search')
  })

  test('account page: the balance after a transfer, kept current as more arrives', async () => {
    const address = bytesToHex(randomBytes(20)) as Hex
    const hash = await send({ to: address, value: 15n * 10n ** 17n })
    const w = await newPage()
    await visit(w.page, `/address/${address}`)
    assert.equal(await w.page.textContent('[data-testid="balance"]'), '1.5 ETH')
    assert.equal(await w.page.textContent('[data-testid="nonce"]'), '0')
    if (rest) {
      await w.page.waitForSelector(`#view [data-tx="${hash}"]`)
      assert.equal(await source(w.page), 'rest')
    } else {
      assert.equal(await viewState(w.page), 'error', 'account history needs REST: the section says so')
    }
    await send({ to: address, value: 25n * 10n ** 16n })
    await waitForExpression(w.page, `document.querySelector('[data-testid="balance"]').textContent === '1.75 ETH'`, { timeoutMs: 20_000 })
    await screenshot(w.page, 'account')
    assertClean(w, 'account')
  })

  test('tx page: an ERC-20 Transfer log is decoded', async () => {
    // Init code that emits Transfer(from, to, 1234567) and deploys nothing: PUSH32 value,
    // PUSH1 0, MSTORE, PUSH20 to, PUSH20 from, PUSH32 topic, PUSH1 32, PUSH1 0, LOG3, STOP.
    const from = '1111111111111111111111111111111111111111'
    const to = '2222222222222222222222222222222222222222'
    const code = `7f${(1234567n).toString(16).padStart(64, '0')}600052` + `73${to}` + `73${from}` + `7f${TRANSFER_TOPIC.slice(2)}` + '60206000a300'
    const hash = await send({ data: Buffer.from(code, 'hex'), gasLimit: 100_000n })
    logTx = hash
    const w = await newPage()
    await visit(w.page, `/tx/${hash}`)
    await w.page.waitForSelector('[data-testid="event-name"]')
    assert.equal(await w.page.textContent('[data-testid="event-name"]'), 'Transfer')
    const log = String(await w.page.textContent('#view .log'))
    assert.match(log, /1234567/)
    assert.match(log, /0x1111111111111111111111111111111111111111/i)
    assert.match(log, /0x2222222222222222222222222222222222222222/i)
    await screenshot(w.page, 'tx-logs')
    assertClean(w, 'tx logs')
  })

  test('analytics: charts drawn from the block series, producers with the Nakamoto coefficient', async () => {
    await waitFor('at least 8 blocks', async () => Number(BigInt(await rpcCall<Hex>(url, 'eth_blockNumber'))) >= 8)
    const w = await newPage()
    await visit(w.page, '/analytics?count=50')
    const charts = await w.page.$$eval('#view svg.chart-svg', (els) => els.map((e) => ({
      points: Number(e.getAttribute('data-points')),
      marks: e.querySelectorAll('polyline, rect.bar').length,
      polyline: e.querySelector('polyline')?.getAttribute('points') ?? '',
    })))
    assert.equal(charts.length, 6, 'tx/s, block time, base fee, burnt fees, gas used, block size')
    for (const c of charts) {
      assert.ok(c.points >= 2, `a chart has ${c.points} data points`)
      assert.ok(c.marks >= 1, 'a chart draws a line or bars')
    }
    assert.ok(charts.some((c) => c.polyline.split(' ').length >= 5), 'lines go through the blocks')
    assert.equal(await w.page.locator('#view svg.pie-svg').count(), 1, 'the producer distribution donut')
    assert.equal(await w.page.textContent('[data-testid="an-nakamoto"]'), '1', 'one producer makes every block')
    assert.match(String(await w.page.textContent('[data-testid="an-finality-lag"]')), /^\d+ blocks?$/)
    if (rest) {
      assert.equal(await source(w.page), 'rest')
      assert.equal(await w.page.textContent('[data-testid="an-reorg-depth"]'), '0')
      await w.page.waitForSelector('[data-testid="no-alerts"], .alerts')
    }
    await screenshot(w.page, 'analytics')
    assertClean(w, 'analytics')
  })

  test('producers, block, mempool and peers pages', async () => {
    const w = await newPage()
    await visit(w.page, '/producers')
    assert.equal(await w.page.textContent('[data-testid="nakamoto"]'), '1')
    await screenshot(w.page, 'producers')
    await visit(w.page, '/block/1')
    assert.equal(await w.page.textContent('[data-testid="block-height"]'), '#1')
    await screenshot(w.page, 'block')
    await visit(w.page, '/mempool')
    await visit(w.page, '/peers')
    if (rest) {
      await visit(w.page, '/mempool')
      assert.match(String(await w.page.textContent('[data-testid="mempool-pending"]')), /^\d+$/)
      await waitFor('the follower as a peer', async () => {
        await visit(w.page, '/peers')
        return (await w.page.textContent('[data-testid="peer-count"]')) === '1'
      }, { timeoutMs: 30_000, intervalMs: 500 })
      assert.equal(await w.page.locator(`[data-peer="${follower.info.peerId}"]`).count(), 1)
      await screenshot(w.page, 'peers')
    } else {
      assert.equal(await viewState(w.page), 'error', 'peers need REST: the page says it is not available')
    }
    assertClean(w, 'producers/block/mempool/peers')
  })

  test('graceful states: unknown block, tx and route', async () => {
    const w = await newPage()
    await visit(w.page, '/block/99999999')
    assert.equal(await viewState(w.page), 'not-found')
    await visit(w.page, `/tx/0x${'cd'.repeat(32)}`)
    assert.equal(await viewState(w.page), 'not-found')
    await visit(w.page, '/no/such/page')
    assert.equal(await viewState(w.page), 'not-found')
    await screenshot(w.page, 'not-found')
    assertClean(w, 'not found')
  })

  test('a node without the REST API: pages fall back to JSON-RPC, REST-only pages say so', async () => {
    const w = await newPage()
    // What a node without /v1 answers (Fastify's own 404), for every REST call of this page.
    await w.page.route(/\/v1\//, (route) => route.fulfill({
      status: 404,
      contentType: 'application/json',
      body: JSON.stringify({ message: `Route GET:${new URL(route.request().url()).pathname} not found`, error: 'Not Found', statusCode: 404 }),
    }))
    const address = bytesToHex(randomBytes(20)) as Hex
    const hash = await send({ to: address, value: 2n * 10n ** 18n })
    await visit(w.page, '/')
    assert.equal(await source(w.page), 'rpc')
    await w.page.waitForSelector(`#view [data-tx="${hash}"]`)
    const first = number(await w.page.textContent('[data-testid="head-height"]'))
    await waitForExpression(w.page, `Number(document.querySelector('[data-testid="head-height"]').textContent.replace(/[^0-9]/g, '')) > ${first}`, { timeoutMs: 20_000 })
    await visit(w.page, `/tx/${hash}`)
    assert.equal(await w.page.textContent('[data-testid="tx-value"]'), '2 ETH')
    assert.equal(await source(w.page), 'rpc')
    await visit(w.page, `/address/${address}`)
    assert.equal(await w.page.textContent('[data-testid="balance"]'), '2 ETH')
    assert.equal(await viewState(w.page), 'error', 'account history needs REST')
    await visit(w.page, '/analytics?count=50')
    assert.equal(await w.page.locator('#view svg.chart-svg').count(), 6)
    assert.equal(await w.page.textContent('[data-testid="an-nakamoto"]'), '1')
    await visit(w.page, '/producers')
    assert.equal(await w.page.textContent('[data-testid="nakamoto"]'), '1')
    await visit(w.page, '/peers')
    assert.equal(await viewState(w.page), 'error')
    assert.match(String(await w.page.textContent('#view')), /needs the node's REST API/)
    await screenshot(w.page, 'no-rest-peers')
    assert.deepEqual(w.errors.filter((e) => !/Failed to load resource: .* 404/.test(e)), [])
  })

  test('phone width (375 px): no horizontal scroll on any page', async () => {
    const hash = await send({ to: '0x000000000000000000000000000000000000dEaD', value: 1n })
    const w = await newPage(PHONE)
    const routes: [string, string][] = [
      ['home', '/'], ['tx', `/tx/${hash}`], ['account', `/address/${SENDER}`], ['block', '/block/2'],
      ['analytics', '/analytics'], ['producers', '/producers'], ['mempool', '/mempool'], ['peers', '/peers'],
      ...(logTx ? [['tx-logs', `/tx/${logTx}`] as [string, string]] : []),
    ]
    for (const [name, route] of routes) {
      await visit(w.page, route)
      assert.ok((await horizontalOverflow(w.page)) <= 0, `${route} scrolls sideways at ${PHONE.width} px by ${await horizontalOverflow(w.page)} px`)
      await screenshot(w.page, `phone-${name}`)
    }
    assertClean(w, 'phone')
  })

  test('README screenshot (docs/explorer.png with CATENA_UPDATE_DOCS=1)', async () => {
    const w = await newPage(DESKTOP)
    await visit(w.page, '/')
    await w.page.waitForSelector('#view [data-tx]')
    const file = process.env.CATENA_UPDATE_DOCS === '1' ? join(REPO_ROOT, 'docs', 'explorer.png') : join(ARTIFACTS_DIR, 'readme.png')
    await mkdir(dirname(file), { recursive: true })
    await w.page.screenshot({ path: file, animations: 'disabled' })
  })
})
