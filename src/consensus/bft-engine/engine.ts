/**
 * The `bft` consensus engine (PoA): Tendermint rounds among a fixed validator set from the
 * chain spec. BftDriver does the protocol and all signing (after its WAL); this class wires it
 * to the chain (build a proposal, validate one, commit the decided block) and to a
 * ConsensusTransport (consensus messages, proposed blocks, decided blocks for catch-up).
 *
 * Block h carries the certificate of block h-1 in its seal (seal.ts); the certificate of the
 * newest block is kept here (`latestCertificate`), sent with decided-block announcements,
 * and saved beside the WAL so a restarted proposer can still seal its next block.
 * @module
 */
import type { Commons } from '../../execution/common.ts'
import { bytesToHex } from '@ethereumjs/util'
import { blockHash, type Block, type BlockHeader } from '../../chain/block.ts'
import type { ImportedBlock } from '../../chain/chain.ts'
import type { BlockExecutionInputs, ExecutedBlock } from '../../chain/import.ts'
import { privateKeyToAddress } from '../../crypto/secp256k1.ts'
import { decodeBlock, encodeBlock } from '../../chain/block.ts'
import {
  BftDriver,
  VoteWal,
  decodeCertificate,
  decodeMessage,
  encodeCertificate,
  encodeMessage,
  verifyCertificate,
  verifyEvidence,
  encodeEvidence,
  decodeEvidence,
  signVote,
  type DuplicateVoteEvidence,
  type CommitCertificate,
  type ConsensusMessage,
  type Decision,
  type TimeoutInfo,
  type WalStorage,
} from '../bft/index.ts'
import type { ConsensusEngine, EngineHost, EngineRpcMethod } from '../types.ts'
import { loadCertificate, openWalStorage, saveCertificate } from './files.ts'
import { isBftHost, type BftHost } from './host.ts'
import { ValidatorSchedule, toTimeoutConfig, type BftEngineConfig, type MembershipAt } from './config.ts'
import { BftSealVerifier, MAX_EVIDENCE_AGE, decodeSeal, encodeSeal } from './seal.ts'
import { ProposedBlocks } from './proposed-blocks.ts'
import { EvidencePool } from './evidence-pool.ts'
import { decodeEngineMessage, encodeEngineMessage, type ConsensusTransport, type EngineMessage } from './transport.ts'

export interface BftEngineOptions {
  chainId: bigint
  config: BftEngineConfig
  /** This validator's key (the node's validator key file); without one the node follows consensus without voting. */
  privateKey?: Uint8Array
  transport: ConsensusTransport
  /** To decode blocks from peers. */
  /** Decodes txs with the Common of their block's height. */
  common: Commons
  /** Where the vote WAL and the latest certificate live; or a WAL storage (tests). */
  datadir?: string
  walStorage?: WalStorage
  /** Wall clock in seconds. */
  now?: () => bigint
  /** How long validate() waits for a proposed block that has not arrived yet. */
  blockWaitMs?: number
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

/** Blocks received and kept while their height is undecided. */
const MAX_PENDING_BLOCKS = 64
const WANT_INTERVAL_MS = 200

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
  readonly maxFutureSeconds: bigint
  /** A committed block is final: import keeps no other branch. */
  readonly maxReorgDepth = 0
  readonly schedule: ValidatorSchedule
  private readonly verifier: BftSealVerifier
  private host?: BftHost
  private driver?: BftDriver
  private wal?: VoteWal
  private unsubscribe?: () => void
  private stopped = false
  private readonly timers = new Set<NodeJS.Timeout>()
  private startTimer?: NodeJS.Timeout
  private regossipTimer?: NodeJS.Timeout
  /** Chain mutations (decide, catch-up) one at a time. */
  private chainQueue: Promise<unknown> = Promise.resolve()
  /** Blocks built or validated at the current height, by hash. */
  private candidates = new Map<string, ExecutedBlock>()
  /** Proposed blocks received, by hash. */
  private readonly proposed = new ProposedBlocks(MAX_PENDING_BLOCKS)
  private latestCert: CommitCertificate | null = null
  /** PoS: verified evidence not yet in a block. */
  private readonly evidence = new EvidencePool()
  private lastWant = 0
  private highestSeen = 0n
  private readonly now: () => bigint

  constructor(private readonly opts: BftEngineOptions) {
    this.producer = opts.privateKey ? privateKeyToAddress(opts.privateKey) : new Uint8Array(20)
    this.schedule = new ValidatorSchedule(opts.config.validators, opts.membership)
    this.verifier = new BftSealVerifier(opts.chainId, this.schedule, opts.config.staking)
    this.maxFutureSeconds = this.verifier.maxFutureSeconds
    this.now = opts.now ?? (() => BigInt(Math.floor(Date.now() / 1000)))
  }

