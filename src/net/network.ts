/**
 * The network: one libp2p host per node, with the status handshake, request/response
 * protocols, gossip topics, peer scoring and bans, bootnode dialing and (for permissioned
 * chains) an allowlist of peer ids. Other layers see peers as peer-id strings and messages as
 * bytes: sync registers request handlers and subscribes to topics; node/ wires it.
 *
 * Events: 'peer:connected' (PeerInfo, after a valid status), 'peer:status' (PeerInfo, newer
 * status), 'peer:disconnected' ({ peerId }, only for peers reported connected), 'peer:banned'
 * (BanEntry: for bad data, by hand, and for wrongChainBanMs when a peer is on another chain).
 *
 * Requests and gossip from a connected peer are served before its handshake completes: the
 * chain tag in their protocol ids already keeps other chains out, and waiting would race
 * with the peer's own view of the handshake.
 * @module
 */
import './polyfill.ts'
import { EventEmitter } from 'node:events'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import { NetError } from './errors.ts'
import { chooseAnchors, takeAnchors, writeAnchors } from './anchors.ts'
import { countGroups, dialsWanted } from './dial-policy.ts'
import { connView, createConnectionGater, ipOf } from './gater.ts'
import { Dialer, parseBootnodes, type KnownPeer } from './dialer.ts'
import { Discovery } from './discovery.ts'
import { Gossip, type GossipValidator } from './gossip.ts'
import { Handshake } from './handshake.ts'
import { createHost, parseMultiaddrs, type CatenaLibp2p } from './host.ts'
import { resolveLimits, type NetworkLimits, type NetworkLimitsInput } from './limits.ts'
import { loadOrCreateNodeKey } from './node-key.ts'
import { PeerScores, type BanEntry, type PenaltyOutcome } from './peers.ts'
import { netGroup } from './netgroup.ts'
import { dialableAddrs, PeerStore, storedPeerGroup } from './peer-store.ts'
import {
  chainTag,
  GOSSIP_TOPICS,
  NETWORK_PROTOCOLS,
  topicId,
  type GossipTopic,
  type ReqRespProtocol,
  type ServedProtocol,
} from './protocols.ts'
import { ReqResp, type RequestHandler, type RequestOptions } from './reqresp.ts'
import type { ChainStatus } from './status.ts'

export const USER_AGENT = 'catena/0.1.0'
/**
 * Connections libp2p allows above maxPeers before it prunes (or refuses inbound ones itself):
 * room for an evicting newcomer and dials in flight, so the gater's rules (conn-policy.ts),
 * not libp2p's oldest-first refusal, decide who holds the slots.
 */
export const CONNECTION_HEADROOM = 8

export interface NetworkOptions {
  /** Holds node.key (the persistent identity) and peers.json (peers met before, see peer-store.ts). */
  datadir: string
  /** Multiaddrs to listen on, e.g. ['/ip4/0.0.0.0/tcp/30333'] or ['/ip4/127.0.0.1/tcp/0']. */
  listen: string[]
  /** Addresses announced to peers instead of the listen addresses (behind NAT). */
  announce?: string[]
  /** Multiaddrs to dial and keep dialing, preferably with /p2p/<peer id>. */
  bootnodes: string[]
  /** The genesis chain id. */
  chainId: bigint
  /** The chain id in force at a height, when a fork changes it (see chainMismatch). */
  chainIdAt?(height: bigint): bigint
  genesisHash: Uint8Array
  /** Our head (and its chain's total work, sent as a claim peers check), read at each status exchange. */
  head(): { height: bigint; hash: Uint8Array; work?: bigint }
  /** Permissioned chains: the only peer ids this node connects to or accepts. */
  allowlist?: string[]
  /** A live allowlist, asked at every connection (a permissioned chain's on-chain node list); see enforceAllowlist. */
  isAllowed?: (peerId: string) => boolean
  limits?: NetworkLimitsInput
  logger: Logger
}

export interface PeerInfo {
  peerId: string
  /** The peer's last status. */
  status: ChainStatus
  /** Who dialed: 'outbound' when we did. */
  direction: 'inbound' | 'outbound'
  remoteAddr: string
  /** Unix ms of the handshake. */
  connectedAt: number
  /** Current penalty points (banned at the threshold). */
  penalty: number
}

export interface NetworkEvents {
  'peer:connected': [PeerInfo]
  'peer:status': [PeerInfo]
  'peer:disconnected': [{ peerId: string }]
  'peer:banned': [BanEntry]
}

