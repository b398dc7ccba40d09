import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRpcServer, invalidParams, SubscriptionHub, type RpcServer } from '../../../src/api/rpc/index.ts'
import { captureLogger, rpc, waitFor, WsClient } from './rpc-helpers.ts'

const ADDR_A = '0x' + 'aa'.repeat(20)
const ADDR_B = '0x' + 'bb'.repeat(20)
const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
const APPROVAL = '0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925'
const ALICE = '0x' + '00'.repeat(12) + '11'.repeat(20)

function log(address: string, topics: string[], logIndex: number) {
  return { address, topics, data: '0x', blockNumber: '0x5', transactionHash: '0x' + '12'.repeat(32), logIndex: `0x${logIndex.toString(16)}`, removed: false }
}

describe('JSON-RPC over WebSocket', () => {
  const { logger } = captureLogger()
  const hub = new SubscriptionHub({ maxPerConnection: 3, logger })
  let server: RpcServer
  let url: string
  let wsUrl: string
  const clients: WsClient[] = []
  const open = async () => { const c = await WsClient.open(wsUrl); clients.push(c); return c }

  before(async () => {
    server = createRpcServer({
      methods: {
        eth_chainId: () => '0x539',
        whoami: (_params, ctx) => ctx,
        bad: () => { throw invalidParams('invalid x: nope') },
        crash: () => { throw new Error('boom') },
        // Publishes while a batch that also subscribes is still being answered.
        publish_head: () => { hub.publishNewHead({ number: '0x9' }); return true },
      },
      hub,
      logger,
      maxBodyBytes: 4096,
    })
    ;({ url, wsUrl } = await server.listen())
  })
  after(async () => {
    await Promise.all(clients.map((c) => c.close()))
    await server.close()
  })

  test('the WebSocket URL is on the same port', () => {
    assert.equal(wsUrl, url.replace('http://', 'ws://'))
  })

  test('request / response, with the ws transport in the context', async () => {
    const c = await open()
    assert.deepEqual(await c.call('eth_chainId'), { jsonrpc: '2.0', id: 1, result: '0x539' })
    const who = await c.call('whoami')
    assert.equal(who.result.transport, 'ws')
    assert.match(who.result.connectionId, /^ws-\d+$/)
    assert.deepEqual((await c.call('bad')).error, { code: -32602, message: 'invalid x: nope' })
    assert.deepEqual((await c.call('crash')).error, { code: -32603, message: 'internal error' })
    assert.equal((await c.call('nope')).error.code, -32601)
  })

  test('batches over WebSocket', async () => {
    const c = await open()
    c.send([{ jsonrpc: '2.0', id: 'a', method: 'eth_chainId' }, { jsonrpc: '2.0', method: 'eth_chainId' }, { jsonrpc: '2.0', id: 'b', method: 'nope' }])
    const out = await c.take()
    assert.ok(Array.isArray(out))
    assert.deepEqual(out.map((r: { id: string }) => r.id), ['a', 'b'])
  })

  test('malformed frames get -32700 and the connection stays open', async () => {
    const c = await open()
    for (const frame of ['{bad json', '', '[', 'null', '[]']) {
      c.send(frame)
      const res = await c.take()
      assert.equal(res.id, null, frame)
      assert.ok([-32700, -32600].includes(res.error.code), frame)
    }
    c.socket.send(Buffer.from([0xff, 0x00, 0xfe]), { binary: true })
    assert.equal((await c.take()).error.code, -32700)
    assert.equal((await c.call('eth_chainId')).result, '0x539')
  })

  test('messages over maxBodyBytes get an error; far over, the socket is closed', async () => {
    const c = await open()
    c.send({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: ['x'.repeat(5000)] })
    const res = await c.take()
    assert.equal(res.error.code, -32600)
    assert.match(res.error.message, /^request too large: \d+ bytes, limit 4096$/)
    assert.equal((await c.call('eth_chainId')).result, '0x539')
    c.send('x'.repeat(20_000))
    const closed = await c.waitClosed()
    assert.equal(closed.code, 1009)
    const d = await open()
    assert.equal((await d.call('eth_chainId')).result, '0x539')
  })

  test('eth_subscribe newHeads: id format, notification shape, unsubscribe', async () => {
    const c = await open()
    const sub = await c.call('eth_subscribe', ['newHeads'])
    assert.match(sub.result, /^0x[0-9a-f]{32}$/)
    hub.publishNewHead({ number: '0x1', hash: '0x' + 'ab'.repeat(32) })
    assert.deepEqual(await c.take((m) => m.method === 'eth_subscription'), {
      jsonrpc: '2.0',
      method: 'eth_subscription',
      params: { subscription: sub.result, result: { number: '0x1', hash: '0x' + 'ab'.repeat(32) } },
    })
    assert.equal((await c.call('eth_unsubscribe', [sub.result])).result, true)
    assert.equal((await c.call('eth_unsubscribe', [sub.result])).result, false)
    hub.publishNewHead({ number: '0x2' })
    // Responses and notifications share one ordered stream: had the head been sent, it
    // would be queued before this response.
    await c.call('eth_chainId')
    assert.equal(c.messages.filter((m) => m.method === 'eth_subscription').length, 0)
  })

  test('logs subscription filters by address and topics (OR within a position)', async () => {
    const c = await open()
    const all = (await c.call('eth_subscribe', ['logs'])).result
    const byAddr = (await c.call('eth_subscribe', ['logs', { address: [ADDR_A] }])).result
    const byTopics = (await c.call('eth_subscribe', ['logs', { topics: [[TRANSFER, APPROVAL], null, ALICE] }])).result
    hub.publishLogs([
      log(ADDR_A, [TRANSFER, ALICE, ALICE], 0),
      log(ADDR_B, [APPROVAL, ALICE], 1),
      log(ADDR_B.toUpperCase().replace('0X', '0x'), [APPROVAL, ALICE, ALICE], 2),
    ])
    await c.call('eth_chainId')
    const got = (id: string) => c.messages.filter((m) => m.params?.subscription === id).map((m) => m.params.result.logIndex)
    assert.deepEqual(got(all), ['0x0', '0x1', '0x2'])
    assert.deepEqual(got(byAddr), ['0x0'])
    assert.deepEqual(got(byTopics), ['0x0', '0x2'])
    const one = c.messages.find((m) => m.params?.subscription === byAddr)
    assert.deepEqual(one.params.result, log(ADDR_A, [TRANSFER, ALICE, ALICE], 0))
  })

  test('newPendingTransactions sends hashes', async () => {
    const c = await open()
    const id = (await c.call('eth_subscribe', ['newPendingTransactions'])).result
    const hash = '0x' + '34'.repeat(32)
    hub.publishPendingTransaction(hash)
    const note = await c.take((m) => m.method === 'eth_subscription')
    assert.deepEqual(note.params, { subscription: id, result: hash })
  })

  test('bad subscriptions: unknown kind, bad filter, too many, bad unsubscribe id', async () => {
    const c = await open()
    assert.equal((await c.call('eth_subscribe', ['syncingz'])).error.code, -32602)
    assert.equal((await c.call('eth_subscribe', [])).error.code, -32602)
    assert.equal((await c.call('eth_subscribe', [42])).error.code, -32602)
    assert.equal((await c.call('eth_subscribe', ['logs', { address: '0x12' }])).error.code, -32602)
    assert.equal((await c.call('eth_subscribe', ['logs', { topics: [null, null, null, null, null] }])).error.code, -32602)
    assert.equal((await c.call('eth_subscribe', ['logs', { blockHash: '0x' + '00'.repeat(32) }])).error.code, -32602)
    assert.equal((await c.call('eth_subscribe', ['logs', { fromBlock: 'pending' }])).error.code, -32602)
    assert.equal((await c.call('eth_unsubscribe', [7])).error.code, -32602)
    for (let i = 0; i < 3; i++) assert.match((await c.call('eth_subscribe', ['newHeads'])).result, /^0x/)
    const over = await c.call('eth_subscribe', ['newHeads'])
    assert.equal(over.error.code, -32005)
    assert.match(over.error.message, /limit 3/)
  })

  test("a connection cannot cancel another connection's subscription", async () => {
    const a = await open()
    const b = await open()
    const id = (await a.call('eth_subscribe', ['newHeads'])).result
    assert.equal((await b.call('eth_unsubscribe', [id])).result, false)
    hub.publishNewHead({ number: '0x3' })
    assert.equal((await a.take((m) => m.method === 'eth_subscription')).params.subscription, id)
  })

  test('the subscription id reaches the client before its first notification', async () => {
    const c = await open()
    c.send([
      { jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] },
      { jsonrpc: '2.0', id: 2, method: 'publish_head' },
    ])
    await c.until(() => c.messages.length >= 2)
    assert.ok(Array.isArray(c.messages[0]), 'batch response first')
    assert.equal(c.messages[1].method, 'eth_subscription')
    assert.equal(c.messages[1].params.subscription, c.messages[0][0].result)
  })

  test('eth_subscribe over HTTP is not supported', async () => {
    const res = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] })
    assert.deepEqual(res.error, { code: -32601, message: 'notifications not supported' })
  })

  test("closing a connection removes all of its subscriptions; others still get theirs", async () => {
    const before = hub.count()
    const a = await open()
    const b = await open()
    const who = (await a.call('whoami')).result.connectionId as string
    await a.call('eth_subscribe', ['newHeads'])
    await a.call('eth_subscribe', ['logs'])
    const bId = (await b.call('eth_subscribe', ['newHeads'])).result
    assert.equal(hub.count(who), 2)
    a.socket.terminate()
    // Published while the server may not yet know the socket is gone: must not throw.
    hub.publishNewHead({ number: '0x10' })
    assert.equal((await b.take((m) => m.method === 'eth_subscription')).params.subscription, bId)
    await waitFor(() => hub.count(who) === 0)
    assert.equal(hub.count(), before + 1)
    assert.equal((await b.call('eth_chainId')).result, '0x539')
  })

  test('server closes open sockets on close()', async () => {
    const s = createRpcServer({ methods: {}, hub: new SubscriptionHub(), logger })
    const { wsUrl: u } = await s.listen()
    const c = await WsClient.open(u)
    await s.close()
    assert.equal((await c.waitClosed()).code, 1001)
  })
})

