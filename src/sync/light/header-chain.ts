/**
 * A light client's chain of headers: every header it is given is checked before it is kept,
 * with the chain's header rules (shape, height, time, gas limit, base fee: chain/header-rules)
 * and the engine's (PoW: the bits from the retarget rule, the proof of work, the time against
 * the median of its own ancestors), reading ancestors from the headers verified so far. Headers
 * from several sources form a tree; the head is the tip with the most total work (the PoW
 * fork choice: a source showing a heavier valid chain wins, one claiming more wins nothing).
 * Nothing here trusts a source: a header that fails is refused with the rule's error.
 * @module
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { blockHash, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import { checkHeaderSanity } from '../../chain/header-rules.ts'
import type { BlockRules, HeaderView } from '../../chain/rules.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'

export interface VerifiedHeader {
  hash: Uint8Array
  header: BlockHeader
  /** Total work of the chain ending here (from the checkpoint's). */
  work: bigint
}

export interface AddOutcome {
  /** The last header of the batch, verified. */
  tip: VerifiedHeader
  /** Headers of the batch not seen before. */
  added: number
  /** Whether the head moved to this batch's branch. */
  head: boolean
}

/** At most this many headers are kept off the best chain (a source feeding forks cannot grow memory). */
export const MAX_SIDE_HEADERS = 10_000

export class LightHeaderChain {
  private readonly byHash = new Map<string, VerifiedHeader>()
  /** The best chain's hashes by height, from the checkpoint up. */
  private readonly best: Uint8Array[] = []
  /** Headers below the checkpoint that the engine's rules read (PoW: the retarget window, the median time, genesis), bound to it by hash. */
  private readonly below = new Map<string, BlockHeader>()
  private readonly belowAt = new Map<bigint, Uint8Array>()
  /** The engine's header rules; absent where headers are proven by certificates instead (BFT: bft-sync.ts). */
  private readonly check?: Pick<BlockRules, 'verifyHeader'>

  constructor(
    private readonly spec: ChainSpec,
    private readonly rules: BlockRules,
    /** The trusted start: genesis, or a block the user vouches for (with its chain's work). */
    readonly checkpoint: VerifiedHeader,
    private readonly now: () => bigint = () => BigInt(Math.floor(Date.now() / 1000)),
    /** Ancestors of a checkpoint (linked to it by hash by the caller; see checkpoint.ts). */
    ancestors: readonly BlockHeader[] = [],
  ) {
    for (const h of ancestors) {
      const hash = blockHash(h)
      this.below.set(bytesToHex(hash), h)
      this.belowAt.set(h.height, hash)
    }
    if (rules.withHeaders) this.check = rules.withHeaders(this.view())
    this.byHash.set(bytesToHex(checkpoint.hash), checkpoint)
    this.best.push(checkpoint.hash)
  }

  get head(): VerifiedHeader {
    return this.byHash.get(bytesToHex(this.best[this.best.length - 1]!))!
  }

  /** The best chain's header at `height` (undefined below the checkpoint or above the head). */
  at(height: bigint): VerifiedHeader | undefined {
    const i = height - this.checkpoint.header.height
    if (i < 0n || i >= BigInt(this.best.length)) return undefined
    return this.byHash.get(bytesToHex(this.best[Number(i)]!))
  }

  get(hash: Uint8Array): VerifiedHeader | undefined {
    return this.byHash.get(bytesToHex(hash))
  }

  /** Whether the engine checks a header by itself (add); otherwise headers come proven (extendFinal). */
  get checksAlone(): boolean {
    return this.check !== undefined
  }

  /** Whether `hash` is on the best chain. */
  isBest(hash: Uint8Array): boolean {
    const v = this.get(hash)
    const at = v && this.at(v.header.height)
    return at !== undefined && equalsBytes(at.hash, hash)
  }

  get size(): number {
    return this.byHash.size
  }

