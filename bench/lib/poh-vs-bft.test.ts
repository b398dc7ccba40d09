/**
 * The pure parts of bench/poh-vs-bft.ts: following the safe and finalized tags over a chain
 * with forks (what counts as confirmed and final, finality violations, hostile answers), the
 * per-tx stamps (a confirmation in an orphaned block does not count), the summary, and the
 * RESULTS.md section and JSON line.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BenchError } from './errors.ts'
import { stampConfirmed, stampFinal, summarizeRun, type BftResult, type TxOutcome } from './bft-load.ts'
import { capacityLines, carried, pohVsBftJsonLine, renderPohVsBftSection, runOk, type ChainRun } from './poh-vs-bft-report.ts'
import { replaceSection } from './report.ts'
import { TagTracker, blockInfo, type BlockInfo, type BlockSource, type Tag } from './tag-follower.ts'

/** An in-memory chain: blocks by hash, and what each tag names now (set by the test). */
class Chain implements BlockSource {
  readonly blocks = new Map<string, BlockInfo>()
  readonly tags: Record<Tag, string> = { safe: '', finalized: '' }
  fetches = 0

  add(hash: string, parent: string | null, txs: string[] = []): BlockInfo {
    const height = parent === null ? 0 : this.blocks.get(parent)!.height + 1
    const b = { hash, height, parentHash: parent ?? '0x00', txs, gasUsed: BigInt(txs.length) * 21_000n }
    this.blocks.set(hash, b)
    return b
  }

  /** hash-0 .. hash-n on one branch named `prefix`, from `from` (a hash). */
  extend(prefix: string, from: string, n: number): string[] {
    const out: string[] = []
    let parent = from
    for (let i = 0; i < n; i++) {
      const h = `${prefix}${this.blocks.get(parent)!.height + 1}`
      this.add(h, parent, [`tx-${h}`])
      out.push(h)
      parent = h
    }
    return out
  }

  set(safe: string, finalized: string): void {
    this.tags.safe = safe
    this.tags.finalized = finalized
  }

  async tagged(tag: Tag): Promise<BlockInfo> {
    return this.blocks.get(this.tags[tag])!
  }

  async byHash(hash: string): Promise<BlockInfo | undefined> {
    this.fetches++
    return this.blocks.get(hash)
  }
}

function tracker(chain: BlockSource) {
  const log: string[] = []
  const violations: string[] = []
  const t = new TagTracker(chain, {
    confirmed: (at, b) => log.push(`c ${b.hash} @${at}`),
    final: (at, b) => log.push(`f ${b.hash} @${at}`),
    violation: (text) => violations.push(text),
  })
  return { t, log, violations }
}

