/**
 * How the hostile peer answers blocksByRange: honestly (blocks of its copy with their
 * certificates), with an empty list (the claim it made in the status handshake was a lie),
 * with its copy's blocks followed by a forged block on the head carrying a certificate of
 * non-validators, or not at all (the request is held open until the requester gives up). Every request is logged with what it got, so attacks can report it.
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import { encodeBlockEnvelope } from '../../chain/block.ts'
import { encodeCertificate } from '../../consensus/bft/index.ts'
import { blockHash } from '../../chain/block.ts'
import { invalidRequest } from '../../net/index.ts'
import { decodeRangeRequest, encodeBlockList } from '../../sync/index.ts'
import { outsiderCertificate } from './material.ts'
import type { ShadowChain } from './shadow-chain.ts'

export type RangeAnswer = 'honest' | 'empty' | 'forged' | 'silent'

export interface ServedRequest {
  peer: string
  from: string
  count: number
  answer: RangeAnswer
  blocks: number
  /** The forged block at the end of a 'forged' answer. */
  forged?: string
  at: number
}

/** How long a 'silent' answer is held (past any requester's timeout). */
const SILENT_MS = 120_000
/** Most requests remembered between two reports. */
const MAX_LOG = 1024

export class RangeServer {
  mode: RangeAnswer = 'honest'
  private log: ServedRequest[] = []
  private forgeries = 0

  constructor(
    private readonly shadow: ShadowChain,
    /** Brings the copy up to the requester's head (`from - 1`) before forging on it. */
    private readonly catchUp: (peer: string, height: bigint) => Promise<unknown>,
  ) {}

  /** Requests served since the last call. */
  drain(): ServedRequest[] {
    const out = this.log
    this.log = []
    return out
  }

  /** Requests served so far (not drained). */
  get pending(): readonly ServedRequest[] {
    return this.log
  }

  async answer(request: Uint8Array, peer: string): Promise<Uint8Array> {
    let range
    try {
      range = decodeRangeRequest(request)
    } catch (err) {
      throw invalidRequest((err as Error).message)
    }
    const entry: ServedRequest = { peer, from: String(range.from), count: range.count, answer: this.mode, blocks: 0, at: Date.now() }
    if (this.log.length < MAX_LOG) this.log.push(entry)
    if (this.mode === 'empty') return encodeBlockList([])
    // Hold the request open: the requester waits for its own timeout.
    if (this.mode === 'silent') return new Promise((resolve) => setTimeout(() => resolve(encodeBlockList([])), SILENT_MS).unref())
    // A forgery must sit on the requester's head: catch up first if the chain moved on.
    if (this.mode === 'forged' && range.from > this.shadow.height + 1n) await this.catchUp(peer, range.from - 1n).catch(() => undefined)
    const blocks: Uint8Array[] = []
    const { chain } = this.shadow
    const room = this.mode === 'forged' ? range.count - 1 : range.count
    for (let h = range.from; h <= chain.head.header.height && blocks.length < room; h++) {
      const hash = chain.getHashAt(h)!
      blocks.push(encodeBlockEnvelope(chain.getBlock(hash)!, chain.getProof(hash)))
    }
    if (this.mode === 'forged' && range.from <= chain.head.header.height + 1n && BigInt(blocks.length) === chain.head.header.height + 1n - range.from) {
      const forged = await this.shadow.forgeOnHead({ extraData: new TextEncoder().encode(`hostile:range:${this.forgeries++}`) })
      const hash = blockHash(forged.block.header)
      const cert = outsiderCertificate(hash, forged.block.header.height, this.shadow.spec.chainId)
      blocks.push(encodeBlockEnvelope(forged.block, encodeCertificate(cert)))
      entry.forged = bytesToHex(hash)
    }
    entry.blocks = blocks.length
    return encodeBlockList(blocks)
  }
}
