/**
 * A BFT network in one process: N nodes, each a real BftDriver (state machine, secp256k1
 * signatures, vote WAL in memory), over a simulated network whose delays, losses,
 * duplicates, reorderings and partitions all come from one seeded PRNG, with a simulated
 * clock for the timeouts. Byzantine nodes run an honest driver but rewrite what it sends
 * (equivocating proposals, double votes) or send nothing. Nodes crash and restart with the
 * WAL they had on "disk". Catching up uses certificates, like block sync would.
 *
 * Invariants are checked as the run goes (the first violation throws a SimViolation carrying
 * the seed): no two honest nodes commit different blocks at a height; every certificate
 * verifies; no honest node ever signs two different messages for one (height, round, step);
 * per-node lock invariants. Liveness is asserted by the tests from the commit log. The lab
 * sets `recordViolations` to run on past violations and count them (`violations`).
 */
import { sha256 } from '../../crypto/hash.ts'
import {
  BftDriver,
  MemoryWalStorage,
  ValidatorSet,
  VoteWal,
  decodeCertificate,
  decodeMessage,
  encodeCertificate,
  encodeMessage,
  offenceKey,
  verifyCertificate,
  verifyEvidence,
  type CommitCertificate,
  type ConsensusMessage,
  type Decision,
  type DuplicateVoteEvidence,
  type TimeoutConfig,
  type TimeoutInfo,
} from '../../consensus/bft/index.ts'
import { privateKeyToAddress } from '../../crypto/secp256k1.ts'
import { forge, withholdsRelay, type Behavior } from './bft-byzantine.ts'
import { EventQueue } from './event-queue.ts'
import { Prng } from './prng.ts'
import { DEFAULT_CHAIN_ID, DEFAULT_NET, SIM_TIMEOUTS, SimViolation, type NetConfig, type SimConfig, type ViolationKind } from './bft-sim-config.ts'

export type { Behavior } from './bft-byzantine.ts'
export { SIM_TIMEOUTS, SimViolation } from './bft-sim-config.ts'
export type { Crash, NetConfig, Partition, SimConfig, ViolationKind } from './bft-sim-config.ts'

type Envelope =
  | { kind: 'consensus'; from: number; to: number; bytes: Uint8Array }
  | { kind: 'syncRequest'; from: number; to: number; height: bigint }
  | { kind: 'syncResponse'; from: number; to: number; certs: Uint8Array[] }

type SimEvent =
  | { kind: 'deliver'; env: Envelope }
  | { kind: 'timeout'; node: number; incarnation: number; timeout: TimeoutInfo }
  | { kind: 'startHeight'; node: number; incarnation: number; height: bigint }
  | { kind: 'gossip' }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }

interface Commit {
  hash: string
  certificate: CommitCertificate
  round: number
  atMs: number
  viaSync: boolean
}

export interface SimNode {
  index: number
  key: Uint8Array
  address: Uint8Array
  behaviors: Set<Behavior>
  honest: boolean
  alive: boolean
  incarnation: number
  driver: BftDriver
  walStorage: MemoryWalStorage
  commits: Map<bigint, Commit>
  /** Byzantine messages beyond what the driver signed, re-gossiped each tick (to `to`, or to everyone). */
  forged: Array<{ message: ConsensusMessage; to?: number[] }>
  lastSyncAsk: number
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

export class Simulation {
  readonly rng: Prng
  readonly nodes: SimNode[] = []
  readonly net: NetConfig
  now = 0
  /** First honest commit per height: what every other honest commit must equal. */
  readonly decided = new Map<bigint, { hash: string; round: number; atMs: number }>()
  /** Offences reported (and verified) by honest nodes: offenceKey -> reporters. */
  readonly evidence = new Map<string, Set<number>>()
  /** The first piece of evidence reported for each offence (what a PoS chain would slash with). */
  readonly evidencePieces = new Map<string, DuplicateVoteEvidence>()
  readonly stats = { delivered: 0, dropped: 0, rejected: 0, events: 0, syncCommits: 0 }
  /** With recordViolations: every violation, in order. */
  readonly violations: SimViolation[] = []
  readonly chainId: bigint
  private readonly queue = new EventQueue<SimEvent>()
  private readonly validBlocks = new Map<string, bigint>()
  private readonly valsets: ValidatorSet[] = []
  /** Honest signatures seen on the wire: `${node}/${h}/${r}/${step}` -> block. */
  private readonly signedByHonest = new Map<string, string>()
  private readonly timeouts: TimeoutConfig
  private readonly gossipMs: number
  private gossipTicks = 0

