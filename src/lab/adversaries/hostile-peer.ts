/**
 * A hostile peer of a BFT chain, built on Catena's own network stack (createNetwork: the same
 * chain tag, protocol ids, topics and status handshake as a node), holding no validator key.
 * It keeps an in-memory copy of the chain from honest peers (ShadowChain), so what it forges
 * is as good as a keyless attacker can make: blocks on the head with the right producer,
 * parent certificate and roots, lacking only their own commit certificate.
 *
 * Attacks are methods, each usable alone; each reports what it sent and what the network
 * answered (gossip recipients, request errors, the range requests it was asked). The attacks
 * follow issue 12 items 1 (forged blocks by gossip and range sync), 2 (junk, floods and
 * garbage on the consensus topic) and 6 (a false head in the status handshake, answered with
 * empty ranges, forged ones, or not at all).
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { blockHash, decodeBlockEnvelope, encodeBlockEnvelope } from '../../chain/block.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'
import { decodeMessage, encodeCertificate, verifySigner } from '../../consensus/bft/index.ts'
import { decodeEngineMessage } from '../../consensus/bft-engine/index.ts'
import { sha256 } from '../../crypto/hash.ts'
import { createNetwork, type GossipTopic, type Network } from '../../net/index.ts'
import { decodeBlockList, encodeRangeRequest } from '../../sync/index.ts'
import {
  ConsensusFramer,
  consensusMessage,
  garbage,
  impersonatedProposal,
  impersonatedVote,
  outsiderCertificate,
  outsiderKey,
  outsiderProposal,
  outsiderVote,
  proposalWithBlock,
} from './material.ts'
import { RangeServer, type ServedRequest } from './range-server.ts'
import { ShadowChain } from './shadow-chain.ts'

export const ATTACKS = ['lie-head', 'serve-forged', 'stall-ranges', 'forge-gossip', 'consensus-junk', 'next-height-flood', 'far-ahead-flood', 'garbage'] as const
export type AttackName = (typeof ATTACKS)[number]

/** One kind of message an attack sent. */
export interface SentItem {
  what: string
  topic?: GossipTopic
  count: number
  /** Peers reached, summed over the sends (gossipsub's publish recipients). */
  recipients: number
  /** Hashes of forged blocks. */
  hashes?: string[]
  /** Heights the messages were for (lowest and highest). */
  heights?: [string, string]
  errors?: string[]
}

export interface AttackReport {
  attack: AttackName
  /** The head of the attacker's copy of the chain when the attack ran. */
  head: string
  /** The head height the attacker claims in the status handshake, when it lies. */
  claim?: string
  sent: SentItem[]
  /** Range requests honest peers made of the attacker during the attack, and what they got. */
  served?: ServedRequest[]
  errors: string[]
  /** Peers still connected (status handshake done) after the attack. */
  peers: string[]
  ms: number
}

export interface HostilePeerOptions {
  spec: ChainSpec
  /** Holds the peer's node.key (its identity, kept across runs: a ban sticks to it). */
  datadir: string
  bootnodes: string[]
  listen?: string[]
  logger: Logger
}

/** What the first lie claims: the largest height a signed 64-bit integer holds. */
export const LIE_HEIGHT = (1n << 63n) - 1n
const SYNC_RANGE = 64
const REQUEST_TIMEOUT_MS = 5_000
/** How long an attack that makes peers ask for ranges waits for them to ask. */
const SERVE_WAIT_MS = 3_000
/** Flood messages signed and sent per batch (the head is read again for each). */
const FLOOD_CHUNK = 50
/** A head claimed this far beyond our copy is not worth asking for. */
const IMPLAUSIBLE_LEAD = 1_000_000n
/** Votes heard this far beyond the copy's head are not checked (nor believed). */
const HEARD_WINDOW = 16n

export class HostilePeer {
  private readonly framer = new ConsensusFramer()
  private readonly key = outsiderKey('attacker')
  private readonly ranges: RangeServer
  private claim: bigint | undefined
  /** The highest height a validator was heard voting at (signature checked). */
  private heard = 0n
  private forgeries = 0
  private readonly unsubscribe: Array<() => void> = []

  private constructor(
    readonly network: Network,
    readonly shadow: ShadowChain,
    private readonly log: Logger,
  ) {
    this.ranges = new RangeServer(shadow, (peer, height) => this.syncFrom(peer, height))
  }

  static async create(opts: HostilePeerOptions): Promise<HostilePeer> {
    const shadow = await ShadowChain.open(opts.spec)
    let peer: HostilePeer | undefined
    const network = await createNetwork({
      datadir: opts.datadir,
      listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'],
      bootnodes: opts.bootnodes,
      chainId: opts.spec.chainId,
      genesisHash: shadow.chain.genesisHash,
      // The status handshake tells whatever the attacker currently claims.
      head: () => peer?.claimedHead() ?? { height: shadow.height, hash: shadow.chain.head.hash },
      logger: opts.logger,
    })
    peer = new HostilePeer(network, shadow, opts.logger)
    return peer
  }

