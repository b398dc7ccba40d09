/**
 * The pure parts of bench/bft.ts: open-loop pacing and batch order, percentiles, the run
 * summary, the RESULTS.md section and JSON line, the signed plan, node-log and CPU-profile
 * summaries, and the choice between the built and the source CLI.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseTransaction, recoverTransactionAddress, type TransactionSerializedEIP1559 } from 'viem'
import { TEST_MNEMONIC, deriveKeys } from '../../src/wallet/hd.ts'
import { BenchError } from './errors.ts'
import {
  MAX_TXS_PER_SENDER,
  account,
  bftJsonLine,
  buildLoadPlan,
  describeCpu,
  failureCounts,
  dueOffsetMs,
  formatLoadProgress,
  interleaveBatches,
  latencyStats,
  percentile,
  renderBftSection,
  sendersFor,
  signTransfer,
  summarizeRun,
  type BftResult,
  type BftSection,
  type SeenBlock,
  type TxOutcome,
} from './bft-load.ts'
import { chooseRunner, mainThreadProfile, summarizeNodeLog, summarizeProfile, type CpuProfile } from './bft-network.ts'
import { replaceSection } from './report.ts'

describe('pacing', () => {
  test('transfer i is due at i / rate seconds', () => {
    assert.equal(dueOffsetMs(0, 1200), 0)
    assert.equal(dueOffsetMs(1200, 1200), 1000)
    assert.equal(dueOffsetMs(50, 1000), 50)
    assert.equal(dueOffsetMs(3, 0.5), 6000)
  })

  test('batches leave batch / rate seconds apart, whatever their validator', () => {
    const queues = [0, 1, 2, 3].map((v) => Array.from({ length: 120 }, (_, i) => `${v}:${i}`))
    const due = interleaveBatches(queues, 50).map((b) => dueOffsetMs(b.firstIndex, 1200))
    assert.equal(due.length, 12)
    for (let k = 1; k < due.length; k++) {
      const gap = due[k]! - due[k - 1]!
      // Full batches of 50 are 41.7 ms apart; a queue's last, short batch of 20 only 16.7 ms.
      assert.ok(Math.abs(gap - (50 * 1000) / 1200) < 1e-9 || Math.abs(gap - (20 * 1000) / 1200) < 1e-9, `gap ${gap} ms before batch ${k}`)
    }
    assert.equal(due[0], 0)
  })

  test('sendersFor: enough senders for the per-sender cap, a multiple of the validators', () => {
    assert.equal(sendersFor(12_000, 4), 252)
    assert.equal(sendersFor(10, 4), 4)
    assert.equal(sendersFor(1, 3), 3)
    for (const [txs, v] of [[6000, 4], [12_345, 3], [48, 1], [49, 1]] as const) {
      const s = sendersFor(txs, v)
      assert.equal(s % v, 0)
      assert.ok(Math.ceil(txs / s) <= MAX_TXS_PER_SENDER, `${txs} txs over ${s} senders`)
    }
  })
})

describe('interleaveBatches', () => {
  test('takes up to `batch` items from each queue in turn and skips empty queues', () => {
    const batches = interleaveBatches([['a1', 'a2', 'a3', 'a4', 'a5'], ['b1'], [], ['d1', 'd2', 'd3']], 2)
    assert.deepEqual(
      batches.map((b) => [b.validator, b.firstIndex, b.items.join(',')]),
      [
        [0, 0, 'a1,a2'],
        [1, 2, 'b1'],
        [3, 3, 'd1,d2'],
        [0, 5, 'a3,a4'],
        [3, 7, 'd3'],
        [0, 8, 'a5'],
      ],
    )
  })

  test('every item once, in queue order, with contiguous indexes', () => {
    const queues = [0, 1, 2, 3].map((v) => Array.from({ length: 37 + v * 11 }, (_, i) => `${v}:${i}`))
    const batches = interleaveBatches(queues, 5)
    let next = 0
    const seen: string[][] = [[], [], [], []]
    for (const b of batches) {
      assert.equal(b.firstIndex, next)
      assert.ok(b.items.length >= 1 && b.items.length <= 5)
      next += b.items.length
      seen[b.validator]!.push(...b.items)
    }
    assert.equal(next, queues.flat().length)
    assert.deepEqual(seen, queues)
  })

  test('rejects a batch size below 1', () => {
    assert.throws(() => interleaveBatches([[1]], 0), RangeError)
    assert.throws(() => interleaveBatches([[1]], 1.5), RangeError)
  })
})

describe('percentiles', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1)

  test('nearest rank on sorted values', () => {
    assert.equal(percentile(hundred, 50), 50)
    assert.equal(percentile(hundred, 90), 90)
    assert.equal(percentile(hundred, 99), 99)
    assert.equal(percentile(hundred, 100), 100)
    assert.equal(percentile(hundred, 0), 1)
    assert.equal(percentile([7], 99), 7)
    assert.equal(percentile([1, 2, 3, 4], 50), 2)
    assert.equal(percentile([1, 2, 3, 4], 51), 3)
    assert.ok(Number.isNaN(percentile([], 50)))
  })

  test('latencyStats sorts a copy and reports p50/p90/p99/max/mean', () => {
    const values = [...hundred].reverse()
    const s = latencyStats(values)
    assert.deepEqual(s, { count: 100, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 })
    assert.equal(values[0], 100, 'input not modified')
    const empty = latencyStats([])
    assert.equal(empty.count, 0)
    assert.ok(Number.isNaN(empty.p50) && Number.isNaN(empty.max) && Number.isNaN(empty.mean))
  })
})

describe('summarizeRun', () => {
  const block = (height: number, seenAt: number, txCount: number): SeenBlock => ({ height, seenAt, txCount, gasUsed: BigInt(txCount) * 21_000n })

  test('rates, latencies, blocks, lost and refused txs', () => {
    const outcomes: TxOutcome[] = [
      { hash: '0x01', validator: 0, dueAt: 0, submitAt: 0, ackAt: 10, finalAt: 1000, finalHeight: 5 },
      { hash: '0x02', validator: 1, dueAt: 0, submitAt: 0, ackAt: 20, finalAt: 1000, finalHeight: 5 },
      { hash: '0x03', validator: 2, dueAt: 490, submitAt: 500, ackAt: 530, finalAt: 2000, finalHeight: 6 },
      { hash: '0x04', validator: 3, dueAt: 1000, submitAt: 1000, ackAt: 1010 }, // accepted, never final
      { hash: '0x05', from: '0xa', nonce: 3, validator: 0, dueAt: 1000, submitAt: 1000, ackAt: 1005, error: 'txpool is full' },
      { hash: '0x07', from: '0xa', nonce: 4, validator: 0, dueAt: 1000, submitAt: 1000, ackAt: 1005 }, // stuck behind nonce 3
      // Refused by one node but final anyway (e.g. gossiped there first): counts as final.
      { hash: '0x06', validator: 1, dueAt: 1000, submitAt: 1000, ackAt: 1005, error: 'already known', finalAt: 2000, finalHeight: 6 },
    ]
    const s = summarizeRun({ outcomes, blocks: [block(4, 500, 0), block(5, 1000, 2), block(6, 2000, 2), block(7, 3000, 0)] }, 30_000_000n)
    assert.equal(s.final, 4)
    assert.equal(s.lost, 2)
    assert.equal(s.rejected, 1)
    assert.equal(s.finalTps, 2) // 4 final over 0..2000 ms
    assert.equal(s.span, 2)
    assert.equal(s.offeredTps, 7) // 7 sent over 0..1000 ms
    assert.equal(s.blocks, 2)
    assert.equal(s.txsPerBlock, 2)
    assert.equal(s.maxBlockTxs, 2)
    assert.equal(s.blockInterval, 1) // blocks 5 and 6, 1 s apart
    assert.equal(s.blockCapacity, 1428)
    assert.equal(s.maxSendLagMs, 10)
    assert.deepEqual(s.latency, { count: 4, p50: 1, p90: 1.5, p99: 1.5, max: 1.5, mean: 1.125 })
    assert.equal(s.ack?.p50, 0.01)
    assert.deepEqual(s.failures, [
      { hash: '0x05', reason: 'txpool is full' },
      { hash: '0x04', reason: 'not final within the grace period' },
      { hash: '0x07', reason: "not final: behind its sender's refused nonce 3" },
    ])
    assert.deepEqual(failureCounts([...s.failures!, { hash: '0x08', reason: "not final: behind its sender's refused nonce 9" }]), [
      { reason: "not final: behind its sender's refused nonce N", count: 2 },
      { reason: 'txpool is full', count: 1 },
      { reason: 'not final within the grace period', count: 1 },
    ])
  })

  test('nothing final: no rates, everything lost', () => {
    const s = summarizeRun({ outcomes: [{ hash: '0x01', validator: 0, dueAt: 0, submitAt: 0 }], blocks: [] }, 30_000_000n)
    assert.equal(s.final, 0)
    assert.equal(s.finalTps, undefined)
    assert.equal(s.span, undefined)
    assert.equal(s.lost, 1)
    assert.equal(s.blocks, 0)
    assert.equal(s.txsPerBlock, undefined)
  })
})

describe('report', () => {
  const base: BftResult = {
    ok: true,
    rate: 1200,
    seconds: 10,
    validators: 4,
    batch: 50,
    senders: 252,
    graceSeconds: 30,
    txs: 12_000,
    offeredTps: 1204.7,
    finalTps: 1100.4,
    span: 10.9,
    final: 12_000,
    lost: 0,
    rejected: 0,
    latency: { count: 12_000, p50: 1.234, p90: 1.9, p99: 2.5, max: 3, mean: 1.3 },
    ack: { count: 12_000, p50: 0.02, p90: 0.05, p99: 0.1, max: 0.2, mean: 0.03 },
    blocks: 9,
    txsPerBlock: 1333.3,
    maxBlockTxs: 1428,
    blockInterval: 1.2,
    agreement: { height: 30, agree: true, hashes: ['0xaa', '0xaa', '0xaa', '0xaa'] },
    runner: 'dist/cli/main.js',
    failures: [],
  }
  const section = (r: BftResult): BftSection => ({
    result: r,
    machine: { cores: 2, cpu: 'Test CPU', node: 'v20.0.0', platform: 'linux x64', date: '2026-01-01T00:00:00Z' },
    command: 'node --import tsx bench/bft.ts',
    chain: { name: 'consortium', chainId: 1338n, blockGasLimit: 30_000_000n, commitMs: 1000 },
    targetTps: 1000,
    targetP50: 2,
  })

  test('a run that meets both targets', () => {
    const md = renderBftSection(section(base))
    assert.match(md, /^## BFT — 4-validator consortium network/)
    assert.match(md, /\| 1205 \| \*\*1100\*\* \| \*\*1.23\*\* \| 1.90 \| 2.50 \| 3.00 \| 12000 \| 0 \| 0 \| 9 \| 1333 \(1428\) \| 1.20 \| yes at 30 \|/)
    assert.match(md, /final tx\/s > 1,000: \*\*met\*\*; p50 submit-to-final < 2 s: \*\*met\*\*/)
    assert.match(md, /at most 1,428 transfers per block, 1000 ms commit wait/)
    assert.match(md, /Command \(from the repo root\): `node --import tsx bench\/bft.ts`/)
    assert.doesNotMatch(md, /Failures/)
  })

  test('targets missed, failures listed (at most 10), disagreement shown', () => {
    const failures = Array.from({ length: 12 }, (_, i) => ({ hash: `0x${i}`, reason: i === 0 ? 'txpool | is full\nmore' : 'not final within the grace period' }))
    const r: BftResult = { ...base, ok: false, finalTps: 336, latency: { ...base.latency!, p50: 12.3 }, lost: 11, rejected: 1, failures, agreement: { height: 9, agree: false, hashes: ['0xaa', '0xbb'] } }
    const md = renderBftSection(section(r))
    assert.match(md, /\*\*NOT met\*\*; p50 submit-to-final < 2 s: \*\*NOT met\*\*/)
    assert.match(md, /\*\*NO\*\* at 9/)
    assert.match(md, /Failures \(12\): 11 not final within the grace period; 1 txpool \\\| is full\. The first 10:/)
    assert.match(md, /- `0x0`: txpool \\\| is full$/m)
    assert.equal(md.match(/^- `0x/gm)?.length, 10)
  })

  test('a run that failed before measuring shows the error instead of a table', () => {
    const r: BftResult = { ok: false, rate: 1200, seconds: 10, validators: 4, batch: 50, senders: 252, graceSeconds: 30, txs: 12_000, error: { code: 'START_FAILED', message: 'validator 0 exited\nstack' } }
    const md = renderBftSection(section(r))
    assert.match(md, /\*\*Run failed\*\* \(START_FAILED\): validator 0 exited$/m)
    assert.doesNotMatch(md, /\| offered tx\/s/)
  })

  test('the section goes between the bft markers and leaves other sections alone', () => {
    const before = '# Benchmark results\n\n<!-- transfers:start -->\nT\n<!-- transfers:end -->\n'
    const once = replaceSection(before, 'bft', renderBftSection(section(base)))
    assert.ok(once.startsWith(before.trimEnd()))
    assert.match(once, /<!-- bft:start -->\n## BFT[\s\S]*<!-- bft:end -->\n$/)
    const twice = replaceSection(once, 'bft', 'new body')
    assert.match(twice, /<!-- bft:start -->\nnew body\n<!-- bft:end -->/)
    assert.ok(twice.includes('<!-- transfers:start -->\nT\n<!-- transfers:end -->'))
  })

  test('JSON line: one object, rounded, nulls for what was not measured', () => {
    const j = JSON.parse(bftJsonLine({ ...base, failures: Array.from({ length: 20 }, (_, i) => ({ hash: `0x${i}`, reason: 'x' })) }))
    assert.equal(j.bench, 'bft')
    assert.equal(j.finalTps, 1100.4)
    assert.equal(j.p50, 1.234)
    assert.equal(j.agree, true)
    assert.equal(j.failures.length, 10)
    const failed = JSON.parse(bftJsonLine({ ok: false, rate: 1, seconds: 1, validators: 4, batch: 1, senders: 4, graceSeconds: 1, txs: 1, error: { code: 'X', message: 'm' } }))
    assert.equal(failed.finalTps, null)
    assert.equal(failed.p50, null)
    assert.deepEqual(failed.error, { code: 'X', message: 'm' })
  })

  test('CPU and progress text', () => {
    const text = describeCpu({ seconds: 10, cores: 2, validators: [4, 4, 4, undefined], generator: 1, perFinalTxMs: 1.2 })
    assert.match(text, /validators 4.0 \+ 4.0 \+ 4.0 \+ \? s, load generator 1.0 s = 65% of the machine; .*1.20 CPU-ms per final transfer/)
    const line = formatLoadProgress({ elapsedMs: 2000, sent: 2400, total: 12_000, final: 1000, rejected: 10, height: 7, lastBlockTxs: 1000 })
    assert.equal(line, '[bft] 2.0 s  sent 2400/12000  final 1000 (500/s)  pending 1390  refused 10  height 7 (last block 1000 txs)')
  })
})

describe('the signed plan', () => {
  const keys = deriveKeys(TEST_MNEMONIC, 8, { start: 4 }).map((k) => account(k.privateKey))

  test('signTransfer makes a free-gas EIP-1559 transfer signed by its sender', async () => {
    const [a] = keys
    const tx = signTransfer(a!.key, a!.address, { chainId: 1338, nonce: 7, to: '0x000000000000000000000000000000000000cafe', value: 42n })
    const parsed = parseTransaction(tx.raw)
    assert.equal(parsed.type, 'eip1559')
    assert.equal(parsed.chainId, 1338)
    assert.equal(parsed.nonce, 7)
    assert.equal(parsed.gas, 21_000n)
    assert.equal(parsed.maxFeePerGas, undefined) // 0 encodes as empty
    assert.equal(parsed.value, 42n)
    assert.equal((await recoverTransactionAddress({ serializedTransaction: tx.raw as TransactionSerializedEIP1559 })).toLowerCase(), a!.address.toLowerCase())
  })

  test('funding, per-sender nonce order, senders pinned to validators, batches round-robin', async () => {
    const funders = keys.slice(0, 2).map((k) => ({ ...k, nonce: 3 }))
    const senders = keys.slice(2, 8)
    const plan = buildLoadPlan({ chainId: 1338, txs: 20, validators: 3, batch: 4, funders, senders, fundEach: 10n ** 18n })
    assert.equal(plan.total, 20)
    assert.equal(plan.funding.length, 6)
    assert.deepEqual(plan.funding.map((f) => [f.from, f.nonce, f.to]), senders.map((s, j) => [funders[j % 2]!.address, 3 + Math.floor(j / 2), s.address]))

    const all = plan.batches.flatMap((b) => b.items.map((tx) => ({ ...tx, batchValidator: b.validator })))
    assert.deepEqual(all.map((t) => t.index), Array.from({ length: 20 }, (_, i) => i))
    assert.equal(new Set(all.map((t) => t.hash)).size, 20)
    assert.equal(new Set(all.map((t) => t.to)).size, 20, 'a fresh recipient per transfer')
    assert.deepEqual(plan.batches.slice(0, 3).map((b) => b.validator), [0, 1, 2])
    const bySender = new Map<string, number[]>()
    for (const t of all) {
      const j = senders.findIndex((s) => s.address === t.from)
      assert.equal(t.validator, j % 3, 'sender pinned to validator j % 3')
      assert.equal(t.batchValidator, t.validator)
      bySender.set(t.from, [...(bySender.get(t.from) ?? []), t.nonce])
    }
    // 20 over 6 senders: the first two send 4, the others 3, nonces 0.. in send order.
    assert.deepEqual([...bySender.values()].map((n) => n.join(',')).sort(), ['0,1,2', '0,1,2', '0,1,2', '0,1,2', '0,1,2,3', '0,1,2,3'])
    const sample = all[5]!
    assert.equal((await recoverTransactionAddress({ serializedTransaction: sample.raw as TransactionSerializedEIP1559 })).toLowerCase(), sample.from.toLowerCase())
  })

  test('refuses plans a sender or funder could not fit in the mempool', () => {
    const funders = [{ ...keys[0]!, nonce: 0 }]
    assert.throws(
      () => buildLoadPlan({ chainId: 1338, txs: 64, validators: 1, batch: 10, funders, senders: [keys[1]!], fundEach: 1n }),
      (err: unknown) => err instanceof BenchError && err.code === 'BAD_ARGS' && /64 per sender/.test(err.message),
    )
    const many = Array.from({ length: 64 }, () => keys[1]!)
    assert.throws(
      () => buildLoadPlan({ chainId: 1338, txs: 64, validators: 1, batch: 10, funders, senders: many, fundEach: 1n }),
      (err: unknown) => err instanceof BenchError && /funding txs per funder/.test(err.message),
    )
  })
})

describe('node logs and CPU profiles', () => {
  test('summarizeNodeLog counts final blocks, later rounds, invalid proposals and warnings', () => {
    const lines = [
      '{"level":30,"msg":"bft block final","height":"1","round":1}',
      '{"level":30,"msg":"bft block final","height":"2","round":0}',
      '{"level":30,"msg":"bft block final","height":"3","round":2}',
      '{"level":30,"msg":"bft proposal is invalid"}',
      '{"level":40,"msg":"bft driver error","err":"x"}',
      '{"level":40,"msg":"bft driver error","err":"y"}',
      '{"level":50,"msg":"boom"}',
      'not json',
      '{"level":30,"msg":"half a line',
    ]
    assert.deepEqual(summarizeNodeLog(lines.join('\n')), {
      finalBlocks: 3,
      laterRounds: 2,
      maxRound: 2,
      invalidProposals: 1,
      warnings: { 'bft driver error': 2, boom: 1 },
    })
  })

  test('summarizeProfile: self time by function and area, idle apart, cut to a window', () => {
    const root = '/repo'
    const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber })
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('ecdsaRecover', 'file:///repo/node_modules/secp256k1/lib/index.js', 301) },
        { id: 4, callFrame: frame('add', 'file:///repo/src/mempool/pool.ts', 61) },
        { id: 5, callFrame: frame('(garbage collector)', '') },
        { id: 6, callFrame: frame('encode', 'file:///repo/node_modules/@ethereumjs/rlp/dist/esm/index.js', 9) },
      ],
      // One sample per 1000 µs from t = 1000; the last two fall outside the window.
      samples: [2, 3, 3, 4, 5, 3, 2, 6, 6],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
      startTime: 0,
      endTime: 9000,
    }
    const s = summarizeProfile(profile, { window: { startUs: 0, endUs: 7000 }, root })
    assert.equal(s.sampledMs, 7)
    assert.equal(Math.round(s.idlePercent), 29) // 2 of 7
    assert.deepEqual(s.top.map((t) => [t.fn, t.where, t.percent]), [
      ['ecdsaRecover', 'node_modules/secp256k1/lib/index.js:302', 60],
      ['add', 'src/mempool/pool.ts:62', 20],
      ['(garbage collector)', '', 20],
    ])
    assert.deepEqual(s.areas, [
      { area: 'secp256k1', percent: 60 },
      { area: 'catena mempool', percent: 20 },
      { area: '(garbage collector)', percent: 20 },
    ])
    const whole = summarizeProfile(profile, { root })
    assert.equal(whole.areas.find((a) => a.area === '@ethereumjs/rlp')?.percent, 2 * 100 / 7)
  })
})

test('mainThreadProfile picks the thread profile with the most busy samples', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bft-prof-'))
  try {
    const prof = (busy: number, idle: number): CpuProfile => ({
      nodes: [
        { id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: 0 } },
        { id: 2, callFrame: { functionName: 'work', url: '', lineNumber: 0 } },
      ],
      samples: [...Array(idle).fill(1), ...Array(busy).fill(2)],
      timeDeltas: Array(idle + busy).fill(1000),
      startTime: 0,
      endTime: (idle + busy) * 1000,
    })
    writeFileSync(path.join(dir, 'CPU.1.cpuprofile'), JSON.stringify(prof(2, 50))) // tsx's loader thread: mostly idle
    writeFileSync(path.join(dir, 'CPU.2.cpuprofile'), JSON.stringify(prof(30, 10)))
    writeFileSync(path.join(dir, 'notes.txt'), 'not a profile')
    assert.equal(path.basename(mainThreadProfile(dir)!.file), 'CPU.2.cpuprofile')
    assert.equal(mainThreadProfile(path.join(dir, 'missing')), undefined)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

describe('chooseRunner', () => {
  const makeRepo = () => {
    const root = mkdtempSync(path.join(tmpdir(), 'bft-runner-'))
    mkdirSync(path.join(root, 'src', 'cli'), { recursive: true })
    writeFileSync(path.join(root, 'src', 'cli', 'main.ts'), '')
    return root
  }
  const build = (root: string, when: Date) => {
    mkdirSync(path.join(root, 'dist', 'cli'), { recursive: true })
    const main = path.join(root, 'dist', 'cli', 'main.js')
    writeFileSync(main, '')
    utimesSync(main, when, when)
  }
  const touch = (file: string, when: Date) => utimesSync(file, when, when)

  test('auto: source without a build, dist when it is newer than src/, source when src/ changed since', () => {
    const root = makeRepo()
    try {
      const main = path.join(root, 'src', 'cli', 'main.ts')
      touch(main, new Date('2026-01-01T00:00:00Z'))
      assert.equal(chooseRunner('auto', root).kind, 'source')
      build(root, new Date('2026-01-02T00:00:00Z'))
      const dist = chooseRunner('auto', root)
      assert.equal(dist.kind, 'dist')
      assert.deepEqual(dist.args, [path.join(root, 'dist', 'cli', 'main.js')])
      touch(main, new Date('2026-01-03T00:00:00Z'))
      const stale = chooseRunner('auto', root)
      assert.equal(stale.kind, 'source')
      assert.deepEqual(stale.args, ['--import', 'tsx', main])
      assert.match(stale.reason, /dist\/ is older than src\/cli\/main.ts/)
      assert.equal(chooseRunner('dist', root).kind, 'dist', '--runner dist uses even a stale build')
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  test('--runner dist without a build is a clear error', () => {
    const root = makeRepo()
    try {
      assert.throws(() => chooseRunner('dist', root), (err: unknown) => err instanceof BenchError && err.code === 'BAD_ARGS' && /npm run build/.test(err.message))
      assert.equal(chooseRunner('source', root).kind, 'source')
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

