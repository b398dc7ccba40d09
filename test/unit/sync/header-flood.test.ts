/**
 * A header flood against headers-first sync: a peer claims enormous work and serves an endless
 * branch of valid headers (real proof of work at the easiest target, right bits, right times)
 * forking from genesis, lighter than our chain however far it goes. The node verifies at most
 * MAX_BRANCH_HEADERS of them (memory stays bounded), asks for no body, and penalizes the claim.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { blockHash, encodeHeader, type BlockHeader } from '../../../src/chain/block.ts'
import { nextBaseFee } from '../../../src/chain/basefee.ts'
import { PowRules } from '../../../src/consensus/pow/rules.ts'
import { PENALTY } from '../../../src/net/index.ts'
import { MAX_BRANCH_HEADERS } from '../../../src/sync/header-sync.ts'
import { MAX_HEADERS, decodeHeaderRequest, encodeBlockList, encodeHeaderList } from '../../../src/sync/wire.ts'
import { waitFor } from '../net/helpers.ts'
import { mine, powNode, powSpec, solve, workOf } from './harness.ts'

describe('PoW sync: header flood', () => {
  test('an endless valid but lighter branch is verified up to the bound, no body is fetched, and the claim is penalized', async (t) => {
    // Bitcoin's retarget every 10 blocks: the victim's blocks, 1 s apart, get 4x harder each period.
    const spec = powSpec({ maxReorgDepth: 100, retarget: { kind: 'bitcoin', interval: 10 } })
    const victim = await powNode(t, spec)
    await mine(victim, 60)

    // The attacker's branch: headers only, 10 minutes apart, at the easiest target.
    const count = MAX_BRANCH_HEADERS + 2 * MAX_HEADERS
    const genesis = victim.chain.getBlockAt(0n)!.header
    const headers: BlockHeader[] = []
    const byHash = new Map<string, BlockHeader>([[bytesToHex(victim.chain.genesisHash), genesis]])
    const hashes: Uint8Array[] = [victim.chain.genesisHash]
    const view = { getHeader: (h: Uint8Array) => byHash.get(bytesToHex(h)), getHashAt: (n: bigint) => hashes[Number(n)] }
    const rules = new PowRules(spec.engine as never, spec.blockTimeMs, view)
    let parent = genesis
    for (let i = 1; i <= count; i++) {
      const unsealed: BlockHeader = { ...genesis, parentHash: hashes[i - 1]!, height: BigInt(i), timestamp: genesis.timestamp + 600n * BigInt(i), baseFee: nextBaseFee(parent, spec.feeMarket) }
      const header = solve(rules, unsealed, parent)
      const hash = blockHash(header)
      headers.push(header)
      hashes.push(hash)
      byHash.set(bytesToHex(hash), header)
      parent = header
    }
    const branchWork = headers.reduce((w, h) => w + victim.importer.workOf(h), 0n)
    assert.ok(branchWork < workOf(victim), `the whole branch is lighter (${branchWork} < ${workOf(victim)})`)

    const liar = await powNode(t, spec, { noSync: true, claim: () => ({ height: BigInt(count), hash: hashes[count]!, work: 2n ** 200n }) })
    const served = { headers: 0, bodies: 0 }
    await liar.net.handle('headersByLocator', (req) => {
      served.headers++
      const { locator, max } = decodeHeaderRequest(req)
      const at = hashes.findIndex((h) => locator.some((l) => bytesToHex(l) === bytesToHex(h)))
      return encodeHeaderList(headers.slice(at < 0 ? 0 : at, at + max).map(encodeHeader))
    })
    await liar.net.handle('blocksByHash', () => {
      served.bodies++
      return encodeBlockList([])
    })

    await victim.net.connect(liar.net.multiaddrs()[0]!)
    await waitFor(() => victim.net.penaltyOf(liar.net.peerId) >= PENALTY.unfulfilledClaim, 'the claim to be penalized', 60_000)
    assert.equal(served.headers, MAX_BRANCH_HEADERS / MAX_HEADERS, 'headers asked for up to the bound, no further')
    assert.equal(served.bodies, 0)
    assert.equal(victim.validated, 0)
    assert.equal(victim.chain.head.header.height, 60n)
  })
})
