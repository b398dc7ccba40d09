/**
 * False head claims against range sync (engines without headers-first: here a dev chain), the
 * generic rule: a peer claiming height 2^63 that answers an empty range is penalized and
 * passed over until it claims more (and then penalized again); the node syncs from the honest
 * peer meanwhile.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { PENALTY } from '../../../src/net/index.ts'
import { encodeBlockList } from '../../../src/sync/wire.ts'
import { openTestChain, produceBlock } from '../../helpers/chain.ts'
import { nextEvent, waitFor } from '../net/helpers.ts'
import { syncNode } from './harness.ts'

describe('range sync: false head claims', () => {
  test('a peer claiming height 2^63 with empty ranges is penalized and passed over until it claims more; sync goes on from the honest peer', async (t) => {
    const honest = await syncNode(t, await openTestChain())
    for (let i = 0; i < 20; i++) await produceBlock(honest, [])
    const victim = await syncNode(t, await openTestChain())
    assert.equal(victim.importer.headersFirst, false, 'a dev chain syncs by range')
    let claim = 2n ** 63n
    const liar = await syncNode(t, await openTestChain(), { noSync: true, claim: () => ({ height: claim, hash: new Uint8Array(32).fill(0xee) }) })
    let ranges = 0
    await liar.net.handle('blocksByRange', () => {
      ranges++
      return encodeBlockList([])
    })

    await victim.net.connect(liar.net.multiaddrs()[0]!)
    await waitFor(() => victim.net.penaltyOf(liar.net.peerId) >= PENALTY.unfulfilledClaim, 'the liar to be penalized')
    assert.equal(ranges, 1)
    // The same claim again: passed over, no request.
    const refreshed = nextEvent(victim.net, 'peer:status', (p: { peerId: string }) => p.peerId === liar.net.peerId)
    await victim.net.refreshStatus(liar.net.peerId)
    await refreshed
    await waitFor(() => !victim.sync.isSyncing, 'catch-up to end')
    assert.equal(ranges, 1, 'a claim that failed is not asked again')
    // A higher claim is looked at, and fails again.
    claim += 1n
    await victim.net.refreshStatus(liar.net.peerId)
    await waitFor(() => ranges === 2 && victim.net.penaltyOf(liar.net.peerId) >= 2 * PENALTY.unfulfilledClaim, 'the new claim to fail too')

    await victim.net.connect(honest.net.multiaddrs()[0]!)
    await waitFor(() => bytesToHex(victim.chain.head.hash) === bytesToHex(honest.chain.head.hash), 'the victim to sync from the honest peer')
    assert.equal(victim.validated, 20)
    assert.equal(victim.net.penaltyOf(honest.net.peerId), 0)
  })
})
