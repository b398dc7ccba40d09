/**
 * The write-ahead log that makes signing crash-safe: before this node signs a proposal or a
 * vote, (height, round, step, blockHash, polRound) is appended to a file and fsynced. On
 * restart the log is read back, so the node never signs two different messages for the same
 * (height, round, step): asked again, it gets the recorded one to re-send, or a refusal.
 * (CometBFT gets the same guarantee from its privval last-sign-state plus consensus WAL.)
 *
 * File layout: an 8-byte magic, then records [u32 length][u32 crc32(payload)][payload], payload
 * = RLP([height, round, step, blockHash | empty, polRound + 1]). A record torn by a crash
 * mid-append, or whose checksum fails at the end of the file, is dropped and cut off (so the
 * next append lands on a clean boundary); damage followed by more data is not a torn tail but
 * corruption, and opening refuses (signing on a log we cannot read could double-sign).
 * After a height is committed, `pruneBelow` rewrites the file with only the records still
 * needed (atomically: temp file, fsync, rename, fsync dir), so it stays a few records long.
 *
 * The log also keeps a floor: the highest (height, round, step) ever signed, which survives
 * pruning (the newest record is always kept), as CometBFT's signer state keeps its last
 * signed height/round/step. Nothing at or below the floor is signed unless it is the recorded
 * message itself. So a validator whose last blocks were lost (a power cut before the block
 * batch reached the disk) re-syncs them from peers but never signs anything at those heights
 * again, even after the records of those heights were pruned.
 *
 * Any I/O failure poisons the log: every later call throws, and the node must restart
 * (after a failed fsync the kernel may have dropped the data, so retrying would lie).
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, ftruncateSync } from 'node:fs'
import { dirname } from 'node:path'
import { crc32 } from 'node:zlib'
import { RLP } from '@ethereumjs/rlp'
import { equalBytes, isBytes, readUint, sameHash, uintBytes } from './bytes.ts'
import { WalError } from './errors.ts'
import { HASH_LENGTH, MAX_ROUND, type Hash, type Step } from './types.ts'

export interface WalEntry {
  height: bigint
  round: number
  step: Step
  blockHash: Hash | null
  /** The proposal's polRound; -1 for votes. */
  polRound: number
}

/** The answer to "may I sign this?". */
export type WalDecision =
  /** Recorded and fsynced just now: sign it. */
  | { kind: 'fresh' }
  /** Already recorded, identical: signing again yields the same message; re-send it. */
  | { kind: 'repeat' }
  /** Already recorded with a different block: do NOT sign this; `recorded` is what was signed. */
  | { kind: 'conflict'; recorded: WalEntry }
  /** Not recorded, but at or below the highest (height, round, step) ever signed: do NOT sign it. */
  | { kind: 'below-floor'; floor: WalEntry }

/** The file operations the log needs; tests substitute one that crashes at any write. */
export interface WalStorage {
  /** The whole file, or an empty array if it does not exist. */
  read(): Uint8Array
  append(bytes: Uint8Array): void
  /** fsync: the bytes appended so far survive a crash. */
  sync(): void
  /** Cuts the file to `length` bytes and syncs. */
  truncate(length: number): void
  /** Replaces the whole file atomically and durably. */
  replace(bytes: Uint8Array): void
}

export const WAL_MAGIC = new TextEncoder().encode('CTNAWAL1')
const HEADER = 8
const MAX_PAYLOAD = 256
const STEP_CODE: Record<Step, number> = { propose: 1, prevote: 2, precommit: 3 }
const CODE_STEP: Record<number, Step> = { 1: 'propose', 2: 'prevote', 3: 'precommit' }

/** What opening found. */
export interface WalRecovery {
  records: number
  /** Bytes of a torn or corrupt tail that were dropped. */
  droppedBytes: number
}

export class VoteWal {
  private readonly index = new Map<string, WalEntry>()
  /** The highest (height, round, step) ever recorded. */
  private top?: WalEntry
  private failed?: Error
  private closed = false

  private constructor(
    private readonly storage: WalStorage,
    private size: number,
    readonly recovery: WalRecovery,
  ) {}

