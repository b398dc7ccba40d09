/**
 * A simulated Proof-of-Work network in one process whose nodes are real Catena chains
 * (pow-node.ts: Chain + BlockImporter + PowRules over a MemoryStore, real blocks with real
 * proofs of work on an easy target). Only time is simulated: who finds the next block and when
 * comes from the seeded PRNG (exponential inter-arrival times, the finder drawn in proportion
 * to hashrate; or a given schedule, to replay a race model's run), and blocks travel between
 * nodes with delays through an EventQueue. Each node imports what it receives through the real
 * importer (headers first, then bodies with the branch's work: fork choice = most work, first
 * seen wins a tie) and, unless its strategy says otherwise, mines on its own head.
 *
 * One miner per node. Plugging in a strategy (an adversary) — all hooks optional, the defaults
 * are the honest miner:
 *
 *   const withholder: MinerStrategy = {
 *     // called when this miner finds a block (mining is memoryless, so the parent it works on
 *     // only matters then): the hash of a block stored in ctx.node (default: its head)
 *     miningParent: (ctx) => myPrivateTip ?? ctx.node.head.hash,
 *     // txs for that block (default: ctx.node.pending)
 *     txs: (ctx) => [conflictingTx],
 *     // the block it found, already stored in its node (default: ctx.publish(hash))
 *     onMined: (ctx, hash) => { myPrivateTip = hash },
 *     // a block another node sent (default: ctx.accept(hash), i.e. import it)
 *     onReceived: (ctx, hash, from) => { if (ctx.info(hash).height > ...) ctx.publish(myPrivateTip) },
 *   }
 *   const net = await PowNetwork.create({ seed, miners: [{ hashrate: 0.7 }, { hashrate: 0.3, strategy: withholder }] })
 *   await net.run({ blocks: 100 })
 *
 * The parent a strategy mines on must be stored in its node and be its head, or lead to a
 * branch at least as heavy as its head once the new block is on it: the importer keeps no
 * lighter side branch. A withholding miner therefore keeps its node on its private branch by
 * not accepting the honest blocks it is sent (onReceived without ctx.accept), and accepts them
 * when it gives up (the heavier honest branch then reorganizes its node).
 *
 * ctx.publish(hash, { to, delay }) sends a block (its receivers fetch any ancestors they lack)
 * to every other node or to `to`, each after `delay(to)` seconds (default: the network's delay
 * function). How honest nodes break a tie is the importer's rule, first seen; to make a
 * fraction γ of the honest hashrate see the attacker's block first (Eyal and Sirer's γ), give
 * those nodes a shorter delay for it (publish's `delay`, or the network's `delay` option).
 * @module
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { blockHash, type Block } from '../../chain/block.ts'
import type { Reorg } from '../../chain/chain.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'
import { EventQueue } from './event-queue.ts'
import { PowSimNode, type Acceptance } from './pow-node.ts'
import { labPowSpec } from './pow-spec.ts'
import { Prng } from './prng.ts'

export interface MinerContext {
  /** This miner's index (= its node's). */
  readonly self: number
  readonly node: PowSimNode
  readonly network: PowNetwork
  /** Virtual seconds since the start. */
  readonly now: number
  /** Sends a stored block to other nodes (default: all, after the network's delay). */
  publish(hash: Uint8Array, opts?: PublishOptions): void
  /** Imports a block (and its missing ancestors) into this miner's own node. */
  accept(hash: Uint8Array): Promise<Acceptance>
  /** Who mined a block, its height and when. */
  info(hash: Uint8Array): MinedBlock
}

export interface PublishOptions {
  /** Receivers (node indexes); default every other node. */
  to?: readonly number[]
  /** Seconds until node `to` receives it; default the network's delay function. */
  delay?: (to: number) => number
}

export interface MinerStrategy {
  miningParent?(ctx: MinerContext): Uint8Array
  txs?(ctx: MinerContext): readonly TypedTransaction[]
  onMined?(ctx: MinerContext, hash: Uint8Array): void | Promise<void>
  onReceived?(ctx: MinerContext, hash: Uint8Array, from: number): void | Promise<void>
}

export interface MinerConfig {
  /** Relative hashrate (the finder of each block is drawn in proportion). */
  hashrate: number
  strategy?: MinerStrategy
  name?: string
}

/** Who finds the next block and how many virtual seconds after the previous one. */
export interface BlockFinding {
  miner: number
  dt: number
}

/** The source of block findings: the PRNG (default) or a replayed schedule. undefined: no more blocks. */
export type BlockSchedule = (prng: Prng) => BlockFinding | undefined

