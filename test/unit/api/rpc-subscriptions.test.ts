import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RpcError, SubscriptionHub, type SubscriptionSink } from '../../../src/api/rpc/index.ts'
import { captureLogger } from './rpc-helpers.ts'

function sink(connectionId: string): SubscriptionSink & { got: any[] } {
  const got: any[] = []
  return { connectionId, got, send: (m) => { got.push(JSON.parse(m)) } }
}

const A = '0x' + 'aa'.repeat(20)
const TOPIC = '0x' + '01'.repeat(32)
const logJson = (address: string, topics: string[], i: number) => ({ address, topics, data: '0x', logIndex: `0x${i}`, removed: false })

describe('SubscriptionHub', () => {
  test('subscribe returns distinct 16-byte hex ids; notifications have the eth_subscription shape', () => {
    const hub = new SubscriptionHub()
    const s = sink('c1')
    const a = hub.subscribe(s, 'newHeads')
    const b = hub.subscribe(s, 'newHeads', null)
    assert.match(a, /^0x[0-9a-f]{32}$/)
    assert.notEqual(a, b)
    hub.publishNewHead({ number: '0x1' })
    assert.deepEqual(s.got, [
      { jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: a, result: { number: '0x1' } } },
      { jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: b, result: { number: '0x1' } } },
    ])
  })

  test('each kind only gets its own events', () => {
    const hub = new SubscriptionHub()
    const heads = sink('h'), logs = sink('l'), pending = sink('p')
    hub.subscribe(heads, 'newHeads')
    hub.subscribe(logs, 'logs')
    hub.subscribe(pending, 'newPendingTransactions', false)
    hub.publishNewHead({ number: '0x2' })
    hub.publishLogs([logJson(A, [TOPIC], 0), logJson(A, [], 1)])
    hub.publishPendingTransaction('0x' + '99'.repeat(32))
    assert.deepEqual(heads.got.map((m) => m.params.result), [{ number: '0x2' }])
    assert.deepEqual(logs.got.map((m) => m.params.result.logIndex), ['0x0', '0x1'])
    assert.deepEqual(pending.got.map((m) => m.params.result), ['0x' + '99'.repeat(32)])
  })

  test('logs subscriptions filter per subscription', () => {
    const hub = new SubscriptionHub()
    const s = sink('c')
    const byAddr = hub.subscribe(s, 'logs', { address: A })
    const byTopic = hub.subscribe(s, 'logs', { topics: [TOPIC] })
    hub.publishLogs([logJson(A, [], 0), logJson('0x' + 'bb'.repeat(20), [TOPIC], 1), logJson(A, [TOPIC], 2)])
    const got = (id: string) => s.got.filter((m) => m.params.subscription === id).map((m) => m.params.result.logIndex)
    assert.deepEqual(got(byAddr), ['0x0', '0x2'])
    assert.deepEqual(got(byTopic), ['0x1', '0x2'])
  })

  test('logs subscriptions honour fromBlock / toBlock like geth', () => {
    const hub = new SubscriptionHub()
    const s = sink('c')
    const from5 = hub.subscribe(s, 'logs', { fromBlock: '0x5', toBlock: 'latest' })
    const upTo6 = hub.subscribe(s, 'logs', { fromBlock: 'earliest', toBlock: '0x6' })
    const open = hub.subscribe(s, 'logs', { fromBlock: 'latest', address: null, topics: null })
    const at = (n: number, i: number) => ({ ...logJson(A, [], i), blockNumber: `0x${n.toString(16)}` })
    hub.publishLogs([at(4, 0), at(5, 1), at(7, 2)])
    const got = (id: string) => s.got.filter((m) => m.params.subscription === id).map((m) => m.params.result.logIndex)
    assert.deepEqual(got(from5), ['0x1', '0x2'])
    assert.deepEqual(got(upTo6), ['0x0', '0x1'])
    assert.deepEqual(got(open), ['0x0', '0x1', '0x2'])
    assert.throws(() => hub.subscribe(s, 'logs', { fromBlock: '0x7', toBlock: '0x6' }), { code: -32602 })
    assert.throws(() => hub.subscribe(s, 'logs', { fromBlock: 'safe' }), { code: -32602 })
  })

  test('invalid kinds and parameters are -32602 and register nothing', () => {
    const hub = new SubscriptionHub()
    const s = sink('c')
    for (const [kind, params] of [['syncing', undefined], [undefined, undefined], [{}, undefined], ['newHeads', { x: 1 }],
      ['logs', 'x'], ['logs', { address: 'nope' }], ['logs', { topics: ['0x1'] }], ['logs', { blockHash: '0x' + '00'.repeat(32) }],
      ['newPendingTransactions', true]] as [unknown, unknown][]) {
      assert.throws(() => hub.subscribe(s, kind, params), (e: unknown) => e instanceof RpcError && e.code === -32602, `${String(kind)}`)
    }
    assert.equal(hub.count(), 0)
  })

  test('per-connection limit gives -32005; other connections are unaffected', () => {
    const hub = new SubscriptionHub({ maxPerConnection: 2 })
    const a = sink('a'), b = sink('b')
    hub.subscribe(a, 'newHeads')
    const second = hub.subscribe(a, 'newHeads')
    assert.throws(() => hub.subscribe(a, 'newHeads'), { code: -32005, kind: 'LIMIT_EXCEEDED' })
    hub.subscribe(b, 'newHeads')
    assert.equal(hub.unsubscribe(second), true)
    hub.subscribe(a, 'newHeads')
    assert.equal(hub.count('a'), 2)
    assert.equal(hub.count(), 3)
  })

  test('unsubscribe: true once, false for unknown ids and for other connections', () => {
    const hub = new SubscriptionHub()
    const a = sink('a')
    const id = hub.subscribe(a, 'newHeads')
    assert.equal(hub.unsubscribe(id, 'b'), false)
    assert.equal(hub.unsubscribe(id, 'a'), true)
    assert.equal(hub.unsubscribe(id, 'a'), false)
    assert.equal(hub.unsubscribe('0x00'), false)
    hub.publishNewHead({})
    assert.equal(a.got.length, 0)
  })

  test('removeConnection drops all of a connection\'s subscriptions', () => {
    const hub = new SubscriptionHub()
    const a = sink('a'), b = sink('b')
    hub.subscribe(a, 'newHeads')
    hub.subscribe(a, 'logs')
    hub.subscribe(b, 'newHeads')
    assert.equal(hub.removeConnection('a'), 2)
    assert.equal(hub.removeConnection('a'), 0)
    hub.publishNewHead({ n: 1 })
    assert.equal(a.got.length, 0)
    assert.equal(b.got.length, 1)
  })

  test('a failing sink is dropped without breaking delivery to the others', () => {
    const { logger, lines } = captureLogger()
    const hub = new SubscriptionHub({ logger })
    const good1 = sink('g1'), good2 = sink('g2')
    const broken: SubscriptionSink = { connectionId: 'bad', send: () => { throw new Error('socket closed') } }
    hub.subscribe(good1, 'newHeads')
    hub.subscribe(broken, 'newHeads')
    hub.subscribe(broken, 'logs')
    hub.subscribe(good2, 'newHeads')
    hub.publishNewHead({ n: 1 })
    assert.equal(good1.got.length, 1)
    assert.equal(good2.got.length, 1)
    assert.equal(hub.count('bad'), 0)
    assert.ok(lines.some((l) => l.connectionId === 'bad'))
  })

  test('payloads that cannot be JSON-encoded are logged and skipped, never thrown', () => {
    const { logger, lines } = captureLogger()
    const hub = new SubscriptionHub({ logger })
    const s = sink('c')
    hub.subscribe(s, 'newHeads')
    hub.subscribe(s, 'logs')
    assert.doesNotThrow(() => hub.publishNewHead({ number: 1n }))
    assert.doesNotThrow(() => hub.publishLogs([{ address: A, topics: [], big: 1n }, logJson(A, [], 1), { nonsense: true } as never]))
    assert.deepEqual(s.got.map((m) => m.params.result.logIndex), ['0x1'])
    assert.ok(lines.filter((l) => l.level === 50).length >= 2)
  })
})
