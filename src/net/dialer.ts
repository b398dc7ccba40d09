/**
 * Keeps this node connected to its bootnodes: dials each one at start and again on an
 * interval while it is not connected (a bootnode that restarts, or a partition that heals,
 * is picked up without operator action). Banned bootnodes are left alone until the ban ends.
 * @module
 */
import './polyfill.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { NetError } from './errors.ts'
import { parseMultiaddrs, type CatenaLibp2p } from './host.ts'

export interface Bootnode {
  addr: Multiaddr
  /** The /p2p/<id> part, when the address has one (recommended: the dial then proves the identity). */
  peerId?: string
}

export function parseBootnodes(list: readonly string[]): Bootnode[] {
  return parseMultiaddrs(list, 'bootnodes').map((addr) => {
    const id = addr.getComponents().find((c) => c.name === 'p2p')?.value
    if (id === undefined) return { addr }
    try {
      peerIdFromString(id)
    } catch {
      throw new NetError('BAD_CONFIG', `bootnodes: "${addr.toString()}" has an invalid peer id`)
    }
    return { addr, peerId: id }
  })
}

export interface DialerOptions {
  libp2p: CatenaLibp2p
  bootnodes: Bootnode[]
  isBanned(peer: string): boolean
  intervalMs: number
  dialTimeoutMs: number
  log: Logger
}

export class Dialer {
  private timer: NodeJS.Timeout | undefined
  private readonly dialing = new Set<string>()
  /** Bootnodes whose last dial failed (warned once, then quiet until they come back). */
  private readonly failing = new Set<string>()

  constructor(private readonly opts: DialerOptions) {}

  start(): void {
    this.tick()
    if (this.opts.intervalMs > 0 && this.opts.bootnodes.length > 0) {
      this.timer = setInterval(() => this.tick(), this.opts.intervalMs)
      this.timer.unref()
    }
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Dials an address; resolves with the remote peer id once connected. */
  async dial(addr: Multiaddr): Promise<string> {
    const conn = await this.opts.libp2p.dial(addr, { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) })
    return conn.remotePeer.toString()
  }

  private tick(): void {
    const { libp2p } = this.opts
    const self = libp2p.peerId.toString()
    for (const b of this.opts.bootnodes) {
      const key = b.addr.toString()
      if (b.peerId === self || this.dialing.has(key)) continue
      if (b.peerId !== undefined && (this.opts.isBanned(b.peerId) || libp2p.getConnections(peerIdFromString(b.peerId)).length > 0)) continue
      if (b.peerId === undefined && libp2p.getConnections().some((c) => c.remoteAddr.equals(b.addr))) continue
      this.dialing.add(key)
      this.dial(b.addr)
        .then((peer) => {
          if (this.failing.delete(key)) this.opts.log.info({ bootnode: key, peer }, 'bootnode reachable again')
        })
        .catch((err: Error) => {
          const first = !this.failing.has(key)
          this.failing.add(key)
          this.opts.log[first ? 'warn' : 'debug']({ bootnode: key, reason: err.message }, `cannot reach bootnode ${key}: ${err.message}`)
        })
        .finally(() => this.dialing.delete(key))
    }
  }
}
