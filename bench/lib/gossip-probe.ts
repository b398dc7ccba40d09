/**
 * What js-gossipsub's GossipSub class has beyond its public interface, for probes that count
 * what a host receives: its options as in force, its mesh, and the handler every decoded RPC
 * frame goes through (duplicates included, before the seen cache drops them).
 */
import type { GossipsubOpts } from '@libp2p/gossipsub'
import type { RPC } from '@libp2p/gossipsub/message'
import type { PeerId } from '@libp2p/interface'
import type { Network } from '../../src/net/index.ts'

export interface GossipsubInternals {
  readonly opts: GossipsubOpts
  getMeshPeers(topic: string): string[]
  handleReceivedRpc(from: PeerId, rpc: RPC): Promise<void>
}

export function gossipsubOf(net: Network): GossipsubInternals {
  return net.libp2p.services.pubsub as unknown as GossipsubInternals
}

/** Calls `onRpc` with every RPC frame `net` decodes, before gossipsub handles it. */
export function probeRpcs(net: Network, onRpc: (from: PeerId, rpc: RPC) => void): void {
  const pubsub = gossipsubOf(net)
  const handle = pubsub.handleReceivedRpc.bind(pubsub)
  pubsub.handleReceivedRpc = (from, rpc) => {
    onRpc(from, rpc)
    return handle(from, rpc)
  }
}
