/**
 * The PoH leader with a real generator thread: every block it commits carries exactly the
 * entries since its parent's end, each entry's txs the body's, even when a slot of ours was
 * given up after its txs were mixed in (records that landed after the slot's end). Before the
 * fix those txs stayed in the leader's entries and a later block of ours sealed them beside a
 * body without them: a block every peer refuses (seen in bench/poh-vs-bft.ts at 200 tx/s).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { pino } from 'pino'
import type { TypedTransaction } from '@ethereumjs/tx'
import { blockHash, type BlockHeader } from '../../../../src/chain/block.ts'
import type { ExecutedBlock } from '../../../../src/chain/import.ts'
import { PohGenerator, checkTicks, verifyEntriesSync, type GeneratedEntry, type PohGeneratorOptions } from '../../../../src/consensus/poh/index.ts'
import { PohLeader, TXS_PER_ENTRY, type PohBase } from '../../../../src/consensus/poh-engine/leader.ts'
import { decodePohSeal, pohEntriesOf } from '../../../../src/consensus/poh-engine/seal.ts'

const CLOCK = { hashesPerTick: 400, ticksPerSlot: 8 }
const MIN_TICK_MS = 8 // 64 ms slots
const LIMITS = { maxHashes: 1_000_000, maxEntries: 10_000, maxTxs: 100_000 }
const ADDRESS = new Uint8Array(20).fill(7)
const PRIVATE_KEY = new Uint8Array(32).fill(9)

/** A generator whose next `hold` records are sent only when the slot ends (a leader whose main thread was late). */
class LateRecords extends PohGenerator {
  hold = 0
  private held: Array<() => void> = []

  constructor(opts: PohGeneratorOptions) {
    super(opts)
    // Registered before the leader's listener: the records reach the thread after the slot's last tick.
    this.onSlot(() => {
      const held = this.held
      this.held = []
      for (const send of held) send()
    })
  }

  override record(txHashes: Uint8Array[]): Promise<GeneratedEntry> {
    if (this.hold <= 0) return super.record(txHashes)
    this.hold--
    return new Promise((resolve, reject) => this.held.push(() => super.record(txHashes).then(resolve, reject)))
  }
}

function header(fields: Partial<BlockHeader>): BlockHeader {
  return {
    parentHash: new Uint8Array(32),
    height: 0n,
    timestamp: 1_700_000_000n,
    txRoot: new Uint8Array(32),
    stateRoot: new Uint8Array(32),
    receiptsRoot: new Uint8Array(32),
    logsBloom: new Uint8Array(256),
    gasLimit: 30_000_000n,
    gasUsed: 0n,
    baseFee: 0n,
    producer: ADDRESS,
    extraData: new Uint8Array(0),
    seal: new Uint8Array(0),
    ...fields,
  }
}

let txTag = 0
function fakeTxs(n: number): TypedTransaction[] {
  return Array.from({ length: n }, () => {
    const h = new Uint8Array(32)
    new DataView(h.buffer).setUint32(0, ++txTag)
    return { hash: () => h } as unknown as TypedTransaction
  })
}

describe('PohLeader (real generator thread)', () => {
  const closers: Array<() => Promise<void> | void> = []
  after(async () => {
    for (const c of closers.reverse()) await c()
  })

  it('a slot given up after its txs were mixed in leaves none of them in a later block of ours', async () => {
    const genesisEnd = new Uint8Array(32).fill(1)
    const genesis = header({})
    const base: PohBase = { hash: blockHash(genesis), header: genesis, slot: 0n, end: genesisEnd }
    const gen = new LateRecords({ ...CLOCK, startHash: genesisEnd, tickHeight: CLOCK.ticksPerSlot, minTickMs: MIN_TICK_MS })
    closers.push(() => gen.close())
    await gen.ready()

    const committed: ExecutedBlock[] = []
    const ends = new Map<string, Uint8Array>([[Buffer.from(base.hash).toString('hex'), genesisEnd]])
    let head = base.hash
    let builds = 0
    const leader = new PohLeader(gen, {
      log: pino({ level: 'silent' }),
      chainId: 1342n,
      address: ADDRESS,
      privateKey: PRIVATE_KEY,
      ticksPerSlot: CLOCK.ticksPerSlot,
      clock: CLOCK,
      slotMs: undefined,
      maxSlots: 64n,
      leaderOf: () => ADDRESS,
      head: () => ({ hash: head }),
      build: async ({ timestamp, presetSeal }) => {
        builds++
        // The first block: its 3 records reach the thread after the slot ended.
        if (builds === 1) gen.hold = 3
        const parent = committed.at(-1)?.block.header ?? genesis
        return {
          block: { header: header({ parentHash: blockHash(parent), height: parent.height + 1n, timestamp, seal: presetSeal }), txs: fakeTxs(3 * TXS_PER_ENTRY - 5) },
        } as unknown as ExecutedBlock
      },
      commit: async (executed) => {
        committed.push(executed)
        head = blockHash(executed.block.header)
      },
      sealExtras: () => ({ votes: [], evidence: [] }),
      lastSigned: (() => {
        let last: bigint | undefined
        return { read: () => last, write: (s: bigint) => void (last = s) }
      })(),
    })
    closers.push(() => leader.close())
    leader.resetTo(base)

    const deadline = Date.now() + 20_000
    while (committed.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.ok(committed.length >= 3, `3 blocks committed (got ${committed.length} from ${builds} builds)`)
    assert.ok(builds > committed.length, 'the first build was given up (its records came late)')
    assert.ok(leader.stats().skippedOwn >= 1)

    for (const { block } of committed) {
      const seal = decodePohSeal(block.header.seal)
      const parentEnd = ends.get(Buffer.from(block.header.parentHash).toString('hex'))
      assert.ok(parentEnd, `block ${block.header.height}: its parent is genesis or an earlier block of ours`)
      assert.deepEqual(seal.pohStart, parentEnd, `block ${block.header.height} starts at its parent's PoH end`)
      // Throws BAD_SEAL when the entries hold other txs than the body.
      const entries = pohEntriesOf(seal, block.txs.map((tx) => tx.hash()))
      const bodyHashes = block.txs.map((tx) => Buffer.from(tx.hash()).toString('hex'))
      const entryHashes = entries.flatMap((e) => e.txHashes.map((h) => Buffer.from(h).toString('hex')))
      assert.deepEqual(entryHashes, bodyHashes, `block ${block.header.height}: its entries mix in exactly its txs`)
      checkTicks(entries, CLOCK, Number(seal.slot - seal.parentSlot) * CLOCK.ticksPerSlot)
      assert.deepEqual(verifyEntriesSync(seal.pohStart, entries, LIMITS).endHash, seal.pohEnd, `block ${block.header.height}: the PoH verifies`)
      ends.set(Buffer.from(blockHash(block.header)).toString('hex'), seal.pohEnd)
    }
  })
})
