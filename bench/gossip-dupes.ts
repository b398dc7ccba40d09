/**
 * Duplicate gossip copies: N Catena hosts (src/net createNetwork, the host config of
 * src/net/host.ts) on 127.0.0.1, all connected to each other; publishers send distinct
 * messages on one topic, and every host counts the copies of each message that reach it (every
 * gossipsub RPC it decodes, duplicates included, not only the first copy its validator sees),
 * and the IDONTWANT / IHAVE / IWANT ids it receives. Delivery is checked: every host must see
 * every message it did not publish exactly once in its validator.
 *
 *   node --import tsx bench/gossip-dupes.ts [--nodes 4] [--messages 200] [--bytes 2048]
 *        [--publishers 1] [--interval-ms 2] [--validate-ms 0] [--topic consensus]
 *
 * --bytes takes a list (e.g. 160,2048): one measurement per size, each on fresh hosts.
 * At most 10 hosts: every host here has the address 127.0.0.1, and gossipsub's IP colocation
 * penalty (score P6, threshold 10 peers per IP) gives each of more than 10 such peers a negative
 * score, which keeps them all out of the mesh: only flood publishing would be measured.
 * --validate-ms holds each validator that long (a consensus vote's signature check is ~1 ms).
 * Prints one JSON line per size on stdout (copiesPerMessage: copies received per unique message
 * per receiving host, 1 = no duplicates); progress on stderr. Exit status 1 if a message was
 * not delivered everywhere, 2 for bad options.
 */
import '../src/net/polyfill.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { GOSSIP_TOPICS, createNetwork, topicId, type GossipTopic, type GossipVerdict, type Network } from '../src/net/index.ts'
import { BenchError, errorMessage } from './lib/errors.ts'
import { gossipsubOf, probeRpcs } from './lib/gossip-probe.ts'

const CHAIN_ID = 1337n
const GENESIS = new Uint8Array(32).fill(0x42)

interface Options {
  nodes: number
  messages: number
  sizes: number[]
  publishers: number
  intervalMs: number
  validateMs: number
  topic: GossipTopic
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      nodes: { type: 'string', default: '4' },
      messages: { type: 'string', default: '200' },
      bytes: { type: 'string', default: '2048' },
      publishers: { type: 'string', default: '1' },
      'interval-ms': { type: 'string', default: '2' },
      'validate-ms': { type: 'string', default: '0' },
      topic: { type: 'string', default: 'consensus' },
    },
  })
  const int = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < min || n > max) throw new BenchError('BAD_ARGS', `--${name} must be an integer from ${min} to ${max}, got "${v}"`)
    return n
  }
  const topic = values.topic as GossipTopic
  if (!GOSSIP_TOPICS.includes(topic)) throw new BenchError('BAD_ARGS', `--topic must be one of ${GOSSIP_TOPICS.join(', ')}, got "${values.topic}"`)
  const nodes = int('nodes', values.nodes, 2, 10)
  return {
    nodes,
    messages: int('messages', values.messages, 1, 100_000),
    // 8 bytes at least: each message starts with its distinct index (gossip ids hash the data).
    sizes: values.bytes.split(',').map((b) => int('bytes', b, 8, 512 * 1024)),
    publishers: int('publishers', values.publishers, 1, nodes),
    intervalMs: int('interval-ms', values['interval-ms'], 0, 10_000),
    validateMs: int('validate-ms', values['validate-ms'], 0, 10_000),
    topic,
  }
}

/** What one host received on the measured topic. */
interface Counts {
  /** Message copies decoded (first copies and duplicates). */
  copies: number
  /** Gossipsub RPC frames decoded (messages, control, or both): each one is a decryption and a decode. */
  rpcs: number
  /** Messages its validator saw (first copies only). */
  delivered: number
  idontwant: number
  ihave: number
  iwant: number
}

