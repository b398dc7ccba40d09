/**
 * The light client's libp2p side (`catena light --bootnodes`): a network host of its own
 * (node key in <datadir>/p2p, or a temporary one), the full nodes it dials, and one header
 * source (p2p-source.ts) per peer that passed the status handshake, added when it connects and
 * dropped when it leaves. The peers are extra header sources; proofs still come by JSON-RPC.
 *
 * How it looks to a full node: a peer of the same chain whose status tells the genesis as its
 * head, so no node ever tries to sync from it (catch-up only follows peers that claim more
 * than it has) and none can blame it for a head it does not serve. It serves the network's own
 * protocols (status, peer exchange) and nothing else, joins no gossip topic, and by default
 * does not listen: it only dials, so full nodes neither store nor hand out its address.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { maxBlockBytesEver, type ChainSpec } from '../../chain/spec/index.ts'
import { createNetwork, type Network, type NetworkLimitsInput, type PeerInfo } from '../../net/index.ts'
import type { HeaderSource } from './header-source.ts'
import { P2pHeaderSource } from './p2p-source.ts'

export interface LightPeersOptions {
  spec: ChainSpec
  genesisHash: Uint8Array
  /** The chain id in force at a height, when the fork schedule changes it. */
  chainIdAt?: (height: bigint) => bigint
  /** Full nodes' multiaddrs, preferably with /p2p/<peer id>. */
  bootnodes: string[]
  /** Listen on 127.0.0.1 at this port (0: any); none: dial only. */
  p2pPort?: number
  /** The node key and the peers met are kept in <datadir>/p2p; none: a temporary identity. */
  datadir?: string
  log: Logger
}

/** Full nodes followed at most: each is asked for headers every round. */
const MAX_PEERS = 16
const TARGET_PEERS = 8

/** The light client's limits: few peers, and block answers as large as the spec's blocks (finality proofs come in envelopes). */
function lightLimits(spec: ChainSpec): NetworkLimitsInput {
  const block = Math.max(maxBlockBytesEver(spec) + 1024 * 1024, 16 * 1024 * 1024)
  return {
    maxPeers: MAX_PEERS,
    targetPeers: TARGET_PEERS,
    outboundPeers: TARGET_PEERS,
    // A peer still at the genesis becomes a source once a status tells a head: asked often.
    statusRefreshMs: 5_000,
    reqresp: { blocksByRange: { maxResponseBytes: block }, blocksByHash: { maxResponseBytes: block } },
  }
}

export class LightPeers {
  private readonly byPeer = new Map<string, P2pHeaderSource>()
  private readonly lists: HeaderSource[][] = []

  private constructor(
    readonly network: Network,
    private readonly tempDir: string | undefined,
    private readonly log: Logger,
  ) {
    // A peer at the genesis has no header to give (a light client like us): taken once it tells a head.
    const seen = (info: PeerInfo) => {
      if (info.status.headHeight > 0n) this.add(info.peerId)
    }
    network.on('peer:connected', seen)
    network.on('peer:status', seen)
    network.on('peer:disconnected', ({ peerId }) => this.remove(peerId))
  }

  /** Starts the host and dials the bootnodes; resolves when each has passed the handshake or failed. */
  static async start(o: LightPeersOptions): Promise<LightPeers> {
    if (o.bootnodes.length === 0) throw new Error('give at least one full node with --bootnodes <multiaddr>')
    const tempDir = o.datadir === undefined ? await mkdtemp(join(tmpdir(), 'catena-light-p2p-')) : undefined
    const log = o.log.child({ module: 'light-p2p' })
    let network: Network
    try {
      network = await createNetwork({
        datadir: o.datadir === undefined ? tempDir! : join(o.datadir, 'p2p'),
        listen: o.p2pPort === undefined ? [] : [`/ip4/127.0.0.1/tcp/${o.p2pPort}`],
        bootnodes: o.bootnodes,
        chainId: o.spec.chainId,
        ...(o.chainIdAt ? { chainIdAt: o.chainIdAt } : {}),
        genesisHash: o.genesisHash,
        // Nothing to serve: our head is the genesis, so no full node asks us for blocks.
        head: () => ({ height: 0n, hash: o.genesisHash }),
        limits: lightLimits(o.spec),
        logger: o.log,
      })
      await network.start()
    } catch (err) {
      if (tempDir) await rm(tempDir, { recursive: true, force: true })
      throw err
    }
    const peers = new LightPeers(network, tempDir, log)
    for (const p of network.peers()) if (p.status.headHeight > 0n) peers.add(p.peerId)
    const results = await Promise.allSettled(o.bootnodes.map((b) => network.connect(b)))
    results.forEach((r, i) => {
      if (r.status === 'rejected') log.warn({ bootnode: o.bootnodes[i], reason: (r.reason as Error).message }, `cannot reach bootnode ${o.bootnodes[i]} yet: ${(r.reason as Error).message}`)
    })
    return peers
  }

  /** The header sources of the peers connected now. */
  get sources(): P2pHeaderSource[] {
    return [...this.byPeer.values()]
  }

  /** Keeps `list` (the client's header sources) holding one source per connected peer from now on. */
  attach(list: HeaderSource[]): void {
    this.lists.push(list)
    for (const src of this.byPeer.values()) if (!list.includes(src)) list.push(src)
  }

  async stop(): Promise<void> {
    await this.network.stop()
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true })
  }

  private add(peerId: string): void {
    if (this.byPeer.has(peerId)) return
    const src = new P2pHeaderSource(this.network, peerId)
    this.byPeer.set(peerId, src)
    for (const list of this.lists) list.push(src)
    this.log.info({ peer: peerId }, `header source ${src.url} connected`)
  }

  private remove(peerId: string): void {
    const src = this.byPeer.get(peerId)
    if (!src) return
    this.byPeer.delete(peerId)
    // A sync round iterating the list meanwhile skips at most one source this round.
    for (const list of this.lists) {
      const i = list.indexOf(src)
      if (i >= 0) list.splice(i, 1)
    }
    this.log.info({ peer: peerId }, `header source ${src.url} disconnected`)
  }
}
