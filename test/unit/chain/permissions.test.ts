/**
 * Permissioned chains at the chain level: the permissions contract deployed at genesis, the
 * account allowlist enforced by the block builder AND by block validation, and the
 * permissions history following on-chain votes (persisted, reloaded, in force one block later).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { BlockError } from '../../../src/chain/errors.ts'
import type { Block } from '../../../src/chain/block.ts'
import { loadChainSpec, parseChainSpec } from '../../../src/chain/spec/index.ts'
import { presetJSON } from '../../../src/chain/spec/presets.ts'
import { PERMISSIONS_ADDRESS, ProposalKind, encodePropose, encodeVote } from '../../../src/contracts/index.ts'
import { MemoryStore } from '../../../src/storage/index.ts'
import { PRODUCER, Signer, addressOf, openTestChain, produceBlock } from '../../helpers/chain.ts'

/** The dev chain (free of BFT seals) with permissions: accounts 0..3 admins, only account 4 allowed besides them. */
function permissionedSpec(accounts: string[] | null = [addressOf(4).toString()]) {
  const json = presetJSON('dev')!
  json.permissions = { admins: [0, 1, 2, 3].map((i) => addressOf(i).toString()), accounts, nodes: ['12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'] }
  return parseChainSpec(json, 'permissioned-dev')
}

describe('permissioned chain', () => {
  test('genesis deploys the permissions contract and records its snapshot', async () => {
    const t = await openTestChain({ spec: permissionedSpec() })
    const code = await t.executor.overlayAt(t.chain.head.header.stateRoot).getCode(createAddressFromString(PERMISSIONS_ADDRESS))
    assert.ok(code.length > 100, 'contract code at the fixed address')
    const p = t.chain.permissions.after(0n)!
    assert.ok(p, 'genesis snapshot recorded')
    assert.deepEqual(p.snapshot.admins.map((a) => bytesToHex(a)), [0, 1, 2, 3].map((i) => addressOf(i).toString()))
    assert.equal(p.snapshot.accountsRestricted, true)
    assert.equal(p.allowsAccount(addressOf(4).bytes), true)
    assert.equal(p.allowsAccount(addressOf(0).bytes), true, 'admins always may send')
    assert.equal(p.allowsAccount(addressOf(5).bytes), false)
    assert.equal(p.allowsNode('12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'), true)
    assert.equal(p.allowsNode('12D3KooWSomebodyElse1111111111111111111111111111111'), false)
    // An open chain has none.
    const open = await openTestChain({ spec: loadChainSpec('dev') })
    assert.equal(open.chain.permissions.after(0n), undefined)
  })

  test('the builder leaves out txs from accounts outside the allowlist; validation rejects a block with one', async () => {
    const t = await openTestChain({ spec: permissionedSpec() })
    const signer = new Signer(t.common)
    const allowed = signer.transfer(4, addressOf(9).bytes, 1n)
    const outsider = signer.transfer(5, addressOf(9).bytes, 1n)
    let i = 0
    const txs = [outsider, allowed]
    const built = await t.importer.build({ timestamp: t.chain.head.header.timestamp + 1n, producer: PRODUCER, source: { next: () => txs[i++], skipSender: () => {} } })
    assert.deepEqual(built.block.txs.map((tx) => bytesToHex(tx.hash())), [bytesToHex(allowed.hash())])
    assert.equal(built.execution.rejected.length, 1)
    assert.match(built.execution.rejected[0]!.reason, /not allowed to send transactions on this permissioned chain/)

    // A proposer that includes it anyway: the block is invalid everywhere else.
    const other = await openTestChain({ spec: permissionedSpec(null) }) // same txs, open chain: builds the block
    const crafted = await produceBlock(other, [signer.transfer(5, addressOf(9).bytes, 1n, { nonce: 0n })])
    const block: Block = crafted.imported.block
    // Re-point the crafted block at our chain's genesis (the open chain's genesis differs).
    const onOurs: Block = { header: { ...block.header, parentHash: t.chain.head.hash }, txs: block.txs }
    await assert.rejects(t.importer.validate(onOurs), (err: unknown) => err instanceof BlockError && err.code === 'BAD_TX' && /not allowed to send/.test(err.message))
    assert.equal(t.chain.head.header.height, 0n, 'nothing imported')
  })

  test('a majority vote changes the permissions from the next block on, persisted across a reopen', async () => {
    const store = new MemoryStore()
    const spec = permissionedSpec()
    const t = await openTestChain({ spec, store })
    const signer = new Signer(t.common)
    const to = hexToBytes(PERMISSIONS_ADDRESS)
    const data = encodePropose({ kind: ProposalKind.AllowAccount, account: addressOf(5).bytes })
    const b1 = await produceBlock(t, [signer.transfer(0, to, 0n, { data, gasLimit: 1_000_000n })])
    assert.equal(b1.imported.receipts[0]!.status, 1)
    const b2 = await produceBlock(t, [signer.transfer(1, to, 0n, { data: encodeVote(1n), gasLimit: 1_000_000n })])
    assert.equal(b2.imported.receipts[0]!.status, 1)
    assert.equal(t.chain.permissions.after(2n)!.allowsAccount(addressOf(5).bytes), false, 'two of four votes: not yet')
    const b3 = await produceBlock(t, [signer.transfer(2, to, 0n, { data: encodeVote(1n), gasLimit: 1_000_000n })])
    assert.equal(b3.imported.receipts[0]!.status, 1)
    assert.equal(t.chain.permissions.after(3n)!.allowsAccount(addressOf(5).bytes), true, 'third vote executes it')
    assert.equal(t.chain.permissions.after(2n)!.allowsAccount(addressOf(5).bytes), false, 'history keeps the old permissions for older heights')
    assert.deepEqual(t.chain.permissions.inForce(4n)!.since, 4n)
    // Account 5 can now send.
    const b4 = await produceBlock(t, [signer.transfer(5, addressOf(9).bytes, 7n)])
    assert.equal(b4.imported.block.txs.length, 1)

    // Reopen from the same store: the history is loaded.
    const again = await openTestChain({ spec, store })
    assert.equal(again.chain.permissions.after(3n)!.allowsAccount(addressOf(5).bytes), true)
    assert.equal(again.chain.permissions.after(2n)!.allowsAccount(addressOf(5).bytes), false)
  })
})