  get peerId(): string {
    return this.network.peerId
  }

  async start(): Promise<void> {
    const { network } = this
    await network.handle('blocksByRange', (req, from) => this.ranges.answer(req, from))
    await network.start()
    // Follow the chain by gossip too (blocks come with their certificates); relay nothing.
    this.unsubscribe.push(
      network.subscribe('blocks', (data) => {
        try {
          void this.shadow.take(decodeBlockEnvelope(data), this.log).catch(() => undefined)
        } catch {
          // not a block: nothing to learn
        }
        return 'ignore'
      }),
      network.subscribe('consensus', (data) => {
        this.observe(data)
        return 'ignore'
      }),
    )
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u()
    await this.network.stop()
  }

  /** Peers that completed the status handshake with us. */
  peers(): string[] {
    return this.network.peers().map((p) => p.peerId)
  }

  /**
   * Catches the copy up from every peer in turn (other attackers answer too, from copies that
   * may have stopped growing); peers claiming absurd heads are liars and are not asked.
   */
  async sync(): Promise<{ imported: number; errors: string[] }> {
    const errors: string[] = []
    let imported = 0
    for (const p of this.network.peers()) {
      if (p.status.headHeight > this.shadow.height + IMPLAUSIBLE_LEAD) continue
      try {
        imported += await this.syncFrom(p.peerId, p.status.headHeight)
      } catch (err) {
        errors.push(`${p.peerId}: ${(err as Error).message}`)
      }
    }
    return { imported, errors }
  }

  /**
   * Takes blocks from one peer until the copy reaches at least `height` and the peer has no
   * more (a status height is old news by the time it is read); returns how many.
   */
  async syncFrom(peer: string, height: bigint): Promise<number> {
    let imported = 0
    for (;;) {
      const payload = await this.network.request(peer, 'blocksByRange', encodeRangeRequest({ from: this.shadow.height + 1n, count: SYNC_RANGE }), { timeoutMs: REQUEST_TIMEOUT_MS })
      const blocks = decodeBlockList(payload)
      let took = 0
      for (const b of blocks) if (await this.shadow.take(decodeBlockEnvelope(b), this.log)) took++
      imported += took
      if (took === 0 || (blocks.length < SYNC_RANGE && this.shadow.height >= height)) break
    }
    return imported
  }

  // ---- item 6: a false head ----

  /** Claims LIE_HEIGHT from now on, so the status handshake of every new connection carries the lie. */
  claimFalseHead(): void {
    this.claim ??= LIE_HEIGHT
  }

  /**
   * Claims a head far beyond the chain's (2^63-1 the first time, one more each time after:
   * a peer whose claim failed is skipped until it claims more) and pushes the claim to every
   * peer with a status exchange. Range requests it draws are answered with empty lists.
   */
  async lieAboutHead(): Promise<AttackReport> {
    return this.claimAndServe('lie-head', 'empty')
  }

  /** The same claim, but range requests get the copy's blocks and then a forged block with a certificate of non-validators. */
  async serveForged(): Promise<AttackReport> {
    return this.claimAndServe('serve-forged', 'forged')
  }

  /** The same claim, but range requests are never answered: each requester waits for its timeout. */
  async stallRanges(): Promise<AttackReport> {
    return this.claimAndServe('stall-ranges', 'silent')
  }

  private async claimAndServe(attack: AttackName, mode: 'empty' | 'forged' | 'silent'): Promise<AttackReport> {
    const started = Date.now()
    this.claim = this.claim === undefined ? LIE_HEIGHT : this.claim + 1n
    this.ranges.mode = mode
    this.ranges.drain()
    const errors: string[] = []
    const peers = this.peers()
    const pushed = await Promise.allSettled(peers.map((p) => this.network.refreshStatus(p)))
    pushed.forEach((r, i) => r.status === 'rejected' && errors.push(`status to ${peers[i]}: ${(r.reason as Error).message}`))
    // Peers react to the new claim by asking for ranges: wait until each asked, or give up.
    const deadline = Date.now() + SERVE_WAIT_MS
    while (Date.now() < deadline && !peers.every((p) => this.ranges.pending.some((s) => s.peer === p))) await pause(50)
    const served = this.ranges.drain()
    return this.report(attack, started, {
      claim: String(this.claim),
      sent: [{ what: `status claiming head ${this.claim}`, count: peers.length, recipients: pushed.filter((r) => r.status === 'fulfilled').length }],
      served,
      errors,
    })
  }

  // ---- item 1: forged blocks by gossip ----