/** Parses a peer id string; NetError BAD_PEER_ID otherwise. */
export function parsePeerId(peer: string): PeerId {
  try {
    return peerIdFromString(peer)
  } catch {
    throw new NetError('BAD_PEER_ID', `"${peer}" is not a libp2p peer id`)
  }
}

/** Builds the network (not started): loads or creates the node key, checks every option. */
export async function createNetwork(opts: NetworkOptions): Promise<Network> {
  const resolved = resolveLimits(opts.limits)
  // A permissioned network's allowlist already keeps Sybils out, and its members often share a
  // cloud provider's /16: address-group limits would only cut them off from each other.
  const permissioned = opts.allowlist !== undefined || opts.isAllowed !== undefined
  const limits = permissioned ? { ...resolved, maxInboundPerGroup: 0, maxOutboundPerGroup: 0, maxStoredPerGroup: 0 } : resolved
  const tag = chainTag(opts.genesisHash)
  parseMultiaddrs(opts.listen, 'listen')
  const bootnodes = parseBootnodes(opts.bootnodes)
  const allowlist = opts.allowlist === undefined ? undefined : new Set(opts.allowlist.map((p) => parsePeerId(p).toString()))
  const log = opts.logger.child({ module: 'net' })
  const nodeKey = await loadOrCreateNodeKey(opts.datadir)
  if (nodeKey.created) log.info({ path: nodeKey.path }, 'created a new node key')
  if (nodeKey.looseMode !== undefined) {
    log.warn({ path: nodeKey.path, mode: nodeKey.looseMode.toString(8) }, 'node key is readable by other users: chmod 600 it')
  }
  const scores = new PeerScores({ banThreshold: limits.banThreshold, banMs: limits.banMs, decayPerMinute: limits.scoreDecayPerMinute })
  let host: CatenaLibp2p | undefined
  const gater = createConnectionGater({ scores, allowlist, ...(opts.isAllowed ? { isAllowed: opts.isAllowed } : {}), limits, connections: () => host?.getConnections() ?? [], log })
  host = await createHost({
    privateKey: nodeKey.key,
    listen: opts.listen,
    ...(opts.announce !== undefined ? { announce: opts.announce } : {}),
    gater,
    maxConnections: limits.maxPeers + CONNECTION_HEADROOM,
    inboundConnectionsPerSecond: limits.inboundConnectionsPerSecond,
    topics: GOSSIP_TOPICS.map((t) => topicId(tag, t)),
    // js-gossipsub answers IWANT with several messages in one frame (it does not split them):
    // room for two of the largest plus control traffic.
    maxGossipFrameBytes: 2 * Math.max(...Object.values(limits.topics)) + 1024 * 1024,
    userAgent: USER_AGENT,
  })
  const peerStore = await PeerStore.load({ datadir: opts.datadir, libp2p: host, maxPerGroup: limits.maxStoredPerGroup, protectDialed: limits.preferDialedPeers, log })
  const anchors = limits.anchorPeers > 0 ? await takeAnchors(opts.datadir, limits.anchorPeers, log) : []
  if (anchors.length > 0) log.info({ anchors: anchors.length }, 'dialing the anchor peers of the last run first')
  const network = new Network(host, opts, limits, tag, scores, bootnodes, log, peerStore, anchors)
  await network.init()
  return network
}

function netGroupOf(addr: Parameters<typeof ipOf>[0]): string | undefined {
  const ip = ipOf(addr)
  return ip === undefined ? undefined : netGroup(ip)
}

export class Network extends EventEmitter<NetworkEvents> {
  /** This node's peer id (stable across restarts: see node-key.ts). */
  readonly peerId: string
  private readonly reqresp: ReqResp
  private readonly gossip: Gossip
  private readonly handshake: Handshake
  private readonly dialer: Dialer
  private readonly discovery: Discovery
  private discoveryTimer: NodeJS.Timeout | undefined
  private readonly connectedAt = new Map<string, number>()
  private refreshTimer: NodeJS.Timeout | undefined
  private running = false

