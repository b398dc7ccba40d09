/**
 * The engine's file in its datadir: the vote WAL. (A block's commit certificate is not a
 * file: it is stored with the block, in the block's atomic batch.)
 * @module
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { FileWalStorage, type WalStorage } from '../bft/index.ts'

export const WAL_FILE = 'bft-vote.wal'

export function openWalStorage(datadir: string): WalStorage {
  mkdirSync(datadir, { recursive: true })
  return new FileWalStorage(join(datadir, WAL_FILE))
}