  /**
   * Forges block head + 1 three times (told apart by extraData, so gossip does not dedupe
   * them) and gossips each on 'blocks': with no proof, with the parent's certificate as its
   * proof, and with a certificate signed by non-validators.
   */
  async forgeGossip(): Promise<AttackReport> {
    const started = Date.now()
    const errors: string[] = []
    await this.catchUpNow(errors)
    const sent: SentItem[] = []
    const parentCert = this.shadow.headCertificate()
    const variants: Array<[string, (hash: Uint8Array, height: bigint) => Uint8Array | undefined]> = [
      ['forged block, no proof', () => undefined],
      ['forged block, the parent certificate as proof', () => (parentCert ? encodeCertificate(parentCert) : undefined)],
      ['forged block, certificate of non-validators', (hash, height) => encodeCertificate(outsiderCertificate(hash, height, this.shadow.spec.chainId))],
    ]
    for (const [what, proofOf] of variants) {
      const forged = await this.shadow.forgeOnHead({ extraData: this.label('gossip') })
      const hash = blockHash(forged.block.header)
      const proof = proofOf(hash, forged.block.header.height)
      sent.push(await this.publish('blocks', what, [encodeBlockEnvelope(forged.block, proof)], [bytesToHex(hash)]))
    }
    return this.report('forge-gossip', started, { sent, errors })
  }

  // ---- item 2: junk on the consensus topic ----

  /**
   * Consensus messages for the height being decided that decode but must not verify: votes in
   * validators' names over the attacker's signature, a vote of a non-validator, a proposal in
   * the round proposer's name (and in another validator's) with a forged block attached, and a
   * signed proposal of a non-validator with its block.
   */
  async consensusJunk(): Promise<AttackReport> {
    const started = Date.now()
    const errors: string[] = []
    await this.catchUpNow(errors)
    const chainId = this.shadow.spec.chainId
    const slot = { height: this.currentHeight(), round: 0 }
    const set = this.shadow.rules.schedule.at(slot.height)
    const validators = set.toEntries().map((v) => v.address)
    const proposer = set.proposer(0).address
    const other = validators.find((v) => bytesToHex(v) !== bytesToHex(proposer)) ?? proposer
    const forged = await this.shadow.forgeOnHead({ extraData: this.label('proposal') })
    const hash = blockHash(forged.block.header)
    const block = encodeBlockEnvelope(forged.block)
    const frame = this.framer
    const sent = [
      await this.publish('consensus', "prevotes in validators' names, attacker's signature", validators.map((v) => frame.frame(consensusMessage(impersonatedVote(slot, 'prevote', v, hash, this.key, chainId))))),
      await this.publish('consensus', "precommits in validators' names, attacker's signature", validators.map((v) => frame.frame(consensusMessage(impersonatedVote(slot, 'precommit', v, hash, this.key, chainId))))),
      await this.publish('consensus', 'prevote of a non-validator', [frame.frame(consensusMessage(outsiderVote(slot, 'prevote', hash, this.key, chainId)))]),
      await this.publish('consensus', "proposal in the round proposer's name, attacker's signature, forged block attached", [
        frame.frame(proposalWithBlock(impersonatedProposal(slot, hash, proposer, this.key, chainId), block)),
      ], [bytesToHex(hash)]),
      await this.publish('consensus', "proposal in another validator's name (not the round's proposer), forged block attached", [
        frame.frame(proposalWithBlock(impersonatedProposal(slot, hash, other, this.key, chainId), block)),
      ]),
      await this.publish('consensus', 'proposal of a non-validator, forged block attached', [frame.frame(proposalWithBlock(outsiderProposal(slot, hash, this.key, chainId), block))]),
    ]
    return this.report('consensus-junk', started, { sent, errors })
  }

  /**
   * `count` votes for the next height (the one after the height being decided), each
   * correctly signed by a key that is not a validator. Sent in chunks, each for the height of
   * that moment (heard from the validators' own votes).
   */
  async nextHeightFlood(count = 200): Promise<AttackReport> {
    return this.flood('next-height-flood', 'signed votes of non-validators for the next height', count, (next) => ({ base: next, step: 0n }))
  }

  /** `count` votes of non-validators for heights 1000 and more ahead, each correctly signed. */
  async farAheadFlood(count = 200): Promise<AttackReport> {
    return this.flood('far-ahead-flood', 'signed votes of non-validators for heights far ahead', count, (next) => ({ base: next + 1000n, step: 1n }))
  }

