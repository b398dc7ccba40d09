/**
 * The libp2p host: TCP, Noise encryption, Yamux multiplexing, identify and gossipsub, with
 * Catena's connection gater. Built here and nowhere else, so the rest of the folder (and the
 * lab's adversaries) get the same transport stack. The host is returned stopped.
 * @module
 */
import './polyfill.ts'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { NetError } from './errors.ts'
import { gossipMessageId } from './message-id.ts'

export interface HostServices extends Record<string, unknown> {
  identify: Identify
  pubsub: GossipSub
}

export type CatenaLibp2p = Libp2p<HostServices>

export interface HostOptions {
  privateKey: PrivateKey
  /** Multiaddrs to listen on, e.g. ['/ip4/0.0.0.0/tcp/30333']; port 0 picks a free one. */
  listen: string[]
  /** Addresses to tell peers instead of the listen addresses (behind NAT). */
  announce?: string[]
  gater: ConnectionGater
  /** Connections at which libp2p starts pruning. */
  maxConnections: number
  /** New inbound connections accepted per second from one host. */
  inboundConnectionsPerSecond: number
  /** Gossipsub topics this host takes part in; others are ignored. */
  topics: string[]
  /** Largest gossipsub RPC frame accepted, in bytes. */
  maxGossipFrameBytes: number
  /** Advertised through identify, e.g. 'catena/0.1.0'. */
  userAgent: string
}

/** Parses multiaddr strings, naming the option on error. */
export function parseMultiaddrs(addrs: readonly string[], option: string): ReturnType<typeof multiaddr>[] {
  return addrs.map((a) => {
    try {
      return multiaddr(a)
    } catch (err) {
      throw new NetError('BAD_CONFIG', `${option}: "${a}" is not a valid multiaddr (${(err as Error).message})`)
    }
  })
}

export async function createHost(opts: HostOptions): Promise<CatenaLibp2p> {
  parseMultiaddrs(opts.listen, 'listen')
  parseMultiaddrs(opts.announce ?? [], 'announce')
  return createLibp2p<HostServices>({
    start: false,
    privateKey: opts.privateKey,
    nodeInfo: { userAgent: opts.userAgent },
    addresses: { listen: opts.listen, ...(opts.announce !== undefined ? { announce: opts.announce } : {}) },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: opts.gater,
    connectionManager: {
      maxConnections: opts.maxConnections,
      inboundConnectionThreshold: opts.inboundConnectionsPerSecond,
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        // Catena's payloads (txs, blocks, votes) carry their own signatures: libp2p-level
        // signing would only add a signature per message. Message ids are hashes of the data
        // (a block's: of its header, see message-id.ts).
        globalSignaturePolicy: 'StrictNoSign',
        msgIdFn: (msg) => gossipMessageId(msg.topic, msg.data),
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        allowedTopics: opts.topics,
        maxInboundDataLength: opts.maxGossipFrameBytes,
        // The library's mesh (D 6, Dlo 4, Dhi 12) and gossipsub v1.2 IDONTWANT (sent for messages
        // of 512 bytes and more) stay as they are: bench/gossip-dupes.ts measured them. Among 4
        // hosts every one meshes with the other 3 whatever D is, and each message arrives 3 times;
        // IDONTWANT cuts copies of large messages when validation takes a millisecond or more, and
        // below 512 bytes it would only replace a copy with a frame of its own.
      }),
    },
  })
}
