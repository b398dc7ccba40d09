/**
 * Header sync for BFT chains (PoA and PoS), as CometBFT's light client does it. Headers come
 * in batches from the head up, each bound to the next by its parent hash; the batch's last
 * header is then proven final:
 * - skipping, while the trusted head is within the trust period: the last header's commit
 *   certificate must carry signatures of more than 1/3 of the power of the set the client
 *   trusts (the one after its head), and more than 2/3 of its own height's set, derived from
 *   the proven state of the headers between; when the trusted validators signed too little
 *   (the set moved on), the target halves (bisection) down to the next header;
 * - sequential otherwise (and at the end of a bisection): every header's certificate (in the
 *   next header's seal, the last from catena_getCommit) against its own height's set.
 * A BFT block is final, so a source whose chain leaves the verified one is refused outright.
 * @module
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { blockHash, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import { decodeCertificate, type CommitCertificate, type ValidatorSet } from '../../consensus/bft/index.ts'
import { decodeSeal } from '../../consensus/bft-engine/seal.ts'
import type { BftMembership, LinkedHeader } from './bft-membership.ts'
import { checkTrustPeriod, isTrusted, verifyCertified } from './bft-verify.ts'
import type { LightHeaderChain } from './header-chain.ts'
import type { HeaderFollower } from './client.ts'
import type { HeaderSource } from './header-source.ts'
import { MAX_BATCH } from './source.ts'

export interface BftSyncOptions {
  chain: LightHeaderChain
  membership: BftMembership
  chainId: bigint
  /** How long a trusted header vouches for skipped-to ones (seconds after its timestamp). */
  trustPeriodSeconds: bigint
  now: () => bigint
  log: Logger
}

export interface BftSyncStats {
  /** Certificates checked against a trusted set to skip (the bisection's steps). */
  skips: number
  /** Headers whose own certificate was checked one by one. */
  sequential: number
}

export class BftHeaderSync implements HeaderFollower {
  readonly stats: BftSyncStats = { skips: 0, sequential: 0 }
  /** The set whose certificate proved the head final (undefined until a header is added). */
  headValidators?: ValidatorSet

  constructor(private readonly o: BftSyncOptions) {}

  summary(): string {
    return `certificates: ${this.stats.skips} skipping checks, ${this.stats.sequential} sequential`
  }

  /** Who certified the head, the trust period's state, and how the certificates were checked. */
  status(): Record<string, unknown> {
    return {
      engine: 'bft',
      headValidators: this.headValidators?.validators.map((v) => ({ address: bytesToHex(v.address), power: `0x${v.power.toString(16)}` })) ?? null,
      trustPeriodSeconds: Number(this.o.trustPeriodSeconds),
      trustExpired: this.trustExpired(),
      certificates: { skipping: this.stats.skips, sequential: this.stats.sequential },
    }
  }

  /** Whether the head still vouches for headers skipped to (within the trust period). */
  trustExpired(): boolean {
    const head = this.o.chain.head.header
    try {
      checkTrustPeriod(head.height, head.timestamp, this.o.trustPeriodSeconds, this.o.now())
      return false
    } catch {
      return true
    }
  }

  /** Verifies and appends the source's headers past the head, up to `limit`; returns how many. */
  async syncFrom(src: HeaderSource, theirs: bigint, limit: bigint, progress?: (to: bigint) => void): Promise<number> {
    const { chain } = this.o
    await this.checkSameChain(src, theirs)
    let added = 0
    const last = theirs < chain.head.header.height + limit ? theirs : chain.head.header.height + limit
    while (chain.head.header.height < last) {
      const from = chain.head.header.height + 1n
      const to = from + BigInt(MAX_BATCH) - 1n < last ? from + BigInt(MAX_BATCH) - 1n : last
      const headers = await src.headers(from, to)
      if (headers.length === 0) break
      const linked = this.link(headers)
      added += await this.verifyBatch(src, linked)
      progress?.(chain.head.header.height)
    }
    return added
  }

  /** BFT does not fork: the source's block at our head's height must be ours. */
  private async checkSameChain(src: HeaderSource, theirs: bigint): Promise<void> {
    const ours = this.o.chain.head
    const height = theirs < ours.header.height ? theirs : ours.header.height
    if (height <= this.o.chain.checkpoint.header.height) return
    const [header] = await src.headers(height, height)
    const mine = this.o.chain.at(height)!
    if (header && !equalsBytes(blockHash(header), mine.hash)) {
      throw new BlockError('BAD_PROOF', `its block ${height} is ${bytesToHex(blockHash(header))}, not the verified final block ${bytesToHex(mine.hash)}: BFT blocks are final, so one of them was never committed (or more than 1/3 of the validators signed both)`)
    }
  }

