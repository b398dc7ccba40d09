/**
 * How BFT engines talk: one broadcast channel (the node's 'consensus' gossip topic) carrying
 * engine messages — signed consensus messages, proposed blocks (a proposal names only the
 * block hash, so the block travels beside it), decided blocks with their certificate (so a
 * lagging validator catches up), and requests for a decided block by height.
 * `MemoryNetwork` connects engines in one process for tests.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt } from '@ethereumjs/util'

export interface ConsensusTransport {
  /** Send to every peer (best effort). */
  broadcast(bytes: Uint8Array): void
  /**
   * Subscribe; returns an unsubscribe function. `from` identifies the sending peer. The handler
   * returns false for a message that is invalid (malformed, a bad certificate or evidence): the
   * network then rejects it and penalizes the peer.
   */
  onMessage(handler: (bytes: Uint8Array, from: string) => boolean | void): () => void
}

export type EngineMessage =
  | { kind: 'consensus'; message: Uint8Array }
  /** A proposed (not yet decided) block, encoded by chain/block.ts encodeBlock. */
  | { kind: 'block'; block: Uint8Array }
  /** A decided block and the certificate that makes it final. */
  | { kind: 'decided'; block: Uint8Array; certificate: Uint8Array }
  /** "Send me the decided block at this height." */
  | { kind: 'want'; height: bigint }
  /** Signed evidence of a double vote (consensus/bft/evidence.ts encodeEvidence), for inclusion in a block. */
  | { kind: 'evidence'; evidence: Uint8Array }

export class EngineMessageError extends Error {
  readonly code = 'MALFORMED_MESSAGE'
}

const KINDS = ['consensus', 'block', 'decided', 'want', 'evidence'] as const

export function encodeEngineMessage(m: EngineMessage): Uint8Array {
  const kind = Uint8Array.of(KINDS.indexOf(m.kind) + 1)
  switch (m.kind) {
    case 'consensus':
      return RLP.encode([kind, m.message])
    case 'block':
      return RLP.encode([kind, m.block])
    case 'decided':
      return RLP.encode([kind, m.block, m.certificate])
    case 'want':
      return RLP.encode([kind, bigIntToUnpaddedBytes(m.height)])
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
    case 'block':
      if (f.length === 2) return { kind, block: f[1] }
      break
    case 'decided':
      if (f.length === 3) return { kind, block: f[1], certificate: f[2] }
      break
    case 'want':
      if (f.length === 2 && f[1].length <= 8 && (f[1].length === 0 || f[1][0] !== 0)) return { kind, height: bytesToBigInt(f[1]) }
      break
    case 'evidence':
      if (f.length === 2) return { kind, evidence: f[1] }
      break
    default:
      throw new EngineMessageError(`unknown engine message kind ${f[0].length === 1 ? f[0][0] : '?'}`)
  }
  throw new EngineMessageError(`malformed ${kind} message`)
}

/**
 * An in-process broadcast network. Delivery is asynchronous (a later macrotask), so an
 * engine never re-enters itself; `setConnected(id, false)` cuts a member off both ways.
 */
export class MemoryNetwork {
  private readonly members = new Map<string, Set<(bytes: Uint8Array, from: string) => boolean | void>>()
  private readonly disconnected = new Set<string>()
  private pending = new Set<NodeJS.Immediate>()
  delivered = 0

  transport(id: string): ConsensusTransport {
    if (!this.members.has(id)) this.members.set(id, new Set())
    return {
      broadcast: (bytes) => this.send(id, bytes),
      onMessage: (handler) => {
        const handlers = this.members.get(id)!
        handlers.add(handler)
        return () => handlers.delete(handler)
      },
    }
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

  private send(from: string, bytes: Uint8Array): void {
    if (this.disconnected.has(from)) return
    for (const [id, handlers] of this.members) {
      if (id === from) continue
      const p = setImmediate(() => {
        this.pending.delete(p)
        if (this.disconnected.has(id) || this.disconnected.has(from)) return
        this.delivered++
        for (const h of handlers) h(bytes, from)
      })
      this.pending.add(p)
    }
  }
}