  /** @internal use createNetwork */
  constructor(
    /** The libp2p host, for tools and tests that need the raw transport. */
    readonly libp2p: CatenaLibp2p,
    private readonly opts: NetworkOptions,
    readonly limits: Readonly<NetworkLimits>,
    /** Chain tag inside protocol ids and topics. */
    readonly chainTag: string,
    private readonly scores: PeerScores,
    bootnodes: ReturnType<typeof parseBootnodes>,
    private readonly log: Logger,
    /** Peers met before, kept in the datadir and dialed beside the bootnodes (see peer-store.ts). */
    private readonly peerStore: PeerStore,
    /** Outbound peers held at the last shutdown, dialed first (see anchors.ts). */
    anchors: readonly KnownPeer[] = [],
  ) {
    super()
    this.peerId = libp2p.peerId.toString()
    const penalize = (peer: string, points: number, reason: string) => void this.penalize(peer, reason, points)
    this.reqresp = new ReqResp({ libp2p, tag: chainTag, limits: limits.reqresp, timeoutMs: limits.requestTimeoutMs, penalize, log })
    this.gossip = new Gossip({ libp2p, tag: chainTag, limits: limits.topics, penalize, log })
    this.handshake = new Handshake({
      libp2p,
      reqresp: this.reqresp,
      ours: () => this.ourStatus(),
      ...(opts.chainIdAt ? { chainIdAt: opts.chainIdAt } : {}),
      timeoutMs: limits.statusTimeoutMs,
      penalize,
      log,
      events: {
        ready: (peer) => this.onReady(peer),
        updated: (peer) => {
          const info = this.peer(peer)
          if (info !== undefined) this.emit('peer:status', info)
        },
        // Banned so it is not redialed; the handshake hangs up a moment later, not at once.
        wrongChain: (peer, reason) => this.banned(this.scores.ban(peer, limits.wrongChainBanMs, `on another chain: ${reason}`), false),
      },
    })
    const outboundGroups = () => countGroups(this.outboundConnections().map((c) => netGroupOf(c.remoteAddr)))
    this.dialer = new Dialer({
      libp2p,
      bootnodes,
      known: () => peerStore.dialOrder(),
      wanted: () => {
        const outbound = new Set(this.outboundConnections().map((c) => c.remotePeer.toString())).size
        const connected = new Set(libp2p.getConnections().map((c) => c.remotePeer.toString())).size
        return dialsWanted({ targetPeers: limits.targetPeers, outboundPeers: limits.outboundPeers, connected, outbound })
      },
      isBanned: (peer) => scores.isBanned(peer),
      anchors,
      groupOf: storedPeerGroup,
      outboundGroups,
      maxOutboundPerGroup: limits.maxOutboundPerGroup,
      intervalMs: limits.redialMs,
      dialTimeoutMs: limits.dialTimeoutMs,
      log,
    })
    this.discovery = new Discovery({
      libp2p,
      reqresp: this.reqresp,
      readyPeers: () => this.peers().map((p) => p.peerId),
      isBanned: (peer) => scores.isBanned(peer),
      targetPeers: limits.targetPeers,
      groupOf: storedPeerGroup,
      outboundGroups,
      maxOutboundPerGroup: limits.maxOutboundPerGroup,
      timeoutMs: limits.statusTimeoutMs,
      dialTimeoutMs: limits.dialTimeoutMs,
      penalize,
      log,
    })
  }

  /** @internal */
  async init(): Promise<void> {
    await this.handshake.register()
    await this.discovery.register()
    this.libp2p.addEventListener('peer:connect', (evt) => this.handshake.onConnect(evt.detail.toString()))
    // Listen addresses often arrive (identify) after the handshake: remember them then.
    this.libp2p.addEventListener('peer:identify', (evt) => {
      const peer = evt.detail.peerId.toString()
      if (this.handshake.status(peer) !== undefined) void this.peerStore.seen(peer)
    })
    this.libp2p.addEventListener('peer:disconnect', (evt) => {
      const peer = evt.detail.toString()
      this.connectedAt.delete(peer)
      if (this.handshake.onDisconnect(peer)) {
        this.log.info({ peer }, 'peer disconnected')
        this.emit('peer:disconnected', { peerId: peer })
      }
    })
  }

