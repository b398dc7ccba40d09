/**
 * Read access to the chain in REST shapes, with a cache of block summaries (a summary never
 * changes for a given block hash, so the cache needs no invalidation on reorgs: canonical
 * lookups go height -> hash first).
 * @module
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Block } from '../../chain/block.ts'
import type { Chain } from '../../chain/chain.ts'
import type { ConsensusView } from './consensus-view.ts'
import { blockSummary, type BlockSummaryJSON, type MinedTx } from './format.ts'

const SUMMARY_CACHE = 4096

export class ChainView {
  private readonly summaries = new Map<string, BlockSummaryJSON>()

  constructor(
    readonly chain: Chain,
    readonly consensus: ConsensusView,
  ) {}

  get headHeight(): bigint {
    return this.chain.head.header.height
  }

  finalized(): { height: bigint; hash: Uint8Array } {
    const height = this.consensus.finalizedHeight(this.headHeight)
    return { height, hash: this.chain.getHashAt(height) ?? this.chain.genesisHash }
  }

  /** The summary of block `hash` (cached). */
  summary(hash: Uint8Array, block?: Block): BlockSummaryJSON | undefined {
    const key = bytesToHex(hash)
    const hit = this.summaries.get(key)
    if (hit) return hit
    const b = block ?? this.chain.getBlock(hash)
    if (!b) return undefined
    const s = blockSummary(hash, b)
    const poh = this.consensus.poh?.slotOf(b.header)
    if (poh) s.poh = poh
    this.summaries.set(key, s)
    if (this.summaries.size > SUMMARY_CACHE) this.summaries.delete(this.summaries.keys().next().value!)
    return s
  }

  /** The canonical block at a height, as a summary. */
  summaryAt(height: bigint): BlockSummaryJSON | undefined {
    const hash = this.chain.getHashAt(height)
    return hash ? this.summary(hash) : undefined
  }

  /** A block by height (canonical) or by hash (any stored block, canonical or not). */
  resolveBlock(id: string): { hash: Uint8Array; block: Block } | undefined {
    const hash = id.startsWith('0x') ? hexToBytes(id.toLowerCase() as `0x${string}`) : this.chain.getHashAt(BigInt(id))
    const block = hash && this.chain.getBlock(hash)
    return hash && block ? { hash, block } : undefined
  }

  /** A tx in the canonical chain, with its position and receipts. */
  minedTx(txHash: Uint8Array): { tx: TypedTransaction; mined: MinedTx } | undefined {
    const found = this.chain.getTransaction(txHash)
    if (!found || !this.chain.isCanonical(found.location.blockHash)) return undefined
    return this.txAt(found.location.blockHash, found.location.index)
  }

  /** The tx at `index` of block `blockHash`, with what its summary needs. */
  txAt(blockHash: Uint8Array, index: number): { tx: TypedTransaction; mined: MinedTx } | undefined {
    const block = this.chain.getBlock(blockHash)
    const receipts = this.chain.getReceipts(blockHash)
    const tx = block?.txs[index]
    if (!block || !receipts || !tx) return undefined
    return { tx, mined: { blockHash, header: block.header, index, receipts } }
  }
}
