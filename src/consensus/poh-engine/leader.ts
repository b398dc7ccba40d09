/**
 * A validator's PoH clock and its block production, as Solana's PoH recorder and banking
 * stage do it, simplified to one block per slot:
 * - The generator (its own thread) runs from the end of the head block; a new head resets it
 *   there. Its ticks are the slot clock: slot s starts at tick s x ticksPerSlot.
 * - When slot S starts and the schedule names this validator its leader, the block is built
 *   on the head from the mempool (bounded to half a slot of execution), and its txs are mixed
 *   into the PoH as entries of at most TXS_PER_ENTRY tx hashes.
 * - When slot S ends, the entries since the head's end (ticks of skipped slots, then slot S's
 *   ticks and tx entries) go into the seal, the leader signs it, and the block is committed
 *   here and gossiped. A leader whose previous leaders were silent covers their slots with its
 *   ticks: the PoH proves the time passed.
 * - A slot is given up (its txs stay in the pool) when its build or records did not finish
 *   within it, or the head moved under it. A slot given up after its txs were mixed in leaves
 *   them in the PoH since the head, where no block will carry them: the clock is rewound to the
 *   head's end (as a new head would reset it), so no later block of ours holds entries of txs
 *   that are not in its body.
 * @module
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { blockHash, type Block, type BlockHeader } from '../../chain/block.ts'
import type { ExecutedBlock } from '../../chain/import.ts'
import { PohGenerator, signSlotBlock, type GeneratedEntry, type PohEntry, type SlotEnd } from '../poh/index.ts'
import { decodePohSeal, encodePohSeal, sealEntriesOf, signingHash, type PohSeal } from './seal.ts'
import { entriesFrom } from './offline-entries.ts'

/** Most tx hashes mixed in as one PoH entry. */
export const TXS_PER_ENTRY = 64

/** The block the clock runs from. */
export interface PohBase {
  hash: Uint8Array
  header: BlockHeader
  slot: bigint
  end: Uint8Array
}

export interface LeaderHooks {
  log: Logger
  chainId: bigint
  address: Uint8Array
  privateKey: Uint8Array
  ticksPerSlot: number
  /** The clock's parameters (byzantine 'fork' hashes a slot here). */
  clock: { hashesPerTick: number; ticksPerSlot: number }
  /** The slot length on a paced cluster (for timestamps), else undefined. */
  slotMs: number | undefined
  /** Most slots one block may cover. */
  maxSlots: bigint
  /** The leader of `slot` on the branch of `parentHash` (undefined: unknown). */
  leaderOf(slot: bigint, parentHash: Uint8Array): Uint8Array | undefined
  /** The chain head now. */
  head(): { hash: Uint8Array }
  /** Builds the next block on the head (not committed); `deadline` (ms since epoch) bounds how long txs are pulled. */
  build(opts: { timestamp: bigint; presetSeal: Uint8Array; deadline: number; parentHash?: Uint8Array }): Promise<ExecutedBlock>
  /** Commits a sealed block of ours (it must extend the head). */
  commit(executed: ExecutedBlock): Promise<void>
  /** The votes and evidence to carry in a block of `slot` built on `parentHash`, already checked against the rules. */
  sealExtras(slot: bigint, parentHash: Uint8Array): { votes: Uint8Array[]; evidence: Uint8Array[] }
  /** The last slot this validator signed a block for (persisted): it never signs another block for it or an earlier slot. */
  lastSigned: { read(): bigint | undefined; write(slot: bigint): void }
  /** Attack labs only (an honest leader never does any of this): see Byzantine. */
  byzantine?: Byzantine
  /** Gossips a block without storing it here (byzantine modes). */
  publish?(block: Block): void
  /** The parent of a stored block as a clock base (byzantine 'fork'). */
  parentOf?(hash: Uint8Array): PohBase | undefined
}

/**
 * Misbehaviour on purpose, for attack labs and slashing tests:
 * - 'double-sign': each block also gets a signed twin (the same block carrying one vote fewer),
 *   gossiped: a slashable offence.
 * - 'bad-poh': each block also gets a copy with one PoH hash wrong, signed and gossiped: every
 *   honest peer must refuse it and score the sender down.
 * - 'fork': the first slot of each of its leader groups is built on the parent of the previous
 *   leader's block (ignoring that block), signed and gossiped; two leaders then build on
 *   different parents at once and the votes must settle it.
 */
