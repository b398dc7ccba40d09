/**
 * Mempool flood: what a flood leaves in the pool once every executable tx is mined. Many
 * senders send their nonces round-robin at random prices into a full pool while blocks mine
 * now and then; evicted and refused nonces leave later nonces queued behind gaps. Reports the
 * pool right after the flood, after mining everything that can run, and after the queued
 * lifetime has passed (a fake clock, so the run takes seconds). Prints one JSON line.
 *
 *   node --import tsx bench/mempool-flood.ts [senders 512] [nonces 32] [pool 8192] [rounds between blocks 8]
 */
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { createAddressFromPrivateKey } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { ethereumCustomCrypto } from '../src/crypto/index.ts'
import { makeCommon } from '../src/execution/common.ts'
import { Mempool } from '../src/mempool/index.ts'
import type { AccountState } from '../src/mempool/index.ts'

const [SENDERS, NONCES, POOL, EVERY] = [512, 32, 8192, 8].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number, number]
const BLOCK_TXS = 1428 // a 30M-gas block of transfers
const CHAIN_ID = 1337n
const common = makeCommon(CHAIN_ID, ethereumCustomCrypto())
const progress = (msg: string) => process.stderr.write(`[bench/mempool-flood] ${msg}\n`)

const keys = Array.from({ length: SENDERS }, (_, i) => keccak_256(new TextEncoder().encode(`flood sender ${i}`)))
const accounts = new Map<string, AccountState>(keys.map((k) => [createAddressFromPrivateKey(k).toString(), { nonce: 0n, balance: 10n ** 24n }]))
let clock = Date.now()
const pool = new Mempool({
  common,
  chainId: CHAIN_ID,
  getAccount: async (a) => ({ ...accounts.get(a.toString())! }),
  limits: () => ({ minGasPrice: 1n, baseFee: 0n, blockGasLimit: 30_000_000n, maxTxBytes: 128 * 1024 }),
  maxTotal: POOL,
  now: () => clock,
})
const dropped: Record<string, number> = {}
const refused: Record<string, number> = {}
pool.on('removed', (_e, why) => void (dropped[why] = (dropped[why] ?? 0) + 1))
const snap = () => ({ size: pool.size, pending: pool.pendingCount, queued: pool.queuedCount })

let blocks = 0
async function mine(): Promise<void> {
  const txs = [...pool.executable(0n)].slice(0, BLOCK_TXS)
  for (const e of txs) accounts.get(e.senderHex)!.nonce = e.nonce + 1n
  await pool.onNewHead(txs.map((e) => e.hash))
  blocks++
}

// Deterministic prices (a linear congruential generator), so runs compare.
let seed = 1
const price = () => 1n + BigInt((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 100)
progress(`${SENDERS} senders x ${NONCES} nonces into a pool of ${POOL}, a block every ${EVERY} rounds`)
for (let n = 0; n < NONCES; n++) {
  for (const key of keys) {
    const fee = price()
    const tx = createFeeMarket1559Tx({ nonce: BigInt(n), to: `0x${'42'.repeat(20)}`, value: 1n, gasLimit: 21000n, maxFeePerGas: fee, maxPriorityFeePerGas: fee, chainId: CHAIN_ID }, { common }).sign(key)
    await pool.add(tx.serialize()).catch((err: { code?: string }) => void (refused[err.code ?? '?'] = (refused[err.code ?? '?'] ?? 0) + 1))
  }
  if (n % EVERY === EVERY - 1) await mine()
  if (n % 8 === 7) progress(`round ${n + 1}/${NONCES}: ${JSON.stringify(snap())}`)
}
const afterFlood = snap()
while (pool.pendingCount > 0) await mine()
const afterMining = snap()
clock += pool.queuedLifetimeMs + 60_000
const expired = pool.expireQueued()
const afterLifetime = snap()
pool.close()
console.log(JSON.stringify({ senders: SENDERS, nonces: NONCES, pool: POOL, blocks, afterFlood, afterMining, afterLifetime, expired, refused, dropped }))
