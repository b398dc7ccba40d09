/**
 * The PoH engine (the solana-like chain): every node keeps the fork tree of the blocks above
 * its root with the validators' latest votes (votes gossiped on the consensus topic and votes
 * carried in blocks), moves its head to the heaviest fork by stake (host.reorganize), and
 * reports confirmed (RPC `safe`) and rooted (RPC `finalized`) blocks. A validator also runs
 * the PoH clock and produces the blocks of its leader slots (leader.ts), and votes on the
 * blocks it replayed following Tower BFT's lockouts (its tower is written durably before each
 * vote is signed).
 * @module
 */
import { join } from 'node:path'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Block, BlockHeader } from '../../chain/block.ts'
import type { ImportedBlock } from '../../chain/chain.ts'
import type { Finality as ChainFinality } from '../../chain/rules.ts'
import type { PohEngineSpec } from '../../chain/spec/index.ts'
import { privateKeyToAddress } from '../../crypto/secp256k1.ts'
import { FileWalStorage } from '../bft/wal.ts'
import type { ConsensusTransport, TransportVerdict } from '../bft-engine/transport.ts'
import {
  ForkChoice,
  PohGenerator,
  SLOTS_PER_LEADER,
  PohVerifier,
  Tower,
  decodePohVote,
  epochOf,
  signPohVote,
  verifyPohVote,
  type SignedPohVote,
} from '../poh/index.ts'
import { EngineUnavailableError, type ConsensusEngine, type EngineHost, type EngineReadings, type EngineRpcMethod } from '../types.ts'
import { PohLeader, type Byzantine, type PohBase } from './leader.ts'
import { MAX_SKIPPED_SLOTS, PohRules } from './rules.ts'
import type { ScheduleChain } from './schedule-source.ts'
import { MAX_SEAL_EVIDENCE, decodePohSeal } from './seal.ts'
import { blockPohView, leaderScheduleView } from './rpc-views.ts'
import { VotePool } from './vote-pool.ts'
import { DuplicateWatch } from './duplicate-watch.ts'
import { lastSignedSlotFile, readRootFile, writeRootFile } from './engine-files.ts'

/** Votes for slots further ahead of our head than this are not taken (they could only wait). */
const VOTE_WINDOW_SLOTS = 256n
const GOSSIP_PENALTY = 20
/** Txs go to the leaders of this many leader groups (4 slots each) from now: the current and the next. */
const TX_FORWARD_GROUPS = 2n

export interface PohEngineOptions {
  chainId: bigint
  spec: PohEngineSpec
  chain: ScheduleChain
  /** A validator's key; without it the node follows and counts votes but neither leads nor votes. */
  privateKey?: Uint8Array
  /** The consensus topic (votes); without it votes travel only inside blocks. */
  transport?: ConsensusTransport
  datadir: string
  /** PoH verification threads (default 2). */
  verifierThreads?: number
  /** Attack labs and slashing tests: how this validator misbehaves as a leader (leader.ts Byzantine). */
  byzantine?: Byzantine
}

export class PohEngine implements ConsensusEngine {
  readonly type = 'poh'
  readonly producer: Uint8Array
  readonly rules: PohRules
  readonly readings: EngineReadings
  private readonly verifier: PohVerifier
  private host!: EngineHost
  private fc!: ForkChoice
  private tower: Tower | undefined
  private towerFile: FileWalStorage | undefined
  private gen: PohGenerator | undefined
  private leader: PohLeader | undefined
  private readonly pool = new VotePool()
  private readonly duplicates = new DuplicateWatch()
  private readonly offs: Array<() => void> = []
  private queue: Promise<void> = Promise.resolve()
  private stakesEpoch = -1n
  private stopped = false
  private readonly counts = { votesIn: 0, votesRejected: 0, votesSent: 0, reorgs: 0 }

  constructor(private readonly o: PohEngineOptions) {
    this.verifier = new PohVerifier({ threads: o.verifierThreads ?? 2 })
    this.rules = new PohRules({ chainId: o.chainId, spec: o.spec, chain: o.chain, verifier: this.verifier })
    this.rules.finalityProvider = () => this.chainFinality()
    this.producer = o.privateKey ? privateKeyToAddress(o.privateKey) : new Uint8Array(20)
    this.readings = {
      kind: 'poh',
      slot: () => Number(this.leader?.currentSlot() ?? this.headSlot()),
      hashrate: () => this.gen?.hashrate() ?? 0,
      stats: () => ({ ...this.counts, duplicates: this.duplicates.evidenceFound, ...(this.leader?.stats() ?? { produced: 0, skippedOwn: 0 }) }),
    }
  }

