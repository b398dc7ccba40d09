/**
 * What the BFT engine does with each message a peer sends, before anything is relayed:
 * verify first, cheapest check first, and answer with a verdict the transport acts on
 * (relay, drop, or drop and penalize the sender).
 *
 * - votes and proposals of the current height are verified by the state machine (signature,
 *   membership, proposer of the round) and relayed only the first time they count;
 * - next-height messages are kept (bounded, signature checked) but not relayed;
 * - a message of a later height, validly signed by a current validator, means peers are ahead:
 *   block sync is asked to look (an unverified claim of height costs nothing to make, so it
 *   triggers nothing);
 * - a proposal's block is kept only after the proposal verified and when its header hashes to
 *   the signed hash and its txs to the header's tx root; otherwise the sender loses score;
 * - blocks fetched by hash are checked the same way against the hash asked for;
 * - evidence is verified against its height's validators before it is pooled or relayed.
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Block } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { Commons } from '../../execution/common.ts'
import {
  BFT_PENALTY,
  MessageError,
  decodeEvidence,
  decodeMessage,
  messageSlot,
  verifySigner,
  type BftDriver,
  type ConsensusMessage,
  type DuplicateVoteEvidence,
  type SignedProposal,
} from '../bft/index.ts'
import { decodeProposedBlock, type ProposedBlocks } from './proposed-blocks.ts'
import type { BftRules } from './rules.ts'
import { decodeEngineMessage, type ConsensusTransport, type EngineMessage, type TransportVerdict } from './transport.ts'

export interface IncomingOptions {
  chainId: bigint
  commons: Commons
  driver: BftDriver
  proposed: ProposedBlocks
  transport: ConsensusTransport
  rules: BftRules
  /** The height of the chain's head. */
  head(): bigint
  requestSync(): void
  /** Verified evidence of a double vote; true when it was new. */
  onEvidence(ev: DuplicateVoteEvidence): boolean
  log: Logger
}

/** Block sync is asked at most this often on signs that peers are ahead. */
const SYNC_REQUEST_MS = 1000
/** Rounds of the next height whose proposal blocks are kept before it starts. */
const NEXT_HEIGHT_ROUNDS = 2

export class Incoming {
  private lastSyncRequest = 0
  /** Fetches by hash in flight, so concurrent waits share one. */
  private readonly fetching = new Map<string, Promise<Block | undefined>>()

  constructor(private readonly o: IncomingOptions) {}

  /** The verdict on one broadcast message. */
  onMessage(bytes: Uint8Array, from: string): TransportVerdict {
    let m: EngineMessage
    let message: ConsensusMessage
    try {
      m = decodeEngineMessage(bytes)
      if (m.kind === 'evidence') return this.onEvidence(m.evidence, from)
      message = decodeMessage(m.message)
    } catch (err) {
      this.o.log.debug({ from, err: (err as Error).message }, 'malformed consensus message')
      return 'reject'
    }
    if (m.kind === 'proposal' && message.kind !== 'proposal') return 'reject'
    const verdict = this.onConsensus(message, from)
    if (verdict === 'reject' || m.kind !== 'proposal' || message.kind !== 'proposal') return verdict
    return this.onProposalBlock(message.proposal, m.block, from, verdict)
  }

  /**
   * Asks peers for the block with this hash (a proposal we missed, or one evicted here) and
   * keeps it if it is that block. Undefined when no peer had it (the caller retries).
   */
  fetch(hash: Uint8Array): Promise<Block | undefined> {
    const key = bytesToHex(hash)
    const running = this.fetching.get(key)
    if (running) return running
    const run = this.fetchOnce(hash, key).finally(() => this.fetching.delete(key))
    this.fetching.set(key, run)
    return run
  }

  private async fetchOnce(hash: Uint8Array, key: string): Promise<Block | undefined> {
    const got = await this.o.transport.fetchBlock(hash).catch(() => undefined)
    if (!got) return undefined
    try {
      const block = decodeProposedBlock(got.bytes, hash, this.o.commons)
      this.o.proposed.add(key, block)
      return block
    } catch (err) {
      this.o.transport.penalize(got.from, BFT_PENALTY.malformed, `fetched block ${key}: ${(err as Error).message}`)
      return undefined
    }
  }

