/**
 * Runs one experiment the way `catena lab` does: progress lines, the table at the end, the
 * report files in `out`, and whether every anchor check passed.
 * @module
 */
import type { Experiment, ExperimentResult } from './experiment.ts'
import { textTable, writeReport, type WrittenReport } from './report.ts'

export interface LabRunOptions {
  runs?: number
  seed: number
  out: string
  live?: boolean
  /** Where progress lines and the final table go (the CLI: stderr and stdout). */
  progress: (line: string) => void
  print: (text: string) => void
}

export interface LabRun {
  result: ExperimentResult
  files: WrittenReport
  passed: boolean
}

export function labCommand(e: Experiment, o: { runs?: number; seed: number; live?: boolean }): string {
  return ['catena lab', e.name, ...(o.runs !== undefined ? [`--runs ${o.runs}`] : []), `--seed ${o.seed}`, ...(o.live ? ['--live'] : [])].join(' ')
}

export async function runExperiment(e: Experiment, o: LabRunOptions): Promise<LabRun> {
  if (o.live && !e.live) throw new Error(`experiment ${e.name} has no --live mode`)
  const runs = o.runs ?? e.defaultRuns
  o.progress(`lab ${e.name}: ${e.title} (seed ${o.seed}, ${runs} runs per point)`)
  const result = await e.run({ runs, seed: o.seed, ...(o.live ? { live: true } : {}), progress: o.progress })
  const files = await writeReport(result, o.out, labCommand(e, o))
  o.print(textTable(result.table))
  const failed = result.checks.filter((c) => !c.pass)
  for (const c of result.checks) o.print(`${c.pass ? 'pass' : 'FAIL'}  ${c.name}: ${c.detail}`)
  o.print(`report: ${files.markdown} (${files.svgs.length} chart${files.svgs.length === 1 ? '' : 's'}, raw data in ${files.json})`)
  return { result, files, passed: failed.length === 0 }
}
