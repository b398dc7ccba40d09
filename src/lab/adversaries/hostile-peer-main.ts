/**
 * The hostile peer as its own OS process, for multi-process tests and the lab:
 *
 *   node --import tsx src/lab/adversaries/hostile-peer-main.ts --chain consortium \
 *     --datadir DIR --bootnodes ADDR,ADDR --attacks lie-head,forge-gossip --duration-ms 60000
 *
 * It connects, copies the chain from honest peers, then runs the listed attacks in rounds
 * (each round: catch the copy up, then every attack in order) until the duration ends or it
 * gets SIGTERM. stdout carries JSON lines only: {"type":"ready", peerId, multiaddrs}, then one
 * {"type":"round", round, head, peers, attacks: [AttackReport...]} per round, then
 * {"type":"done", rounds}. Logs go to stderr.
 * @module
 */
import { parseArgs } from 'node:util'
import pino from 'pino'
import { loadChainSpec } from '../../chain/spec/index.ts'
import { ATTACKS, HostilePeer, type AttackName } from './hostile-peer.ts'

const USAGE = `usage: hostile-peer-main --chain <preset|genesis.json> --datadir <dir> --bootnodes <multiaddr,...>
  [--attacks ${ATTACKS.join(',')}] [--duration-ms 60000 (0: until SIGTERM)] [--interval-ms 1000]
  [--flood-count 200] [--wait-peers 1] [--p2p-port 0] [--log-level warn]`

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
      'duration-ms': { type: 'string' },
      'interval-ms': { type: 'string' },
      'flood-count': { type: 'string' },
      'wait-peers': { type: 'string' },
      'p2p-port': { type: 'string' },
      'log-level': { type: 'string' },
    },
  })
  if (!values.chain || !values.datadir || !values.bootnodes) fail('--chain, --datadir and --bootnodes are required')
  const attacks = (values.attacks ?? ATTACKS.join(',')).split(',').filter(Boolean)
  for (const a of attacks) if (!(ATTACKS as readonly string[]).includes(a)) fail(`unknown attack "${a}"`)
  const durationMs = count(values['duration-ms'], 'duration-ms', 60_000)
  const intervalMs = count(values['interval-ms'], 'interval-ms', 1_000)
  const floodCount = count(values['flood-count'], 'flood-count', 200)
  const waitPeers = count(values['wait-peers'], 'wait-peers', 1)
  const port = count(values['p2p-port'], 'p2p-port', 0)

  const logger = pino({ level: values['log-level'] ?? 'warn' }, pino.destination(2))
  const peer = await HostilePeer.create({
    spec: loadChainSpec(values.chain),
    datadir: values.datadir,
    bootnodes: values.bootnodes.split(',').filter(Boolean),
    listen: [`/ip4/127.0.0.1/tcp/${port}`],
    logger,
  })
  let stopping = false
  const stop = () => {
    stopping = true
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)

  await peer.start()
  line({ type: 'ready', peerId: peer.peerId, multiaddrs: peer.network.multiaddrs(), attacks })
  const started = Date.now()
  const over = () => stopping || (durationMs > 0 && Date.now() - started >= durationMs)
  // The first round needs someone to attack and a copy of the chain to forge on.
  while (!over() && peer.peers().length < waitPeers) await pause(100)
  let round = 0
  while (!over()) {
    round++
    const synced = await peer.sync()
    const reports = []
    for (const attack of attacks as AttackName[]) {
      if (over()) break
      try {
        reports.push(await peer.run(attack, { floodCount }))
      } catch (err) {
        reports.push({ attack, failed: (err as Error).message })
      }
    }
    line({ type: 'round', round, at: Date.now(), head: String(peer.shadow.height), imported: synced.imported, syncErrors: synced.errors, peers: peer.peers(), attacks: reports })
    const until = Date.now() + intervalMs
    while (!over() && Date.now() < until) await pause(50)
  }
  await peer.stop()
  line({ type: 'done', rounds: round })
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

main().catch((err) => {
  process.stderr.write(`hostile peer failed: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