  verifyHeader(header: BlockHeader, parent: BlockHeader): void {
    this.verifier.verifyHeader(header, parent)
  }

  executionInputs(header: Pick<BlockHeader, 'height' | 'seal'>): BlockExecutionInputs {
    return this.verifier.executionInputs(header)
  }

  async seal(_header: BlockHeader): Promise<BlockHeader> {
    throw new Error('bft blocks are sealed by consensus, not by produce(): use the BFT host steps')
  }

  /** The certificate that makes the current head final (the seal of the next block). */
  latestCertificate(): CommitCertificate | null {
    return this.latestCert
  }

  async start(host: EngineHost): Promise<void> {
    if (!isBftHost(host)) throw new Error('the bft engine needs a host with build/validate/commit/blockAt (BftHost)')
    this.host = host
    // A follower signs nothing, so it keeps no vote WAL.
    this.wal = this.opts.privateKey ? VoteWal.open(this.walStorage()) : undefined
    this.latestCert = this.opts.datadir ? loadCertificate(this.opts.datadir, host.head(), this.schedule, this.opts.chainId) : null
    this.driver = new BftDriver({
      chainId: this.opts.chainId,
      privateKey: this.opts.privateKey,
      wal: this.wal,
      timeouts: toTimeoutConfig(this.opts.config.timeouts),
      getValue: (height, round) => this.getValue(height, round),
      validate: (height, hash) => this.validateProposal(height, hash),
      broadcast: (m) => {
        this.send({ kind: 'consensus', message: encodeMessage(m) })
        if (this.opts.byzantine === 'double-vote') this.doubleVote(m)
      },
      onEvidence: (ev) => this.addEvidence(ev, 'seen'),
      onAccepted: (m) => {
        if (m.kind === 'vote') this.stats[m.vote.type === 'prevote' ? 'prevotes' : 'precommits']++
      },
      scheduleTimeout: (t, ms) => this.scheduleTimeout(t, ms),
      onDecide: (d) => void this.enqueue(() => this.decided(d)),
      onError: (err) => host.log.warn({ err: err.message }, 'bft driver error'),
    })
    this.unsubscribe = this.opts.transport.onMessage((bytes, from) => this.onMessage(bytes, from))
    const regossip = this.opts.regossipMs ?? 2000
    this.regossipTimer = setInterval(() => this.regossip(), regossip)
    const head = host.head()
    if (head.header.height > 0n && !this.latestCert) this.send({ kind: 'want', height: head.header.height })
    this.startNextHeight()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.driver?.halt()
    this.unsubscribe?.()
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
    return { catena_consensusState: () => this.consensusState() }
  }

  consensusState() {
    const s = this.driver?.state
    const height = s?.height ?? 0n
    const set = height > 0n ? this.schedule.at(height) : undefined
    return {
      height: `0x${height.toString(16)}`,
      round: s?.round ?? 0,
      step: s?.step ?? 'idle',
      validator: bytesToHex(this.producer),
      proposer: set ? bytesToHex(set.proposer(s?.round ?? 0).address) : null,
      validators: set?.toEntries().map((v) => ({ address: bytesToHex(v.address), power: `0x${v.power.toString(16)}` })) ?? [],
      latestCertificate: this.latestCert ? { height: `0x${this.latestCert.height.toString(16)}`, round: this.latestCert.round, signers: this.latestCert.signatures.length } : null,
    }
  }

  // ---- driver callbacks ----

  private async getValue(height: bigint, round: number): Promise<Uint8Array> {
    const host = this.requireHost()
    const head = host.head()
    if (head.header.height + 1n !== height) throw new Error(`asked to propose height ${height} on head ${head.header.height}`)
    if (height > 1n && (!this.latestCert || this.latestCert.height !== head.header.height)) {
      throw new Error(`cannot propose block ${height}: the certificate of block ${head.header.height} is unknown`)
    }
    const now = this.now()
    const timestamp = now > head.header.timestamp ? now : head.header.timestamp
    const evidence = this.opts.config.staking ? this.evidence.forBlock(height) : []
    const seal = encodeSeal({ round, parentCertificate: height === 1n ? null : this.latestCert, ...(evidence.length ? { evidence } : {}) })
    const built = await host.build({ timestamp, producer: this.producer, presetSeal: seal })
    const block: Block = built.block
    const hash = blockHash(block.header)
    this.candidates.set(bytesToHex(hash), { ...built, block })
    this.send({ kind: 'block', block: encodeBlock(block) })
    return hash
  }

