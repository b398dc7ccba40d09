/**
 * How BFT engines talk. One broadcast channel (the node's 'consensus' gossip topic) carries
 * signed consensus messages, proposals with the block they name, and double-vote evidence;
 * every message is verified before the handler's verdict lets the network relay it. Blocks
 * are fetched by hash over request/response (a missed or evicted proposal body, a re-proposed
 * one), never asked for by broadcast. Decided blocks reach lagging nodes through block sync,
 * each with its commit certificate.
 * `MemoryNetwork` connects engines in one process for tests.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'

/**
 * A handler's verdict on a broadcast message: 'accept' relays it on, 'ignore' drops it
 * quietly (duplicate, stale, not checkable yet), 'reject' drops it and costs the peer that
 * sent it score.
 */
export type TransportVerdict = 'accept' | 'ignore' | 'reject'

export interface ConsensusTransport {
  /** Send to every peer (best effort). */
  broadcast(bytes: Uint8Array): void
  /** The largest block worth attaching to a broadcast proposal; bigger ones are fetched by hash. */
  readonly maxInlineBlockBytes: number
  /** Subscribe; returns an unsubscribe function. `from` identifies the peer that handed us the message. */
  onMessage(handler: (bytes: Uint8Array, from: string) => TransportVerdict): () => void
  /**
   * Asks peers for a proposed block by hash (request/response), trying a few; resolves with
   * the first answer and who gave it, or undefined when none had it.
   */
  fetchBlock(hash: Uint8Array): Promise<{ bytes: Uint8Array; from: string } | undefined>
  /** Answers peers' fetchBlock requests (undefined: not held here); returns an unsubscribe function. */
  serveBlocks(handler: (hash: Uint8Array) => Uint8Array | undefined): () => void
  /** Costs a peer score for something provably wrong it sent outside gossip (a fetched block that is not the one asked for). */
  penalize(peer: string, points: number, reason: string): void
}

export type EngineMessage =
  /** A signed vote, or a signed proposal without its block (re-gossip: peers fetch the block by hash). */
  | { kind: 'consensus'; message: Uint8Array }
  /** A signed proposal and the block it names (chain/block.ts encodeBlockEnvelope, no proof). */
  | { kind: 'proposal'; message: Uint8Array; block: Uint8Array }
  /** Signed evidence of a double vote (consensus/bft/evidence.ts encodeEvidence), for inclusion in a block. */
  | { kind: 'evidence'; evidence: Uint8Array }

export class EngineMessageError extends Error {
  readonly code = 'MALFORMED_MESSAGE'
}

const KINDS = ['consensus', 'proposal', 'evidence'] as const

export function encodeEngineMessage(m: EngineMessage): Uint8Array {
  const kind = Uint8Array.of(KINDS.indexOf(m.kind) + 1)
  switch (m.kind) {
    case 'consensus':
      return RLP.encode([kind, m.message])
    case 'proposal':
      return RLP.encode([kind, m.message, m.block])
    case 'evidence':
      return RLP.encode([kind, m.evidence])
  }
}

