/**
 * Follows one node's `safe` (confirmed) and `finalized` block tags, for chains whose blocks are
 * final well after they are made (PoH: confirmed by 2/3 of the stake's votes, final at the
 * maximum lockout), and for BFT chains too, where both tags are the head.
 *
 * - TagTracker (the logic, over any BlockSource): each poll reads both tags; the blocks from the
 *   last confirmed (finalized) one up to the tag's block are found by walking parent hashes back
 *   from it, so they are the tagged block's ancestors, not whatever a height pointed at
 *   meanwhile. New confirmed blocks are reported, then new final ones, in height order, stamped
 *   with the time the tags were read. A finalized block that does not descend from the one
 *   finalized before is a finality violation: reported, and followed.
 * - TagFollower: polls every `pollMs` and at once on every new head (WebSocket newHeads), one
 *   poll at a time, and feeds runOpenLoop's FollowerSink.
 */
import { BenchError, errorMessage } from './errors.ts'
import type { Follower, FollowerSink, SeenBlock } from './bft-load.ts'
import { subscribeNewHeads, type NewHeadsSubscription } from './new-heads.ts'
import { quantity, type RpcClient } from './rpc.ts'

export interface BlockInfo {
  hash: string
  height: number
  parentHash: string
  /** Tx hashes, lower case. */
  txs: string[]
  gasUsed: bigint
}

export type Tag = 'safe' | 'finalized'

/** Where the tracker reads blocks. */
export interface BlockSource {
  /** The block a tag names now. */
  tagged(tag: Tag): Promise<BlockInfo>
  byHash(hash: string): Promise<BlockInfo | undefined>
}

export interface TagEvents {
  confirmed(at: number, block: BlockInfo): void
  final(at: number, block: BlockInfo): void
  /** Finality broke: a finalized block replaced, or the finalized tag went back. */
  violation(text: string): void
}

/** Blocks one walk may fetch: far more than any unfinalized stretch of a healthy chain. */
export const MAX_WALK = 10_000

export class TagTracker {
  private final?: BlockInfo
  /** Blocks above the final one already reported confirmed, by hash (height kept for pruning). */
  private readonly confirmedHashes = new Map<string, number>()
  /** Fetched blocks above the final one, by hash: a block confirmed, then final, is fetched once. */
  private readonly cache = new Map<string, BlockInfo>()

  constructor(
    private readonly source: BlockSource,
    private readonly events: TagEvents,
  ) {}

  /** The last finalized height reported (or found at init). */
  get finalHeight(): number {
    return this.final?.height ?? 0
  }

  /** Takes the tags as they are now as the start: blocks at or below them are not reported. */
  async init(): Promise<void> {
    const [safe, fin] = await Promise.all([this.source.tagged('safe'), this.source.tagged('finalized')])
    this.final = fin
    if (safe.height > fin.height) this.confirmedHashes.set(safe.hash, safe.height)
  }

  /** Reads both tags and reports what changed; `now` stamps the reports (when the tags were read). */
  async poll(now: () => number = () => performance.now()): Promise<void> {
    if (!this.final) throw new BenchError('BAD_ARGS', 'TagTracker.poll before init')
    const [safe, fin] = await Promise.all([this.source.tagged('safe'), this.source.tagged('finalized')])
    const at = now()
    await this.confirm(safe, at)
    await this.finalize(fin, at)
  }

  private async confirm(tip: BlockInfo, at: number): Promise<void> {
    const floor = this.final!.height
    const fresh: BlockInfo[] = []
    for (let b: BlockInfo | undefined = tip; b && b.height > floor && !this.confirmedHashes.has(b.hash); b = await this.parentOf(b)) {
      fresh.push(b)
      if (fresh.length > MAX_WALK) throw new BenchError('VERIFY_FAILED', `more than ${MAX_WALK} confirmed blocks above the final height ${floor} in one poll`)
    }
    for (const b of fresh.reverse()) {
      this.confirmedHashes.set(b.hash, b.height)
      this.events.confirmed(at, b)
    }
  }

  private async finalize(tip: BlockInfo, at: number): Promise<void> {
    const last = this.final!
    if (tip.height < last.height) {
      this.events.violation(`the finalized tag went back from height ${last.height} to ${tip.height}`)
      return
    }
    if (tip.height === last.height) {
      if (tip.hash !== last.hash) this.violated(last, tip)
      return
    }
    const fresh: BlockInfo[] = []
    let b: BlockInfo | undefined = tip
    while (b && b.height > last.height) {
      fresh.push(b)
      if (fresh.length > MAX_WALK) throw new BenchError('VERIFY_FAILED', `more than ${MAX_WALK} newly finalized blocks in one poll`)
      b = await this.parentOf(b)
    }
    if (!b) throw new BenchError('VERIFY_FAILED', `the node lacks an ancestor of its finalized block ${tip.hash} (height ${tip.height})`)
    if (b.hash !== last.hash) this.violated(last, b)
    for (const f of fresh.reverse()) this.events.final(at, f)
    this.final = tip
    for (const [hash, info] of this.cache) if (info.height <= tip.height) this.cache.delete(hash)
    for (const [hash, height] of this.confirmedHashes) if (height <= tip.height) this.confirmedHashes.delete(hash)
  }

