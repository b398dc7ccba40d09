/**
 * Starts a PoH worker thread from its entry module beside this file: the .js entry from dist/,
 * the .ts entry when run from source through tsx. As in consensus/pow/miner.ts: before Node
 * 22.22.3 tsx's loader hooks are registered on the main thread only, so a worker given
 * `execArgv: ['--import', 'tsx']` would fail on the .ts import; a small bootstrap registers tsx
 * in the worker, then imports the entry, and execArgv is emptied so that on newer Node an
 * inherited `--import tsx` does not register it a second time.
 * @module
 */
import { Worker, type TransferListItem } from 'node:worker_threads'
import { PohError } from './errors.ts'

const FROM_SOURCE = new URL(import.meta.url).pathname.endsWith('.ts')

/** `entry` without extension, e.g. 'generator-worker'. */
export function startPohWorker(entry: string, workerData: unknown, transferList?: TransferListItem[]): Worker {
  const url = new URL(`./${entry}${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url)
  if (!FROM_SOURCE) return new Worker(url, { workerData, transferList })
  let api: string
  try {
    api = import.meta.resolve('tsx/esm/api')
  } catch (err) {
    throw new PohError('WORKER_FAILED', `running PoH threads from TypeScript source needs the tsx package: ${(err as Error).message}`, { cause: err })
  }
  const bootstrap =
    `import(${JSON.stringify(api)})` + `.then(({ register }) => { register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(bootstrap, { eval: true, workerData, transferList, execArgv: [] })
}