  async start(): Promise<void> {
    if (this.running) return
    await this.libp2p.start()
    this.running = true
    this.log.info({ peerId: this.peerId, listen: this.multiaddrs(), chainTag: this.chainTag }, 'network started')
    this.dialer.start()
    if (this.limits.targetPeers > 0 && this.limits.redialMs > 0) {
      this.discoveryTimer = setInterval(() => this.discovery.discover(), this.limits.redialMs)
      this.discoveryTimer.unref()
    }
    if (this.limits.statusRefreshMs > 0) {
      this.refreshTimer = setInterval(() => this.refreshStatuses(), this.limits.statusRefreshMs)
      this.refreshTimer.unref()
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.dialer.stop()
    clearInterval(this.discoveryTimer)
    clearInterval(this.refreshTimer)
    await this.saveAnchors()
    await this.peerStore.flush()
    await this.libp2p.stop()
    this.log.info('network stopped')
  }

  get started(): boolean {
    return this.running
  }

  /** Addresses peers can dial, each ending in /p2p/<our peer id>. */
  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map(String)
  }

  /** Peers that completed the status handshake. */
  peers(): PeerInfo[] {
    const out = new Map<string, PeerInfo>()
    for (const conn of this.libp2p.getConnections()) {
      const id = conn.remotePeer.toString()
      if (out.has(id)) continue
      const info = this.peer(id)
      if (info !== undefined) out.set(id, info)
    }
    return [...out.values()]
  }

  peer(peerId: string): PeerInfo | undefined {
    const status = this.handshake.status(peerId)
    const conn = this.libp2p.getConnections(parsePeerId(peerId))[0]
    if (status === undefined || conn === undefined) return undefined
    return {
      peerId,
      status,
      direction: conn.direction,
      remoteAddr: conn.remoteAddr.toString(),
      connectedAt: this.connectedAt.get(peerId) ?? conn.timeline.open,
      penalty: this.scores.points(peerId),
    }
  }

  /**
   * Dials a multiaddr (an operator's addPeer) and resolves with the peer id once the status
   * handshake completed. Rejects with DIAL_FAILED when the dial fails or the peer hangs up
   * first (it banned us, we are not in its allowlist, or it follows another chain).
   */
  async connect(addr: string): Promise<string> {
    this.assertRunning()
    const [ma] = parseMultiaddrs([addr], 'address')
    let peer: string | undefined
    // A connection reset while dialing is often transient (a listener busy with other
    // handshakes on a loaded machine): one more try before giving up.
    for (let attempt = 0; peer === undefined; attempt++) {
      try {
        peer = await this.dialer.dial(ma!)
      } catch (err) {
        if (attempt === 0 && /ECONNRESET/.test((err as Error).message)) {
          await new Promise((r) => setTimeout(r, 200))
          continue
        }
        throw new NetError('DIAL_FAILED', `cannot connect to ${addr}: ${(err as Error).message}`)
      }
    }
    await this.handshake.waitReady(peer, this.limits.statusTimeoutMs * 2)
    return peer
  }

  /** Hangs up on connected peers that the live allowlist no longer admits (after an on-chain change). */
  async enforceAllowlist(isAllowed: (peerId: string) => boolean): Promise<string[]> {
    const dropped = [...new Set(this.libp2p.getConnections().map((c) => c.remotePeer.toString()))].filter((p) => !isAllowed(p))
    for (const peer of dropped) {
      this.log.info({ peer }, 'disconnecting a peer removed from the node allowlist')
      await this.libp2p.hangUp(parsePeerId(peer)).catch(() => undefined)
    }
    return dropped
  }

  async disconnect(peer: string): Promise<void> {
    await this.libp2p.hangUp(parsePeerId(peer))
  }

  /** Serves a request/response protocol; the sync and light-client layers register here. */
  async handle(protocol: ServedProtocol, handler: RequestHandler): Promise<void> {
    if (NETWORK_PROTOCOLS.includes(protocol)) throw new NetError('ALREADY_HANDLED', `the network answers ${protocol} requests itself`)
    await this.reqresp.handle(protocol, handler)
  }

  async unhandle(protocol: ServedProtocol): Promise<void> {
    if (NETWORK_PROTOCOLS.includes(protocol)) return
    await this.reqresp.unhandle(protocol)
  }

  /** Sends a request to a connected peer; resolves with the response payload. */
  async request(peer: string, protocol: ReqRespProtocol, payload: Uint8Array, opts: RequestOptions = {}): Promise<Uint8Array> {
    this.assertRunning()
    parsePeerId(peer)
    return this.reqresp.request(peer, protocol, payload, opts)
  }

  /** Asks a peer for its current status now (updates peers() and emits 'peer:status'). */
  async refreshStatus(peer: string): Promise<ChainStatus> {
    this.assertRunning()
    parsePeerId(peer)
    return this.handshake.exchange(peer)
  }

