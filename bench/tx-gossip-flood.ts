/**
 * Tx gossip flood: a peer publishes batches of stale-nonce txs (valid signatures, a funded
 * sender, nonces already used) to a node running TxRelay over a real Mempool, over libp2p on
 * 127.0.0.1, both in this process. Reports how many txs the node decoded, how long it took to
 * judge every batch, the longest the event loop was held (what an RPC request would wait),
 * and what the attacker paid in score. Prints one JSON line.
 *
 *   node --import tsx bench/tx-gossip-flood.ts [batches 60] [txs per batch 4000]
 */
import '../src/net/polyfill.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { RLP } from '@ethereumjs/rlp'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bigIntToUnpaddedBytes, createAddressFromPrivateKey } from '@ethereumjs/util'
import pino from 'pino'
import { ethereumCustomCrypto } from '../src/crypto/index.ts'
import { makeCommon } from '../src/execution/common.ts'
import { Mempool } from '../src/mempool/index.ts'
import { createNetwork, type GossipVerdict, type Network } from '../src/net/index.ts'
import { TxRelay } from '../src/sync/tx-relay.ts'
import { TEST_MNEMONIC, deriveKeys } from '../src/wallet/hd.ts'

const BATCHES = Number(process.argv[2] ?? 60)
const PER_BATCH = Number(process.argv[3] ?? 4000)
const CHAIN_ID = 1337n
const common = makeCommon(CHAIN_ID, ethereumCustomCrypto())
const progress = (msg: string) => process.stderr.write(`[bench/tx-gossip-flood] ${msg}\n`)
const silent = pino({ level: 'silent' })

async function host(datadir: string, bootnodes: string[] = []): Promise<Network> {
  const net = await createNetwork({
    datadir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootnodes,
    chainId: CHAIN_ID,
    genesisHash: new Uint8Array(32).fill(7),
    head: () => ({ height: 0n, hash: new Uint8Array(32).fill(9) }),
    logger: silent,
    limits: { statusRefreshMs: 0, scoreDecayPerMinute: 0 },
  })
  await net.start()
  return net
}

async function until(cond: () => boolean, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const key = deriveKeys(TEST_MNEMONIC, 1)[0]!.privateKey
const sender = createAddressFromPrivateKey(key).toString()
progress(`signing ${PER_BATCH} stale txs`)
const raws = Array.from({ length: PER_BATCH }, (_, i) =>
  createFeeMarket1559Tx({ nonce: BigInt(i), to: `0x${'42'.repeat(20)}`, value: 1n, gasLimit: 21000n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, chainId: CHAIN_ID }, { common })
    .sign(key)
    .serialize(),
)

const dirs = [mkdtempSync(join(tmpdir(), 'catena-bench-')), mkdtempSync(join(tmpdir(), 'catena-bench-'))]
const attacker = await host(dirs[0]!)
const node = await host(dirs[1]!, attacker.multiaddrs())
const pool = new Mempool({
  common,
  chainId: CHAIN_ID,
  // Every nonce of the batches was mined long ago.
  getAccount: async (a) => ({ nonce: a.toString() === sender ? 1_000_000n : 0n, balance: 10n ** 24n }),
  limits: () => ({ minGasPrice: 1n, baseFee: 0n, blockGasLimit: 30_000_000n, maxTxBytes: 128 * 1024 }),
})
let decoded = 0
pool.on('rejected', () => decoded++)
const verdicts: Record<string, number> = {}
const subscribe = node.subscribe.bind(node)
node.subscribe = (topic, validator) =>
  subscribe(topic, async (data, from) => {
    const v: GossipVerdict = await validator(data, from)
    verdicts[v] = (verdicts[v] ?? 0) + 1
    return v
  })
const relay = new TxRelay(node, pool, silent)
relay.start()
attacker.subscribe('txs', () => 'ignore')
await until(() => attacker.topicPeers('txs').includes(node.peerId), 'the mesh')
// An empty batch until one gets through: gossipsub may not route to a new subscriber at once.
for (let i = 0; (await attacker.publish('txs', RLP.encode([bigIntToUnpaddedBytes(BigInt(1_000_000 + i)), []])).catch(() => 0)) === 0; i++) {
  await new Promise((r) => setTimeout(r, 100))
}
await until(() => (verdicts.ignore ?? 0) > 0, 'the empty batch judged')
delete verdicts.ignore

progress(`publishing ${BATCHES} batches of ${PER_BATCH}`)
const delay = monitorEventLoopDelay({ resolution: 10 })
delay.enable()
const cpu0 = process.cpuUsage()
const t0 = performance.now()
let published = 0
for (let b = 0; b < BATCHES; b++) {
  // Encoded by hand: the attacker does not care for the batch limit.
  const bytes = RLP.encode([bigIntToUnpaddedBytes(BigInt(b)), raws])
  published += await attacker.publish('txs', bytes).catch(() => 0)
}
const judged = () => Object.values(verdicts).reduce((a, b) => a + b, 0)
// A banned attacker is cut off: what it sent after the ban is never judged.
await until(() => judged() >= published || node.isBanned(attacker.peerId), 'every batch judged, or the attacker banned')
const seconds = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
delay.disable()
const result = {
  batches: BATCHES,
  txsPerBatch: PER_BATCH,
  delivered: published,
  verdicts,
  txsDecoded: decoded,
  seconds: Number(seconds.toFixed(2)),
  cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
  maxEventLoopDelayMs: Number((delay.max / 1e6).toFixed(1)),
  attackerPenalty: node.penaltyOf(attacker.peerId),
  attackerBanned: node.isBanned(attacker.peerId),
}
relay.stop()
await Promise.all([attacker.stop(), node.stop()])
for (const d of dirs) rmSync(d, { recursive: true, force: true })
console.log(JSON.stringify(result))
