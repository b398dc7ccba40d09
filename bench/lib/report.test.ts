import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { parseTransfersArgs } from './args.ts'
import { BenchError } from './errors.ts'
import { mapConcurrent } from './pool.ts'
import { jsonLine, renderTransfersSection, replaceSection, type TargetResult } from './report.ts'

const machine = { cores: 2, cpu: 'Test CPU', node: 'v20.0.0', platform: 'linux x64', date: '2026-01-01T00:00:00Z' }
const ok = (target: string, tps: number): TargetResult => ({
  target,
  txs: 2000,
  concurrency: 32,
  senders: 10,
  seconds: 2000 / tps,
  tps,
  verified: true,
  version: `${target}/1.0`,
  blocks: 2000,
})

describe('replaceSection', () => {
  test('creates a file with the section when there is none', () => {
    const out = replaceSection(undefined, 'transfers', 'body')
    assert.match(out, /^# Benchmark results\n/)
    assert.ok(out.includes('<!-- transfers:start -->\nbody\n<!-- transfers:end -->\n'))
  })

  test('replaces only its own section and keeps the rest byte for byte', () => {
    const before = '# R\n\nintro\n<!-- sync:start -->\nS\n<!-- sync:end -->\n<!-- transfers:start -->\nold\n<!-- transfers:end -->\ntail\n'
    const out = replaceSection(before, 'transfers', 'new')
    assert.equal(out, '# R\n\nintro\n<!-- sync:start -->\nS\n<!-- sync:end -->\n<!-- transfers:start -->\nnew\n<!-- transfers:end -->\ntail\n')
  })

  test('appends the section to a file that lacks it', () => {
    const out = replaceSection('# R\n\n<!-- sync:start -->\nS\n<!-- sync:end -->\n', 'transfers', 'new')
    assert.equal(out, '# R\n\n<!-- sync:start -->\nS\n<!-- sync:end -->\n\n<!-- transfers:start -->\nnew\n<!-- transfers:end -->\n')
  })

  test('refuses a file with only one marker', () => {
    assert.throws(() => replaceSection('x\n<!-- transfers:start -->\nold\n', 'transfers', 'new'), (e: unknown) => {
      return e instanceof BenchError && e.code === 'BAD_ARGS'
    })
  })
})

describe('transfers report', () => {
  test('one JSON line per target, failed targets without a number', () => {
    const line = JSON.parse(jsonLine('transfers', ok('hardhat', 450.123)))
    assert.deepEqual(
      { bench: line.bench, target: line.target, txs: line.txs, concurrency: line.concurrency, tps: line.tps, verified: line.verified },
      { bench: 'transfers', target: 'hardhat', txs: 2000, concurrency: 32, tps: 450.1, verified: true },
    )
    const failed = JSON.parse(
      jsonLine('transfers', { target: 'catena', txs: 2000, concurrency: 32, senders: 10, verified: false, error: { code: 'VERIFY_FAILED', message: 'm' } }),
    )
    assert.equal(failed.tps, null)
    assert.equal(failed.seconds, null)
    assert.equal(failed.verified, false)
    assert.equal(failed.error.code, 'VERIFY_FAILED')
  })

  const section = (results: TargetResult[]): string =>
    renderTransfersSection({ results, machine, command: 'node --import tsx bench/transfers.ts', txs: 2000, concurrency: 32, senders: 10, recipients: 0, hardhatLog: false, goalRatio: 2 })

  test('states the Catena / Hardhat ratio against the goal', () => {
    assert.match(section([ok('catena', 1000), ok('hardhat', 400)]), /Catena \/ Hardhat: 2\.50x\*\* \(goal >= 2x: met\)/)
    assert.match(section([ok('catena', 500), ok('hardhat', 400)]), /Catena \/ Hardhat: 1\.25x\*\* \(goal >= 2x: NOT met\)/)
  })

  test('a failed target shows FAILED, its reason, and no ratio', () => {
    const failed: TargetResult = { target: 'catena', txs: 2000, concurrency: 32, senders: 10, verified: false, error: { code: 'START_FAILED', message: 'catena exited\nstderr: boom' } }
    const text = section([failed, ok('hardhat', 400)])
    assert.match(text, /\| catena \| — \| — \| — \| FAILED \(START_FAILED\) \|/)
    assert.match(text, /Catena \/ Hardhat: n\/a/)
    assert.match(text, /\*\*catena\*\* failed: catena exited$/m)
    assert.match(text, /Machine: 2 cores \(Test CPU\), Node v20\.0\.0/)
    assert.match(text, /`node --import tsx bench\/transfers\.ts`/)
  })
})

describe('parseTransfersArgs', () => {
  test('defaults', () => {
    const a = parseTransfersArgs([])
    assert.deepEqual(
      { txs: a.txs, concurrency: a.concurrency, senders: a.senders, recipients: a.recipients, targets: a.targets, out: a.out },
      { txs: 2000, concurrency: 32, senders: 10, recipients: 0, targets: ['catena', 'hardhat', 'ganache'], out: 'bench/RESULTS.md' },
    )
  })

  test('rejects bad input with BAD_ARGS', () => {
    for (const argv of [['--txs', '0'], ['--txs', '1.5'], ['--targets', 'geth'], ['--targets', 'hardhat,hardhat'], ['--senders', '20', '--txs', '10'], ['--recipients', '-1'], ['--bogus']]) {
      assert.throws(() => parseTransfersArgs(argv), (e: unknown) => e instanceof BenchError && e.code === 'BAD_ARGS', argv.join(' '))
    }
  })
})

test('mapConcurrent keeps order and the limit', async () => {
  let inFlight = 0
  let max = 0
  const out = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n) => {
    max = Math.max(max, ++inFlight)
    await new Promise((r) => setTimeout(r, n))
    inFlight--
    return n * 10
  })
  assert.deepEqual(out, [50, 10, 40, 20, 30])
  assert.equal(max, 2)
})
