/**
 * What every lab experiment is: a name, a default number of runs, and a run function that is
 * a pure function of its options (same seed, same numbers) returning a result the report
 * writer turns into Markdown, SVG charts and raw JSON.
 * @module
 */
import type { ChartSpec } from './charts.ts'

export interface ExperimentOptions {
  /** Runs per measured point (the experiment's defaultRuns when the user gives none). */
  runs: number
  seed: number
  /** Experiment-specific switches (`--live`, ...). */
  live?: boolean
  /** Progress lines for long work (the CLI prints them on stderr). */
  progress: (line: string) => void
}

export interface Table {
  columns: string[]
  rows: (string | number)[][]
}

/** An anchor the experiment must reproduce (the paper's number), checked on every run. */
export interface Check {
  name: string
  pass: boolean
  detail: string
}

export interface Section {
  title: string
  /** Markdown: text and tables (see markdownTable). */
  body: string
}

export interface ExperimentResult {
  name: string
  title: string
  seed: number
  runs: number
  /** The table printed at the end of the run and first in the report. */
  table: Table
  /** Further report sections: method, more tables, the reading of the numbers. */
  sections: Section[]
  charts: ChartSpec[]
  checks: Check[]
  /** The raw numbers, written as JSON. */
  data: unknown
}

export interface Experiment {
  name: string
  title: string
  /** One line for `catena lab list`. */
  summary: string
  defaultRuns: number
  /** Whether `--live` (real node processes) is supported. */
  live?: boolean
  run(opts: ExperimentOptions): Promise<ExperimentResult>
}
