/**
 * `catena lab list` and `catena lab <name> [--runs N] [--seed S] [--out DIR] [--live]`:
 * runs an experiment, prints progress lines on stderr and the table on stdout, writes the
 * Markdown report, SVG charts and raw JSON to DIR, and exits 1 if an anchor check failed.
 * @module
 */
import { InvalidArgumentError, type Command } from 'commander'
import type { Experiment } from '../../lab/index.ts'

function positiveInt(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < 1 || n > max) throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`)
    return n
  }
}

function seedOption(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 0xffffffff) throw new InvalidArgumentError('must be a whole number from 0 to 4294967295')
  return n
}

function listExperiments(experiments: readonly Experiment[]): string {
  const width = Math.max(4, ...experiments.map((e) => e.name.length))
  return experiments.map((e) => `${e.name.padEnd(width)}  ${e.summary}${e.live ? ' (also --live)' : ''}`).join('\n')
}

export function registerLabCommand(program: Command): void {
  program
    .command('lab')
    .description('run an attack experiment against the real engines on a simulated network (`catena lab list` lists them)')
    .argument('<name>', 'an experiment name, or "list"')
    .option('--runs <n>', 'runs per measured point (default: the experiment\'s)', positiveInt(100_000_000))
    .option('--seed <s>', 'PRNG seed: the same seed gives the same numbers', seedOption, 1)
    .option('--out <dir>', 'where the report, charts and raw JSON go', 'lab-results')
    .option('--live', 'run against real node processes instead of the simulation (where the experiment has it)')
    .action(async (name: string, opts: { runs?: number; seed: number; out: string; live?: boolean }) => {
      // Loaded when the command runs: the lab (simulators, charts, libp2p models) is large, and
      // every other command, the node first, would otherwise carry it in memory.
      const { EXPERIMENTS, findExperiment, runExperiment } = await import('../../lab/index.ts')
      if (name === 'list') {
        console.log(listExperiments(EXPERIMENTS))
        return
      }
      const e = findExperiment(name)
      if (!e) {
        console.error(`error: no experiment "${name}"; \`catena lab list\` lists them: ${EXPERIMENTS.map((x) => x.name).join(', ')}`)
        process.exitCode = 2
        return
      }
      if (opts.live && !e.live) {
        console.error(`error: experiment ${name} has no --live mode`)
        process.exitCode = 2
        return
      }
      const run = await runExperiment(e, {
        ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
        seed: opts.seed,
        out: opts.out,
        ...(opts.live ? { live: true } : {}),
        progress: (line) => process.stderr.write(line + '\n'),
        print: (text) => console.log(text),
      })
      if (!run.passed) process.exitCode = 1
    })
}
