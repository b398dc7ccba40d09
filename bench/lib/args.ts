/** Command-line options of bench/transfers.ts, checked before anything starts. */
import { parseArgs } from 'node:util'
import { BenchError } from './errors.ts'
import { TARGET_NAMES, isTargetName, type TargetName } from './targets.ts'

export interface TransfersArgs {
  txs: number
  /** Untimed transfers sent first, so the node's JIT is warm when the clock starts. */
  warmup: number
  concurrency: number
  senders: number
  /** 0 = a fresh recipient per transfer; N = N fresh recipients shared round-robin. */
  recipients: number
  targets: TargetName[]
  out: string
  /** Seconds to wait for a target to answer eth_chainId. */
  startTimeout: number
  /** Leave `hardhat node`'s per-request log on, as it ships. */
  hardhatLog: boolean
  help: boolean
}

export const TRANSFERS_USAGE = `Usage: node --import tsx bench/transfers.ts [options]

End-to-end JSON-RPC value-transfer throughput of Catena, Hardhat's node and Ganache,
each started here as a child process (chain id 1337, test mnemonic prefunded).

Options:
  --txs N             timed transfers per target                 (default 2000)
  --warmup N          untimed transfers sent first from the same senders, so
                      the node's JIT warm-up is not timed; 0 = none (default 200)
  --concurrency N     JSON-RPC requests in flight                (default 32)
  --senders N         mnemonic accounts that send                (default 10)
  --recipients N      N fresh recipients shared by all transfers; 0 = a new
                      address per transfer (state grows by N accounts) (default 0)
  --targets LIST      comma-separated: ${TARGET_NAMES.join(',')}   (default all)
  --out FILE          results file; only its "transfers" section is rewritten
                                                                 (default bench/RESULTS.md)
  --start-timeout S   seconds to wait for a target to be ready   (default 90)
  --hardhat-log       keep \`hardhat node\`'s per-request console log on, as it
                      ships (default: off, like Ganache's --logging.quiet)
  -h, --help          this text
`

export function parseTransfersArgs(argv: string[]): TransfersArgs {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        txs: { type: 'string', default: '2000' },
        warmup: { type: 'string', default: '200' },
        concurrency: { type: 'string', default: '32' },
        senders: { type: 'string', default: '10' },
        recipients: { type: 'string', default: '0' },
        targets: { type: 'string', default: TARGET_NAMES.join(',') },
        out: { type: 'string', default: 'bench/RESULTS.md' },
        'start-timeout': { type: 'string', default: '90' },
        'hardhat-log': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (err) {
    throw new BenchError('BAD_ARGS', `${err instanceof Error ? err.message : String(err)}\n\n${TRANSFERS_USAGE}`)
  }
  const targets = values.targets.split(',').map((t) => t.trim()).filter(Boolean)
  const unknown = targets.filter((t) => !isTargetName(t))
  if (unknown.length > 0 || targets.length === 0) {
    throw new BenchError('BAD_ARGS', `--targets: unknown target(s) ${unknown.join(', ') || '(none given)'}; choose from ${TARGET_NAMES.join(', ')}`)
  }
  if (new Set(targets).size !== targets.length) throw new BenchError('BAD_ARGS', `--targets lists a target twice: ${values.targets}`)
  const args: TransfersArgs = {
    txs: positiveInt('--txs', values.txs, 1_000_000),
    warmup: values.warmup === '0' ? 0 : positiveInt('--warmup', values.warmup, 1_000_000),
    concurrency: positiveInt('--concurrency', values.concurrency, 1024),
    senders: positiveInt('--senders', values.senders, 1000),
    recipients: values.recipients === '0' ? 0 : positiveInt('--recipients', values.recipients, 1_000_000),
    targets: targets as TargetName[],
    out: values.out,
    startTimeout: positiveInt('--start-timeout', values['start-timeout'], 3600),
    hardhatLog: values['hardhat-log'],
    help: values.help,
  }
  if (args.senders > args.txs) throw new BenchError('BAD_ARGS', `--senders (${args.senders}) must not exceed --txs (${args.txs})`)
  return args
}

function positiveInt(flag: string, raw: string, max: number): number {
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new BenchError('BAD_ARGS', `${flag} must be a whole number from 1 to ${max}, got "${raw}"`)
  }
  return n
}
