/**
 * The lab: deterministic simulated networks over the real engines, adversaries as plug-ins,
 * and the experiments `catena lab` runs with them.
 * @module
 */
export type { Check, Experiment, ExperimentOptions, ExperimentResult, Section, Table } from './experiment.ts'
export { EXPERIMENTS, findExperiment } from './registry.ts'
export { runExperiment, labCommand, type LabRun, type LabRunOptions } from './run.ts'
export { markdownTable, renderMarkdown, textTable, writeReport } from './report.ts'
export { renderChartSvg, lineSeries, type ChartSpec } from './charts.ts'
export { proportion, meanEstimate, fmt, Z95, type Proportion, type MeanEstimate } from './stats.ts'
export { progressCounter, type ProgressCounter } from './progress.ts'
export { Prng } from './sim/prng.ts'
export { EventQueue } from './sim/event-queue.ts'
