/**
 * The REST API of a PoH chain in-process: a solana-like test chain whose importer applies the
 * real PohRules, blocks made as their leader makes them (one with txs, one after skipped slots,
 * one carrying a vote), and a real PohEngine following it. GET /v1/blocks/{id}/poh is re-checked
 * with plain node:crypto (test/helpers/poh-check.ts) and tampered copies fail; block summaries
 * carry slots; /v1/poh/status and /v1/poh/schedule answer from the engine and validate against
 * /openapi.json; errors keep the REST shape (unknown block, genesis, bad ids and epochs, an
 * engine that has not started, a chain without PoH).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import type { PohEngineSpec } from '../../../src/chain/spec/index.ts'
import type { ConsensusEngine } from '../../../src/consensus/index.ts'
import { PohEngine } from '../../../src/consensus/poh-engine/index.ts'
import { encodePohVote, signPohVote } from '../../../src/consensus/poh/index.ts'
import { toChecksumAddress } from '../../../src/crypto/index.ts'
import { KEYS, Signer } from '../../helpers/chain.ts'
import { engineHost } from '../../helpers/engine-host.ts'
import { makePohBlock, openPohChain, pohSpec, CLOCK, type PohTestChain } from '../../helpers/poh.ts'
import { checkPohJSON, tamperings, type PohJSON } from '../../helpers/poh-check.ts'
import { restApp, type RestApp } from './rest-helpers.ts'

const LEADER = toChecksumAddress(privateToAddress(KEYS[0]!))

function engineFor(t: PohTestChain, datadir: string): PohEngine {
  const chain = t.chain
  return new PohEngine({
    chainId: t.spec.chainId,
    spec: t.spec.engine as PohEngineSpec,
    chain: { genesisHash: chain.genesisHash, getHeader: (h) => chain.getHeader(h), getHashAt: (h) => chain.getHashAt(h), isCanonical: (h) => chain.isCanonical(h), stakesAfter: (h) => chain.stakes.after(h) },
    datadir,
    verifierThreads: 1,
  })
}

function expectError(res: { statusCode: number; json(): any }, status: number, code: string, message?: RegExp): void {
  const body = res.json()
  assert.equal(res.statusCode, status, JSON.stringify(body))
  assert.deepEqual(Object.keys(body), ['error'])
  assert.equal(body.error.code, code)
  if (message) assert.match(body.error.message, message)
}

describe('REST API of a PoH chain', () => {
  let t: PohTestChain
  let engine: PohEngine
  let a: RestApp
  let datadir: string
  let txHashes: string[]

  before(async () => {
    datadir = await mkdtemp(join(tmpdir(), 'catena-rest-poh-'))
    t = await openPohChain(pohSpec(1))
    engine = engineFor(t, datadir)
    await engine.start(engineHost(t))
    a = await restApp({ chain: t, engine: engine as ConsensusEngine })
    const signer = new Signer(t.common)
    await t.importer.importBlock(await makePohBlock(t, { slot: 1n }))
    const txs = [0, 1, 2].map(() => signer.transfer(5, `0x${'ab'.repeat(20)}`, 1n))
    txHashes = txs.map((tx) => bytesToHex(tx.hash()))
    await t.importer.importBlock(await makePohBlock(t, { slot: 2n, txs }))
    // Slots 3 and 4 skipped; the block of slot 5 carries the validator's vote for slot 2.
    const voter = privateToAddress(KEYS[0]!)
    const vote = signPohVote({ voter, slot: 2n, hash: t.chain.head.hash, lockouts: [{ slot: 2n, confirmationCount: 1 }], root: null, timestamp: 1n }, KEYS[0]!, t.spec.chainId)
    await t.importer.importBlock(await makePohBlock(t, { slot: 5n, votes: [encodePohVote(vote)] }))
    assert.equal(t.chain.head.header.height, 3n)
  })
  after(async () => {
    await a?.close()
    await engine?.stop()
    await t?.verifier.close()
    await rm(datadir, { recursive: true, force: true })
  })

  test('GET /v1/blocks/{id}/poh: each slot re-checks with plain sha256, and links to its parent', async () => {
    let prevEnd = bytesToHex(t.chain.genesisHash)
    for (let h = 1; h <= 3; h++) {
      const res = await a.get(`/v1/blocks/${h}/poh`)
      assert.equal(res.statusCode, 200, res.body)
      const p = res.json()
      const check = checkPohJSON(p)
      assert.ok(check.ok, `block ${h}: ${JSON.stringify(check)}`)
      assert.equal(p.startHash, prevEnd, `block ${h} starts where its parent ends`)
      assert.equal(p.leader, LEADER)
      assert.equal(check.hashes, (p.slot - p.parentSlot) * CLOCK.ticksPerSlot * CLOCK.hashesPerTick, 'a slot is ticksPerSlot x hashesPerTick hashes')
      const byHash = await a.get(`/v1/blocks/${bytesToHex(t.chain.getHashAt(BigInt(h))!)}/poh`)
      assert.deepEqual(byHash.json(), p, 'the same by hash')
      prevEnd = p.endHash
    }
    const withTxs = (await a.get('/v1/blocks/2/poh')).json()
    assert.deepEqual(withTxs.entries.flatMap((e: PohJSON['entries'][number]) => e.txHashes), txHashes, 'the entries carry the body\'s txs in order')
    const gap = (await a.get('/v1/blocks/3/poh')).json()
    assert.deepEqual([gap.slot, gap.parentSlot, gap.votes, gap.evidence], [5, 2, 1, 0])
    assert.equal(gap.entries.length, 3 * CLOCK.ticksPerSlot, 'the block after two skipped slots carries their ticks')
  })

  test('a tampered copy of a slot fails the same check', async () => {
    const p = (await a.get('/v1/blocks/2/poh')).json() as PohJSON
    const cases = tamperings(p)
    assert.ok(cases.length >= 8, `tamperings with txs: ${cases.map(([n]) => n).join(', ')}`)
    for (const [name, bad] of cases) assert.equal(checkPohJSON(bad).ok, false, name)
  })

  test('block summaries and details carry slot, parent slot, skipped slots and votes', async () => {
    const list = (await a.get('/v1/blocks')).json()
    const byHeight = new Map(list.items.map((b: any) => [b.height, b]))
    assert.deepEqual((byHeight.get(3) as any).poh, { slot: 5, parentSlot: 2, skippedSlots: 2, votes: 1 })
    assert.deepEqual((byHeight.get(1) as any).poh, { slot: 1, parentSlot: 0, skippedSlots: 0, votes: 0 })
    assert.equal((byHeight.get(0) as any).poh, undefined, 'genesis has no slot data')
    const detail = (await a.get('/v1/blocks/2')).json()
    assert.deepEqual(detail.poh, { slot: 2, parentSlot: 1, skippedSlots: 0, votes: 0 })
    assert.equal(detail.producer, LEADER)
    const series = (await a.get('/v1/analytics/blocks?count=3')).json()
    assert.deepEqual(series.items.map((b: any) => b.poh.slot), [1, 2, 5])
  })

  test('GET /v1/poh/status: the engine\'s slots and counters, the clock, and heights that follow its votes', async () => {
    const res = await a.get('/v1/poh/status')
    assert.equal(res.statusCode, 200, res.body)
    const s = res.json()
    // A follower: no clock of its own, so its slot is its head's.
    assert.equal(s.headSlot, 5)
    assert.equal(s.slot, 5)
    assert.equal(s.hashrate, 0)
    assert.equal(s.validator, null)
    assert.equal(s.tower, null)
    // One validator holds all the stake: its vote for slot 2 confirms the block of slot 2.
    assert.equal(s.confirmedSlot, 2)
    assert.deepEqual(s.heights, { processed: 3, confirmed: 2, finalized: 0 })
    assert.equal(s.finalizedSlot, 0)
    assert.deepEqual(s.clock, { hashesPerTick: CLOCK.hashesPerTick, ticksPerSlot: CLOCK.ticksPerSlot, hashesPerSlot: CLOCK.hashesPerTick * CLOCK.ticksPerSlot, slotsPerEpoch: 32, minSlotMs: null })
    assert.equal(s.leader, LEADER)
    for (const k of ['votesIn', 'votesSent', 'votesRejected', 'reorgs', 'produced', 'skippedOwn']) assert.equal(s[k], 0, k)
  })

  test('GET /v1/poh/schedule: the leaders of an epoch; epochs not known yet and bad numbers are 400', async () => {
    const res = await a.get('/v1/poh/schedule')
    assert.equal(res.statusCode, 200, res.body)
    const s = res.json()
    assert.deepEqual([s.epoch, s.firstSlot, s.lastSlot, s.slotsPerLeader], [0, 0, 31, 4])
    assert.equal(s.leaders.length, 8)
    assert.deepEqual(s.leaders[1], { firstSlot: 4, leader: LEADER })
    assert.deepEqual(s.stakes, [{ address: LEADER, stake: (40n * 10n ** 18n).toString() }])
    assert.equal((await a.get('/v1/poh/schedule?epoch=1')).statusCode, 200, 'the next epoch is known')
    expectError(await a.get('/v1/poh/schedule?epoch=2'), 400, 'BAD_REQUEST', /epoch 2 is not known yet/)
    for (const q of ['-1', 'x', '1e3', '0x1']) expectError(await a.get(`/v1/poh/schedule?epoch=${q}`), 400, 'BAD_REQUEST')
  })

  test('errors: unknown block 404, genesis 404, malformed id 400', async () => {
    expectError(await a.get('/v1/blocks/99/poh'), 404, 'NOT_FOUND', /block 99 not found/)
    expectError(await a.get(`/v1/blocks/0x${'ee'.repeat(32)}/poh`), 404, 'NOT_FOUND')
    expectError(await a.get('/v1/blocks/0/poh'), 404, 'NOT_FOUND', /genesis/)
    for (const id of ['x', '-1', '01', `0x${'ee'.repeat(31)}`]) expectError(await a.get(`/v1/blocks/${id}/poh`), 400, 'BAD_REQUEST')
  })

  test('every PoH response validates against the schemas /openapi.json publishes', async () => {
    const spec = (await a.get('/openapi.json')).json()
    const ajv = new Ajv({ strict: false, allErrors: true })
    for (const [path, url] of [['/v1/blocks/{id}/poh', '/v1/blocks/2/poh'], ['/v1/poh/status', '/v1/poh/status'], ['/v1/poh/schedule', '/v1/poh/schedule'], ['/v1/blocks', '/v1/blocks'], ['/v1/blocks/{id}', '/v1/blocks/3']] as const) {
      const op = spec.paths[path]?.get
      assert.ok(op, `${path} is documented`)
      if (path.includes('poh')) assert.ok(op.tags.includes('poh'), `${path} is tagged poh`)
      const validate = ajv.compile(op.responses['200'].content['application/json'].schema)
      const res = await a.get(url)
      assert.ok(validate(res.json()), `${url}: ${ajv.errorsText(validate.errors)}`)
    }
  })
})

describe('PoH routes elsewhere', () => {
  test('an engine that has not started answers 503 UNAVAILABLE, not a crash', async () => {
    const datadir = await mkdtemp(join(tmpdir(), 'catena-rest-poh-'))
    const t = await openPohChain(pohSpec(1))
    const engine = engineFor(t, datadir)
    const a = await restApp({ chain: t, engine: engine as ConsensusEngine })
    try {
      expectError(await a.get('/v1/poh/status'), 503, 'UNAVAILABLE', /poh engine is starting/)
      // Block data comes from the chain, not the engine.
      await t.importer.importBlock(await makePohBlock(t, { slot: 1n }))
      assert.equal((await a.get('/v1/blocks/1/poh')).statusCode, 200)
    } finally {
      await a.close()
      await engine.stop()
      await t.verifier.close()
      await rm(datadir, { recursive: true, force: true })
    }
  })

  test('a chain without PoH answers 404 NOT_FOUND naming its engine', async () => {
    const a = await restApp()
    try {
      for (const url of ['/v1/blocks/0/poh', '/v1/blocks/1/poh', '/v1/poh/status', '/v1/poh/schedule']) {
        expectError(await a.get(url), 404, 'NOT_FOUND', /no Proof of History: its engine is "dev"/)
      }
      const b = (await a.get('/v1/blocks/0')).json()
      assert.equal('poh' in b, false, 'no slot data on other chains')
    } finally {
      await a.close()
    }
  })
})
