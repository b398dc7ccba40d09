/**
 * Mempool throughput: admitting 10,000 pre-signed EIP-1559 txs from 100 senders (decode,
 * validation, one signature recovery each, pool insert), the same with senders already
 * recovered (the pool's own cost), and one full executable() pass over them.
 * Prints one JSON line; progress goes to stderr.
 *
 *   node --import tsx bench/mempool.ts [senders, default 100] [txs per sender, default 100]
 */
import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { createAddressFromPrivateKey } from '@ethereumjs/util'
import type { Address } from '@ethereumjs/util'
import { SECP256K1_BACKEND, ethereumCustomCrypto } from '../src/crypto/index.ts'
import { makeCommon } from '../src/execution/common.ts'
import { Mempool } from '../src/mempool/index.ts'
import type { AccountState } from '../src/mempool/index.ts'
import { TEST_MNEMONIC, deriveKeys } from '../src/wallet/hd.ts'

const SENDERS = Number(process.argv[2] ?? 100)
const PER_SENDER = Number(process.argv[3] ?? 100)
const CHAIN_ID = 1337n
const common = makeCommon(CHAIN_ID, ethereumCustomCrypto())

function progress(msg: string): void {
  process.stderr.write(`[bench/mempool] ${msg}\n`)
}

progress(`signing ${SENDERS * PER_SENDER} txs from ${SENDERS} senders (secp256k1 backend: ${SECP256K1_BACKEND})`)
const keys = deriveKeys(TEST_MNEMONIC, SENDERS).map((k) => k.privateKey)
const accounts = new Map<string, AccountState>()
for (const k of keys) accounts.set(createAddressFromPrivateKey(k).toString(), { nonce: 0n, balance: 10n ** 24n })

// Round-robin over senders by nonce, as txs arrive from many wallets at once; tips vary so the
// ordering heap has real work to do.
const raws: Uint8Array[] = []
for (let nonce = 0; nonce < PER_SENDER; nonce++) {
  keys.forEach((key, s) => {
    const tip = BigInt(1 + ((s * 7919 + nonce * 104729) % 1000))
    const tx = createFeeMarket1559Tx(
      { nonce: BigInt(nonce), maxFeePerGas: 2000n, maxPriorityFeePerGas: tip, gasLimit: 21000n, to: `0x${'42'.repeat(20)}`, value: 1n },
      { common },
    ).sign(key)
    raws.push(tx.serialize())
  })
  if ((nonce + 1) % 20 === 0) progress(`signed ${raws.length}`)
}

function makePool(): Mempool {
  return new Mempool({
    common,
    chainId: CHAIN_ID,
    getAccount: async (a: Address) => accounts.get(a.toString()) ?? { nonce: 0n, balance: 0n },
    limits: () => ({ minGasPrice: 1n, baseFee: 1000n, blockGasLimit: 30_000_000n, maxTxBytes: 128 * 1024 }),
    maxPerSender: PER_SENDER,
    maxTotal: raws.length,
  })
}

/** Fills a fresh pool ROUNDS times; the median run is reported (the first one warms the JIT up). */
const ROUNDS = 3
async function fill(add: (pool: Mempool, i: number) => Promise<unknown>): Promise<{ pool: Mempool; seconds: number }> {
  const runs: Array<{ pool: Mempool; seconds: number }> = []
  for (let r = 0; r < ROUNDS; r++) {
    const pool = makePool()
    const start = performance.now()
    for (let i = 0; i < raws.length; i++) await add(pool, i)
    const seconds = (performance.now() - start) / 1000
    if (pool.pendingCount !== raws.length) throw new Error(`expected ${raws.length} pending, got ${pool.pendingCount}`)
    runs.push({ pool, seconds })
  }
  return runs.sort((a, b) => a.seconds - b.seconds)[Math.floor(ROUNDS / 2)] as { pool: Mempool; seconds: number }
}

progress('adding raw txs')
const raw = await fill((pool, i) => pool.add(raws[i] as Uint8Array))

// The pool's own cost: txs decoded and senders recovered beforehand (what addTx sees for txs
// coming back from a dropped block).
const decoded: TypedTransaction[] = raws.map((r) => createTxFromRLP(r, { common }))
for (const tx of decoded) tx.getSenderAddress() // caches the public key on the tx
progress('adding decoded txs with cached senders')
const cached = await fill((pool, i) => pool.addTx(decoded[i] as TypedTransaction))

progress('iterating executable()')
const runs: number[] = []
let yielded = 0
for (let r = 0; r < 5; r++) {
  const start = performance.now()
  yielded = 0
  for (const _ of raw.pool.executable(1000n)) yielded++
  runs.push(performance.now() - start)
}
runs.sort((a, b) => a - b)
if (yielded !== raws.length) throw new Error(`executable() yielded ${yielded} of ${raws.length}`)

process.stdout.write(
  `${JSON.stringify({
    bench: 'mempool',
    txs: raws.length,
    senders: SENDERS,
    secp256k1: SECP256K1_BACKEND,
    addsPerSec: Math.round(raws.length / raw.seconds),
    addsPerSecCachedSender: Math.round(raws.length / cached.seconds),
    executableIterationMs: Number((runs[Math.floor(runs.length / 2)] as number).toFixed(2)),
    executableTxsPerSec: Math.round(raws.length / ((runs[Math.floor(runs.length / 2)] as number) / 1000)),
  })}\n`,
)
