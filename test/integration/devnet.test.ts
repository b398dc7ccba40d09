/** `catena devnet`: separate node processes, a tx reaches every node, Ctrl-C stops all, a rerun resumes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS } from '../helpers/chain.ts'
import { REPO_ROOT, rpcCall, waitFor } from '../helpers/node-process.ts'

type Hex = `0x${string}`
interface Member { index: number; role: string; rpcUrl: string; pid: number; datadir: string }

async function startDevnet(datadir: string, extra: string[] = []): Promise<{ child: ChildProcess; nodes: Member[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'devnet', '--nodes', '3', '--datadir', datadir, '--rpc-port', '0', '--p2p-port', '0', '--block-interval', '0', '--json', ...extra], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`devnet exited with ${code}: ${stderr}`)))
  })
  return { child, nodes: (JSON.parse(line) as { nodes: Member[] }).nodes }
}

async function stopDevnet(child: ChildProcess, nodes: Member[]) {
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGINT')
  await exited
  for (const n of nodes) assert.throws(() => process.kill(n.pid, 0), `node ${n.index} (pid ${n.pid}) must be stopped`)
}

const height = (n: Member) => rpcCall<Hex>(n.rpcUrl, 'eth_blockNumber').then(BigInt)

test('catena devnet: three processes agree, Ctrl-C stops them all, a second run resumes, --fresh starts over', async () => {
  const datadir = await mkdtemp(join(tmpdir(), 'catena-devnet-'))
  let run: Awaited<ReturnType<typeof startDevnet>> | undefined
  try {
    run = await startDevnet(datadir)
    assert.equal(run.nodes.length, 3)
    assert.deepEqual(run.nodes.map((n) => n.role), ['producer', 'follower', 'follower'])
    const raw = bytesToHex(
      createFeeMarket1559Tx({ nonce: 0n, to: '0x000000000000000000000000000000000000c0de', value: 7n, gasLimit: 21000n, maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 1n, chainId: 1337n }, { common: makeCommon(1337n) })
        .sign(KEYS[5])
        .serialize(),
    )
    const hash = await rpcCall<Hex>(run.nodes[2].rpcUrl, 'eth_sendRawTransaction', [raw])
    for (const n of run.nodes) {
      await waitFor(`the receipt on node ${n.index}`, () => rpcCall<object | null>(n.rpcUrl, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), { timeoutMs: 60_000 })
    }
    const before = await height(run.nodes[0])
    await stopDevnet(run.child, run.nodes)

    run = await startDevnet(datadir)
    for (const n of run.nodes) assert.ok((await height(n)) >= before, `node ${n.index} resumed its chain`)
    assert.equal(BigInt(await rpcCall<Hex>(run.nodes[1].rpcUrl, 'eth_getBalance', ['0x000000000000000000000000000000000000c0de', 'latest'])), 7n)
    await stopDevnet(run.child, run.nodes)

    run = await startDevnet(datadir, ['--fresh'])
    assert.equal(await height(run.nodes[0]), 0n)
    await stopDevnet(run.child, run.nodes)
    run = undefined
  } finally {
    if (run) await stopDevnet(run.child, run.nodes).catch(() => run!.child.kill('SIGKILL'))
    await rm(datadir, { recursive: true, force: true })
  }
})
