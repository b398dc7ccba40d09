/**
 * `catena devnet`: separate node processes, a tx reaches every node, Ctrl-C stops all, a rerun
 * resumes; on a consortium chain every node knows all the others, so nodes 1-3 finalize again
 * after a crash of all four without node 0.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS } from '../helpers/chain.ts'
import { assertAgreement } from '../helpers/agreement.ts'
import { REPO_ROOT, blockHeight, rpcCall, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { PEER_STORE_FILE } from '../../src/net/peer-store.ts'

type Hex = `0x${string}`
interface Member { index: number; role: string; rpcUrl: string; p2p: string; pid: number; datadir: string; args: string[] }

function startDevnet(datadir: string, extra: string[] = []): Promise<{ child: ChildProcess; nodes: Member[] }> {
  return runDevnet(['--nodes', '3', '--datadir', datadir, '--rpc-port', '0', '--p2p-port', '0', '--block-interval', '0', '--json', ...extra])
}

async function runDevnet(args: string[]): Promise<{ child: ChildProcess; nodes: Member[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'devnet', ...args], {
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

const mode = async (p: string) => (await stat(p)).mode & 0o777

test('catena devnet --chain consortium: every node knows all the others; nodes 1-3 finalize again after all four crash and node 0 stays down', async () => {
  const datadir = await mkdtemp(join(tmpdir(), 'catena-devnet-'))
  let run: Awaited<ReturnType<typeof runDevnet>> | undefined
  const restarted: NodeProcess[] = []
  try {
    run = await runDevnet(['--chain', 'consortium', '--nodes', '4', '--datadir', datadir, '--rpc-port', '0', '--p2p-port', '0', '--json'])
    const nodes = run.nodes
    assert.deepEqual(nodes.map((n) => n.role), ['validator', 'validator', 'validator', 'validator'])
    for (const n of nodes) {
      const flag = n.args.indexOf('--bootnodes')
      assert.ok(flag > 0, `node ${n.index} has bootnodes`)
      assert.deepEqual(new Set(n.args[flag + 1]!.split(',')), new Set(nodes.filter((o) => o !== n).map((o) => o.p2p)), `node ${n.index} knows all the others`)
      assert.equal(await mode(n.datadir), 0o700)
      assert.equal(await mode(join(n.datadir, 'validator.key')), 0o600)
    }
    assert.equal(await mode(datadir), 0o700)
    await waitFor('blocks to finalize on all four', async () => {
      const hs = await Promise.all(nodes.map((n) => height(n)))
      return hs.every((h) => h >= 2n)
    }, { timeoutMs: 120_000 })

    // All four crash. Their peer stores go too: the bootnodes alone must bring 1-3 together.
    for (const n of nodes) process.kill(n.pid, 'SIGKILL')
    await waitFor('the nodes to die', () => nodes.every((n) => { try { process.kill(n.pid, 0); return false } catch { return true } }), { timeoutMs: 30_000 })
    for (const n of nodes) await rm(join(n.datadir, PEER_STORE_FILE), { force: true })
    for (const n of nodes.slice(1)) restarted.push(await startNode({ datadir: n.datadir, chain: 'consortium', args: n.args.slice(1) }))
    const start = (await Promise.all(restarted.map(blockHeight))).reduce((a, b) => (a > b ? a : b))
    await waitFor('nodes 1-3 to finalize two new heights without node 0', async () => (await Promise.all(restarted.map(blockHeight))).every((h) => h >= start + 2n), {
      timeoutMs: 180_000,
    }).catch(async (err: Error) => {
      const tails = await Promise.all(restarted.map(async (n) => `--- ${n.datadir} at ${await blockHeight(n).catch(() => 'down')}:\n${n.output().split('\n').filter((l) => l && !/block imported/.test(l)).slice(-15).join('\n')}`))
      throw new Error(`${err.message}\n${tails.join('\n')}`)
    })
    await assertAgreement(restarted)
  } finally {
    await Promise.all(restarted.map((n) => n.kill().catch(() => undefined)))
    // The supervisor exits by itself once all its nodes are gone.
    if (run && run.child.exitCode === null && run.child.signalCode === null) {
      const exited = new Promise((r) => run!.child.once('exit', r))
      run.child.kill('SIGINT')
      await exited
    }
    await rm(datadir, { recursive: true, force: true })
  }
})
