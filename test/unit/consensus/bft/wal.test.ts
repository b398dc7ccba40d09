/**
 * The vote WAL: nothing is signed unless recorded; a restart never allows a second, different
 * message for a (height, round, step). Torn or corrupt tails are detected by checksum and cut
 * off; damage in the middle refuses to open. Crash safety is tested by crashing at every write
 * point (of the WAL alone, and of a driver signing votes through it) and restarting from what
 * the "disk" kept.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, appendFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BftDriver,
  FileWalStorage,
  MemoryWalStorage,
  VoteWal,
  WAL_MAGIC,
  WalError,
  type ConsensusMessage,
  type WalEntry,
  type WalStorage,
} from '../../../../src/consensus/bft/index.ts'
import { encodeRecord } from '../../../../src/consensus/bft/wal.ts'
import { CHAIN_ID, hash, hex, keys, proposal, throwsCode, validatorSet, vote } from './fixtures.ts'

const X = hash('x')
const Y = hash('y')
const Z = hash('z')
const entry = (height: bigint, round: number, step: WalEntry['step'], blockHash: Uint8Array | null, polRound = -1): WalEntry => ({ height, round, step, blockHash, polRound })

function tmpFile(): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'catena-wal-'))
  return { path: join(dir, 'votes.wal'), done: () => rmSync(dir, { recursive: true, force: true }) }
}

describe('bft WAL: authorize', () => {
  test('fresh, then repeat for the same message, conflict for a different one', () => {
    const wal = VoteWal.open(new MemoryWalStorage())
    assert.deepEqual(wal.authorize(entry(1n, 0, 'prevote', X)), { kind: 'fresh' })
    assert.deepEqual(wal.authorize(entry(1n, 0, 'prevote', X)), { kind: 'repeat' })
    const c = wal.authorize(entry(1n, 0, 'prevote', null))
    assert.ok(c.kind === 'conflict' && c.recorded.blockHash !== null && hex(c.recorded.blockHash) === hex(X))
    assert.deepEqual(wal.authorize(entry(1n, 0, 'precommit', null)), { kind: 'fresh' }, 'another step is another slot')
    assert.deepEqual(wal.authorize(entry(1n, 1, 'prevote', null)), { kind: 'fresh' }, 'another round too')
    assert.deepEqual(wal.authorize(entry(1n, 2, 'propose', X, 1)), { kind: 'fresh' })
    assert.equal(wal.authorize(entry(1n, 2, 'propose', X, -1)).kind, 'conflict', 'a proposal differing only in polRound is another message')
  })

  test('records survive a reopen of the real file', () => {
    const f = tmpFile()
    try {
      const wal = VoteWal.open(new FileWalStorage(f.path))
      wal.authorize(entry(7n, 3, 'prevote', null))
      wal.authorize(entry(7n, 3, 'precommit', Y))
      const again = VoteWal.open(new FileWalStorage(f.path))
      assert.equal(again.recovery.records, 2)
      assert.equal(again.authorize(entry(7n, 3, 'precommit', X)).kind, 'conflict')
      assert.deepEqual(again.entries(7n).map((e) => e.step).sort(), ['precommit', 'prevote'])
      assert.equal(hex(readFileSync(f.path).subarray(0, 8)), hex(WAL_MAGIC))
    } finally {
      f.done()
    }
  })

  test('entries out of range are BAD_ENTRY and record nothing', () => {
    const wal = VoteWal.open(new MemoryWalStorage())
    throwsCode(() => wal.authorize(entry(1n, -1, 'prevote', null)), WalError, 'BAD_ENTRY')
    throwsCode(() => wal.authorize(entry(1n, 0, 'prevote', new Uint8Array(31))), WalError, 'BAD_ENTRY')
    throwsCode(() => wal.authorize(entry(1n, 0, 'propose', null)), WalError, 'BAD_ENTRY')
    throwsCode(() => wal.authorize(entry(1n, 1, 'propose', X, 1)), WalError, 'BAD_ENTRY')
    throwsCode(() => wal.authorize({ ...entry(1n, 0, 'prevote', X), polRound: 0 }), WalError, 'BAD_ENTRY')
    assert.equal(wal.byteLength, WAL_MAGIC.length)
  })

  test('an I/O failure poisons the log: every later call refuses, even if the disk recovers', () => {
    let fail = true
    const mem = new MemoryWalStorage()
    const flaky: WalStorage = {
      read: () => mem.read(),
      append: (b) => mem.append(b),
      sync: () => {
        if (fail) throw new Error('EIO')
      },
      truncate: (n) => mem.truncate(n),
      replace: (b) => mem.replace(b),
    }
    const wal = VoteWal.open(flaky)
    throwsCode(() => wal.authorize(entry(1n, 0, 'prevote', X)), WalError, 'IO')
    fail = false
    throwsCode(() => wal.authorize(entry(1n, 0, 'prevote', Y)), WalError, 'IO')
    throwsCode(() => wal.pruneBelow(5n), WalError, 'IO')
  })
})

describe('bft WAL: torn and corrupt tails', () => {
  test('a tail torn at every byte of the last record is dropped and cut; earlier records stay', () => {
    const f = tmpFile()
    try {
      const wal = VoteWal.open(new FileWalStorage(f.path))
      wal.authorize(entry(3n, 0, 'prevote', X))
      wal.authorize(entry(3n, 0, 'precommit', X))
      const full = readFileSync(f.path)
      const last = encodeRecord(entry(3n, 1, 'prevote', Y))
      for (let cut = 1; cut < last.length; cut++) {
        writeFileSync(f.path, Buffer.concat([full, last.subarray(0, cut)]))
        const reopened = VoteWal.open(new FileWalStorage(f.path))
        assert.deepEqual(reopened.recovery, { records: 2, droppedBytes: cut }, `cut at ${cut}`)
        assert.equal(statSync(f.path).size, full.length, 'the torn bytes are cut off')
        assert.equal(reopened.authorize(entry(3n, 0, 'prevote', Y)).kind, 'conflict')
        // The slot of the torn record is free (it was never signed) and the next append is clean.
        assert.equal(reopened.authorize(entry(3n, 1, 'prevote', Z)).kind, 'fresh')
        assert.equal(VoteWal.open(new FileWalStorage(f.path)).recovery.records, 3)
      }
    } finally {
      f.done()
    }
  })

  test('a last record with a bad checksum is dropped; so is a zero-filled tail', () => {
    const f = tmpFile()
    try {
      VoteWal.open(new FileWalStorage(f.path)).authorize(entry(3n, 0, 'prevote', X))
      const good = readFileSync(f.path)
      const bad = Buffer.from(encodeRecord(entry(3n, 0, 'precommit', X)))
      bad[bad.length - 1] ^= 0x01
      writeFileSync(f.path, Buffer.concat([good, bad]))
      assert.deepEqual(VoteWal.open(new FileWalStorage(f.path)).recovery, { records: 1, droppedBytes: bad.length })
      appendFileSync(f.path, Buffer.alloc(4096))
      assert.deepEqual(VoteWal.open(new FileWalStorage(f.path)).recovery, { records: 1, droppedBytes: 4096 })
    } finally {
      f.done()
    }
  })

  test('damage followed by more records is CORRUPT: refuse rather than forget what was signed', () => {
    const f = tmpFile()
    try {
      const wal = VoteWal.open(new FileWalStorage(f.path))
      wal.authorize(entry(3n, 0, 'prevote', X))
      wal.authorize(entry(3n, 0, 'precommit', X))
      wal.authorize(entry(3n, 1, 'prevote', null))
      const bytes = readFileSync(f.path)
      bytes[WAL_MAGIC.length + 12] ^= 0xff // inside the first record's payload
      writeFileSync(f.path, bytes)
      throwsCode(() => VoteWal.open(new FileWalStorage(f.path)), WalError, 'CORRUPT')
      assert.equal(hex(readFileSync(f.path)), hex(bytes), 'the file is left as it was')
    } finally {
      f.done()
    }
  })

  test('a file that is not a vote WAL is refused and left alone', () => {
    const f = tmpFile()
    try {
      writeFileSync(f.path, 'important notes')
      throwsCode(() => VoteWal.open(new FileWalStorage(f.path)), WalError, 'NOT_A_WAL')
      assert.equal(readFileSync(f.path, 'utf8'), 'important notes')
    } finally {
      f.done()
    }
  })
})

describe('bft WAL: the last-signed floor (defect 4: vote log vs power loss)', () => {
  test('nothing at or below the highest (height, round, step) signed is signed again, except the recorded message', () => {
    const wal = VoteWal.open(new MemoryWalStorage())
    assert.equal(wal.authorize(entry(5n, 2, 'prevote', X)).kind, 'fresh')
    assert.equal(wal.authorize(entry(5n, 2, 'prevote', X)).kind, 'repeat', 'the recorded vote may be re-sent')
    assert.equal(wal.authorize(entry(5n, 1, 'precommit', Y)).kind, 'below-floor', 'an earlier round')
    assert.equal(wal.authorize(entry(5n, 2, 'propose', Y)).kind, 'below-floor', 'an earlier step')
    assert.equal(wal.authorize(entry(4n, 9, 'precommit', Y)).kind, 'below-floor', 'an earlier height')
    assert.equal(wal.authorize(entry(5n, 2, 'precommit', X)).kind, 'fresh', 'later steps go on')
  })

  test('the floor survives pruning and a reopen: a validator whose last blocks were lost never signs at those heights again', () => {
    const f = tmpFile()
    try {
      const wal = VoteWal.open(new FileWalStorage(f.path))
      for (let h = 1n; h <= 9n; h++) {
        wal.pruneBelow(h) // height h starts: h - 1 was committed (but, with a power cut, maybe not durably)
        wal.authorize(entry(h, 0, 'prevote', X))
        wal.authorize(entry(h, 0, 'precommit', X))
      }
      wal.pruneBelow(10n) // block 9 "committed"; then the power goes out and blocks 8 and 9 are lost
      const reopened = VoteWal.open(new FileWalStorage(f.path))
      assert.deepEqual(reopened.floor && [reopened.floor.height, reopened.floor.round, reopened.floor.step], [9n, 0, 'precommit'])
      // The restarted validator is back at height 8 and 9: it signs nothing new there.
      reopened.pruneBelow(8n)
      assert.equal(reopened.authorize(entry(8n, 0, 'prevote', Y)).kind, 'below-floor')
      assert.equal(reopened.authorize(entry(9n, 0, 'prevote', Y)).kind, 'below-floor')
      assert.equal(reopened.authorize(entry(9n, 0, 'precommit', X)).kind, 'repeat', 'the newest record itself is kept')
      assert.equal(reopened.authorize(entry(10n, 0, 'prevote', Y)).kind, 'fresh', 'once synced past it, it votes again')
    } finally {
      f.done()
    }
  })
})

describe('bft WAL: rotation', () => {
  test('pruneBelow keeps only the heights still needed, atomically, and the file stays small', () => {
    const f = tmpFile()
    try {
      const wal = VoteWal.open(new FileWalStorage(f.path))
      for (let h = 1n; h <= 50n; h++) {
        wal.authorize(entry(h, 0, 'prevote', X))
        wal.authorize(entry(h, 0, 'precommit', X))
        wal.pruneBelow(h) // what the driver does when height h starts: older heights are committed
      }
      const size = statSync(f.path).size
      assert.ok(size < 200, `file is ${size} bytes after 50 heights`)
      const reopened = VoteWal.open(new FileWalStorage(f.path))
      assert.equal(reopened.recovery.records, 2)
      assert.equal(reopened.entries(50n).length, 2)
      assert.equal(reopened.entries(49n).length, 0)
      assert.equal(reopened.authorize(entry(50n, 0, 'prevote', Y)).kind, 'conflict', 'the current height is kept')
    } finally {
      f.done()
    }
  })
})

/**
 * A disk for crash tests. `file` is what the process sees; `durable` what survives a crash
 * for sure. Appends since the last sync are at risk: after a crash some prefix of them (none,
 * half, all) is found on disk. Every operation is a write point where the crash can hit.
 */