  private async flood(attack: AttackName, what: string, count: number, heights: (next: bigint) => { base: bigint; step: bigint }): Promise<AttackReport> {
    const started = Date.now()
    const errors: string[] = []
    await this.catchUpNow(errors)
    const chainId = this.shadow.spec.chainId
    const keys = Array.from({ length: 8 }, (_, i) => outsiderKey(`flood/${i}`))
    const item: SentItem = { what, topic: 'consensus', count: 0, recipients: 0 }
    for (let from = 0; from < count; from += FLOOD_CHUNK) {
      const { base, step } = heights(this.currentHeight() + 1n)
      const batch: Uint8Array[] = []
      for (let i = from; i < Math.min(count, from + FLOOD_CHUNK); i++) {
        const hash = sha256(new TextEncoder().encode(`flood/${started}/${i}`))
        const vote = outsiderVote({ height: base + step * BigInt(i), round: step === 0n ? i % 3 : 0 }, i % 2 ? 'precommit' : 'prevote', hash, keys[i % keys.length]!, chainId)
        batch.push(this.framer.frame(consensusMessage(vote)))
      }
      const r = await this.publish('consensus', what, batch)
      item.count += r.count
      item.recipients += r.recipients
      item.heights = [item.heights?.[0] ?? String(base + step * BigInt(from)), String(base + step * BigInt(from + batch.length - 1))]
      if (r.errors) (item.errors ??= []).push(...r.errors.slice(0, 3))
    }
    return this.report(attack, started, { sent: [item], errors })
  }

  /** Random bytes on every topic (consensus: behind a valid 8-byte frame, and shorter than one). */
  async garbage(count = 4): Promise<AttackReport> {
    const started = Date.now()
    const many = (f: () => Uint8Array) => Array.from({ length: count }, f)
    const sent = [
      await this.publish('consensus', 'random bytes in a consensus frame', many(() => this.framer.raw(garbage()))),
      await this.publish('consensus', 'a consensus message shorter than its frame', many(() => garbage(1, 7))),
      await this.publish('blocks', 'random bytes as a block', many(() => garbage())),
      await this.publish('txs', 'random bytes as a tx batch', many(() => garbage())),
    ]
    return this.report('garbage', started, { sent, errors: [] })
  }

  /** Runs one attack by name. */
  run(attack: AttackName, opts: { floodCount?: number } = {}): Promise<AttackReport> {
    switch (attack) {
      case 'lie-head':
        return this.lieAboutHead()
      case 'serve-forged':
        return this.serveForged()
      case 'stall-ranges':
        return this.stallRanges()
      case 'forge-gossip':
        return this.forgeGossip()
      case 'consensus-junk':
        return this.consensusJunk()
      case 'next-height-flood':
        return this.nextHeightFlood(opts.floodCount)
      case 'far-ahead-flood':
        return this.farAheadFlood(opts.floodCount)
      case 'garbage':
        return this.garbage()
    }
  }

  // ---- helpers ----

  /** The height the validators are deciding, as far as this peer knows: after its copy's head, or the one they were heard voting at. */
  private currentHeight(): bigint {
    const next = this.shadow.height + 1n
    return this.heard > next ? this.heard : next
  }

  /** Takes note of the heights validators vote at (only a little ahead of the copy, so junk cannot cost much). */
  private observe(data: Uint8Array): void {
    try {
      if (data.length < 8) return
      const m = decodeEngineMessage(data.subarray(8))
      if (m.kind === 'evidence') return
      const message = decodeMessage(m.message)
      if (message.kind !== 'vote') return
      const { height, validator } = message.vote
      if (height <= this.heard || height > this.shadow.height + HEARD_WINDOW) return
      if (!this.shadow.rules.schedule.at(height).has(validator)) return
      verifySigner(message, this.shadow.spec.chainId)
      this.heard = height
    } catch {
      // junk from other attackers: nothing learnt
    }
  }

  /** Forgeries must sit on the current head: take what peers have now. */
  private async catchUpNow(errors: string[]): Promise<void> {
    errors.push(...(await this.sync()).errors)
  }

  private claimedHead(): { height: bigint; hash: Uint8Array } | undefined {
    if (this.claim === undefined) return undefined
    return { height: this.claim, hash: sha256(new TextEncoder().encode(`hostile/claim/${this.claim}`)) }
  }

  /** extraData that makes each forgery a different header. */
  private label(kind: string): Uint8Array {
    return new TextEncoder().encode(`hostile:${kind}:${this.forgeries++}`)
  }

  private async publish(topic: GossipTopic, what: string, messages: Uint8Array[], hashes?: string[]): Promise<SentItem> {
    const item: SentItem = { what, topic, count: messages.length, recipients: 0, ...(hashes ? { hashes } : {}) }
    for (const m of messages) {
      try {
        item.recipients += await this.network.publish(topic, m)
      } catch (err) {
        ;(item.errors ??= []).push((err as Error).message)
      }
    }
    return item
  }

  private report(attack: AttackName, started: number, r: Pick<AttackReport, 'sent' | 'errors'> & Partial<AttackReport>): AttackReport {
    return { attack, head: String(this.shadow.height), ...r, peers: this.peers(), ms: Date.now() - started }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
