/**
 * The REST API in-process over real in-memory chains: pagination over blocks, txs, an
 * account's txs and the mempool; the one error shape for 400/401/403/404/429/503; producer
 * statistics and alerts for dev, PoW and BFT chains (concentration, deep reorgs, double
 * votes, bursts of rejected txs and bans); admin routes behind API keys; rate limits.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { TypedTransaction } from '@ethereumjs/tx'
import { ValidatorSchedule } from '../../../src/consensus/bft-engine/config.ts'
import { encodeSeal } from '../../../src/consensus/bft-engine/seal.ts'
import { duplicateVoteEvidence, signVote } from '../../../src/consensus/bft/index.ts'
import { loadChainSpec } from '../../../src/chain/spec/index.ts'
import type { BlockHeader } from '../../../src/chain/block.ts'
import { toChecksumAddress } from '../../../src/crypto/index.ts'
import { KEYS, Signer, addressOf, openTestChain, produceBlock, unminedPowRules } from '../../helpers/chain.ts'

/** Header checks off (blocks here are not mined), with the PoW engine's real finality rule (6 confirmations). */
function powTestRules(maxReorgDepth?: number) {
  return { ...unminedPowRules(loadChainSpec('bitcoin-like')), blockEffects: undefined, blockWork: () => 1000n, ...(maxReorgDepth ? { maxReorgDepth } : {}) }
}
import { PEER, restApp, type RestApp } from './rest-helpers.ts'

const KEY = 'test-admin-key-0123456789'

function assertError(res: { statusCode: number; json(): any }, status: number, code: string, message?: RegExp) {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()))
  const body = res.json()
  assert.deepEqual(Object.keys(body), ['error'])
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message'])
  assert.equal(body.error.code, code)
  assert.equal(typeof body.error.message, 'string')
  if (message) assert.match(body.error.message, message)
}

/** Follows nextCursor until the end; returns every item. */
async function walk(app: RestApp, path: string, limit: number): Promise<any[]> {
  const items: any[] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 1000; pages++) {
    const sep = path.includes('?') ? '&' : '?'
    const res = await app.get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json()
    assert.ok(body.items.length <= limit)
    items.push(...body.items)
    cursor = body.nextCursor
    if (cursor === null) return items
  }
  throw new Error('pagination did not end')
}

const apps: RestApp[] = []
after(async () => {
  for (const a of apps) await a.close()
})
async function open(opts: Parameters<typeof restApp>[0] = {}) {
  const a = await restApp(opts)
  apps.push(a)
  return a
}

