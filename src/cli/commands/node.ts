/** `catena node`: run a full node. */
import type { Command } from 'commander'
import { InvalidArgumentError, Option } from 'commander'
import type { LogFormat } from '../../node/index.ts'
import { parseAddressOption, parseBoolOption, parseDurationMs, parseGasOption, parseList, parseNonNegativeInt, parsePort } from './options.ts'

function parsePositiveThreads(value: string): number {
  const n = parseNonNegativeInt(value)
  if (n < 1 || n > 256) throw new InvalidArgumentError('must be from 1 to 256')
  return n
}

export function registerNodeCommand(program: Command): void {
  program
    .command('node')
    .description('run a Catena node')
    .option('--chain <preset|file>', 'chain spec: a preset name (dev) or a genesis JSON file', 'dev')
    .option('--datadir <dir>', 'data directory (default ./.catena/<chain>)')
    .option('--rpc-host <host>', 'JSON-RPC listen address', '127.0.0.1')
    .option('--rpc-port <port>', 'JSON-RPC HTTP and WebSocket port (0 = any free port)', parsePort, 8545)
    .option('--coinbase <address>', 'address credited with block rewards and fees', parseAddressOption)
    .option('--automine <bool>', 'dev engine: seal a block as soon as txs are pending', parseBoolOption)
    .option('--block-interval <ms>', 'dev engine: also seal a block every <ms> milliseconds (0 = off)', parseNonNegativeInt)
    .option('--validator-key-file <file>', 'BFT and PoH chains: file holding this validator\'s private key (hex); dev chains with a signer: the signer\'s key (default: the public dev key if it is the signer); must be private (chmod 600)')
    .addOption(new Option('--byzantine <behaviour>', 'misbehave on purpose, for attack labs and slashing tests: double-vote (BFT); double-sign, bad-poh, fork (PoH leader)').choices(['double-vote', 'double-sign', 'bad-poh', 'fork']).hideHelp())
    .option('--mine', 'PoW chains: mine blocks, crediting --coinbase')
    .option('--miner-threads <n>', 'PoW chains: miner worker threads (default: one per core)', parsePositiveThreads)
    .option('--sync-writes', 'fsync every block to disk (survives power loss; slower). Without it a killed process still loses nothing')
    .option('--p2p-port <port>', 'listen for peers on this TCP port (0 = any free port); networking is off without it', parsePort)
    .option('--p2p-host <host>', 'P2P listen address', '127.0.0.1')
    .option('--bootnodes <multiaddrs>', 'comma-separated peer multiaddrs to dial (/ip4/.../tcp/.../p2p/<peer id>)')
    .option('--cors <origins>', 'comma-separated origins allowed to call the RPC from a browser (off by default)')
    .option('--rpc-vhosts <names>', 'comma-separated host names the RPC port answers besides IP literals (default localhost; * = any); others get 403', parseList)
    .option('--ws-origins <origins>', 'comma-separated browser origins allowed to open a WebSocket besides localhost pages (* = any)', parseList)
    .option('--rpc-gascap <gas>', 'most gas an eth_call or eth_estimateGas may use (default 50000000; 0 = no cap)', parseGasOption)
    .option('--rpc-evmtimeout <duration>', 'time limit of an eth_call / eth_estimateGas, shared by a batch (default 5s; 0 = none)', parseDurationMs)
    .option('--rpc-call-threads <n>', 'worker threads that run eth_call and eth_estimateGas (default: cores - 1, 1 or 2)', parsePositiveThreads)
    .option('--rpc-max-conns-per-ip <n>', 'open RPC connections one address may hold (default 128; 0 = no limit)', parseNonNegativeInt)
    .option('--api-key-file <file>', 'REST admin API keys, one per line, in a private file (chmod 600); CATENA_API_KEY adds one; without a key the admin routes are closed')
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .addOption(new Option('--log-format <format>', 'log format (default: pretty in a terminal, else json)').choices(['pretty', 'json']))
    .action(async (opts) => {
      // Loaded here so other commands do not pay for loading the whole node.
      const { CatenaNode, createLogger } = await import('../../node/index.ts')
      const logger = createLogger({ level: opts.logLevel, format: opts.logFormat as LogFormat | undefined })
      const chainName = String(opts.chain)
      const datadir = opts.datadir ?? `./.catena/${/^[a-z0-9-]+$/.test(chainName) ? chainName : 'custom'}`
      const node = await CatenaNode.start({
        chain: chainName,
        datadir,
        rpcHost: opts.rpcHost,
        rpcPort: opts.rpcPort,
        logger,
        coinbase: opts.coinbase,
        automine: opts.automine,
        blockIntervalMs: opts.blockInterval,
        corsOrigins: opts.cors ? String(opts.cors).split(',').map((s: string) => s.trim()).filter(Boolean) : undefined,
        rpc: {
          ...(opts.rpcGascap !== undefined ? { gasCap: opts.rpcGascap as bigint } : {}),
          ...(opts.rpcEvmtimeout !== undefined ? { evmTimeoutMs: opts.rpcEvmtimeout as number } : {}),
          ...(opts.rpcCallThreads !== undefined ? { callThreads: opts.rpcCallThreads as number } : {}),
          ...(opts.rpcVhosts !== undefined ? { vhosts: opts.rpcVhosts as string[] } : {}),
          ...(opts.wsOrigins !== undefined ? { wsOrigins: opts.wsOrigins as string[] } : {}),
          ...(opts.rpcMaxConnsPerIp !== undefined ? { maxConnectionsPerIp: opts.rpcMaxConnsPerIp as number } : {}),
        },
        syncWrites: Boolean(opts.syncWrites),
        validatorKeyFile: opts.validatorKeyFile,
        ...(opts.byzantine ? { byzantine: opts.byzantine } : {}),
        ...(opts.mine ? { mine: true } : {}),
        ...(opts.minerThreads ? { minerThreads: opts.minerThreads } : {}),
        p2pPort: opts.p2pPort,
        p2pHost: opts.p2pHost,
        bootnodes: opts.bootnodes ? String(opts.bootnodes).split(',').map((s: string) => s.trim()).filter(Boolean) : undefined,
        apiKeyFile: opts.apiKeyFile,
        // POST /v1/admin/shutdown takes the same clean path as SIGTERM.
        onShutdownRequest: () => void shutdown('admin API'),
      })
      let stopping = false
      const shutdown = async (signal: string) => {
        if (stopping) return
        stopping = true
        logger.info({ signal }, 'shutting down')
        try {
          await node.stop()
          process.exit(0)
        } catch (err) {
          logger.error({ err }, 'error during shutdown')
          process.exit(1)
        }
      }
      process.on('SIGINT', () => void shutdown('SIGINT'))
      process.on('SIGTERM', () => void shutdown('SIGTERM'))
      // A bug must never take the node down silently. A stray rejection is logged and the node
      // carries on; an uncaught exception leaves unknown state, so the node exits and a restart
      // resumes from the last committed block (every import is one atomic batch).
      process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'))
      process.on('uncaughtException', (err) => {
        logger.fatal({ err }, 'uncaught exception: exiting; restart resumes at the last committed block')
        process.exit(70)
      })
    })
}
