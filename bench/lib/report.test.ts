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
  warmup: 200,
  cpuMsPerTransfer: 1000 / tps,
  rssMiB: 200,
  processes: 1,
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
    assert.deepEqual(
      { warmup: line.warmup, cpuMsPerTransfer: line.cpuMsPerTransfer, rssMiB: line.rssMiB, processes: line.processes },
      { warmup: 200, cpuMsPerTransfer: 2.222, rssMiB: 200, processes: 1 },
    )
    assert.equal(failed.tps, null)
    assert.equal(failed.cpuMsPerTransfer, null)
    assert.equal(failed.rssMiB, null)
    assert.equal(failed.seconds, null)
    assert.equal(failed.verified, false)
    assert.equal(failed.error.code, 'VERIFY_FAILED')
  })

  const section = (results: TargetResult[]): string =>
    renderTransfersSection({ results, machine, command: 'node --import tsx bench/transfers.ts', txs: 2000, warmup: 200, concurrency: 32, senders: 10, recipients: 0, hardhatLog: false, goalRatio: 2, cpuGoalMs: 0.5 })

  test('states the Catena / Hardhat ratio against the goal', () => {
    assert.match(section([ok('catena', 1000), ok('hardhat', 400)]), /Catena \/ Hardhat: 2\.50x\*\* \(goal >= 2x: met\)/)
    assert.match(section([ok('catena', 500), ok('hardhat', 400)]), /Catena \/ Hardhat: 1\.25x\*\* \(goal >= 2x: NOT met\)/)
  })

  test('node CPU per transfer and RSS: columns, and Catena against the goal and Hardhat', () => {
    const catena = { ...ok('catena', 1000), cpuMsPerTransfer: 0.4, rssMiB: 150 }
    const hardhat = { ...ok('hardhat', 400), cpuMsPerTransfer: 1.6, rssMiB: 300.4 }
    const text = section([catena, hardhat])
    assert.match(text, /\| target \| transfers\/s \| seconds \| node CPU ms\/transfer \| RSS MiB after \| blocks \|/)
    assert.match(text, /^\| catena \| 1000 \| 2\.00 \| 0\.40 \| 150 \| 2000 \| yes \|/m)
    assert.match(text, /^\| hardhat \| 400 \| 5\.00 \| 1\.60 \| 300 \| 2000 \| yes \|/m)
    assert.match(text, /Catena node CPU per transfer: 0\.40 ms\*\* vs Hardhat 1\.60 ms \(0\.25x\) \(goal <= 0\.5 ms: met\)/)
    assert.match(text, /Catena RSS after: 150 MiB vs Hardhat 300 MiB\*\* \(goal <= Hardhat's: met\)/)
    assert.match(text, /after 200 untimed warm-up transfers/)

    const worse = section([{ ...catena, cpuMsPerTransfer: 0.7, rssMiB: 400 }, hardhat])
    assert.match(worse, /goal <= 0\.5 ms: NOT met/)
    assert.match(worse, /goal <= Hardhat's: NOT met/)
    const alone = section([{ ...catena, cpuMsPerTransfer: undefined }])
    assert.match(alone, /Catena node CPU per transfer: n\/a\*\* \(goal <= 0\.5 ms\)/)
    assert.match(alone, /Catena RSS after: n\/a/)
  })

  test('a failed target shows FAILED, its reason, and no ratio', () => {
    const failed: TargetResult = { target: 'catena', txs: 2000, concurrency: 32, senders: 10, verified: false, error: { code: 'START_FAILED', message: 'catena exited\nstderr: boom' } }
    const text = section([failed, ok('hardhat', 400)])
    assert.match(text, /\| catena \| — \| — \| — \| — \| — \| FAILED \(START_FAILED\) \|/)
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
      { txs: a.txs, warmup: a.warmup, concurrency: a.concurrency, senders: a.senders, recipients: a.recipients, targets: a.targets, out: a.out },
      { txs: 2000, warmup: 200, concurrency: 32, senders: 10, recipients: 0, targets: ['catena', 'hardhat', 'ganache'], out: 'bench/RESULTS.md' },
    )
    assert.equal(parseTransfersArgs(['--warmup', '0']).warmup, 0)
  })

  test('rejects bad input with BAD_ARGS', () => {
    for (const argv of [['--txs', '0'], ['--txs', '1.5'], ['--targets', 'geth'], ['--targets', 'hardhat,hardhat'], ['--senders', '20', '--txs', '10'], ['--recipients', '-1'], ['--warmup', '-5'], ['--warmup', 'x'], ['--bogus']]) {
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