  constructor(readonly config: SimConfig) {
    this.rng = new Prng(config.seed)
    this.chainId = config.chainId ?? DEFAULT_CHAIN_ID
    this.net = { ...DEFAULT_NET, ...config.net }
    this.timeouts = config.timeouts ?? SIM_TIMEOUTS
    this.gossipMs = config.gossipMs ?? 200
    const keys = config.powers.map((_, i) => sha256(new TextEncoder().encode(`sim key ${config.seed} ${i}`)))
    this.valsets.push(ValidatorSet.create(keys.map((k, i) => ({ address: privateKeyToAddress(k), power: config.powers[i] }))))
    keys.forEach((key, index) => {
      const behaviors = new Set(config.byzantine?.[index] ?? [])
      const walStorage = new MemoryWalStorage()
      const node: SimNode = {
        index,
        key,
        address: privateKeyToAddress(key),
        behaviors,
        honest: behaviors.size === 0,
        alive: true,
        incarnation: 0,
        driver: undefined as unknown as BftDriver,
        walStorage,
        commits: new Map(),
        forged: [],
        lastSyncAsk: -Infinity,
      }
      node.driver = this.makeDriver(node)
      this.nodes.push(node)
    })
    for (const c of config.crashes ?? []) {
      this.queue.push(c.atMs, { kind: 'crash', node: c.node })
      if (c.restartAtMs !== undefined) this.queue.push(c.restartAtMs, { kind: 'restart', node: c.node })
    }
    this.queue.push(this.gossipMs, { kind: 'gossip' })
    for (const n of this.nodes) n.driver.startHeight(1n, this.valset(1n))
  }

  get f(): number {
    return Math.floor((this.nodes.length - 1) / 3)
  }

  valset(height: bigint): ValidatorSet {
    while (BigInt(this.valsets.length) < height) this.valsets.push(this.valsets[this.valsets.length - 1].nextHeight())
    return this.valsets[Number(height) - 1]
  }

  /** Height a node decides next. */
  nextHeight(node: SimNode): bigint {
    return BigInt(node.commits.size) + 1n
  }

  honestNodes(): SimNode[] {
    return this.nodes.filter((n) => n.honest)
  }

  /** Runs events until `untilMs` or until `stop` holds (checked after each event). */
  run(untilMs: number, stop?: () => boolean): void {
    for (;;) {
      const next = this.queue.pop()
      if (!next) return
      if (next.at > untilMs) {
        this.queue.push(next.at, next.item)
        this.now = untilMs
        return
      }
      this.now = next.at
      this.stats.events++
      this.handle(next.item)
      if (stop?.()) return
    }
  }

  // ---------- nodes ----------

