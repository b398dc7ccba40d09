/**
 * The direct value-transfer path (issue 16 item 1): the same block of plain transfers built by
 * the in-order executor with transfers applied directly (the default) and with every tx run in
 * the EVM, alternating, on a dev chain in LevelDB. Reports the block's execution time and the
 * tx loop's share per transfer; both must give the same state root.
 *
 *   node --import tsx bench/direct-transfer.ts [--txs 1400] [--rounds 7] [--out bench/RESULTS.md]
 *
 * Txs are signed and their senders recovered before timing (as the mempool holds them); each
 * sender sends one transfer to a fresh recipient. Prints one JSON line per round and a summary
 * line on stdout, progress on stderr, and rewrites the "direct-transfer" section of the file.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createFeeMarket1559Tx, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bytesToHex, createAddressFromPrivateKey, utf8ToBytes } from '@ethereumjs/util'
import { keccak256 } from '../src/crypto/hash.ts'
import { Executor, type BlockExecutionParams, type TxSource } from '../src/execution/index.ts'
import { withCachedSender } from '../src/execution/tx-sender.ts'
import { LevelStore } from '../src/storage/index.ts'
import { KEYS, PRODUCER, openTestChain, produceBlock, type TestChain } from '../test/helpers/chain.ts'
import { BenchError, errorMessage } from './lib/errors.ts'
import { ProgressLine } from './lib/progress.ts'
import { commandLine, machineInfo, writeSection } from './lib/report.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function signed(t: TestChain, key: Uint8Array, nonce: bigint, to: Uint8Array): TypedTransaction {
  const tx = createFeeMarket1559Tx({ nonce, to: new Address(to), value: 1n, gasLimit: 21_000n, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n, chainId: t.common.chainId() }, { common: t.common }).sign(key)
  const raw = tx.serialize()
  const decoded = withCachedSender(createTxFromRLP(raw, { common: t.common, freeze: false }), raw)
  decoded.getSenderAddress()
  return decoded
}

const list = (txs: TypedTransaction[]): TxSource => {
  let i = 0
  return { next: () => txs[i++], skipSender: () => {} }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { txs: { type: 'string', default: '1400' }, rounds: { type: 'string', default: '7' }, out: { type: 'string', default: 'bench/RESULTS.md' } } })
  const n = Number(values.txs)
  const rounds = Number(values.rounds)
  if (!Number.isSafeInteger(n) || n < 1 || n > 20_000 || !Number.isSafeInteger(rounds) || rounds < 1 || rounds > 100) throw new BenchError('BAD_ARGS', '--txs 1..20000, --rounds 1..100')
  const ui = new ProgressLine()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'catena-direct-transfer-'))
  const store = await LevelStore.open(path.join(dir, 'db'))
  try {
    const t = await openTestChain({ store })
    ui.log(`[setup] funding ${n} senders`)
    const keys = Array.from({ length: n }, (_, i) => keccak256(utf8ToBytes(`catena/bench/direct-transfer/${i}`)))
    const nonces = KEYS.map(() => 0n)
    for (let start = 0; start < n; start += 1000) {
      const txs = keys.slice(start, start + 1000).map((k, j) => {
        const from = (start + j) % KEYS.length
        const tx = createFeeMarket1559Tx({ nonce: nonces[from]!++, to: createAddressFromPrivateKey(k), value: 10n ** 18n, gasLimit: 21_000n, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n, chainId: t.common.chainId() }, { common: t.common })
        return tx.sign(KEYS[from]!)
      })
      const produced = await produceBlock(t, txs)
      if (produced.rejected.length > 0) throw new BenchError('INSUFFICIENT_FUNDS', `funding failed: ${produced.rejected[0]!.reason}`)
    }
    const txs = keys.map((k, i) => signed(t, k, 0n, keccak256(utf8ToBytes(`catena/bench/direct-transfer/to/${i}`)).subarray(12)))
    const head = t.chain.head
    const params: BlockExecutionParams = { parentStateRoot: head.header.stateRoot, parentHash: head.hash, height: head.header.height + 1n, timestamp: head.header.timestamp + 1n, producer: PRODUCER, gasLimit: 30_000_000n * 100n, baseFee: 7n, reward: 0n, baseFeeBurn: true, maxTxBytes: 100_000_000 }
    const modes = { direct: t.executor, evm: new Executor(store, t.chain.commons, (h) => t.chain.getHashAt(h), { directTransfers: false }) }
    const times: Record<keyof typeof modes, number[]> = { direct: [], evm: [] }
    const roots = new Set<string>()
    for (let r = -2; r < rounds; r++) {
      for (const mode of (r % 2 === 0 ? ['direct', 'evm'] : ['evm', 'direct']) as Array<keyof typeof modes>) {
        const start = process.hrtime.bigint()
        const exec = await modes[mode].build(params, list(txs))
        const ms = Number(process.hrtime.bigint() - start) / 1e6
        if (exec.txs.length !== n) throw new BenchError('VERIFY_FAILED', `${mode}: ${n - exec.txs.length} txs left out: ${exec.rejected[0]?.reason}`)
        roots.add(bytesToHex(exec.stateRoot))
        if (r < 0) continue // warm-up
        times[mode].push(ms)
        console.log(JSON.stringify({ bench: 'direct-transfer', round: r, mode, txs: n, blockMs: Math.round(ms * 10) / 10 }))
      }
      ui.log(`[round] ${r + 1}/${rounds}`)
    }
    if (roots.size !== 1) throw new BenchError('VERIFY_FAILED', `the two paths gave ${roots.size} state roots`)
    const perTx = (mode: keyof typeof modes) => (median(times[mode]) * 1000) / n
    const summary = { bench: 'direct-transfer', txs: n, rounds, blockMs: { direct: median(times.direct), evm: median(times.evm) }, usPerTx: { direct: perTx('direct'), evm: perTx('evm') }, saved: perTx('evm') - perTx('direct') }
    console.log(JSON.stringify(summary))
    const machine = machineInfo()
    const body = [
      `The same block of ${n} plain transfers (each sender to a fresh recipient, senders recovered beforehand), built by the in-order executor with transfers applied directly and with every tx in the EVM, alternating; median of ${rounds} rounds after 2 warm-up rounds. Block time includes the producer's pay, the state root and the trie nodes. Both give the same state root.`,
      '',
      '| path | block ms | µs per transfer |',
      '|---|---:|---:|',
      `| EVM (runTx) | ${summary.blockMs.evm.toFixed(1)} | ${summary.usPerTx.evm.toFixed(1)} |`,
      `| direct | ${summary.blockMs.direct.toFixed(1)} | ${summary.usPerTx.direct.toFixed(1)} |`,
      '',
      `**Saved: ${summary.saved.toFixed(1)} µs per transfer (${((summary.saved / summary.usPerTx.evm) * 100).toFixed(0)}% of the block's execution).**`,
      '',
      `Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.platform}, ${machine.date}; load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
      '',
      `Command (from the repo root): \`${commandLine(REPO_ROOT)}\``,
    ].join('\n')
    await writeSection(path.resolve(values.out!), 'direct-transfer', body)
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  process.stderr.write(`direct-transfer bench failed: ${errorMessage(err)}\n`)
  process.exitCode = 1
})
