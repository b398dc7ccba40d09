/** Every experiment `catena lab` can run, in the order `catena lab list` shows them. */
import type { Experiment } from './experiment.ts'
import { selfishMining } from './experiments/selfish-mining/index.ts'
import { bftBounds } from './experiments/bft-bounds/index.ts'
import { eclipse } from './experiments/eclipse/experiment.ts'

export const EXPERIMENTS: readonly Experiment[] = [selfishMining, bftBounds, eclipse]

export function findExperiment(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name)
}