  /**
   * Verifies `headers` (each the child of the one before; the first the child of a verified
   * header) and keeps them; the head moves to their tip if its chain has more work. Throws
   * BlockError naming the first header that fails: the ones before it are kept (they passed).
   */
  add(headers: readonly BlockHeader[]): AddOutcome {
    if (!this.check) throw new Error("this chain's engine cannot check a header by itself: its headers are added with extendFinal once their certificates are checked")
    if (headers.length === 0) throw new BlockError('MALFORMED', 'no headers given')
    let parent = this.get(headers[0]!.parentHash)
    if (!parent) throw new BlockError('UNKNOWN_PARENT', `header ${headers[0]!.height} does not extend a verified header (its parent ${bytesToHex(headers[0]!.parentHash)} is unknown here)`)
    let added = 0
    let moved = false
    for (const header of headers) {
      if (!equalsBytes(header.parentHash, parent.hash)) throw new BlockError('UNKNOWN_PARENT', `header ${header.height} does not follow header ${parent.header.height} of the same batch`)
      const hash = blockHash(header)
      let v = this.get(hash)
      if (!v) {
        checkHeaderSanity(header, parent.header, this.spec, { now: this.now(), maxFutureSeconds: this.rules.maxFutureSeconds })
        this.check.verifyHeader(header, parent.header)
        v = { hash, header, work: parent.work + (this.rules.blockWork?.(header) ?? 1n) }
        this.byHash.set(bytesToHex(hash), v)
        added++
        if (v.work > this.head.work) {
          this.switchTo(v)
          moved = true
        }
      }
      parent = v
    }
    this.prune()
    return { tip: parent, added, head: moved }
  }

  /**
   * Appends headers that extend the head and whose finality the caller proved (a BFT commit
   * certificate covers the last of them; each one before it is bound to it by its hash).
   * The chain's header rules (shape, height, time, gas limit, base fee) are checked here too.
   * Final chains do not fork: a batch that does not extend the head is refused.
   */
  extendFinal(headers: readonly BlockHeader[]): AddOutcome {
    if (headers.length === 0) throw new BlockError('MALFORMED', 'no headers given')
    let parent = this.head
    if (!equalsBytes(headers[0]!.parentHash, parent.hash)) throw new BlockError('UNKNOWN_PARENT', `header ${headers[0]!.height} does not extend the verified head ${parent.header.height}`)
    const checked: VerifiedHeader[] = []
    for (const header of headers) {
      if (!equalsBytes(header.parentHash, parent.hash)) throw new BlockError('UNKNOWN_PARENT', `header ${header.height} does not follow header ${parent.header.height} of the same batch`)
      checkHeaderSanity(header, parent.header, this.spec, { now: this.now(), maxFutureSeconds: this.rules.maxFutureSeconds })
      parent = { hash: blockHash(header), header, work: parent.work + 1n }
      checked.push(parent)
    }
    // All or nothing: the certificate that proves them covers the batch's last header.
    for (const v of checked) {
      this.byHash.set(bytesToHex(v.hash), v)
      this.best.push(v.hash)
    }
    return { tip: parent, added: checked.length, head: true }
  }

  /** Makes the branch ending at `tip` the best chain (its ancestors down to the checkpoint are all verified). */
  private switchTo(tip: VerifiedHeader): void {
    const chain: Uint8Array[] = []
    let at: VerifiedHeader | undefined = tip
    while (at && !this.isBestAt(at)) {
      chain.push(at.hash)
      at = this.get(at.header.parentHash)
    }
    // Its fork point was pruned as an old side branch: a branch that old does not become the head here.
    if (!at) throw new BlockError('UNKNOWN_PARENT', `the branch of header ${tip.header.height} forks below headers this client no longer keeps`)
    this.best.length = Number(at.header.height - this.checkpoint.header.height) + 1
    this.best.push(...chain.reverse())
  }

  private isBestAt(v: VerifiedHeader): boolean {
    const at = this.at(v.header.height)
    return at !== undefined && equalsBytes(at.hash, v.hash)
  }

  /** Drops the oldest headers off the best chain past MAX_SIDE_HEADERS. */
  private prune(): void {
    const side = this.byHash.size - this.best.length
    if (side <= MAX_SIDE_HEADERS) return
    let excess = side - MAX_SIDE_HEADERS
    for (const [key, v] of this.byHash) {
      if (excess === 0) break
      if (this.isBestAt(v)) continue
      this.byHash.delete(key)
      excess--
    }
  }

  /** Ancestors for the engine's rules: any verified header by hash, the best chain by height. */
  private view(): HeaderView {
    return {
      getHeader: (hash) => this.get(hash)?.header ?? this.below.get(bytesToHex(hash)),
      getHashAt: (height) => this.at(height)?.hash ?? this.belowAt.get(height),
    }
  }
}