  private makeDriver(node: SimNode): BftDriver {
    const incarnation = node.incarnation
    const silent = node.behaviors.has('silent')
    return new BftDriver({
      chainId: this.chainId,
      privateKey: node.key,
      wal: VoteWal.open(node.walStorage),
      timeouts: this.timeouts,
      getValue: (height, round) => this.mintBlock(`block ${height}/${round} by ${node.index}`, height),
      validate: (height, hash) => this.validBlocks.get(hex(hash)) === height,
      broadcast: (m) => {
        if (!silent) this.onBroadcast(node, m)
      },
      scheduleTimeout: (timeout, delayMs) => this.queue.push(this.now + delayMs, { kind: 'timeout', node: node.index, incarnation, timeout }),
      onDecide: (d) => this.onDecide(node, d),
      onEvidence: (ev) => {
        if (!node.honest) return
        try {
          verifyEvidence(ev, this.valset(ev.voteA.height), this.chainId)
        } catch (err) {
          return this.violate('evidence', `node ${node.index} reported evidence that does not verify: ${(err as Error).message}`)
        }
        const key = offenceKey(ev)
        if (!this.evidence.has(key)) this.evidence.set(key, new Set())
        this.evidence.get(key)!.add(node.index)
        if (!this.evidencePieces.has(key)) this.evidencePieces.set(key, ev)
      },
      onRejected: () => {
        this.stats.rejected++
      },
      // Gossip relays what a node accepts (as gossipsub would); its own messages went out already.
      onAccepted: (m) => {
        if (withholdsRelay(node.behaviors) || !node.alive) return
        const signer = m.kind === 'proposal' ? m.proposal.proposer : m.vote.validator
        if (hex(signer) !== hex(node.address)) this.broadcastRaw(node.index, m)
      },
      onError: (err) => {
        throw err
      },
    })
  }

  private mintBlock(label: string, height: bigint): Uint8Array {
    const hash = sha256(new TextEncoder().encode(`${this.config.seed} ${label}`))
    this.validBlocks.set(hex(hash), height)
    return hash
  }

  private handle(e: SimEvent): void {
    switch (e.kind) {
      case 'deliver':
        return this.deliver(e.env)
      case 'timeout': {
        const node = this.nodes[e.node]
        if (node.alive && node.incarnation === e.incarnation) {
          node.driver.fireTimeout(e.timeout)
          this.checkLocks(node)
        }
        return
      }
      case 'startHeight': {
        const node = this.nodes[e.node]
        if (!node.alive || node.incarnation !== e.incarnation || this.nextHeight(node) !== e.height) return
        const s = node.driver.state
        if (s.step !== 'idle' && s.height >= e.height) return
        node.forged = []
        node.driver.startHeight(e.height, this.valset(e.height))
        return
      }
      case 'gossip':
        // Each tick: own messages to everyone (retransmission over lossy links); every fifth
        // tick, everything of the current height to one random peer (anti-entropy, so a node
        // back from a partition or a crash gets what the relays dropped meanwhile).
        this.gossipTicks++
        for (const n of this.nodes) {
          if (!n.alive || n.behaviors.has('silent')) continue
          // A node that withholds relays re-sends only what its forger chose, to whom it chose.
          if (!withholdsRelay(n.behaviors)) for (const m of n.driver.ownMessages()) this.broadcastRaw(n.index, m)
          for (const f of n.forged) {
            if (!f.to) this.broadcastRaw(n.index, f.message)
            else for (const to of f.to) this.send({ kind: 'consensus', from: n.index, to, bytes: encodeMessage(f.message) })
          }
          if (n.honest && this.gossipTicks % 5 === 0) {
            const peer = this.rng.int(0, this.nodes.length - 2)
            const to = peer >= n.index ? peer + 1 : peer
            for (const m of n.driver.currentMessages()) this.send({ kind: 'consensus', from: n.index, to, bytes: encodeMessage(m) })
          }
        }
        this.queue.push(this.now + this.gossipMs, { kind: 'gossip' })
        return
      case 'crash': {
        const node = this.nodes[e.node]
        node.alive = false
        node.driver.halt()
        return
      }
      case 'restart': {
        const node = this.nodes[e.node]
        node.alive = true
        node.incarnation++
        if (this.config.forgetfulWal) node.walStorage = new MemoryWalStorage()
        node.driver = this.makeDriver(node)
        node.forged = []
        node.driver.startHeight(this.nextHeight(node), this.valset(this.nextHeight(node)))
        return
      }
    }
  }

  private onDecide(node: SimNode, d: Decision): void {
    try {
      verifyCertificate(d.certificate, d.blockHash, d.height, this.valset(d.height), this.chainId)
    } catch (err) {
      this.violate('certificate', `node ${node.index} decided height ${d.height} with a bad certificate: ${(err as Error).message}`, d.height)
    }
    this.commit(node, d.height, d.blockHash, d.certificate, d.round, false)
    this.queue.push(this.now + this.timeouts.commitMs, { kind: 'startHeight', node: node.index, incarnation: node.incarnation, height: d.height + 1n })
  }