  private async validateProposal(height: bigint, hash: Uint8Array): Promise<boolean> {
    const key = bytesToHex(hash)
    if (this.candidates.has(key)) return true
    const block = await this.proposed.waitFor(key, this.opts.blockWaitMs ?? 1000)
    if (!block || this.stopped) return false
    if (block.header.height !== height) return false
    try {
      const executed = await this.requireHost().validate(block)
      this.candidates.set(key, executed)
      return true
    } catch (err) {
      this.host?.log.info({ height: String(height), hash: key, err: (err as Error).message }, 'bft proposal is invalid')
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

  /** The driver decided: commit the block (ours, validated, or fetched), then the next height. */
  private async decided(d: Decision): Promise<void> {
    const host = this.requireHost()
    if (host.head().header.height + 1n !== d.height) return // already committed (catch-up)
    const key = bytesToHex(d.blockHash)
    let executed = this.candidates.get(key)
    if (!executed) {
      const block = await this.proposed.waitFor(key, this.opts.blockWaitMs ?? 1000)
      if (!block || this.stopped) {
        this.requestCatchUp(true)
        return
      }
      executed = await host.validate(block)
    }
    await this.committed(await host.commit(executed), d.certificate)
  }

  // ---- network ----

  /** Handles a peer's message; false when it is invalid, so the network penalizes the peer. */
  private onMessage(bytes: Uint8Array, from: string): boolean {
    if (this.stopped || !this.host) return true
    let m: EngineMessage
    try {
      m = decodeEngineMessage(bytes)
    } catch (err) {
      this.host.log.debug({ from, err: (err as Error).message }, 'bad engine message')
      return false
    }
    try {
      switch (m.kind) {
        case 'consensus':
          this.onConsensus(decodeMessage(m.message))
          break
        case 'block':
          this.onBlock(decodeBlock(m.block, this.opts.common))
          break
        case 'decided':
          this.onDecided(decodeBlock(m.block, this.opts.common), decodeCertificate(m.certificate))
          break
        case 'want':
          this.onWant(m.height)
          break
        case 'evidence':
          this.addEvidence(decodeEvidence(m.evidence), from)
          break
      }
      return true
    } catch (err) {
      this.host.log.debug({ from, kind: m.kind, err: (err as Error).message }, 'bad engine message')
      return false
    }
  }

  private onConsensus(message: ConsensusMessage): void {
    const height = message.kind === 'proposal' ? message.proposal.height : message.vote.height
    this.noteHeight(height)
    this.driver?.receive(message)
  }

  private onBlock(block: Block): void {
    const head = this.requireHost().head()
    // The next height, or the one after (a proposer that committed before us).
    if (block.header.height <= head.header.height || block.header.height > head.header.height + 2n) return
    this.proposed.add(bytesToHex(blockHash(block.header)), block)
  }

  /** A peer's decided block: commit it if it is our next one and its certificate holds. */
  private onDecided(block: Block, cert: CommitCertificate): void {
    const host = this.requireHost()
    const height = block.header.height
    const hash = blockHash(block.header)
    const head = host.head()
    if (height === head.header.height && (!this.latestCert || this.latestCert.height < height) && bytesToHex(hash) === bytesToHex(head.hash)) {
      verifyCertificate(cert, hash, height, this.schedule.at(height), this.opts.chainId)
      this.setCertificate(cert)
      return
    }
    this.noteHeight(height + 1n)
    if (height !== head.header.height + 1n) return
    verifyCertificate(cert, hash, height, this.schedule.at(height), this.opts.chainId)
    void this.enqueue(async () => {
      if (host.head().header.height + 1n !== height) return
      const executed = this.candidates.get(bytesToHex(hash)) ?? (await host.validate(block))
      await this.committed(await host.commit(executed), cert)
    })
  }

  /** A lagging peer asks for a decided block: send it with its certificate if we have both. */
  private onWant(height: bigint): void {
    const host = this.requireHost()
    const head = host.head()
    if (height < 1n || height > head.header.height) return
    const block = host.blockAt(height)
    if (!block) return
    const cert = height === head.header.height ? this.latestCert : decodeSeal(host.blockAt(height + 1n)?.header.seal ?? new Uint8Array()).parentCertificate
    if (cert) this.send({ kind: 'decided', block: encodeBlock(block), certificate: encodeCertificate(cert) })
  }

  /** Someone is at a height above ours: ask for the blocks we miss. */
  private noteHeight(height: bigint): void {
    if (height > this.highestSeen) this.highestSeen = height
    if (height > this.requireHost().head().header.height + 1n) this.requestCatchUp(false)
  }

  private requestCatchUp(force: boolean): void {
    const now = Date.now()
    if (!force && now - this.lastWant < WANT_INTERVAL_MS) return
    this.lastWant = now
    this.send({ kind: 'want', height: this.requireHost().head().header.height + 1n })
  }

  private regossip(): void {
    if (this.stopped || !this.driver) return
    this.followHead()
    for (const m of this.driver.ownMessages()) this.send({ kind: 'consensus', message: encodeMessage(m) })
  }

  /**
   * Block sync can move the head past the height the driver works on (a validator that joined
   * late or was voted in): start consensus at the new head + 1, and ask for the head's
   * certificate, which proposing the next block needs.
   */
  private followHead(): void {
    const host = this.requireHost()
    const head = host.head().header.height
    if (this.startTimer || this.driver!.state.height > head) return
    this.candidates = new Map()
    if (!this.latestCert || this.latestCert.height < head) this.send({ kind: 'want', height: head })
    this.startNextHeight()
  }

  private send(m: EngineMessage): void {
    if (!this.stopped) this.opts.transport.broadcast(encodeEngineMessage(m))
  }

  // ---- evidence (PoS) ----

  /** Evidence of a double vote, from our driver or a peer: verified, kept until a block includes it, and gossiped once. */
  private addEvidence(ev: DuplicateVoteEvidence, from: string): void {
    if (!this.opts.config.staking || !this.evidence.isNew(ev)) return
    const head = this.requireHost().head().header.height
    try {
      verifyEvidence(ev, this.schedule.at(ev.voteA.height), this.opts.chainId, { currentHeight: head + 1n, maxAgeHeights: MAX_EVIDENCE_AGE })
    } catch (err) {
      this.host?.log.debug({ from, err: (err as Error).message }, 'invalid evidence')
      if (from !== 'seen') throw err // a peer's: the message is rejected and the peer penalized
      return
    }
    if (!this.evidence.add(ev)) return
    this.stats.evidence++
    this.host?.log.warn({ validator: bytesToHex(ev.voteA.validator), height: String(ev.voteA.height), round: ev.voteA.round, from }, 'double vote detected: evidence will be included and slashed')
    this.send({ kind: 'evidence', evidence: encodeEvidence(ev) })
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

  private async committed(imported: ImportedBlock, cert: CommitCertificate): Promise<void> {
    this.setCertificate(cert)
    this.forgetIncludedEvidence(imported.block.header)
    this.candidates = new Map()
    const height = imported.block.header.height
    this.proposed.prune(height)
    // Not re-announced: peers that missed the decision see later heights and ask ('want').
    this.host?.log.info({ height: String(height), hash: bytesToHex(imported.hash), round: cert.round }, 'bft block final')
    if (this.highestSeen > height + 1n) this.requestCatchUp(true)
    this.startNextHeight(this.opts.config.timeouts?.commitMs ?? toTimeoutConfig(undefined).commitMs)
  }

  /** Starts the driver at head + 1 (after `delayMs`, to collect late precommits and txs). */
  private startNextHeight(delayMs = 0): void {
    if (this.startTimer) clearTimeout(this.startTimer)
    this.startTimer = setTimeout(() => {
      this.startTimer = undefined
      if (this.stopped || !this.driver || !this.host) return
      const next = this.host.head().header.height + 1n
      if (this.driver.state.height >= next && this.driver.state.step !== 'idle') return
      this.driver.startHeight(next, this.schedule.at(next))
    }, delayMs)
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.chainQueue.then(() => (this.stopped ? undefined : job()))
    this.chainQueue = run.catch((err) => this.host?.log.warn({ err: (err as Error).message }, 'bft commit failed'))
    return run.catch(() => undefined)
  }

  // ---- the head's certificate ----

  private walStorage(): WalStorage {
    if (this.opts.walStorage) return this.opts.walStorage
    if (!this.opts.datadir) throw new Error('the bft engine needs a datadir (or a walStorage) for its vote WAL')
    return openWalStorage(this.opts.datadir)
  }

  private setCertificate(cert: CommitCertificate): void {
    this.latestCert = cert
    if (!this.opts.datadir) return
    try {
      saveCertificate(this.opts.datadir, cert)
    } catch (err) {
      this.host?.log.warn({ err: (err as Error).message }, 'could not save the latest certificate')
    }
  }

  private requireHost(): BftHost {
    if (!this.host) throw new Error('bft engine is not started')
    return this.host
  }
}
