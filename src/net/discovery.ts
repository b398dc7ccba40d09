/**
 * Peer exchange, so a node that knows one bootnode ends up in a mesh rather than a star
 * (Bitcoin's addr/getaddr, in request/response form). A node asks a peer that passed the
 * status handshake for other such peers and their listen addresses (as identify reported
 * them), and dials some while it has fewer than `targetPeers`. Only peers of our chain are
 * shared; loopback addresses only with peers on the same machine. A malformed answer costs
 * the peer score; the gater still applies bans and the allowlist to every dial.
 * @module
 */
import './polyfill.ts'
import { RLP } from '@ethereumjs/rlp'
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { chooseDials } from './dial-policy.ts'
import { NetError, PENALTY } from './errors.ts'
import { ipOf } from './gater.ts'
import type { CatenaLibp2p } from './host.ts'
import type { ReqResp } from './reqresp.ts'

/** Peers per answer, and addresses per peer. */
export const MAX_SHARED_PEERS = 16
export const MAX_ADDRS_PER_PEER = 8

export interface SharedPeer {
  peerId: string
  addrs: Multiaddr[]
}

function isLoopback(addr: Multiaddr): boolean {
  const ip = ipOf(addr)
  return ip !== undefined && (ip.startsWith('127.') || ip === '::1')
}

export function encodePeers(peers: SharedPeer[]): Uint8Array {
  return RLP.encode(peers.map((p) => [new TextEncoder().encode(p.peerId), p.addrs.map((a) => a.bytes)]))
}

/** Decodes an answer; NetError MALFORMED (with the penalty) for anything but a well-formed list. */
export function decodePeers(bytes: Uint8Array): SharedPeer[] {
  const malformed = (detail: string) => new NetError('MALFORMED', `malformed peers answer: ${detail}`, PENALTY.malformed)
  let list: unknown
  try {
    list = RLP.decode(bytes)
  } catch (err) {
    throw malformed(`not RLP (${(err as Error).message})`)
  }
  if (!Array.isArray(list) || list.length > MAX_SHARED_PEERS) throw malformed(`expected a list of at most ${MAX_SHARED_PEERS} peers`)
  return list.map((entry: unknown) => {
    if (!Array.isArray(entry) || entry.length !== 2 || !(entry[0] instanceof Uint8Array) || !Array.isArray(entry[1])) {
      throw malformed('expected [peer id, [addresses]] entries')
    }
    if (entry[1].length > MAX_ADDRS_PER_PEER) throw malformed(`more than ${MAX_ADDRS_PER_PEER} addresses for a peer`)
    let peerId: string
    let addrs: Multiaddr[]
    try {
      peerId = peerIdFromString(new TextDecoder('utf-8', { fatal: true }).decode(entry[0])).toString()
      addrs = entry[1].map((a: unknown) => {
        if (!(a instanceof Uint8Array)) throw new Error('address is not a byte string')
        return multiaddr(a)
      })
    } catch (err) {
      throw malformed((err as Error).message)
    }
    return { peerId, addrs }
  })
}

export interface DiscoveryOptions {
  libp2p: CatenaLibp2p
  reqresp: ReqResp
  /** Peers that passed the status handshake. */
  readyPeers(): string[]
  isBanned(peer: string): boolean
  targetPeers: number
  /** The address group of a shared peer, our outbound connections per group, and the cap (see dial-policy.ts). */
  groupOf?(p: { peerId: string; addrs: readonly string[] }): string | undefined
  outboundGroups?(): ReadonlyMap<string, number>
  maxOutboundPerGroup?: number
  timeoutMs: number
  dialTimeoutMs: number
  penalize(peer: string, points: number, reason: string): void
  log: Logger
}

export class Discovery {
  private asking = false
  private next = 0
  private readonly dialing = new Set<string>()

  constructor(private readonly opts: DiscoveryOptions) {}

  async register(): Promise<void> {
    await this.opts.reqresp.handle('peers', (_req, peer) => this.answer(peer))
  }

  private async answer(requester: string): Promise<Uint8Array> {
    const { libp2p } = this.opts
    const toLoopback = libp2p.getConnections(peerIdFromString(requester)).some((c: Connection) => isLoopback(c.remoteAddr))
    const out: SharedPeer[] = []
    for (const id of this.opts.readyPeers()) {
      if (out.length >= MAX_SHARED_PEERS) break
      if (id === requester) continue
      const known = await libp2p.peerStore.get(peerIdFromString(id)).catch(() => undefined)
      if (known === undefined) continue
      // Prefer the addresses the peer signed (identify's peer record).
      const certified = known.addresses.filter((a) => a.isCertified)
      const addrs = (certified.length > 0 ? certified : known.addresses)
        .map((a) => a.multiaddr)
        .filter((a) => toLoopback || !isLoopback(a))
        .slice(0, MAX_ADDRS_PER_PEER)
      if (addrs.length > 0) out.push({ peerId: id, addrs })
    }
    return encodePeers(out)
  }

  /** Below the target, asks `peer` (or the next ready peer in turn) for more peers and dials some. */
  discover(peer?: string): void {
    if (this.opts.targetPeers === 0 || this.asking || this.deficit() <= 0) return
    const ready = this.opts.readyPeers()
    const from = peer ?? ready[this.next++ % Math.max(1, ready.length)]
    if (from === undefined) return
    this.asking = true
    this.ask(from)
      .catch((err: Error) => this.opts.log.debug({ peer: from, reason: err.message }, 'peer exchange failed'))
      .finally(() => (this.asking = false))
  }

  private deficit(): number {
    const connected = new Set(this.opts.libp2p.getConnections().map((c) => c.remotePeer.toString()))
    return this.opts.targetPeers - connected.size - this.dialing.size
  }

  private async ask(from: string): Promise<void> {
    const answer = await this.opts.reqresp.request(from, 'peers', new Uint8Array(), { timeoutMs: this.opts.timeoutMs })
    let shared: SharedPeer[]
    try {
      shared = decodePeers(answer)
    } catch (err) {
      if (err instanceof NetError) this.opts.penalize(from, err.penalty, err.message)
      throw err
    }
    const { libp2p } = this.opts
    const self = libp2p.peerId.toString()
    const candidates = shared.map((p) => ({ peerId: p.peerId, addrs: p.addrs.map(String), multiaddrs: p.addrs }))
    const picks = chooseDials(candidates, this.deficit(), {
      skip: (peer) => {
        const id: PeerId = peerIdFromString(peer)
        return peer === self || this.dialing.has(peer) || this.opts.isBanned(peer) || libp2p.getConnections(id).length > 0
      },
      groupOf: (p) => this.opts.groupOf?.(p),
      outboundGroups: this.opts.outboundGroups?.() ?? new Map(),
      maxOutboundPerGroup: this.opts.maxOutboundPerGroup ?? 0,
    })
    for (const { multiaddrs, ...p } of picks) {
      this.dialing.add(p.peerId)
      libp2p
        .dial(
          multiaddrs.map((a) => (a.getComponents().some((c) => c.name === 'p2p') ? a : a.encapsulate(`/p2p/${p.peerId}`))),
          { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) },
        )
        .then(() => this.opts.log.debug({ peer: p.peerId, via: from }, 'dialed a peer learned by exchange'))
        .catch((err: Error) => this.opts.log.debug({ peer: p.peerId, reason: err.message }, 'could not dial a shared peer'))
        .finally(() => this.dialing.delete(p.peerId))
    }
  }
}
