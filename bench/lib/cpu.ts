/** CPU used by a benchmark's node processes and load generator over a run, from samples taken while it ran. */
import os from 'node:os'
import type { BftResult } from './bft-load.ts'

export interface CpuSample {
  elapsedMs: number
  /** CPU seconds of each node process so far (bft-network's cpuSeconds). */
  validators: Array<number | undefined>
  generator: NodeJS.CpuUsage
}

/** CPU used from the first sample to the first one at or after `cutMs`. */
export function cpuUsed(samples: readonly CpuSample[], cutMs: number, finalTxs: number): NonNullable<BftResult['cpu']> {
  const start = samples[0]!
  const end = samples.find((x) => x.elapsedMs >= cutMs) ?? samples[samples.length - 1]!
  const validators = end.validators.map((c, i) => (c === undefined || start.validators[i] === undefined ? undefined : c - start.validators[i]!))
  const validatorSum = validators.reduce<number>((a, c) => a + (c ?? 0), 0)
  return {
    seconds: end.elapsedMs / 1000,
    cores: os.cpus().length,
    validators,
    generator: (end.generator.user + end.generator.system - start.generator.user - start.generator.system) / 1e6,
    perFinalTxMs: finalTxs > 0 ? (validatorSum * 1000) / finalTxs : undefined,
  }
}