const progress = (msg: string) => process.stderr.write(`[bench/gossip-dupes] ${msg}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new BenchError('STALLED', `timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** Starts `n` hosts, each dialing every host started before it, and waits until all are connected and meshed on `topic`. */
async function startHosts(n: number, topic: GossipTopic, dirs: string[]): Promise<Network[]> {
  const nets: Network[] = []
  for (let i = 0; i < n; i++) {
    const datadir = mkdtempSync(join(tmpdir(), 'catena-bench-dupes-'))
    dirs.push(datadir)
    const net = await createNetwork({
      datadir,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootnodes: nets.flatMap((o) => o.multiaddrs()),
      chainId: CHAIN_ID,
      genesisHash: GENESIS,
      head: () => ({ height: 0n, hash: GENESIS }),
      logger: pino({ level: 'error' }), // hosts stopping one by one make the others warn of lost bootnodes
      limits: { statusRefreshMs: 0, targetPeers: n },
    })
    await net.start()
    nets.push(net)
  }
  await waitUntil(() => nets.every((net) => net.peers().length === n - 1), `all ${n} hosts to connect to each other`)
  return nets
}

/** Counts what a host decodes on `topicStr` (duplicates never reach a validator). */
function countRpcs(net: Network, topicStr: string, counts: Counts): void {
  probeRpcs(net, (_from, rpc) => {
    counts.rpcs++
    for (const m of rpc.messages) if (m.topic === topicStr) counts.copies++
    for (const c of rpc.control?.idontwant ?? []) counts.idontwant += c.messageIDs.length
    for (const c of rpc.control?.ihave ?? []) if (c.topicID === topicStr) counts.ihave += c.messageIDs.length
    for (const c of rpc.control?.iwant ?? []) counts.iwant += c.messageIDs.length
  })
}

async function measure(o: Options, bytes: number): Promise<boolean> {
  const dirs: string[] = []
  const nets = await startHosts(o.nodes, o.topic, dirs)
  try {
    const topicStr = topicId(nets[0]!.chainTag, o.topic)
    const counts: Counts[] = nets.map(() => ({ copies: 0, rpcs: 0, delivered: 0, idontwant: 0, ihave: 0, iwant: 0 }))
    nets.forEach((net, i) => {
      countRpcs(net, topicStr, counts[i]!)
      net.subscribe(o.topic, async (): Promise<GossipVerdict> => {
        counts[i]!.delivered++
        if (o.validateMs > 0) await sleep(o.validateMs)
        return 'accept'
      })
    })
    const pubsub0 = gossipsubOf(nets[0]!)
    const meshTarget = Math.min(o.nodes - 1, pubsub0.opts.Dlo)
    await waitUntil(
      () => nets.every((net) => gossipsubOf(net).getMeshPeers(topicStr).length >= meshTarget),
      `every host to graft at least ${meshTarget} mesh peers`,
    )
    progress(`${o.nodes} hosts meshed; ${o.publishers} publisher(s) send ${o.messages} messages of ${bytes} bytes`)
    const published = new Array<number>(o.nodes).fill(0)
    for (let k = 0; k < o.messages; k++) {
      const p = k % o.publishers
      const data = new Uint8Array(bytes)
      new DataView(data.buffer).setUint32(0, k)
      data.fill(0x5a, 8)
      await nets[p]!.publish(o.topic, data)
      published[p]!++
      if (o.intervalMs > 0) await sleep(o.intervalMs)
    }
    const expected = nets.map((_, i) => o.messages - published[i]!)
    const allDelivered = () => counts.every((c, i) => c.delivered >= expected[i]!)
    await waitUntil(allDelivered, 'every message to reach every host').catch(() => undefined)
    // Late duplicates and IHAVE gossip arrive after the first copies: two heartbeats more.
    await sleep(2 * pubsub0.opts.heartbeatInterval + 200)
    const delivered = counts.every((c, i) => c.delivered === expected[i]!)
    const perNode = counts.map((c, i) => Number((c.copies / Math.max(1, expected[i]!)).toFixed(3)))
    const receivers = counts.filter((_, i) => expected[i]! > 0)
    const copies = receivers.reduce((s, c) => s + c.copies, 0)
    const wanted = expected.reduce((s, e) => s + e, 0)
    const opts = pubsub0.opts
    process.stdout.write(
      `${JSON.stringify({
        bench: 'gossip.dupes',
        nodes: o.nodes,
        publishers: o.publishers,
        messages: o.messages,
        bytes,
        topic: o.topic,
        intervalMs: o.intervalMs,
        validateMs: o.validateMs,
        gossipsub: { D: opts.D, Dlo: opts.Dlo, Dhi: opts.Dhi, Dlazy: opts.Dlazy, Dout: opts.Dout, Dscore: opts.Dscore, idontwantMinDataSize: opts.idontwantMinDataSize, floodPublish: opts.floodPublish },
        delivered,
        copiesPerMessage: Number((copies / wanted).toFixed(3)),
        copiesPerMessagePerNode: perNode,
        // Frames every host decoded (publishers too: IDONTWANTs reach them), per message delivered.
        rpcsPerMessage: Number((counts.reduce((s, c) => s + c.rpcs, 0) / wanted).toFixed(3)),
        idontwantReceived: counts.reduce((s, c) => s + c.idontwant, 0),
        ihaveIdsReceived: counts.reduce((s, c) => s + c.ihave, 0),
        iwantIdsReceived: counts.reduce((s, c) => s + c.iwant, 0),
      })}\n`,
    )
    if (!delivered) progress(`NOT DELIVERED: validators saw ${JSON.stringify(counts.map((c) => c.delivered))}, expected ${JSON.stringify(expected)}`)
    return delivered
  } finally {
    await Promise.all(nets.map((n) => n.stop()))
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}

let options: Options
try {
  options = parseOptions(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`${errorMessage(err)}\n`)
  process.exit(2)
}
let ok = true
for (const bytes of options.sizes) ok = (await measure(options, bytes)) && ok
process.exit(ok ? 0 : 1)