describe('TagTracker', () => {
  test('reports each confirmed block once, then each final block, in height order, from the tags at init on', async () => {
    const c = new Chain()
    c.add('g', null)
    const [a1, a2, a3, a4, a5, a6] = c.extend('a', 'g', 6)
    c.set(a2!, a1!)
    const { t, log, violations } = tracker(c)
    await t.init()
    assert.equal(t.finalHeight, 1)
    // Tags jump: safe by 3 (a3..a5 walked back by parent hash), finalized by 2.
    c.set(a5!, a3!)
    await t.poll(() => 10)
    assert.deepEqual(log, ['c a3 @10', 'c a4 @10', 'c a5 @10', 'f a2 @10', 'f a3 @10'])
    log.length = 0
    // Nothing new: nothing reported.
    await t.poll(() => 20)
    assert.deepEqual(log, [])
    // Both tags at one block (BFT: both are the head): confirmed and final at the same time.
    c.set(a6!, a6!)
    await t.poll(() => 30)
    assert.deepEqual(log, ['c a6 @30', 'f a4 @30', 'f a5 @30', 'f a6 @30'])
    assert.equal(t.finalHeight, 6)
    assert.deepEqual(violations, [])
  })

  test('a fork: blocks of the orphaned branch were confirmed but never become final', async () => {
    const c = new Chain()
    c.add('g', null)
    const [a1] = c.extend('a', 'g', 1)
    const [b2, b3] = c.extend('b', a1!, 2) // the branch confirmed first
    const [x2, x3, x4] = c.extend('x', a1!, 3) // the branch that wins
    c.set(a1!, a1!)
    const { t, log, violations } = tracker(c)
    await t.init()
    c.set(b3!, a1!)
    await t.poll(() => 1)
    c.set(x4!, x2!)
    await t.poll(() => 2)
    c.set(x4!, x4!)
    await t.poll(() => 3)
    assert.deepEqual(log, ['c b2 @1', 'c b3 @1', 'c x2 @2', 'c x3 @2', 'c x4 @2', 'f x2 @2', 'f x3 @3', 'f x4 @3'])
    assert.ok(!log.some((l) => l.startsWith(`f ${b2}`) || l.startsWith(`f ${b3}`)), 'the orphaned branch is never final')
    assert.deepEqual(violations, [])
  })

  test('a block confirmed and then final is fetched once', async () => {
    const c = new Chain()
    c.add('g', null)
    const hs = c.extend('a', 'g', 40)
    c.set('g', 'g')
    const { t } = tracker(c)
    await t.init()
    c.set(hs[39]!, 'g')
    await t.poll()
    const afterConfirm = c.fetches
    c.set(hs[39]!, hs[39]!)
    await t.poll()
    assert.equal(c.fetches, afterConfirm, 'the final walk reads the blocks the confirmed walk fetched')
  })

  test('finality violations: a finalized block replaced at its height, a new final block off the final chain, the tag going back', async () => {
    const c = new Chain()
    c.add('g', null)
    const [a1, a2] = c.extend('a', 'g', 2)
    const [y1, y2, y3] = c.extend('y', 'g', 3)
    c.set(a2!, a2!)
    const { t, violations, log } = tracker(c)
    await t.init()
    c.set(y2!, y2!) // same height, another block
    await t.poll()
    assert.equal(violations.length, 1)
    assert.match(violations[0]!, /block a2 was finalized at height 2; now the finalized chain has y2 there/)
    c.set(y3!, y3!) // above it, but not descending from a2
    await t.poll()
    assert.equal(violations.length, 2)
    assert.match(violations[1]!, /now the finalized chain has y2 there/)
    assert.ok(log.includes('f y3 @' + log.at(-1)!.split('@')[1]), 'the new finalized chain is followed')
    c.set(a1!, a1!)
    await t.poll()
    assert.match(violations[2]!, /went back from height 3 to 1/)
  })

  test('a node that lacks an ancestor of its finalized block, or names a parent at the wrong height, is an error', async () => {
    const c = new Chain()
    c.add('g', null)
    const [a1] = c.extend('a', 'g', 1)
    c.set(a1!, a1!)
    const { t } = tracker(c)
    await t.init()
    c.blocks.set('orphan3', { hash: 'orphan3', height: 3, parentHash: 'missing2', txs: [], gasUsed: 0n })
    c.set(a1!, 'orphan3')
    await assert.rejects(t.poll(), (err: unknown) => err instanceof BenchError && err.code === 'VERIFY_FAILED' && /lacks an ancestor/.test(err.message))
    c.blocks.set('liar5', { hash: 'liar5', height: 5, parentHash: a1!, txs: [], gasUsed: 0n })
    c.set('liar5', a1!)
    await assert.rejects(t.poll(), (err: unknown) => err instanceof BenchError && /names parent a1, which is at height 1/.test(err.message))
  })

  test('poll before init is refused', async () => {
    const { t } = tracker(new Chain())
    await assert.rejects(t.poll(), (err: unknown) => err instanceof BenchError && /before init/.test(err.message))
  })

  test('blockInfo: lower-cases hashes, refuses what is not a block with tx hashes', () => {
    const b = blockInfo({ hash: '0xAB', number: '0x10', parentHash: '0xCD', transactions: ['0xEF'], gasUsed: '0x5208' }, 'x')
    assert.deepEqual(b, { hash: '0xab', height: 16, parentHash: '0xcd', txs: ['0xef'], gasUsed: 21_000n })
    for (const bad of [null, 'block', { hash: '0x1', parentHash: '0x2' }, { hash: '0x1', parentHash: '0x2', number: '0x1', gasUsed: '0x0', transactions: [{ hash: '0x3' }] }, { hash: '0x1', parentHash: '0x2', number: 'ten', gasUsed: '0x0', transactions: [] }]) {
      assert.throws(() => blockInfo(bad, 'the safe block'), (err: unknown) => err instanceof BenchError && /the safe block/.test(err.message))
    }
  })
})