export interface PowNetworkOptions {
  seed: number
  miners: readonly MinerConfig[]
  /** Default: labPowSpec() (bitcoin-like on an easy target). */
  spec?: ChainSpec
  /** Mean seconds between blocks of the whole network (default the spec's block time). */
  meanBlockSeconds?: number
  /** Propagation delay in seconds of a block from one node to another (default uniform 0.05..0.5 s). */
  delay?: (from: number, to: number, hash: Uint8Array, prng: Prng) => number
  schedule?: BlockSchedule
}

export interface MinedBlock {
  hash: Uint8Array
  block: Block
  miner: number
  height: bigint
  /** Virtual seconds at which it was found. */
  foundAt: number
}

/** A node switching branches (through the real importer). */
export interface ReorgEvent {
  node: number
  at: number
  depth: number
  disconnected: Uint8Array[]
  connected: Uint8Array[]
}

type NetEvent = { kind: 'find'; miner: number } | { kind: 'deliver'; to: number; from: number; hash: Uint8Array }

export class PowNetwork {
  readonly prng: Prng
  readonly reorgs: ReorgEvent[] = []
  /** Every block found, by hex hash. */
  private readonly blocks = new Map<string, MinedBlock>()
  private readonly queue = new EventQueue<NetEvent>()
  private clockSeconds = 0
  private blocksFound = 0
  private readonly strategies: MinerStrategy[]
  private readonly schedule: BlockSchedule
  private readonly delay: NonNullable<PowNetworkOptions['delay']>
  private readonly genesisTime: bigint

  private constructor(
    readonly spec: ChainSpec,
    readonly nodes: readonly PowSimNode[],
    readonly miners: readonly MinerConfig[],
    opts: PowNetworkOptions,
  ) {
    this.prng = new Prng(opts.seed)
    this.strategies = miners.map((m) => m.strategy ?? {})
    this.genesisTime = nodes[0]!.chain.getHeader(nodes[0]!.chain.genesisHash)!.timestamp
    const mean = opts.meanBlockSeconds ?? spec.blockTimeMs / 1000
    this.schedule = opts.schedule ?? poissonSchedule(miners.map((m) => m.hashrate), mean)
    this.delay = opts.delay ?? ((_f, _t, _h, prng) => 0.05 + 0.45 * prng.next())
    nodes.forEach((node, i) => node.chain.on('reorg', (r: Reorg) => this.reorgs.push(reorgEvent(i, this.clockSeconds, r))))
  }

  static async create(opts: PowNetworkOptions): Promise<PowNetwork> {
    if (opts.miners.length === 0) throw new Error('a PoW network needs at least one miner')
    const spec = opts.spec ?? labPowSpec()
    const nodes: PowSimNode[] = []
    // Every node's clock is the network's virtual clock (genesis time + elapsed seconds).
    const net: { value?: PowNetwork } = {}
    const clock = () => (net.value ? net.value.unixNow() : 0n)
    // A spec with tieBreak 'random': the nodes' coins come from the network's seeded PRNG.
    const coin = () => net.value!.prng.next()
    for (let i = 0; i < opts.miners.length; i++) nodes.push(await PowSimNode.open(i, spec, clock, coin))
    net.value = new PowNetwork(spec, nodes, opts.miners, opts)
    net.value.scheduleNextFind()
    return net.value
  }

  /** Virtual seconds since the start. */
  get now(): number {
    return this.clockSeconds
  }

  get totalBlocks(): number {
    return this.blocksFound
  }

  /** The node clock: unix seconds. */
  unixNow(): bigint {
    return this.genesisTime + BigInt(Math.floor(this.clockSeconds))
  }

  info(hash: Uint8Array): MinedBlock {
    const b = this.blocks.get(bytesToHex(hash))
    if (!b) throw new Error(`block ${bytesToHex(hash)} was not mined in this network`)
    return b
  }

  /** The canonical chain of node `i` after genesis, oldest first, with who mined each block. */
  canonical(i: number): MinedBlock[] {
    const chain = this.nodes[i]!.chain
    const out: MinedBlock[] = []
    for (let h = 1n; h <= chain.head.header.height; h++) out.push(this.info(chain.getHashAt(h)!))
    return out
  }

  /** Gives a tx to the pending lists of `nodes` (default all). */
  submitTx(tx: TypedTransaction, nodes: readonly number[] = this.nodes.map((_, i) => i)): void {
    for (const i of nodes) this.nodes[i]!.pending.push(tx)
  }

