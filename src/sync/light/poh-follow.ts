/**
 * A light client's PoH (solana-like) header follower. Each header past the verified head is
 * checked with the engine's own rules (consensus/poh-engine/rules.ts), over the branch the
 * source shows (poh-branch.ts):
 * - the seal: the slot after the parent's (at most MAX_SKIPPED_SLOTS later), the PoH
 *   continuing the parent's (pohStart = the parent's pohEnd), (slot - parentSlot) x
 *   ticksPerSlot ticks, the last entry a tick ending on pohEnd, the ticks exactly
 *   hashesPerTick apart (poh-verify.ts checkSealTicks); the chain's header rules (height,
 *   time, gas, base fee);
 * - the producer: the slot's leader in the schedule drawn from the stakes after the epoch's
 *   boundary block, and its signature. The stakes are the staking contract's snapshot() run
 *   here over state proven against the header of the block where the node reads them (the
 *   first block of an epoch, or one slashing a leader), as bft-membership.ts does for PoS;
 * - the votes and evidence its seal carries (signature, stake, slot window).
 * The slot's PoH hashes themselves are not re-hashed unless `txHashes` is given (it then
 * needs every body): the votes that confirm a block come from validators that replayed it,
 * hashes included, and the light client trusts more than 2/3 of the stake anyway.
 *
 * Finality: the votes carried in seals, per validator its latest (poh-verify.ts
 * PohVoteTally, the fork choice's rule): a header joins the verified chain (extendFinal) only
 * once validators with more than 2/3 of the epoch's stake voted for it or a descendant
 * (`confirmed`, RPC `safe`). Headers above it are checked and kept for the next round but
 * never served. RPC `finalized` is the highest block more than 2/3 of the stake rooted.
 * @module
 */
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { blockHash, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import { checkHeaderSanity } from '../../chain/header-rules.ts'
import type { BlockRules, Finality } from '../../chain/rules.ts'
import type { ChainSpec, PohEngineSpec } from '../../chain/spec/index.ts'
import { PohRules } from '../../consensus/poh-engine/rules.ts'
import { MAX_SEAL_EVIDENCE, decodePohSeal } from '../../consensus/poh-engine/seal.ts'
import { PohVerifier, epochOf, type StakeSet } from '../../consensus/poh/index.ts'
import { STAKE_SNAPSHOT_CALLDATA, STAKING_ADDRESS, decodeStakeSnapshot, type StakeSnapshot } from '../../contracts/index.ts'
import type { LinkedHeader, SnapshotReader } from './bft-membership.ts'
import { VerificationError, type HeaderFollower, type LightClient } from './client.ts'
import type { LightHeaderChain } from './header-chain.ts'
import type { HeaderSource } from './header-source.ts'
import { PohBranch, SealFactCache } from './poh-branch.ts'
import { PohVoteTally, checkSealTicks, verifySlotPoh, type TallyVote } from './poh-verify.ts'
import { MAX_BATCH } from './source.ts'
import { keccak256 } from '../../crypto/hash.ts'
import { merkleRoot } from '../../crypto/merkle.ts'

/** Stake snapshots kept (one per epoch read; a sync holds a few at once). */
const KEPT_SNAPSHOTS = 64
/** Checked headers above the verified head kept between rounds (their votes, not re-verified). */
const KEPT_CHECKED = 8192

/**
 * The rules the light client reports finality with: safe is the head (a confirmed block),
 * finalized the highest rooted block. Headers are checked by PohHeaderFollow, not here.
 */
export class PohLightRules implements BlockRules {
  readonly maxFutureSeconds = 5n
  readonly maxReorgDepth = 0
  /** Set by the follower: the height of the highest block rooted by more than 2/3 of the stake. */
  rootedHeight?: () => bigint

  verifyHeader(): void {
    throw new Error('PoH headers are checked by the light follower (poh-follow.ts), with the votes that confirm them')
  }

  finality(head: bigint): Finality {
    const rooted = this.rootedHeight?.() ?? 0n
    return { finalized: rooted < head ? rooted : head, safe: head }
  }
}

export interface PohFollowOptions {
  chain: LightHeaderChain
  spec: ChainSpec & { engine: PohEngineSpec }
  /** The staking contract's snapshot() over proven state after a block (start.ts: a local call). */
  read: SnapshotReader
  /** The genesis stake snapshot (buildGenesis gives it), so epochs 0 and 1 need no read. */
  genesisStakes?: Uint8Array
  rules: PohLightRules
  log: Logger
  now?: () => bigint
  /** Re-hash every slot's PoH too: the tx hashes of a block's body, proven against its txRoot. */
  txHashes?: (l: LinkedHeader) => Promise<Uint8Array[]>
}

export class PohHeaderFollow implements HeaderFollower {
  private readonly rules: PohRules
  private readonly facts = new SealFactCache()
  private readonly snapshots = new Map<string, StakeSnapshot>()
  /** Checked headers (by hash) and the votes their seals carry. */
  private readonly checked = new Map<string, TallyVote[]>()
  /** Latest votes carried by the verified (final) chain. */
  private tally = new PohVoteTally()
  private tallyEpoch = -1n
  private branch: PohBranch
  private missing: LinkedHeader | undefined
  private rootedSlot = 0n
  private rootedHeight = 0n
  private pendingAbove = 0
  private readonly stats = { headers: 0, votes: 0, stakeReads: 0, rehashed: 0 }

  constructor(private readonly o: PohFollowOptions) {
    const genesis = o.chain.checkpoint
    if (genesis.header.height !== 0n) throw new Error('the PoH light client starts from genesis (its leader schedules are drawn from the stakes since): --checkpoint is not supported on PoH chains yet')
    if (o.genesisStakes) this.snapshots.set(bytesToHex(genesis.hash), decodeStakeSnapshot(o.genesisStakes))
    this.branch = new PohBranch(o.chain, this.facts)
    const branch = () => this.branch
    this.rules = new PohRules({
      chainId: o.spec.chainId,
      spec: o.spec.engine,
      // No thread starts: the rules' verifyBlock (the only user) is never called here.
      verifier: new PohVerifier({ threads: 1 }),
      chain: {
        genesisHash: genesis.hash,
        getHeader: (hash) => branch().header(hash),
        getHashAt: (height) => branch().at(height)?.hash,
        isCanonical: (hash) => branch().has(hash),
        stakesAfter: (height) => this.stakesAfter(height),
      },
    })
    o.rules.rootedHeight = () => this.rootedHeight
  }

  summary(): string {
    const s = this.stats
    return `${s.headers} PoH headers checked (leader, signature, ticks${s.rehashed ? ', hashes' : ''}), ${s.votes} votes counted in confirmed headers, ${s.stakeReads} stake reads; confirmed ${this.o.chain.head.header.height}, rooted ${this.rootedHeight}, ${this.pendingAbove} unconfirmed above`
  }

  status(): Record<string, unknown> {
    const head = this.o.chain.head
    return {
      engine: 'poh',
      confirmedHeight: Number(head.header.height),
      confirmedSlot: Number(this.facts.of(head).slot),
      rootedHeight: Number(this.rootedHeight),
      rootedSlot: Number(this.rootedSlot),
      unconfirmedAbove: this.pendingAbove,
      headersChecked: this.stats.headers,
      votesInConfirmed: this.stats.votes,
      stakeReads: this.stats.stakeReads,
      slotsRehashed: this.stats.rehashed,
      pohRehash: this.o.txHashes !== undefined,
    }
  }

  /**
   * The source's headers past the verified head, each checked, its seal's votes counted; the
   * headers up to the highest confirmed one join the chain (also when a later one fails: the
   * error is thrown after). Returns how many joined.
   */
  async syncFrom(src: HeaderSource, theirs: bigint, limit: bigint, progress?: (at: bigint) => void): Promise<number> {
    const head = this.o.chain.head
    if (theirs <= head.header.height) return 0
    const last = theirs < head.header.height + limit ? theirs : head.header.height + limit
    const branch = (this.branch = new PohBranch(this.o.chain, this.facts))
    const tally = this.tally.clone()
    const epoch = { at: this.tallyEpoch }
    const minRoot = this.rootedSlot
    let rooted = this.rootedSlot
    let confirmed = 0
    const carried: TallyVote[][] = []
    let failure: unknown
    try {
      for (let from = head.header.height + 1n; from <= last; from += BigInt(MAX_BATCH)) {
        const to = from + BigInt(MAX_BATCH) - 1n < last ? from + BigInt(MAX_BATCH) - 1n : last
        const headers = await src.headers(from, to)
        if (headers.length === 0) break
        for (const header of headers) {
          const l = this.link(branch, header)
          const votes = await this.check(branch, l)
          branch.push(l)
          carried.push(votes)
          const { stakes } = this.count(tally, epoch, l, votes, minRoot)
          const c = tally.confirmedSlot(stakes)
          const h = c === undefined ? undefined : branch.heightOfSlot(c)
          if (h !== undefined && h - head.header.height > BigInt(confirmed)) confirmed = Number(h - head.header.height)
          const r = tally.rootedSlot(stakes)
          if (r !== undefined && r > rooted) rooted = r
        }
        progress?.(from + BigInt(headers.length) - 1n)
        if (headers.length < Number(to - from + 1n)) break
      }
    } catch (err) {
      failure = err
    }
    this.pendingAbove = branch.pushed.length - confirmed
    if (confirmed > 0) this.extend(branch, carried, confirmed, minRoot, rooted)
    if (failure) throw failure
    return confirmed
  }

  /** The header as the child of the branch's tip (a source whose chain left ours is not followed). */
  private link(branch: PohBranch, header: BlockHeader): LinkedHeader {
    const tip = branch.tip
    if (!equalsBytes(header.parentHash, tip.hash)) {
      const where = tip === branch.base ? `the verified (confirmed) head ${tip.header.height}` : `header ${tip.header.height} of the same batch`
      throw new BlockError('UNKNOWN_PARENT', `header ${header.height} does not follow ${where} (its parent hash is ${bytesToHex(header.parentHash)})`)
    }
    return { hash: blockHash(header), header }
  }

  /**
   * Checks one header as the child of the branch's tip and returns its seal's verified votes.
   * A stake snapshot the rules ask for and this client has not read yet is read (proven),
   * then the checks run again: at most once per epoch the seal names (its own, its evidence's).
   */
  private async check(branch: PohBranch, l: LinkedHeader): Promise<TallyVote[]> {
    const key = bytesToHex(l.hash)
    const known = this.checked.get(key)
    if (known) return known
    const parent = branch.tip
    const { spec } = this.o
    checkHeaderSanity(l.header, parent.header, spec, { now: this.o.now?.() ?? BigInt(Math.floor(Date.now() / 1000)), maxFutureSeconds: 5n })
    const seal = decodePohSeal(l.header.seal)
    checkSealTicks(seal.entries, spec.engine.hashesPerTick)
    let votes
    for (let tries = 0; ; tries++) {
      this.missing = undefined
      try {
        this.rules.verifyHeader(l.header, parent.header)
        votes = this.rules.sealVotes(seal, l.header.parentHash)
        this.rules.sealEvidence(seal, l.header.parentHash)
        break
      } catch (err) {
        const need = this.missing as LinkedHeader | undefined
        if (!need || tries > MAX_SEAL_EVIDENCE + 1) throw err
        await this.readStakes(need)
      }
    }
    if (this.o.txHashes) {
      verifySlotPoh(seal, await this.o.txHashes(l), spec.engine)
      this.stats.rehashed++
    }
    this.stats.headers++
    const out = votes.map((v) => ({ voter: v.voter, slot: v.slot, hash: v.hash, root: v.root }))
    this.checked.set(key, out)
    if (this.checked.size > KEPT_CHECKED) this.checked.delete(this.checked.keys().next().value!)
    return out
  }

  /** Counts a checked header's votes; returns the stakes they are weighed with (its epoch's) and how many counted. */
  private count(tally: PohVoteTally, epoch: { at: bigint }, l: LinkedHeader, votes: TallyVote[], minRoot: bigint): { stakes: StakeSet; applied: number } {
    const slot = this.facts.of(l).slot
    const stakes = this.rules.schedules.scheduleFor(slot, l.header.parentHash).stakes
    const e = epochOf(slot, this.o.spec.engine.slotsPerEpoch)
    if (e !== epoch.at) {
      tally.keepStaked(stakes)
      epoch.at = e
    }
    let applied = 0
    for (const v of votes) if (tally.apply(v, (s) => this.branch.hashAtSlot(s), minRoot) === 'applied') applied++
    return { stakes, applied }
  }

  /** The first `n` headers of the round join the chain; the kept tally replays their votes. */
  private extend(branch: PohBranch, carried: TallyVote[][], n: number, minRoot: bigint, rootedSlot: bigint): void {
    const joining = branch.pushed.slice(0, n)
    this.o.chain.extendFinal(joining.map((l) => l.header))
    const epoch = { at: this.tallyEpoch }
    joining.forEach((l, i) => (this.stats.votes += this.count(this.tally, epoch, l, carried[i]!, minRoot).applied))
    this.tallyEpoch = epoch.at
    // Rooted blocks are confirmed ones (a root is at or below its vote): on the chain now.
    const rooted = branch.heightOfSlot(rootedSlot)
    if (rooted !== undefined && rooted <= this.o.chain.head.header.height && rooted > this.rootedHeight) {
      this.rootedHeight = rooted
      this.rootedSlot = rootedSlot
    }
    this.o.log.debug({ head: Number(this.o.chain.head.header.height), rooted: Number(this.rootedHeight) }, 'light: poh headers confirmed')
  }

  /**
   * The stakes the node holds after block `height` of the branch: the snapshot read after
   * the last block at or below it where the node reads them (genesis, the first block of an
   * epoch, a block slashing a leader). Unread: noted in `missing` for check() to read.
   */
  private stakesAfter(height: bigint): StakeSnapshot | undefined {
    const at = this.readBlockAtOrBelow(height)
    const snapshot = this.snapshots.get(bytesToHex(at.hash))
    if (!snapshot) this.missing = at
    return snapshot
  }

  private readBlockAtOrBelow(height: bigint): LinkedHeader {
    const spe = this.o.spec.engine.slotsPerEpoch
    // The first block of an epoch reads, so the walk is at most one epoch of blocks.
    for (let h = height, steps = 0; ; h--, steps++) {
      const l = this.branch.at(h)
      if (!l) throw new BlockError('UNKNOWN_PARENT', `block ${h} is not on the branch being checked`)
      if (h === 0n) return l
      const f = this.facts.of(l)
      if (f.evidence > 0 || epochOf(f.slot, spe) !== epochOf(f.parentSlot, spe)) return l
      if (steps > spe) throw new BlockError('BAD_SEAL', `no stake read within ${spe} blocks below block ${height}`)
    }
  }

  private async readStakes(at: LinkedHeader): Promise<void> {
    const raw = await this.o.read(at, Uint8Array.from(Buffer.from(STAKING_ADDRESS.slice(2), 'hex')), STAKE_SNAPSHOT_CALLDATA)
    this.stats.stakeReads++
    this.snapshots.set(bytesToHex(at.hash), decodeStakeSnapshot(raw))
    if (this.snapshots.size > KEPT_SNAPSHOTS) this.snapshots.delete(this.snapshots.keys().next().value!)
  }
}

/** The tx hashes of a block's body (for the opt-in re-hash), the body proven against the header's txRoot. */
export function provenTxHashes(client: LightClient, l: LinkedHeader): Promise<Uint8Array[]> {
  return client.verified(
    `the txs of block ${l.header.height}`,
    (src) => src.call<`0x${string}`[] | null>('catena_getBlockBody', [{ blockHash: bytesToHex(l.hash) }]),
    (raws) => {
      if (!Array.isArray(raws)) throw new VerificationError('no body')
      const bytes = raws.map((r) => hexToBytes(r))
      if (!equalsBytes(merkleRoot(bytes), l.header.txRoot)) throw new VerificationError(`the txs do not hash to the tx root ${bytesToHex(l.header.txRoot)}`)
      return bytes.map((b) => keccak256(b))
    },
  )
}
