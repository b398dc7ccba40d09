/**
 * The network as a BFT engine's ConsensusTransport: wired here, in node/, because consensus/
 * sits below net/ and must not know libp2p.
 * @module
 */
import type { Logger } from 'pino'
import type { ConsensusTransport } from '../consensus/bft-engine/transport.ts'
import { NetError, PENALTY } from '../net/errors.ts'
import type { Network } from '../net/index.ts'
import { PeerBudget } from '../net/peer-budget.ts'

/**
 * Consensus messages a peer may send that are dropped unchecked, before it pays: duplicates
 * (re-gossip), messages of other heights. A relay forwards only what it accepted, so what an
 * honest peer sends that is ignored here is its own re-gossip (3 messages every 2 s) and votes
 * that arrive after a height ended: a few a second. A flood runs dry in seconds.
 */
const IGNORED_BURST = 500
const IGNORED_PER_SECOND = 50

/**
 * The BFT engine's transport: the 'consensus' gossip topic for broadcasts (each send gets an
 * 8-byte sequence prefix: gossipsub refuses to publish the same bytes twice, and the engine
 * re-sends its own messages so peers that were away catch up), and the proposedBlock
 * request/response protocol for blocks by hash.
 */
export function gossipTransport(network: Network, log: Logger, maxInlineBlockBytes: number): ConsensusTransport {
  let seq = BigInt(Date.now()) << 16n
  const ignored = new PeerBudget({ burst: IGNORED_BURST, perSecond: IGNORED_PER_SECOND, now: Date.now })
  return {
    maxInlineBlockBytes,
    broadcast(bytes) {
      const framed = new Uint8Array(8 + bytes.length)
      new DataView(framed.buffer).setBigUint64(0, seq++)
      framed.set(bytes, 8)
      network.publish('consensus', framed).catch((err) => log.debug({ err: (err as Error).message }, 'consensus gossip not sent'))
    },
    onMessage(handler) {
      // The engine's verdict decides: 'accept' relays, 'reject' drops and costs the sender score;
      // what it drops unchecked ('ignore') is cheap, but not free: a peer that keeps sending it pays.
      return network.subscribe('consensus', (data, from) => {
        const verdict = data.length < 8 ? 'reject' : handler(data.subarray(8), from)
        if (verdict === 'ignore') {
          ignored.spend(from, 1)
          if (ignored.available(from) < 1) network.penalize(from, 'floods the consensus topic with messages nobody can use', PENALTY.uselessFlood)
        }
        return verdict
      })
    },
    async fetchBlock(hash) {
      // Ask a few peers, in random order, one at a time.
      const peers = network.peers().map((p) => p.peerId).sort(() => Math.random() - 0.5).slice(0, 3)
      for (const peer of peers) {
        try {
          const bytes = await network.request(peer, 'proposedBlock', hash, { timeoutMs: 3000 })
          if (bytes.length > 0) return { bytes, from: peer }
        } catch (err) {
          log.debug({ peer, err: (err as Error).message }, 'proposed block not fetched')
        }
      }
      return undefined
    },
    serveBlocks(handler) {
      void network.handle('proposedBlock', (request) => {
        if (request.length !== 32) throw new NetError('INVALID_REQUEST', 'a proposed block is asked for by its 32-byte hash', PENALTY.invalidRequest)
        return handler(request) ?? new Uint8Array(0)
      })
      return () => void network.unhandle('proposedBlock')
    },
    penalize(peer, points, reason) {
      network.penalize(peer, reason, points)
    },
  }
}