  private commit(node: SimNode, height: bigint, blockHash: Uint8Array, certificate: CommitCertificate, round: number, viaSync: boolean): void {
    const hash = hex(blockHash)
    const had = node.commits.get(height)
    if (had) {
      if (had.hash !== hash) this.violate('safety', `node ${node.index} committed two blocks at height ${height}`, height)
      return
    }
    if (height !== this.nextHeight(node)) throw new Error(`node ${node.index} commits height ${height} out of order`)
    if (node.honest) {
      const first = this.decided.get(height)
      if (!first) this.decided.set(height, { hash, round, atMs: this.now })
      else if (first.hash !== hash) {
        this.violate('safety', `height ${height}: node ${node.index} committed ${hash.slice(0, 12)} but another honest node committed ${first.hash.slice(0, 12)}`, height)
      }
    }
    node.commits.set(height, { hash, certificate, round, atMs: this.now, viaSync })
    if (viaSync) this.stats.syncCommits++
  }

  /** Throws the violation, or with recordViolations records it and lets the run go on. */
  private violate(kind: ViolationKind, message: string, height?: bigint): void {
    const v = new SimViolation(this.config.seed, kind, message, this.now, height)
    if (!this.config.recordViolations) throw v
    this.violations.push(v)
  }

  private checkLocks(node: SimNode): void {
    if (!node.honest) return
    const s = node.driver.state
    const ok =
      s.lockedRound <= s.round &&
      s.validRound >= s.lockedRound &&
      (s.lockedRound === -1) === (s.lockedValue === null) &&
      (s.validRound === -1) === (s.validValue === null)
    if (!ok) {
      this.violate('lock-invariant', `node ${node.index} at ${s.height}/${s.round}: locked ${s.lockedRound}, valid ${s.validRound}`, s.height)
    }
  }

  // ---------- network ----------

  private onBroadcast(node: SimNode, m: ConsensusMessage): void {
    if (node.honest) this.recordHonestSignature(node, m)
    if (node.honest || node.behaviors.has('silent')) return this.broadcastRaw(node.index, m)
    const deliveries = forge(node, m, {
      rng: this.rng,
      chainId: this.chainId,
      peers: this.nodes.filter((n) => n.index !== node.index).map((n) => ({ index: n.index, honest: n.honest })),
      ...(this.config.splitSides ? { sides: this.config.splitSides } : {}),
      mint: (label, height) => this.mintBlock(label, height),
    })
    for (const d of deliveries) {
      if (d.targeted) node.forged.push({ message: d.message, to: d.to })
      else if (d.message !== m) node.forged.push({ message: d.message })
      const bytes = encodeMessage(d.message)
      for (const to of d.to) this.send({ kind: 'consensus', from: node.index, to, bytes })
    }
  }

  private recordHonestSignature(node: SimNode, m: ConsensusMessage): void {
    const [h, r, step, block] =
      m.kind === 'proposal'
        ? [m.proposal.height, m.proposal.round, 'propose', hex(m.proposal.blockHash) + '/' + m.proposal.polRound]
        : [m.vote.height, m.vote.round, m.vote.type, m.vote.blockHash ? hex(m.vote.blockHash) : 'nil']
    const key = `${node.index}/${h}/${r}/${step}`
    const prev = this.signedByHonest.get(key)
    if (prev === undefined) this.signedByHonest.set(key, block)
    else if (prev !== block) {
      this.violate('double-sign', `honest node ${node.index} signed two different ${step} messages at ${h}/${r}`, h)
    }
  }

  private broadcastRaw(from: number, m: ConsensusMessage): void {
    const bytes = encodeMessage(m)
    for (const n of this.nodes) if (n.index !== from) this.send({ kind: 'consensus', from, to: n.index, bytes })
  }