export type Byzantine = 'double-sign' | 'bad-poh' | 'fork'

interface Building {
  slot: bigint
  built?: ExecutedBlock
  failed?: boolean
  /** The first tx hash (hex) of each record of this block not yet mixed in. */
  recordsLeft: Set<string>
  /** Records were sent to the generator: the PoH since the base holds (some of) this block's txs. */
  mixed: boolean
}

export class PohLeader {
  private base: PohBase | undefined
  private entries: PohEntry[] = []
  private building: Building | undefined
  private committing: Promise<void> = Promise.resolve()
  /** The last build, settled either way: a build given up still runs to its end, and the next waits for it. */
  private lastBuild: Promise<void> = Promise.resolve()
  private produced = 0
  private skippedOwn = 0
  private readonly offs: Array<() => void> = []

  constructor(
    private readonly gen: PohGenerator,
    private readonly o: LeaderHooks,
  ) {
    this.offs.push(
      gen.onEntry((e) => this.onEntry(e)),
      gen.onSlot((end) => this.onSlotEnd(end)),
    )
  }

  /** Blocks produced here, and own slots given up. */
  stats(): { produced: number; skippedOwn: number; slot: number; hashrate: number } {
    return { produced: this.produced, skippedOwn: this.skippedOwn, slot: this.gen.stats().slot, hashrate: this.gen.hashrate() }
  }

  /** The slot the clock is in now. */
  currentSlot(): bigint {
    return BigInt(this.gen.stats().slot)
  }

  /** Runs the clock from `base` (a new head); a no-op when it already runs from there. */
  resetTo(base: PohBase): void {
    if (this.base && equalsBytes(this.base.hash, base.hash)) return
    if (this.building) this.giveUp(`the head moved to slot ${base.slot} while slot ${this.building.slot} was being made`)
    this.base = base
    this.entries = []
    this.gen.reset(base.end, Number((base.slot + 1n) * BigInt(this.o.ticksPerSlot)))
    // The clock now stands at the start of the slot after the base: if it is ours, it starts now
    // (no slot-end event announces it).
    this.startIfOurs(base, base.slot + 1n)
  }

  close(): void {
    for (const off of this.offs) off()
  }

  private onEntry(e: GeneratedEntry): void {
    if (!this.base) return
    // Past the most slots a block may cover, nothing built on this base can be valid: stop collecting.
    if (BigInt(e.slot) - this.base.slot > this.o.maxSlots) return
    this.entries.push(e.entry)
    // Only this block's own records count: one of an earlier, given-up build is never taken for it.
    if (e.entry.txHashes.length > 0) this.building?.recordsLeft.delete(bytesToHex(e.entry.txHashes[0]!))
  }

  private onSlotEnd(end: SlotEnd): void {
    const slot = BigInt(end.slot)
    // A rewound clock is back at the slot after the base: rewind() started it.
    if (this.building?.slot === slot && this.finish(end) === 'rewound') return
    // After finish: our block of this slot, if we made one, is the base now.
    const base = this.base
    if (!base) return
    this.startIfOurs(base, slot + 1n)
  }

  private startIfOurs(base: PohBase, slot: bigint): void {
    if (slot - base.slot > this.o.maxSlots) return
    // Never two blocks for one slot: after a reset to a late block the slot we already signed may come round again.
    const signed = this.o.lastSigned.read()
    if (signed !== undefined && slot <= signed) return
    const leader = this.o.leaderOf(slot, base.hash)
    if (!leader || !equalsBytes(leader, this.o.address)) return
    if (this.o.byzantine === 'fork' && slot === base.slot + 1n && !equalsBytes(base.header.producer, this.o.address)) {
      const grandparent = this.o.parentOf?.(base.hash)
      if (grandparent) return void this.forkOn(grandparent, slot)
    }
    void this.start(base, slot)
  }