  async start(host: EngineHost): Promise<void> {
    this.host = host
    this.fc = this.loadForkTree()
    if (this.o.privateKey) this.loadTower()
    if (this.o.transport) this.offs.push(this.o.transport.onMessage((bytes, from) => this.onVoteGossip(bytes, from)))
    this.offs.push(host.onHead((b) => this.onStored(b)), host.onSideBlock((b) => this.onStored(b)))
    if (this.o.privateKey) await this.startClock(this.o.privateKey)
    host.log.info({ validator: this.o.privateKey ? bytesToHex(this.producer) : null, root: Number(this.fc.root.slot), head: Number(this.headSlot()) }, 'poh engine started')
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const off of this.offs.splice(0)) off()
    this.leader?.close()
    await this.queue.catch(() => undefined)
    await this.gen?.close()
    await this.verifier.close()
    this.towerFile?.close()
  }

  rpcMethods(): Record<string, EngineRpcMethod> {
    return {
      catena_pohStatus: () => this.status(),
      catena_pohLeaderSchedule: (params) => this.leaderScheduleJSON(params[0]),
      catena_getBlockPoh: (params) => this.blockPohJSON(params[0]),
    }
  }

  async txSubmitted(): Promise<void> {}

  /** The current leader and the next ones (distinct, TX_FORWARD_GROUPS leader groups ahead): where txs go. */
  txForwardTargets(): Uint8Array[] {
    if (!this.host) return []
    const head = this.host.head()
    const slot = this.leader?.currentSlot() ?? this.headSlot() + 1n
    const out: Uint8Array[] = []
    const seen = new Set<string>()
    const per = BigInt(SLOTS_PER_LEADER)
    for (let g = 0n; g < TX_FORWARD_GROUPS; g++) {
      const l = this.leaderBytes(slot + g * per, head.hash)
      if (!l) continue
      const key = bytesToHex(l)
      if (seen.has(key)) continue
      seen.add(key)
      out.push(l)
    }
    return out
  }

  /** What the explorer and RPC show: slots, leader, confirmation levels, the clock. */
  status() {
    if (!this.fc) throw new EngineUnavailableError('the poh engine is starting: ask again in a moment')
    const fin = this.fc.finality()
    const slot = this.leader?.currentSlot() ?? this.headSlot()
    const head = this.host.head()
    return {
      slot: Number(slot),
      leader: this.leaderOrNull(slot, head.hash),
      headSlot: Number(this.headSlot()),
      confirmedSlot: Number(fin.confirmed.slot),
      finalizedSlot: Number(fin.finalized.slot),
      rootSlot: Number(this.fc.root.slot),
      hashrate: Math.round(this.gen?.hashrate() ?? 0),
      validator: this.o.privateKey ? bytesToHex(this.producer) : null,
      tower: this.tower ? { root: this.tower.root === null ? null : Number(this.tower.root), votes: this.tower.lockouts.map((l) => ({ slot: Number(l.slot), confirmations: l.confirmationCount })) } : null,
      ...this.counts,
      duplicatesFound: this.duplicates.evidenceFound,
      ...(this.leader?.stats() ?? {}),
    }
  }

  /** The leaders of an epoch (default: the head's) on the head's branch. */
  leaderScheduleJSON(epochParam: unknown) {
    return leaderScheduleView(this.rules.schedules, this.o.spec.slotsPerEpoch, this.headSlot(), this.host.head().hash, epochParam)
  }

  blockPohJSON(id: unknown) {
    return blockPohView(this.host, id)
  }

  // ---------- fork tree ----------

  private loadForkTree(): ForkChoice {
    const chain = this.o.chain
    const saved = readRootFile(this.rootPath())
    let rootHash = chain.genesisHash
    let rootSlot = 0n
    if (saved && chain.isCanonical(saved.hash)) {
      rootHash = saved.hash
      rootSlot = saved.slot
    }
    const rootHeader = chain.getHeader(rootHash)!
    const fc = new ForkChoice({ slot: rootSlot, hash: rootHash }, this.rules.schedules.scheduleFor(this.headSlot(), this.host.head().hash).stakes)
    const head = this.host.head().header.height
    for (let h = rootHeader.height + 1n; h <= head; h++) {
      const block = this.host.blockAt(h)
      if (block) this.addToTree(fc, block.header, chain.getHashAt(h)!)
    }
    return fc
  }

  /** A stored block into the tree, with the votes its seal carries. */
  private addToTree(fc: ForkChoice, header: BlockHeader, hash: Uint8Array): void {
    const seal = decodePohSeal(header.seal)
    try {
      fc.addBlock({ slot: seal.slot, hash, parentHash: header.parentHash })
    } catch (err) {
      this.host.log.debug({ slot: Number(seal.slot), err: (err as Error).message }, 'poh: block not added to the fork tree')
      return
    }
    const votes: SignedPohVote[] = []
    for (const bytes of seal.votes) {
      const v = decodePohVote(bytes) // verified at import
      votes.push(v)
      try {
        fc.applyVote({ voter: v.voter, slot: v.slot, hash: v.hash, root: v.root })
      } catch {
        // A vote naming a known block with another slot: it counts for nothing.
      }
    }
    this.pool.carriedIn(votes)
  }

  private onStored(b: ImportedBlock): void {
    if (this.stopped) return
    this.addToTree(this.fc, b.block.header, b.hash)
    const ev = this.duplicates.observe(b.block.header)
    if (ev) this.host.log.warn({ leader: bytesToHex(ev.a.leader), slot: Number(ev.a.slot), a: bytesToHex(ev.a.blockHash), b: bytesToHex(ev.b.blockHash) }, 'poh: a leader signed two blocks for one slot; evidence pooled for slashing')
    this.schedule()
  }

  /** One pass of choose-and-vote at a time, after whatever caused it. */
  private schedule(): void {
    this.queue = this.queue.then(() => this.choose()).catch((err) => this.host.log.warn({ err: (err as Error).message }, 'poh: fork choice pass failed'))
  }

  /** Follows the heaviest fork, advances the root, resets the clock to the head, votes. */
  private async choose(): Promise<void> {
    if (this.stopped) return
    this.refreshStakes()
    const best = this.fc.head()
    const head = this.host.head()
    if (!equalsBytes(best.hash, head.hash) && this.host.blockByHash(best.hash)) {
      try {
        await this.host.reorganize(best.hash)
        this.counts.reorgs++
        this.host.log.info({ from: bytesToHex(head.hash), to: bytesToHex(best.hash), slot: Number(best.slot) }, 'poh: switched to the heaviest fork')
      } catch (err) {
        this.host.log.warn({ to: bytesToHex(best.hash), err: (err as Error).message }, 'poh: could not switch to the heaviest fork')
      }
    }
    this.advanceRoot()
    this.leader?.resetTo(this.baseOf(this.host.head()))
    this.vote()
  }

  private refreshStakes(): void {
    const head = this.host.head()
    const slot = this.headSlot()
    const epoch = epochOf(slot, this.o.spec.slotsPerEpoch)
    if (epoch === this.stakesEpoch) return
    this.stakesEpoch = epoch
    this.fc.setStakes(this.rules.schedules.scheduleFor(slot, head.hash).stakes)
  }

  private advanceRoot(): void {
    const fin = this.fc.finalized()
    if (fin.slot <= this.fc.root.slot) return
    this.fc.prune(fin.hash)
    writeRootFile(this.rootPath(), fin)
  }

  private chainFinality(): ChainFinality {
    if (!this.fc) return { finalized: 0n, safe: 0n }
    const height = (hash: Uint8Array) => this.o.chain.getHeader(hash)?.height ?? 0n
    const fin = this.fc.finality()
    return { finalized: height(fin.finalized.hash), safe: height(fin.confirmed.hash) }
  }

  // ---------- votes ----------

  private onVoteGossip(bytes: Uint8Array, from: string): TransportVerdict {
    let v: SignedPohVote
    try {
      v = decodePohVote(bytes)
    } catch {
      return this.rejectVote(from, 'undecodable vote')
    }
    const root = this.fc.root.slot
    if (v.slot <= root) return 'ignore'
    try {
      verifyPohVote(v, { chainId: this.o.chainId, stakes: this.stakes(), maxSlot: this.headSlot() + VOTE_WINDOW_SLOTS, minSlot: root })
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'FUTURE_SLOT' || code === 'STALE_SLOT') return 'ignore'
      return this.rejectVote(from, (err as Error).message)
    }
    let outcome
    try {
      outcome = this.fc.applyVote({ voter: v.voter, slot: v.slot, hash: v.hash, root: v.root })
    } catch (err) {
      return this.rejectVote(from, (err as Error).message)
    }
    if (outcome === 'stale' || outcome === 'no-stake') return 'ignore'
    this.counts.votesIn++
    this.pool.add(v)
    this.schedule()
    return 'accept'
  }

  private rejectVote(from: string, why: string): TransportVerdict {
    this.counts.votesRejected++
    this.host.log.debug({ peer: from, why }, 'poh: vote refused')
    this.o.transport?.penalize(from, GOSSIP_PENALTY, `invalid poh vote: ${why}`)
    return 'reject'
  }

  /**
   * Votes for the head if it replayed it and the tower allows: lockouts (no switching off a
   * fork still locked), and Solana's threshold: the vote VOTE_THRESHOLD_DEPTH (8) deep must
   * already be confirmed by the cluster. Tower written durably before signing.
   */
  private vote(): void {
    const tower = this.tower
    if (!tower || !this.o.privateKey || this.stopped) return
    const head = this.host.head()
    if (head.header.height === 0n) return
    const slot = decodePohSeal(head.header.seal).slot
    if (tower.lastVotedSlot !== null && slot <= tower.lastVotedSlot) return
    let inTree: Set<bigint>
    try {
      inTree = this.fc.ancestorSlots(head.hash)
    } catch {
      return
    }
    // Below the tree's root (finalized, on the head's branch) the ancestors are the canonical blocks.
    const root = this.fc.root
    const rootHeight = this.o.chain.getHeader(root.hash)?.height ?? 0n
    const ancestors = (s: bigint) => inTree.has(s) || (s <= root.slot && this.rules.schedules.canonicalHasSlot(s, rootHeight))
    if (!tower.canVote(slot, ancestors).ok) return
    const threshold = tower.thresholdSlot(slot)
    if (threshold !== undefined && !this.confirmedAt(head.hash, threshold)) return
    tower.recordVote(slot, head.hash, ancestors, BigInt(Math.floor(Date.now() / 1000)))
    this.towerFile!.replace(tower.encode())
    const vote = signPohVote(tower.lastVoteMessage()!, this.o.privateKey, this.o.chainId)
    try {
      this.fc.applyVote({ voter: vote.voter, slot: vote.slot, hash: vote.hash, root: vote.root })
    } catch {
      // our own vote always fits the tree
    }
    this.pool.add(vote)
    this.o.transport?.broadcast(this.pool.bytesOf(vote))
    this.counts.votesSent++
  }

  /** Whether the ancestor of `hash` at `slot` (or the nearest one below it) has more than 2/3 of the stake voting on it. */
  private confirmedAt(hash: Uint8Array, slot: bigint): boolean {
    let h: Uint8Array | undefined = hash
    for (let i = 0; h && i < 64; i++) {
      const header = this.o.chain.getHeader(h)
      if (!header || header.height === 0n) return true
      if (decodePohSeal(header.seal).slot <= slot) return this.stakes().isSupermajority(this.fc.votedStake(h)) || this.fc.root.slot >= slot
      h = header.parentHash
    }
    return true
  }

  /** The votes and evidence a block of ours carries: only those the rules accept for it. */
  private sealExtras(slot: bigint, parentHash: Uint8Array): { votes: Uint8Array[]; evidence: Uint8Array[] } {
    const candidates = this.pool.forBlock(slot)
    const votes: Uint8Array[] = []
    for (const v of candidates) {
      const bytes = this.pool.bytesOf(v)
      try {
        this.rules.sealVotes({ ...emptySeal(slot), votes: [bytes] }, parentHash)
        votes.push(bytes)
      } catch {
        // e.g. a voter without stake in this block's epoch
      }
    }
    const evidence: Uint8Array[] = []
    for (const bytes of this.duplicates.forBlock(slot, MAX_SEAL_EVIDENCE)) {
      try {
        this.rules.sealEvidence({ ...emptySeal(slot), evidence: [bytes] }, parentHash)
        evidence.push(bytes)
      } catch {
        // e.g. expired, or a schedule this branch does not know
      }
    }
    return { votes, evidence }
  }

  private loadTower(): void {
    this.towerFile = new FileWalStorage(join(this.o.datadir, 'poh-tower'))
    const bytes = this.towerFile.read()
    this.tower = bytes.length > 0 ? Tower.decode(bytes, this.producer) : Tower.create(this.producer)
  }

  // ---------- clock ----------

  private async startClock(privateKey: Uint8Array): Promise<void> {
    const base = this.baseOf(this.host.head())
    const spec = this.o.spec
    this.gen = new PohGenerator({
      startHash: base.end,
      hashesPerTick: spec.hashesPerTick,
      ticksPerSlot: spec.ticksPerSlot,
      tickHeight: Number((base.slot + 1n) * BigInt(spec.ticksPerSlot)),
      ...(spec.minTickMs ? { minTickMs: spec.minTickMs } : {}),
    })
    this.gen.onError((err) => this.host.log.error({ err: err.message }, 'poh: the clock thread failed; this validator no longer leads'))
    await this.gen.ready()
    const host = this.host
    this.leader = new PohLeader(this.gen, {
      log: host.log,
      chainId: this.o.chainId,
      address: this.producer,
      privateKey,
      ticksPerSlot: spec.ticksPerSlot,
      clock: { hashesPerTick: spec.hashesPerTick, ticksPerSlot: spec.ticksPerSlot },
      slotMs: this.rules.slotMs,
      maxSlots: MAX_SKIPPED_SLOTS,
      leaderOf: (slot, parentHash) => this.leaderBytes(slot, parentHash),
      head: () => host.head(),
      build: ({ timestamp, presetSeal, deadline, parentHash }) => host.build({ timestamp, producer: this.producer, presetSeal, deadline, ...(parentHash ? { parentHash } : {}) }),
      commit: async (executed) => {
        await host.commit(executed, new Uint8Array(0))
      },
      sealExtras: (slot, parentHash) => this.sealExtras(slot, parentHash),
      lastSigned: lastSignedSlotFile(join(this.o.datadir, 'poh-last-signed')),
      ...(this.o.byzantine ? { byzantine: this.o.byzantine, publish: (block: Block) => host.publishBlock(block), parentOf: (hash: Uint8Array) => this.parentBase(hash) } : {}),
    })
    this.leader.resetTo(base)
  }

  /** The stored parent of block `hash` as a clock base (undefined for genesis or unknown). */
  private parentBase(hash: Uint8Array): PohBase | undefined {
    const header = this.o.chain.getHeader(hash)
    if (!header || header.height === 0n) return undefined
    const parent = this.o.chain.getHeader(header.parentHash)
    return parent && this.baseOf({ hash: header.parentHash, header: parent })
  }

  private baseOf(head: { hash: Uint8Array; header: BlockHeader }): PohBase {
    const { slot, end } = this.rules.pohEndOf(head.header, head.hash)
    return { hash: head.hash, header: head.header, slot, end }
  }

  // ---------- helpers ----------

  private headSlot(): bigint {
    const head = this.host.head()
    return head.header.height === 0n ? 0n : decodePohSeal(head.header.seal).slot
  }

  private stakes() {
    return this.rules.schedules.scheduleFor(this.headSlot(), this.host.head().hash).stakes
  }

  private leaderBytes(slot: bigint, parentHash: Uint8Array): Uint8Array | undefined {
    try {
      return this.rules.schedules.leaderAt(slot, parentHash)
    } catch {
      return undefined
    }
  }

  private leaderOrNull(slot: bigint, parentHash: Uint8Array): string | null {
    const l = this.leaderBytes(slot, parentHash)
    return l ? bytesToHex(l) : null
  }

  private rootPath(): string {
    return join(this.o.datadir, 'poh-root')
  }
}

function emptySeal(slot: bigint) {
  return { slot, parentSlot: 0n, pohStart: new Uint8Array(32), pohEnd: new Uint8Array(32), entries: [], votes: [], evidence: [], signature: new Uint8Array(0) }
}
