/**
 * Options and names: limits with their checks, protocol ids and topics per chain, and
 * createNetwork refusing bad options with typed errors before it touches anything.
 */
import '../../../src/net/polyfill.ts'
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import pino from 'pino'
import {
  DEFAULT_LIMITS,
  NetError,
  createNetwork,
  chainTag,
  loadOrCreateNodeKey,
  protocolId,
  resolveLimits,
  topicId,
  type NetworkOptions,
} from '../../../src/net/index.ts'

function code(expected: string, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof NetError, String(err))
    assert.equal(err.code, expected, err.message)
    if (pattern !== undefined) assert.match(err.message, pattern)
    return true
  }
}

const genesis = Uint8Array.from({ length: 32 }, (_, i) => i)

describe('protocol ids and topics', () => {
  test('carry the chain tag, except status', () => {
    const tag = chainTag(genesis)
    assert.equal(tag, '0001020304050607')
    assert.equal(protocolId(tag, 'blocksByRange'), '/catena/0001020304050607/blocksByRange/2')
    assert.equal(protocolId(tag, 'status'), '/catena/status/1')
    assert.equal(topicId(tag, 'blocks'), '/catena/0001020304050607/blocks/2')
    assert.throws(() => protocolId(tag, 'x' as never), code('UNKNOWN_PROTOCOL'))
    assert.throws(() => topicId(tag, 'x' as never), code('UNKNOWN_TOPIC'))
    assert.throws(() => chainTag(new Uint8Array(20)), code('BAD_CONFIG', /32 bytes/))
  })
})

describe('limits', () => {
  test('defaults, overrides field by field, and refusals', () => {
    const d = resolveLimits()
    assert.equal(d.banThreshold, DEFAULT_LIMITS.banThreshold)
    assert.equal(d.reqresp.status.maxRequestBytes, 256)
    const l = resolveLimits({ maxPeers: 10, reqresp: { blocksByRange: { maxResponseBytes: 1000 } }, topics: { txs: 500 } })
    assert.equal(l.maxPeers, 10)
    assert.equal(l.reqresp.blocksByRange.maxResponseBytes, 1000)
    assert.equal(l.reqresp.blocksByRange.maxRequestBytes, 256)
    assert.equal(l.topics.txs, 500)
    assert.equal(l.topics.blocks, d.topics.blocks)
    assert.equal(resolveLimits({ statusRefreshMs: 0 }).statusRefreshMs, 0)
    assert.throws(() => resolveLimits({ maxPeers: 0 }), code('BAD_CONFIG', /limits.maxPeers must be a number >= 1, got 0/))
    assert.throws(() => resolveLimits({ banMs: Number.NaN }), code('BAD_CONFIG'))
    assert.throws(() => resolveLimits({ bogus: 1 } as never), code('BAD_CONFIG', /limits.bogus is not a network limit/))
    assert.throws(() => resolveLimits({ reqresp: { nope: {} } } as never), code('BAD_CONFIG', /reqresp.nope/))
    assert.throws(() => resolveLimits({ topics: { txs: -1 } }), code('BAD_CONFIG', /topics.txs/))
  })
})

describe('createNetwork option checks', () => {
  const logger = pino({ level: 'silent' })
  const base = (datadir: string): NetworkOptions => ({
    datadir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootnodes: [],
    chainId: 1n,
    genesisHash: genesis,
    head: () => ({ height: 0n, hash: genesis }),
    logger,
  })

  test('bad options are refused before anything is written', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'catena-net-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const datadir = join(dir, 'node')
    await assert.rejects(createNetwork({ ...base(datadir), listen: ['not-an-addr'] }), code('BAD_CONFIG', /listen: "not-an-addr"/))
    await assert.rejects(createNetwork({ ...base(datadir), bootnodes: ['/ip4/1.2.3.4/tcp/1/p2p/xyz'] }), code('BAD_CONFIG', /bootnodes/))
    await assert.rejects(createNetwork({ ...base(datadir), allowlist: ['nope'] }), code('BAD_PEER_ID', /"nope" is not a libp2p peer id/))
    await assert.rejects(createNetwork({ ...base(datadir), genesisHash: new Uint8Array(3) }), code('BAD_CONFIG'))
    await assert.rejects(createNetwork({ ...base(datadir), limits: { redialMs: -1 } }), code('BAD_CONFIG'))
    assert.equal(existsSync(datadir), false)
  })

  test('a node key file that is not a key is an error and is left alone', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'catena-net-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'node.key')
    for (const content of ['hello\n', 'abcd\n', '']) {
      writeFileSync(path, content)
      await assert.rejects(loadOrCreateNodeKey(dir), code('BAD_NODE_KEY', /node\.key does not hold/))
      assert.equal(readFileSync(path, 'utf8'), content)
    }
    await assert.rejects(createNetwork(base(dir)), code('BAD_NODE_KEY'))
    // A datadir that cannot be created.
    await assert.rejects(loadOrCreateNodeKey(join(path, 'sub')), code('BAD_NODE_KEY', /cannot (create|read)/))
  })

  test('a node key readable by others is used and reported', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'catena-net-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const created = await loadOrCreateNodeKey(dir)
    assert.equal(created.created, true)
    chmodSync(created.path, 0o644)
    const loaded = await loadOrCreateNodeKey(dir)
    assert.equal(loaded.created, false)
    assert.equal(loaded.looseMode, 0o644)
    assert.deepEqual(loaded.key.raw, created.key.raw)
  })
})

describe('Promise.withResolvers polyfill', () => {
  test('works where missing, and leaves a native one alone', () => {
    const withResolvers = (Promise as unknown as { withResolvers<T>(): { promise: Promise<T>; resolve(v: T): void } }).withResolvers
    assert.equal(typeof withResolvers, 'function')
    const r = withResolvers.call(Promise) as { promise: Promise<number>; resolve(v: number): void }
    r.resolve(42)
    const script = `
      const mine = () => 'mine'
      Promise.withResolvers = mine
      await import(${JSON.stringify(new URL('../../../src/net/polyfill.ts', import.meta.url).href)})
      process.stdout.write(String(Promise.withResolvers === mine))`
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })
    assert.equal(out, 'true')
    return r.promise.then((v) => assert.equal(v, 42))
  })
})
