/**
 * Network throughput between two Catena hosts in this process, over real TCP on 127.0.0.1
 * (Noise + Yamux): request/response round trips on one connection (one at a time, and with
 * the per-peer maximum in flight), 1 MiB responses, and gossip messages of 500 bytes.
 * Prints one JSON line per measurement on stdout; progress goes to stderr.
 *
 *   node --import tsx bench/net.ts [seconds per measurement, default 3] [gossip messages, default 5000]
 */
import '../src/net/polyfill.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { createNetwork, type Network } from '../src/net/index.ts'
import { MAX_ACTIVE_REQUESTS } from '../src/net/reqresp.ts'

const seconds = Number(process.argv[2] ?? 3)
const gossipMessages = Number(process.argv[3] ?? 5000)

function progress(msg: string): void {
  process.stderr.write(`[bench/net] ${msg}\n`)
}

function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`)
}

const dirs: string[] = []
const genesisHash = new Uint8Array(32).fill(0x42)

async function host(bootnodes: string[]): Promise<Network> {
  const datadir = mkdtempSync(join(tmpdir(), 'catena-bench-net-'))
  dirs.push(datadir)
  const net = await createNetwork({
    datadir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootnodes,
    chainId: 1337n,
    genesisHash,
    head: () => ({ height: 0n, hash: genesisHash }),
    logger: pino({ level: 'warn' }),
    limits: { statusRefreshMs: 0 },
  })
  await net.start()
  return net
}

/** Runs `workers` loops of `op` for `seconds`; returns operations per second. */
async function measure(workers: number, op: () => Promise<unknown>): Promise<{ ops: number; seconds: number; opsPerSec: number }> {
  const start = performance.now()
  const end = start + seconds * 1000
  let ops = 0
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end) {
        await op()
        ops++
      }
    }),
  )
  const elapsed = (performance.now() - start) / 1000
  return { ops, seconds: Number(elapsed.toFixed(2)), opsPerSec: Math.round(ops / elapsed) }
}

progress('starting two hosts')
const a = await host([])
const b = await host(a.multiaddrs())
await new Promise<void>((resolve) => {
  if (b.peers().length > 0) resolve()
  else b.once('peer:connected', () => resolve())
})

const MiB = 1 << 20
const big = new Uint8Array(MiB).fill(7)
await a.handle('headersByRange', (req) => req)
await a.handle('blocksByRange', () => big)
const small = new Uint8Array(16).fill(1)

progress(`request/response, one at a time, ${seconds} s`)
emit({ bench: 'net.reqresp.sequential', payloadBytes: small.length, ...(await measure(1, () => b.request(a.peerId, 'headersByRange', small))) })

progress(`request/response, ${MAX_ACTIVE_REQUESTS} in flight, ${seconds} s`)
emit({
  bench: 'net.reqresp.concurrent',
  inFlight: MAX_ACTIVE_REQUESTS,
  payloadBytes: small.length,
  ...(await measure(MAX_ACTIVE_REQUESTS, () => b.request(a.peerId, 'headersByRange', small))),
})

progress(`request/response with 1 MiB responses, 4 in flight, ${seconds} s`)
const bulk = await measure(4, () => b.request(a.peerId, 'blocksByRange', small))
emit({ bench: 'net.reqresp.1MiB', inFlight: 4, ...bulk, mibPerSec: bulk.opsPerSec })

progress(`gossip: ${gossipMessages} messages of 500 bytes from one host to the other`)
let received = 0
let allReceived: () => void = () => {}
const done = new Promise<void>((resolve) => (allReceived = resolve))
b.subscribe('txs', () => {
  if (++received === gossipMessages) allReceived()
  return 'accept'
})
a.subscribe('txs', () => 'accept')
while (!a.topicPeers('txs').includes(b.peerId)) await new Promise((r) => setImmediate(r))
const start = performance.now()
for (let i = 0; i < gossipMessages; i++) {
  const msg = new Uint8Array(500)
  new DataView(msg.buffer).setUint32(0, i) // distinct bytes: gossip ids are hashes of the data
  await a.publish('txs', msg)
}
const published = (performance.now() - start) / 1000
const timeout = setTimeout(() => allReceived(), 60_000)
await done
clearTimeout(timeout)
const elapsed = (performance.now() - start) / 1000
emit({
  bench: 'net.gossip',
  messageBytes: 500,
  published: gossipMessages,
  received,
  seconds: Number(elapsed.toFixed(2)),
  publishedPerSec: Math.round(gossipMessages / published),
  deliveredPerSec: Math.round(received / elapsed),
})

await Promise.all([a.stop(), b.stop()])
for (const d of dirs) rmSync(d, { recursive: true, force: true })