class CrashDisk {
  durable: Uint8Array = new Uint8Array()
  file: Uint8Array = new Uint8Array()
  ops = 0
  constructor(
    private readonly crashAt = Infinity,
    private readonly tearFraction = 0.5,
  ) {}

  private point(): boolean {
    return this.ops++ === this.crashAt
  }

  storage(): WalStorage {
    return {
      read: () => this.file.slice(),
      append: (bytes) => {
        const crash = this.point()
        const landed = crash ? bytes.subarray(0, Math.floor(bytes.length * this.tearFraction)) : bytes
        this.file = concat(this.file, landed)
        if (crash) throw new Crash()
      },
      sync: () => {
        if (this.point()) throw new Crash()
        this.durable = this.file.slice()
      },
      truncate: (n) => {
        if (this.point()) throw new Crash()
        this.file = this.file.slice(0, n)
        this.durable = this.file.slice()
      },
      replace: (bytes) => {
        if (this.point()) throw new Crash() // rename is atomic: the old file stays
        this.file = bytes.slice()
        this.durable = bytes.slice()
      },
    }
  }

  /** The disk after the crash: durable bytes plus `keep` of the unsynced appends. */
  reboot(keep: 'none' | 'half' | 'all'): CrashDisk {
    const pending = this.file.subarray(this.durable.length)
    const kept = keep === 'none' ? 0 : keep === 'all' ? pending.length : Math.floor(pending.length / 2)
    const next = new CrashDisk()
    next.file = concat(this.durable, pending.subarray(0, kept))
    next.durable = next.file.slice()
    return next
  }
}

