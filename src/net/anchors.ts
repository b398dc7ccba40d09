/**
 * Anchor peers (Bitcoin Core's anchors.dat): at shutdown the node writes the peers it had
 * dialed and held longest to <datadir>/anchors.json; at the next start it dials them first and
 * deletes the file. An attacker that floods a node's inbound slots and its peer store and then
 * forces a restart (Heilman et al. 2015) still finds the node reconnecting to the peers it
 * chose itself before the restart. The file is read once and never trusted: a bad one is
 * ignored with a warning, and every dial goes through the gater and Noise.
 * @module
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { KnownPeer } from './dialer.ts'
import { parsePeerStore, writeAtomically } from './peer-store.ts'

export const ANCHORS_FILE = 'anchors.json'

/** The anchors among the open connections: outbound, longest held first, `n` at most. */
export function chooseAnchors<C extends { peerId: string; direction: 'inbound' | 'outbound'; openedAt: number }>(conns: readonly C[], n: number): C[] {
  const seen = new Set<string>()
  const out: C[] = []
  for (const c of [...conns].filter((c) => c.direction === 'outbound').sort((a, b) => a.openedAt - b.openedAt)) {
    if (out.length >= n) break
    if (seen.has(c.peerId)) continue
    seen.add(c.peerId)
    out.push(c)
  }
  return out
}

export async function writeAnchors(datadir: string, peers: readonly KnownPeer[]): Promise<void> {
  const path = join(datadir, ANCHORS_FILE)
  if (peers.length === 0) return rm(path, { force: true })
  // The peer store's format, so one parser checks both files.
  const doc = { version: 1, peers: peers.map((p) => ({ peerId: p.peerId, addrs: p.addrs, lastSeen: 0 })) }
  await writeAtomically(path, JSON.stringify(doc, null, 1) + '\n')
}

/** Reads and deletes <datadir>/anchors.json: [] without one, and [] with a warning for a bad one. */
export async function takeAnchors(datadir: string, max: number, log: Logger): Promise<KnownPeer[]> {
  const path = join(datadir, ANCHORS_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ path, reason: (err as Error).message }, `cannot read the anchors ${path}`)
    return []
  }
  await rm(path, { force: true })
  if (text.length > 64 * 1024) {
    log.warn({ path }, `ignoring the anchors ${path}: too large`)
    return []
  }
  try {
    return parsePeerStore(text, max).map((p) => ({ peerId: p.peerId, addrs: p.addrs }))
  } catch (err) {
    log.warn({ path, reason: (err as Error).message }, `ignoring the anchors ${path}: ${(err as Error).message}`)
    return []
  }
}
