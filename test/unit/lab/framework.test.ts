/**
 * The lab framework: Wilson intervals against known values, the report files an experiment
 * writes (same result, same bytes), SVG charts rendered without a browser, progress lines,
 * and `catena lab` refusing bad arguments before it runs anything.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lineSeries, markdownTable, meanEstimate, progressCounter, proportion, renderChartSvg, runExperiment, textTable, type Experiment } from '../../../src/lab/index.ts'
import { Prng } from '../../../src/lab/sim/prng.ts'
import { catena } from '../../helpers/cli.ts'

describe('lab stats', () => {
  test('Wilson interval: known values', () => {
    // 10 of 100: Wilson 95% interval is [0.0552, 0.1744] (Newcombe 1998's method 3).
    const p = proportion(10, 100)
    assert.equal(p.p, 0.1)
    assert.ok(Math.abs(p.low - 0.0552) < 1e-4, `low ${p.low}`)
    assert.ok(Math.abs(p.high - 0.1744) < 1e-4, `high ${p.high}`)
    // 0 successes still has an upper bound above 0 (the normal approximation gives [0, 0]).
    const z = proportion(0, 50)
    assert.equal(z.low, 0)
    assert.ok(z.high > 0.07 && z.high < 0.072, `high ${z.high}`)
  })

  test('bad counts are refused', () => {
    assert.throws(() => proportion(3, 2))
    assert.throws(() => proportion(1, 0))
    assert.throws(() => proportion(-1, 5))
  })

  test('mean and its standard error', () => {
    const m = meanEstimate([1, 2, 3, 4])
    assert.equal(m.mean, 2.5)
    assert.ok(Math.abs(m.se - Math.sqrt(1.6666666666666667 / 4)) < 1e-12)
  })
})

describe('lab reports', () => {
  const fake = (seed: number): Experiment => ({
    name: 'coin',
    title: 'A fair coin',
    summary: 'flips a seeded coin',
    defaultRuns: 1000,
    async run(o) {
      const prng = new Prng(o.seed)
      const bar = progressCounter('flips', o.runs, o.progress)
      let heads = 0
      for (let i = 0; i < o.runs; i++) {
        if (prng.chance(0.5)) heads++
        bar.tick()
      }
      bar.done()
      const p = proportion(heads, o.runs)
      return {
        name: 'coin',
        title: 'A fair coin',
        seed,
        runs: o.runs,
        table: { columns: ['flips', 'heads', 'p'], rows: [[o.runs, heads, p.p.toFixed(4)]] },
        sections: [{ title: 'Method', body: 'Flip it.' }],
        charts: [{ name: 'p', title: 'heads', option: { xAxis: { type: 'value' }, yAxis: { type: 'value' }, series: [lineSeries('p', [[0, 0], [1, p.p]])] } }],
        checks: [{ name: 'fair', pass: p.low <= 0.5 && 0.5 <= p.high, detail: `[${p.low.toFixed(3)}, ${p.high.toFixed(3)}]` }],
        data: { heads },
      }
    },
  })

  test('an experiment writes Markdown, SVG and JSON; the same seed writes the same bytes', async () => {
    const dirs = [await mkdtemp(join(tmpdir(), 'lab-a-')), await mkdtemp(join(tmpdir(), 'lab-b-'))]
    try {
      const lines: string[] = []
      const printed: string[] = []
      for (const dir of dirs) {
        const run = await runExperiment(fake(7), { seed: 7, out: dir, progress: (l) => lines.push(l), print: (t) => printed.push(t) })
        assert.equal(run.passed, true)
      }
      for (const f of ['coin.md', 'coin.json', 'coin-p.svg']) {
        assert.equal(await readFile(join(dirs[0], f), 'utf8'), await readFile(join(dirs[1], f), 'utf8'), `${f} differs between two runs of one seed`)
      }
      assert.deepEqual((await readdir(dirs[0])).sort(), ['coin-p.svg', 'coin.json', 'coin.md'])
      const md = await readFile(join(dirs[0], 'coin.md'), 'utf8')
      assert.match(md, /Command: `catena lab coin --seed 7`/)
      assert.match(md, /!\[heads\]\(coin-p\.svg\)/)
      assert.match(md, /\| fair \| pass \|/)
      assert.ok((await readFile(join(dirs[0], 'coin-p.svg'), 'utf8')).startsWith('<svg'))
      assert.ok(lines.some((l) => l.startsWith('flips: 1000/1000 (100.0%)')), lines.join('\n'))
      assert.ok(printed.some((t) => t.includes('flips  heads')), 'the table is printed')
    } finally {
      for (const d of dirs) await rm(d, { recursive: true, force: true })
    }
  })

  test('tables: Markdown escapes pipes, text aligns columns', () => {
    assert.equal(markdownTable({ columns: ['a', 'b'], rows: [['x|y', 1]] }), '| a | b |\n|---|---|\n| x\\|y | 1 |')
    assert.equal(textTable({ columns: ['a', 'bbb'], rows: [['long', 1]] }), 'a     bbb\n----  ---\nlong  1')
  })

  test('charts render to SVG without a browser, deterministically', () => {
    const spec = { name: 'c', title: 'T', option: { xAxis: { type: 'value' }, yAxis: { type: 'value' }, series: [lineSeries('s', [[0, 1], [2, 3]])] } }
    const a = renderChartSvg(spec)
    assert.ok(a.startsWith('<svg'))
    assert.equal(a, renderChartSvg(spec))
  })
})

describe('catena lab (CLI)', () => {
  test('an unknown experiment, a bad seed or bad runs are refused with a clear error', async () => {
    const unknown = await catena(['lab', 'no-such-thing'])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /no experiment "no-such-thing"/)
    const seed = await catena(['lab', 'list', '--seed', '-3'])
    assert.notEqual(seed.code, 0)
    assert.match(seed.stderr, /--seed/)
    const runs = await catena(['lab', 'list', '--runs', '0'])
    assert.notEqual(runs.code, 0)
    assert.match(runs.stderr, /whole number from 1/)
  })
})
