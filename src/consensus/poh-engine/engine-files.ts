/**
 * The PoH engine's small files in the datadir:
 * - poh-root: the fork tree's root (the last finalized block), so a restarted node rebuilds its
 *   tree from there instead of from genesis. Written atomically (temp file, rename); a lost or
 *   stale file only makes the rebuild start lower (genesis at worst, bounded by the tree size).
 * - poh-last-signed: the last slot this validator signed a block for, written durably (temp
 *   file, fsync, rename, fsync of the directory) before the signature exists, so not even a
 *   crash makes it sign a slot twice.
 * (The tower, poh-tower, is written the same durable way by the engine.)
 * @module
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToBytes, bytesToBigInt } from '@ethereumjs/util'
import type { BlockRef } from '../poh/index.ts'
import { FileWalStorage } from '../bft/wal.ts'

export function readRootFile(path: string): BlockRef | undefined {
  if (!existsSync(path)) return undefined
  try {
    const d = RLP.decode(new Uint8Array(readFileSync(path))) as unknown
    if (!Array.isArray(d) || d.length !== 2 || !(d[0] instanceof Uint8Array) || !(d[1] instanceof Uint8Array) || d[1].length !== 32 || d[0].length > 8) return undefined
    return { slot: bytesToBigInt(d[0]), hash: d[1] }
  } catch {
    return undefined
  }
}

export function writeRootFile(path: string, root: BlockRef): void {
  const tmp = `${path}.tmp`
  writeFileSync(tmp, RLP.encode([root.slot === 0n ? new Uint8Array(0) : bigIntToBytes(root.slot), root.hash]))
  renameSync(tmp, path)
}

/** The last signed slot file: read once, written durably on each new slot. */
export function lastSignedSlotFile(path: string): { read(): bigint | undefined; write(slot: bigint): void } {
  const file = new FileWalStorage(path)
  const bytes = file.read()
  let last: bigint | undefined = bytes.length === 8 ? new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0) : undefined
  return {
    read: () => last,
    write: (slot) => {
      const out = new Uint8Array(8)
      new DataView(out.buffer).setBigUint64(0, slot)
      file.replace(out)
      last = slot
    },
  }
}