  /** The batch as a hash-linked list from the head (a header that does not follow is refused). */
  private link(headers: BlockHeader[]): LinkedHeader[] {
    let parent = this.o.chain.head.hash
    return headers.map((header) => {
      if (!equalsBytes(header.parentHash, parent)) throw new BlockError('UNKNOWN_PARENT', `header ${header.height} does not follow the verified header ${header.height - 1n} (its parent hash is ${bytesToHex(header.parentHash)})`)
      parent = blockHash(header)
      return { hash: parent, header }
    })
  }

  /** Proves a prefix of `batch` final and appends it; returns its length. */
  private async verifyBatch(src: HeaderSource, batch: LinkedHeader[]): Promise<number> {
    const { chain, membership, chainId } = this.o
    const parentOf = this.parentLookup(src, batch)
    const headLinked = { hash: chain.head.hash, header: chain.head.header }
    const trusted = await membership.setAfter(headLinked, parentOf)
    if (batch.length > 1 && !this.trustExpired()) {
      for (let i = batch.length - 1; i > 0; i = Math.floor(i / 2)) {
        const target = batch[i]!
        const cert = await this.commitOf(src, target)
        this.o.log.debug({ height: target.header.height }, 'light: skipping verification')
        this.stats.skips++
        if (!isTrusted(cert, target.hash, trusted, chainId)) continue
        // Trusted: the headers between are the real ones, and their state says who signs `target`.
        const set = await this.setFor(i, batch, headLinked, parentOf)
        verifyCertified(cert, target.hash, target.header.height, set, chainId)
        chain.extendFinal(batch.slice(0, i + 1).map((l) => l.header))
        this.headValidators = set
        return i + 1
      }
    }
    // Sequential: the first header by its own certificate (carried in the next header's seal).
    const first = batch[0]!
    const cert = batch.length > 1 ? this.parentCertificate(batch[1]!) : await this.commitOf(src, first)
    verifyCertified(cert, first.hash, first.header.height, trusted, chainId)
    this.stats.sequential++
    chain.extendFinal([first.header])
    this.headValidators = trusted
    let n = 1
    for (; n < batch.length; n++) {
      const l = batch[n]!
      const set = await membership.setAfter(batch[n - 1]!, parentOf)
      const c = n + 1 < batch.length ? this.parentCertificate(batch[n + 1]!) : await this.commitOf(src, l)
      verifyCertified(c, l.hash, l.header.height, set, chainId)
      this.stats.sequential++
      chain.extendFinal([l.header])
      this.headValidators = set
    }
    return n
  }

  /** The set that signs batch[i]: walked forward from the head so only changes cost a read. */
  private async setFor(i: number, batch: LinkedHeader[], head: LinkedHeader, parentOf: (c: LinkedHeader) => Promise<LinkedHeader>): Promise<ValidatorSet> {
    let set = await this.o.membership.setAfter(head, parentOf)
    for (let j = 0; j < i; j++) set = await this.o.membership.setAfter(batch[j]!, parentOf)
    return set
  }

  /** Parents from the batch, the verified chain, or (below the checkpoint, PoS only) the source, each checked by hash. */
  private parentLookup(src: HeaderSource, batch: LinkedHeader[]): (child: LinkedHeader) => Promise<LinkedHeader> {
    const inBatch = new Map(batch.map((l) => [bytesToHex(l.hash), l]))
    return async (child) => {
      const key = bytesToHex(child.header.parentHash)
      const known = inBatch.get(key) ?? this.o.chain.get(child.header.parentHash)
      if (known) return { hash: known.hash, header: known.header }
      const header = await src.headerByHash(child.header.parentHash)
      if (!header || !equalsBytes(blockHash(header), child.header.parentHash)) throw new BlockError('UNKNOWN_PARENT', `the parent of header ${child.header.height} (${key}) was not given, or hashes to something else`)
      return { hash: child.header.parentHash, header }
    }
  }

  private parentCertificate(child: LinkedHeader): CommitCertificate {
    const seal = decodeSeal(child.header.seal)
    if (!seal.parentCertificate) throw new BlockError('BAD_SEAL', `header ${child.header.height} carries no certificate for its parent`)
    return seal.parentCertificate
  }

  /** A block's own certificate (the source's finality proof), decoded; checked by the caller. */
  private async commitOf(src: HeaderSource, l: LinkedHeader): Promise<CommitCertificate> {
    const raw = await src.finalityProof(l.header.height)
    if (!raw) throw new BlockError('MISSING_PROOF', `no commit certificate for block ${l.header.height}`)
    try {
      return decodeCertificate(raw)
    } catch (err) {
      throw new BlockError('BAD_PROOF', `commit certificate of block ${l.header.height}: ${(err as Error).message}`)
    }
  }
}