  /** Byzantine 'fork': the block of `slot` on `parent` (not the head), its PoH hashed here, gossiped, not stored. */
  private async forkOn(parent: PohBase, slot: bigint): Promise<void> {
    try {
      this.o.lastSigned.write(slot)
      const { votes, evidence } = this.o.sealExtras(slot, parent.hash)
      const preset: PohSeal = { slot, parentSlot: parent.slot, pohStart: parent.end, pohEnd: new Uint8Array(32), entries: [], votes, evidence, signature: new Uint8Array(0) }
      const built = await this.o.build({ timestamp: this.timestampFor(parent, slot), presetSeal: encodePohSeal(preset), deadline: Date.now() + 50, parentHash: parent.hash })
      const entries = entriesFrom(parent.end, Number(slot - parent.slot), this.o.clock, built.block.txs.map((tx) => tx.hash()), TXS_PER_ENTRY)
      const block = this.sealed(built.block, { ...preset, pohEnd: entries[entries.length - 1]!.hash, entries: sealEntriesOf(entries) }, slot)
      this.o.publish?.(block)
      this.o.log.warn({ slot: Number(slot), parentSlot: Number(parent.slot), hash: bytesToHex(blockHash(block.header)) }, 'byzantine: a block of our slot built beside the previous leader\'s, gossiped')
    } catch (err) {
      this.o.log.warn({ slot: Number(slot), err: (err as Error).message }, 'byzantine: the fork block failed')
    }
  }

  /** Slot `slot` starts and is ours: build its block on the base, and mix its txs into the PoH. */
  private async start(base: PohBase, slot: bigint): Promise<void> {
    const b: Building = { slot, recordsLeft: new Set(), mixed: false }
    this.building = b
    // Txs are pulled for half a slot from its start, wherever the waits below end.
    const deadline = Date.now() + (this.o.slotMs ?? 400) / 2
    // Our previous slot's block is still being committed: build on it once it is the head. A
    // build given up (its slot ended) still runs: one build at a time, or on a loaded machine
    // every slot would start another and none would finish.
    await this.committing
    await this.lastBuild
    if (this.building !== b) return
    if (Date.now() >= deadline) return this.giveUp('the builds before it took half of it')
    if (!equalsBytes(this.o.head().hash, base.hash)) return this.giveUp(`the head is not the block slot ${slot} builds on`)
    const { votes, evidence } = this.o.sealExtras(slot, base.hash)
    const preset: PohSeal = { slot, parentSlot: base.slot, pohStart: base.end, pohEnd: new Uint8Array(32), entries: [], votes, evidence, signature: new Uint8Array(0) }
    try {
      const building = this.o.build({ timestamp: this.timestampFor(base, slot), presetSeal: encodePohSeal(preset), deadline })
      this.lastBuild = building.then(
        () => undefined,
        () => undefined,
      )
      const built = await building
      if (this.building !== b) return
      const hashes = built.block.txs.map((tx) => tx.hash())
      for (let i = 0; i < hashes.length; i += TXS_PER_ENTRY) {
        const chunk = hashes.slice(i, i + TXS_PER_ENTRY)
        b.recordsLeft.add(bytesToHex(chunk[0]!))
        b.mixed = true
        this.gen.record(chunk).catch((err) => {
          b.failed = true
          this.o.log.debug({ slot: Number(slot), err: (err as Error).message }, 'poh: a record failed')
        })
      }
      b.built = built
    } catch (err) {
      b.failed = true
      this.o.log.warn({ slot: Number(slot), err: (err as Error).message }, 'poh: building the block of our slot failed')
    }
  }

