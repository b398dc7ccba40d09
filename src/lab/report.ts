/**
 * Writes an experiment's result: `<name>.md` (the table, the sections, the checks and the
 * charts linked), `<name>-<chart>.svg` per chart and `<name>.json` (options and raw data).
 * Nothing in them depends on the wall clock: the same seed writes the same files.
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { renderChartSvg } from './charts.ts'
import type { ExperimentResult, Table } from './experiment.ts'

export function markdownTable(t: Table): string {
  const esc = (v: string | number) => String(v).replaceAll('|', '\\|')
  const head = `| ${t.columns.map(esc).join(' | ')} |`
  const rule = `|${t.columns.map(() => '---').join('|')}|`
  return [head, rule, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n')
}

/** The table as aligned plain text, for the terminal. */
export function textTable(t: Table): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(String))]
  const widths = t.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const fmtRow = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [fmtRow(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmtRow)].join('\n')
}

export function renderMarkdown(r: ExperimentResult, command: string): string {
  const out: string[] = [`# Lab: ${r.title}`, '', `Command: \`${command}\` (seed ${r.seed}, ${r.runs} runs per point). Same seed, same numbers.`, '']
  out.push(markdownTable(r.table), '')
  for (const s of r.sections) out.push(`## ${s.title}`, '', s.body.trim(), '')
  if (r.charts.length > 0) {
    out.push('## Charts', '')
    for (const c of r.charts) out.push(`![${c.title}](${r.name}-${c.name}.svg)`, '')
  }
  if (r.checks.length > 0) {
    out.push('## Checks against the anchors', '')
    out.push(markdownTable({ columns: ['check', 'result', 'detail'], rows: r.checks.map((c) => [c.name, c.pass ? 'pass' : '**FAIL**', c.detail]) }), '')
  }
  return out.join('\n')
}

export interface WrittenReport {
  markdown: string
  json: string
  svgs: string[]
}

export async function writeReport(r: ExperimentResult, dir: string, command: string): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true })
  const markdown = join(dir, `${r.name}.md`)
  await writeFile(markdown, renderMarkdown(r, command))
  const svgs: string[] = []
  for (const c of r.charts) {
    const file = join(dir, `${r.name}-${c.name}.svg`)
    await writeFile(file, renderChartSvg(c))
    svgs.push(file)
  }
  const json = join(dir, `${r.name}.json`)
  const data = { name: r.name, title: r.title, seed: r.seed, runs: r.runs, command, table: r.table, checks: r.checks, data: r.data }
  await writeFile(json, JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n')
  return { markdown, json, svgs }
}
