/**
 * Outbound-only slots on real hosts over 127.0.0.1: a victim whose inbound side is flooded by
 * many attacker peer ids (each its own host, each dialing in) holds at most
 * maxPeers - outboundPeers inbound connections, and its dialer still connects to the honest
 * peers it remembers although it has more peers than targetPeers (before, inbound peers counted
 * toward the target and stopped every dial).
 */
import '../../../src/net/polyfill.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PEER_STORE_FILE } from '../../../src/net/peer-store.ts'
import { isPeer, startNode, waitFor } from './helpers.ts'

const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
function datadir(): string {
  const d = mkdtempSync(join(tmpdir(), 'catena-slots-'))
  dirs.push(d)
  return d
}
const listenOf = (addrs: string[]) => addrs.map((a) => a.replace(/\/p2p\/.*$/, ''))

describe('outbound-only slots', () => {
  test('an inbound flood of attacker identities leaves the outbound slots to the honest peers the victim dials', async (t) => {
    // Two honest nodes the victim remembers; they are down when it starts.
    const honestDirs = [datadir(), datadir()]
    const honest0 = await Promise.all(honestDirs.map((d) => startNode(t, { datadir: d })))
    const ids = honest0.map((h) => h.net.peerId)
    const addrs = honest0.map((h) => listenOf(h.net.multiaddrs()))
    for (const h of honest0) await h.net.stop()
    const vdir = datadir()
    const peers = ids.map((peerId, i) => ({ peerId, addrs: addrs[i], lastSeen: i + 1, dialed: true }))
    await writeFile(join(vdir, PEER_STORE_FILE), JSON.stringify({ version: 1, peers }))
    const limits = { maxPeers: 6, outboundPeers: 2, targetPeers: 3, maxConnectionsPerIp: 64, anchorPeers: 0 }
    const victim = await startNode(t, { datadir: vdir, limits })
    const inbound = () => victim.net.libp2p.getConnections().filter((c) => c.direction === 'inbound').length
    const vAddr = victim.net.multiaddrs()[0]!

    // Eight attacker identities dial in: at most 4 inbound connections at any time.
    const attackers = await Promise.all(Array.from({ length: 8 }, () => startNode(t, { limits: { targetPeers: 0 } })))
    let maxInbound = 0
    const watch = setInterval(() => (maxInbound = Math.max(maxInbound, inbound())), 5)
    t.after(() => clearInterval(watch))
    // One after another (libp2p takes 5 new connections a second from one IP; all share 127.0.0.1).
    for (const a of attackers) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const ok = await a.net.connect(vAddr).then(() => true, () => false)
        if (ok) break
        await new Promise((r) => setTimeout(r, 250))
      }
    }
    await waitFor(() => inbound() === 4, `the inbound slots to fill (${inbound()} inbound)`)
    assert.ok(victim.net.peers().length > limits.targetPeers, 'more peers than the target: the old rule would dial nobody')

    // The honest nodes come back on their old addresses: the victim's dialer reaches both.
    const honest = await Promise.all(honestDirs.map((d, i) => startNode(t, { datadir: d, listen: addrs[i] })))
    await waitFor(() => honest.every((h) => isPeer(victim.net, h.net)), 'the victim to dial its remembered honest peers', 20_000)
    const out = victim.net.peers().filter((p) => p.direction === 'outbound').map((p) => p.peerId)
    assert.deepEqual(new Set(out), new Set(ids))
    assert.ok(maxInbound <= 4, `inbound connections never exceeded maxPeers - outboundPeers (saw ${maxInbound})`)
  })
})
