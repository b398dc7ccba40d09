/**
 * Hostile peers as their own OS process, for multi-process tests and the lab:
 *
 *   node --import tsx src/lab/adversaries/hostile-peer-main.ts --chain consortium \
 *     --datadir DIR --bootnodes ADDR,ADDR --group lie-head,serve-forged --group forge-gossip
 *
 * Each --group is one attacker: its own peer identity (DIR/<n>/node.key) and its own copy of
 * the chain, running its list of attacks (--attacks is one group). Once it has a peer, each
 * attacker runs rounds (catch the copy up, then every attack of its group in order) until
 * --duration-ms ends or the process gets SIGTERM; attackers run side by side, so a ban one
 * earns tells which attacks earned it. stdout carries JSON lines only:
 * {"type":"ready", attackers: [{index, peerId, multiaddrs, attacks}]}, one
 * {"type":"round", attacker, peerId, round, head, peers, attacks: [AttackReport...]} per
 * round, and {"type":"done", rounds}. Logs go to stderr.
 * @module
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { loadChainSpec } from '../../chain/spec/index.ts'
import { ATTACKS, HostilePeer, type AttackName } from './hostile-peer.ts'

const USAGE = `usage: hostile-peer-main --chain <preset|genesis.json> --datadir <dir> --bootnodes <multiaddr,...>
  [--group ${ATTACKS.join(',')}]... (or --attacks <list>: one group) [--duration-ms 60000 (0: until SIGTERM)] [--interval-ms 1000]
  [--flood-count 200] [--wait-peers 1] [--p2p-port 0] [--log-level warn]`

/** Attacks that claim a false head: their attacker claims it from the first handshake on. */
const LYING: readonly string[] = ['lie-head', 'serve-forged', 'stall-ranges']

function line(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n')
}

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`)
  process.exit(2)
}

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a whole number, got ${value}`)
  return n
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      chain: { type: 'string' },
      datadir: { type: 'string' },
      bootnodes: { type: 'string' },
      attacks: { type: 'string' },
      group: { type: 'string', multiple: true },
      'duration-ms': { type: 'string' },
      'interval-ms': { type: 'string' },
      'flood-count': { type: 'string' },
      'wait-peers': { type: 'string' },
      'p2p-port': { type: 'string' },
      'log-level': { type: 'string' },
    },
  })
  if (!values.chain || !values.datadir || !values.bootnodes) fail('--chain, --datadir and --bootnodes are required')
  const groups = [...(values.group ?? []), ...(values.attacks !== undefined || !values.group ? [values.attacks ?? ATTACKS.join(',')] : [])].map((g) => g.split(',').filter(Boolean))
  for (const a of groups.flat()) if (!(ATTACKS as readonly string[]).includes(a)) fail(`unknown attack "${a}"`)
  const durationMs = count(values['duration-ms'], 'duration-ms', 60_000)
  const intervalMs = count(values['interval-ms'], 'interval-ms', 1_000)
  const floodCount = count(values['flood-count'], 'flood-count', 200)
  const waitPeers = count(values['wait-peers'], 'wait-peers', 1)
  const port = count(values['p2p-port'], 'p2p-port', 0)

  const logger = pino({ level: values['log-level'] ?? 'warn' }, pino.destination(2))
  const spec = loadChainSpec(values.chain)
  const bootnodes = values.bootnodes.split(',').filter(Boolean)
  const peers = await Promise.all(
    groups.map((_, i) =>
      HostilePeer.create({ spec, datadir: join(values.datadir!, String(i)), bootnodes, listen: [`/ip4/127.0.0.1/tcp/${port === 0 ? 0 : port + i}`], logger: logger.child({ attacker: i }) }),
    ),
  )
  let stopping = false
  const stop = () => {
    stopping = true
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)

  // Liars lie from their first handshake on.
  peers.forEach((p, i) => groups[i]!.some((a) => LYING.includes(a)) && p.claimFalseHead())
  await Promise.all(peers.map((p) => p.start()))
  line({ type: 'ready', attackers: peers.map((p, i) => ({ index: i, peerId: p.peerId, multiaddrs: p.network.multiaddrs(), attacks: groups[i] })) })
  const started = Date.now()
  const over = () => stopping || (durationMs > 0 && Date.now() - started >= durationMs)

  const attackLoop = async (peer: HostilePeer, index: number): Promise<number> => {
    // The first round needs someone to attack and a copy of the chain to forge on.
    while (!over() && peer.peers().length < waitPeers) await pause(100)
    let round = 0
    while (!over()) {
      round++
      const synced = await peer.sync()
      const reports = []
      for (const attack of groups[index] as AttackName[]) {
        if (over()) break
        try {
          reports.push(await peer.run(attack, { floodCount }))
        } catch (err) {
          reports.push({ attack, failed: (err as Error).message })
        }
      }
      line({ type: 'round', attacker: index, peerId: peer.peerId, round, at: Date.now(), head: String(peer.shadow.height), imported: synced.imported, syncErrors: synced.errors, peers: peer.peers(), attacks: reports })
      const until = Date.now() + intervalMs
      while (!over() && Date.now() < until) await pause(50)
    }
    return round
  }
  const rounds = await Promise.all(peers.map(attackLoop))
  await Promise.all(peers.map((p) => p.stop()))
  line({ type: 'done', rounds })
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

main().catch((err) => {
  process.stderr.write(`hostile peer failed: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