  /**
   * Processes events in virtual-time order until `until()` holds after an event, `blocks` more
   * blocks have been found, or the schedule ends. Deliveries already due at the stop time are
   * processed, so a stop right after a block leaves the network settled except for blocks in flight.
   */
  async run(opts: { blocks?: number; until?: () => boolean; maxSeconds?: number } = {}): Promise<void> {
    const stopAt = opts.blocks !== undefined ? this.blocksFound + opts.blocks : Infinity
    for (;;) {
      const ev = this.queue.pop()
      if (!ev) return
      if (opts.maxSeconds !== undefined && ev.at > opts.maxSeconds) {
        this.queue.push(ev.at, ev.item)
        return
      }
      this.clockSeconds = ev.at
      if (ev.item.kind === 'find') {
        if (this.blocksFound >= stopAt) {
          this.queue.push(ev.at, ev.item)
          return
        }
        await this.find(ev.item.miner)
      } else {
        await this.deliver(ev.item.to, ev.item.from, ev.item.hash)
      }
      if (opts.until?.()) return
    }
  }

  /** Processes every delivery in flight (no more blocks are found meanwhile). */
  async settle(): Promise<void> {
    const finds: { at: number; item: NetEvent }[] = []
    for (let ev = this.queue.pop(); ev; ev = this.queue.pop()) {
      if (ev.item.kind === 'find') {
        finds.push(ev)
        continue
      }
      this.clockSeconds = Math.max(this.clockSeconds, ev.at)
      await this.deliver(ev.item.to, ev.item.from, ev.item.hash)
    }
    for (const f of finds) this.queue.push(Math.max(f.at, this.clockSeconds), f.item)
  }

  private context(i: number): MinerContext {
    const net = this
    return {
      self: i,
      node: this.nodes[i]!,
      network: this,
      get now() {
        return net.clockSeconds
      },
      publish: (hash, opts) => this.publish(i, hash, opts),
      accept: (hash) => this.nodes[i]!.accept(hash, (h) => this.blocks.get(bytesToHex(h))?.block),
      info: (hash) => this.info(hash),
    }
  }

  private async find(i: number): Promise<void> {
    const ctx = this.context(i)
    const s = this.strategies[i]!
    const node = this.nodes[i]!
    const parent = s.miningParent?.(ctx) ?? node.head.hash
    const txs = s.txs?.(ctx) ?? node.pending
    const { block } = await node.mine(parent, producerAddress(i), txs)
    const hash = blockHash(block.header)
    this.blocks.set(bytesToHex(hash), { hash, block, miner: i, height: block.header.height, foundAt: this.clockSeconds })
    this.blocksFound++
    this.scheduleNextFind()
    if (s.onMined) await s.onMined(ctx, hash)
    else this.publish(i, hash)
  }

  private async deliver(to: number, from: number, hash: Uint8Array): Promise<void> {
    const ctx = this.context(to)
    const s = this.strategies[to]!
    if (s.onReceived) await s.onReceived(ctx, hash, from)
    else await ctx.accept(hash)
  }

  private publish(from: number, hash: Uint8Array, opts: PublishOptions = {}): void {
    this.info(hash) // only blocks mined here travel
    const to = opts.to ?? this.nodes.map((_, i) => i).filter((i) => i !== from)
    for (const t of to) {
      if (t === from) continue
      const d = opts.delay ? opts.delay(t) : this.delay(from, t, hash, this.prng)
      this.queue.push(this.clockSeconds + d, { kind: 'deliver', to: t, from, hash })
    }
  }

  private scheduleNextFind(): void {
    const next = this.schedule(this.prng)
    if (next) this.queue.push(this.clockSeconds + next.dt, { kind: 'find', miner: next.miner })
  }
}

/** Exponential inter-arrival times with mean `meanSeconds`, the finder drawn in proportion to `hashrates`. */
export function poissonSchedule(hashrates: readonly number[], meanSeconds: number): BlockSchedule {
  const total = hashrates.reduce((a, b) => a + b, 0)
  if (!(total > 0)) throw new Error('the miners need a positive total hashrate')
  return (prng) => {
    const dt = -Math.log(1 - prng.next()) * meanSeconds
    let u = prng.next() * total
    for (let i = 0; i < hashrates.length; i++) {
      u -= hashrates[i]!
      if (u < 0) return { miner: i, dt }
    }
    return { miner: hashrates.length - 1, dt }
  }
}

/** Replays a fixed list of finders (a race model's run), `meanSeconds` apart on average (exponential gaps from the PRNG). */
export function replaySchedule(finders: readonly number[], meanSeconds: number): BlockSchedule {
  let i = 0
  return (prng) => (i < finders.length ? { miner: finders[i++]!, dt: -Math.log(1 - prng.next()) * meanSeconds } : undefined)
}

/** A distinct coinbase address per miner: the block's producer says who mined it. */
export function producerAddress(miner: number): Uint8Array {
  const a = new Uint8Array(20).fill(0xa0)
  new DataView(a.buffer).setUint32(16, miner)
  return a
}

function reorgEvent(node: number, at: number, r: Reorg): ReorgEvent {
  return { node, at, depth: r.disconnected.length, disconnected: r.disconnected.map((x) => x.hash), connected: r.connected.map((x) => x.hash) }
}
