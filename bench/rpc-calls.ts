/**
 * eth_call cost and isolation on a dev node (a separate process) that seals a block every
 * --block-interval ms:
 *  - normal calls: ERC-20 balanceOf one at a time (latency) and 16 in flight (calls/s), and
 *    eth_estimateGas of a token transfer one at a time;
 *  - attack: one JSON-RPC batch of --attack-calls infinite-loop eth_calls at the default gas,
 *    plus (with --huge-gas) one call with gas 2^64-1, while an eth_blockNumber probe runs one
 *    request at a time. Reports how long the attack calls took to answer (and with what), the
 *    probe's latency, and how many blocks the node sealed meanwhile against the schedule.
 * Prints one JSON line on stdout, progress on stderr, and rewrites the "rpc-calls" section
 * of --out.
 *
 *   node --import tsx bench/rpc-calls.ts [--attack-calls 20] [--huge-gas] [--block-interval 250]
 *        [--normal-calls 300] [--call-threads N] [--label L] [--out bench/RESULTS.md] [--node-args="..."]
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { encodeFunctionData, type Hex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { REPO_ROOT, removeDatadir, rpcCall, startNode, waitFor, type NodeProcess } from '../test/helpers/node-process.ts'
import { fixtureContract } from '../test/helpers/solc.ts'
import { commandLine, machineInfo, writeSection } from './lib/report.ts'
import { percentile } from './lib/bft-load.ts'

const { values: args } = parseArgs({
  options: {
    'attack-calls': { type: 'string', default: '20' },
    'huge-gas': { type: 'boolean', default: false },
    'block-interval': { type: 'string', default: '250' },
    'normal-calls': { type: 'string', default: '300' },
    out: { type: 'string', default: 'bench/RESULTS.md' },
    'node-args': { type: 'string', default: '' },
    'call-threads': { type: 'string' },
    label: { type: 'string', default: '' },
  },
})
const ATTACK_CALLS = Number(args['attack-calls'])
const INTERVAL_MS = Number(args['block-interval'])
const NORMAL_CALLS = Number(args['normal-calls'])
const MNEMONIC = 'test test test test test test test test test test test junk'
/** JUMPDEST PUSH1 0 JUMP: spins until the gas runs out. Deployed by an initcode that returns it. */
const LOOP_INITCODE = '0x635b6000566000526004601cf3' as Hex

const progress = (msg: string) => process.stderr.write(`[bench/rpc-calls] ${msg}\n`)

async function deploy(node: NodeProcess, data: Hex, nonce: number): Promise<Hex> {
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: 0 })
  const raw = await account.signTransaction({ chainId: 1337, type: 'eip1559', nonce, gas: 3_000_000n, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n, data })
  const hash = await node.rpc<Hex>('eth_sendRawTransaction', [raw])
  const receipt = await waitFor('deployment receipt', () => node.rpc('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined))
  if (receipt.status !== '0x1') throw new Error(`deployment failed: ${JSON.stringify(receipt)}`)
  return receipt.contractAddress as Hex
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b)
  const r = (x: number) => Math.round(x * 100) / 100
  return { n: s.length, mean: r(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)), p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? 0) }
}