describe('REST API data routes (dev chain)', () => {
  test('blocks, txs, account txs and the mempool page without gaps or repeats', async () => {
    const a = await open()
    const s = new Signer(a.t.common)
    const to = addressOf(7).bytes
    const mined: TypedTransaction[] = []
    for (let b = 0; b < 6; b++) {
      const txs = b === 2 ? [] : Array.from({ length: b % 3 + 1 }, (_, i) => s.transfer(i, to, BigInt(b * 10 + i)))
      mined.push(...txs)
      await produceBlock(a.t, txs)
    }
    const head = Number(a.t.chain.head.header.height)
    const blocks = await walk(a, '/v1/blocks', 4)
    assert.deepEqual(blocks.map((b) => b.height), Array.from({ length: head + 1 }, (_, i) => head - i))
    const one = (await a.get('/v1/blocks/1')).json()
    assert.deepEqual(one, (await a.get(`/v1/blocks/${one.hash}`)).json())
    assert.equal(one.confirmations, head)
    assert.equal(one.txCount, one.transactions.length)
    assert.equal(one.producer, toChecksumAddress(a.t.chain.getBlockAt(1n)!.header.producer))

    const txs = await walk(a, '/v1/txs', 3)
    const newestFirst = [...mined].reverse().map((tx) => bytesToHex(tx.hash()))
    assert.deepEqual(txs.map((t) => t.hash), newestFirst)
    assert.ok(txs.every((t) => t.status === 'success' && t.gasUsed === '21000'))

    const acct = await walk(a, `/v1/accounts/${addressOf(0).toString()}/txs`, 2)
    assert.deepEqual(acct.map((t) => t.hash), newestFirst.filter((h) => mined.find((tx) => bytesToHex(tx.hash()) === h)!.getSenderAddress().equals(addressOf(0))))
    assert.equal((await walk(a, `/v1/accounts/${addressOf(7).toString()}/txs`, 100)).length, mined.length)

    // Pending txs: in the mempool list and by hash.
    const queued = [0n, 1n, 2n].map((n) => s.transfer(5, to, 1n, { nonce: 10n + n }))
    for (const tx of queued) await a.mempool.add(tx.serialize())
    const pool = await walk(a, '/v1/mempool', 2)
    assert.deepEqual(pool.map((p) => p.hash).sort(), queued.map((tx) => bytesToHex(tx.hash())).sort())
    assert.ok(pool.every((p) => p.status === 'queued'))
    const first = (await a.get('/v1/mempool?limit=1')).json()
    assert.equal(first.queued, 3)
    assert.equal(first.pending, 0)
    const pending = (await a.get(`/v1/txs/${bytesToHex(queued[0]!.hash())}`)).json()
    assert.equal(pending.status, 'pending')
    assert.equal(pending.poolStatus, 'queued')
    assert.equal(pending.blockHeight, null)
    assert.deepEqual(pending.logs, [])
  })

  test('every error has the one shape and the right status', async () => {
    const a = await open()
    assertError(await a.get('/v1/blocks/abc'), 400, 'BAD_REQUEST', /params\/id/)
    assertError(await a.get('/v1/blocks/01'), 400, 'BAD_REQUEST')
    assertError(await a.get('/v1/blocks/99'), 404, 'NOT_FOUND', /block 99 not found/)
    assertError(await a.get(`/v1/blocks/0x${'ab'.repeat(32)}`), 404, 'NOT_FOUND')
    assertError(await a.get('/v1/txs/0x1234'), 400, 'BAD_REQUEST', /params\/hash/)
    assertError(await a.get(`/v1/txs/0x${'cd'.repeat(32)}`), 404, 'NOT_FOUND', /not found/)
    assertError(await a.get('/v1/accounts/0x12'), 400, 'BAD_REQUEST')
    assertError(await a.get('/v1/accounts/0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266'), 400, 'BAD_REQUEST', /checksum/)
    assertError(await a.get('/v1/blocks?limit=0'), 400, 'BAD_REQUEST', /querystring\/limit/)
    assertError(await a.get('/v1/blocks?limit=101'), 400, 'BAD_REQUEST', /<= 100/)
    assertError(await a.get('/v1/blocks?limit=ten'), 400, 'BAD_REQUEST')
    assertError(await a.get('/v1/blocks?cursor=nope!'), 400, 'BAD_REQUEST', /cursor/)
    assertError(await a.get('/v1/txs?cursor=bm9wZQ'), 400, 'BAD_REQUEST', /invalid cursor/)
    assertError(await a.get('/v1/analytics/blocks?count=1001'), 400, 'BAD_REQUEST')
    assertError(await a.get('/v1/no/such/route'), 404, 'NOT_FOUND', /no route GET \/v1\/no\/such\/route/)
    assertError(await a.app.inject({ method: 'DELETE', url: '/v1/chain' }), 404, 'NOT_FOUND')
    // Unknown query parameters are dropped, not errors.
    assert.equal((await a.get('/v1/blocks?foo=1')).statusCode, 200)
  })

  test('the dev producer, and no alerts on a healthy dev chain', async () => {
    const a = await open()
    for (let i = 0; i < 3; i++) await produceBlock(a.t, [])
    const p = (await a.get('/v1/producers')).json()
    assert.equal(p.kind, 'producer')
    assert.equal(p.window, 3)
    assert.equal(p.nakamotoCoefficient, 1)
    assert.deepEqual(p.items.map((i: any) => [i.blocks, i.share]), [[3, 1]])
    assert.deepEqual((await a.get('/v1/alerts')).json(), { items: [] })
    const chain = (await a.get('/v1/chain')).json()
    assert.deepEqual(chain.finalized, { height: 3, hash: chain.head.hash }, 'a dev chain is final at its head')
    const series = (await a.get('/v1/analytics/blocks?count=2')).json()
    assert.deepEqual(series.items.map((b: any) => [b.height, b.blockTime]), [[2, 1], [3, 1]])
    assert.deepEqual((await a.get('/v1/analytics/blocks')).json().items.map((b: any) => b.blockTime), [null, 1, 1, 1], 'from genesis')
  })
})

