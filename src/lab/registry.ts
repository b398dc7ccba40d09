/** Every experiment `catena lab` can run, in the order `catena lab list` shows them. */
import type { Experiment } from './experiment.ts'
import { bftBounds } from './experiments/bft-bounds/index.ts'

export const EXPERIMENTS: readonly Experiment[] = [bftBounds]

export function findExperiment(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name)
}
