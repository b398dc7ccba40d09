/** An in-memory chain with the dev spec, signed transfers and a block producer, for unit tests. */
import { createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, createAddressFromPrivateKey } from '@ethereumjs/util'
import { Chain } from '../../src/chain/chain.ts'
import { BlockImporter, type BlockRules } from '../../src/chain/import.ts'
import { PowRules } from '../../src/consensus/pow/rules.ts'
import { loadChainSpec, type ChainSpec } from '../../src/chain/spec/index.ts'
import { ethereumCustomCrypto } from '../../src/crypto/secp256k1.ts'
import { Executor, makeCommon } from '../../src/execution/index.ts'
import { ParallelExecutor } from '../../src/execution/parallel/index.ts'
import { MemoryStore, type KeyValueStore } from '../../src/storage/index.ts'
import { deriveKeys, TEST_MNEMONIC } from '../../src/wallet/hd.ts'

export const KEYS = deriveKeys(TEST_MNEMONIC, 10).map((k) => k.privateKey)
export const PRODUCER = new Uint8Array(20).fill(0xc0)
const noSeal: BlockRules = { verifyHeader() {}, maxFutureSeconds: 15n }

/**
 * The PoW engine's rules with its header checks off (unit-test blocks are not mined): its
 * block-level state changes (coinbase maturity) and its finality rule are the real ones.
 */
export function unminedPowRules(spec: ChainSpec): BlockRules {
  if (spec.engine.type !== 'pow') throw new Error('not a pow chain spec')
  const pow = new PowRules(spec.engine, spec.blockTimeMs, { getHeader: () => undefined, getHashAt: () => undefined })
  return { verifyHeader() {}, maxFutureSeconds: 100_000n, blockEffects: (b) => pow.blockEffects(b), finality: (h) => pow.finality(h) }
}

export interface TestChain {
  spec: ChainSpec
  store: KeyValueStore
  chain: Chain
  executor: Executor
  importer: BlockImporter
  common: ReturnType<typeof makeCommon>
  /** When the spec says execution.parallel: the importer's block runner (close it when it has threads). */
  parallel?: ParallelExecutor
}

/**
 * `rules` builds the engine's rules over the opened chain (engines whose rules read it: PoH).
 * `parallelThreads`: worker threads of the parallel runner when the spec says
 * execution.parallel (default 0: every batch on the calling thread, under the same rules).
 */
export async function openTestChain(opts: { spec?: ChainSpec; engine?: BlockRules; rules?: (chain: Chain) => BlockRules; store?: KeyValueStore; parallelThreads?: number } = {}): Promise<TestChain> {
  const spec = opts.spec ?? loadChainSpec('dev')
  const common = makeCommon(spec.chainId, ethereumCustomCrypto())
  const store = opts.store ?? new MemoryStore()
  const chain = await Chain.open(store, spec, common)
  const executor = new Executor(store, chain.commons, (h) => chain.getHashAt(h))
  const parallel = spec.execution?.parallel ? new ParallelExecutor(executor, { store, hashAt: (h) => chain.getHashAt(h), threads: opts.parallelThreads ?? 0 }) : undefined
  const importer = new BlockImporter(chain, executor, opts.rules?.(chain) ?? opts.engine ?? noSeal, parallel ? { parallel } : {})
  return { spec, store, chain, executor, importer, common, ...(parallel ? { parallel } : {}) }
}

export class Signer {
  private readonly nonces = new Map<number, bigint>()
  constructor(private readonly common: ReturnType<typeof makeCommon>) {}

  transfer(from: number, to: Uint8Array | string, value: bigint, over: Partial<{ nonce: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; gasLimit: bigint; data: Uint8Array }> = {}): TypedTransaction {
    const nonce = over.nonce ?? this.nonces.get(from) ?? 0n
    this.nonces.set(from, nonce + 1n)
    return createFeeMarket1559Tx(
      {
        nonce,
        to: typeof to === 'string' ? (to as `0x${string}`) : new Address(to),
        value,
        gasLimit: over.gasLimit ?? 21000n,
        maxFeePerGas: over.maxFeePerGas ?? 100_000_000_000n,
        maxPriorityFeePerGas: over.maxPriorityFeePerGas ?? 1_000_000_000n,
        data: over.data,
        chainId: this.common.chainId(),
      },
      { common: this.common },
    ).sign(KEYS[from])
  }

  deploy(from: number, initcode: Uint8Array, gasLimit = 1_000_000n): TypedTransaction {
    const nonce = this.nonces.get(from) ?? 0n
    this.nonces.set(from, nonce + 1n)
    return createFeeMarket1559Tx(
      { nonce, value: 0n, gasLimit, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1n, data: initcode, chainId: this.common.chainId() },
      { common: this.common },
    ).sign(KEYS[from])
  }
}

/** Produces one block with exactly these txs (in order) at `timestamp` (default parent + 1). */
export async function produceBlock(t: TestChain, txs: TypedTransaction[], timestamp?: bigint) {
  let i = 0
  return t.importer.produce({
    timestamp: timestamp ?? t.chain.head.header.timestamp + 1n,
    producer: PRODUCER,
    seal: async (h) => h,
    source: { next: () => txs[i++], skipSender: () => {} },
  })
}

export function addressOf(index: number): Address {
  return createAddressFromPrivateKey(KEYS[index])
}