  private onConsensus(message: ConsensusMessage, from: string): TransportVerdict {
    const slot = messageSlot(message)
    const current = this.o.driver.state.height
    if (slot.height < current) return 'ignore'
    if (slot.height > current + 1n) return this.aheadOfUs(message)
    const result = this.o.driver.receive(message)
    if (result.verdict !== 'reject') {
      // Peers at the next height have decided ours: fetch the decided block with its certificate.
      if (slot.height > current) this.maybeSync(slot.height)
      return result.verdict
    }
    this.o.log.debug({ from, err: result.error.message }, 'invalid consensus message')
    // A signer outside the set may be a peer a height behind: a small cost, no relay.
    if (result.error.code === 'UNKNOWN_VALIDATOR') {
      this.o.transport.penalize(from, result.error.penalty, result.error.message)
      return 'ignore'
    }
    return 'reject'
  }

  /**
   * A message of a height above the next: not checkable against its set, but its signer is.
   * Cheapest first: a signer that is no current validator is dropped before any signature
   * recovery (a flood of well-signed outsider votes costs nothing), and so is everything
   * while block sync was asked to look in the last second.
   */
  private aheadOfUs(message: ConsensusMessage): TransportVerdict {
    const slot = messageSlot(message)
    if (!this.o.driver.validators?.has(slot.signer) || !this.syncMayBeAsked(slot.height)) return 'ignore'
    try {
      verifySigner(message, this.o.chainId)
    } catch (err) {
      if (err instanceof MessageError) return 'reject'
      throw err
    }
    this.maybeSync(slot.height)
    return 'ignore'
  }

  private syncMayBeAsked(height: bigint): boolean {
    return height > this.o.head() + 1n && Date.now() - this.lastSyncRequest >= SYNC_REQUEST_MS
  }

  private maybeSync(height: bigint): void {
    if (!this.syncMayBeAsked(height)) return
    this.lastSyncRequest = Date.now()
    this.o.requestSync()
  }

  /**
   * The block beside a proposal that verified (or was kept for the next height): kept when it
   * is the block the proposer signed. A relay that attaches another block loses score.
   */
  private onProposalBlock(p: SignedProposal, bytes: Uint8Array, from: string, verdict: TransportVerdict): TransportVerdict {
    const key = bytesToHex(p.blockHash)
    if (this.o.proposed.get(key)) return verdict
    const current = this.o.driver.state.height
    const held = this.o.driver.proposalOf(p.round)
    const wanted =
      (p.height === current && held !== undefined && bytesToHex(held.blockHash) === key) ||
      (p.height === current + 1n && p.round <= NEXT_HEIGHT_ROUNDS && this.o.driver.validators?.has(p.proposer) === true && this.signedBySigner(p))
    if (!wanted) return verdict
    try {
      this.o.proposed.add(key, decodeProposedBlock(bytes, p.blockHash, this.o.commons))
      return verdict
    } catch (err) {
      if (!(err instanceof BlockError)) throw err
      this.o.log.debug({ from, err: err.message }, 'proposal carries another block')
      return 'reject'
    }
  }

  /** A next-height proposal may not have been checked by the machine (its buffer keeps one per slot): check its signature here. */
  private signedBySigner(p: SignedProposal): boolean {
    try {
      verifySigner({ kind: 'proposal', proposal: p }, this.o.chainId)
      return true
    } catch {
      return false
    }
  }

  private onEvidence(bytes: Uint8Array, from: string): TransportVerdict {
    if (!this.o.rules.staking) return 'ignore'
    let ev: DuplicateVoteEvidence
    try {
      ev = decodeEvidence(bytes)
      this.o.rules.verifyEvidence(ev, this.o.head() + 1n)
    } catch (err) {
      this.o.log.debug({ from, err: (err as Error).message }, 'invalid evidence')
      return 'reject'
    }
    return this.o.onEvidence(ev) ? 'accept' : 'ignore'
  }
}