  /** Opens (creating if empty) and replays the log. Throws WalError('CORRUPT') on damage that is not a torn tail. */
  static open(storage: WalStorage): VoteWal {
    const data = io(() => storage.read(), 'read')
    if (data.length === 0) {
      io(() => storage.replace(WAL_MAGIC), 'create')
      return new VoteWal(storage, HEADER, { records: 0, droppedBytes: 0 })
    }
    if (data.length < HEADER || !equalBytes(data.subarray(0, HEADER), WAL_MAGIC)) {
      throw new WalError('NOT_A_WAL', 'the file does not start with the vote WAL magic; refusing to overwrite it')
    }
    const entries: WalEntry[] = []
    let offset = HEADER
    while (offset < data.length) {
      const parsed = parseRecord(data, offset)
      if (!parsed) break
      entries.push(parsed.entry)
      offset = parsed.next
    }
    const dropped = data.length - offset
    if (dropped > 0 && !isTornTail(data, offset)) {
      throw new WalError('CORRUPT', `vote WAL is damaged at byte ${offset} with ${dropped} bytes after it; refusing to sign on it (inspect or move the file)`)
    }
    if (dropped > 0) io(() => storage.truncate(offset), 'truncate')
    const wal = new VoteWal(storage, offset, { records: entries.length, droppedBytes: dropped })
    for (const e of entries) {
      if (!wal.index.has(keyOf(e))) wal.index.set(keyOf(e), e)
      wal.raise(e)
    }
    return wal
  }

  /** The records of one height (what this node signed there), for restoring the state machine. */
  entries(height: bigint): WalEntry[] {
    return [...this.index.values()].filter((e) => e.height === height)
  }

  get(height: bigint, round: number, step: Step): WalEntry | undefined {
    return this.index.get(`${height}/${round}/${step}`)
  }

  /** The highest (height, round, step) this validator ever signed, if any. */
  get floor(): WalEntry | undefined {
    return this.top
  }

  /**
   * Records `entry` durably before it is signed, or says why not to sign it. Throws WalError
   * when the record cannot be made durable (the caller must then not sign).
   */
  authorize(entry: WalEntry): WalDecision {
    this.usable()
    checkEntry(entry)
    const recorded = this.index.get(keyOf(entry))
    if (recorded) {
      const same = sameHash(recorded.blockHash, entry.blockHash) && recorded.polRound === entry.polRound
      return same ? { kind: 'repeat' } : { kind: 'conflict', recorded }
    }
    if (this.top && compareSlots(entry, this.top) <= 0) return { kind: 'below-floor', floor: this.top }
    const bytes = encodeRecord(entry)
    this.guarded(() => {
      this.storage.append(bytes)
      this.storage.sync()
    }, 'append')
    this.size += bytes.length
    this.index.set(keyOf(entry), { ...entry })
    this.raise(entry)
    return { kind: 'fresh' }
  }

  /**
   * Drops the records of heights below `height`. Call it only once the block of height - 1 is
   * durably committed: a record must outlive any chance of being asked to sign at its height.
   */
  pruneBelow(height: bigint): void {
    this.usable()
    // The newest record stays whatever its height: it is the floor a restart must not sign below.
    const keep = [...this.index.values()].filter((e) => e.height >= height || e === this.top)
    if (keep.length === this.index.size) return
    const parts = [WAL_MAGIC, ...keep.map(encodeRecord)]
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let at = 0
    for (const p of parts) {
      bytes.set(p, at)
      at += p.length
    }
    this.guarded(() => this.storage.replace(bytes), 'rotate')
    this.size = bytes.length
    for (const [k, e] of this.index) if (e.height < height && e !== this.top) this.index.delete(k)
  }

  /** Bytes in the file. */
  get byteLength(): number {
    return this.size
  }

  close(): void {
    this.closed = true
  }

  private raise(e: WalEntry): void {
    if (!this.top || compareSlots(e, this.top) > 0) this.top = this.index.get(keyOf(e)) ?? e
  }

  private usable(): void {
    if (this.closed) throw new WalError('CLOSED', 'the vote WAL is closed')
    if (this.failed) throw new WalError('IO', `the vote WAL failed earlier (${this.failed.message}); restart the node`)
  }

  private guarded(fn: () => void, what: string): void {
    try {
      fn()
    } catch (err) {
      this.failed = err as Error
      throw new WalError('IO', `vote WAL ${what} failed: ${(err as Error).message}`)
    }
  }
}

function io<T>(fn: () => T, what: string): T {
  try {
    return fn()
  } catch (err) {
    throw new WalError('IO', `vote WAL ${what} failed: ${(err as Error).message}`)
  }
}

/** Order of (height, round, step): what a validator signs only ever moves forward in it. */
export function compareSlots(a: Pick<WalEntry, 'height' | 'round' | 'step'>, b: Pick<WalEntry, 'height' | 'round' | 'step'>): number {
  if (a.height !== b.height) return a.height < b.height ? -1 : 1
  if (a.round !== b.round) return a.round < b.round ? -1 : 1
  return STEP_CODE[a.step] - STEP_CODE[b.step]
}

function keyOf(e: WalEntry): string {
  return `${e.height}/${e.round}/${e.step}`
}