describe('stamps and summary', () => {
  const out = (hash: string, submitAt: number): TxOutcome => ({ hash, validator: 0, dueAt: submitAt, submitAt })

  test('submit-to-confirmed ends when the block that became final was confirmed, not an orphaned one', () => {
    const t = out('0x1', 0)
    assert.equal(stampConfirmed(t, 1_500, 'orphan', 1_000), true) // confirmed at 500 ms in a block a fork drops
    assert.equal(stampConfirmed(t, 2_000, 'winner', 1_000), false) // not its first confirmation
    assert.equal(stampConfirmed(t, 2_500, 'winner', 1_000), false)
    assert.equal(stampFinal(t, { height: 7, seenAt: 14_000, txCount: 1, gasUsed: 21_000n }, 'winner', 1_000), true)
    assert.deepEqual([t.confirmedAt, t.finalAt, t.finalHeight, t.finalHash], [1_000, 13_000, 7, 'winner'])
    assert.equal(stampFinal(t, { height: 9, seenAt: 20_000, txCount: 1, gasUsed: 21_000n }, 'other', 1_000), false, 'final once')
    assert.equal(stampConfirmed(t, 30_000, 'late', 1_000), false, 'no confirmations after final')
    assert.equal(t.finalHeight, 7)
  })

  test('without confirmations (BFT heads), confirmed = final', () => {
    const t = out('0x2', 100)
    stampFinal(t, { height: 3, seenAt: 900, txCount: 1, gasUsed: 21_000n }, undefined, 0)
    assert.equal(t.confirmedAt, 900)
  })

  test('summarizeRun: confirmed and finalized percentiles, steady rate, txs reconfirmed after a fork, confirmed but lost', () => {
    const outcomes: TxOutcome[] = [
      { hash: '0x1', validator: 0, dueAt: 0, submitAt: 0, confirmedAt: 1_000, finalAt: 10_000, finalHeight: 5, finalHash: 'h5', confirmedIn: new Map([['h5', 1_000]]) },
      { hash: '0x2', validator: 0, dueAt: 0, submitAt: 1_000, confirmedAt: 3_000, finalAt: 12_000, finalHeight: 6, finalHash: 'h6', confirmedIn: new Map([['orphan', 2_000], ['h6', 3_000]]) },
      { hash: '0x3', validator: 0, dueAt: 0, submitAt: 2_000, confirmedIn: new Map([['h7', 3_000]]) },
    ]
    const s = summarizeRun({ outcomes, blocks: [] }, 48_000_000n)
    assert.deepEqual([s.confirmLatency?.p50, s.confirmLatency?.p90], [1, 2])
    assert.deepEqual([s.latency?.p50, s.latency?.p90], [10, 11])
    assert.equal(s.reconfirmed, 1)
    assert.equal(s.steadyTps, 1) // 2 final over 10..12 s
    assert.equal(s.finalTps, 2 / 12)
    assert.deepEqual(s.failures, [{ hash: '0x3', reason: 'confirmed, but not final within the grace period' }])
  })
})

