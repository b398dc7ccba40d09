/**
 * A full node met over libp2p as a light client's header source (header-source.ts), named
 * `p2p:<peer id>`. Headers come by `headersByRange` (canonical headers, no bodies); a block's
 * finality proof and a header by hash come in the block envelopes the node already serves for
 * sync (`blocksByRange` / `blocksByHash`: RLP [header, body, proof], the proof being a BFT
 * block's commit certificate). The head is the one the peer's status tells.
 *
 * Nothing is believed here: answers are bounded by the protocol limits (reqresp.ts), decoded
 * for shape only, and an answer that does not fit what was asked (too many headers, other
 * heights, another block) is a BlockError MALFORMED, which the client records as a lie; it
 * also costs the peer score on the network, as does a request it lets time out, so a peer
 * that keeps sending garbage or stalling is banned.
 * @module
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { blockHash, decodeBlockEnvelope, decodeHeader, type BlockHeader, type RawBlock } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import { isNetError, PENALTY, type ChainStatus, type ReqRespProtocol, type RequestOptions } from '../../net/index.ts'
import { decodeBlockList, decodeHeaderList, encodeHashList, encodeRangeRequest, WireError } from '../wire.ts'
import type { HeaderSource } from './header-source.ts'
import { MAX_BATCH } from './source.ts'

/** What a peer source needs of the network (Network has it). */
export interface PeerRequests {
  request(peer: string, protocol: ReqRespProtocol, payload: Uint8Array, opts?: RequestOptions): Promise<Uint8Array>
  refreshStatus(peer: string): Promise<ChainStatus>
  penalize(peer: string, reason: string, points: number): unknown
}

/** A batch of at most MAX_BATCH headers (~60 KB, more with BFT certificates) has this long. */
const HEADERS_TIMEOUT_MS = 10_000

export class P2pHeaderSource implements HeaderSource {
  readonly url: string

  constructor(
    private readonly net: PeerRequests,
    readonly peerId: string,
    private readonly o: { timeoutMs?: number } = {},
  ) {
    this.url = `p2p:${peerId}`
  }

  /** The head its status tells now (asked again each time: a status is one small round trip). */
  async headNumber(): Promise<bigint> {
    return (await this.timed(this.net.refreshStatus(this.peerId))).headHeight
  }

  async headers(from: bigint, to: bigint): Promise<BlockHeader[]> {
    if (to < from) return []
    const count = to - from + 1n < BigInt(MAX_BATCH) ? Number(to - from + 1n) : MAX_BATCH
    const payload = await this.timed(this.net.request(this.peerId, 'headersByRange', encodeRangeRequest({ from, count }), { timeoutMs: this.o.timeoutMs ?? HEADERS_TIMEOUT_MS }))
    const headers = this.decoded('headersByRange', () => decodeHeaderList(payload, count).map(decodeHeader))
    headers.forEach((h, i) => {
      if (h.height !== from + BigInt(i)) this.malformed(`answered headersByRange from ${from} with header ${h.height} at place ${i}`)
    })
    return headers
  }

  async headerByHash(hash: Uint8Array): Promise<BlockHeader | undefined> {
    const [block] = await this.blocks('blocksByHash', encodeHashList([hash]))
    if (!block) return undefined
    if (!equalsBytes(block.hash, hash)) this.malformed(`answered blocksByHash ${bytesToHex(hash)} with block ${bytesToHex(block.hash)}`)
    return block.header
  }

  /** The proof stored with its canonical block `height` (BFT: its commit certificate); null when it has none. */
  async finalityProof(height: bigint): Promise<Uint8Array | null> {
    const [block] = await this.blocks('blocksByRange', encodeRangeRequest({ from: height, count: 1 }))
    if (!block) return null
    if (block.header.height !== height) this.malformed(`answered blocksByRange ${height} with block ${block.header.height}`)
    return block.proof.length > 0 ? block.proof : null
  }

  /** At most one block is asked for: more in the answer is a malformed answer. */
  private async blocks(protocol: 'blocksByHash' | 'blocksByRange', request: Uint8Array): Promise<RawBlock[]> {
    const payload = await this.timed(this.net.request(this.peerId, protocol, request, this.o.timeoutMs ? { timeoutMs: this.o.timeoutMs } : {}))
    return this.decoded(protocol, () => {
      const list = decodeBlockList(payload)
      if (list.length > 1) throw new WireError(`${list.length} blocks for one asked`)
      return list.map(decodeBlockEnvelope)
    })
  }

  /**
   * A peer that does not answer in time holds up every sync round: it pays as a full node's
   * sync makes a peer pay for a claim it does not answer for, and is banned if it keeps at it.
   */
  private async timed<T>(request: Promise<T>): Promise<T> {
    try {
      return await request
    } catch (err) {
      if (isNetError(err, 'TIMEOUT')) this.net.penalize(this.peerId, `light client: ${err.message}`, PENALTY.unfulfilledClaim)
      throw err
    }
  }

  private decoded<T>(protocol: string, decode: () => T): T {
    try {
      return decode()
    } catch (err) {
      if (err instanceof WireError || err instanceof BlockError) this.malformed(`sent a ${protocol} answer that does not decode: ${err.message}`)
      throw err
    }
  }

  private malformed(what: string): never {
    this.net.penalize(this.peerId, `light client: ${what}`, PENALTY.malformed)
    throw new BlockError('MALFORMED', `${this.url} ${what}`)
  }
}
