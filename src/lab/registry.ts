/** Every experiment `catena lab` can run, in the order `catena lab list` shows them. */
import type { Experiment } from './experiment.ts'
import { doubleSpend } from './experiments/double-spend.ts'
import { selfishMining } from './experiments/selfish-mining/index.ts'
import { bftBounds } from './experiments/bft-bounds/index.ts'
import { eclipse } from './experiments/eclipse/experiment.ts'
import { fiftyOne } from './experiments/fifty-one.ts'

export const EXPERIMENTS: readonly Experiment[] = [doubleSpend, selfishMining, bftBounds, eclipse, fiftyOne]

export function findExperiment(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name)
}