export function decodeEngineMessage(bytes: Uint8Array): EngineMessage {
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch (err) {
    throw new EngineMessageError(`engine message is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(d) || d.length < 2 || d.some((x) => !(x instanceof Uint8Array))) {
    throw new EngineMessageError('engine message must be an RLP list of byte strings')
  }
  const f = d as Uint8Array[]
  const kind = f[0].length === 1 ? KINDS[f[0][0] - 1] : undefined
  switch (kind) {
    case 'consensus':
      if (f.length === 2) return { kind, message: f[1] }
      break
    case 'proposal':
      if (f.length === 3) return { kind, message: f[1], block: f[2] }
      break
    case 'evidence':
      if (f.length === 2) return { kind, evidence: f[1] }
      break
    default:
      throw new EngineMessageError(`unknown engine message kind ${f[0].length === 1 ? f[0][0] : '?'}`)
  }
  throw new EngineMessageError(`malformed ${kind} message`)
}

type Handler = (bytes: Uint8Array, from: string) => TransportVerdict

/**
 * An in-process network. Broadcast delivery is asynchronous (a later macrotask), so an
 * engine never re-enters itself, and like gossipsub a member relays what it accepted to the
 * members that have not seen it; `setConnected(id, false)` cuts a member off both ways.
 * Penalties are recorded per member (`penalties`), for tests to assert.
 */
export class MemoryNetwork {
  private readonly members = new Map<string, { handlers: Set<Handler>; serve?: (hash: Uint8Array) => Uint8Array | undefined }>()
  private readonly disconnected = new Set<string>()
  private pending = new Set<NodeJS.Immediate>()
  /** Messages seen per member (gossipsub's seen cache), by message bytes. */
  private readonly seen = new Map<string, Set<string>>()
  readonly penalties = new Map<string, Array<{ by: string; points: number; reason: string }>>()
  delivered = 0

  /** `maxInlineBlockBytes`: as the gossip frame limit would be (default: any size). */
  constructor(private readonly maxInlineBlockBytes = Number.POSITIVE_INFINITY) {}

  transport(id: string): ConsensusTransport {
    const member = this.member(id)
    return {
      maxInlineBlockBytes: this.maxInlineBlockBytes,
      broadcast: (bytes) => this.publish(id, bytes),
      onMessage: (handler) => {
        member.handlers.add(handler)
        return () => member.handlers.delete(handler)
      },
      fetchBlock: async (hash) => {
        for (const [other, m] of this.members) {
          if (other === id || !this.linked(id, other) || !m.serve) continue
          const bytes = m.serve(hash)
          if (bytes) return { bytes, from: other }
        }
        return undefined
      },
      serveBlocks: (handler) => {
        member.serve = handler
        return () => {
          if (member.serve === handler) delete member.serve
        }
      },
      penalize: (peer, points, reason) => this.recordPenalty(peer, id, points, reason),
    }
  }

  /** Delivers `bytes` to `to` as if `from` sent them (an attacker's direct message); resolves with the verdict. */
  inject(from: string, to: string, bytes: Uint8Array): TransportVerdict[] {
    const member = this.members.get(to)
    if (!member) return []
    this.delivered++
    return [...member.handlers].map((h) => this.judged(to, from, h(bytes, from), bytes))
  }

  setConnected(id: string, connected: boolean): void {
    if (connected) this.disconnected.delete(id)
    else this.disconnected.add(id)
  }

  /** Drops messages still in flight (end of a test). */
  close(): void {
    for (const p of this.pending) clearImmediate(p)
    this.pending.clear()
    this.members.clear()
  }

  private member(id: string) {
    let m = this.members.get(id)
    if (!m) {
      m = { handlers: new Set() }
      this.members.set(id, m)
      this.seen.set(id, new Set())
    }
    return m
  }

  private linked(a: string, b: string): boolean {
    return !this.disconnected.has(a) && !this.disconnected.has(b)
  }

  /** A member's own send is a new message even when its bytes repeat (re-gossip), as a fresh gossip sequence number makes it. */
  private publish(from: string, bytes: Uint8Array): void {
    this.remember(from, bytes)
    this.relay(from, bytes, true)
  }

  private relay(from: string, bytes: Uint8Array, fresh = false): void {
    if (this.disconnected.has(from)) return
    for (const [id, member] of this.members) {
      if (id === from) continue
      const p = setImmediate(() => {
        this.pending.delete(p)
        if (!this.linked(id, from) || (!this.remember(id, bytes) && !fresh)) return
        this.delivered++
        const verdicts = [...member.handlers].map((h) => this.judged(id, from, h(bytes, from), bytes))
        if (verdicts.includes('accept')) this.relay(id, bytes)
      })
      this.pending.add(p)
    }
  }

  /** True the first time `id` sees these bytes. */
  private remember(id: string, bytes: Uint8Array): boolean {
    const seen = this.seen.get(id)
    if (!seen) return false
    const key = Buffer.from(bytes).toString('base64')
    if (seen.has(key)) return false
    seen.add(key)
    if (seen.size > 10_000) seen.delete(seen.values().next().value!)
    return true
  }

  private judged(at: string, from: string, verdict: TransportVerdict, _bytes: Uint8Array): TransportVerdict {
    if (verdict === 'reject') this.recordPenalty(from, at, 20, 'rejected message')
    return verdict
  }

  private recordPenalty(peer: string, by: string, points: number, reason: string): void {
    const list = this.penalties.get(peer) ?? []
    list.push({ by, points, reason })
    this.penalties.set(peer, list)
  }
}
