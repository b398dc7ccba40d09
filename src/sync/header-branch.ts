/**
 * A peer's branch of headers, verified before any of its bodies is fetched (headers-first
 * sync): it starts at a fork point on our canonical chain, and each header must be the child
 * of the previous one and pass every rule a header alone can be held to, the engine's too
 * (PoW: its bits from the retarget rule, its proof of work, its time against the median of
 * its own ancestors, which may be headers of this branch). The branch's total work is the sum
 * of what its headers prove, so a peer is ranked by work it has shown, not by what it claims.
 * @module
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { blockHash, type BlockHeader } from '../chain/block.ts'
import type { Chain, ChainHead } from '../chain/chain.ts'
import type { BlockImporter, HeaderView } from '../chain/import.ts'
import { PENALTY } from '../net/index.ts'
import { SyncError } from './errors.ts'

export class HeaderBranch {
  readonly headers: BlockHeader[] = []
  readonly hashes: Uint8Array[] = []
  /** Total work of the chain ending at the branch's last header (verified). */
  work: bigint
  private readonly byHash = new Map<string, BlockHeader>()
  private readonly check: (header: BlockHeader, parent: BlockHeader) => void

  constructor(
    private readonly chain: Chain,
    private readonly importer: BlockImporter,
    /** The block on our canonical chain the branch starts after. */
    readonly fork: ChainHead,
  ) {
    this.work = chain.getWork(fork.hash)
    const check = importer.headerChecker(this.view())
    if (!check) throw new Error("this chain's engine cannot check headers without their blocks")
    this.check = check
  }

  get length(): number {
    return this.headers.length
  }

  /** The last header (the fork point while empty). */
  get tip(): ChainHead {
    const n = this.headers.length
    return n === 0 ? this.fork : { hash: this.hashes[n - 1]!, header: this.headers[n - 1]! }
  }

  /**
   * Appends a peer's next header: it must follow the tip and pass every header rule. Throws
   * SyncError for a header that does not follow, the rule's BlockError otherwise (TIME_TOO_NEW
   * may pass later; anything else is invalid).
   */
  append(header: BlockHeader): void {
    const tip = this.tip
    if (!equalsBytes(header.parentHash, tip.hash) || header.height !== tip.header.height + 1n) {
      throw new SyncError('UNCONNECTED_HEADERS', `header ${header.height} does not follow the previous header ${tip.header.height}`, PENALTY.malformed)
    }
    this.check(header, tip.header)
    const hash = blockHash(header)
    this.headers.push(header)
    this.hashes.push(hash)
    this.byHash.set(bytesToHex(hash), header)
    this.work += this.importer.workOf(header)
  }

  /** The stored chain seen with this branch on top (the engine reads ancestors through it). */
  private view(): HeaderView {
    const { chain, fork } = this
    return {
      getHeader: (hash) => this.byHash.get(bytesToHex(hash)) ?? chain.getHeader(hash),
      getHashAt: (height) => (height > fork.header.height ? this.hashes[Number(height - fork.header.height - 1n)] : chain.getHashAt(height)),
    }
  }
}