  private reachable(a: number, b: number): boolean {
    for (const p of this.config.partitions ?? []) {
      if (this.now < p.fromMs || this.now >= p.toMs) continue
      if (!p.groups.some((g) => g.includes(a) && g.includes(b))) return false
    }
    return true
  }

  private send(env: Envelope): void {
    if (!this.reachable(env.from, env.to) || this.rng.chance(this.net.loss)) {
      this.stats.dropped++
      return
    }
    const copies = this.rng.chance(this.net.duplicate) ? 2 : 1
    for (let i = 0; i < copies; i++) {
      this.queue.push(this.now + this.rng.int(this.net.minDelayMs, this.net.maxDelayMs), { kind: 'deliver', env })
    }
  }

  private deliver(env: Envelope): void {
    const node = this.nodes[env.to]
    if (!node.alive || !this.reachable(env.from, env.to)) {
      this.stats.dropped++
      return
    }
    this.stats.delivered++
    switch (env.kind) {
      case 'consensus': {
        const m = decodeMessage(env.bytes)
        const height = m.kind === 'proposal' ? m.proposal.height : m.vote.height
        // The sender is past our height: ask it for the certificates we miss (block sync).
        if (height > this.nextHeight(node) && this.now - node.lastSyncAsk >= this.gossipMs) {
          node.lastSyncAsk = this.now
          this.send({ kind: 'syncRequest', from: node.index, to: env.from, height: this.nextHeight(node) })
        }
        node.driver.receive(m)
        this.checkLocks(node)
        return
      }
      case 'syncRequest': {
        const certs: Uint8Array[] = []
        for (let h = env.height; h < env.height + 10n && node.commits.has(h); h++) certs.push(encodeCertificate(node.commits.get(h)!.certificate))
        if (certs.length > 0 && !withholdsRelay(node.behaviors)) this.send({ kind: 'syncResponse', from: node.index, to: env.from, certs })
        return
      }
      case 'syncResponse':
        return this.applySync(node, env.certs)
    }
  }

  /** Imports blocks with their certificates, as block sync does, then starts the next height. */
  private applySync(node: SimNode, certs: Uint8Array[]): void {
    const before = this.nextHeight(node)
    for (const bytes of certs) {
      const cert = decodeCertificate(bytes)
      const h = this.nextHeight(node)
      if (cert.height !== h) continue
      if (this.validBlocks.get(hex(cert.blockHash)) !== h) continue
      try {
        verifyCertificate(cert, cert.blockHash, h, this.valset(h), this.chainId)
      } catch {
        continue // a bad certificate from a peer: ignore it (a real node would penalize the peer)
      }
      this.commit(node, h, cert.blockHash, cert, cert.round, true)
    }
    const next = this.nextHeight(node)
    if (next === before) return
    const s = node.driver.state
    if (s.step === 'idle' || s.height < next) {
      node.forged = []
      node.driver.startHeight(next, this.valset(next))
    }
  }

  // ---------- reporting ----------

  /** Heights every honest node (alive or not) has committed. */
  minHonestHeight(onlyAlive = true): bigint {
    const hs = this.honestNodes()
      .filter((n) => !onlyAlive || n.alive)
      .map((n) => BigInt(n.commits.size))
    return hs.reduce((a, b) => (b < a ? b : a))
  }

  /** Rounds at which heights committed in [fromMs, toMs) were decided (first honest decision). */
  decisionRounds(fromMs = 0, toMs = Infinity): number[] {
    return [...this.decided.values()].filter((d) => d.atMs >= fromMs && d.atMs < toMs).map((d) => d.round)
  }

  summary(): string {
    const heights = this.nodes.map((n) => `${n.index}:${n.commits.size}${n.honest ? '' : '*'}${n.alive ? '' : '†'}`).join(' ')
    return `seed ${this.config.seed} t=${this.now}ms heights[${heights}] events=${this.stats.events} delivered=${this.stats.delivered} dropped=${this.stats.dropped} syncCommits=${this.stats.syncCommits} offences=${this.evidence.size}`
  }
}
