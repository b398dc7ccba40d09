/**
 * The `bft` consensus engine (PoA and PoS): Tendermint rounds among the validator set of each
 * height. BftDriver does the protocol and all signing (after its WAL); this class wires it to
 * the chain (build a proposal, validate one, commit the decided block with its certificate)
 * and to a ConsensusTransport. Its rules for blocks (rules.ts) are what every node applies.
 *
 * Trust: every message from a peer is verified before the transport may relay it (incoming.ts);
 * a proposal's block is kept only when its header hashes to what the proposer signed; a block
 * whose body was missed, late or evicted is fetched by hash until it arrives (its validity is
 * never decided by timing); a decided block is committed durably together with its commit
 * certificate, in one batch, before the vote log forgets its height; lagging nodes catch up by
 * block sync, one certified block at a time.
 * @module
 */
import type { Commons } from '../../execution/common.ts'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { blockHash, encodeBlockEnvelope, type Block, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { ImportedBlock } from '../../chain/chain.ts'
import type { ExecutedBlock } from '../../chain/import.ts'
import { privateKeyToAddress } from '../../crypto/secp256k1.ts'
import {
  BftDriver,
  VoteWal,
  decodeCertificate,
  encodeCertificate,
  encodeMessage,
  signVote,
  encodeEvidence,
  type DuplicateVoteEvidence,
  type CommitCertificate,
  type ConsensusMessage,
  type Decision,
  type TimeoutInfo,
  type WalStorage,
} from '../bft/index.ts'
import type { ConsensusEngine, EngineHost, EngineReadings, EngineRpcMethod } from '../types.ts'
import { openWalStorage } from './files.ts'
import { ValidatorSchedule, toTimeoutConfig, type BftEngineConfig, type MembershipAt } from './config.ts'
import { encodeSeal, decodeSeal } from './seal.ts'
import { BftRules } from './rules.ts'
import { commitView } from './commit-view.ts'
import { ProposedBlocks } from './proposed-blocks.ts'
import { EvidencePool } from './evidence-pool.ts'
import { Incoming } from './incoming.ts'
import { encodeEngineMessage, type ConsensusTransport, type EngineMessage } from './transport.ts'


/** The share of the propose timeout a proposer spends pulling txs (buildBudgetMs). */
export const BUILD_BUDGET_DIVISOR = 3
export interface BftEngineOptions {
  chainId: bigint
  config: BftEngineConfig
  /** This validator's key (the node's validator key file); without one the node follows consensus without voting. */
  privateKey?: Uint8Array
  transport: ConsensusTransport
  /** Decodes txs with the Common of their block's height. */
  common: Commons
  /** Where the vote WAL lives; or a WAL storage (tests). */
  datadir?: string
  walStorage?: WalStorage
  /** Wall clock in seconds. */
  now?: () => bigint
  /** How often a missing proposed block is asked for by hash while consensus waits for it. */
  fetchRetryMs?: number
  /** Re-send our own messages of the current height this often (peers that were away catch up). */
  regossipMs?: number
  /** Permissioned and PoS chains: the validators voted on chain or staked, by height (else the chain spec's, fixed). */
  membership?: MembershipAt
  /**
   * Misbehave on purpose, for the attack lab and slashing tests: 'double-vote' also signs and
   * sends a conflicting prevote (for nil) whenever this validator prevotes for a block.
   */
  byzantine?: 'double-vote'
}

/** Proposed blocks kept while their height is undecided (more are fetched by hash when needed). */
const MAX_PENDING_BLOCKS = 16

/** Counts for metrics: votes verified and counted for the first time (ours included), and new evidence pooled. */
export interface BftEngineStats {
  prevotes: number
  precommits: number
  evidence: number
}

export class BftEngine implements ConsensusEngine {
  readonly type = 'bft'
  readonly producer: Uint8Array
  readonly stats: BftEngineStats = { prevotes: 0, precommits: 0, evidence: 0 }
  readonly readings: EngineReadings = { kind: 'bft', round: () => this.driver?.state.round ?? 0, stats: () => this.stats }
  readonly rules: BftRules
  readonly schedule: ValidatorSchedule
  private host?: EngineHost
  private driver?: BftDriver
  private incoming?: Incoming
  private wal?: VoteWal
  private unsubscribe: Array<() => void> = []
  private stopped = false
  private readonly timers = new Set<NodeJS.Timeout>()
  private startTimer?: NodeJS.Timeout
  private regossipTimer?: NodeJS.Timeout
  /** Chain mutations (decide) one at a time. */
  private chainQueue: Promise<unknown> = Promise.resolve()
  /** The decided block this engine is committing, while it does (its own head event is not a sync). */
  private committing?: Uint8Array
  /** Blocks built or validated at the current height, by hash. */
  private candidates = new Map<string, ExecutedBlock>()
  /** Proposed blocks received or fetched, by hash. */
  private readonly proposed = new ProposedBlocks(MAX_PENDING_BLOCKS)
  /** PoS: verified evidence not yet in a block. */
  private readonly evidence: EvidencePool
  private readonly now: () => bigint

  /** The rules a node applies to this chain's blocks: what the engine uses, for importers built before it. */
  static rulesFor(opts: Pick<BftEngineOptions, 'chainId' | 'config' | 'membership'>): BftRules {
    return new BftRules(opts.chainId, new ValidatorSchedule(opts.config.validators, opts.membership), opts.config.staking)
  }

  constructor(private readonly opts: BftEngineOptions) {
    this.producer = opts.privateKey ? privateKeyToAddress(opts.privateKey) : new Uint8Array(20)
    this.rules = BftEngine.rulesFor(opts)
    this.schedule = this.rules.schedule
    this.evidence = new EvidencePool(this.rules.maxEvidenceAge)
    this.now = opts.now ?? (() => BigInt(Math.floor(Date.now() / 1000)))
  }

  /** The certificate that makes the current head final (stored with it; the seal of the next block). */
  latestCertificate(): CommitCertificate | null {
    const host = this.host
    if (!host) return null
    const head = host.head()
    if (head.header.height === 0n) return null
    const proof = host.proofOf(head.hash)
    return proof ? decodeCertificate(proof) : null
  }

  async start(host: EngineHost): Promise<void> {
    this.host = host
    // A follower signs nothing, so it keeps no vote WAL.
    this.wal = this.opts.privateKey ? VoteWal.open(this.walStorage()) : undefined
    this.driver = new BftDriver({
      chainId: this.opts.chainId,
      privateKey: this.opts.privateKey,
      wal: this.wal,
      timeouts: toTimeoutConfig(this.opts.config.timeouts),
      getValue: (height, round) => this.getValue(height, round),
      validate: (height, hash) => this.validateProposal(height, hash),
      broadcast: (m) => {
        this.broadcast(m)
        if (this.opts.byzantine === 'double-vote') this.doubleVote(m)
      },
      onEvidence: (ev) => void this.addEvidence(ev),
      onAccepted: (m) => {
        if (m.kind === 'vote') this.stats[m.vote.type === 'prevote' ? 'prevotes' : 'precommits']++
      },
      scheduleTimeout: (t, ms) => this.scheduleTimeout(t, ms),
      onDecide: (d) => void this.enqueue(() => this.decided(d)),
      onError: (err) => host.log.warn({ err: err.message }, 'bft driver error'),
    })
    this.incoming = new Incoming({
      chainId: this.opts.chainId,
      commons: this.opts.common,
      driver: this.driver,
      proposed: this.proposed,
      transport: this.opts.transport,
      rules: this.rules,
      head: () => host.head().header.height,
      requestSync: () => host.requestSync(),
      onEvidence: (ev) => this.addEvidence(ev),
      log: host.log,
    })
    const incoming = this.incoming
    this.unsubscribe.push(
      this.opts.transport.onMessage((bytes, from) => (this.stopped ? 'ignore' : incoming.onMessage(bytes, from))),
      this.opts.transport.serveBlocks((hash) => this.blockBytes(bytesToHex(hash))),
      // Block sync may move the head past the height consensus works on: follow it.
      host.onHead((b) => this.onHead(b)),
    )
    const regossip = this.opts.regossipMs ?? 2000
    this.regossipTimer = setInterval(() => this.regossip(), regossip)
    this.startNextHeight()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.driver?.halt()
    for (const u of this.unsubscribe) u()
    this.unsubscribe = []
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    if (this.startTimer) clearTimeout(this.startTimer)
    if (this.regossipTimer) clearInterval(this.regossipTimer)
    this.proposed.close()
    await this.chainQueue.catch(() => undefined)
    this.wal?.close()
  }

  async txSubmitted(): Promise<void> {}

  rpcMethods(): Record<string, EngineRpcMethod> {
    return {
      catena_consensusState: () => this.consensusState(),
      catena_getCommit: (params) => commitView(this.requireHost(), this.schedule, params[0]),
    }
  }

  consensusState() {
    const s = this.driver?.state
    const height = s?.height ?? 0n
    const set = height > 0n ? this.schedule.at(height) : undefined
    const cert = this.latestCertificate()
    return {
      height: `0x${height.toString(16)}`,
      round: s?.round ?? 0,
      step: s?.step ?? 'idle',
      validator: bytesToHex(this.producer),
      proposer: set ? bytesToHex(set.proposer(s?.round ?? 0).address) : null,
      validators: set?.toEntries().map((v) => ({ address: bytesToHex(v.address), power: `0x${v.power.toString(16)}` })) ?? [],
      latestCertificate: cert ? { height: `0x${cert.height.toString(16)}`, round: cert.round, signers: cert.signatures.length } : null,
    }
  }

  /**
   * How long a proposer pulls txs into its block: a third of the round's propose timeout. The
   * validators replay the block in about the time it took to build, and all of it must fit in
   * their propose timeout, so a free-gas chain with a high gas limit never proposes a block
   * that outlasts the round (the gas limit alone does not bound time on a free-gas chain).
   */
  private buildBudgetMs(round: number): number {
    const propose = toTimeoutConfig(this.opts.config.timeouts).propose
    return Math.floor((propose.baseMs + round * propose.deltaMs) / BUILD_BUDGET_DIVISOR)
  }

  // ---- driver callbacks ----

  private async getValue(height: bigint, round: number): Promise<Uint8Array> {
    const host = this.requireHost()
    const head = host.head()
    if (head.header.height + 1n !== height) throw new Error(`asked to propose height ${height} on head ${head.header.height}`)
    const parentCertificate = height === 1n ? null : this.latestCertificate()
    if (height > 1n && !parentCertificate) throw new Error(`cannot propose block ${height}: the certificate of block ${head.header.height} is not stored`)
    const now = this.now()
    const timestamp = now > head.header.timestamp ? now : head.header.timestamp
    const evidence = this.opts.config.staking ? this.evidence.forBlock(height) : []
    const seal = encodeSeal({ round, parentCertificate, ...(evidence.length ? { evidence } : {}) })
    const built = await host.build({ timestamp, producer: this.producer, presetSeal: seal, deadline: Date.now() + this.buildBudgetMs(round) })
    const hash = blockHash(built.block.header)
    this.candidates.set(bytesToHex(hash), built)
    return hash
  }

  /**
   * valid(v): waits until the block with this hash is here (by gossip or fetched by hash from
   * peers, retried) and validates it. Answers false only for a block that is truly invalid:
   * a late body never makes a valid block look invalid. Gives up silently when the height is
   * over (the machine ignores answers for other heights).
   */
  private async validateProposal(height: bigint, hash: Uint8Array): Promise<boolean> {
    const key = bytesToHex(hash)
    if (this.candidates.has(key)) return true
    const retryMs = this.opts.fetchRetryMs ?? 500
    let block: Block | undefined
    for (let attempt = 0; !block; attempt++) {
      if (this.stopped || this.driver?.state.height !== height) return false
      block = this.proposed.get(key) ?? (await this.incoming!.fetch(hash)) ?? (await this.proposed.waitFor(key, Math.min(retryMs * 2 ** Math.min(attempt, 3), 4000)))
    }
    if (this.stopped || this.driver?.state.height !== height || block.header.height !== height) return false
    // Cheap before the proposer lookup, which costs O(round): a block is built no later than the round it is voted in.
    const round = this.driver.state.round
    try {
      if (decodeSeal(block.header.seal).round > round + 1) return false
      const executed = await this.requireHost().validate(block)
      this.candidates.set(key, executed)
      return true
    } catch (err) {
      if (!(err instanceof BlockError)) throw err
      this.host?.log.info({ height: String(height), hash: key, err: err.message }, 'bft proposal is invalid')
      return false
    }
  }

  private scheduleTimeout(t: TimeoutInfo, ms: number): void {
    if (this.stopped) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.driver?.fireTimeout(t)
    }, ms)
    this.timers.add(timer)
  }

  /** The driver decided: commit the block with its certificate (durably), then the next height. */
  private async decided(d: Decision): Promise<void> {
    const host = this.requireHost()
    if (host.head().header.height + 1n !== d.height) return // block sync committed it first
    // valid(v) was true, so the block was built or validated here.
    const executed = this.candidates.get(bytesToHex(d.blockHash))
    if (!executed) throw new Error(`decided block ${bytesToHex(d.blockHash)} at height ${d.height} is not among the validated blocks`)
    this.committing = d.blockHash
    let imported: ImportedBlock
    try {
      imported = await host.commit(executed, encodeCertificate(d.certificate))
    } finally {
      this.committing = undefined
    }
    this.committed(imported, d.certificate.round)
  }

  /**
   * Block gossip of a block this engine is committing (the chain announces it during host.commit)
   * would reach only nodes that already have it: every node that follows consensus, validator or
   * not, got it in the proposal and commits it from the votes it saw, and the copies made each
   * validator that was still committing execute the block a second time for nothing. A node that
   * missed the votes is sent to block sync by the next height's messages (Incoming), or by its
   * periodic status refresh if the chain halts; light clients ask for headers. Blocks that came
   * by sync are announced as before.
   */
  announces(b: ImportedBlock): boolean {
    return this.committing === undefined || !equalsBytes(b.hash, this.committing)
  }

  /** A block became canonical without this engine deciding it (block sync): move consensus on. */
  private onHead(b: ImportedBlock): void {
    if (this.committing || this.stopped || !this.driver) return
    if (b.block.header.height >= this.driver.state.height) this.startNextHeight(this.commitMs())
  }

  // ---- network ----

  /**
   * Our signed message to every peer; a proposal travels with its block when we hold it and
   * it fits a gossip frame (a bigger one is fetched by hash: proposedBlock).
   */
  private broadcast(m: ConsensusMessage): void {
    const block = m.kind === 'proposal' ? this.blockBytes(bytesToHex(m.proposal.blockHash)) : undefined
    const inline = block && block.length <= this.opts.transport.maxInlineBlockBytes ? block : undefined
    this.send(inline ? { kind: 'proposal', message: encodeMessage(m), block: inline } : { kind: 'consensus', message: encodeMessage(m) })
  }

  /** A proposed or built block of the current height, as a peer's fetch is answered. */
  private blockBytes(key: string): Uint8Array | undefined {
    const block = this.candidates.get(key)?.block ?? this.proposed.get(key)
    return block ? encodeBlockEnvelope(block) : undefined
  }

  /** Re-sends our own messages of the current height (a proposal without its block: peers fetch it by hash). */
  private regossip(): void {
    if (this.stopped || !this.driver) return
    this.followHead()
    for (const m of this.driver.ownMessages()) this.send({ kind: 'consensus', message: encodeMessage(m) })
  }

  /** Block sync can move the head past the height the driver works on: start consensus at the new head + 1. */
  private followHead(): void {
    const head = this.requireHost().head().header.height
    if (this.startTimer || this.committing || this.driver!.state.height > head) return
    this.startNextHeight()
  }

  private send(m: EngineMessage): void {
    if (!this.stopped) this.opts.transport.broadcast(encodeEngineMessage(m))
  }

  // ---- evidence (PoS) ----

  /** Evidence of a double vote (verified: by our driver, or by Incoming for a peer's): kept until a block includes it, and gossiped once. */
  private addEvidence(ev: DuplicateVoteEvidence): boolean {
    if (!this.opts.config.staking || !this.evidence.add(ev)) return false
    this.stats.evidence++
    this.host?.log.warn({ validator: bytesToHex(ev.voteA.validator), height: String(ev.voteA.height), round: ev.voteA.round }, 'double vote detected: evidence will be included and slashed')
    this.send({ kind: 'evidence', evidence: encodeEvidence(ev) })
    return true
  }

  private forgetIncludedEvidence(header: BlockHeader): void {
    try {
      this.evidence.committed(decodeSeal(header.seal).evidence ?? [])
    } catch {
      // A committed block's seal was checked on import; nothing to learn from a bad one.
    }
  }

  /** The 'double-vote' misbehaviour: a second, conflicting prevote, signed and sent like a real one (the WAL is bypassed on purpose). */
  private doubleVote(m: ConsensusMessage): void {
    if (m.kind !== 'vote' || m.vote.type !== 'prevote' || m.vote.blockHash === null || !this.opts.privateKey) return
    const conflicting = signVote({ ...m.vote, blockHash: null }, this.opts.privateKey, this.opts.chainId)
    this.host?.log.warn({ height: String(m.vote.height), round: m.vote.round }, 'byzantine: sending a conflicting prevote')
    this.send({ kind: 'consensus', message: encodeMessage({ kind: 'vote', vote: conflicting }) })
  }

  // ---- heights ----

  private committed(imported: ImportedBlock, round: number): void {
    this.forgetIncludedEvidence(imported.block.header)
    const height = imported.block.header.height
    this.host?.log.info({ height: String(height), hash: bytesToHex(imported.hash), round }, 'bft block final')
    this.startNextHeight(this.commitMs())
  }

  private commitMs(): number {
    return this.opts.config.timeouts?.commitMs ?? toTimeoutConfig(undefined).commitMs
  }

  /** Starts the driver at head + 1 (after `delayMs`, to collect late precommits and txs). */
  private startNextHeight(delayMs = 0): void {
    if (this.startTimer) clearTimeout(this.startTimer)
    this.startTimer = setTimeout(() => {
      this.startTimer = undefined
      if (this.stopped || !this.driver || !this.host) return
      const next = this.host.head().header.height + 1n
      if (this.driver.state.height >= next && this.driver.state.step !== 'idle') return
      this.candidates = new Map()
      this.proposed.prune(next - 1n)
      this.driver.startHeight(next, this.schedule.at(next))
    }, delayMs)
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.chainQueue.then(() => (this.stopped ? undefined : job()))
    this.chainQueue = run.catch((err) => this.host?.log.warn({ err: (err as Error).message }, 'bft commit failed'))
    return run.catch(() => undefined)
  }

  private walStorage(): WalStorage {
    if (this.opts.walStorage) return this.opts.walStorage
    if (!this.opts.datadir) throw new Error('the bft engine needs a datadir (or a walStorage) for its vote WAL')
    return openWalStorage(this.opts.datadir)
  }

  private requireHost(): EngineHost {
    if (!this.host) throw new Error('bft engine is not started')
    return this.host
  }
}
