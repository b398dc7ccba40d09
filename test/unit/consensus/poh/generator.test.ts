import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  checkTicks,
  txRootOf,
  PohError,
  PohGenerator,
  verifyEntriesSync,
  type GeneratedEntry,
  type PohEntry,
  type PohErrorCode,
  type SlotEnd,
} from '../../../../src/consensus/poh/index.ts'
import {
  CTL_MAIL,
  CTL_SLOTS,
  CTL_TAKEN,
  runGenerator,
  type GeneratorCommand,
  type MadeEntry,
} from '../../../../src/consensus/poh/generator-worker.ts'
import { bytes32, refNext, rfc6962Root, sha, until } from './helpers.ts'

const START = bytes32(42)
const NO_LIMIT = { maxHashes: Number.MAX_SAFE_INTEGER, maxEntries: 10_000_000, maxTxs: 10_000_000 }

function isPohError(code: PohErrorCode) {
  return (e: unknown) => e instanceof PohError && e.code === code
}

/** An entry of the loop with its txs put back (the loop only gets their root). */
interface Made extends MadeEntry {
  entry: PohEntry
}

/**
 * Runs the generator loop on this thread. `onBatch` sees every batch (with its gen) and may
 * return commands for the loop; returning 'stop' ends it. Commands in `first` are waiting at
 * start. Records are given as tx hashes and sent as their root, as PohGenerator does.
 */
function drive(
  hashesPerTick: number,
  first: Command[],
  onBatch: (made: Made[], gen: number, all: Made[]) => Command[] | 'stop',
  checkEvery = 64,
): Made[] {
  const control = new SharedArrayBuffer(4 * CTL_SLOTS)
  const ctl = new Int32Array(control)
  const txsOf = new Map<number, Uint8Array[]>()
  const queue: GeneratorCommand[] = []
  const send = (cmds: Command[]) => {
    for (const c of cmds) {
      if (c.type !== 'record') {
        queue.push(c)
        continue
      }
      txsOf.set(c.id, c.txHashes)
      queue.push({ type: 'record', id: c.id, txRoot: txRootOf(c.txHashes) })
    }
  }
  send(first)
  if (queue.length > 0) ctl[CTL_MAIL] = 1
  const all: Made[] = []
  runGenerator(
    { startHash: START, hashesPerTick, tickHeight: 0, checkEvery, maxBacklog: 1 << 20, control, counters: new SharedArrayBuffer(8) },
    {
      receive: () => queue.shift(),
      post: (r) => {
        if (r.type !== 'entries') return
        const made = r.entries.map((m) => ({
          ...m,
          entry: { numHashes: m.numHashes, hash: m.hash, txHashes: m.recordId === undefined ? [] : txsOf.get(m.recordId)! },
        }))
        all.push(...made)
        ctl[CTL_TAKEN]!++
        const next = onBatch(made, r.gen, all)
        if (next === 'stop') queue.push({ type: 'stop' })
        else send(next)
        if (queue.length > 0) ctl[CTL_MAIL]!++
      },
    },
  )
  return all
}

type Command = Exclude<GeneratorCommand, { type: 'record' }> | { type: 'record'; id: number; txHashes: Uint8Array[] }

const entriesOf = (made: Made[]): PohEntry[] => made.map((m) => m.entry)
const record = (id: number, ...tags: number[]): Command => ({ type: 'record', id, txHashes: tags.map(bytes32) })

