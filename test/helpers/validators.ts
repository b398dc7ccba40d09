/**
 * Validators as processes, for the multi-process BFT and PoH tests: start validator i
 * (test key i, its key file 0600 in its datadir), and a liveness wait that, when it fails,
 * shows each validator's head and last log lines so a stall says where it stopped.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { KEYS } from './chain.ts'
import { blockHeight, startNode, type NodeProcess } from './node-process.ts'

export async function startValidator(i: number, datadir: string, bootnodes: string[], opts: { p2pPort?: number; running?: Set<NodeProcess>; args?: string[]; chain?: string } = {}): Promise<NodeProcess> {
  const keyFile = join(datadir, 'validator.key')
  await writeFile(keyFile, bytesToHex(KEYS[i]!), { mode: 0o600 })
  const node = await startNode({
    datadir,
    chain: opts.chain ?? 'consortium',
    args: ['--p2p-port', String(opts.p2pPort ?? 0), '--validator-key-file', keyFile, ...(bootnodes.length ? ['--bootnodes', bootnodes.join(',')] : []), ...(opts.args ?? [])],
  })
  opts.running?.add(node)
  return node
}

/** Rethrows a liveness timeout with each validator's head and its last log lines (block imports left out). */
export function withLogs(v: NodeProcess[]) {
  return async (err: unknown): Promise<never> => {
    const parts = await Promise.all(
      v.map(async (n, i) => {
        const h = await blockHeight(n).catch(() => 'down')
        const lines = n.output().split('\n').filter((l) => l && !/block imported/.test(l)).slice(-15).join('\n')
        return `--- validator ${i} (${n.datadir}) at height ${h}:\n${lines}`
      }),
    )
    throw new Error(`${(err as Error).message}\n${parts.join('\n')}`)
  }
}
