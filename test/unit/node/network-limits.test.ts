/**
 * Network size limits follow the chain spec (issue 12, defect 10): a bitcoin-cash-like 32 MB
 * block could not pass the fixed 8/16 MiB limits, and request/response frames over 4 MiB
 * failed to send at all (it-length-prefixed's default). Here a 20 MB response crosses two
 * real networks whose limits come from that spec.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadChainSpec, maxBlockBytesEver } from '../../../src/chain/spec/index.ts'
import { resolveLimits } from '../../../src/net/limits.ts'
import { networkLimitsFor } from '../../../src/node/network-limits.ts'
import { startNode } from '../net/helpers.ts'

test('limits cover the largest block of the spec, with room for its proof', () => {
  for (const name of ['dev', 'bitcoin-like', 'bitcoin-cash-like', 'ethereum-like', 'consortium']) {
    const spec = loadChainSpec(name)
    const limits = resolveLimits(networkLimitsFor(spec))
    const largest = maxBlockBytesEver(spec)
    assert.ok(limits.topics.blocks > largest, `${name}: blocks topic`)
    assert.ok(limits.topics.consensus > largest, `${name}: consensus topic (proposals carry blocks)`)
    for (const p of ['blocksByRange', 'blocksByHash', 'proposedBlock'] as const) assert.ok(limits.reqresp[p].maxResponseBytes > largest, `${name}: ${p}`)
  }
})

test('a 20 MB sync response crosses networks sized by the bitcoin-cash-like spec', async (t) => {
  const limits = networkLimitsFor(loadChainSpec('bitcoin-cash-like'))
  const big = new Uint8Array(20_000_000).fill(7)
  const a = await startNode(t, { limits })
  const b = await startNode(t, { limits })
  await b.net.connect(a.net.multiaddrs()[0]!)
  await a.net.handle('blocksByRange', () => big)
  const got = await b.net.request(a.net.peerId, 'blocksByRange', Uint8Array.of(1), { timeoutMs: 60_000 })
  assert.equal(got.length, big.length)
})