  private violated(was: BlockInfo, now: BlockInfo): void {
    this.events.violation(`block ${was.hash} was finalized at height ${was.height}; now the finalized chain has ${now.hash} there`)
  }

  private async parentOf(b: BlockInfo): Promise<BlockInfo | undefined> {
    if (b.height === 0) return undefined
    this.cache.set(b.hash, b)
    const known = this.cache.get(b.parentHash)
    if (known) return known
    const parent = await this.source.byHash(b.parentHash)
    if (parent && parent.height !== b.height - 1) {
      throw new BenchError('VERIFY_FAILED', `block ${b.hash} at height ${b.height} names parent ${b.parentHash}, which is at height ${parent.height}`)
    }
    if (parent) this.cache.set(parent.hash, parent)
    return parent
  }
}

/** Blocks over JSON-RPC (eth_getBlockByNumber with a tag, eth_getBlockByHash), tx hashes only. */
export class RpcBlockSource implements BlockSource {
  constructor(private readonly rpc: RpcClient) {}

  async tagged(tag: Tag): Promise<BlockInfo> {
    const b = await this.rpc.call('eth_getBlockByNumber', [tag, false])
    if (b === null) throw new BenchError('RPC_TRANSPORT', `eth_getBlockByNumber("${tag}") answered null`)
    return blockInfo(b, `the ${tag} block`)
  }

  async byHash(hash: string): Promise<BlockInfo | undefined> {
    const b = await this.rpc.call('eth_getBlockByHash', [hash, false])
    return b === null ? undefined : blockInfo(b, `block ${hash}`)
  }
}

/** A JSON-RPC block object (with tx hashes) as BlockInfo, with a clear error for a malformed one. */
export function blockInfo(raw: unknown, what: string): BlockInfo {
  const b = raw as { hash?: unknown; number?: unknown; parentHash?: unknown; transactions?: unknown; gasUsed?: unknown } | null
  if (!b || typeof b !== 'object' || typeof b.hash !== 'string' || typeof b.parentHash !== 'string' || !Array.isArray(b.transactions)) {
    throw new BenchError('RPC_TRANSPORT', `${what}: not a block object: ${JSON.stringify(raw)?.slice(0, 200)}`)
  }
  const txs = b.transactions.map((t) => {
    if (typeof t !== 'string') throw new BenchError('RPC_TRANSPORT', `${what}: transactions are not hashes`)
    return t.toLowerCase()
  })
  return {
    hash: b.hash.toLowerCase(),
    height: Number(quantity(b.number, `${what}: number`)),
    parentHash: b.parentHash.toLowerCase(),
    txs,
    gasUsed: quantity(b.gasUsed, `${what}: gasUsed`),
  }
}

export interface TagFollowerOptions {
  rpc: RpcClient
  wsUrl: string
  /** Poll the tags this often besides on every new head (ms). */
  pollMs: number
  /** Finality violations (also counted in `violations`). */
  onViolation?: (text: string) => void
}

/** Feeds a FollowerSink from one node's tags: confirmed blocks, then final ones. */
export class TagFollower implements Follower {
  private readonly tracker: TagTracker
  private heads?: NewHeadsSubscription
  private timer?: NodeJS.Timeout
  private polling = false
  private again = false
  private stopped = false
  readonly violations: string[] = []

  constructor(
    private readonly o: TagFollowerOptions,
    private readonly sink: FollowerSink,
  ) {
    this.tracker = new TagTracker(new RpcBlockSource(o.rpc), {
      confirmed: (at, b) => sink.confirmed(at, b.hash, b.txs),
      final: (at, b) => {
        const seen: SeenBlock = { height: b.height, seenAt: at, txCount: b.txs.length, gasUsed: b.gasUsed }
        sink.final(seen, b.txs, b.hash)
      },
      violation: (text) => {
        if (this.violations.length < 100) this.violations.push(text)
        o.onViolation?.(text)
      },
    })
  }

  get height(): number {
    return this.tracker.finalHeight
  }

  get websocketProblem(): string | undefined {
    return this.heads?.problem
  }

  async start(): Promise<void> {
    await this.tracker.init()
    this.timer = setInterval(() => this.kick(), this.o.pollMs)
    this.heads = await subscribeNewHeads(this.o.wsUrl, () => this.kick())
    if (this.stopped) this.heads.close()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.heads?.close()
  }

  /** One poll at a time; a kick during a poll runs one more right after it. */
  private kick(): void {
    if (this.stopped) return
    if (this.polling) {
      this.again = true
      return
    }
    this.polling = true
    this.again = false
    this.tracker
      .poll()
      .catch((err: unknown) => this.sink.error(new BenchError('RPC_ERROR', `reading the safe and finalized blocks: ${errorMessage(err)}`, { cause: err })))
      .finally(() => {
        this.polling = false
        if (this.again) this.kick()
      })
  }
}