describe('slow WebSocket subscribers', () => {
  test('a subscriber over its buffer budget is cut off; publishing to others goes on', async () => {
    const { logger, lines } = captureLogger()
    const hub = new SubscriptionHub()
    const server = createRpcServer({
      methods: { publish_big: () => { hub.publishNewHead({ extraData: '0x' + 'ab'.repeat(200) }); return true } },
      hub,
      logger,
      wsMaxBufferedBytes: 100,
    })
    const { wsUrl } = await server.listen()
    const steady = await WsClient.open(wsUrl)
    const greedy = await WsClient.open(wsUrl)
    try {
      const steadyId = (await steady.call('eth_subscribe', ['newHeads'])).result
      // The notification is held until the batch is answered, and it is larger than the budget.
      greedy.send([
        { jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] },
        { jsonrpc: '2.0', id: 2, method: 'publish_big' },
      ])
      const closed = await greedy.waitClosed()
      assert.equal(closed.code, 1006)
      assert.ok(lines.some((l) => l.msg === 'WebSocket client too slow; closing it'))
      const note = await steady.take((m) => m.method === 'eth_subscription')
      assert.equal(note.params.subscription, steadyId)
      await waitFor(() => hub.count() === 1)
    } finally {
      await steady.close()
      await server.close()
    }
  })
})