function checkEntry(e: WalEntry): void {
  const ok =
    !!e &&
    typeof e.height === 'bigint' &&
    e.height >= 0n &&
    e.height < 1n << 63n &&
    Number.isInteger(e.round) &&
    e.round >= 0 &&
    e.round <= MAX_ROUND &&
    STEP_CODE[e.step] !== undefined &&
    (e.blockHash === null || isBytes(e.blockHash, HASH_LENGTH)) &&
    Number.isInteger(e.polRound) &&
    (e.step === 'propose'
      ? e.blockHash !== null && e.polRound >= -1 && e.polRound < e.round
      : e.polRound === -1)
  if (!ok) throw new WalError('BAD_ENTRY', 'WAL entry has a field out of range')
}

export function encodeRecord(e: WalEntry): Uint8Array {
  const payload = RLP.encode([
    uintBytes(e.height),
    uintBytes(e.round),
    uintBytes(STEP_CODE[e.step]),
    e.blockHash ?? new Uint8Array(),
    uintBytes(e.polRound + 1),
  ])
  const out = new Uint8Array(HEADER + payload.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, payload.length)
  view.setUint32(4, crc32(payload))
  out.set(payload, HEADER)
  return out
}

/** The record at `offset`, or undefined if it is incomplete, fails its checksum or does not decode. */
function parseRecord(data: Uint8Array, offset: number): { entry: WalEntry; next: number } | undefined {
  if (offset + HEADER > data.length) return undefined
  const view = new DataView(data.buffer, data.byteOffset + offset, HEADER)
  const length = view.getUint32(0)
  const checksum = view.getUint32(4)
  if (length === 0 || length > MAX_PAYLOAD || offset + HEADER + length > data.length) return undefined
  const payload = data.subarray(offset + HEADER, offset + HEADER + length)
  if (crc32(payload) !== checksum) return undefined
  let f: unknown
  try {
    f = RLP.decode(payload)
  } catch {
    return undefined
  }
  if (!Array.isArray(f) || f.length !== 5) return undefined
  const height = readUint(f[0], 8)
  const round = readUint(f[1], 4)
  const step = CODE_STEP[Number(readUint(f[2], 1) ?? 0)]
  const polRound = readUint(f[4], 4)
  if (height === undefined || round === undefined || !step || polRound === undefined || !isBytes(f[3])) return undefined
  const entry: WalEntry = { height, round: Number(round), step, blockHash: f[3].length === 0 ? null : f[3], polRound: Number(polRound) - 1 }
  try {
    checkEntry(entry)
  } catch {
    return undefined
  }
  return { entry, next: offset + HEADER + length }
}

/**
 * A bad record is a torn tail when nothing after it could be a later record: it runs to the
 * end of the file (within one maximal record), or everything after it is zeros (a file
 * extended by the crash but never written).
 */
function isTornTail(data: Uint8Array, offset: number): boolean {
  if (data.length - offset <= HEADER + MAX_PAYLOAD) {
    if (data.length - offset < HEADER) return true
    const length = new DataView(data.buffer, data.byteOffset + offset, HEADER).getUint32(0)
    // A complete-looking record of in-range length followed by more data is damage, not a tear.
    if (length > 0 && length <= MAX_PAYLOAD && offset + HEADER + length < data.length) return false
    return true
  }
  for (let i = offset; i < data.length; i++) if (data[i] !== 0) return false
  return true
}

/** The log on a real file, through synchronous fs calls (the fsync must finish before signing). */
export class FileWalStorage implements WalStorage {
  private fd?: number

  constructor(readonly path: string) {}

  read(): Uint8Array {
    if (!existsSync(this.path)) return new Uint8Array()
    return new Uint8Array(readFileSync(this.path))
  }

  append(bytes: Uint8Array): void {
    const fd = this.open()
    let done = 0
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done)
  }

  sync(): void {
    fsyncSync(this.open())
  }

  truncate(length: number): void {
    const fd = this.open()
    ftruncateSync(fd, length)
    fsyncSync(fd)
  }

  replace(bytes: Uint8Array): void {
    this.closeFd()
    const tmp = `${this.path}.tmp`
    const fd = openSync(tmp, 'w')
    try {
      let done = 0
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.path)
    syncDir(dirname(this.path))
  }

  close(): void {
    this.closeFd()
  }

  private open(): number {
    if (this.fd === undefined) this.fd = openSync(this.path, 'a')
    return this.fd
  }

  private closeFd(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

/** fsync of a directory makes a rename in it durable (no-op where the OS refuses it). */
function syncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** The log in memory: for simulations, where a "crash" keeps what was synced. */
export class MemoryWalStorage implements WalStorage {
  private data = new Uint8Array()

  read(): Uint8Array {
    return this.data.slice()
  }

  append(bytes: Uint8Array): void {
    const next = new Uint8Array(this.data.length + bytes.length)
    next.set(this.data)
    next.set(bytes, this.data.length)
    this.data = next
  }

  sync(): void {}

  truncate(length: number): void {
    this.data = this.data.slice(0, length)
  }

  replace(bytes: Uint8Array): void {
    this.data = bytes.slice()
  }
}