class Crash extends Error {
  constructor() {
    super('simulated crash')
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

const isCrash = (err: unknown) => err instanceof Crash || (err instanceof WalError && err.message.includes('simulated crash'))

describe('bft WAL: a crash at every write point', () => {
  // Two heights of signing with a rotation between them, as a validator does.
  const script: Array<{ sign: WalEntry } | { prune: bigint }> = [
    { sign: entry(1n, 0, 'propose', X) },
    { sign: entry(1n, 0, 'prevote', X) },
    { sign: entry(1n, 0, 'precommit', X) },
    { prune: 2n },
    { sign: entry(2n, 0, 'prevote', null) },
    { sign: entry(2n, 0, 'precommit', null) },
    { sign: entry(2n, 1, 'prevote', Y) },
    { sign: entry(2n, 1, 'precommit', Y) },
    { prune: 3n },
    { sign: entry(3n, 0, 'prevote', Z) },
  ]

  test('whatever was authorized before the crash is still there; its slot never accepts another message', () => {
    const clean = new CrashDisk()
    const cleanWal = VoteWal.open(clean.storage())
    for (const step of script) runStep(cleanWal, step)
    const points = clean.ops
    assert.equal(points, 1 + 8 * 2 + 2, 'create, append + fsync per signature, one replace per rotation')
    let checked = 0
    for (let crashAt = 0; crashAt < points; crashAt++) {
      for (const keep of ['none', 'half', 'all'] as const) {
        const disk = new CrashDisk(crashAt)
        const signed: WalEntry[] = []
        let prunedBelow = 0n
        try {
          const wal = VoteWal.open(disk.storage())
          for (const step of script) {
            runStep(wal, step)
            if ('sign' in step) signed.push(step.sign)
            else prunedBelow = step.prune
          }
        } catch (err) {
          if (!isCrash(err)) throw err
        }
        const after = disk.reboot(keep)
        const wal = VoteWal.open(after.storage()) // never CORRUPT: a crash only tears the tail
        for (const e of signed.filter((s) => s.height >= prunedBelow)) {
          const other = { ...e, blockHash: e.blockHash === null ? Z : null, polRound: -1 }
          if (e.step === 'propose') other.blockHash = Z
          const d = wal.authorize(other)
          assert.equal(d.kind, 'conflict', `crash at ${crashAt} (${keep}): ${e.height}/${e.round}/${e.step} was signed, then forgotten`)
        }
        // The log keeps working after the restart.
        assert.equal(wal.authorize(entry(9n, 0, 'prevote', X)).kind, 'fresh')
        assert.equal(VoteWal.open(after.storage()).get(9n, 0, 'prevote')?.height, 9n)
        checked++
      }
    }
    assert.equal(checked, points * 3)
  })

  function runStep(wal: VoteWal, step: { sign: WalEntry } | { prune: bigint }): void {
    if ('sign' in step) assert.notEqual(wal.authorize(step.sign).kind, 'conflict')
    else wal.pruneBelow(step.prune)
  }

  test('a driver crashed at every write point never signs two different votes after restarting', () => {
    const ks = keys(4, 'wal driver')
    const set = validatorSet(ks)
    const proposerIndex = ks.findIndex((k) => hex(set.proposer(0).address) === hex(vote(k, 'prevote', 1n, 0, null).validator))
    const self = [0, 1, 2, 3].find((i) => i !== proposerIndex && hex(set.proposer(1).address) !== hex(vote(ks[i], 'prevote', 1n, 0, null).validator))!
    const others = [0, 1, 2, 3].filter((i) => i !== self)
    const V = hash('driver block')

    /** Runs one incarnation; returns what it broadcast. Stops at the first crash. */
    function incarnation(storage: WalStorage, events: (d: BftDriver) => void): ConsensusMessage[] {
      const sent: ConsensusMessage[] = []
      let crashed = false
      let wal: VoteWal
      try {
        wal = VoteWal.open(storage)
      } catch (err) {
        if (!isCrash(err)) throw err
        return sent
      }
      const driver = new BftDriver({
        chainId: CHAIN_ID,
        privateKey: ks[self],
        wal,
        getValue: () => V,
        validate: () => true,
        broadcast: (m) => sent.push(m),
        scheduleTimeout: () => {},
        onDecide: () => {},
        onError: (err) => {
          if (!isCrash(err)) throw err
          crashed = true
          driver.halt() // the process is gone
        },
      })
      if (!crashed) driver.startHeight(1n, set)
      if (!crashed) events(driver)
      return sent
    }

    // First life: the proposal arrives, then 2f+1 prevotes: the node prevotes and precommits V.
    const firstLife = (d: BftDriver) => {
      d.receive({ kind: 'proposal', proposal: proposal(ks[proposerIndex], 1n, 0, V) })
      for (const i of others.slice(0, 2)) d.receive({ kind: 'vote', vote: vote(ks[i], 'prevote', 1n, 0, V) })
    }
    // Second life: the proposal never comes back; timeouts and nil votes push a fresh node to nil.
    const secondLife = (d: BftDriver) => {
      d.fireTimeout({ step: 'propose', height: 1n, round: 0 })
      for (const i of others) d.receive({ kind: 'vote', vote: vote(ks[i], 'prevote', 1n, 0, null) })
      d.fireTimeout({ step: 'prevote', height: 1n, round: 0 })
    }

    const clean = new CrashDisk()
    incarnation(clean.storage(), firstLife)
    const points = clean.ops
    assert.ok(points >= 5, `${points} write points`)
    for (let crashAt = 0; crashAt <= points; crashAt++) {
      for (const keep of ['none', 'half', 'all'] as const) {
        const disk = new CrashDisk(crashAt)
        const before = incarnation(disk.storage(), firstLife)
        const after = incarnation(disk.reboot(keep).storage(), secondLife)
        const bySlot = new Map<string, string>()
        for (const m of [...before, ...after]) {
          if (m.kind !== 'vote') continue
          const slot = `${m.vote.height}/${m.vote.round}/${m.vote.type}`
          const value = m.vote.blockHash ? hex(m.vote.blockHash) : 'nil'
          assert.equal(bySlot.get(slot) ?? value, value, `crash at ${crashAt} (${keep}): two different ${slot} votes signed`)
          bySlot.set(slot, value)
        }
        // Whatever the first life sent, the second life re-sends the same (it cannot forget a lock).
        const firstPrevote = before.find((m) => m.kind === 'vote' && m.vote.type === 'prevote')
        if (firstPrevote && firstPrevote.kind === 'vote') {
          const again = after.find((m) => m.kind === 'vote' && m.vote.type === 'prevote' && m.vote.round === 0)
          assert.ok(again && again.kind === 'vote' && again.vote.blockHash !== null && hex(again.vote.blockHash) === hex(V))
        }
      }
    }
  })
})

describe('bft WAL: file I/O', () => {
  test('truncating the real file mid-record and reopening works end to end', () => {
    const f = tmpFile()
    try {
      const wal = VoteWal.open(new FileWalStorage(f.path))
      wal.authorize(entry(1n, 0, 'prevote', X))
      wal.authorize(entry(1n, 0, 'precommit', X))
      truncateSync(f.path, statSync(f.path).size - 3)
      const again = VoteWal.open(new FileWalStorage(f.path))
      assert.equal(again.recovery.records, 1)
      assert.equal(again.authorize(entry(1n, 0, 'precommit', Y)).kind, 'fresh', 'the torn precommit was never signed')
    } finally {
      f.done()
    }
  })
})
