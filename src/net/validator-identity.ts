/**
 * Which connected peer is which validator, as the peers proved it: the 'validatorIdentity'
 * request/response protocol. Chains whose engine forwards txs to the coming leaders (PoH) need
 * it; a peer must not be able to pose as a leader to draw txs away from the real one (and drop
 * them, or front-run them).
 *
 * Design (pull, not push): every node asks each peer once it completed the status handshake;
 * a validator (a node with a validator key) answers with its signed claim (identity-claim.ts:
 * its address, signed over the chain and ITS OWN peer id), any other node answers "not a
 * validator". The asker verifies the claim against the peer id libp2p authenticated, so a claim
 * signed by another key, for another peer id or for another chain is refused and costs the peer
 * PENALTY.forgedIdentity (half a ban); a claim that does not decode costs PENALTY.malformed.
 * A node verifies only answers to its own questions (one signature recovery per connection),
 * so no peer can push verification work at it. The status handshake is left as it is: its
 * protocol id is shared across chains and versions on purpose, and a claim is a concern of
 * the chains that forward txs only.
 *
 * Bounds: one identity per peer (a later answer replaces nothing: a peer is asked again only
 * after it reconnects), at most MAX_IDENTITIES peers remembered (the oldest go first; only
 * connected peers are kept: an identity is dropped when its peer disconnects and re-checked on
 * reconnect), at most MAX_PEERS_PER_VALIDATOR peers used for one address (only the key's holder
 * can make several), one question in flight per peer, and a few retries for a peer that did
 * not answer (a validator registers its answer a moment after its network starts).
 * @module
 */
import type { Logger } from 'pino'
import { NetError, PENALTY } from './errors.ts'
import { IdentityClaimError, signIdentityClaim, verifyIdentityClaim, type ClaimContext } from './identity-claim.ts'
import type { Network, PeerInfo } from './network.ts'
import { RemoteError, invalidRequest, resourceUnavailable } from './reqresp.ts'

/** Peers whose identity is remembered at most (far above any peer limit: a backstop). */
export const MAX_IDENTITIES = 1024
/** Peers used for one validator address at most. */
export const MAX_PEERS_PER_VALIDATOR = 2
const ASK_TIMEOUT_MS = 5_000
/** A peer that gave no answer (not serving yet, timed out) is asked again after these delays. */
const RETRY_DELAYS_MS = [1_000, 2_000, 4_000]

export interface ValidatorIdentitiesOptions {
  /** The network, already built (it may be running). */
  network: Network
  /** The chain's (genesis) chain id and genesis hash: a claim is bound to them. */
  chainId: bigint
  genesisHash: Uint8Array
  /** This node's validator key: with it, the node proves its identity to peers that ask. */
  privateKey?: Uint8Array
  log: Logger
  /** Delays of the retries after a peer gave no answer, in ms (tests shorten them). */
  retryDelaysMs?: number[]
}

export class ValidatorIdentities {
  /** Proven validator address per connected peer, oldest first. */
  private readonly byPeer = new Map<string, Uint8Array>()
  private readonly asking = new Set<string>()
  private readonly retries = new Map<string, NodeJS.Timeout>()
  private claim: Uint8Array | undefined
  private running = false
  private readonly onConnected = (info: PeerInfo) => this.ask(info.peerId, 0)
  private readonly onDisconnected = ({ peerId }: { peerId: string }) => this.forget(peerId)

  constructor(private readonly o: ValidatorIdentitiesOptions) {}

  /** Serves our claim (validators) and starts asking connected peers for theirs. */
  async start(): Promise<void> {
    const { network } = this.o
    if (this.o.privateKey) this.claim = signIdentityClaim(this.o.privateKey, this.context(network.peerId))
    await network.handle('validatorIdentity', (request) => {
      if (request.length !== 0) throw invalidRequest('a validatorIdentity request carries no payload')
      if (this.claim === undefined) throw resourceUnavailable('this node is not a validator')
      return this.claim
    })
    this.running = true
    network.on('peer:connected', this.onConnected)
    network.on('peer:disconnected', this.onDisconnected)
    for (const peer of network.peers()) void this.ask(peer.peerId, 0)
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.o.network.off('peer:connected', this.onConnected)
    this.o.network.off('peer:disconnected', this.onDisconnected)
    for (const timer of this.retries.values()) clearTimeout(timer)
    this.retries.clear()
    this.byPeer.clear()
    await this.o.network.unhandle('validatorIdentity')
  }

  /** The validator address `peer` proved, if any. */
  addressOf(peer: string): Uint8Array | undefined {
    return this.byPeer.get(peer)
  }

  /** Connected peers that proved they run `address` (at most MAX_PEERS_PER_VALIDATOR). */
  peersOf(address: Uint8Array): string[] {
    const out: string[] = []
    for (const [peer, a] of this.byPeer) {
      if (out.length >= MAX_PEERS_PER_VALIDATOR) break
      if (Buffer.from(a).equals(Buffer.from(address))) out.push(peer)
    }
    return out
  }

  /** How many peers proved an identity. */
  get size(): number {
    return this.byPeer.size
  }

  private context(peerId: string): ClaimContext {
    return { chainId: this.o.chainId, genesisHash: this.o.genesisHash, peerId }
  }

  private connected(peer: string): boolean {
    return this.o.network.peer(peer) !== undefined
  }

  private async ask(peer: string, attempt: number): Promise<void> {
    this.retries.delete(peer)
    if (!this.running || this.asking.has(peer) || this.byPeer.has(peer)) return
    const { network, log } = this.o
    this.asking.add(peer)
    try {
      const answer = await network.request(peer, 'validatorIdentity', new Uint8Array(0), { timeoutMs: ASK_TIMEOUT_MS })
      const address = verifyIdentityClaim(answer, this.context(peer))
      if (!this.running || !this.connected(peer)) return
      this.remember(peer, address)
      log.debug({ peer, validator: `0x${Buffer.from(address).toString('hex')}` }, 'peer proved its validator identity')
    } catch (err) {
      if (err instanceof IdentityClaimError) {
        const points = err.code === 'FORGED' ? PENALTY.forgedIdentity : PENALTY.malformed
        log.info({ peer, reason: err.message }, 'validator identity claim refused')
        network.penalize(peer, `validator identity: ${err.message}`, points)
        return
      }
      // "Not a validator", or an answer the peer's own rules refused: nothing to ask again.
      if (err instanceof RemoteError) return
      log.debug({ peer, attempt, reason: (err as Error).message }, 'validator identity not answered')
      const delays = this.o.retryDelaysMs ?? RETRY_DELAYS_MS
      if (attempt < delays.length && this.running && this.connected(peer) && !(err instanceof NetError && err.code === 'NOT_STARTED')) {
        const timer = setTimeout(() => void this.ask(peer, attempt + 1), delays[attempt])
        timer.unref()
        this.retries.set(peer, timer)
      }
    } finally {
      this.asking.delete(peer)
    }
  }

  private remember(peer: string, address: Uint8Array): void {
    this.byPeer.delete(peer)
    this.byPeer.set(peer, address)
    if (this.byPeer.size > MAX_IDENTITIES) this.byPeer.delete(this.byPeer.keys().next().value!)
  }

  private forget(peer: string): void {
    this.byPeer.delete(peer)
    clearTimeout(this.retries.get(peer))
    this.retries.delete(peer)
  }
}