describe('PoH generator loop (run on this thread)', () => {
  it('mixes a waiting record in before hashing, then ticks every hashesPerTick hashes', () => {
    const made = drive(4, [record(7, 1, 2)], (_m, _g, all) => (all.filter((m) => m.recordId === undefined).length >= 3 ? 'stop' : []))
    const [rec, t1, t2, t3] = made
    // The record is the first hash: sha256(start || root(tx hashes)); its tick then has 3 left.
    assert.deepEqual(rec!.hash, sha(START, rfc6962Root([bytes32(1), bytes32(2)])))
    assert.deepEqual([rec!.numHashes, rec!.recordId, rec!.ticksBefore], [1, 7, 0])
    assert.deepEqual([t1!.numHashes, t1!.hash], [3, refNext(rec!.hash, 3)])
    assert.deepEqual([t2!.numHashes, t2!.hash], [4, refNext(t1!.hash, 4)])
    assert.deepEqual([t1!.ticksBefore, t2!.ticksBefore, t3!.ticksBefore], [0, 1, 2])
    checkTicks(entriesOf(made.slice(0, 4)), { hashesPerTick: 4, ticksPerSlot: 3 })
  })

  it("never gives a record the tick's last hash: the tick comes first", () => {
    // hashesPerTick 2: the first record leaves one hash in the tick, so the second waits for the tick.
    const made = drive(2, [record(1, 1), record(2, 2)], (_m, _g, all) => (all.length >= 5 ? 'stop' : []))
    assert.deepEqual(
      made.slice(0, 5).map((m) => [m.numHashes, m.entry.txHashes.length, m.recordId]),
      [[1, 1, 1], [1, 0, undefined], [1, 1, 2], [1, 0, undefined], [2, 0, undefined]],
    )
    verifyEntriesSync(START, entriesOf(made), NO_LIMIT)
    checkTicks(entriesOf(made.slice(0, 5)), { hashesPerTick: 2, ticksPerSlot: 3 })
  })

  it('records arriving mid-stream keep the chain valid and the ticks exactly hashesPerTick apart', () => {
    let id = 0
    const made = drive(10, [], (_m, _g, all) => {
      if (all.length > 200) return 'stop'
      return [record(++id, id), record(++id, id, id + 100)]
    })
    assert.ok(made.filter((m) => m.recordId !== undefined).length > 20)
    verifyEntriesSync(START, entriesOf(made), NO_LIMIT)
    const lastTick = made.map((m) => m.recordId === undefined).lastIndexOf(true)
    const ticks = made.slice(0, lastTick + 1).filter((m) => m.recordId === undefined).length
    checkTicks(entriesOf(made.slice(0, lastTick + 1)), { hashesPerTick: 10, ticksPerSlot: ticks })
  })

  it('a reset continues from the new hash and tick height, dropping what was made before it', () => {
    const other = bytes32(43)
    let phase = 0
    const after: Made[] = []
    drive(8, [], (made, gen) => {
      if (phase === 0) {
        phase = 1
        return [record(1, 9), { type: 'reset', gen: 1, hash: other, tickHeight: 640 }]
      }
      assert.equal(gen, 1, 'no batch of the old chain after the reset')
      after.push(...made)
      return after.length > 50 ? 'stop' : []
    })
    assert.equal(after[0]!.ticksBefore, 640)
    assert.ok(after.every((m) => m.recordId === undefined), 'the record made before the reset went with the old chain')
    verifyEntriesSync(other, entriesOf(after), NO_LIMIT)
  })
})