async function main(): Promise<void> {
  const extra = [
    ...(args['node-args'] ? args['node-args'].split(' ').filter(Boolean) : []),
    ...(args['call-threads'] ? ['--rpc-call-threads', args['call-threads']] : []),
  ]
  progress(`starting a dev node (block every ${INTERVAL_MS} ms) ${extra.join(' ')}`)
  const node = await startNode({ args: ['--block-interval', String(INTERVAL_MS), '--log-level', 'warn', ...extra] })
  try {
    const Token = fixtureContract('Token')
    const alice = mnemonicToAccount(MNEMONIC, { addressIndex: 0 }).address
    const { encodeDeployData } = await import('viem')
    const token = await deploy(node, encodeDeployData({ abi: Token.abi, bytecode: Token.bytecode, args: ['T', 'T', 10n ** 24n] }), 0)
    const loop = await deploy(node, LOOP_INITCODE, 1)
    const balanceOf = { to: token, data: encodeFunctionData({ abi: Token.abi, functionName: 'balanceOf', args: [alice] }) }
    const transfer = { from: alice, to: token, data: encodeFunctionData({ abi: Token.abi, functionName: 'transfer', args: ['0x0000000000000000000000000000000000001234', 5n] }) }

    progress(`normal calls: ${NORMAL_CALLS} balanceOf one at a time`)
    for (let i = 0; i < 30; i++) await node.rpc('eth_call', [balanceOf, 'latest']) // warm-up
    const seq: number[] = []
    for (let i = 0; i < NORMAL_CALLS; i++) {
      const t0 = performance.now()
      await node.rpc('eth_call', [balanceOf, 'latest'])
      seq.push(performance.now() - t0)
    }
    const parallelCalls = NORMAL_CALLS * 4
    progress(`normal calls: ${parallelCalls} balanceOf, 16 in flight`)
    let next = 0
    const t1 = performance.now()
    await Promise.all(Array.from({ length: 16 }, async () => { while (next++ < parallelCalls) await node.rpc('eth_call', [balanceOf, 'latest']) }))
    const parallelPerSecond = Math.round(parallelCalls / ((performance.now() - t1) / 1000))
    const estimates: number[] = []
    let estimate = ''
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now()
      estimate = await node.rpc('eth_estimateGas', [transfer, 'latest'])
      estimates.push(performance.now() - t0)
    }

    progress(`attack: a batch of ${ATTACK_CALLS} infinite-loop calls${args['huge-gas'] ? ' + one call with gas 2^64-1' : ''}, probing eth_blockNumber`)
    const probes: number[] = []
    let attacking = true
    const startHeight = BigInt(await node.rpc('eth_blockNumber'))
    const probe = (async () => {
      while (attacking) {
        const t0 = performance.now()
        await rpcCall(node.rpcUrl, 'eth_blockNumber', [], { timeoutMs: 600_000 })
        probes.push(performance.now() - t0)
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    const started = performance.now()
    const batch = Array.from({ length: ATTACK_CALLS }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_call', params: [{ to: loop }, 'latest'] }))
    const answers: string[] = []
    const batchDone = fetch(node.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch), signal: AbortSignal.timeout(900_000) })
      .then((r) => r.json() as Promise<Array<{ error?: { message: string } }>>)
      .then((out) => { for (const a of out) answers.push(a.error?.message ?? 'result') ; return performance.now() - started })
    const hugeDone = args['huge-gas']
      ? rpcCall(node.rpcUrl, 'eth_call', [{ to: loop, gas: '0xffffffffffffffff' }, 'latest'], { timeoutMs: 900_000 }).then(
          () => ({ ms: performance.now() - started, answer: 'result' }),
          (err: Error) => ({ ms: performance.now() - started, answer: err.message }),
        )
      : undefined
    const batchMs = await batchDone
    const huge = await hugeDone
    const attackMs = performance.now() - started
    const endHeight = BigInt(await node.rpc('eth_blockNumber'))
    attacking = false
    await probe
    const rssMiB = await readFile(`/proc/${node.pid}/status`, 'utf8').then((t) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(t)?.[1] ?? 0) / 1024), () => 0)
    const answerCounts: Record<string, number> = {}
    for (const a of answers) answerCounts[a] = (answerCounts[a] ?? 0) + 1

    const result = {
      bench: 'rpc-calls',
      label: args.label,
      nodeArgs: extra.join(' '),
      balanceOfMs: stats(seq),
      balanceOfPerSecond16: parallelPerSecond,
      estimateGasMs: stats(estimates),
      estimate,
      attack: {
        calls: ATTACK_CALLS,
        batchSeconds: Math.round(batchMs) / 1000,
        ...(huge ? { hugeGasSeconds: Math.round(huge.ms) / 1000, hugeGasAnswer: huge.answer } : {}),
        answers: answerCounts,
        probeMs: stats(probes),
        blocks: Number(endHeight - startHeight),
        scheduledBlocks: Math.floor(attackMs / INTERVAL_MS),
      },
      rssMiB,
    }
    process.stdout.write(JSON.stringify(result) + '\n')
    await writeSection(args.out!, `rpc-calls${args.label ? `-${args.label}` : ''}`, render(result))
  } finally {
    await node.kill()
    await removeDatadir(node.datadir)
  }
}

function render(r: any): string {
  const m = machineInfo()
  const a = r.attack
  return [
    `## eth_call cost and isolation${r.label ? ` (${r.label})` : ''}`,
    '',
    `Dev node sealing a block every ${INTERVAL_MS} ms${r.nodeArgs ? `, node args \`${r.nodeArgs}\`` : ''}.`,
    '',
    '| measure | result |',
    '|---|---:|',
    `| balanceOf eth_call, one at a time: mean / p50 / p99 ms | ${r.balanceOfMs.mean} / ${r.balanceOfMs.p50} / ${r.balanceOfMs.p99} |`,
    `| balanceOf eth_call, 16 in flight | ${r.balanceOfPerSecond16} calls/s |`,
    `| eth_estimateGas of a token transfer: mean / p99 ms (answer) | ${r.estimateGasMs.mean} / ${r.estimateGasMs.p99} (${r.estimate}) |`,
    `| batch of ${a.calls} infinite-loop calls (default gas): answered after | ${a.batchSeconds} s |`,
    ...(a.hugeGasSeconds !== undefined ? [`| one infinite-loop call with gas 2^64-1: answered after | ${a.hugeGasSeconds} s |`] : []),
    `| eth_blockNumber probe during the attack: p50 / p99 / max ms (n) | ${a.probeMs.p50} / ${a.probeMs.p99} / ${a.probeMs.max} (${a.probeMs.n}) |`,
    `| blocks sealed during the attack / scheduled | ${a.blocks} / ${a.scheduledBlocks} |`,
    `| node RSS after the attack | ${r.rssMiB} MiB |`,
    '',
    `Attack answers: ${Object.entries(a.answers).map(([k, v]) => `${v} × "${k}"`).join('; ')}${a.hugeGasAnswer ? `; gas 2^64-1: "${a.hugeGasAnswer}"` : ''}`,
    '',
    `Machine: ${m.cores} cores (${m.cpu}), Node ${m.node}, ${m.platform}, ${m.date}`,
    '',
    `Command (from the repo root): \`${commandLine(REPO_ROOT)}\``,
  ].join('\n')
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
