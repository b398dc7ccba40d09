/**
 * What cooperative time slicing of eth_call would cost with ethereumjs: its only per-opcode
 * hook is the EVM 'step' event. Runs an infinite loop (JUMPDEST PUSH1 0 JUMP) with --gas gas
 * in-process: with no hook, with a step listener that only counts, and with one that yields to
 * the event loop every 1024 steps (what a deadline check between slices needs). Prints one
 * JSON line. The call pool (src/execution/call-pool.ts) runs calls on worker threads instead.
 *
 *   node --import tsx bench/call-slicing.ts [--gas 10000000]
 */
import { parseArgs } from 'node:util'
import { generateAddress, hexToBytes } from '@ethereumjs/util'
import { CallRunner } from '../src/execution/index.ts'
import { Signer, addressOf, openTestChain, produceBlock } from '../test/helpers/chain.ts'

const { values } = parseArgs({ options: { gas: { type: 'string', default: '10000000' } } })
const GAS = { default: BigInt(values.gas!), cap: 0n }

async function main(): Promise<void> {
  const t = await openTestChain()
  await produceBlock(t, [new Signer(t.common).deploy(0, hexToBytes('0x635b6000566000526004601cf3'))])
  const loop = generateAddress(addressOf(0).bytes, new Uint8Array(0))
  const h = t.chain.head
  const ctx = { height: h.header.height + 1n, timestamp: h.header.timestamp, producer: h.header.producer, gasLimit: h.header.gasLimit, baseFee: 0n, parentHash: h.hash }
  const runner = new CallRunner(t.executor)
  const timed = async (): Promise<number> => {
    const t0 = performance.now()
    await runner.call(h.header.stateRoot, ctx, { to: loop }, GAS)
    return Math.round(performance.now() - t0)
  }
  /** Puts `listener` on the pooled VM the next call will take (the pool hands out the last one returned). */
  const hook = (listener: (() => void) | (() => Promise<void>) | undefined, previous?: () => unknown) =>
    t.executor.withVM(t.executor.overlayAt(h.header.stateRoot), async (vm) => {
      if (previous) vm.evm.events!.off('step', previous)
      if (listener) vm.evm.events!.on('step', listener)
    }, ctx.height)

  await timed() // warm-up
  const plain = await timed()
  let steps = 0
  const count = () => { steps++ }
  await hook(count)
  const counting = await timed()
  let n = 0
  const slice = async () => {
    if ((++n & 1023) === 0) await new Promise<void>((resolve) => setImmediate(resolve))
  }
  await hook(slice, count)
  const slicing = await timed()
  process.stdout.write(JSON.stringify({ bench: 'call-slicing', gas: GAS.default.toString(), steps, ms: { noHook: plain, countingHook: counting, yieldEvery1024: slicing } }) + '\n')
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