describe('PohGenerator (on its own thread)', () => {
  // A slot is 8 x 512 hashes, about 1 ms here: enough slots to see, few enough entries to check.
  const clock = { hashesPerTick: 512, ticksPerSlot: 8 }

  /** Collects entries and slot ends from now until `done` holds (default: 3 slots have ended). */
  async function collect(gen: PohGenerator, during?: () => Promise<void>, done?: (ends: SlotEnd[]) => boolean) {
    const entries: GeneratedEntry[] = []
    const ends: SlotEnd[] = []
    const offEntry = gen.onEntry((e) => entries.push(e))
    const offSlot = gen.onSlot((s) => ends.push(s))
    await during?.()
    await until(() => (done ? done(ends) : ends.length >= 3), 'the slots wanted')
    offEntry()
    offSlot()
    return { entries, ends }
  }

  function bySlot(entries: GeneratedEntry[]): Map<number, PohEntry[]> {
    const slots = new Map<number, PohEntry[]>()
    for (const e of entries) {
      const list = slots.get(e.slot) ?? []
      list.push(e.entry)
      slots.set(e.slot, list)
    }
    return slots
  }

  it('makes slots of ticks that verify from the start hash, and ends each slot on its last tick', async () => {
    const gen = new PohGenerator({ startHash: START, ...clock })
    try {
      const { entries, ends } = await collect(gen)
      verifyEntriesSync(START, entries.map((e) => e.entry), NO_LIMIT)
      const slots = bySlot(entries)
      for (const end of ends.slice(0, 3)) {
        const slot = slots.get(end.slot)!
        checkTicks(slot, clock)
        assert.deepEqual(end.endHash, slot[slot.length - 1]!.hash)
        assert.equal(end.tickHeight, (end.slot + 1) * clock.ticksPerSlot)
      }
      assert.deepEqual(ends.slice(0, 3).map((e) => e.slot), [0, 1, 2])
      assert.ok(gen.hashrate() > 0)
      assert.ok(gen.stats().hashes >= 3 * 8 * 64)
    } finally {
      await gen.close()
    }
  })

  it('paced ticks (minTickMs): slots take at least their ticks times the pace, still verify, and records are not held back', async () => {
    const gen = new PohGenerator({ startHash: START, ...clock, minTickMs: 10 })
    try {
      await gen.ready()
      const t0 = performance.now()
      let recorded: GeneratedEntry | undefined
      const { entries, ends } = await collect(gen, async () => {
        recorded = await gen.record([bytes32(7)])
      })
      const elapsed = performance.now() - t0
      // 3 slots of 8 ticks at >= 10 ms each, from the start: a lower bound, not a timing goal.
      assert.ok(elapsed >= 3 * 8 * 10 - 5, `3 paced slots took ${elapsed.toFixed(0)} ms`)
      verifyEntriesSync(START, entries.map((e) => e.entry), NO_LIMIT)
      const slots = bySlot(entries)
      for (const end of ends) checkTicks(slots.get(end.slot)!, clock)
      assert.ok(recorded && recorded.slot === 0, 'the record was mixed in during the first slot, not after a pause')
    } finally {
      await gen.close()
    }
  })

  it('refuses a bad pace', () => {
    for (const minTickMs of [-1, Number.NaN, 1e9]) assert.throws(() => new PohGenerator({ startHash: START, ...clock, minTickMs }), (e: Error) => (e as { code?: string }).code === 'BAD_ARGUMENT')
  })

  it('records tx hashes as entries in the stream, in order, each resolving with its entry', async () => {
    const gen = new PohGenerator({ startHash: START, ...clock })
    try {
      let records: GeneratedEntry[] = []
      // Subscribed before the thread runs: every entry from the start hash is seen.
      const { entries, ends } = await collect(
        gen,
        async () => {
          await gen.ready()
          records = await Promise.all([1, 2, 3, 4, 5].map((i) => gen.record([bytes32(i), bytes32(i + 50)])))
        },
        (ends) => ends.some((e) => e.slot >= records[4]!.slot),
      )
      verifyEntriesSync(START, entries.map((e) => e.entry), NO_LIMIT)
      const inStream = entries.filter((e) => e.entry.txHashes.length > 0)
      assert.deepEqual(inStream, records, 'the resolved entries are the ones in the stream, in record order')
      assert.deepEqual(records.map((r) => r.entry.txHashes[0]), [1, 2, 3, 4, 5].map(bytes32))
      // Every slot that ended, the records' slots among them, is ticksPerSlot ticks of hashesPerTick.
      const slots = bySlot(entries)
      for (const end of ends) checkTicks(slots.get(end.slot)!, clock)
    } finally {
      await gen.close()
    }
  })

  it('reset: entries continue from the new hash at the new tick height; a pending record is cancelled', async () => {
    const gen = new PohGenerator({ startHash: START, ...clock })
    try {
      await collect(gen, undefined, (ends) => ends.length >= 1)
      const other = bytes32(44)
      const pending = gen.record([bytes32(1)])
      const cancelled = assert.rejects(pending, isPohError('CANCELLED'))
      const entries: GeneratedEntry[] = []
      const ends: SlotEnd[] = []
      gen.reset(other, 10 * clock.ticksPerSlot)
      gen.onEntry((e) => entries.push(e))
      gen.onSlot((s) => ends.push(s))
      await cancelled
      await until(() => ends.length >= 2, 'two slots after the reset')
      assert.deepEqual(ends.slice(0, 2).map((e) => e.slot), [10, 11])
      assert.equal(entries[0]!.slot, 10)
      verifyEntriesSync(other, entries.map((e) => e.entry), NO_LIMIT)
      checkTicks(entries.filter((e) => e.slot === 10).map((e) => e.entry), clock)
    } finally {
      await gen.close()
    }
  })

  it('a reset from a listener, in the middle of a batch of entries, drops the rest of that batch (no unknown record)', async () => {
    // A PoH leader rewinds its clock from the slot-end listener: entries after that point in the
    // same batch belong to the old chain, and their records were cancelled by the reset.
    const gen = new PohGenerator({ startHash: START, ...clock })
    const failures: Error[] = []
    gen.onError((e) => failures.push(e))
    try {
      await gen.ready()
      for (let round = 0; round < 30; round++) {
        const hashes = Array.from({ length: 8 }, (_, i) => [bytes32(100 + round * 8 + i)])
        let resetOnce = false
        const off = gen.onEntry((e) => {
          if (resetOnce || e.entry.txHashes.length === 0) return
          resetOnce = true
          gen.reset(bytes32(7), (round + 1) * 100 * clock.ticksPerSlot)
        })
        const outcomes = await Promise.allSettled(hashes.map((h) => gen.record(h)))
        off()
        assert.equal(outcomes[0]!.status, 'fulfilled', 'the first record was made before the reset')
        for (const o of outcomes.slice(1)) if (o.status === 'rejected') assert.ok(isPohError('CANCELLED')(o.reason), String(o.reason))
        assert.deepEqual(failures, [], `round ${round}`)
      }
      // Still alive: a record after all that is made.
      await gen.record([bytes32(99)])
    } finally {
      await gen.close()
    }
  })

  it('when this thread does not take its entries, the clock waits (bounded backlog) and loses nothing', async () => {
    const gen = new PohGenerator({ startHash: START, ...clock, maxBacklog: 4, checkEvery: 256 })
    try {
      const entries: GeneratedEntry[] = []
      gen.onEntry((e) => entries.push(e))
      await gen.ready()
      // Block this thread (no awaits): the generator must stall after 4 untaken batches.
      const spin = (cond: () => boolean, what: string) => {
        const deadline = Date.now() + 30_000
        while (!cond()) if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
      }
      spin(() => gen.stats().stalls >= 1, 'the first stall')
      const hashes = gen.stats().hashes
      spin(() => gen.stats().stalls >= 4, 'more stalls')
      assert.equal(gen.stats().hashes, hashes, 'no hashing while stalled')
      // Released: the entries made before the stall arrive, and the chain goes on.
      await until(() => gen.stats().hashes > hashes && entries.length > 0, 'hashing to resume')
      verifyEntriesSync(START, entries.map((e) => e.entry), NO_LIMIT)
    } finally {
      await gen.close()
    }
  })

  it('close() ends the thread, fails pending records with CLOSED and refuses further use', async () => {
    const gen = new PohGenerator({ startHash: START, ...clock })
    await gen.ready()
    const pending = assert.rejects(gen.record([bytes32(1)]), isPohError('CLOSED'))
    await gen.close()
    await pending
    assert.equal(gen.stats().threadAlive, false)
    assert.equal(gen.stats().running, false)
    await assert.rejects(gen.record([bytes32(1)]), isPohError('CLOSED'))
    assert.throws(() => gen.reset(START, 0), isPohError('CLOSED'))
    await gen.close() // idempotent
  })

  it('refuses bad options and records, and records past maxPendingRecords with BUSY', async () => {
    for (const bad of [
      { hashesPerTick: 1 },
      { ticksPerSlot: 0 },
      { startHash: new Uint8Array(31) },
      { tickHeight: -1 },
      { maxBacklog: 0 },
      { checkEvery: 0 },
    ]) {
      assert.throws(() => new PohGenerator({ startHash: START, ...clock, ...bad }), isPohError('BAD_ARGUMENT'), JSON.stringify(bad))
    }
    const gen = new PohGenerator({ startHash: START, ...clock, maxPendingRecords: 2 })
    try {
      await assert.rejects(gen.record([]), isPohError('BAD_ARGUMENT'))
      await assert.rejects(gen.record([new Uint8Array(31)]), isPohError('BAD_ARGUMENT'))
      const two = [gen.record([bytes32(1)]), gen.record([bytes32(2)])]
      await assert.rejects(gen.record([bytes32(3)]), isPohError('BUSY'))
      await Promise.all(two)
      assert.throws(() => gen.reset(new Uint8Array(1), 0), isPohError('BAD_ARGUMENT'))
      assert.throws(() => gen.reset(START, 1.5), isPohError('BAD_ARGUMENT'))
    } finally {
      await gen.close()
    }
  })
})
