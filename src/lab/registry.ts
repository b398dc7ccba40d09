/** Every experiment `catena lab` can run, in the order `catena lab list` shows them. */
import { eclipse } from './eclipse/experiment.ts'
import type { Experiment } from './experiment.ts'

export const EXPERIMENTS: readonly Experiment[] = [eclipse]

export function findExperiment(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name)
}
