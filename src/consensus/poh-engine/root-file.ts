/**
 * The fork tree's root (the last finalized block) on disk, so a restarted node rebuilds its
 * tree from there instead of from genesis. Written atomically (temp file, rename); a lost or
 * stale file only makes the rebuild start lower (genesis at worst, bounded by the tree size).
 * @module
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToBytes, bytesToBigInt } from '@ethereumjs/util'
import type { BlockRef } from '../poh/index.ts'

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