describe('REST API analytics and alerts', () => {
  test('PoW: miners, hashrate, finality by depth and a concentration alert', async () => {
    const spec = loadChainSpec('bitcoin-like')
    const a = await open({ spec, engine: { type: 'pow', rules: powTestRules(1000) } })
    const m1 = new Uint8Array(20).fill(0x11)
    const m2 = new Uint8Array(20).fill(0x22)
    for (let i = 0; i < 10; i++) {
      await a.t.importer.produce({ timestamp: a.t.chain.head.header.timestamp + 5n, producer: i < 6 ? m1 : m2, seal: async (h) => h, source: { next: () => undefined, skipSender() {} } })
    }
    const p = (await a.get('/v1/producers')).json()
    assert.equal(p.kind, 'miners')
    assert.deepEqual(p.items.map((i: any) => [i.address, i.blocks, i.share, i.hashrate]), [
      [toChecksumAddress(m1), 6, 0.6, '120'],
      [toChecksumAddress(m2), 4, 0.4, '80'],
    ])
    assert.equal(p.nakamotoCoefficient, 1)
    const alerts = (await a.get('/v1/alerts')).json().items
    assert.deepEqual(alerts.map((x: any) => [x.kind, x.severity, x.data.addresses]), [
      ['concentration', 'critical', [toChecksumAddress(m1)]],
      ['concentration', 'warning', [toChecksumAddress(m2)]],
    ])
    const chain = (await a.get('/v1/chain')).json()
    assert.equal(chain.engine, 'pow')
    assert.equal(chain.finalized.height, 4, 'final at 6 confirmations')
    const summary = (await a.get('/v1/analytics/summary?window=10')).json()
    assert.equal(summary.finalityLag, 6)
    assert.equal(summary.avgBlockTime, 5)
    assert.equal(summary.reorgDepthLimit, 1000)
    assert.equal(summary.safeReorgDepth, 6)
    assert.equal(summary.nakamotoCoefficient, 1)
  })

  test('BFT: validators with power, a third of the power and double votes are critical', async () => {
    const spec = loadChainSpec('consortium')
    const three = spec.engine.type === 'bft' ? spec.engine.validators.slice(0, 3) : []
    const a = await open({ spec, engine: { type: 'bft', schedule: new ValidatorSchedule(three), rules: { verifyHeader() {}, maxFutureSeconds: 15n } } })
    const p = (await a.get('/v1/producers')).json()
    assert.equal(p.kind, 'validators')
    const rows = (xs: unknown[][]) => xs.sort((x, y) => String(x[0]).localeCompare(String(y[0])))
    assert.deepEqual(rows(p.items.map((i: any) => [i.address, i.power, i.powerShare, i.blocks])), rows(three.map((v) => [toChecksumAddress(v.address), '1', 0.333333, 0])))
    assert.equal(p.nakamotoCoefficient, 2)
    assert.equal((await a.get('/v1/chain')).json().consensus, 'poa')
    let alerts = (await a.get('/v1/alerts')).json().items
    assert.equal(alerts.length, 3)
    assert.ok(alerts.every((x: any) => x.kind === 'concentration' && x.severity === 'critical'))

    // A committed block carrying evidence of a double vote by validator 0 (test key 0).
    const vote = { type: 'prevote' as const, height: 7n, round: 0, validator: three[0]!.address }
    const ev = duplicateVoteEvidence(
      signVote({ ...vote, blockHash: new Uint8Array(32).fill(1) }, KEYS[0]!, spec.chainId),
      signVote({ ...vote, blockHash: null }, KEYS[0]!, spec.chainId),
    )
    const header: BlockHeader = { ...a.t.chain.head.header, height: 9n, timestamp: BigInt(Math.floor(Date.now() / 1000)), seal: encodeSeal({ round: 0, parentCertificate: null, evidence: [ev] }) }
    a.ctx.monitor.noteEvidence(header)
    a.ctx.monitor.noteEvidence(header) // seen once
    alerts = (await a.get('/v1/alerts')).json().items
    const dv = alerts.filter((x: any) => x.kind === 'double-vote')
    assert.equal(dv.length, 1)
    assert.equal(dv[0].severity, 'critical')
    assert.deepEqual(dv[0].data, { at: Number(header.timestamp) * 1000, validator: toChecksumAddress(three[0]!.address), height: 7, round: 0, voteType: 'prevote', includedIn: 9 })
  })

  test('a reorg is recorded with its depth and alerts past half the safe depth', async () => {
    const engine = { type: 'pow', rules: { ...powTestRules(), blockWork: () => 1n } }
    const a = await open({ engine })
    const y = await openTestChain({ engine: engine.rules })
    const s = new Signer(a.t.common)
    for (let i = 0; i < 4; i++) await produceBlock(a.t, [s.transfer(i, addressOf(9).bytes, 1n)])
    const branch = []
    for (let i = 0; i < 5; i++) branch.push((await produceBlock(y, [], y.chain.head.header.timestamp + 7n)).imported)
    const oldHead = bytesToHex(a.t.chain.head.hash)
    // As headers-first sync imports a branch: with the work its verified headers showed.
    for (const b of branch) await a.t.importer.importBlock(b.block, undefined, { branchWork: y.chain.getWork(y.chain.head.hash) })
    assert.equal(a.t.chain.head.header.height, 5n)
    const summary = (await a.get('/v1/analytics/summary')).json()
    assert.equal(summary.reorgs.length, 1)
    const r = summary.reorgs[0]
    assert.deepEqual([r.forkHeight, r.depth, r.oldHead, r.newHead], [0, 4, oldHead, bytesToHex(branch[4]!.hash)])
    assert.equal(summary.maxReorgDepth, 4)
    const alerts = (await a.get('/v1/alerts')).json().items
    assert.deepEqual(alerts.map((x: any) => [x.kind, x.severity, x.id]), [['deep-reorg', 'warning', `deep-reorg:${bytesToHex(branch[4]!.hash)}`]])
    // The old branch's txs left the account index with it.
    assert.deepEqual((await a.get(`/v1/accounts/${addressOf(0).toString()}/txs`)).json(), { items: [], nextCursor: null })
  })

  test('bursts of rejected txs (not duplicates) and of banned peers', async () => {
    const a = await open({ network: true, apiKeys: [KEY], thresholds: { rejectedTxWarn: 3, rejectedTxCritical: 5, banWarn: 2, banCritical: 10 } })
    const tx = new Signer(a.t.common).transfer(0, addressOf(1).bytes, 1n)
    await a.mempool.add(tx.serialize())
    await assert.rejects(a.mempool.add(tx.serialize()), /already known/)
    for (let i = 0; i < 3; i++) await assert.rejects(a.mempool.add(Uint8Array.of(0xde, 0xad, i)))
    let alerts = (await a.get('/v1/alerts')).json().items
    assert.deepEqual(alerts.map((x: any) => [x.kind, x.severity, x.data.count, x.data.byCode]), [['rejected-tx-burst', 'warning', 3, { DECODE: 3 }]])
    const auth = { authorization: `Bearer ${KEY}` }
    for (const id of [PEER, `${PEER.slice(0, -1)}X`]) {
      assert.equal((await a.app.inject({ method: 'POST', url: `/v1/admin/peers/${id}/ban`, headers: auth })).statusCode, 200)
    }
    alerts = (await a.get('/v1/alerts')).json().items
    const bans = alerts.find((x: any) => x.kind === 'peer-ban-burst')
    assert.equal(bans.severity, 'warning')
    assert.deepEqual(bans.data.peers, [PEER, `${PEER.slice(0, -1)}X`])
  })
})