  /** Publishes to a topic; resolves with the number of peers it was sent to. */
  async publish(topic: GossipTopic, data: Uint8Array): Promise<number> {
    this.assertRunning()
    return this.gossip.publish(topic, data)
  }

  /** Subscribes to a topic with a validator that checks and takes each message; returns unsubscribe. */
  subscribe(topic: GossipTopic, validator: GossipValidator): () => void {
    return this.gossip.subscribe(topic, validator)
  }

  /** Peers subscribed to a topic (gossip reaches them). */
  topicPeers(topic: GossipTopic): string[] {
    return this.gossip.topicPeers(topic)
  }

  /** Adds penalty points; past the threshold the peer is banned and disconnected. */
  penalize(peer: string, reason: string, points: number): PenaltyOutcome {
    parsePeerId(peer)
    const outcome = this.scores.penalize(peer, points, reason)
    this.log.debug({ peer, points, total: outcome.points, reason }, 'peer penalized')
    if (outcome.ban !== undefined) this.banned(outcome.ban)
    return outcome
  }

  /** Bans a peer for `ms` and disconnects it; it cannot reconnect either way until the ban ends. */
  ban(peer: string, reason: string, ms: number = this.limits.banMs): BanEntry {
    parsePeerId(peer)
    const entry = this.scores.ban(peer, ms, reason)
    this.banned(entry)
    return entry
  }

  unban(peer: string): boolean {
    return this.scores.unban(peer)
  }

  isBanned(peer: string): boolean {
    return this.scores.isBanned(peer)
  }

  bans(): BanEntry[] {
    return this.scores.bans()
  }

  /** Current penalty points of any peer, connected or not. */
  penaltyOf(peer: string): number {
    return this.scores.points(peer)
  }

  /** Reports a ban and disconnects the peer (a wrong-chain peer was logged and is hung up by the handshake). */
  private banned(entry: BanEntry, misbehaved = true): void {
    const seconds = Math.round((entry.until - Date.now()) / 1000)
    const msg = `peer ${entry.peerId} banned for ${seconds} s: ${entry.reason}`
    this.log[misbehaved ? 'warn' : 'debug']({ peer: entry.peerId, reason: entry.reason, seconds }, msg)
    this.emit('peer:banned', entry)
    this.peerStore.forget(entry.peerId)
    if (misbehaved) void this.libp2p.hangUp(parsePeerId(entry.peerId)).catch(() => {})
  }

  private outboundConnections() {
    return this.libp2p.getConnections().filter((c) => c.direction === 'outbound')
  }

  /** Writes the outbound peers held longest (that passed the handshake) as the next start's anchors. */
  private async saveAnchors(): Promise<void> {
    if (this.limits.anchorPeers <= 0) return
    const ready = this.libp2p.getConnections().filter((c) => this.handshake.status(c.remotePeer.toString()) !== undefined)
    const picked = chooseAnchors(ready.map(connView), this.limits.anchorPeers)
    const anchors = picked.map((v) => ({ peerId: v.peerId, addrs: dialableAddrs([v.conn.remoteAddr]) })).filter((a) => a.addrs.length > 0)
    await writeAnchors(this.opts.datadir, anchors).catch((err: Error) => this.log.warn({ reason: err.message }, `cannot save the anchor peers: ${err.message}`))
  }

  private onReady(peer: string): void {
    this.connectedAt.set(peer, Date.now())
    const info = this.peer(peer)
    if (info === undefined) return
    void this.peerStore.seen(peer)
    this.log.info({ peer, direction: info.direction, height: info.status.headHeight.toString(), addr: info.remoteAddr }, 'peer connected')
    this.emit('peer:connected', info)
    // A new peer is the best source of more peers.
    this.discovery.discover(peer)
  }

  private ourStatus(): ChainStatus {
    const head = this.opts.head()
    const chainId = this.opts.chainIdAt ? this.opts.chainIdAt(head.height + 1n) : this.opts.chainId
    return { chainId, genesisHash: this.opts.genesisHash, headHeight: head.height, headHash: head.hash, ...(head.work === undefined ? {} : { totalWork: head.work }) }
  }

  private refreshStatuses(): void {
    for (const { peerId } of this.peers()) {
      this.handshake.exchange(peerId).catch((err: Error) => this.log.debug({ peer: peerId, reason: err.message }, 'status refresh failed'))
    }
  }

  private assertRunning(): void {
    if (!this.running) throw new NetError('NOT_STARTED', 'the network is not started')
  }
}
