/**
 * The engine's files in its datadir: the vote WAL, and the certificate of the head block
 * (it is only ever stored in the NEXT block's seal, so a restarted proposer needs it from
 * here or from a peer before it can seal).
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ChainHead } from '../../chain/chain.ts'
import { FileWalStorage, decodeCertificate, encodeCertificate, verifyCertificate, type CommitCertificate, type WalStorage } from '../bft/index.ts'
import type { ValidatorSchedule } from './config.ts'

export const WAL_FILE = 'bft-vote.wal'
export const CERT_FILE = 'bft-latest-cert'

export function openWalStorage(datadir: string): WalStorage {
  mkdirSync(datadir, { recursive: true })
  return new FileWalStorage(join(datadir, WAL_FILE))
}

/** Atomically replaces the saved head certificate (write + rename). */
export function saveCertificate(datadir: string, cert: CommitCertificate): void {
  const path = join(datadir, CERT_FILE)
  writeFileSync(`${path}.tmp`, encodeCertificate(cert))
  renameSync(`${path}.tmp`, path)
}

/** The saved certificate if it certifies `head`; null when missing, stale or damaged (peers resend it). */
export function loadCertificate(datadir: string, head: ChainHead, schedule: ValidatorSchedule, chainId: bigint): CommitCertificate | null {
  const path = join(datadir, CERT_FILE)
  if (head.header.height === 0n || !existsSync(path)) return null
  try {
    const cert = decodeCertificate(new Uint8Array(readFileSync(path)))
    verifyCertificate(cert, head.hash, head.header.height, schedule.at(head.header.height), chainId)
    return cert
  } catch {
    return null
  }
}
