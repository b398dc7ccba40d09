/**
 * Headers-first sync of a chain longer than one header batch (MAX_HEADERS = 1024) from a peer
 * that does not grow: the node must keep fetching until it has the peer's head. (A probe of a
 * peer's headers moves no block by itself; counting it as a step that "moved nothing" passed
 * the peer over, and sync stopped after the first 1024 blocks until the peer mined again.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { MAX_HEADERS } from '../../../src/sync/wire.ts'
import { waitFor } from '../net/helpers.ts'
import { connect, mine, powNode, powSpec } from './harness.ts'

describe('headers-first sync past one header batch', () => {
  test(`a node syncs all ${MAX_HEADERS + 200} blocks of a peer that does not mine`, async (t) => {
    const spec = powSpec({ maxReorgDepth: 5000 })
    const source = await powNode(t, spec)
    await mine(source, MAX_HEADERS + 200, 60n)
    const fresh = await powNode(t, spec)
    await connect(fresh, source)
    await waitFor(() => fresh.chain.head.header.height === source.chain.head.header.height, `the fresh node to reach height ${source.chain.head.header.height}`, 120_000)
    assert.equal(bytesToHex(fresh.chain.head.hash), bytesToHex(source.chain.head.hash))
  })
})
