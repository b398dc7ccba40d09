/**
 * `catena lab bft-bounds`: n validators, f of them byzantine, under the partition the
 * adversary chooses. Safety holds in every run while f < n/3 and breaks from f = ceil(n/3)
 * (quorum intersection); liveness is lost when f >= n/3 crash; on the PoS chain the evidence
 * honest nodes collect slashes exactly the equivocators.
 * @module
 */
import type { Experiment, ExperimentOptions, ExperimentResult } from '../../experiment.ts'
import { chart, checks, resultTable, sections } from './report.ts'
import { sweep } from './sweep.ts'

export const SIZES = [4, 7, 10]

export const bftBounds: Experiment = {
  name: 'bft-bounds',
  title: 'BFT safety and liveness bounds: forks from f = n/3 byzantine, stalls from f = n/3 crashed, slashing',
  summary: 'n = 4, 7, 10 validators, f = 0..n byzantine (split votes under an adversarial partition) or crashed: safe below n/3, forked from ceil(n/3); equivocators slashed on PoS',
  defaultRuns: 20,
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    const result = await sweep({ sizes: SIZES, runs: opts.runs, seed: opts.seed, progress: opts.progress })
    return {
      name: 'bft-bounds',
      title: bftBounds.title,
      seed: opts.seed,
      runs: opts.runs,
      table: resultTable(result.cells),
      sections: sections(result, opts.runs),
      charts: [chart(result.cells, SIZES)],
      checks: checks(result, SIZES),
      data: result,
    }
  },
}