describe('REST API admin routes and limits', () => {
  test('admin routes are closed without a configured key', async () => {
    const a = await open({ network: true, shutdown: true })
    assertError(await a.app.inject({ method: 'POST', url: `/v1/admin/peers/${PEER}/ban` }), 403, 'FORBIDDEN', /no API key is configured/)
    assertError(await a.app.inject({ method: 'POST', url: '/v1/admin/shutdown', headers: { authorization: 'Bearer anything-at-all-123' } }), 403, 'FORBIDDEN')
    assert.equal(a.shutdowns, 0)
  })

  test('a key opens them: ban, list, unban, shut down', async () => {
    const a = await open({ network: true, apiKeys: [KEY, 'second-key-abcdefghijk'], shutdown: true })
    const url = `/v1/admin/peers/${PEER}/ban`
    const missing = await a.app.inject({ method: 'POST', url })
    assertError(missing, 401, 'UNAUTHORIZED', /needs an API key/)
    assert.match(String(missing.headers['www-authenticate']), /^Bearer/)
    assertError(await a.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${KEY}x` } }), 401, 'UNAUTHORIZED', /invalid API key/)
    assertError(await a.app.inject({ method: 'POST', url, headers: { 'x-api-key': KEY.slice(1) }, payload: { durationMs: 'soon' } }), 401, 'UNAUTHORIZED', /invalid/, )

    const banned = await a.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${KEY}` }, payload: { reason: 'spam', durationMs: 60_000 } })
    assert.equal(banned.statusCode, 200, banned.body)
    assert.deepEqual({ ...(banned.json() as object), until: 0 }, { id: PEER, banned: true, until: 0, reason: 'spam' })
    const peers = (await a.get('/v1/peers')).json()
    assert.deepEqual(peers.banned.map((b: any) => [b.id, b.reason]), [[PEER, 'spam']])
    assert.deepEqual(peers.items[0], { id: PEER, addresses: ['/ip4/127.0.0.1/tcp/30301'], direction: 'outbound', height: 5, headHash: `0x${'01'.repeat(32)}`, connectedAt: 1_700_000_000_000, penalty: 12.35 })
    assertError(await a.app.inject({ method: 'POST', url, headers: { 'x-api-key': 'second-key-abcdefghijk' }, payload: { durationMs: 5 } }), 400, 'BAD_REQUEST', /durationMs/)
    assertError(await a.app.inject({ method: 'POST', url: '/v1/admin/peers/notapeer/ban', headers: { 'x-api-key': KEY } }), 400, 'BAD_REQUEST', /not a libp2p peer id/)

    const lift = async () => (await a.app.inject({ method: 'DELETE', url, headers: { 'x-api-key': KEY } })).json()
    assert.deepEqual(await lift(), { id: PEER, banned: false, until: null, reason: null, wasBanned: true })
    assert.equal((await lift()).wasBanned, false)

    const stop = await a.app.inject({ method: 'POST', url: '/v1/admin/shutdown', headers: { authorization: `bearer ${KEY}` } })
    assert.equal(stop.statusCode, 202)
    assert.deepEqual(stop.json(), { stopping: true, message: 'the node is shutting down' })
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    assert.equal(a.shutdowns, 1, 'shut down once the answer was sent')
  })

  test('connect to a peer: needs a key; a refused dial is 503, a bad address 400', async () => {
    const a = await open({ network: true, apiKeys: [KEY] })
    const post = (addr: unknown, headers: Record<string, string> = { 'x-api-key': KEY }) => a.app.inject({ method: 'POST', url: '/v1/admin/peers', headers, payload: { addr } })
    const good = `/ip4/127.0.0.1/tcp/30301/p2p/${PEER}`
    assertError(await post(good, {}), 401, 'UNAUTHORIZED', /needs an API key/)
    const ok = await post(good)
    assert.equal(ok.statusCode, 200, ok.body)
    assert.deepEqual(ok.json(), { id: PEER, connected: true })
    assertError(await post('/ip4/127.0.0.1/tcp/1'), 503, 'UNAVAILABLE', /ECONNREFUSED/)
    assertError(await post('/dns9/nowhere'), 400, 'BAD_REQUEST', /not a valid multiaddr/)
    assertError(await post('not-an-address'), 400, 'BAD_REQUEST', /addr/)
    assertError(await post('/' + 'a'.repeat(600)), 400, 'BAD_REQUEST', /addr/)
    assert.deepEqual(a.network!.dialed, [good], 'only the good address was dialed')
  })

  test('peer routes without networking: an empty list, and 503 for bans', async () => {
    const a = await open({ apiKeys: [KEY] })
    assert.deepEqual((await a.get('/v1/peers')).json(), { items: [], banned: [] })
    assertError(await a.app.inject({ method: 'POST', url: `/v1/admin/peers/${PEER}/ban`, headers: { 'x-api-key': KEY } }), 503, 'UNAVAILABLE', /networking is off/)
    assertError(await a.app.inject({ method: 'POST', url: '/v1/admin/shutdown', headers: { 'x-api-key': KEY } }), 503, 'UNAVAILABLE')
  })

  test('the rate limit answers 429 with Retry-After; key holders and non-/v1 routes are exempt', async () => {
    const a = await open({ apiKeys: [KEY], rateLimitPerMinute: 3 })
    for (let i = 0; i < 3; i++) assert.equal((await a.get('/v1/chain')).statusCode, 200)
    const limited = await a.get('/v1/blocks')
    assertError(limited, 429, 'RATE_LIMITED', /at most 3 requests per minute/)
    assert.ok(Number(limited.headers['retry-after']) > 0)
    assert.equal((await a.get('/v1/chain', { 'x-api-key': KEY })).statusCode, 200)
    assert.equal((await a.get('/openapi.json')).statusCode, 200)
    assertError(await a.get('/v1/chain', { 'x-api-key': 'wrong-key-0123456789' }), 429, 'RATE_LIMITED')
  })

  test('block hashes and heights, address case and pending by hash agree', async () => {
    const a = await open()
    const s = new Signer(a.t.common)
    const tx = s.transfer(3, addressOf(4).bytes, 5n)
    const { imported } = await produceBlock(a.t, [tx])
    const byHash = (await a.get(`/v1/txs/${bytesToHex(tx.hash()).toUpperCase().replace('0X', '0x')}`)).json()
    assert.equal(byHash.blockHash, bytesToHex(imported.hash))
    assert.equal(byHash.from, toChecksumAddress(addressOf(3).bytes))
    assert.equal(byHash.to, toChecksumAddress(addressOf(4).bytes))
    assert.equal(byHash.confirmations, 1)
    assert.equal(byHash.poolStatus, null)
    const lower = (await a.get(`/v1/accounts/${addressOf(4).toString().toLowerCase()}`)).json()
    assert.equal(lower.address, toChecksumAddress(addressOf(4).bytes))
    assert.equal(lower.balance, (10_000n * 10n ** 18n + 5n).toString())
    assert.equal(hexToBytes(lower.codeHash).length, 32)
  })
})