describe('report', () => {
  const result = (o: Partial<BftResult>): BftResult => ({
    ok: true,
    rate: 50,
    seconds: 20,
    validators: 4,
    batch: 25,
    senders: 24,
    graceSeconds: 120,
    txs: 1000,
    offeredTps: 50.1,
    finalTps: 30.2,
    steadyTps: 49.5,
    final: 1000,
    lost: 0,
    rejected: 0,
    reconfirmed: 0,
    latency: { count: 1000, p50: 14.2, p90: 16, p99: 17, max: 18, mean: 14.5 },
    confirmLatency: { count: 1000, p50: 1.2, p90: 1.9, p99: 2.4, max: 3, mean: 1.3 },
    blocks: 40,
    txsPerBlock: 25,
    agreement: { height: 120, agree: true, hashes: ['0xaa', '0xaa', '0xaa', '0xaa'] },
    failures: [],
    ...o,
  })
  const run = (o: Partial<ChainRun> & { result: BftResult }): ChainRun => ({
    chain: 'solana-like',
    engine: 'poh',
    chainId: '1342',
    blockTimeMs: 400,
    blockGasLimit: '48000000',
    feeCap: '10000000000',
    receipts: { checked: 1000, mismatched: 0 },
    violations: [],
    load: { before: [1.5, 2, 2.5], after: [3, 2.5, 2.4] },
    poh: { slots: 100, blocks: 90, produced: 92, reorgs: 2, votesSent: 360, votesRejected: 0 },
    ...o,
  })
  const poh50 = run({ result: result({}) })
  const poh100 = run({ stateAtEnd: ['validator 0: head 90 finalized 58 slot 300'], result: result({ rate: 100, txs: 2000, final: 1990, lost: 10, offeredTps: 100, steadyTps: 70, failures: Array.from({ length: 10 }, (_, i) => ({ hash: `0x${i}`, reason: 'not final within the grace period' })) }) })
  const bft50 = run({ chain: 'consortium', engine: 'bft', chainId: '1338', blockTimeMs: undefined, commitMs: 1000, feeCap: '0', poh: undefined, result: result({ latency: { count: 1000, p50: 0.6, p90: 1.1, p99: 1.3, max: 1.5, mean: 0.7 }, confirmLatency: { count: 1000, p50: 0.6, p90: 1.1, p99: 1.3, max: 1.5, mean: 0.7 } }) })

  test('ok and carried: everything final and checked, and final blocks at 90% of the offered rate', () => {
    assert.equal(runOk(poh50), true)
    assert.equal(carried(poh50), true)
    assert.equal(runOk(poh100), false)
    assert.equal(carried(run({ result: result({ steadyTps: 40 }) })), false, 'all final, but final blocks came slower than offered')
    assert.equal(runOk(run({ result: result({}), receipts: { checked: 1000, mismatched: 1 } })), false)
    assert.equal(runOk(run({ result: result({}), receipts: undefined })), false, 'unchecked is not ok')
    assert.equal(runOk(run({ result: result({}), violations: ['x'] })), false)
    assert.equal(runOk(run({ result: result({ agreement: { height: 3, agree: false, hashes: [] } }) })), false)
    assert.equal(runOk(run({ result: result({ error: { code: 'STALLED', message: 'x' } }) })), false)
  })

  test('capacity per chain over the rates run', () => {
    assert.deepEqual(capacityLines([poh100, bft50, poh50]), [
      '**solana-like**: carried 50 tx/s, not 100 tx/s. p50 submit-to-confirmed / submit-to-finalized: 1.20 / 14.20 s at 50, 1.20 / 14.20 s at 100.',
      '**consortium**: carried every rate run (50 tx/s). p50 submit-to-confirmed / submit-to-finalized: 0.60 / 0.60 s at 50.',
    ])
    const nothingFinal = run({ result: result({ rate: 200, final: 0, lost: 1000, latency: { count: 0, p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN } }) })
    assert.deepEqual(capacityLines([nothingFinal]), ['**solana-like**: carried none of the rates run (200 tx/s).'])
    assert.match(capacityLines([poh100, run({ result: result({ rate: 400 }) })])[0]!, /carried 400 tx\/s, not 100 tx\/s \(not monotonic/)
  })

  test('section: a row per chain and rate, PoH counts, failures, load, machine and command; between its markers', () => {
    const text = renderPohVsBftSection({
      runs: [poh50, bft50, poh100],
      skipped: [{ chain: 'solana-like', rate: 200, after: 100 }],
      seconds: 20,
      batch: 25,
      graceSeconds: 120,
      pollMs: 100,
      machine: { cores: 2, cpu: 'Test CPU', node: 'v20.0.0', platform: 'linux x64', date: '2026-01-01T00:00:00Z' },
      command: 'node --import tsx bench/poh-vs-bft.ts --rate 50,100',
      runner: 'src/ via tsx',
      load: { before: [1, 2, 3], after: [4, 5, 6] },
    })
    assert.match(text, /\| solana-like @ 50\/s \| 50 \| \*\*30\*\* \| 50 \| \*\*1\.20 \/ 1\.90\*\* \| \*\*14\.20 \/ 16\.00\*\* \| 1000\/1000 \| 0 \| 0 \| 40 \| 25\.0 \| yes 120 \| yes \| 1\.50 2\.00 2\.50 → 3\.00 2\.50 2\.40 \|/)
    assert.match(text, /\| consortium @ 50\/s .*\*\*0\.60 \/ 1\.10\*\* \| \*\*0\.60 \/ 1\.10\*\*/)
    assert.match(text, /\| solana-like @ 100\/s .*\| 10 \| 0 \|.*\| \*\*no\*\* \|/)
    assert.match(text, /`solana-like` \(chain id 1342, PoH, 400 ms slots, EIP-1559 base fee: fee cap 10 gwei, tip 0, parallel execution\); `consortium` \(chain id 1338, BFT, 1000 ms commit wait, free gas: fee cap 0\)/)
    assert.match(text, /100 slots, 90 canonical blocks \(10 slots without one\), 92 blocks made by the leaders, 2 branch switches/)
    assert.match(text, /failures: 10 not final within the grace period/)
    assert.match(text, /at the end: validator 0: head 90 finalized 58 slot 300/)
    assert.match(text, /solana-like was not run at 200 tx\/s: it did not carry 100 tx\/s/)
    assert.match(text, /load average \(1\/5\/15 min\) 1\.00 2\.00 3\.00 before the run, 4\.00 5\.00 6\.00 after/)
    assert.match(text, /Command \(from the repo root\): `node --import tsx bench\/poh-vs-bft\.ts --rate 50,100`/)
    const file = replaceSection('# Benchmark results\n\n<!-- bft:start -->\nold bft\n<!-- bft:end -->\n', 'poh-vs-bft', text)
    assert.ok(file.includes('old bft') && file.includes('<!-- poh-vs-bft:start -->\n## PoH vs BFT') && file.trimEnd().endsWith('<!-- poh-vs-bft:end -->'))
  })

  test('JSON line: one object with a run per chain and rate, nulls for what was not measured', () => {
    const failed = run({ chain: 'consortium', engine: 'bft', poh: undefined, receipts: undefined, result: { ok: false, rate: 50, seconds: 20, validators: 4, batch: 25, senders: 24, graceSeconds: 120, txs: 1000, error: { code: 'START_FAILED', message: 'boom' } } })
    const line = pohVsBftJsonLine({ runs: [poh50, failed], seconds: 20, batch: 25, load: { before: [1.234, 2, 3], after: [1, 2, 3] } })
    assert.ok(!line.includes('\n'))
    const j = JSON.parse(line) as { bench: string; ok: boolean; loadBefore: number[]; runs: Array<Record<string, unknown>> }
    assert.equal(j.bench, 'poh-vs-bft')
    assert.equal(j.ok, false)
    assert.deepEqual(j.loadBefore, [1.23, 2, 3])
    assert.equal(j.runs[0]!.confirmedP50, 1.2)
    assert.equal(j.runs[0]!.finalP90, 16)
    assert.deepEqual(j.runs[0]!.poh, poh50.poh)
    assert.equal(j.runs[1]!.finalTps, null)
    assert.equal(j.runs[1]!.confirmedP50, null)
    assert.deepEqual(j.runs[1]!.error, { code: 'START_FAILED', message: 'boom' })
  })
})
