/**
 * `catena light --chain <preset|file> --rpc <url>[,<url>...] [--checkpoint <hash>] [--rpc-port 8555]
 * [--bootnodes <multiaddr>[,...]]`: a light client that follows untrusted full nodes' headers
 * (by JSON-RPC, and over libp2p from the bootnodes and the peers they lead to), checks them
 * by the chain's consensus rules, and serves a JSON-RPC on 127.0.0.1 whose answers are
 * proven against them (the proofs come from the --rpc nodes).
 * @module
 */
import type { Command } from 'commander'
import { parseBlockHashOption, parseList, parseNonNegativeInt, parsePort } from './options.ts'

export function registerLightCommand(program: Command): void {
  program
    .command('light')
    .description("a light client: verifies full nodes' headers by the chain's consensus rules and proves every answer it serves against them (PoW, BFT, PoH and signed dev chains)")
    .requiredOption('--chain <preset|file>', 'chain spec (the genesis it trusts)')
    .requiredOption('--rpc <urls>', 'full nodes to ask, comma-separated JSON-RPC URLs (none of them is trusted)', parseList)
    .option('--checkpoint <block hash>', 'start from this block instead of genesis (a hash you trust; its header is fetched and must hash to it)', parseBlockHashOption)
    .option('--trust-period <seconds>', 'BFT: how long a verified header vouches for headers skipped to (default: 2/3 of the unbonding time on PoS chains, a week on PoA)', parseNonNegativeInt)
    .option('--poh-rehash', "PoH: re-hash every slot's PoH too (fetches every block's body; by default the voters' replay vouches for the hashes)")
    .option('--rpc-port <port>', 'port of its JSON-RPC on 127.0.0.1', parsePort, 8555)
    .option('--bootnodes <multiaddrs>', 'full nodes to follow headers from over libp2p too, comma-separated multiaddrs (/ip4/.../tcp/.../p2p/<peer id>)', parseList)
    .option('--p2p-port <port>', 'with --bootnodes: listen for peers on 127.0.0.1 at this port (default: dial only)', parsePort)
    .option('--datadir <dir>', 'where verified headers are kept (default ./.catena/light-<chain>)')
    .option('--log-level <level>', 'log level (trace, debug, info, warn, error)', 'info')
    .action(async (opts: { chain: string; rpc: string[]; rpcPort: number; bootnodes?: string[]; p2pPort?: number; datadir?: string; logLevel: string; checkpoint?: string; trustPeriod?: number; pohRehash?: boolean }) => {
      const { loadChainSpec } = await import('../../chain/spec/index.ts')
      const { createLogger, CLIENT_VERSION } = await import('../../node/index.ts')
      const { startLightClient } = await import('../../sync/light/start.ts')
      const spec = loadChainSpec(opts.chain)
      const log = createLogger({ level: opts.logLevel, name: 'light' })
      const running = await startLightClient({
        spec,
        rpcUrls: opts.rpc,
        rpcPort: opts.rpcPort,
        ...(opts.checkpoint ? { checkpoint: Uint8Array.from(Buffer.from(opts.checkpoint.slice(2), 'hex')) } : {}),
        ...(opts.trustPeriod !== undefined ? { trustPeriodSeconds: BigInt(opts.trustPeriod) } : {}),
        ...(opts.pohRehash ? { pohRehash: true } : {}),
        ...(opts.bootnodes?.length ? { bootnodes: opts.bootnodes } : {}),
        ...(opts.p2pPort !== undefined ? { p2pPort: opts.p2pPort } : {}),
        datadir: opts.datadir ?? `./.catena/light-${/^[a-z0-9-]+$/.test(spec.name) ? spec.name : 'custom'}`,
        log,
        clientVersion: CLIENT_VERSION.replace('Catena/', 'Catena-light/'),
        progress: (line) => process.stderr.write(line + '\n'),
      })
      const head = running.client.headers.head
      console.log(`Catena light client on ${spec.name}: verified head ${head.header.height}, RPC ${running.url} (sources: ${running.client.headerSources.map((s) => s.url).join(', ')})`)
      const stop = async () => {
        await running.stop()
        process.exit(0)
      }
      process.on('SIGINT', () => void stop())
      process.on('SIGTERM', () => void stop())
    })
}
