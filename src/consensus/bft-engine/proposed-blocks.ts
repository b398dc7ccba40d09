/**
 * Proposed blocks that arrived with a verified proposal or were fetched by hash, and the
 * engine's waits for them: a vote or a proposal names a block by hash, and its body may come a
 * moment before or after. Only blocks whose header hashes to a signed proposal's hash (and
 * whose txs match the header's tx root) get here, so a peer without a key cannot fill it.
 * Bounded (the oldest are dropped first: a dropped one can be fetched again by hash) and
 * pruned as heights are committed. Encoding and checks of a proposed block: decodeProposedBlock.
 * @module
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { decodeBlockEnvelope, decodeRawBody, type Block } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import { merkleRoot } from '../../crypto/merkle.ts'
import type { Commons } from '../../execution/common.ts'

/**
 * A proposed block's bytes (chain/block.ts encodeBlockEnvelope, without a proof) checked
 * against the hash a signed message names, cheapest first: the header must hash to it and
 * the raw txs must match its tx root before any tx is decoded. Throws BlockError: the peer
 * that sent it is at fault.
 */
export function decodeProposedBlock(bytes: Uint8Array, expected: Uint8Array, commons: Commons): Block {
  const raw = decodeBlockEnvelope(bytes)
  if (!equalsBytes(raw.hash, expected)) throw new BlockError('WRONG_BLOCK', `block ${bytesToHex(raw.hash)} is not the proposed ${bytesToHex(expected)}`)
  if (raw.proof.length > 0) throw new BlockError('BAD_PROOF', 'a proposed block is not decided yet: it carries no proof')
  return decodeRawBody(raw, commons, (rawTxs) => {
    if (!equalsBytes(merkleRoot(rawTxs), raw.header.txRoot)) throw new BlockError('BAD_TX_ROOT', `proposed block ${raw.header.height}: its txs do not match the header's tx root`)
  })
}

export class ProposedBlocks {
  private readonly blocks = new Map<string, Block>()
  private readonly waiters = new Map<string, Array<(b: Block | undefined) => void>>()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(private readonly max: number) {}

  get(key: string): Block | undefined {
    return this.blocks.get(key)
  }

  /** Keeps `block` under `key` and wakes whoever waits for it. */
  add(key: string, block: Block): void {
    if (this.blocks.size >= this.max) this.blocks.delete(this.blocks.keys().next().value!)
    this.blocks.set(key, block)
    const waiting = this.waiters.get(key)
    this.waiters.delete(key)
    for (const w of waiting ?? []) w(block)
  }

  /** The block with this hash, waiting up to `ms` for it to arrive; undefined if it does not. */
  waitFor(key: string, ms: number): Promise<Block | undefined> {
    const have = this.blocks.get(key)
    if (have) return Promise.resolve(have)
    return new Promise((resolve) => {
      const done = (b: Block | undefined) => {
        clearTimeout(timer)
        this.timers.delete(timer)
        resolve(b)
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        const list = this.waiters.get(key)?.filter((w) => w !== done)
        if (list?.length) this.waiters.set(key, list)
        else this.waiters.delete(key)
        resolve(undefined)
      }, ms)
      this.timers.add(timer)
      const list = this.waiters.get(key) ?? []
      list.push(done)
      this.waiters.set(key, list)
    })
  }

  /** Drops blocks at or below a committed height. */
  prune(height: bigint): void {
    for (const [key, b] of this.blocks) if (b.header.height <= height) this.blocks.delete(key)
  }

  /** Ends every wait (undefined) and its timer: the engine is stopping. */
  close(): void {
    for (const waiting of this.waiters.values()) for (const w of waiting) w(undefined)
    this.waiters.clear()
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}