  /** Slot `end.slot` ended: seal, sign and commit its block, if it is complete. */
  private finish(end: SlotEnd): 'rewound' | undefined {
    const b = this.building!
    this.building = undefined
    if (!b.built || b.failed || b.recordsLeft.size !== 0) {
      this.skippedOwn++
      this.o.log.info({ slot: Number(b.slot), building: !b.built, recordsLeft: b.recordsLeft.size }, 'poh: our slot ended before its block was ready: skipped')
      return b.mixed ? this.rewind() : undefined
    }
    const built = b.built
    const seal: PohSeal = {
      ...decodePohSeal(built.block.header.seal),
      pohEnd: end.endHash,
      entries: sealEntriesOf(this.entries),
      signature: new Uint8Array(0),
    }
    const last = this.o.lastSigned.read()
    if (last !== undefined && b.slot <= last) return this.rewind()
    // Written (durably) before the signature exists: a restart never signs this slot again.
    this.o.lastSigned.write(b.slot)
    const unsigned: BlockHeader = { ...built.block.header, seal: encodePohSeal(seal) }
    const signed = signSlotBlock({ leader: this.o.address, slot: b.slot, blockHash: signingHash(unsigned, seal) }, this.o.privateKey, this.o.chainId)
    const header: BlockHeader = { ...unsigned, seal: encodePohSeal({ ...seal, signature: signed.signature }) }
    const executed: ExecutedBlock = { ...built, block: { ...built.block, header } }
    if (this.o.byzantine === 'double-sign' && seal.votes.length > 0) this.o.publish?.(this.sealed(built.block, { ...seal, votes: seal.votes.slice(1) }, b.slot))
    if (this.o.byzantine === 'bad-poh') {
      const k = Math.floor(seal.entries.length / 2)
      const entries = seal.entries.map((e, i) => (i === k ? { ...e, hash: Uint8Array.from(e.hash, (x, j) => (j === 0 ? x ^ 1 : x)) } : e))
      this.o.publish?.(this.sealed(built.block, { ...seal, entries }, b.slot))
    }
    // The clock goes on from this block's end: it becomes the base before the head event resets anything.
    this.base = { hash: blockHash(header), header, slot: b.slot, end: end.endHash }
    this.entries = []
    this.committing = this.o
      .commit(executed)
      .then(() => {
        this.produced++
        this.o.log.info({ slot: Number(b.slot), height: Number(header.height), txs: built.block.txs.length, hash: bytesToHex(this.base!.hash) }, 'poh: produced the block of our slot')
      })
      .catch((err) => this.o.log.warn({ slot: Number(b.slot), err: (err as Error).message }, 'poh: committing our block failed'))
  }

  /**
   * Restarts the clock at the base's end (cancelling records still in flight): the entries since
   * the base hold txs of a given-up block, and every block of ours must carry exactly the entries
   * since its parent's end. Our slots after the base come round again.
   */
  private rewind(): 'rewound' {
    const base = this.base!
    this.entries = []
    this.gen.reset(base.end, Number((base.slot + 1n) * BigInt(this.o.ticksPerSlot)))
    this.o.log.info({ baseSlot: Number(base.slot) }, 'poh: the clock rewound to the head after a slot given up with its txs mixed in')
    this.startIfOurs(base, base.slot + 1n)
    return 'rewound'
  }

  /** `block` with `seal`, signed by us. */
  private sealed(block: Block, seal: PohSeal, slot: bigint): Block {
    const unsigned: BlockHeader = { ...block.header, seal: encodePohSeal({ ...seal, signature: new Uint8Array(0) }) }
    const signed = signSlotBlock({ leader: this.o.address, slot, blockHash: signingHash(unsigned) }, this.o.privateKey, this.o.chainId)
    return { ...block, header: { ...unsigned, seal: encodePohSeal({ ...seal, signature: signed.signature }) } }
  }

  private giveUp(why: string): void {
    const b = this.building
    if (!b) return
    this.building = undefined
    this.skippedOwn++
    this.o.log.info({ slot: Number(b.slot) }, `poh: our slot given up: ${why}`)
  }

  /** Now, but no earlier than the slots since the parent allow (rules.ts checkTime). */
  private timestampFor(base: PohBase, slot: bigint): bigint {
    const now = BigInt(Math.floor(Date.now() / 1000))
    let ts = now > base.header.timestamp ? now : base.header.timestamp
    const ms = this.o.slotMs
    if (ms !== undefined && base.header.height > 0n) {
      const earliest = (base.header.timestamp * 1000n + BigInt(Math.ceil(Number(slot - base.slot) * ms)) - 2000n + 999n) / 1000n
      if (ts < earliest) ts = earliest
    }
    return ts
  }
}
