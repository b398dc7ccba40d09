/** `catena devnet`: a local multi-node network, each node its own OS process. */
import type { Command } from 'commander'
import { Devnet } from '../devnet/supervisor.ts'
import { parseNonNegativeInt, parsePort } from './options.ts'

export function registerDevnetCommand(program: Command): void {
  program
    .command('devnet')
    .description('run a local network: node 0 seals blocks, the others follow it over libp2p (each its own process)')
    .option('--nodes <n>', 'number of nodes (1-16)', parseNonNegativeInt, 3)
    .option('--chain <preset|file>', 'chain spec for every node', 'dev')
    .option('--datadir <dir>', 'where the nodes keep their data (kept between runs)', './.catena/devnet')
    .option('--rpc-port <port>', 'RPC port of node 0; node i uses port + i (0 = any free port)', parsePort, 8545)
    .option('--p2p-port <port>', 'P2P port of node 0; node i uses port + i (0 = any free port)', parsePort, 30303)
    .option('--fresh', 'delete the datadirs first and start a new chain')
    .option('--miners <n>', 'PoW chains: how many of the nodes mine (default: all)', parseNonNegativeInt)
    .option('--miner-threads <n>', 'PoW chains: worker threads per miner (default 1)', parseNonNegativeInt)
    .option('--block-interval <ms>', 'dev chains: node 0 also seals a block every <ms> without txs (0 = only when txs arrive)', parseNonNegativeInt, 2000)
    .option('--json', 'print one line of JSON describing the nodes')
    .action(async (opts) => {
      if (opts.nodes < 1 || opts.nodes > 16) throw new Error('--nodes must be between 1 and 16')
      const devnet = new Devnet({
        nodes: opts.nodes,
        chain: opts.chain,
        datadir: opts.datadir,
        rpcPort: opts.rpcPort,
        p2pPort: opts.p2pPort,
        fresh: Boolean(opts.fresh),
        ...(opts.miners !== undefined ? { miners: opts.miners } : {}),
        ...(opts.minerThreads ? { minerThreads: opts.minerThreads } : {}),
        blockIntervalMs: opts.blockInterval,
      })
      let shuttingDown = false
      const shutdown = async (why: string, code: number) => {
        if (shuttingDown) return
        shuttingDown = true
        console.error(`stopping the devnet (${why})`)
        await devnet.stop()
        process.exit(code)
      }
      process.on('SIGINT', () => void shutdown('SIGINT', 0))
      process.on('SIGTERM', () => void shutdown('SIGTERM', 0))
      try {
        await devnet.start((m, code, signal) => console.error(`node ${m.index} (pid ${m.pid}) exited unexpectedly (${signal ?? `code ${code}`}); logs: ${m.datadir}/node.log`))
      } catch (err) {
        await devnet.stop()
        throw err
      }
      if (opts.json) {
        console.log(JSON.stringify({ nodes: devnet.nodes }))
      } else {
        console.log(`Catena devnet: ${opts.nodes} node(s) on chain ${opts.chain}, data in ${opts.datadir}`)
        for (const n of devnet.nodes) console.log(`  node ${n.index} (${n.role})  rpc ${n.rpcUrl}  p2p ${n.p2p}  pid ${n.pid}`)
        console.log(`Explorer: open ${devnet.nodes[0]?.rpcUrl} in a browser (REST API under /v1, docs at /docs, metrics at /metrics).`)
        console.log('Ctrl-C stops every node; run again to resume the same chain (--fresh starts over).')
      }
    })
}
