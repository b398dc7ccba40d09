/**
 * Starts a worker thread on a module beside its caller: the .js file from dist/, the .ts file
 * when Catena runs from source through tsx. Before Node 22.22.3, tsx's loader hooks are
 * registered on the main thread only, so a worker given `execArgv: ['--import', 'tsx']` fails
 * on the .ts import: a small bootstrap registers tsx inside the thread, then imports the entry,
 * and execArgv is emptied so that on newer Node an inherited `--import tsx` does not register
 * it twice. (consensus/pow/miner.ts and consensus/poh/worker-start.ts do the same for theirs.)
 * @module
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'

/** `base` is the caller's import.meta.url; `entry` the module's name without extension. */
export function startWorkerModule(base: string, entry: string, options: Pick<WorkerOptions, 'workerData' | 'transferList'> = {}): Worker {
  const fromSource = new URL(base).pathname.endsWith('.ts')
  const url = new URL(`./${entry}${fromSource ? '.ts' : '.js'}`, base)
  if (!fromSource) return new Worker(url, options)
  const api = import.meta.resolve('tsx/esm/api')
  const bootstrap = `import(${JSON.stringify(api)})` + `.then(({ register }) => { register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(bootstrap, { ...options, eval: true, execArgv: [] })
}
